//! Serde types of the upstream JSON bodies (spec §3, §4, §8.2).
//!
//! One module per body family, all re-exported here:
//! - [`request`]: the `generateAssistantResponse` body (§4).
//! - [`auth`]: social refresh, OIDC register / device authorization / token, OIDC errors
//!   (§3.1–3.4).
//! - [`token_cache`]: the Kiro IDE token-cache files (§2.1).
//! - [`usage`]: `getUsageLimits` and the quota arithmetic (§3.6).
//! - [`models`]: `ListAvailableModels` (§3.7).
//! - [`profiles`]: `ListAvailableProfiles`, profile choice, profile ARNs (§2.3, §3.8).
//! - [`mcp`]: JSON-RPC `tools/list` / `tools/call` and web search results (§3.9).
//! - [`error_body`]: the JSON error body (§8.2).
//!
//! Every type ignores unknown fields (the service adds fields without notice) and skips `None`
//! when serialising. Response types are lenient about numbers and `null` lists; request types
//! keep the fields the spec requires mandatory so that a validator can reject their absence.

pub mod auth;
pub mod error_body;
mod lenient;
pub mod mcp;
pub mod models;
pub mod profiles;
pub mod request;
mod secret;
pub mod token_cache;
pub mod usage;

pub use auth::*;
pub use error_body::*;
pub use mcp::*;
pub use models::*;
pub use profiles::*;
pub use request::*;
pub use secret::Secret;
pub use token_cache::*;
pub use usage::*;
