//! Async (tokio) Redis client with the same API as `redis-sync`.
//!
//! - [`Connection`]: multiplexed, cheap to clone, shared by many tasks; one driver task
//!   owns the socket, coalesces waiting requests into one write and matches replies in
//!   order. Dropping a request's future only loses that request's reply. It refuses
//!   commands that change connection state (WATCH/MULTI/EXEC, SELECT, HELLO, AUTH, RESET,
//!   CLIENT TRACKING/REPLY, SUBSCRIBE, MONITOR), runs blocking commands (BLPOP, XREAD
//!   BLOCK, WAIT) on dedicated connections it keeps for them, hands push frames to
//!   [`Connection::pushes`], and drops a link whose oldest request is overdue.
//! - [`ManagedConnection`]: a `Connection` that reconnects in the background (also after
//!   a timeout) and retries a failed request only when it was never written or cannot
//!   change data (reads); idempotent writes only with `Config::retry_idempotent_writes`.
//! - [`DedicatedConnection`]: one caller at a time, for WATCH transactions, SELECT and
//!   other connection state.
//! - [`Client::events`]: connected / disconnected / unresponsive events of the
//!   connections a client opens, for topology managers and health checks.
//! - [`PubSub`]: subscriptions as a `Stream`, with a bounded buffer and explicit overflow.
//!
//! Commands, conversions, errors and configuration come from `redis-core`, and the typed
//! [`Commands`] trait is the same template redis-sync expands.
//!
//! ```no_run
//! use redis_async::{Client, Commands};
//!
//! # async fn run() -> redis_async::Result<()> {
//! let client = Client::open("redis://127.0.0.1:6379/")?;
//! let mut con = client.get_connection().await?;
//! con.set::<_, _, ()>("greeting", "hello").await?;
//! let v: String = con.get("greeting").await?;
//! # Ok(()) }
//! ```

mod api;
mod client;
mod dedicated;
mod lock;
mod managed;
mod multiplexed;
mod pubsub;
mod scan;
mod stream;
mod transaction;

pub use api::{Commands, ConnectionLike, Query};
pub use client::Client;
pub use dedicated::DedicatedConnection;
pub use lock::{Lock, LockGuard};
pub use managed::ManagedConnection;
pub use multiplexed::Connection;
pub use pubsub::{Overflow, PubSub, PubSubOptions};
pub use scan::{Scan, ScanStream};
pub use transaction::transaction;

pub use redis_core::commands;
pub use redis_core::{
    cmd, pipe, Addr, Backoff, Cmd, Config, ConnectionEvent, Error, FromValue, LockErrorKind, Msg,
    MsgKind, Pipeline, Protocol, Result, Script, ScriptInvocation, ServerError, ServerErrorKind,
    ToArgs, Value,
};

/// Everything a typical program needs: `use redis_async::prelude::*;`.
pub mod prelude {
    pub use crate::{cmd, pipe, Client, Commands, Connection, ConnectionLike, Query, Scan, Script};
}
