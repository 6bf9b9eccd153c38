//! Optimistic transactions: WATCH, read, MULTI/EXEC, and try again if a watched key moved.
//!
//! The loop is `redis_core::transaction::WatchLoop` (shared with the async client); this
//! file only does its I/O. WATCH state belongs to a socket, so a transaction needs a
//! connection no one else writes to while it runs: [`ExclusiveConnection`].

use crate::connection::{Connection, ConnectionLike};
use crate::pool::PooledConnection;

pub use redis_core::transaction::DEFAULT_MAX_ATTEMPTS;

/// A connection whose socket serves one caller at a time, so that connection state
/// (WATCH, MULTI) set by that caller is still there for its next command. Every blocking
/// connection is one: [`Connection`], a [`PooledConnection`], and `&mut` to either.
pub trait ExclusiveConnection: ConnectionLike {}

impl ExclusiveConnection for Connection {}
impl ExclusiveConnection for PooledConnection {}
impl<C: ExclusiveConnection + ?Sized> ExclusiveConnection for &mut C {}

redis_core::transaction_template!(maybe_async::must_be_sync; FnMut;
    /// Runs `body` under `WATCH keys` until its atomic pipeline commits, at most
    /// [`DEFAULT_MAX_ATTEMPTS`] times (then `Error::WatchConflicts`).
    ///
    /// `body` reads what it needs through the connection, fills the (already atomic)
    /// pipeline and returns `pipe.query(con)` with an `Option` reply type: `None` means
    /// EXEC was aborted because a watched key changed, and the whole body runs again. A
    /// body that returns without sending the pipeline (early `Ok(Some(..))`, or an error)
    /// has its keys unwatched before `transaction` returns.
    ///
    /// ```no_run
    /// # use redis_sync::{Client, Commands, Query, transaction, commands};
    /// # let mut con = Client::open("redis://127.0.0.1/")?.get_connection()?;
    /// let new: (i64,) = transaction(&mut con, "counter", |con, pipe| {
    ///     let old: i64 = con.get::<_, Option<i64>>("counter")?.unwrap_or(0);
    ///     pipe.add(commands::set("counter", old + 1)).ignore()
    ///         .add(commands::get("counter"));
    ///     pipe.query(con)
    /// })?;
    /// # Ok::<(), redis_sync::Error>(())
    /// ```
);
