//! Decodes a served stream into JSON lines for golden tests: one line per frame with offset,
//! lengths, CRC status, headers (typed) and payload. Tolerant on purpose: it reports bad CRCs
//! instead of stopping, and ends with an `error` line when the framing itself is broken.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Serialize;
use serde_json::{Value, json};

use crate::faults::crc32;

const MAX_FRAME: usize = 16 * 1024 * 1024;

fn be_u32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at + 4)?;
    Some(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

/// Reads the header block; `Err` names the problem.
fn headers(block: &[u8]) -> Result<Vec<Value>, String> {
    let mut out = Vec::new();
    let mut i = 0;
    let take = |i: &mut usize, n: usize| -> Result<&[u8], String> {
        let s = block
            .get(*i..*i + n)
            .ok_or_else(|| format!("header overrun at {}", *i))?;
        *i += n;
        Ok(s)
    };
    while i < block.len() {
        let name_len = usize::from(take(&mut i, 1)?[0]);
        let name = String::from_utf8_lossy(take(&mut i, name_len)?).into_owned();
        let ty = take(&mut i, 1)?[0];
        let value = match ty {
            0 => json!(true),
            1 => json!(false),
            2 => json!(i8::from_be_bytes([take(&mut i, 1)?[0]])),
            3 => {
                let b = take(&mut i, 2)?;
                json!(i16::from_be_bytes([b[0], b[1]]))
            }
            4 => {
                let b = take(&mut i, 4)?;
                json!(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
            }
            5 | 8 => {
                let b = take(&mut i, 8)?;
                let mut a = [0u8; 8];
                a.copy_from_slice(b);
                json!(i64::from_be_bytes(a))
            }
            6 | 7 => {
                let l = take(&mut i, 2)?;
                let n = usize::from(u16::from_be_bytes([l[0], l[1]]));
                let v = take(&mut i, n)?;
                if ty == 7 {
                    json!(String::from_utf8_lossy(v))
                } else {
                    json!(STANDARD.encode(v))
                }
            }
            9 => json!(hex::encode(take(&mut i, 16)?)),
            other => return Err(format!("unknown header type {other}")),
        };
        out.push(json!({"name": name, "type": ty, "value": value}));
    }
    Ok(out)
}

/// One decoded frame (or the point where framing broke), fields in reading order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FrameDump {
    pub offset: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_length: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub headers_length: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload_length: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prelude_crc_ok: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_crc_ok: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub headers: Option<Vec<Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub header_error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload_json: Option<Value>,
    /// Why reading stopped here.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<&'static str>,
    /// Bytes left unread after an error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remaining: Option<usize>,
}

impl FrameDump {
    fn at(offset: usize) -> Self {
        FrameDump {
            offset,
            total_length: None,
            headers_length: None,
            payload_length: None,
            prelude_crc_ok: None,
            message_crc_ok: None,
            headers: None,
            header_error: None,
            payload: None,
            payload_json: None,
            error: None,
            remaining: None,
        }
    }
}

/// One entry per frame (and a final entry with `error` if the framing breaks).
pub fn frames(bytes: &[u8]) -> Vec<FrameDump> {
    let mut out = Vec::new();
    let mut off = 0;
    while off < bytes.len() {
        let mut d = FrameDump::at(off);
        let (Some(total), Some(hlen), Some(pcrc)) = (
            be_u32(bytes, off),
            be_u32(bytes, off + 4),
            be_u32(bytes, off + 8),
        ) else {
            d.error = Some("truncated prelude");
            d.remaining = Some(bytes.len() - off);
            out.push(d);
            break;
        };
        let prelude_ok = crc32(&bytes[off..off + 8]) == pcrc;
        d.total_length = Some(total);
        d.headers_length = Some(hlen);
        d.prelude_crc_ok = Some(prelude_ok);
        let (total_u, hlen_u) = (total as usize, hlen as usize);
        if !prelude_ok || !(16..=MAX_FRAME).contains(&total_u) || hlen_u > total_u - 16 {
            d.error = Some(if prelude_ok {
                "length out of bounds"
            } else {
                "prelude CRC mismatch"
            });
            d.remaining = Some(bytes.len() - off);
            out.push(d);
            break;
        }
        let Some(frame) = bytes.get(off..off + total_u) else {
            d.error = Some("truncated frame");
            d.remaining = Some(bytes.len() - off);
            out.push(d);
            break;
        };
        let mcrc = be_u32(frame, total_u - 4).unwrap_or(0);
        let payload = &frame[12 + hlen_u..total_u - 4];
        d.payload_length = Some(payload.len());
        d.message_crc_ok = Some(crc32(&frame[..total_u - 4]) == mcrc);
        match headers(&frame[12..12 + hlen_u]) {
            Ok(h) => d.headers = Some(h),
            Err(e) => d.header_error = Some(e),
        }
        d.payload = Some(String::from_utf8_lossy(payload).into_owned());
        d.payload_json = serde_json::from_slice::<Value>(payload).ok();
        out.push(d);
        off += total_u;
    }
    out
}

/// [`frames`] as JSON lines.
pub fn jsonl(bytes: &[u8]) -> String {
    let mut s = String::new();
    for f in frames(bytes) {
        if let Ok(line) = serde_json::to_string(&f) {
            s.push_str(&line);
            s.push('\n');
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::faults;

    #[test]
    fn reports_frames_and_crc_status() {
        let mut b = kiro_wire::encode_to_bytes(&faults::text_frame("hi"))
            .unwrap()
            .to_vec();
        b.extend(faults::bad_message_crc("x"));
        b.extend(faults::absurd_length(32 * 1024 * 1024));
        let f = frames(&b);
        assert_eq!(f.len(), 3);
        assert_eq!(f[0].message_crc_ok, Some(true));
        assert_eq!(f[0].payload_json.as_ref().unwrap()["content"], "hi");
        assert_eq!(f[0].headers.as_ref().unwrap()[0]["name"], ":event-type");
        assert_eq!(f[1].message_crc_ok, Some(false));
        assert_eq!(f[2].error, Some("length out of bounds"));
        assert!(jsonl(&b).starts_with("{\"offset\":0,\"total_length\":"));
    }
}
