//! The default answer, the tails, and every scripted stream feature.

use base64::Engine as _;
use kiro_sim::accounts::AccountKind;
use kiro_sim::render::GRAPHEME_SPLIT_TEXT;
use kiro_wire::Event;
use kiro_wire::event::ToolInput;
use serde_json::{Value, json};
use std::collections::HashMap;

use crate::common::*;

/// Example C of spec §6.5 (a real captured frame).
pub const FRAME_C: &str = "0000009f00000052b3115f700b3a6576656e742d7479706507000c746f6f6c5573654576656e740d3a636f6e74656e742d747970650700106170706c69636174696f6e2f6a736f6e0d3a6d6573736167652d747970650700056576656e747b226e616d65223a225772697465222c22746f6f6c5573654964223a22746f6f6c7573655f314443717949434d522d436654533336554e4e697741227dc306fe47";

#[tokio::test]
async fn default_answer_is_deterministic_with_full_tail() {
    let sim = Sim::start().await;
    let acct = sim.account(AccountKind::Social);
    let resp = sim
        .chat_request(
            &acct,
            &chat_body("What is the capital of France?", "claude-sonnet-4.5"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()["content-type"],
        "application/vnd.amazon.eventstream"
    );
    assert!(resp.headers().contains_key("x-amzn-requestid"));
    let bytes = resp.bytes().await.unwrap();
    let ev = events(&bytes);
    let text = text_of(&ev);
    assert!(
        text.starts_with("Simulated reply to: «What is the capital of France?»"),
        "{text}"
    );
    let types = event_types(&ev);
    let n = types.len();
    assert!(n > 8, "text comes in small chunks: {types:?}");
    assert_eq!(
        &types[n - 3..],
        &["metadataEvent", "meteringEvent", "contextUsageEvent"]
    );
    let Event::Metering(m) = &ev[n - 2] else {
        panic!("metering")
    };
    assert!((m.usage - 0.013).abs() < 1e-9, "1.3 × 0.01: {}", m.usage);
    assert_eq!(m.unit.as_deref(), Some("credit"));
    let Event::Metadata(md) = &ev[n - 3] else {
        panic!("metadata")
    };
    let usage = md.token_usage.as_ref().unwrap();
    assert!(usage.output_tokens.unwrap() > 0);
    assert!(usage.uncached_input_tokens.unwrap() >= 2000);
    let Event::ContextUsage(c) = &ev[n - 1] else {
        panic!("context")
    };
    assert!(c.context_usage_percentage > 0.9 && c.context_usage_percentage < 2.0);
    // Same question, same answer.
    let (_, _, again) = sim.chat(&acct, "What is the capital of France?").await;
    assert_eq!(text_of(&events(&again)), text);
}

#[tokio::test]
async fn tails_switch_one_by_one_and_message_metadata_variant() {
    let sim = Sim::start().await;
    let acct = sim.account(AccountKind::Social);
    let cases: Vec<(Value, Vec<&str>)> = vec![
        (
            json!({"metadata": false}),
            vec!["meteringEvent", "contextUsageEvent"],
        ),
        (
            json!({"metering": false}),
            vec!["metadataEvent", "contextUsageEvent"],
        ),
        (
            json!({"context_usage": false}),
            vec!["metadataEvent", "meteringEvent"],
        ),
        (
            json!({"metadata": false, "metering": false, "context_usage": false}),
            vec![],
        ),
        (
            json!({"usage_in_message_metadata": true}),
            vec!["messageMetadataEvent", "meteringEvent", "contextUsageEvent"],
        ),
    ];
    for (tail, want) in cases {
        let ev = sim
            .scripted(
                &acct,
                json!({"parts": [{"type": "text", "text": "x"}], "tail": tail}),
            )
            .await;
        let types = event_types(&ev);
        assert_eq!(&types[1..], want.as_slice(), "{tail}");
    }
    let ev = sim
        .scripted(&acct, json!({"tail": {"usage_in_message_metadata": true}}))
        .await;
    let mm = ev
        .iter()
        .find_map(|e| match e {
            Event::MessageMetadata(m) => Some(m),
            _ => None,
        })
        .unwrap();
    assert!(mm.token_usage.as_ref().unwrap().output_tokens.unwrap() > 0);
    assert_eq!(mm.conversation_id.as_deref(), Some(CONVERSATION));
}

#[tokio::test]
async fn thinking_signed_on_last_frame_and_redacted_variant() {
    let sim = Sim::start().await;
    let acct = sim.account(AccountKind::Social);
    let ev = sim
        .scripted(
            &acct,
            json!({"parts": [{"type": "thinking", "text": "Let me think it over.", "chunk_chars": 4},
                             {"type": "text", "text": "Done."}]}),
        )
        .await;
    let reasoning: Vec<_> = ev
        .iter()
        .filter_map(|e| match e {
            Event::Reasoning(r) => Some(r),
            _ => None,
        })
        .collect();
    assert!(reasoning.len() > 3);
    let joined: String = reasoning.iter().filter_map(|r| r.text.as_deref()).collect();
    assert_eq!(joined, "Let me think it over.");
    let (last, rest) = reasoning.split_last().unwrap();
    assert!(rest.iter().all(|r| r.signature.is_none()));
    let sig = last.signature.as_deref().unwrap();
    assert!(kiro_sim::signature::verify(
        "claude-sonnet-4.5",
        &joined,
        sig
    ));
    assert!(matches!(ev[0], Event::Reasoning(_)), "reasoning first");

    let ev = sim
        .scripted(
            &acct,
            json!({"parts": [{"type": "redacted_thinking"}, {"type": "text", "text": "ok"}]}),
        )
        .await;
    let Event::Reasoning(r) = &ev[0] else {
        panic!("redacted first")
    };
    let data = r.redacted_content.as_deref().unwrap();
    assert!(
        base64::engine::general_purpose::STANDARD
            .decode(data)
            .is_ok()
    );
}

#[tokio::test]
async fn requested_thinking_precedes_the_default_answer() {
    let sim = Sim::start().await;
    let acct = sim.account(AccountKind::Social);
    let mut body = chat_body("Think first", "claude-opus-4.7");
    body["conversationState"]["currentMessage"]["userInputMessage"]["additionalModelRequestFields"] =
        json!({"thinking": {"type": "adaptive", "display": "summarized"}});
    let (status, _, bytes) = sim.chat_body(&acct, &body).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&bytes));
    let ev = events(&bytes);
    assert!(matches!(ev[0], Event::Reasoning(_)));
    assert!(text_of(&ev).starts_with("Simulated reply to: «Think first»"));
}

#[tokio::test]
async fn chunk_size_and_repeated_chunks() {
    let sim = Sim::start().await;
    let acct = sim.account(AccountKind::Social);
    let ev = sim
        .scripted(
            &acct,
            json!({"parts": [{"type": "text", "text": "abcdefghij", "chunk_chars": 4, "repeat_chunks": [1]}],
                   "tail": {"metadata": false, "metering": false, "context_usage": false}}),
        )
        .await;
    let chunks: Vec<_> = ev
        .iter()
        .map(|e| match e {
            Event::AssistantResponse(a) => a.content.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(chunks, ["abcd", "efgh", "efgh", "ij"]);
}

#[tokio::test]
async fn surrogate_pair_split_across_frames() {
    let sim = Sim::start().await;
    let acct = sim.account(AccountKind::Social);
    sim.queue_script(json!({"parts": [{"type": "surrogate_split", "before": "Smile ", "after": "!"}], "tail": {"metadata": false, "metering": false, "context_usage": false}}))
        .await;
    let (_, _, bytes) = sim.chat(&acct, "x").await;
    let f = frames(&bytes);
    assert_eq!(f.len(), 2);
    assert_eq!(&f[0].payload[..], br#"{"content":"Smile \uD83D"}"#);
    assert_eq!(&f[1].payload[..], br#"{"content":"\uDE00!"}"#);
    // Joined, the two halves are one valid character.
    let joined = r#"{"content":"Smile \uD83D\uDE00!"}"#;
    let v: Value = serde_json::from_str(joined).unwrap();
    assert_eq!(v["content"], "Smile 😀!");
}

#[tokio::test]
async fn grapheme_split_puts_one_scalar_per_frame() {
    let sim = Sim::start().await;
    let acct = sim.account(AccountKind::Social);
    let ev = sim
        .scripted(&acct, json!({"parts": [{"type": "grapheme_split"}]}))
        .await;
    let texts: Vec<_> = ev
        .iter()
        .filter_map(|e| match e {
            Event::AssistantResponse(a) => Some(a.content.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(texts.concat(), GRAPHEME_SPLIT_TEXT);
    assert_eq!(texts.len(), GRAPHEME_SPLIT_TEXT.chars().count());
    assert!(texts.iter().all(|t| t.chars().count() == 1));
    assert!(texts.contains(&"我".to_owned()));
}

/// Assembles tool calls by id: (name, concatenated input, stopped, object input).
fn assemble(ev: &[Event]) -> Vec<(String, String, String, bool)> {
    let mut order: Vec<String> = Vec::new();
    let mut calls: HashMap<String, (String, String, bool)> = HashMap::new();
    for e in ev {
        if let Event::ToolUse(t) = e {
            let entry = calls.entry(t.tool_use_id.clone()).or_insert_with(|| {
                order.push(t.tool_use_id.clone());
                (t.name.clone(), String::new(), false)
            });
            assert_eq!(entry.0, t.name, "fragments repeat the name");
            match &t.input {
                Some(ToolInput::Fragment(s)) => entry.1.push_str(s),
                Some(ToolInput::Object(v)) => entry.1.push_str(&v.to_string()),
                None => {}
            }
            entry.2 |= t.stop;
        }
    }
    order
        .into_iter()
        .map(|id| {
            let (n, i, s) = calls.remove(&id).unwrap();
            (id, n, i, s)
        })
        .collect()
}

#[tokio::test]
async fn tool_calls_single_sequential_interleaved_and_object() {
    let sim = Sim::start().await;
    let acct = sim.account(AccountKind::Social);
    let input = json!({"command": "echo hello", "timeout": 30});

    // One call: start frame without input, fragments repeating name/id, stop frame.
    let ev = sim
        .scripted(&acct, json!({"parts": [{"type": "tool", "name": "Bash", "input": input, "fragment_bytes": 8}]}))
        .await;
    let tools: Vec<_> = ev
        .iter()
        .filter_map(|e| match e {
            Event::ToolUse(t) => Some(t),
            _ => None,
        })
        .collect();
    assert!(tools[0].input.is_none() && !tools[0].stop);
    assert!(tools[0].tool_use_id.starts_with("tooluse_") && tools[0].tool_use_id.len() == 30);
    assert!(tools.last().unwrap().stop && tools.last().unwrap().input.is_none());
    assert!(tools.len() > 4);
    let calls = assemble(&ev);
    assert_eq!(calls.len(), 1);
    assert_eq!(serde_json::from_str::<Value>(&calls[0].2).unwrap(), input);

    // Several sequential.
    let ev = sim
        .scripted(
            &acct,
            json!({"parts": [
                {"type": "text", "text": "Two calls."},
                {"type": "tool", "name": "Read", "input": {"path": "a"}},
                {"type": "text", "text": "Between."},
                {"type": "tool", "name": "Read", "input": {"path": "b"}, "stop_with_input": true}
            ]}),
        )
        .await;
    let calls = assemble(&ev);
    assert_eq!(calls.len(), 2);
    assert_ne!(calls[0].0, calls[1].0);
    assert!(calls.iter().all(|c| c.3));
    assert_eq!(calls[1].2, r#"{"path":"b"}"#);

    // Interleaved: fragments of the two calls alternate.
    let ev = sim
        .scripted(&acct, json!({"parts": [{"type": "interleaved_tools", "calls": [
            {"name": "A", "input": {"x": "0123456789012345678901234567890"}, "fragment_bytes": 5},
            {"name": "B", "input": {"y": "abcdefghijabcdefghijabcdefghij"}, "fragment_bytes": 5}
        ]}]}))
        .await;
    let names: Vec<_> = ev
        .iter()
        .filter_map(|e| match e {
            Event::ToolUse(t) if t.input.is_some() => Some(t.name.clone()),
            _ => None,
        })
        .collect();
    assert!(
        names.windows(2).filter(|w| w[0] != w[1]).count() > 4,
        "{names:?}"
    );
    let calls = assemble(&ev);
    assert_eq!(calls.len(), 2);
    assert_eq!(
        serde_json::from_str::<Value>(&calls[0].2).unwrap()["x"],
        "0123456789012345678901234567890"
    );
    assert!(calls.iter().all(|c| c.3));

    // Object input.
    let ev = sim
        .scripted(&acct, json!({"parts": [{"type": "tool", "name": "Bash", "input": input, "object_input": true}]}))
        .await;
    let obj = ev.iter().find_map(|e| match e {
        Event::ToolUse(t) => match &t.input {
            Some(ToolInput::Object(v)) => Some(v.clone()),
            _ => None,
        },
        _ => None,
    });
    assert_eq!(obj, Some(input));
}

#[tokio::test]
async fn truncated_tool_input_has_no_stop_and_no_context_usage() {
    let sim = Sim::start().await;
    let acct = sim.account(AccountKind::Social);
    let ev = sim
        .scripted(
            &acct,
            json!({"parts": [{"type": "text", "text": "Writing."}, {"type": "truncated_tool"}]}),
        )
        .await;
    let calls = assemble(&ev);
    assert_eq!(calls.len(), 1);
    assert!(!calls[0].3, "no stop");
    assert!(calls[0].2.len() > 39_000 && calls[0].2.len() <= 40_000);
    assert!(serde_json::from_str::<Value>(&calls[0].2).is_err());
    let types = event_types(&ev);
    assert!(!types.contains(&"contextUsageEvent".to_owned()));
    assert_eq!(types.last().unwrap(), "meteringEvent");
}

#[tokio::test]
async fn unknown_and_legacy_events_mixed_in() {
    let sim = Sim::start().await;
    let acct = sim.account(AccountKind::Social);
    let ev = sim
        .scripted(&acct, json!({"noise": true, "parts": [
            {"type": "text", "text": "one "}, {"type": "text", "text": "two "}, {"type": "text", "text": "three"},
            {"type": "event", "event_type": "citationEvent", "payload": {"citations": []}}
        ]}))
        .await;
    assert_eq!(text_of(&ev), "one two three");
    assert!(matches!(ev[0], Event::InitialResponse { .. }));
    assert!(ev.iter().any(|e| matches!(e, Event::Legacy { .. })));
    assert!(
        ev.iter().any(
            |e| matches!(e, Event::Unknown { event_type, .. } if event_type == "simFutureEvent")
        )
    );
}

#[tokio::test]
async fn exception_and_error_frames_before_and_after_content() {
    let sim = Sim::start().await;
    let acct = sim.account(AccountKind::Social);
    for (parts, want_first) in [
        (
            json!([{"type": "exception", "exception_type": "ThrottlingException", "reason": "INSUFFICIENT_MODEL_CAPACITY"}]),
            true,
        ),
        (
            json!([{"type": "text", "text": "partial"}, {"type": "exception", "exception_type": "ContentLengthExceededException"}]),
            false,
        ),
        (
            json!([{"type": "error_frame", "code": "InternalServerException", "message": "boom"}]),
            true,
        ),
        (
            json!([{"type": "text", "text": "partial"}, {"type": "error_frame", "code": "InternalServerException", "message": "boom"}]),
            false,
        ),
    ] {
        let ev = sim
            .scripted(&acct, json!({"parts": parts, "tail": {"metadata": false, "metering": false, "context_usage": false}}))
            .await;
        let idx = ev
            .iter()
            .position(|e| matches!(e, Event::Exception(_) | Event::Error(_)))
            .unwrap();
        assert_eq!(idx == 0, want_first);
        match &ev[idx] {
            Event::Exception(x) if x.exception_type == "ThrottlingException" => {
                assert_eq!(x.reason.as_deref(), Some("INSUFFICIENT_MODEL_CAPACITY"));
            }
            Event::Exception(x) => {
                assert_eq!(x.exception_type, "ContentLengthExceededException");
                assert_eq!(x.message.as_deref(), Some("Input is too long."));
            }
            Event::Error(e) => {
                assert_eq!(e.code, "InternalServerException");
                assert_eq!(e.message, "boom");
            }
            other => panic!("{other:?}"),
        }
    }
}

#[tokio::test]
async fn invalid_state_event_with_each_seen_reason() {
    let sim = Sim::start().await;
    let acct = sim.account(AccountKind::Social);
    for reason in [
        "INVALID_CONVERSATION_STATE",
        "CONTENT_LENGTH_EXCEEDS_THRESHOLD",
        "MONTHLY_REQUEST_COUNT",
    ] {
        let ev = sim
            .scripted(&acct, json!({"parts": [{"type": "invalid_state", "reason": reason}], "tail": {"metadata": false, "metering": false, "context_usage": false}}))
            .await;
        let Event::InvalidState(s) = &ev[0] else {
            panic!("{ev:?}")
        };
        assert_eq!(s.reason, reason);
        assert!(!s.message.is_empty());
    }
}

#[tokio::test]
async fn json_exception_body_under_200_and_mislabelled_eventstream() {
    let sim = Sim::start().await;
    let acct = sim.account(AccountKind::Social);
    sim.queue_script(json!({"body": {"error": "insufficient_model_capacity"}}))
        .await;
    let (status, ct, bytes) = sim.chat(&acct, "x").await;
    assert_eq!(status, 200);
    assert_eq!(ct, "application/json");
    assert_eq!(bytes[0], b'{');
    let v: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(v["reason"], "INSUFFICIENT_MODEL_CAPACITY");

    sim.queue_script(json!({"content_type": "application/json"}))
        .await;
    let (status, ct, bytes) = sim.chat(&acct, "x").await;
    assert_eq!((status, ct.as_str()), (200, "application/json"));
    assert_eq!(bytes[0], 0x00, "EventStream under a JSON label");
    assert!(!text_of(&events(&bytes)).is_empty());
}

#[tokio::test]
async fn replay_recorded_bytes_verbatim_then_synthetic_tail() {
    let sim = Sim::start().await;
    let acct = sim.account(AccountKind::Social);
    let frame_c = hex::decode(FRAME_C).unwrap();
    let b64 = base64::engine::general_purpose::STANDARD.encode(&frame_c);
    sim.queue_script(json!({"parts": [{"type": "replay", "base64": b64}, {"type": "metering"}]}))
        .await;
    let (_, _, bytes) = sim.chat(&acct, "x").await;
    assert_eq!(&bytes[..frame_c.len()], &frame_c[..]);
    let ev = events(&bytes);
    assert_eq!(event_types(&ev), ["toolUseEvent", "meteringEvent"]);

    // From a file path (inlined when queued).
    let dir = std::env::temp_dir().join(format!("kiro-sim-replay-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("frame_c.bin");
    std::fs::write(&path, &frame_c).unwrap();
    sim.queue_script(json!({"parts": [{"type": "replay", "path": path}]}))
        .await;
    let (_, _, bytes) = sim.chat(&acct, "x").await;
    assert_eq!(&bytes[..], &frame_c[..], "no tail after a bare replay");
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn http_chunks_cut_through_frames() {
    let sim = Sim::start().await;
    let acct = sim.account(AccountKind::Social);
    let id = sim
        .queue_script(json!({"http_chunk_bytes": 7, "pace": {"frame_interval_ms": 0}, "parts": [{"type": "text", "text": "日本語のテキスト", "chunk_chars": 3}]}))
        .await;
    assert!(id["id"].as_u64().is_some());
    let (_, _, bytes) = sim.chat(&acct, "x").await;
    assert_eq!(text_of(&events(&bytes)), "日本語のテキスト");
    let last = sim.handle.state().requests().pop().unwrap();
    let chunks = last.stream.unwrap();
    assert!(chunks.iter().all(|c| c.len() <= 7));
    assert!(chunks.len() > 20);
}

#[tokio::test]
async fn pacing_by_interval_and_tokens_per_second() {
    let sim = Sim::start().await;
    let acct = sim.account(AccountKind::Social);
    sim.queue_script(json!({"pace": {"frame_interval_ms": 10}, "parts": [{"type": "text", "text": "0123456789", "chunk_chars": 1}], "tail": {"metadata": false, "metering": false, "context_usage": false}}))
        .await;
    let t = std::time::Instant::now();
    let (_, _, bytes) = sim.chat(&acct, "x").await;
    assert!(
        t.elapsed() >= std::time::Duration::from_millis(85),
        "{:?}",
        t.elapsed()
    );
    assert_eq!(text_of(&events(&bytes)), "0123456789");

    // 20 frames of 4 characters (one token each) at 400 tokens/s: about 50 ms.
    sim.queue_script(json!({"pace": {"tokens_per_second": 400.0}, "parts": [{"type": "text", "text": "abcd".repeat(20), "chunk_chars": 4}]}))
        .await;
    let t = std::time::Instant::now();
    sim.chat(&acct, "x").await;
    let el = t.elapsed();
    assert!(el >= std::time::Duration::from_millis(45), "{el:?}");
    assert!(el < std::time::Duration::from_millis(2000), "{el:?}");
}
