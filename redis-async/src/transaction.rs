//! Optimistic transactions: WATCH, read, MULTI/EXEC, and try again if a watched key moved.
//!
//! The loop is `redis_core::transaction::WatchLoop` (shared with the blocking client);
//! this file only does its I/O. WATCH state belongs to a socket, and on a shared socket
//! another caller's EXEC clears it (a lost update), so a transaction takes only an
//! [`ExclusiveConnection`]: a [`DedicatedConnection`], never the multiplexed
//! [`crate::Connection`] or the [`crate::ManagedConnection`]:
//!
//! ```compile_fail
//! # use redis_async::{Client, Query, transaction};
//! # async fn run() -> redis_async::Result<()> {
//! let mut shared = Client::open("redis://127.0.0.1/")?.get_connection().await?;
//! // error: `Connection` is not an `ExclusiveConnection`
//! let _: () = transaction(&mut shared, "k", async |con, pipe| pipe.query(con).await).await?;
//! # Ok(()) }
//! ```

use crate::api::ConnectionLike;
use crate::dedicated::DedicatedConnection;

pub use redis_core::transaction::DEFAULT_MAX_ATTEMPTS;

/// A connection whose socket serves one caller at a time, so that connection state
/// (WATCH, MULTI) set by that caller is still there for its next command: a
/// [`DedicatedConnection`]. The shared multiplexed and managed
/// connections are not.
pub trait ExclusiveConnection: ConnectionLike {}

impl ExclusiveConnection for DedicatedConnection {}

redis_core::transaction_template!(maybe_async::must_be_async(AFIT); AsyncFnMut;
    /// Runs `body` under `WATCH keys` until its atomic pipeline commits, at most
    /// [`DEFAULT_MAX_ATTEMPTS`] times (then `Error::WatchConflicts`).
    ///
    /// `body` reads through the connection, fills the (already atomic) pipeline and
    /// returns `pipe.query(con).await` with an `Option` reply type: `None` means EXEC was
    /// aborted because a watched key changed, and the body runs again. A body that returns
    /// without sending the pipeline (early `Ok(Some(..))`, or an error) has its keys
    /// unwatched before `transaction` returns.
    ///
    /// ```no_run
    /// # use redis_async::{Client, Commands, Query, transaction, commands};
    /// # async fn run() -> redis_async::Result<()> {
    /// # let mut con = Client::open("redis://127.0.0.1/")?.get_dedicated_connection().await?;
    /// let new: (i64,) = transaction(&mut con, "counter", async |con, pipe| {
    ///     let old: i64 = con.get::<_, Option<i64>>("counter").await?.unwrap_or(0);
    ///     pipe.add(commands::set("counter", old + 1)).ignore()
    ///         .add(commands::get("counter"));
    ///     pipe.query(con).await
    /// }).await?;
    /// # Ok(()) }
    /// ```
);
