//! EventStream codec: spec examples, round trips under random chunking, and every corruption.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers fail the test on bad fixtures"
)]

use bytes::{Bytes, BytesMut};
use bytestring::ByteString;
use kiro_wire::event::{AssistantResponseEvent, Event, ToolInput, ToolUseEvent};
use kiro_wire::frame::{DEFAULT_MAX_FRAME_LEN, header_type};
use kiro_wire::{
    DecodeError, Frame, FrameDecoder, Header, HeaderValue, decode_all, encode_to_bytes,
};
use proptest::prelude::*;

const EXAMPLE_A: &str = "0000007c0000005c3bddcf780b3a6576656e742d74797065070016617373697374616e74526573706f6e73654576656e740d3a636f6e74656e742d747970650700106170706c69636174696f6e2f6a736f6e0d3a6d6573736167652d747970650700056576656e747b22636f6e74656e74223a224869227db02babdc";
const EXAMPLE_B: &str = "0000008f00000031074af8100d3a6d6573736167652d747970650700056576656e740b3a6576656e742d7479706507000c746f6f6c5573654576656e747b22746f6f6c5573654964223a227431222c226e616d65223a226765745f77656174686572222c22696e707574223a227b5c22636974795c223a5c22506172222c2273746f70223a66616c73657d26b42be3";
const EXAMPLE_C: &str = "0000009f00000052b3115f700b3a6576656e742d7479706507000c746f6f6c5573654576656e740d3a636f6e74656e742d747970650700106170706c69636174696f6e2f6a736f6e0d3a6d6573736167652d747970650700056576656e747b226e616d65223a225772697465222c22746f6f6c5573654964223a22746f6f6c7573655f314443717949434d522d436654533336554e4e697741227dc306fe47";

fn one_frame(hex_str: &str) -> (Vec<u8>, Frame) {
    let bytes = hex::decode(hex_str).unwrap();
    let frames = decode_all(&bytes).unwrap();
    assert_eq!(frames.len(), 1);
    (bytes, frames.into_iter().next().unwrap())
}

fn names(frame: &Frame) -> Vec<&str> {
    frame.headers.iter().map(|h| &*h.name).collect()
}

#[test]
fn example_a_text_chunk() {
    let (bytes, frame) = one_frame(EXAMPLE_A);
    assert_eq!(bytes.len(), 124);
    assert_eq!(&bytes[0..4], &[0, 0, 0, 0x7c]);
    assert_eq!(&bytes[4..8], &[0, 0, 0, 0x5c]);
    assert_eq!(
        names(&frame),
        [":event-type", ":content-type", ":message-type"]
    );
    assert_eq!(frame.event_type(), Some("assistantResponseEvent"));
    assert_eq!(frame.header_str(":content-type"), Some("application/json"));
    assert_eq!(frame.message_type(), Some("event"));
    assert_eq!(&frame.payload[..], br#"{"content":"Hi"}"#);
    assert_eq!(frame.headers_len(), 92);
    assert_eq!(
        Event::from_frame(&frame).unwrap(),
        Event::AssistantResponse(AssistantResponseEvent {
            content: "Hi".into()
        })
    );
    // Our encoder reproduces the exact bytes, CRCs included.
    assert_eq!(&encode_to_bytes(&frame).unwrap()[..], &bytes[..]);
    assert_eq!(&bytes[8..12], &0x3bddcf78u32.to_be_bytes());
    assert_eq!(&bytes[120..], &0xb02babdcu32.to_be_bytes());
}

#[test]
fn example_b_tool_fragment() {
    let (bytes, frame) = one_frame(EXAMPLE_B);
    assert_eq!(bytes.len(), 143);
    assert_eq!(frame.headers_len(), 49);
    assert_eq!(frame.payload.len(), 78);
    assert_eq!(names(&frame), [":message-type", ":event-type"]);
    assert_eq!(
        Event::from_frame(&frame).unwrap(),
        Event::ToolUse(ToolUseEvent {
            tool_use_id: "t1".into(),
            name: "get_weather".into(),
            input: Some(ToolInput::Fragment(r#"{"city":"Par"#.into())),
            stop: false,
        })
    );
    assert_eq!(&bytes[8..12], &0x074af810u32.to_be_bytes());
    assert_eq!(&bytes[139..], &0x26b42be3u32.to_be_bytes());
    assert_eq!(&encode_to_bytes(&frame).unwrap()[..], &bytes[..]);
}

#[test]
fn example_c_real_tool_start() {
    let (bytes, frame) = one_frame(EXAMPLE_C);
    assert_eq!(bytes.len(), 159);
    assert_eq!(frame.headers_len(), 82);
    assert_eq!(frame.payload.len(), 61);
    assert_eq!(
        names(&frame),
        [":event-type", ":content-type", ":message-type"]
    );
    assert_eq!(
        Event::from_frame(&frame).unwrap(),
        Event::ToolUse(ToolUseEvent {
            tool_use_id: "tooluse_1DCqyICMR-CfTS36UNNiwA".into(),
            name: "Write".into(),
            input: None,
            stop: false,
        })
    );
    assert_eq!(&bytes[155..], &0xc306fe47u32.to_be_bytes());
    // Event::to_frame writes the same header order as the upstream.
    let typed = Event::from_frame(&frame).unwrap().to_frame();
    assert_eq!(
        names(&typed),
        [":event-type", ":content-type", ":message-type"]
    );
}

#[test]
fn three_examples_back_to_back_in_every_split() {
    let all: Vec<u8> = [EXAMPLE_A, EXAMPLE_B, EXAMPLE_C]
        .iter()
        .flat_map(|h| hex::decode(h).unwrap())
        .collect();
    // Every possible two-chunk split, including inside each prelude.
    for cut in 0..=all.len() {
        let mut dec = FrameDecoder::new();
        let mut buf = BytesMut::new();
        let mut got = Vec::new();
        for chunk in [&all[..cut], &all[cut..]] {
            buf.extend_from_slice(chunk);
            while let Some(f) = dec.decode(&mut buf).unwrap() {
                got.push(f);
            }
        }
        assert!(dec.decode_eof(&mut buf).unwrap().is_none());
        assert_eq!(got.len(), 3, "cut at {cut}");
    }
}

fn arb_header_value() -> impl Strategy<Value = HeaderValue> {
    prop_oneof![
        any::<bool>().prop_map(HeaderValue::Bool),
        any::<i8>().prop_map(HeaderValue::Byte),
        any::<i16>().prop_map(HeaderValue::Short),
        any::<i32>().prop_map(HeaderValue::Int),
        any::<i64>().prop_map(HeaderValue::Long),
        proptest::collection::vec(any::<u8>(), 0..300)
            .prop_map(|v| HeaderValue::ByteArray(Bytes::from(v))),
        ".{0,80}".prop_map(|s| HeaderValue::String(ByteString::from(s))),
        any::<i64>().prop_map(HeaderValue::Timestamp),
        any::<[u8; 16]>().prop_map(HeaderValue::Uuid),
    ]
}

fn arb_frame() -> impl Strategy<Value = Frame> {
    let header = ("[:a-zA-Z0-9_-]{1,40}|.{1,20}", arb_header_value())
        .prop_filter("name fits a u8 length", |(n, _)| {
            !n.is_empty() && n.len() <= 255
        })
        .prop_map(|(n, v)| Header::new(ByteString::from(n), v));
    (
        proptest::collection::vec(header, 0..8),
        proptest::collection::vec(any::<u8>(), 0..2000),
    )
        .prop_map(|(headers, payload)| Frame::new(headers, payload))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn frames_survive_encode_decode_under_random_chunking(
        frames in proptest::collection::vec(arb_frame(), 1..12),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..20),
    ) {
        let mut wire = BytesMut::new();
        for f in &frames {
            kiro_wire::encode(f, &mut wire).unwrap();
        }
        let wire = wire.freeze();
        let mut points: Vec<usize> = cuts.iter().map(|i| i.index(wire.len() + 1)).collect();
        points.push(0);
        points.push(wire.len());
        points.sort_unstable();
        let mut dec = FrameDecoder::new();
        let mut buf = BytesMut::new();
        let mut got = Vec::new();
        for w in points.windows(2) {
            buf.extend_from_slice(&wire[w[0]..w[1]]);
            while let Some(f) = dec.decode(&mut buf).unwrap() {
                got.push(f);
            }
        }
        prop_assert!(dec.decode_eof(&mut buf).unwrap().is_none());
        prop_assert_eq!(got, frames);
    }

    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let mut dec = FrameDecoder::with_max_frame_len(64 * 1024);
        let mut buf = BytesMut::from(&data[..]);
        while let Ok(Some(_)) = dec.decode_eof(&mut buf) {}
    }
}

/// A valid frame with all ten header types, for the corruption tests.
fn sample() -> Vec<u8> {
    let frame = Frame::new(
        vec![
            Header::new(":event-type", "assistantResponseEvent"),
            Header::new("t0", HeaderValue::Bool(true)),
            Header::new("t1", HeaderValue::Bool(false)),
            Header::new("t2", HeaderValue::Byte(-3)),
            Header::new("t3", HeaderValue::Short(-300)),
            Header::new("t4", HeaderValue::Int(70_000)),
            Header::new("t5", HeaderValue::Long(-1 << 40)),
            Header::new(
                "t6",
                HeaderValue::ByteArray(Bytes::from_static(b"\x00\x01")),
            ),
            Header::new("t8", HeaderValue::Timestamp(1_767_225_600_000)),
            Header::new("t9", HeaderValue::Uuid([7; 16])),
            Header::new(":message-type", "event"),
        ],
        &br#"{"content":"x"}"#[..],
    );
    encode_to_bytes(&frame).unwrap().to_vec()
}

fn set_u32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_be_bytes());
}

/// Rewrites the prelude CRC (and the message CRC) so that a deliberate length or header
/// corruption is not caught by the CRC checks first.
fn fix_crcs(b: &mut [u8]) {
    let p = crc32fast::hash(&b[0..8]);
    set_u32(b, 8, p);
    let n = b.len();
    if n >= 16 {
        let m = crc32fast::hash(&b[..n - 4]);
        set_u32(b, n - 4, m);
    }
}

fn decode_err(bytes: &[u8]) -> DecodeError {
    decode_all(bytes).unwrap_err()
}

#[test]
fn all_ten_header_types_decode() {
    let frames = decode_all(&sample()).unwrap();
    let f = &frames[0];
    assert_eq!(f.header("t0"), Some(&HeaderValue::Bool(true)));
    assert_eq!(f.header("t1"), Some(&HeaderValue::Bool(false)));
    assert_eq!(f.header("t2"), Some(&HeaderValue::Byte(-3)));
    assert_eq!(f.header("t3"), Some(&HeaderValue::Short(-300)));
    assert_eq!(f.header("t4"), Some(&HeaderValue::Int(70_000)));
    assert_eq!(f.header("t5"), Some(&HeaderValue::Long(-1 << 40)));
    assert_eq!(
        f.header("t6"),
        Some(&HeaderValue::ByteArray(Bytes::from_static(b"\x00\x01")))
    );
    assert_eq!(
        f.header("t8"),
        Some(&HeaderValue::Timestamp(1_767_225_600_000))
    );
    assert_eq!(f.header("t9"), Some(&HeaderValue::Uuid([7; 16])));
    // Exotic headers do not hide the ones a reader needs.
    assert_eq!(
        Event::from_frame(f).unwrap(),
        Event::AssistantResponse(AssistantResponseEvent {
            content: "x".into()
        })
    );
}

#[test]
fn bad_prelude_crc() {
    let mut b = sample();
    b[8] ^= 0xff;
    assert!(matches!(decode_err(&b), DecodeError::PreludeCrc { .. }));
}

#[test]
fn bad_message_crc() {
    let mut b = sample();
    let n = b.len();
    b[n - 1] ^= 0x01;
    assert!(matches!(decode_err(&b), DecodeError::MessageCrc { .. }));
    // A flipped payload byte is caught by the same check.
    let mut b = sample();
    b[n - 6] ^= 0x20;
    assert!(matches!(decode_err(&b), DecodeError::MessageCrc { .. }));
}

#[test]
fn short_frame_and_absurd_lengths_fail_before_allocating() {
    let mut b = sample();
    set_u32(&mut b, 0, 15);
    fix_crcs(&mut b);
    assert_eq!(
        decode_err(&b),
        DecodeError::FrameTooShort { total_length: 15 }
    );

    // A 4 GiB claim: rejected from the 12-byte prelude alone, with nothing buffered for it.
    let mut b = sample();
    set_u32(&mut b, 0, u32::MAX);
    fix_crcs(&mut b);
    let mut dec = FrameDecoder::new();
    let mut buf = BytesMut::from(&b[..12]);
    let cap_before = buf.capacity();
    assert!(matches!(
        dec.decode(&mut buf),
        Err(DecodeError::FrameTooLarge {
            total_length: u32::MAX,
            max: DEFAULT_MAX_FRAME_LEN
        })
    ));
    assert_eq!(buf.capacity(), cap_before);

    let mut b = sample();
    set_u32(&mut b, 0, (DEFAULT_MAX_FRAME_LEN + 1) as u32);
    fix_crcs(&mut b);
    assert!(matches!(decode_err(&b), DecodeError::FrameTooLarge { .. }));

    // A custom cap applies.
    let b = sample();
    let mut dec = FrameDecoder::with_max_frame_len(64);
    let mut buf = BytesMut::from(&b[..]);
    assert!(matches!(
        dec.decode(&mut buf),
        Err(DecodeError::FrameTooLarge { max: 64, .. })
    ));
}

#[test]
fn headers_length_past_frame() {
    let mut b = sample();
    let total = b.len() as u32;
    set_u32(&mut b, 4, total - 15);
    fix_crcs(&mut b);
    assert!(matches!(
        decode_err(&b),
        DecodeError::HeadersExceedFrame { .. }
    ));
}

#[test]
fn header_block_over_cap() {
    // A frame whose header block claims 200 KiB (fits its 300 KiB total) is refused.
    let mut b = vec![0u8; 12];
    set_u32(&mut b, 0, 300 * 1024);
    set_u32(&mut b, 4, 200 * 1024);
    fix_crcs(&mut b[..12]);
    let mut dec = FrameDecoder::new();
    let mut buf = BytesMut::from(&b[..]);
    assert!(matches!(
        dec.decode(&mut buf),
        Err(DecodeError::HeadersTooLong { .. })
    ));
}

#[test]
fn unknown_header_type() {
    let mut b = sample();
    // The first header is `:event-type` (1 + 11 bytes of name), its type byte follows.
    assert_eq!(b[12 + 12], header_type::STRING);
    b[12 + 12] = 10;
    fix_crcs(&mut b);
    assert_eq!(
        decode_err(&b),
        DecodeError::UnknownHeaderType {
            type_byte: 10,
            offset: 0
        }
    );
}

#[test]
fn header_running_past_its_block() {
    // Claim one byte less of header block than the headers use: the last header overruns.
    let mut b = sample();
    let hl = u32::from_be_bytes([b[4], b[5], b[6], b[7]]);
    set_u32(&mut b, 4, hl - 1);
    fix_crcs(&mut b);
    assert!(matches!(decode_err(&b), DecodeError::HeaderOverrun { .. }));

    // A string length pointing past the block.
    let mut b = sample();
    b[12 + 13] = 0xff;
    fix_crcs(&mut b);
    assert!(matches!(
        decode_err(&b),
        DecodeError::HeaderOverrun { offset: 0 }
    ));
}

#[test]
fn empty_header_name_and_bad_utf8() {
    let mut b = sample();
    b[12] = 0;
    fix_crcs(&mut b);
    assert_eq!(decode_err(&b), DecodeError::EmptyHeaderName { offset: 0 });

    let mut b = sample();
    b[13] = 0xff; // first byte of the name `:event-type`
    fix_crcs(&mut b);
    assert_eq!(decode_err(&b), DecodeError::InvalidUtf8 { offset: 0 });
}

#[test]
fn eof_inside_a_frame_is_truncation_at_every_position() {
    let b = sample();
    for cut in 1..b.len() {
        let err = decode_err(&b[..cut]);
        assert_eq!(
            err,
            DecodeError::Truncated { buffered: cut },
            "cut at {cut}"
        );
    }
    assert!(decode_all(&[]).unwrap().is_empty());
}

#[test]
fn errors_are_final() {
    let mut b = sample();
    b[8] ^= 1;
    let good = sample();
    let mut dec = FrameDecoder::new();
    let mut buf = BytesMut::from(&b[..]);
    assert!(dec.decode(&mut buf).is_err());
    assert!(dec.has_failed());
    let mut buf = BytesMut::from(&good[..]);
    assert_eq!(dec.decode(&mut buf), Err(DecodeError::Failed));
}

#[test]
fn error_and_exception_frames_are_typed() {
    use kiro_wire::event::{ErrorFrame, ExceptionFrame};
    let err = Event::Error(ErrorFrame {
        code: "InternalServerException".into(),
        message: "boom".into(),
        payload: Bytes::new(),
    });
    let back =
        Event::from_frame(&decode_all(&encode_to_bytes(&err.to_frame()).unwrap()).unwrap()[0])
            .unwrap();
    assert_eq!(back, err);

    let exc = Frame::new(
        vec![
            Header::new(":exception-type", "ThrottlingException"),
            Header::new(":content-type", "application/json"),
            Header::new(":message-type", "exception"),
        ],
        &br#"{"message":"I am experiencing high traffic, please try again shortly.","reason":"INSUFFICIENT_MODEL_CAPACITY"}"#[..],
    );
    match Event::from_frame(&exc).unwrap() {
        Event::Exception(ExceptionFrame {
            exception_type,
            message,
            reason,
            ..
        }) => {
            assert_eq!(exception_type, "ThrottlingException");
            assert_eq!(
                message.as_deref(),
                Some("I am experiencing high traffic, please try again shortly.")
            );
            assert_eq!(reason.as_deref(), Some("INSUFFICIENT_MODEL_CAPACITY"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn unknown_and_legacy_events_are_preserved() {
    for (name, legacy) in [("followupPromptEvent", true), ("brandNewEvent", false)] {
        let f = Frame::new(
            vec![
                Header::new(":event-type", HeaderValue::from(name.to_owned())),
                Header::new(":message-type", "event"),
            ],
            &br#"{"x":1}"#[..],
        );
        let ev = Event::from_frame(&f).unwrap();
        assert_eq!(ev.event_type(), Some(name));
        match ev {
            Event::Legacy { payload, .. } if legacy => assert_eq!(&payload[..], br#"{"x":1}"#),
            Event::Unknown { payload, .. } if !legacy => assert_eq!(&payload[..], br#"{"x":1}"#),
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn every_typed_event_round_trips() {
    use kiro_wire::event::*;
    let usage = TokenUsage {
        uncached_input_tokens: Some(10),
        cache_read_input_tokens: Some(20),
        cache_write_input_tokens: Some(0),
        output_tokens: Some(5),
        total_tokens: Some(35),
        ..Default::default()
    };
    let events = vec![
        Event::AssistantResponse(AssistantResponseEvent {
            content: "我 😀".into(),
        }),
        Event::ToolUse(ToolUseEvent {
            tool_use_id: "t".into(),
            name: "n".into(),
            input: Some(ToolInput::Fragment("{".into())),
            stop: false,
        }),
        Event::ToolUse(ToolUseEvent {
            tool_use_id: "t".into(),
            name: "n".into(),
            input: Some(ToolInput::Object(serde_json::json!({"a": 1}))),
            stop: true,
        }),
        Event::Reasoning(ReasoningContentEvent {
            text: Some("hmm".into()),
            signature: Some("sig".into()),
            redacted_content: None,
        }),
        Event::Reasoning(ReasoningContentEvent {
            redacted_content: Some("AAAA".into()),
            ..Default::default()
        }),
        Event::Metering(MeteringEvent {
            unit: Some("credit".into()),
            unit_plural: Some("credits".into()),
            usage: 0.0169543708291874,
        }),
        Event::ContextUsage(ContextUsageEvent {
            context_usage_percentage: 61.49,
        }),
        Event::Metadata(MetadataEvent {
            token_usage: Some(usage.clone()),
        }),
        Event::MessageMetadata(MessageMetadataEvent {
            conversation_id: Some("c".into()),
            utterance_id: Some("u".into()),
            token_usage: Some(usage),
        }),
        Event::InvalidState(InvalidStateEvent {
            reason: "INVALID_CONVERSATION_STATE".into(),
            message: "bad".into(),
        }),
    ];
    for ev in events {
        let wire = encode_to_bytes(&ev.to_frame()).unwrap();
        let back = Event::from_frame(&decode_all(&wire).unwrap()[0]).unwrap();
        assert_eq!(back, ev);
    }
}

#[test]
fn lenient_event_payloads() {
    let f = |name: &str, payload: &'static [u8]| {
        Frame::new(
            vec![
                Header::new(":event-type", HeaderValue::from(name.to_owned())),
                Header::new(":message-type", "event"),
            ],
            payload,
        )
    };
    match Event::from_frame(&f(
        "metadataEvent",
        br#"{"tokenUsage":{"outputTokens":1.2E2,"inputTokens":7,"extra":true},"more":1}"#,
    ))
    .unwrap()
    {
        Event::Metadata(m) => {
            let u = m.token_usage.unwrap();
            assert_eq!(u.output_tokens, Some(120));
            assert_eq!(u.input_tokens, Some(7));
        }
        other => panic!("{other:?}"),
    }
    match Event::from_frame(&f(
        "assistantResponseEvent",
        br#"{"content":"a","modelId":"m","messageStatus":"x"}"#,
    ))
    .unwrap()
    {
        Event::AssistantResponse(a) => assert_eq!(a.content, "a"),
        other => panic!("{other:?}"),
    }
    // An empty payload is an event with nothing in it, not an error.
    assert!(matches!(
        Event::from_frame(&f("contextUsageEvent", b"")).unwrap(),
        Event::ContextUsage(_)
    ));
    // Garbage JSON is a typed error naming the event.
    assert!(Event::from_frame(&f("toolUseEvent", b"{nope")).is_err());
}
