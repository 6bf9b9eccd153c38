//! The tokio Sentinel client (feature `async`).
