//! Incremental, bounded EventStream decoder.
//!
//! Bytes arrive in arbitrary chunks; [`FrameDecoder::decode`] takes whole frames off the front of a
//! `BytesMut` as soon as they are complete. Lengths are checked against the caps *after* the
//! prelude CRC has vouched for them and *before* any buffer is grown for the frame. Any error is
//! final: framing cannot be recovered by scanning, so the decoder refuses further input.

use bytes::{Buf, Bytes, BytesMut};
use bytestring::ByteString;

use crate::frame::{
    DEFAULT_MAX_FRAME_LEN, Frame, Header, HeaderValue, MAX_HEADERS_LEN, MIN_FRAME_LEN, PRELUDE_LEN,
    header_type,
};

/// Every way a byte stream can fail to be EventStream.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("frame length {total_length} is below the 16-byte minimum")]
    FrameTooShort { total_length: u32 },
    #[error("frame length {total_length} exceeds the {max}-byte cap")]
    FrameTooLarge { total_length: u32, max: usize },
    #[error("header block of {headers_length} bytes does not fit a frame of {total_length} bytes")]
    HeadersExceedFrame {
        headers_length: u32,
        total_length: u32,
    },
    #[error("header block of {headers_length} bytes exceeds the {max}-byte cap")]
    HeadersTooLong { headers_length: u32, max: usize },
    #[error("prelude CRC mismatch: frame says {expected:#010x}, bytes give {actual:#010x}")]
    PreludeCrc { expected: u32, actual: u32 },
    #[error("message CRC mismatch: frame says {expected:#010x}, bytes give {actual:#010x}")]
    MessageCrc { expected: u32, actual: u32 },
    #[error("unknown header value type {type_byte} at header offset {offset}")]
    UnknownHeaderType { type_byte: u8, offset: usize },
    #[error("header at offset {offset} runs past the end of the header block")]
    HeaderOverrun { offset: usize },
    #[error("empty header name at header offset {offset}")]
    EmptyHeaderName { offset: usize },
    #[error("header name or string value at header offset {offset} is not valid UTF-8")]
    InvalidUtf8 { offset: usize },
    #[error("stream ended inside a frame ({buffered} bytes buffered)")]
    Truncated { buffered: usize },
    #[error("decoder already failed; the stream cannot be resynchronised")]
    Failed,
}

impl DecodeError {
    /// A short stable label, for metrics and logs.
    pub fn label(&self) -> &'static str {
        match self {
            DecodeError::FrameTooShort { .. } => "frame_too_short",
            DecodeError::FrameTooLarge { .. } => "frame_too_large",
            DecodeError::HeadersExceedFrame { .. } => "headers_exceed_frame",
            DecodeError::HeadersTooLong { .. } => "headers_too_long",
            DecodeError::PreludeCrc { .. } => "prelude_crc",
            DecodeError::MessageCrc { .. } => "message_crc",
            DecodeError::UnknownHeaderType { .. } => "unknown_header_type",
            DecodeError::HeaderOverrun { .. } => "header_overrun",
            DecodeError::EmptyHeaderName { .. } => "empty_header_name",
            DecodeError::InvalidUtf8 { .. } => "invalid_utf8",
            DecodeError::Truncated { .. } => "truncated",
            DecodeError::Failed => "failed",
        }
    }
}

/// Validated prelude of the frame currently being received.
#[derive(Debug, Clone, Copy)]
struct Pending {
    total: usize,
    headers: usize,
}

/// Incremental frame decoder. One per stream.
#[derive(Debug)]
pub struct FrameDecoder {
    max_frame_len: usize,
    pending: Option<Pending>,
    failed: bool,
}

impl Default for FrameDecoder {
    fn default() -> Self {
        Self::new()
    }
}

fn be_u32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

impl FrameDecoder {
    /// A decoder with the default 16 MiB frame cap.
    pub fn new() -> Self {
        Self::with_max_frame_len(DEFAULT_MAX_FRAME_LEN)
    }

    /// A decoder with a custom frame cap (never below the 16-byte minimum frame).
    pub fn with_max_frame_len(max_frame_len: usize) -> Self {
        FrameDecoder {
            max_frame_len: max_frame_len.max(MIN_FRAME_LEN),
            pending: None,
            failed: false,
        }
    }

    /// True once an error has been returned; all later calls fail with [`DecodeError::Failed`].
    pub fn has_failed(&self) -> bool {
        self.failed
    }

    /// Takes the next complete frame off the front of `src`, or returns `Ok(None)` when more bytes
    /// are needed. Consumes nothing on `Ok(None)`.
    pub fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, DecodeError> {
        if self.failed {
            return Err(DecodeError::Failed);
        }
        match self.decode_inner(src) {
            Ok(frame) => Ok(frame),
            Err(e) => {
                self.failed = true;
                Err(e)
            }
        }
    }

    /// Like [`decode`](Self::decode), but at end of input: leftover bytes mean the connection was
    /// cut inside a frame.
    pub fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, DecodeError> {
        match self.decode(src)? {
            Some(frame) => Ok(Some(frame)),
            None if src.is_empty() => Ok(None),
            None => {
                self.failed = true;
                Err(DecodeError::Truncated {
                    buffered: src.len(),
                })
            }
        }
    }

    fn decode_inner(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, DecodeError> {
        let pending = match self.pending {
            Some(p) => p,
            None => {
                if src.len() < PRELUDE_LEN {
                    return Ok(None);
                }
                let p = self.check_prelude(&src[..PRELUDE_LEN])?;
                self.pending = Some(p);
                p
            }
        };
        if src.len() < pending.total {
            // Bounded by the frame cap, which the prelude check enforced.
            src.reserve(pending.total - src.len());
            return Ok(None);
        }
        self.pending = None;
        let raw = src.split_to(pending.total).freeze();
        decode_body(raw, pending).map(Some)
    }

    fn check_prelude(&self, prelude: &[u8]) -> Result<Pending, DecodeError> {
        let total_length = be_u32(&prelude[0..4]);
        let headers_length = be_u32(&prelude[4..8]);
        let expected = be_u32(&prelude[8..12]);
        let actual = crc32fast::hash(&prelude[0..8]);
        if expected != actual {
            return Err(DecodeError::PreludeCrc { expected, actual });
        }
        let total = total_length as usize;
        let headers = headers_length as usize;
        if total < MIN_FRAME_LEN {
            return Err(DecodeError::FrameTooShort { total_length });
        }
        if total > self.max_frame_len {
            return Err(DecodeError::FrameTooLarge {
                total_length,
                max: self.max_frame_len,
            });
        }
        if headers > total - MIN_FRAME_LEN {
            return Err(DecodeError::HeadersExceedFrame {
                headers_length,
                total_length,
            });
        }
        if headers > MAX_HEADERS_LEN {
            return Err(DecodeError::HeadersTooLong {
                headers_length,
                max: MAX_HEADERS_LEN,
            });
        }
        Ok(Pending { total, headers })
    }
}

/// Checks the message CRC of a complete frame and splits it into headers and payload.
fn decode_body(raw: Bytes, p: Pending) -> Result<Frame, DecodeError> {
    let crc_at = p.total - 4;
    let expected = be_u32(&raw[crc_at..]);
    let actual = crc32fast::hash(&raw[..crc_at]);
    if expected != actual {
        return Err(DecodeError::MessageCrc { expected, actual });
    }
    let headers_end = PRELUDE_LEN + p.headers;
    let headers = decode_headers(&raw, PRELUDE_LEN, headers_end)?;
    let payload = raw.slice(headers_end..crc_at);
    Ok(Frame { headers, payload })
}

/// Parses the header block `raw[start..end]`. Offsets in errors are relative to the block.
fn decode_headers(raw: &Bytes, start: usize, end: usize) -> Result<Vec<Header>, DecodeError> {
    let mut headers = Vec::with_capacity(4);
    let mut cur = &raw[start..end];
    while !cur.is_empty() {
        let offset = (end - start) - cur.len();
        let overrun = DecodeError::HeaderOverrun { offset };
        let name_len = cur.get_u8() as usize;
        if name_len == 0 {
            return Err(DecodeError::EmptyHeaderName { offset });
        }
        // Name plus the type byte.
        if cur.len() < name_len + 1 {
            return Err(overrun);
        }
        let name_at = end - cur.len();
        let name = intern(&raw[name_at..name_at + name_len])
            .map_or_else(|| utf8(raw.slice(name_at..name_at + name_len), offset), Ok)?;
        cur.advance(name_len);
        let type_byte = cur.get_u8();
        let fixed = |cur: &mut &[u8], n: usize| -> Result<(), DecodeError> {
            if cur.len() < n {
                Err(DecodeError::HeaderOverrun { offset })
            } else {
                Ok(())
            }
        };
        let value = match type_byte {
            header_type::BOOL_TRUE => HeaderValue::Bool(true),
            header_type::BOOL_FALSE => HeaderValue::Bool(false),
            header_type::BYTE => {
                fixed(&mut cur, 1)?;
                HeaderValue::Byte(cur.get_i8())
            }
            header_type::SHORT => {
                fixed(&mut cur, 2)?;
                HeaderValue::Short(cur.get_i16())
            }
            header_type::INT => {
                fixed(&mut cur, 4)?;
                HeaderValue::Int(cur.get_i32())
            }
            header_type::LONG => {
                fixed(&mut cur, 8)?;
                HeaderValue::Long(cur.get_i64())
            }
            header_type::TIMESTAMP => {
                fixed(&mut cur, 8)?;
                HeaderValue::Timestamp(cur.get_i64())
            }
            header_type::UUID => {
                fixed(&mut cur, 16)?;
                let mut u = [0u8; 16];
                cur.copy_to_slice(&mut u);
                HeaderValue::Uuid(u)
            }
            header_type::BYTE_ARRAY | header_type::STRING => {
                fixed(&mut cur, 2)?;
                let len = cur.get_u16() as usize;
                fixed(&mut cur, len)?;
                let at = end - cur.len();
                cur.advance(len);
                let bytes = &raw[at..at + len];
                if type_byte == header_type::BYTE_ARRAY {
                    HeaderValue::ByteArray(raw.slice(at..at + len))
                } else if let Some(known) = intern(bytes) {
                    HeaderValue::String(known)
                } else {
                    HeaderValue::String(utf8(raw.slice(at..at + len), offset)?)
                }
            }
            other => {
                return Err(DecodeError::UnknownHeaderType {
                    type_byte: other,
                    offset,
                });
            }
        };
        headers.push(Header { name, value });
    }
    Ok(headers)
}

/// Header names and values every upstream frame repeats. Returning a static string for them
/// saves a reference-count round trip per header, which is most of the per-frame cost.
fn intern(bytes: &[u8]) -> Option<ByteString> {
    let s: &'static str = match bytes {
        b":event-type" => ":event-type",
        b":content-type" => ":content-type",
        b":message-type" => ":message-type",
        b":exception-type" => ":exception-type",
        b":error-code" => ":error-code",
        b":error-message" => ":error-message",
        b"application/json" => "application/json",
        b"event" => "event",
        b"exception" => "exception",
        b"error" => "error",
        b"assistantResponseEvent" => "assistantResponseEvent",
        b"toolUseEvent" => "toolUseEvent",
        b"reasoningContentEvent" => "reasoningContentEvent",
        b"meteringEvent" => "meteringEvent",
        b"contextUsageEvent" => "contextUsageEvent",
        b"metadataEvent" => "metadataEvent",
        b"messageMetadataEvent" => "messageMetadataEvent",
        b"invalidStateEvent" => "invalidStateEvent",
        _ => return None,
    };
    Some(ByteString::from_static(s))
}

fn utf8(bytes: Bytes, offset: usize) -> Result<ByteString, DecodeError> {
    ByteString::try_from(bytes).map_err(|_| DecodeError::InvalidUtf8 { offset })
}

/// Decodes every frame of a complete in-memory stream (tests, replay files, tools).
pub fn decode_all(bytes: &[u8]) -> Result<Vec<Frame>, DecodeError> {
    let mut decoder = FrameDecoder::new();
    let mut buf = BytesMut::from(bytes);
    let mut frames = Vec::new();
    while let Some(frame) = decoder.decode_eof(&mut buf)? {
        frames.push(frame);
    }
    Ok(frames)
}

#[cfg(feature = "codec")]
mod codec {
    use super::{DecodeError, FrameDecoder};
    use crate::frame::{EncodeError, Frame, encode};
    use bytes::BytesMut;

    /// Error type for the `tokio_util` codec: I/O from the transport, or a protocol error.
    #[derive(Debug, thiserror::Error)]
    pub enum CodecError {
        #[error(transparent)]
        Io(#[from] std::io::Error),
        #[error(transparent)]
        Decode(#[from] DecodeError),
        #[error(transparent)]
        Encode(#[from] EncodeError),
    }

    impl tokio_util::codec::Decoder for FrameDecoder {
        type Item = Frame;
        type Error = CodecError;

        fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, CodecError> {
            Ok(FrameDecoder::decode(self, src)?)
        }

        fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, CodecError> {
            Ok(FrameDecoder::decode_eof(self, src)?)
        }
    }

    /// Encoder half, for `FramedWrite` in the simulator and tests.
    #[derive(Debug, Default, Clone, Copy)]
    pub struct FrameEncoder;

    impl tokio_util::codec::Encoder<&Frame> for FrameEncoder {
        type Error = CodecError;

        fn encode(&mut self, item: &Frame, dst: &mut BytesMut) -> Result<(), CodecError> {
            Ok(encode(item, dst)?)
        }
    }
}

#[cfg(feature = "codec")]
pub use codec::{CodecError, FrameEncoder};
