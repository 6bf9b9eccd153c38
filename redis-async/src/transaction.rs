//! Optimistic transactions: WATCH, read, MULTI/EXEC, and try again if a watched key moved.
//! WATCH state belongs to a socket, so run this on a [`crate::DedicatedConnection`].

use redis_core::{cmd, pipe, Pipeline, Result, ToArgs};

use crate::api::ConnectionLike;

/// Runs `body` under `WATCH keys` until its atomic pipeline commits.
///
/// `body` reads through the connection, fills the (already atomic) pipeline and returns
/// `pipe.query(con).await` with an `Option` reply type: `None` means EXEC was aborted
/// because a watched key changed, and the body runs again.
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
pub async fn transaction<C, K, T, F>(con: &mut C, keys: K, mut body: F) -> Result<T>
where
    C: ConnectionLike,
    K: ToArgs,
    F: AsyncFnMut(&mut C, &mut Pipeline) -> Result<Option<T>>,
{
    let watch = cmd("WATCH").with(keys);
    loop {
        con.req(&watch).await?;
        let mut p = pipe();
        p.atomic();
        match body(con, &mut p).await {
            Ok(Some(done)) => return Ok(done),
            Ok(None) => continue,
            Err(e) => {
                if !e.is_connection_dropped() {
                    let _ = con.req(&cmd("UNWATCH")).await;
                }
                return Err(e);
            }
        }
    }
}
