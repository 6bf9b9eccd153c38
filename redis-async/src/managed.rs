//! A multiplexed connection that heals itself.
//!
//! When the socket fails, the next caller (or the one that saw the failure) starts one
//! background task that reconnects with exponential backoff and full jitter and re-runs
//! the handshake; callers wait for it (within the connect limits) instead of failing.
//!
//! A request that failed with the socket is retried on the new connection only when that
//! cannot change data twice: it was never written (`Error::Broken`), or the command table
//! says it cannot change data (reads, `PING`); idempotent-looking writes (`SET`, `DEL`)
//! only with `Config::retry_idempotent_writes`. Otherwise the caller gets
//! `Error::MayHaveExecuted` with the real cause inside: an `INCR` is never applied twice,
//! and a `SET` never overwrites a value another client wrote in between.
//!
//! A request that times out is returned as `Error::Timeout`, and the socket is dropped
//! (the next caller gets a fresh one): a link that leaves a request unanswered past its
//! limit is stalled or half-open far more often than merely slow, and every other caller
//! of the socket would wait behind it. Blocking commands run on their own dedicated
//! connections (see [`Connection`]), so their waits never count against the shared socket.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use redis_core::command_table::{self, BlockTime};
use redis_core::{Cmd, Error, Pipeline, Result, Value};
use tokio::sync::{broadcast, Notify};

use crate::api::ConnectionLike;
use crate::client::{is_transient, Client};
use crate::dedicated::pipeline_block;
use crate::multiplexed::{Connection, Sinks};

/// A self-healing handle; clone it freely.
#[derive(Clone, Debug)]
pub struct ManagedConnection {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    client: Client,
    /// One push sink for every socket this handle opens.
    sinks: Sinks,
    state: Mutex<State>,
    changed: Notify,
}

#[derive(Debug)]
struct State {
    generation: u64,
    con: Option<Connection>,
    reconnecting: bool,
    failures: u64,
    last_error: Option<String>,
    /// The last reconnect failed in a way another round may fix (refused, timed out, a
    /// node still being promoted).
    last_transient: bool,
}

impl ManagedConnection {
    pub(crate) fn new(client: Client, con: Connection, sinks: Sinks) -> ManagedConnection {
        ManagedConnection {
            shared: Arc::new(Shared {
                client,
                sinks,
                state: Mutex::new(State {
                    generation: 1,
                    con: Some(con),
                    reconnecting: false,
                    failures: 0,
                    last_error: None,
                    last_transient: false,
                }),
                changed: Notify::new(),
            }),
        }
    }

    /// How many times the socket has been replaced (1 = the original).
    pub fn generation(&self) -> u64 {
        self.shared.lock().generation
    }

    /// Subscribes to the push frames of this handle's sockets, the current one and every
    /// replacement; see [`Connection::pushes`].
    pub fn pushes(&self) -> broadcast::Receiver<Value> {
        self.shared.sinks.pushes.subscribe()
    }

    /// The live connection, waiting for a reconnect when there is none.
    ///
    /// A reconnect round that fails on something another round may fix (a refused
    /// connection, a node that still answers ROLE as a replica while the sentinels promote
    /// it) starts another round, until `reconnect_budget` is spent: a failover takes a
    /// second or two, longer than one round of connect backoff.
    async fn current(&self) -> Result<(u64, Connection)> {
        let config = self.shared.client.config();
        let budget = config.reconnect_budget().max(Duration::from_secs(1));
        let deadline = tokio::time::Instant::now() + budget;
        let mut seen_failures = None;
        loop {
            let changed = self.shared.changed.notified();
            {
                let mut st = self.shared.lock();
                if let Some(c) = &st.con {
                    // A socket to a node the source no longer names (a demoted primary)
                    // is replaced like a dead one.
                    if !c.is_dead() && self.shared.client.source().is_current(c.addr()) {
                        return Ok((st.generation, c.clone()));
                    }
                    st.con = None;
                }
                match seen_failures {
                    Some(n)
                        if n != st.failures
                            && (!st.last_transient || tokio::time::Instant::now() >= deadline) =>
                    {
                        let why = st.last_error.clone().unwrap_or_default();
                        return Err(Error::Broken(format!("reconnecting failed: {why}")));
                    }
                    _ => seen_failures = Some(st.failures),
                }
                if !st.reconnecting {
                    st.reconnecting = true;
                    tokio::spawn(reconnect(self.shared.clone()));
                }
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                return Err(Error::Timeout {
                    what: "reconnect",
                    after: budget,
                });
            }
        }
    }

    fn invalidate(&self, generation: u64) {
        let mut st = self.shared.lock();
        if st.generation == generation {
            st.con = None;
        }
    }

    async fn send(&self, req: Request<'_>) -> Result<Vec<Value>> {
        let writes = self.shared.client.config().retry_idempotent_writes;
        let safe = |cmd: &Cmd| command_table::is_retry_safe(cmd, writes);
        let (retry_safe, block) = match req {
            Request::One(cmd) => (safe(cmd), command_table::block_time(cmd)),
            Request::Many(pipe) => (pipe.cmds().iter().all(safe), pipeline_block(pipe)),
        };
        let retries = self.shared.client.config().connect_backoff.max_retries;
        let mut attempt = 0;
        loop {
            let (generation, mut con) = self.current().await?;
            let result = match req {
                Request::One(cmd) => con.req(cmd).await.map(|v| vec![v]),
                Request::Many(pipe) => con.req_pipeline(pipe).await,
            };
            match result {
                Err(e @ Error::Timeout { .. }) if block == BlockTime::NotBlocking => {
                    // Stalled or half-open: the next caller gets a fresh socket.
                    self.invalidate(generation);
                    return Err(e);
                }
                Err(e @ (Error::Broken(_) | Error::MayHaveExecuted(_))) => {
                    if con.is_dead() {
                        self.invalidate(generation);
                    }
                    let never_sent = matches!(e, Error::Broken(_));
                    if (never_sent || retry_safe) && attempt < retries {
                        attempt += 1;
                        continue;
                    }
                    return Err(e);
                }
                other => return other,
            }
        }
    }
}

#[derive(Clone, Copy)]
enum Request<'a> {
    One(&'a Cmd),
    Many(&'a Pipeline),
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding this lock cannot leave the state half-written (every
        // critical section is a few plain assignments), so a poisoned lock is still valid.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

async fn reconnect(shared: Arc<Shared>) {
    let result = shared
        .client
        .retrying(|| shared.client.get_connection_once(shared.sinks.clone()))
        .await;
    {
        let mut st = shared.lock();
        st.reconnecting = false;
        match result {
            Ok(con) => {
                st.generation += 1;
                st.con = Some(con);
                st.last_error = None;
            }
            Err(e) => {
                st.failures += 1;
                st.last_error = Some(e.to_string());
                st.last_transient = is_transient(&e);
                if !st.last_transient {
                    st.last_error = Some(format!("{e} (not retried)"));
                }
            }
        }
    }
    shared.changed.notify_waiters();
}

impl ConnectionLike for ManagedConnection {
    async fn req(&mut self, cmd: &Cmd) -> Result<Value> {
        let mut v = self.send(Request::One(cmd)).await?;
        Ok(v.pop().unwrap_or(Value::Nil))
    }

    async fn req_pipeline(&mut self, pipe: &Pipeline) -> Result<Vec<Value>> {
        self.send(Request::Many(pipe)).await
    }
}
