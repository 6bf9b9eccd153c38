//! Blocking Redis client.
//!
//! A thin shell over `redis-core`: this crate owns sockets (TCP, Unix, TLS via native-tls),
//! timeouts and the blocking versions of the shared flows; everything else (encoding,
//! decoding, the typed commands, errors, config) comes from the core, so the async client
//! behaves the same. No tokio anywhere in this crate's dependency tree.
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
mod lock;
mod pool;
mod pubsub;
mod scan;
mod stream;
mod transaction;

pub use api::{Commands, Query};
pub use client::Client;
pub use connection::{Connection, ConnectionLike};
pub use lock::{Lock, LockGuard};
pub use pool::{Pool, PooledConnection};
pub use pubsub::{Messages, PubSub};
pub use scan::{Scan, ScanIter};
pub use transaction::{
    transaction, transaction_with_attempts, ExclusiveConnection, WatchedConnection,
    DEFAULT_MAX_ATTEMPTS,
};

pub use redis_core::commands;
pub use redis_core::{
    cmd, pipe, Addr, Backoff, Cmd, Config, Error, FromValue, LockErrorKind, Msg, MsgKind, Pipeline,
    Protocol, Result, Script, ScriptInvocation, ServerError, ServerErrorKind, ToArgs, Value,
};

/// Everything a typical program needs: `use redis_sync::prelude::*;`.
pub mod prelude {
    pub use crate::{cmd, pipe, Client, Commands, Connection, ConnectionLike, Query, Scan, Script};
}
