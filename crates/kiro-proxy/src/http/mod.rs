//! The client-facing HTTP surface.
