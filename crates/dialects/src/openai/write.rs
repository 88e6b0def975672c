//! Writing JSON fragments straight into the output buffer: the SSE hot path builds each chunk
//! in place instead of going through a `serde_json::Value` per event.

use bytes::{BufMut, BytesMut};

/// Appends `s` as a JSON string literal (quotes included).
pub(super) fn json_str(out: &mut BytesMut, s: &str) {
    out.reserve(s.len() + 2);
    out.put_u8(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x00..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        if escape.is_empty() {
            out.extend_from_slice(b"\\u00");
            out.put_u8(hex_digit(b >> 4));
            out.put_u8(hex_digit(b & 0xf));
        } else {
            out.extend_from_slice(escape);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.put_u8(b'"');
}

fn hex_digit(n: u8) -> u8 {
    match n {
        0..=9 => b'0' + n,
        _ => b'a' + (n - 10),
    }
}

pub(super) use crate::json_out::{int, uint};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_escape_like_serde_json() {
        for s in [
            "plain",
            "quote \" and \\ slash",
            "line\nbreak\ttab\r",
            "\u{0}\u{1f}\u{7f}",
            "é漢字😀",
            "",
        ] {
            let mut out = BytesMut::new();
            json_str(&mut out, s);
            let back: String = serde_json::from_slice(&out).unwrap();
            assert_eq!(back, s);
            assert_eq!(&out[..], serde_json::to_string(s).unwrap().as_bytes());
        }
    }

    #[test]
    fn numbers() {
        for n in [0u64, 7, 10, 1234567890, u64::MAX] {
            let mut out = BytesMut::new();
            uint(&mut out, n);
            assert_eq!(&out[..], n.to_string().as_bytes());
        }
        for n in [0i64, -1, i64::MIN, i64::MAX] {
            let mut out = BytesMut::new();
            int(&mut out, n);
            assert_eq!(&out[..], n.to_string().as_bytes());
        }
    }
}
