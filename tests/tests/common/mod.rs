//! Code shared by the integration test binaries.
//!
//! `groups.rs` holds the per-command-group test bodies, written once in async syntax and
//! expanded by `sync_groups.rs` (with `maybe_async::must_be_sync`) and `async_groups.rs`
//! (with `maybe_async::must_be_async`), the same template trick the clients use.

#[macro_use]
mod groups;
