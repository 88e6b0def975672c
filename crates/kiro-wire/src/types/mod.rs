//! Serde types of the upstream JSON bodies (spec §3, §4).
