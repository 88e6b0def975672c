//! An independent reading: every stream shape the simulator serves is decoded with the AWS SDK's
//! own EventStream decoder (`aws-smithy-eventstream`), which checks both CRCs; event frames must
//! carry `:event-type`, `:content-type`, `:message-type` in that order.

use aws_smithy_eventstream::frame::{DecodedFrame, MessageFrameDecoder};
use aws_smithy_types::event_stream::{HeaderValue, Message};
use bytes::{Buf, Bytes, BytesMut};
use kiro_sim::accounts::AccountKind;
use serde_json::{Value, json};

use crate::common::*;

/// Decodes `bytes` fed in awkward slices (7 bytes at a time) with the SDK's streaming decoder.
fn smithy_decode(bytes: &[u8]) -> Vec<Message> {
    let mut decoder = MessageFrameDecoder::new();
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    for piece in bytes.chunks(7) {
        buf.extend_from_slice(piece);
        while let DecodedFrame::Complete(m) = decoder
            .decode_frame(&mut buf)
            .expect("valid frame and CRCs")
        {
            out.push(m);
        }
    }
    assert!(!buf.has_remaining(), "trailing bytes");
    out
}

fn header_str<'a>(m: &'a Message, name: &str) -> Option<&'a str> {
    m.headers()
        .iter()
        .find(|h| h.name().as_str() == name)
        .and_then(|h| match h.value() {
            HeaderValue::String(s) => Some(s.as_str()),
            _ => None,
        })
}

fn check_order(m: &Message) {
    let names: Vec<&str> = m
        .headers()
        .iter()
        .map(|h| h.name().as_str())
        .filter(|n| n.starts_with(':'))
        .collect();
    match header_str(m, ":message-type") {
        Some("event") => assert_eq!(names, [":event-type", ":content-type", ":message-type"]),
        Some("exception") => {
            assert_eq!(names, [":exception-type", ":content-type", ":message-type"]);
        }
        Some("error") => assert_eq!(names, [":message-type", ":error-code", ":error-message"]),
        other => panic!("message type {other:?}"),
    }
}

#[tokio::test]
async fn every_stream_shape_decodes_with_the_aws_sdk_decoder() {
    let sim = Sim::start().await;
    let a = sim.account(AccountKind::Social);
    let scripts: Vec<Value> = vec![
        json!({}),
        json!({"parts": [{"type": "thinking"}, {"type": "redacted_thinking"}, {"type": "text"}]}),
        json!({"parts": [{"type": "tool", "name": "Bash", "input": {"command": "ls -la"}},
                         {"type": "tool", "name": "Bash", "input": {"a": [1, 2]}, "object_input": true},
                         {"type": "interleaved_tools", "calls": [{"name": "A", "input": {"x": 1}}, {"name": "B"}]}]}),
        json!({"noise": true, "parts": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}, {"type": "event", "event_type": "dryRunSucceedEvent"}]}),
        json!({"parts": [{"type": "extra_headers"}, {"type": "surrogate_split"}, {"type": "grapheme_split"}]}),
        json!({"parts": [{"type": "text", "text": "x"}], "tail": {"message_metadata": true, "usage_in_message_metadata": true}}),
        json!({"parts": [{"type": "exception", "exception_type": "ThrottlingException"}, {"type": "text", "text": "y"},
                         {"type": "error_frame", "code": "InternalServerException", "message": "boom"},
                         {"type": "invalid_state", "reason": "INVALID_CONVERSATION_STATE"}]}),
        json!({"parts": [{"type": "truncated_tool", "bytes": 2000}]}),
        json!({"parts": [{"type": "words", "count": 200}, {"type": "metering", "usage": 0.5}, {"type": "context_usage"}, {"type": "metadata"}]}),
        json!({"http_chunk_bytes": 5, "parts": [{"type": "text", "text": "chunked 日本語"}]}),
        json!({"parts": [{"type": "replay", "base64": base64_of(&hex::decode(crate::chat::FRAME_C).unwrap())}, {"type": "metering"}]}),
    ];
    let mut total = 0;
    for script in scripts {
        sim.queue_script(script.clone()).await;
        let (status, _, bytes) = sim.chat(&a, "decode me").await;
        assert_eq!(status, 200, "{script}");
        let messages = smithy_decode(&bytes);
        assert!(!messages.is_empty(), "{script}");
        for m in &messages {
            check_order(m);
        }
        // The same bytes decode identically with kiro-wire.
        assert_eq!(frames(&bytes).len(), messages.len(), "{script}");
        total += messages.len();
    }
    // Triggers and the extra-header frame, too.
    for text in [
        "[[sim:long 50]] [[sim:thinking]]",
        r#"[[sim:tool Write {"path":"a"}]]"#,
        "[[sim:extra-headers]]",
    ] {
        let (_, _, bytes) = sim.chat(&a, text).await;
        for m in &smithy_decode(&bytes) {
            check_order(m);
        }
    }
    assert!(total > 100);
}

#[tokio::test]
async fn aws_decoder_rejects_the_corrupt_frames() {
    let sim = Sim::start().await;
    let a = sim.account(AccountKind::Social);
    for part in [
        json!({"type": "bad_prelude_crc"}),
        json!({"type": "bad_message_crc"}),
    ] {
        sim.queue_script(json!({"parts": [part], "tail": {"metadata": false, "metering": false, "context_usage": false}}))
            .await;
        let (_, _, bytes) = sim.chat(&a, "x").await;
        let mut decoder = MessageFrameDecoder::new();
        let mut buf = Bytes::from(bytes.to_vec());
        assert!(decoder.decode_frame(&mut buf).is_err());
    }
}

fn base64_of(b: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(b)
}
