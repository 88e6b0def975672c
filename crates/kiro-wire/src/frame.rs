//! AWS EventStream frames: the binary envelope of every `generateAssistantResponse` reply.
//!
//! Layout (big-endian): `u32 total_length`, `u32 headers_length`, `u32 prelude_crc`, header block,
//! payload, `u32 message_crc`. Both CRCs are CRC-32 (IEEE). See spec §6.

use bytes::{BufMut, Bytes, BytesMut};
use bytestring::ByteString;

/// Bytes before the header block: two lengths and the prelude CRC.
pub const PRELUDE_LEN: usize = 12;
/// The smallest legal frame: prelude plus message CRC, no headers, no payload.
pub const MIN_FRAME_LEN: usize = PRELUDE_LEN + 4;
/// Default cap on a frame's `total_length` (16 MiB).
pub const DEFAULT_MAX_FRAME_LEN: usize = 16 * 1024 * 1024;
/// Cap on a frame's header block (128 KiB).
pub const MAX_HEADERS_LEN: usize = 128 * 1024;
/// Longest header name the encoding can express.
pub const MAX_HEADER_NAME_LEN: usize = u8::MAX as usize;
/// Longest string or byte-array header value the encoding can express.
pub const MAX_HEADER_VALUE_LEN: usize = u16::MAX as usize;

/// Header value type bytes (spec §6.2).
pub mod header_type {
    pub const BOOL_TRUE: u8 = 0;
    pub const BOOL_FALSE: u8 = 1;
    pub const BYTE: u8 = 2;
    pub const SHORT: u8 = 3;
    pub const INT: u8 = 4;
    pub const LONG: u8 = 5;
    pub const BYTE_ARRAY: u8 = 6;
    pub const STRING: u8 = 7;
    pub const TIMESTAMP: u8 = 8;
    pub const UUID: u8 = 9;
}

/// A typed header value; one variant per wire type (0 and 1 share `Bool`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum HeaderValue {
    Bool(bool),
    Byte(i8),
    Short(i16),
    Int(i32),
    Long(i64),
    ByteArray(Bytes),
    String(ByteString),
    /// Milliseconds since the Unix epoch.
    Timestamp(i64),
    Uuid([u8; 16]),
}

impl HeaderValue {
    /// The wire type byte of this value.
    pub fn type_byte(&self) -> u8 {
        match self {
            HeaderValue::Bool(true) => header_type::BOOL_TRUE,
            HeaderValue::Bool(false) => header_type::BOOL_FALSE,
            HeaderValue::Byte(_) => header_type::BYTE,
            HeaderValue::Short(_) => header_type::SHORT,
            HeaderValue::Int(_) => header_type::INT,
            HeaderValue::Long(_) => header_type::LONG,
            HeaderValue::ByteArray(_) => header_type::BYTE_ARRAY,
            HeaderValue::String(_) => header_type::STRING,
            HeaderValue::Timestamp(_) => header_type::TIMESTAMP,
            HeaderValue::Uuid(_) => header_type::UUID,
        }
    }

    /// The string, when this is a string header.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            HeaderValue::String(s) => Some(s),
            _ => None,
        }
    }

    /// Bytes this value occupies after its type byte.
    pub fn encoded_len(&self) -> usize {
        match self {
            HeaderValue::Bool(_) => 0,
            HeaderValue::Byte(_) => 1,
            HeaderValue::Short(_) => 2,
            HeaderValue::Int(_) => 4,
            HeaderValue::Long(_) | HeaderValue::Timestamp(_) => 8,
            HeaderValue::ByteArray(b) => 2 + b.len(),
            HeaderValue::String(s) => 2 + s.len(),
            HeaderValue::Uuid(_) => 16,
        }
    }
}

impl From<&'static str> for HeaderValue {
    fn from(s: &'static str) -> Self {
        HeaderValue::String(ByteString::from_static(s))
    }
}

impl From<String> for HeaderValue {
    fn from(s: String) -> Self {
        HeaderValue::String(ByteString::from(s))
    }
}

/// One named header.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Header {
    pub name: ByteString,
    pub value: HeaderValue,
}

impl Header {
    pub fn new(name: impl Into<ByteString>, value: impl Into<HeaderValue>) -> Self {
        Header {
            name: name.into(),
            value: value.into(),
        }
    }

    fn encoded_len(&self) -> usize {
        1 + self.name.len() + 1 + self.value.encoded_len()
    }
}

/// One decoded (or to-be-encoded) EventStream message. Header order is kept as on the wire.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Frame {
    pub headers: Vec<Header>,
    pub payload: Bytes,
}

impl Frame {
    pub fn new(headers: Vec<Header>, payload: impl Into<Bytes>) -> Self {
        Frame {
            headers,
            payload: payload.into(),
        }
    }

    /// The first header with this name (names compare exactly, as AWS does).
    pub fn header(&self, name: &str) -> Option<&HeaderValue> {
        self.headers
            .iter()
            .find(|h| &*h.name == name)
            .map(|h| &h.value)
    }

    /// The first header with this name, when it is a string.
    pub fn header_str(&self, name: &str) -> Option<&str> {
        self.header(name).and_then(HeaderValue::as_str)
    }

    /// `:message-type` (`event`, `error` or `exception`).
    pub fn message_type(&self) -> Option<&str> {
        self.header_str(":message-type")
    }

    /// `:event-type`, for `event` frames.
    pub fn event_type(&self) -> Option<&str> {
        self.header_str(":event-type")
    }

    /// Size of the header block in bytes.
    pub fn headers_len(&self) -> usize {
        self.headers.iter().map(Header::encoded_len).sum()
    }

    /// Size of the whole encoded frame in bytes.
    pub fn encoded_len(&self) -> usize {
        MIN_FRAME_LEN + self.headers_len() + self.payload.len()
    }
}

/// Why a frame could not be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    #[error("header name must be 1 to 255 bytes, got {len}")]
    HeaderNameLength { len: usize },
    #[error("header value of {len} bytes exceeds the 65535-byte limit")]
    HeaderValueTooLong { len: usize },
    #[error("header block of {len} bytes exceeds the {max}-byte limit")]
    HeadersTooLong { len: usize, max: usize },
    #[error("frame of {len} bytes exceeds the 4 GiB limit")]
    FrameTooLarge { len: usize },
}

/// Appends the encoded frame to `dst`.
pub fn encode(frame: &Frame, dst: &mut BytesMut) -> Result<(), EncodeError> {
    for h in &frame.headers {
        if h.name.is_empty() || h.name.len() > MAX_HEADER_NAME_LEN {
            return Err(EncodeError::HeaderNameLength { len: h.name.len() });
        }
        let value_len = match &h.value {
            HeaderValue::ByteArray(b) => b.len(),
            HeaderValue::String(s) => s.len(),
            _ => 0,
        };
        if value_len > MAX_HEADER_VALUE_LEN {
            return Err(EncodeError::HeaderValueTooLong { len: value_len });
        }
    }
    let headers_len = frame.headers_len();
    if headers_len > MAX_HEADERS_LEN {
        return Err(EncodeError::HeadersTooLong {
            len: headers_len,
            max: MAX_HEADERS_LEN,
        });
    }
    let total = frame.encoded_len();
    let total_u32 = u32::try_from(total).map_err(|_| EncodeError::FrameTooLarge { len: total })?;
    // Fits: headers_len <= MAX_HEADERS_LEN.
    let headers_u32 = headers_len as u32;

    let start = dst.len();
    dst.reserve(total);
    dst.put_u32(total_u32);
    dst.put_u32(headers_u32);
    let prelude_crc = crc32fast::hash(&dst[start..start + 8]);
    dst.put_u32(prelude_crc);
    for h in &frame.headers {
        // Lengths checked above.
        dst.put_u8(h.name.len() as u8);
        dst.put_slice(h.name.as_bytes());
        dst.put_u8(h.value.type_byte());
        match &h.value {
            HeaderValue::Bool(_) => {}
            HeaderValue::Byte(v) => dst.put_i8(*v),
            HeaderValue::Short(v) => dst.put_i16(*v),
            HeaderValue::Int(v) => dst.put_i32(*v),
            HeaderValue::Long(v) | HeaderValue::Timestamp(v) => dst.put_i64(*v),
            HeaderValue::ByteArray(b) => {
                dst.put_u16(b.len() as u16);
                dst.put_slice(b);
            }
            HeaderValue::String(s) => {
                dst.put_u16(s.len() as u16);
                dst.put_slice(s.as_bytes());
            }
            HeaderValue::Uuid(u) => dst.put_slice(u),
        }
    }
    dst.put_slice(&frame.payload);
    let message_crc = crc32fast::hash(&dst[start..]);
    dst.put_u32(message_crc);
    Ok(())
}

/// Encodes one frame into a fresh buffer.
pub fn encode_to_bytes(frame: &Frame) -> Result<Bytes, EncodeError> {
    let mut buf = BytesMut::with_capacity(frame.encoded_len());
    encode(frame, &mut buf)?;
    Ok(buf.freeze())
}
