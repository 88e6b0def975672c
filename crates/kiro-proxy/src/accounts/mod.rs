//! The account pool: credentials, refresh, selection; and getting accounts in (device login,
//! import, restore).

pub mod attempts;
pub mod backup;
pub mod checks;
mod circuit;
pub mod device_login;
pub mod failover;
mod failure;
mod health;
pub mod import_formats;
pub mod intake;
mod json_fields;
mod keepalive;
mod lease;
pub mod model;
mod pool;
mod quota;
mod quota_schedule;
pub mod reaction;
mod registry;
mod select;
mod sink;
mod stats;
mod status_sync;
mod sticky;
mod tokens;
mod tuning;
mod view;

pub use circuit::{Admission, CircuitConfig, CircuitState};
pub use failure::{RefreshFailure, TokenError, classify as classify_refresh_failure};
pub use keepalive::{Maintenance, PassReport};
pub use lease::{Lease, Pick};
pub use model::{Account, AuthMethod, Credentials};
pub use pool::{Pool, Unavailable, Want};
pub use quota::Quota;
pub use registry::AccountRegistry;
pub use sink::{CredentialSink, SinkError};
pub use stats::AccountStats;
pub use status_sync::{STATUS_ACTIVE, STATUS_NEEDS_LOGIN, StatusChange};
pub use tokens::{TokenConfig, TokenManager};
pub use view::{CircuitView, ConcurrencyView, PoolAccountView, QuotaView, Until};
