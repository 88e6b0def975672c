//! Persistent storage.
