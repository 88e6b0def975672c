//! HTTP client for the Kiro upstream (chat, refresh, device login, usage, models, profiles,
//! MCP): URLs (§1.2), the §9 header sets per account fingerprint, timeouts and stream sniffing
//! (§3.5, §7.5), and raw error facts for the fault classifier.

mod chat;
mod client;
mod credential;
mod endpoints;
mod error;
mod headers;
mod oidc;
mod runtime;
mod social;

pub use chat::ChatStream;
pub use client::{UpstreamClient, UpstreamConfig};
pub use credential::{AccountAuth, InvalidCredential};
pub use endpoints::{
    DEFAULT_CODEWHISPERER, DEFAULT_OIDC, DEFAULT_Q, DEFAULT_SOCIAL_AUTH, UpstreamUrls,
};
pub use error::{TransportKind, UpstreamError};
pub use headers::{AccountHeaders, Fingerprint, FingerprintDefaults, InvalidFingerprint};
pub use social::RefreshedTokens;
