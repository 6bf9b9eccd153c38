//! Blocking Redis client.
//!
//! A thin shell over `redis-core`: this crate owns sockets (TCP, Unix, TLS via native-tls),
//! timeouts and the blocking versions of the shared flows; everything else (encoding,
//! decoding, the typed commands, errors, config) comes from the core, so the async client
//! behaves the same. No tokio anywhere in this crate's dependency tree.
//!
//! Rotating credentials (a [`credentials::TokenProvider`], a
//! [`credentials::RotatingCredentials`] or your own provider) make every live connection,
//! pooled ones included, re-authenticate with `AUTH` before its next request; connection
//! events reach the callbacks of [`Client::on_event`]. See `docs/credentials.md`.
//!
//! ```no_run
//! use redis_sync::{Client, Commands};
//!
//! let client = Client::open("redis://127.0.0.1:6379/")?;
//! let mut con = client.get_connection()?;
//! con.set::<_, _, ()>("greeting", "hello")?;
//! let v: String = con.get("greeting")?;
//! assert_eq!(v, "hello");
//! # Ok::<(), redis_sync::Error>(())
//! ```

mod api;
mod client;
mod connection;
mod events;
mod lock;
mod pool;
mod pubsub;
mod scan;
mod source;
mod stream;
mod transaction;

pub use api::{Commands, Query};
pub use client::Client;
pub use connection::{Connection, ConnectionLike};
pub use lock::{Lock, LockGuard};
pub use pool::{Pool, PooledConnection};
pub use pubsub::{Messages, PubSub};
pub use scan::{Scan, ScanIter};
pub use source::ConnectionSource;
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

/// Everything a typical program needs: `use redis_sync::prelude::*;`.
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
        cmd, pipe, Client, Cmd, Commands, Config, Connection, ConnectionLike, Error, FromValue,
        Pipeline, Pool, Query, Result, Scan, Script, ToArgs, Value,
    };
}
