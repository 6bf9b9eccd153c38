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
//! - [`Client::events`]: the life events of the connections a client opens (connected,
//!   disconnected, unresponsive, re-authenticated, ...), for topology managers, health
//!   checks and logs.
//! - Rotating credentials (a [`credentials::TokenProvider`], a
//!   [`credentials::RotatingCredentials`] or your own provider): every live connection
//!   re-authenticates with `AUTH` at its next safe point; see `docs/credentials.md`.
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
mod events;
mod lock;
mod managed;
mod multiplexed;
mod pubsub;
mod scan;
mod source;
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
pub use source::{ConnectionSource, TargetFuture};
pub use transaction::{
    transaction, transaction_with_attempts, ExclusiveConnection, WatchedConnection,
    DEFAULT_MAX_ATTEMPTS,
};

pub use redis_core::abort::AbortHandle;
pub use redis_core::commands;
/// Credentials providers: static, [`credentials::RotatingCredentials`] set by the
/// application, [`credentials::TokenProvider`] for short-lived tokens, and the
/// [`credentials::Rotation`] watch that makes live connections re-authenticate.
pub use redis_core::credentials;
pub use redis_core::{
    cmd, pipe, Addr, Backoff, Cmd, Config, ConnectionEvent, Error, FromValue, LockErrorKind, Msg,
    MsgKind, Pipeline, Protocol, Result, Role, Script, ScriptInvocation, ServerError,
    ServerErrorKind, Target, ToArgs, Value,
};

/// A serde value stored as JSON text: `con.set("k", Json(&v))`, `let Json(v): Json<T> =
/// con.get("k")`. Needs the `json` feature.
#[cfg(feature = "json")]
pub use redis_core::Json;

/// Everything a typical program needs: `use redis_async::prelude::*;`.
///
/// The client and connection types, the [`Commands`] and [`Query`] traits (so typed
/// methods and `cmd(..).query(..)` work), [`Value`], [`Error`] and [`Result`] (whose error
/// type defaults to [`Error`], so `Result<T, OtherError>` still works), the conversion
/// traits, and the option types of the typed commands (`SetOptions`, `Expiry`,
/// `ScanOptions`, `ZAddOptions`, ...). BITFIELD's `Overflow` is left out (it would clash
/// with the pub/sub `Overflow` of redis-async): import it from [`commands`].
pub mod prelude {
    pub use crate::commands::{
        Aggregate, BitFieldOps, BitOp, ClientTrackingOptions, Comparison, Counted, Direction,
        Existence, ExpireOption, Expiry, FlushMode, FunctionRestorePolicy, GeoAddOptions, GeoBy,
        GeoFrom, GeoOptions, GeoSearch, GeoUnit, LposOptions, MigrateOptions, MinMax,
        RestoreOptions, ScanOptions, SetOptions, SortOptions, SortOrder, StreamReadOptions,
        StreamTrim, XAddOptions, XAutoClaimOptions, XClaimOptions, XGroupCreateOptions,
        XPendingOptions, ZAddOptions, ZAggregateOptions, ZRangeOptions,
    };
    #[cfg(feature = "json")]
    pub use crate::Json;
    pub use crate::{
        cmd, pipe, Client, Cmd, Commands, Config, Connection, ConnectionLike, DedicatedConnection,
        Error, FromValue, ManagedConnection, Pipeline, Query, Result, Scan, Script, ToArgs, Value,
    };
}
