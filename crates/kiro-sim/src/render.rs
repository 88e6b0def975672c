//! Turns a [`Script`] (or the default answer) into a response plan: status, headers, and the
//! body as pre-encoded [`Step`]s.

use std::borrow::Cow;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use kiro_wire::Event;
use kiro_wire::HeaderValue;
use kiro_wire::event::{
    ContextUsageEvent, ErrorFrame, ExceptionFrame, InvalidStateEvent, MessageMetadataEvent,
    MetadataEvent, MeteringEvent, TokenUsage,
};

use crate::answer;
use crate::body::Step;
use crate::faults;
use crate::script::{Part, Script, ScriptBody, StallEnd, Tail};
use crate::settings::Pace;
use crate::tool_stream::{next_tool_id, render_interleaved, render_tool};
use crate::writer::StreamWriter;

/// The EventStream content type.
pub const EVENTSTREAM: &str = "application/vnd.amazon.eventstream";

/// What the request contributes to the answer.
#[derive(Debug, Clone)]
pub struct RenderCtx<'a> {
    pub model_id: &'a str,
    pub context_window: u64,
    pub input_tokens: u64,
    /// Credits charged for this answer (reported in `meteringEvent`).
    pub credits: f64,
    pub conversation_id: &'a str,
    pub user_text: &'a str,
    pub tool_results: usize,
    /// The request asked for thinking.
    pub thinking: bool,
    pub pace: Pace,
    pub chunk_chars: usize,
    pub seed: u64,
}

/// A response ready to send.
#[derive(Debug)]
pub struct Plan {
    pub status: u16,
    pub content_type: String,
    pub headers: Vec<(String, String)>,
    pub headers_delay_ms: u64,
    pub steps: Vec<Step>,
    pub output_tokens: u64,
}

/// Why a script could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("replay file {path}: {source}")]
    ReplayFile {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("replay base64 is invalid: {0}")]
    ReplayBase64(#[from] base64::DecodeError),
    #[error("a replay part needs `path` or `base64`")]
    ReplayEmpty,
}

/// Events mixed in by `noise`: legacy Amazon Q events and one no client knows.
const NOISE: &[(&str, &str)] = &[
    (
        "followupPromptEvent",
        r#"{"followupPrompt":{"content":"Would you like more detail?","userIntent":"EXPLAIN_CODE_SELECTION"}}"#,
    ),
    (
        "simFutureEvent",
        r#"{"note":"an event type no client knows"}"#,
    ),
    (
        "supplementaryWebLinksEvent",
        r#"{"supplementaryWebLinks":[{"url":"https://example.com/kiro-sim","title":"kiro-sim","snippet":"legacy event"}]}"#,
    ),
    ("codeReferenceEvent", r#"{"references":[]}"#),
    ("intentsEvent", r#"{"intents":{}}"#),
];

/// Text of the grapheme-split part: a CJK character, a skin-tone emoji, a combining accent and
/// a ZWJ family, each multi-scalar grapheme split one scalar per frame.
pub const GRAPHEME_SPLIT_TEXT: &str = "A我👍🏽e\u{301}👨\u{200d}👩\u{200d}👧Z";

fn default_parts(ctx: &RenderCtx<'_>) -> Vec<Part> {
    let mut parts = Vec::with_capacity(2);
    if ctx.thinking {
        parts.push(Part::Thinking {
            text: None,
            chunk_chars: None,
            signature: true,
            signature_value: None,
        });
    }
    parts.push(Part::Text {
        text: None,
        chunk_chars: None,
        repeat_chunks: Vec::new(),
    });
    parts
}

/// Renders `script` for the request described by `ctx`.
pub fn render(script: &Script, ctx: &RenderCtx<'_>) -> Result<Plan, RenderError> {
    let pace = script.pace.apply(ctx.pace);
    let headers: Vec<(String, String)> = script
        .headers
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let status = script.status.unwrap_or(200);

    if let Some(body) = &script.body {
        let text = match body {
            ScriptBody::Json(v) => v.to_string(),
            ScriptBody::Text(t) => t.clone(),
            ScriptBody::Error(kind) => kind.body(),
        };
        return Ok(Plan {
            status,
            content_type: script
                .content_type
                .clone()
                .unwrap_or_else(|| "application/json".to_owned()),
            headers,
            headers_delay_ms: pace.headers_ms,
            steps: vec![Step::Data(text.into())],
            output_tokens: 0,
        });
    }

    let parts: Cow<'_, [Part]> = if script.parts.is_empty() {
        Cow::Owned(default_parts(ctx))
    } else {
        Cow::Borrowed(&script.parts)
    };
    let mut w = StreamWriter::new(pace);
    let mut tools = 0usize;
    if script.noise {
        w.event_text(
            HeaderValue::from("initial-response"),
            r#"{"conversationId":""}"#,
        );
    }
    for (i, part) in parts.iter().enumerate() {
        if w.ended() {
            break;
        }
        if script.noise && i > 0 {
            let (name, payload) = NOISE[(i - 1) % NOISE.len()];
            w.event_text(HeaderValue::from(name), payload);
        }
        render_part(&mut w, part, ctx, &mut tools)?;
    }
    let out_tokens = output_tokens(w.output_bytes);
    if !w.ended() {
        if script.noise {
            let (name, payload) = NOISE[parts.len() % NOISE.len()];
            w.event_text(HeaderValue::from(name), payload);
        }
        let tail = script.tail.unwrap_or_else(|| auto_tail(&parts));
        write_tail(&mut w, &tail, ctx, out_tokens);
    }
    Ok(Plan {
        status,
        content_type: script
            .content_type
            .clone()
            .unwrap_or_else(|| EVENTSTREAM.to_owned()),
        headers,
        headers_delay_ms: pace.headers_ms,
        steps: w.finish(script.http_chunk_bytes),
        output_tokens: out_tokens,
    })
}

/// Output tokens of `bytes` of generated text: the validator's estimate without the hidden
/// prompt it adds to inputs.
pub fn output_tokens(bytes: usize) -> u64 {
    crate::validate::estimate_tokens(bytes).saturating_sub(crate::validate::HIDDEN_PROMPT_TOKENS)
}

fn auto_tail(parts: &[Part]) -> Tail {
    if parts.iter().any(|p| matches!(p, Part::Replay { .. })) {
        Tail::none()
    } else if parts
        .iter()
        .any(|p| matches!(p, Part::TruncatedTool { .. }))
    {
        Tail {
            context_usage: false,
            ..Tail::default()
        }
    } else {
        Tail::default()
    }
}

fn token_usage(ctx: &RenderCtx<'_>, output_tokens: u64) -> TokenUsage {
    TokenUsage {
        uncached_input_tokens: Some(ctx.input_tokens),
        cache_read_input_tokens: Some(0),
        cache_write_input_tokens: Some(0),
        output_tokens: Some(output_tokens),
        total_tokens: Some(ctx.input_tokens + output_tokens),
        input_tokens: None,
        reasoning_tokens: None,
    }
}

fn context_percentage(ctx: &RenderCtx<'_>) -> f64 {
    if ctx.context_window == 0 {
        return 0.0;
    }
    let pct = ctx.input_tokens as f64 / ctx.context_window as f64 * 100.0;
    (pct * 10_000.0).round() / 10_000.0
}

fn metering(usage: f64) -> MeteringEvent {
    MeteringEvent {
        unit: Some("credit".to_owned()),
        unit_plural: Some("credits".to_owned()),
        usage,
    }
}

fn write_tail(w: &mut StreamWriter, tail: &Tail, ctx: &RenderCtx<'_>, output_tokens: u64) {
    if tail.metadata && !tail.usage_in_message_metadata {
        w.event_json(
            HeaderValue::from("metadataEvent"),
            &MetadataEvent {
                token_usage: Some(token_usage(ctx, output_tokens)),
            },
        );
    }
    if tail.message_metadata || tail.usage_in_message_metadata {
        let h = answer::fnv1a(ctx.conversation_id.as_bytes());
        let utterance = uuid::Uuid::from_u64_pair(h, answer::fnv1a(ctx.user_text.as_bytes()));
        w.event_json(
            HeaderValue::from("messageMetadataEvent"),
            &MessageMetadataEvent {
                conversation_id: Some(ctx.conversation_id.to_owned()),
                utterance_id: Some(utterance.to_string()),
                token_usage: tail
                    .usage_in_message_metadata
                    .then(|| token_usage(ctx, output_tokens)),
            },
        );
    }
    if tail.metering {
        w.event_json(
            HeaderValue::from("meteringEvent"),
            &metering(tail.metering_usage.unwrap_or(ctx.credits)),
        );
    }
    if tail.context_usage {
        w.event_json(
            HeaderValue::from("contextUsageEvent"),
            &ContextUsageEvent {
                context_usage_percentage: tail
                    .context_usage_percentage
                    .unwrap_or_else(|| context_percentage(ctx)),
            },
        );
    }
}

fn text_chunks(w: &mut StreamWriter, text: &str, chunk_chars: usize, seed: u64, repeat: &[usize]) {
    for (i, c) in answer::chunks(text, chunk_chars, seed)
        .into_iter()
        .enumerate()
    {
        w.text(c);
        if repeat.contains(&i) {
            w.text(c);
        }
    }
}

fn render_part(
    w: &mut StreamWriter,
    part: &Part,
    ctx: &RenderCtx<'_>,
    tools: &mut usize,
) -> Result<(), RenderError> {
    let seed = answer::fnv1a(ctx.user_text.as_bytes());
    let size = |c: &Option<usize>| c.unwrap_or(ctx.chunk_chars);
    match part {
        Part::Text {
            text,
            chunk_chars,
            repeat_chunks,
        } => {
            let generated;
            let text = match text {
                Some(t) => t.as_str(),
                None => {
                    generated = answer::default_reply(ctx.user_text, ctx.tool_results);
                    generated.as_str()
                }
            };
            text_chunks(w, text, size(chunk_chars), seed, repeat_chunks);
        }
        Part::Words { count, chunk_chars } => {
            let text = answer::long_reply(*count, ctx.user_text);
            text_chunks(w, &text, size(chunk_chars), seed, &[]);
        }
        Part::Echo { chunk_chars } => {
            if ctx.user_text.is_empty() {
                w.text("");
            }
            text_chunks(w, ctx.user_text, size(chunk_chars), seed, &[]);
        }
        Part::Thinking {
            text,
            chunk_chars,
            signature,
            signature_value,
        } => {
            let generated;
            let text = match text {
                Some(t) => t.as_str(),
                None => {
                    generated = answer::default_thinking(ctx.user_text);
                    generated.as_str()
                }
            };
            let sig = match signature_value {
                Some(s) => Some(s.clone()),
                None => signature.then(|| crate::signature::sign(ctx.model_id, text)),
            };
            let pieces = answer::chunks(text, size(chunk_chars), seed);
            let last = pieces.len().saturating_sub(1);
            if pieces.is_empty() {
                w.reasoning(Some(""), sig.as_deref(), None);
            }
            for (i, p) in pieces.into_iter().enumerate() {
                let s = if i == last { sig.as_deref() } else { None };
                w.reasoning(Some(p), s, None);
            }
        }
        Part::RedactedThinking { data } => {
            let data = data
                .clone()
                .unwrap_or_else(|| STANDARD.encode(b"kiro-sim redacted thinking"));
            w.reasoning(None, None, Some(&data));
        }
        Part::SurrogateSplit { before, after } => {
            let b = serde_json::Value::String(before.clone()).to_string();
            let a = serde_json::Value::String(after.clone()).to_string();
            // `b` is `"..."`: drop its closing quote; `a`: drop its opening quote.
            let first = format!(
                "{{\"content\":{}\\uD83D\"}}",
                b.strip_suffix('"').unwrap_or(&b)
            );
            let second = format!(
                "{{\"content\":\"\\uDE00{}}}",
                a.strip_prefix('"').unwrap_or(&a)
            );
            w.output_bytes += before.len() + after.len() + 4;
            w.event_text(HeaderValue::from("assistantResponseEvent"), &first);
            w.event_text(HeaderValue::from("assistantResponseEvent"), &second);
        }
        Part::GraphemeSplit { text } => {
            let text = text.as_deref().unwrap_or(GRAPHEME_SPLIT_TEXT);
            text_chunks(w, text, 1, seed, &[]);
        }
        Part::Tool(call) => render_tool(w, call, ctx, tools),
        Part::InterleavedTools { calls } => render_interleaved(w, calls, ctx, tools),
        Part::TruncatedTool {
            name,
            bytes,
            fragment_bytes,
        } => {
            let id = next_tool_id(ctx, tools);
            let input = answer::large_write_input(*bytes);
            w.tool_start(name, &id);
            for frag in answer::byte_pieces(&input, fragment_bytes.unwrap_or(64)) {
                w.tool_fragment(name, &id, frag, false);
            }
        }
        Part::Event {
            event_type,
            payload,
            payload_text,
        } => {
            let text = match (payload_text, payload) {
                (Some(t), _) => t.clone(),
                (None, Some(v)) => v.to_string(),
                (None, None) => "{}".to_owned(),
            };
            w.event_text(HeaderValue::from(event_type.clone()), &text);
        }
        Part::Exception {
            exception_type,
            message,
            reason,
        } => {
            let frame = Event::Exception(ExceptionFrame {
                exception_type: exception_type.clone(),
                message: Some(
                    message
                        .clone()
                        .unwrap_or_else(|| default_exception_message(exception_type).to_owned()),
                ),
                reason: reason.clone(),
                payload: bytes::Bytes::new(),
            })
            .to_frame();
            w.frame(&frame);
        }
        Part::ErrorFrame { code, message } => {
            let frame = Event::Error(ErrorFrame {
                code: code.clone(),
                message: message.clone(),
                payload: bytes::Bytes::new(),
            })
            .to_frame();
            w.frame(&frame);
        }
        Part::InvalidState { reason, message } => {
            let ev = InvalidStateEvent {
                reason: reason.clone(),
                message: message
                    .clone()
                    .unwrap_or_else(|| default_invalid_state_message(reason).to_owned()),
            };
            w.event_json(HeaderValue::from("invalidStateEvent"), &ev);
        }
        Part::Metering { usage } => {
            w.event_json(
                HeaderValue::from("meteringEvent"),
                &metering(usage.unwrap_or(ctx.credits)),
            );
        }
        Part::ContextUsage { percentage } => {
            w.event_json(
                HeaderValue::from("contextUsageEvent"),
                &ContextUsageEvent {
                    context_usage_percentage: percentage.unwrap_or_else(|| context_percentage(ctx)),
                },
            );
        }
        Part::Metadata => {
            let out = output_tokens(w.output_bytes);
            w.event_json(
                HeaderValue::from("metadataEvent"),
                &MetadataEvent {
                    token_usage: Some(token_usage(ctx, out)),
                },
            );
        }
        Part::Sleep { ms } => w.sleep(*ms),
        Part::Stall { ms, then } => {
            w.sleep(*ms);
            match then {
                StallEnd::Continue => {}
                StallEnd::Close => w.close(),
                StallEnd::Abort => w.abort(),
            }
        }
        Part::Cut { at, text } => {
            w.raw(&faults::cut_frame(
                text.as_deref().unwrap_or("this frame is cut short"),
                *at,
            ));
            w.abort();
        }
        Part::Reset { flush_ms } => w.reset(flush_ms.unwrap_or(20)),
        Part::Close => w.close(),
        Part::BadPreludeCrc { text } => {
            w.raw(&faults::bad_prelude_crc(
                text.as_deref().unwrap_or("bad prelude crc"),
            ));
        }
        Part::BadMessageCrc { text } => {
            w.raw(&faults::bad_message_crc(
                text.as_deref().unwrap_or("bad message crc"),
            ));
        }
        Part::BadLength { total_length } => w.raw(&faults::absurd_length(*total_length)),
        Part::ExtraHeaders { text } => {
            let text = text.as_deref().unwrap_or("extra headers");
            w.output_bytes += text.len();
            w.frame(&faults::extra_headers_frame(text));
        }
        Part::Replay { path, base64 } => {
            let bytes = replay_bytes(path.as_deref(), base64.as_deref())?;
            w.raw(&bytes);
        }
    }
    Ok(())
}

/// The bytes of a replay part. Reading a file here is blocking I/O; the control API inlines
/// files as base64 when a behaviour is queued, so only inline `[[sim:script …]]` markers with a
/// path get here.
pub fn replay_bytes(path: Option<&str>, base64: Option<&str>) -> Result<Vec<u8>, RenderError> {
    match (base64, path) {
        (Some(b), _) => Ok(STANDARD.decode(b.trim())?),
        (None, Some(p)) => std::fs::read(p).map_err(|source| RenderError::ReplayFile {
            path: p.to_owned(),
            source,
        }),
        (None, None) => Err(RenderError::ReplayEmpty),
    }
}

fn default_exception_message(exception_type: &str) -> &'static str {
    match exception_type {
        "ContentLengthExceededException" => "Input is too long.",
        "ThrottlingException" => "I am experiencing high traffic, please try again shortly.",
        "ValidationException" => "Improperly formed request.",
        _ => "Encountered an unexpected error when processing the request, please try again.",
    }
}

fn default_invalid_state_message(reason: &str) -> &'static str {
    match reason {
        "CONTENT_LENGTH_EXCEEDS_THRESHOLD" => "Input is too long.",
        "MONTHLY_REQUEST_COUNT" => "You have reached the limit.",
        _ => "Invalid conversation state.",
    }
}
