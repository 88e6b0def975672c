//! The account pool: credentials, refresh, selection.

mod failure;
pub mod model;
mod pool;
mod registry;
mod sink;
mod tokens;

pub use failure::{RefreshFailure, TokenError, classify as classify_refresh_failure};
pub use model::{Account, AuthMethod, Credentials};
pub use pool::{Pool, Unavailable};
pub use registry::AccountRegistry;
pub use sink::{CredentialSink, SinkError};
pub use tokens::{TokenConfig, TokenManager};
