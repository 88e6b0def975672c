//! The account pool: credentials, refresh, selection.

pub mod model;

pub use model::{Account, AuthMethod, Credentials};
