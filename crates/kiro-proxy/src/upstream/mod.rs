//! HTTP client for the Kiro upstream (chat, refresh, usage, models, profiles).
