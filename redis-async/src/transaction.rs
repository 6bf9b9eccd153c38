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

use redis_core::transaction::{ends_watch, pipeline_ends_watch, WatchLoop, WatchStep};
use redis_core::{pipe, Cmd, Pipeline, Result, ToArgs, Value};

use crate::api::ConnectionLike;
use crate::dedicated::DedicatedConnection;

pub use redis_core::transaction::DEFAULT_MAX_ATTEMPTS;

/// A connection whose socket serves one caller at a time, so that connection state
/// (WATCH, MULTI) set by that caller is still there for its next command: a
/// [`DedicatedConnection`]. The shared multiplexed and managed
/// connections are not.
pub trait ExclusiveConnection: ConnectionLike {}

impl ExclusiveConnection for DedicatedConnection {}

/// The connection a transaction body works with: the caller's connection, watched for
/// whether the body sent EXEC (or DISCARD/UNWATCH), so that a body that did not is
/// followed by `UNWATCH` and the connection is left clean.
#[derive(Debug)]
pub struct WatchedConnection<'a, C> {
    con: &'a mut C,
    ended: bool,
}

impl<C: ConnectionLike> ConnectionLike for WatchedConnection<'_, C> {
    async fn req(&mut self, cmd: &Cmd) -> Result<Value> {
        self.ended |= ends_watch(cmd);
        self.con.req(cmd).await
    }

    async fn req_owned(&mut self, cmd: Cmd) -> Result<Value> {
        self.ended |= ends_watch(&cmd);
        self.con.req_owned(cmd).await
    }

    async fn req_pipeline(&mut self, pipe: &Pipeline) -> Result<Vec<Value>> {
        self.ended |= pipeline_ends_watch(pipe);
        self.con.req_pipeline(pipe).await
    }
}

impl<C: ExclusiveConnection> ExclusiveConnection for WatchedConnection<'_, C> {}

/// Runs `body` under `WATCH keys` until its atomic pipeline commits, at most
/// [`DEFAULT_MAX_ATTEMPTS`] times (then `Error::WatchConflicts`).
///
/// `body` reads through the connection, fills the (already atomic) pipeline and returns
/// `pipe.query(con).await` with an `Option` reply type: `None` means EXEC was aborted
/// because a watched key changed, and the body runs again. A body that returns without
/// sending the pipeline (early `Ok(Some(..))`, or an error) has its keys unwatched before
/// `transaction` returns.
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
pub async fn transaction<C, K, T, F>(con: &mut C, keys: K, body: F) -> Result<T>
where
    C: ExclusiveConnection,
    K: ToArgs,
    F: AsyncFnMut(&mut WatchedConnection<'_, C>, &mut Pipeline) -> Result<Option<T>>,
{
    transaction_with_attempts(con, keys, DEFAULT_MAX_ATTEMPTS, body).await
}

/// [`transaction`] with its own limit on how many times the body runs.
pub async fn transaction_with_attempts<C, K, T, F>(
    con: &mut C,
    keys: K,
    max_attempts: u32,
    mut body: F,
) -> Result<T>
where
    C: ExclusiveConnection,
    K: ToArgs,
    F: AsyncFnMut(&mut WatchedConnection<'_, C>, &mut Pipeline) -> Result<Option<T>>,
{
    let mut flow = WatchLoop::new(WatchLoop::<T>::watch_cmd(keys), max_attempts);
    let mut step = flow.start();
    loop {
        step = match step {
            WatchStep::Send(c) => {
                let reply = con.req(&c).await;
                flow.on_reply(reply)
            }
            WatchStep::RunBody => {
                let mut p = pipe();
                p.atomic();
                let mut watched = WatchedConnection {
                    con: &mut *con,
                    ended: false,
                };
                let outcome = body(&mut watched, &mut p).await;
                let ended = watched.ended;
                flow.on_body(outcome, ended)
            }
            WatchStep::Done(r) => return r,
        }
    }
}
