//! Frames that break the rules on purpose (spec §6.4, §10 fault injection): wrong CRCs, absurd
//! lengths, a frame cut at a chosen place, and a frame carrying every header type 0–9.

use bytes::Bytes;
use kiro_wire::frame::PRELUDE_LEN;
use kiro_wire::{Frame, Header, HeaderValue};

use crate::script::CutPoint;

/// A text event frame with the usual headers.
pub fn text_frame(text: &str) -> Frame {
    let payload = serde_json::json!({ "content": text }).to_string();
    Frame::new(
        vec![
            Header::new(":event-type", "assistantResponseEvent"),
            Header::new(":content-type", "application/json"),
            Header::new(":message-type", "event"),
        ],
        Bytes::from(payload),
    )
}

fn encoded(frame: &Frame) -> Vec<u8> {
    kiro_wire::encode_to_bytes(frame)
        .map(|b| b.to_vec())
        .unwrap_or_default()
}

/// `text_frame(text)` with its prelude CRC flipped.
pub fn bad_prelude_crc(text: &str) -> Vec<u8> {
    let mut b = encoded(&text_frame(text));
    if let Some(byte) = b.get_mut(8) {
        *byte ^= 0xFF;
    }
    b
}

/// `text_frame(text)` with its message CRC flipped.
pub fn bad_message_crc(text: &str) -> Vec<u8> {
    let mut b = encoded(&text_frame(text));
    if let Some(byte) = b.last_mut() {
        *byte ^= 0xFF;
    }
    b
}

/// A prelude announcing `total_length` and no headers, with a *valid* prelude CRC (so a decoder
/// must reject it on bounds, not on checksum), followed by 16 zero bytes.
pub fn absurd_length(total_length: u32) -> Vec<u8> {
    let mut b = Vec::with_capacity(PRELUDE_LEN + 16);
    b.extend_from_slice(&total_length.to_be_bytes());
    b.extend_from_slice(&0u32.to_be_bytes());
    let crc = crc32(&b);
    b.extend_from_slice(&crc.to_be_bytes());
    b.extend_from_slice(&[0u8; 16]);
    b
}

/// The leading bytes of `text_frame(text)` up to a point inside `at`.
pub fn cut_frame(text: &str, at: CutPoint) -> Vec<u8> {
    let frame = text_frame(text);
    let headers_len = frame.headers_len();
    let mut b = encoded(&frame);
    let end = match at {
        CutPoint::Prelude => 7,
        CutPoint::Headers => PRELUDE_LEN + headers_len / 2,
        CutPoint::Payload => PRELUDE_LEN + headers_len + frame.payload.len() / 2,
    };
    b.truncate(end);
    b
}

/// A text frame whose header block also holds one header of every wire type 0–9, some before
/// and some between the usual three (which keep their relative order).
pub fn extra_headers_frame(text: &str) -> Frame {
    let mut f = text_frame(text);
    let usual = std::mem::take(&mut f.headers);
    let mut usual = usual.into_iter();
    let mut headers = vec![
        Header::new("x-sim-bool-true", HeaderValue::Bool(true)),
        Header::new("x-sim-byte", HeaderValue::Byte(-7)),
    ];
    headers.extend(usual.next());
    headers.push(Header::new("x-sim-short", HeaderValue::Short(-12_345)));
    headers.push(Header::new("x-sim-int", HeaderValue::Int(1_234_567_890)));
    headers.extend(usual.next());
    headers.push(Header::new(
        "x-sim-long",
        HeaderValue::Long(-9_000_000_000_000),
    ));
    headers.push(Header::new(
        "x-sim-bytes",
        HeaderValue::ByteArray(Bytes::from_static(&[0, 1, 2, 0xFE, 0xFF])),
    ));
    headers.push(Header::new("x-sim-string", "extra"));
    headers.push(Header::new(
        "x-sim-timestamp",
        HeaderValue::Timestamp(1_767_225_600_000),
    ));
    headers.push(Header::new(
        "x-sim-uuid",
        HeaderValue::Uuid(
            *uuid::Uuid::from_u128(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef).as_bytes(),
        ),
    ));
    headers.extend(usual);
    headers.push(Header::new("x-sim-bool-false", HeaderValue::Bool(false)));
    f.headers = headers;
    f
}

/// CRC-32 (IEEE), as the frame format uses.
pub fn crc32(bytes: &[u8]) -> u32 {
    crc32fast::hash(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_matches_known_prelude() {
        // Example A of spec §6.5: prelude 0000007c 0000005c -> CRC 3bddcf78.
        assert_eq!(crc32(&[0, 0, 0, 0x7c, 0, 0, 0, 0x5c]), 0x3bdd_cf78);
    }

    #[test]
    fn cut_points_fall_inside_their_region() {
        let f = text_frame("hello world");
        let h = f.headers_len();
        assert_eq!(cut_frame("hello world", CutPoint::Prelude).len(), 7);
        let n = cut_frame("hello world", CutPoint::Headers).len();
        assert!(n > PRELUDE_LEN && n < PRELUDE_LEN + h);
        let n = cut_frame("hello world", CutPoint::Payload).len();
        assert!(n > PRELUDE_LEN + h && n < f.encoded_len() - 4);
    }

    #[test]
    fn extra_headers_round_trip_through_kiro_wire() {
        let f = extra_headers_frame("x");
        let b = kiro_wire::encode_to_bytes(&f).unwrap();
        let frames = kiro_wire::decode_all(&b).unwrap();
        assert_eq!(frames[0].headers.len(), 13);
        assert_eq!(frames[0].event_type(), Some("assistantResponseEvent"));
    }
}
