//! Optimistic transactions: WATCH, read, MULTI/EXEC, and try again if a watched key moved.

use redis_core::{cmd, pipe, Pipeline, Result, ToArgs};

use crate::connection::ConnectionLike;

/// Runs `body` under `WATCH keys` until its atomic pipeline commits.
///
/// `body` reads what it needs through the connection, fills the (already atomic) pipeline
/// and returns `pipe.query(con)` with an `Option` reply type: `None` means EXEC was
/// aborted because a watched key changed, and the whole body runs again. Returning an
/// error stops the loop (the keys are unwatched first).
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
pub fn transaction<C, K, T, F>(con: &mut C, keys: K, mut body: F) -> Result<T>
where
    C: ConnectionLike,
    K: ToArgs,
    F: FnMut(&mut C, &mut Pipeline) -> Result<Option<T>>,
{
    let watch = cmd("WATCH").with(keys);
    loop {
        con.req(&watch)?;
        let mut p = pipe();
        p.atomic();
        match body(con, &mut p) {
            Ok(Some(done)) => return Ok(done),
            Ok(None) => continue,
            Err(e) => {
                if !e.is_connection_dropped() {
                    let _ = con.req(&cmd("UNWATCH"));
                }
                return Err(e);
            }
        }
    }
}
