//! What the streamed chunks and the folded `chat.completion` share: the id, `finish_reason`
//! and `usage`, so the two cannot drift apart.

use bytes::BytesMut;
use serde_json::{Value, json};

use super::write;
use crate::canonical::{StopReason, Usage};

/// `chatcmpl-<id>`: the start id with OpenAI's prefix, or a fresh one if the id is empty.
pub(super) fn completion_id(id: &str) -> String {
    if id.starts_with("chatcmpl-") {
        id.to_owned()
    } else if id.is_empty() {
        format!("chatcmpl-{}", uuid::Uuid::new_v4().simple())
    } else {
        format!("chatcmpl-{id}")
    }
}

/// The model name shown to the client: what the encoder was built with, else the start's.
pub(super) fn shown_model(configured: &str, from_start: &str) -> String {
    if configured.is_empty() {
        from_start.to_owned()
    } else {
        configured.to_owned()
    }
}

/// OpenAI's `finish_reason`. A turn that called tools reports `tool_calls` even if the upstream
/// said it simply ended, as OpenAI does; some agents only run tools on that value.
pub(super) fn finish_reason(reason: &StopReason, called_tools: bool) -> &'static str {
    match reason {
        StopReason::ToolUse => "tool_calls",
        StopReason::EndTurn if called_tools => "tool_calls",
        StopReason::EndTurn | StopReason::StopSequence(_) => "stop",
        StopReason::MaxTokens | StopReason::ContextWindowExceeded => "length",
    }
}

/// The usage to report: the upstream's if any arrived, else the start's input estimate with no
/// output count (better than zeros for clients that track their budget).
pub(super) fn final_usage(reported: Option<Usage>, estimated_input: u64) -> Usage {
    reported.unwrap_or(Usage {
        input_tokens: estimated_input,
        ..Usage::default()
    })
}

/// OpenAI `usage`: `prompt_tokens` counts every input token, cached or not.
pub(super) fn usage_json(usage: &Usage) -> Value {
    let prompt = usage.total_input();
    json!({
        "prompt_tokens": prompt,
        "completion_tokens": usage.output_tokens,
        "total_tokens": prompt + usage.output_tokens,
        "prompt_tokens_details": {"cached_tokens": usage.cache_read_input_tokens},
        "completion_tokens_details": {"reasoning_tokens": usage.reasoning_tokens.unwrap_or(0)},
    })
}

/// The same object as [`usage_json`], written in place.
pub(super) fn write_usage(out: &mut BytesMut, usage: &Usage) {
    let prompt = usage.total_input();
    out.extend_from_slice(b"{\"prompt_tokens\":");
    write::uint(out, prompt);
    out.extend_from_slice(b",\"completion_tokens\":");
    write::uint(out, usage.output_tokens);
    out.extend_from_slice(b",\"total_tokens\":");
    write::uint(out, prompt + usage.output_tokens);
    out.extend_from_slice(b",\"prompt_tokens_details\":{\"cached_tokens\":");
    write::uint(out, usage.cache_read_input_tokens);
    out.extend_from_slice(b"},\"completion_tokens_details\":{\"reasoning_tokens\":");
    write::uint(out, usage.reasoning_tokens.unwrap_or(0));
    out.extend_from_slice(b"}}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_usage_equals_the_value() {
        let usage = Usage {
            input_tokens: 10,
            output_tokens: 5,
            cache_read_input_tokens: 100,
            cache_creation_input_tokens: 7,
            reasoning_tokens: Some(3),
        };
        let mut out = BytesMut::new();
        write_usage(&mut out, &usage);
        let written: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(written, usage_json(&usage));
        assert_eq!(written["prompt_tokens"], 117);
        assert_eq!(written["total_tokens"], 122);
    }

    #[test]
    fn ids_get_the_prefix_once() {
        assert_eq!(completion_id("abc"), "chatcmpl-abc");
        assert_eq!(completion_id("chatcmpl-abc"), "chatcmpl-abc");
        assert!(completion_id("").starts_with("chatcmpl-"));
    }
}
