//! Optimistic transactions: WATCH, read, MULTI/EXEC, and try again if a watched key moved.
//!
//! The loop is `redis_core::transaction::WatchLoop` (shared with the async client); this
//! file only does its I/O. WATCH state belongs to a socket, so a transaction needs a
//! connection no one else writes to while it runs: [`ExclusiveConnection`].

use redis_core::transaction::{ends_watch, pipeline_ends_watch, WatchLoop, WatchStep};
use redis_core::{pipe, Cmd, Pipeline, Result, ToArgs, Value};

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

/// The connection a transaction body works with: the caller's connection, watched for
/// whether the body sent EXEC (or DISCARD/UNWATCH), so that a body that did not is
/// followed by `UNWATCH` and the connection goes back clean.
#[derive(Debug)]
pub struct WatchedConnection<'a, C: ?Sized> {
    con: &'a mut C,
    ended: bool,
}

impl<C: ConnectionLike + ?Sized> ConnectionLike for WatchedConnection<'_, C> {
    fn req(&mut self, cmd: &Cmd) -> Result<Value> {
        self.ended |= ends_watch(cmd);
        self.con.req(cmd)
    }

    fn req_owned(&mut self, cmd: Cmd) -> Result<Value> {
        self.ended |= ends_watch(&cmd);
        self.con.req_owned(cmd)
    }

    fn req_pipeline(&mut self, pipe: &Pipeline) -> Result<Vec<Value>> {
        self.ended |= pipeline_ends_watch(pipe);
        self.con.req_pipeline(pipe)
    }
}

impl<C: ExclusiveConnection + ?Sized> ExclusiveConnection for WatchedConnection<'_, C> {}

/// Runs `body` under `WATCH keys` until its atomic pipeline commits, at most
/// [`DEFAULT_MAX_ATTEMPTS`] times (then `Error::WatchConflicts`).
///
/// `body` reads what it needs through the connection, fills the (already atomic) pipeline
/// and returns `pipe.query(con)` with an `Option` reply type: `None` means EXEC was
/// aborted because a watched key changed, and the whole body runs again. A body that
/// returns without sending the pipeline (early `Ok(Some(..))`, or an error) has its keys
/// unwatched before `transaction` returns.
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
pub fn transaction<C, K, T, F>(con: &mut C, keys: K, body: F) -> Result<T>
where
    C: ExclusiveConnection + ?Sized,
    K: ToArgs,
    F: FnMut(&mut WatchedConnection<'_, C>, &mut Pipeline) -> Result<Option<T>>,
{
    transaction_with_attempts(con, keys, DEFAULT_MAX_ATTEMPTS, body)
}

/// [`transaction`] with its own limit on how many times the body runs.
pub fn transaction_with_attempts<C, K, T, F>(
    con: &mut C,
    keys: K,
    max_attempts: u32,
    mut body: F,
) -> Result<T>
where
    C: ExclusiveConnection + ?Sized,
    K: ToArgs,
    F: FnMut(&mut WatchedConnection<'_, C>, &mut Pipeline) -> Result<Option<T>>,
{
    let mut flow = WatchLoop::new(WatchLoop::<T>::watch_cmd(keys), max_attempts);
    let mut step = flow.start();
    loop {
        step = match step {
            WatchStep::Send(c) => {
                let reply = con.req(&c);
                flow.on_reply(reply)
            }
            WatchStep::RunBody => {
                let mut p = pipe();
                p.atomic();
                let mut watched = WatchedConnection {
                    con: &mut *con,
                    ended: false,
                };
                let outcome = body(&mut watched, &mut p);
                let ended = watched.ended;
                flow.on_body(outcome, ended)
            }
            WatchStep::Done(r) => return r,
        }
    }
}
