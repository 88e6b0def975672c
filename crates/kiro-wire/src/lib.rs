//! The Kiro upstream wire format, as pure code with no I/O.
//!
//! - [`frame`] and [`decode`]: the AWS EventStream binary framing of `generateAssistantResponse`
//!   replies: an incremental, bounded decoder and an encoder.
//! - [`event`]: the typed events carried in those frames.
//! - [`num`]: lenient number and date parsing for upstream JSON.
//! - [`types`]: serde types of the request body and of the auth, usage, models, profiles and MCP
//!   responses.

pub mod decode;
pub mod event;
pub mod frame;
pub mod num;
pub mod types;

pub use decode::{DecodeError, FrameDecoder, decode_all};
pub use event::{Event, EventError};
pub use frame::{EncodeError, Frame, Header, HeaderValue, encode, encode_to_bytes};
