//! The multiplexed connection: one socket shared by any number of tasks.
//!
//! One driver task owns the socket. Callers hand it requests through a bounded queue
//! (which pushes back when full) and wait on a oneshot for their replies. The driver
//! writes every request it finds waiting in one batch (auto-pipelining) and matches
//! replies to requests in order, waking at most `WAKE_BUDGET` callers before it lets
//! them run, so that many callers' next requests reach the server while the rest of their
//! replies are still being handed out.
//!
//! The driver is one poll loop over four sources: write progress, reads, new requests and
//! a watchdog timer. It reads while a write is blocked, so a pipeline larger than both
//! socket buffers cannot deadlock against a server that is waiting for its replies to be
//! read. New requests are staged only once the previous batch is written; until then they
//! wait in the queue, whose room (a semaphore of `queue` permits, one per request not yet
//! staged) pushes back on callers.
//!
//! Each request's response timeout is enforced by the driver, not by a timer per request:
//! a request carries its deadline, and the driver's one watchdog answers every request
//! still waiting for a reply (or still queued) at its deadline with `Error::Timeout`
//! (`what: "response"`). An answered request that was written stays in the in-flight
//! queue with no one to hand its reply to, so its late reply is read in turn and thrown
//! away, exactly as for a caller that dropped its future. Only a caller that finds the
//! queue full arms a timer of its own while it waits for room.
//!
//! Cancellation safety comes from that shape: a caller that drops its future (timeout,
//! `select!`, abort) only drops its oneshot receiver. If the request was not written yet,
//! the driver sees the closed oneshot and never sends it; if it was written, the driver
//! still reads its reply in turn and throws it away. No reply can reach another caller,
//! because replies are only ever matched to the slot at the front of the in-flight queue.
//! A push frame (`>`: client tracking, sharded pub/sub) is never a reply, whatever the
//! protocol: it goes to the push sink ([`Connection::pushes`]).
//!
//! A stalled link is not kept: when the oldest request in flight has waited past its own
//! limit (the response timeout, plus the block time of a blocking command) and an eighth
//! more, or a write made no progress for `write_timeout`, the driver fails the link. The
//! watchdog is one timer per connection, checked when it fires, never one per request.
//!
//! When the socket fails, every request of which at least one byte was handed to the
//! socket gets `Error::MayHaveExecuted` with the real cause inside, every other one gets
//! `Error::Broken` (never sent, safe to retry), and the handle is dead;
//! [`crate::ManagedConnection`] replaces it.
//!
//! When the credentials rotate (a provider with a `Rotation`), the driver wakes on it and
//! stages `AUTH` with the new credentials between two batches: after every request
//! already staged, before the next ones, never inside a request (an atomic pipeline is
//! one request). Its reply goes to no caller but becomes a `Reauthenticated` or
//! `ReauthFailed` event. Until a rotation comes, watching it costs the driver one atomic
//! load per wake-up.
//!
//! A shared socket must keep the same state for every caller, so commands that change it
//! (WATCH/MULTI/EXEC, SELECT, HELLO, AUTH, RESET, CLIENT TRACKING/REPLY, SUBSCRIBE, MONITOR,
//! QUIT)
//! are refused, and blocking commands (BLPOP, XREAD BLOCK, WAIT, ...) run on a dedicated
//! connection the handle keeps for them, so they never stall the other callers.

use std::collections::VecDeque;
use std::future::{poll_fn, Future};
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use redis_core::abort::{AbortGuard, AbortHandle};
use redis_core::command_table::{self, BlockTime};
use redis_core::credentials::{AuthWatch, Changed};
use redis_core::resp::Decoder;
use redis_core::{Addr, Cmd, ConnectionEvent, Error, Pipeline, Protocol, Result, Target, Value};
use tokio::io::{AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{broadcast, mpsc, oneshot, Semaphore, TryAcquireError};
use tokio::time::{Instant, Sleep};

use crate::api::ConnectionLike;
use crate::dedicated::{timeout_for, DedicatedConnection};
use crate::events::Hooks;
use crate::source::{report_if_replaced, ConnectionSource};
use crate::stream::Stream;

/// Requests bigger than this are written from their own buffer instead of being copied
/// into the batch buffer.
const BIG_REQUEST: usize = 64 * 1024;

/// Bytes of small requests gathered into one batch.
const BATCH_BYTES: usize = 1 << 20;

/// Idle dedicated connections a handle keeps for blocking commands.
const IDLE_BLOCKING: usize = 4;

/// Push frames buffered for a slow push subscriber before it lags (and is told how many
/// it lost).
pub(crate) const PUSH_CAPACITY: usize = 1024;

type Reply = Result<Replies>;

/// The replies of one request: a single command's reply travels without a `Vec`.
enum Replies {
    One(Value),
    Many(Vec<Value>),
}

impl Replies {
    fn into_vec(self) -> Vec<Value> {
        match self {
            Replies::One(v) => vec![v],
            Replies::Many(v) => v,
        }
    }
}

/// A request's bytes, as the caller hands them over: moved, never converted, so that a
/// small one costs no allocation beyond its own buffer on its way into the batch.
enum Payload {
    /// An owned command (its buffer, `*argc` header room included).
    Cmd(Cmd),
    /// An encoded pipeline.
    Vec(Vec<u8>),
    /// Shared bytes (a borrowed command: copied if small, shared if large).
    Shared(Bytes),
}

impl Payload {
    fn as_slice(&self) -> &[u8] {
        match self {
            Payload::Cmd(c) => c.packed(),
            Payload::Vec(v) => v,
            Payload::Shared(b) => b,
        }
    }

    fn into_bytes(self) -> Bytes {
        match self {
            Payload::Cmd(c) => c.into_packed(),
            Payload::Vec(v) => Bytes::from(v),
            Payload::Shared(b) => b,
        }
    }
}

struct Request {
    bytes: Payload,
    replies: usize,
    /// How long the server may take to answer (`None`: no limit).
    limit: Option<Duration>,
    /// When the caller gets `Timeout` if no reply came: `limit` after the call.
    deadline: Option<Instant>,
    tx: oneshot::Sender<Reply>,
}

impl Request {
    /// The caller's answer when its deadline passed before its reply came.
    fn timeout(&self) -> Error {
        Error::Timeout {
            what: "response",
            after: self.limit.unwrap_or_default(),
        }
    }
}

struct InFlight {
    /// Where its bytes start in the connection's output stream (bytes staged before it).
    offset: u64,
    left: usize,
    values: Vec<Value>,
    /// When the caller gets `Timeout` if no reply came (the driver's watchdog answers it),
    /// with the limit it was given; `None`: no limit, or already answered.
    deadline: Option<(Instant, Duration)>,
    /// When the link counts as stalled if this is still the oldest request unanswered.
    stall: Option<Instant>,
    /// When it was staged (the probe measures the wait from here).
    since: Instant,
    tx: Slot,
}

/// Who gets a reply: a caller, or the driver itself (a re-authentication `AUTH`), or
/// no one (the caller was already answered with a timeout: the reply is thrown away).
enum Slot {
    Caller(oneshot::Sender<Reply>),
    Auth,
    Gone,
}

impl Slot {
    fn send(self, reply: Reply, hooks: &Hooks, addr: &Addr) {
        match self {
            // The caller may be gone (cancelled): its reply is dropped here.
            Slot::Caller(tx) => {
                let _ = tx.send(reply);
            }
            Slot::Auth => {
                if let Ok(Replies::One(v)) = &reply {
                    hooks.auth_replied(addr, v);
                }
            }
            Slot::Gone => {}
        }
    }
}

/// Where a connection's push frames go, its buffer made at the first subscription: a
/// broadcast channel allocates every slot at once (64 KiB for [`PUSH_CAPACITY`] pushes),
/// and most connections never have a subscriber (a cluster client holds one per node).
/// Shared by a reconnecting connection's successive links.
#[derive(Clone, Debug, Default)]
pub(crate) struct PushSink(Arc<std::sync::OnceLock<broadcast::Sender<Value>>>);

impl PushSink {
    /// A receiver of the pushes that arrive from now on.
    pub(crate) fn subscribe(&self) -> broadcast::Receiver<Value> {
        self.0
            .get_or_init(|| broadcast::channel(PUSH_CAPACITY).0)
            .subscribe()
    }

    /// Hands `v` to the subscribers; false when there are none.
    fn send(&self, v: Value) -> bool {
        self.0.get().is_some_and(|tx| tx.send(v).is_ok())
    }
}

/// Where a connection reports what is not a reply: push frames and its own life events.
#[derive(Clone, Debug)]
pub(crate) struct Sinks {
    pub(crate) pushes: PushSink,
    pub(crate) hooks: Hooks,
    /// Told of requests that wait past each probe interval, and of `READONLY` replies.
    pub(crate) probe: Probe,
}

/// Where the driver reports what says its node may have been replaced: a request that
/// waits long (`ConnectionSource::slow`) or a `READONLY` reply (`ConnectionSource::failed`).
#[derive(Clone, Debug)]
pub(crate) struct Probe {
    /// `None`: waits are not reported.
    interval: Option<Duration>,
    source: Arc<dyn ConnectionSource>,
}

impl Sinks {
    /// A new push sink; `hooks` is the client's event channel, `source` its connection
    /// source (probed every `probe_interval`).
    pub(crate) fn new(
        hooks: Hooks,
        probe_interval: Option<Duration>,
        source: Arc<dyn ConnectionSource>,
    ) -> Sinks {
        Sinks {
            pushes: PushSink::default(),
            hooks,
            probe: Probe {
                interval: probe_interval,
                source,
            },
        }
    }
}

/// What the handles and the driver share.
struct Shared {
    dead: AtomicBool,
    /// Room in the request queue: one permit per request sent to the driver and not yet
    /// staged (or answered); closed when the driver ends.
    room: Semaphore,
    /// Where blocking commands' dedicated connections go: the same node, same checks.
    target: Target,
    pushes: PushSink,
    /// Push frames that arrived while nobody subscribed to them.
    unclaimed_pushes: AtomicU64,
    /// Idle dedicated connections for blocking commands.
    blocking: Mutex<Vec<DedicatedConnection>>,
    /// Where the blocking commands' connections report their events.
    hooks: Hooks,
    /// Told of every blocking command's connection (`ConnectionSource::opened`), so a
    /// source that leaves this node (a failover) ends a `BLPOP` waiting on it too.
    source: Arc<dyn ConnectionSource>,
}

/// A cheap-to-clone handle to a shared connection (`Send + Sync`).
#[derive(Clone)]
pub struct Connection {
    tx: mpsc::UnboundedSender<Request>,
    shared: Arc<Shared>,
    abort: AbortHandle,
    response_timeout: Duration,
    protocol: Protocol,
    addr: Arc<Addr>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("protocol", &self.protocol)
            .field("dead", &self.is_dead())
            .finish()
    }
}

impl Connection {
    /// Opens a connection (handshake included) and starts its driver task on the current
    /// tokio runtime. `queue` bounds the requests waiting to be written.
    pub(crate) async fn open(target: &Target, queue: usize, sinks: Sinks) -> Result<Connection> {
        let mut con = DedicatedConnection::open(target, sinks.hooks.clone()).await?;
        let config = &target.config;
        let (tx, rx) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            dead: AtomicBool::new(false),
            room: Semaphore::new(queue.clamp(1, Semaphore::MAX_PERMITS)),
            target: target.clone(),
            pushes: sinks.pushes,
            unclaimed_pushes: AtomicU64::new(0),
            blocking: Mutex::new(Vec::new()),
            hooks: sinks.hooks.clone(),
            source: sinks.probe.source.clone(),
        });
        let abort = con.abort_handle.clone();
        let first_check = match sinks.probe.interval {
            Some(interval) => config.response_timeout.min(interval / 2),
            None => config.response_timeout,
        };
        let auth = con.auth.take().map(|a| {
            let changed = a.rotation().changed(a.seen_version());
            (a, changed)
        });
        let driver = Driver {
            auth,
            abort: con.abort,
            probe: sinks.probe,
            io: con.io,
            rbuf: con.rbuf,
            decoder: con.decoder,
            inflight: VecDeque::new(),
            undispatched: false,
            waiting: VecDeque::new(),
            earliest: None,
            taken: 0,
            wbuf: Vec::with_capacity(16 * 1024),
            wpos: 0,
            big: VecDeque::new(),
            big_pos: 0,
            flush: false,
            write_blocked: None,
            staged: 0,
            written: 0,
            watchdog: Box::pin(tokio::time::sleep(first_check)),
            addr: config.addr.clone(),
            response_timeout: config.response_timeout,
            write_timeout: config.write_timeout,
            hooks: sinks.hooks,
            shared: shared.clone(),
        };
        driver.hooks.emit(ConnectionEvent::Connected {
            addr: config.addr.clone(),
        });
        tokio::spawn(driver.run(rx));
        Ok(Connection {
            tx,
            shared,
            abort,
            response_timeout: config.response_timeout,
            protocol: con.protocol,
            addr: Arc::new(con.addr),
        })
    }

    /// True once the socket has failed or closed; every request will fail.
    pub fn is_dead(&self) -> bool {
        self.shared.dead.load(Ordering::Acquire)
    }

    /// The protocol the handshake settled on.
    pub fn protocol(&self) -> Protocol {
        self.protocol
    }

    /// The address this connection is connected to.
    pub fn addr(&self) -> &Addr {
        &self.addr
    }

    /// A handle that ends this connection (every clone of it) from any task or thread;
    /// see [`AbortHandle`](redis_core::abort::AbortHandle).
    pub fn abort_handle(&self) -> AbortHandle {
        self.abort.clone()
    }

    /// Changes this handle's default limit on waiting for a reply.
    pub fn set_response_timeout(&mut self, t: Duration) {
        self.response_timeout = t;
    }

    /// Subscribes to the push frames (`>`, RESP3) this connection receives: client-side
    /// caching invalidations, sharded pub/sub messages on a shared link. A push is never a
    /// reply to a request. Only pushes that arrive after this call are seen; the buffer
    /// holds 1024 pushes, and a subscriber that falls further behind gets
    /// `RecvError::Lagged(n)` with the number it lost, never a silent gap.
    pub fn pushes(&self) -> broadcast::Receiver<Value> {
        self.shared.pushes.subscribe()
    }

    /// How many push frames arrived while nobody was subscribed to them (dropped).
    pub fn unclaimed_pushes(&self) -> u64 {
        self.shared.unclaimed_pushes.load(Ordering::Relaxed)
    }

    /// Hands a request to the driver and waits for its replies. The driver answers it by
    /// its deadline (`Timeout`) if the server does not; no timer is armed here unless the
    /// queue is full.
    async fn send(&self, bytes: Payload, replies: usize, block: BlockTime) -> Reply {
        let limit = timeout_for(self.response_timeout, block);
        // A limit too far away to be a point in time is no limit.
        let deadline = limit.and_then(|l| Instant::now().checked_add(l));
        match self.shared.room.try_acquire() {
            Ok(permit) => permit.forget(),
            Err(TryAcquireError::Closed) => return Err(not_sent()),
            // Boxed: rare, and inline it would grow every request's future.
            Err(TryAcquireError::NoPermits) => {
                Box::pin(self.wait_for_room(limit, deadline)).await?
            }
        }
        let (tx, rx) = oneshot::channel();
        let request = Request {
            bytes,
            replies,
            limit,
            deadline,
            tx,
        };
        self.tx.send(request).map_err(|_| not_sent())?;
        rx.await.unwrap_or_else(|_| Err(not_sent()))
    }

    /// The queue is full: waits for room, within the limit (the one case with a timer of
    /// its own), and takes it.
    async fn wait_for_room(
        &self,
        limit: Option<Duration>,
        deadline: Option<Instant>,
    ) -> Result<()> {
        let room = &self.shared.room;
        let permit = match deadline {
            Some(d) => match tokio::time::timeout_at(d, room.acquire()).await {
                Ok(permit) => permit,
                Err(_) => {
                    return Err(Error::Timeout {
                        what: "response",
                        after: limit.unwrap_or_default(),
                    })
                }
            },
            None => room.acquire().await,
        };
        permit.map_err(|_| not_sent())?.forget();
        Ok(())
    }

    /// A blocking command, on a dedicated connection. Boxed by its callers: it is rare,
    /// and inline it would make every request's future several times bigger (moved on
    /// each poll of the ones that wrap it).
    async fn req_blocking(&self, cmd: &Cmd) -> Result<Value> {
        let mut con = self.blocking_connection().await?;
        let r = con.req(cmd).await;
        self.keep_blocking_connection(con);
        r
    }

    /// A pipeline with a blocking command, on a dedicated connection (see
    /// [`Connection::req_blocking`]).
    async fn req_pipeline_blocking(&self, pipe: &Pipeline) -> Result<Vec<Value>> {
        let mut con = self.blocking_connection().await?;
        let r = con.req_pipeline(pipe).await;
        self.keep_blocking_connection(con);
        r
    }

    /// A dedicated connection for a blocking command: an idle one kept from earlier, or a
    /// new one.
    async fn blocking_connection(&self) -> Result<DedicatedConnection> {
        let idle = loop {
            let Some(mut con) = self.blocking_pool().pop() else {
                break None;
            };
            if is_quiet(&mut con) {
                break Some(con);
            } // else closed by the server while idle (timeout, restart): drop it
        };
        let mut con = match idle {
            Some(con) => con,
            // Opening is rare and slow: boxed, so it does not grow every request's future.
            None => {
                let open =
                    DedicatedConnection::open(&self.shared.target, self.shared.hooks.clone());
                let mut con = Box::pin(open).await?;
                self.shared.source.opened(con.addr(), con.abort_handle());
                con.set_source(self.shared.source.clone());
                con
            }
        };
        con.set_response_timeout(self.response_timeout);
        Ok(con)
    }

    /// Keeps a dedicated connection for the next blocking command, if it is still in step
    /// and fewer than a few are idle. A cancelled blocking command drops its connection
    /// with its future instead (its reply is still on the way).
    fn keep_blocking_connection(&self, con: DedicatedConnection) {
        if con.is_broken() || self.is_dead() {
            return;
        }
        let mut pool = self.blocking_pool();
        if pool.len() < IDLE_BLOCKING {
            pool.push(con);
        }
    }

    fn blocking_pool(&self) -> MutexGuard<'_, Vec<DedicatedConnection>> {
        // The critical sections are a push or a pop: a panic cannot leave the list
        // half-written, so a poisoned lock is still valid.
        self.shared
            .blocking
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }
}

/// True when an idle dedicated connection has nothing to read. With no request in flight,
/// anything readable (end of file, an error, stray bytes) means the server closed it or
/// it is out of step, and it must not run the next blocking command. One non-blocking
/// poll, no wait.
fn is_quiet(con: &mut DedicatedConnection) -> bool {
    let mut cx = Context::from_waker(std::task::Waker::noop());
    let read = std::pin::pin!(con.io.read_buf(&mut con.rbuf));
    read.poll(&mut cx).is_pending()
}

/// The reply of a single command.
fn one_value(reply: Reply) -> Result<Value> {
    match reply? {
        Replies::One(v) => v.into_result(),
        Replies::Many(mut v) => v.pop().unwrap_or(Value::Nil).into_result(),
    }
}

fn not_sent() -> Error {
    Error::Broken("the connection is closed; the request was not sent".into())
}

/// What a shared connection must know of a command before sending it, in one look at its
/// name: refused ([`check_shareable`]), or how long it may block (blocking commands go to
/// a dedicated connection). Most commands are settled by the first letter and length of
/// their name ([`is_plain`]), without comparing it to any list.
fn shared_block_time(cmd: &Cmd) -> Result<BlockTime> {
    if cmd.arg_at(0).is_none_or(is_plain) {
        return Ok(BlockTime::NotBlocking);
    }
    check_shareable(cmd)?;
    Ok(command_table::block_time(cmd))
}

/// [`shared_block_time`] of a whole pipeline: the longest block time of its commands,
/// one pass over them.
fn shared_pipeline_block_time(pipe: &Pipeline) -> Result<BlockTime> {
    // The usual pipeline: every name plain, nothing else to look at.
    if pipe.cmds().iter().all(|c| c.arg_at(0).is_none_or(is_plain)) {
        return Ok(BlockTime::NotBlocking);
    }
    pipe.cmds()
        .iter()
        .try_fold(BlockTime::NotBlocking, |block, cmd| {
            Ok(redis_core::timing::longest(block, shared_block_time(cmd)?))
        })
}

/// True when a command of this name is certainly neither refused by [`check_shareable`]
/// nor blocking: it does not start with `b`, `x` or `w` (every blocking command does,
/// checked against the command table by a test in redis-core), and no refused name has
/// its first letter and length (checked against every name in the table by a test
/// below). `false` only means "look closer".
#[inline]
fn is_plain(name: &[u8]) -> bool {
    let Some(first) = name.first().map(u8::to_ascii_lowercase) else {
        return true;
    };
    !matches!(
        (first, name.len()),
        (b'b' | b'x' | b'w', _)
            | (b'a', 4) // AUTH
            | (b'c', 6) // CLIENT (REPLY, TRACKING)
            | (b'd', 7) // DISCARD
            | (b'e', 4) // EXEC
            | (b'h', 5) // HELLO
            | (b'm', 5 | 7) // MULTI, MONITOR
            | (b'p', 5 | 10 | 12) // PSYNC, PSUBSCRIBE, PUNSUBSCRIBE
            | (b'q', 4) // QUIT
            | (b'r', 5) // RESET
            | (b's', 4 | 6 | 9 | 10 | 12) // SYNC, SELECT, SUBSCRIBE, SSUBSCRIBE, SUNSUBSCRIBE
            | (b'u', 7 | 11) // UNWATCH, UNSUBSCRIBE
    )
}

/// Refuses commands that would change the state of a socket other callers share (their
/// effect would reach, or be undone by, someone else's commands), naming what to use
/// instead.
///
/// `AUTH` is refused too: it changes the user every caller of the socket acts as, and a
/// reconnect would silently log in as the configured user again. Credentials belong in
/// the `Config` (a `CredentialsProvider` for rotating ones). An atomic pipeline is fine:
/// its `MULTI ... EXEC` is one request, written contiguously and answered in order, and
/// it carries no `WATCH`.
pub(crate) fn check_shareable(cmd: &Cmd) -> Result<()> {
    let Some(name) = cmd.arg_at(0) else {
        return Ok(());
    };
    let is = |list: &[&str]| list.iter().any(|n| name.eq_ignore_ascii_case(n.as_bytes()));
    let instead = if is(&["WATCH", "UNWATCH", "MULTI", "EXEC", "DISCARD"]) {
        "use transaction() on a DedicatedConnection (or an atomic pipeline without WATCH)"
    } else if is(&["SELECT"]) {
        "set the database in the Config (with_db or /N in the URL), or use a DedicatedConnection"
    } else if is(&["HELLO", "RESET", "AUTH"]) {
        "set the protocol and credentials in the Config, or use a DedicatedConnection"
    } else if is(&[
        "SUBSCRIBE",
        "PSUBSCRIBE",
        "SSUBSCRIBE",
        "UNSUBSCRIBE",
        "PUNSUBSCRIBE",
        "SUNSUBSCRIBE",
    ]) {
        "use get_pubsub()"
    } else if is(&["QUIT"]) {
        "drop the handle (the socket closes when the last clone is dropped)"
    } else if is(&["MONITOR", "SYNC", "PSYNC"])
        || (name.eq_ignore_ascii_case(b"CLIENT")
            && cmd.arg_at(1).is_some_and(|s| {
                s.eq_ignore_ascii_case(b"REPLY") || s.eq_ignore_ascii_case(b"TRACKING")
            }))
    {
        "use a DedicatedConnection"
    } else {
        return Ok(());
    };
    let what = match cmd.arg_at(1) {
        Some(sub) if name.eq_ignore_ascii_case(b"CLIENT") => {
            format!(
                "CLIENT {}",
                String::from_utf8_lossy(sub).to_ascii_uppercase()
            )
        }
        _ => cmd.name(),
    };
    Err(Error::InvalidRequest(format!(
        "{what} changes the state of a connection other callers share; {instead}"
    )))
}

impl ConnectionLike for Connection {
    async fn req(&mut self, cmd: &Cmd) -> Result<Value> {
        let span = crate::events::command_span(cmd);
        crate::events::in_span(span, async move {
            if shared_block_time(cmd)? != BlockTime::NotBlocking {
                return Box::pin(self.req_blocking(cmd)).await;
            }
            // A large command's bytes are shared with the caller's `Cmd`, not copied: a
            // 100 MiB SET holds its payload twice (the caller's data and the command), as in
            // the blocking client, not three times.
            let payload = Payload::Shared(cmd.packed_bytes());
            one_value(self.send(payload, 1, BlockTime::NotBlocking).await)
        })
        .await
    }

    async fn req_owned(&mut self, cmd: Cmd) -> Result<Value> {
        let span = crate::events::command_span(&cmd);
        crate::events::in_span(span, async move {
            if shared_block_time(&cmd)? != BlockTime::NotBlocking {
                return Box::pin(self.req_blocking(&cmd)).await;
            }
            one_value(
                self.send(Payload::Cmd(cmd), 1, BlockTime::NotBlocking)
                    .await,
            )
        })
        .await
    }

    async fn req_pipeline(&mut self, pipe: &Pipeline) -> Result<Vec<Value>> {
        let span = crate::events::pipeline_span(pipe);
        crate::events::in_span(span, async move {
            let block = shared_pipeline_block_time(pipe)?;
            if block != BlockTime::NotBlocking {
                return Box::pin(self.req_pipeline_blocking(pipe)).await;
            }
            self.send(Payload::Vec(pipe.packed()), pipe.expected_replies(), block)
                .await
                .map(Replies::into_vec)
        })
        .await
    }
}

/// What woke the driver.
enum Event {
    Read(io::Result<usize>),
    WriteFailed(io::Error),
    Request(Request),
    HandlesGone,
    /// The batch is written and requests taken meanwhile wait to be staged.
    Waiting,
    Watchdog,
    /// The credentials rotated (or their provider failed).
    Rotated,
    /// Complete replies wait in the read buffer, left there by a `dispatch` that woke
    /// [`WAKE_BUDGET`] callers.
    Undispatched,
}

/// Callers woken by one `dispatch` before the driver lets them run. When many callers
/// share the connection, their replies arrive together; woken all at once, they would
/// all run, then all their next requests go out in one write, and the server would
/// idle while the client works and the other way round. Woken a share at a time (the
/// driver yields in between), the first ones' next requests are written while the rest
/// are still being answered, so client and server work at the same time.
const WAKE_BUDGET: usize = 16;

struct Driver {
    /// The credentials this connection authenticated with, and the wake-up for their next
    /// rotation (`None`: they never rotate).
    auth: Option<(AuthWatch, Changed)>,
    /// Before `io`, so the abort registry lets go of its duplicate socket first.
    abort: AbortGuard,
    probe: Probe,
    io: Stream,
    rbuf: BytesMut,
    decoder: Decoder,
    inflight: VecDeque<InFlight>,
    /// The last `dispatch` stopped at its budget: the read buffer may hold more replies.
    undispatched: bool,
    /// Requests taken from the channel while a batch was being written, in order: staged
    /// once it is written. Each still holds its permit of `Shared::room`.
    waiting: VecDeque<Request>,
    /// No deadline of a request in `inflight` or `waiting` that is still to be answered
    /// comes before this (it may be earlier than all of them: it is only lowered as
    /// requests come, and recomputed when the watchdog finds it passed).
    earliest: Option<Instant>,
    /// Permits of `Shared::room` held by requests staged since the last `drain` ended.
    taken: usize,
    /// Small requests of the current batch; `wbuf[..wpos]` is written.
    wbuf: Vec<u8>,
    wpos: usize,
    /// Large requests of the current batch, with their position in `wbuf`;
    /// `big[0].1[..big_pos]` is written.
    big: VecDeque<(usize, Bytes)>,
    big_pos: usize,
    /// The batch is written but not flushed yet (TLS buffers).
    flush: bool,
    /// Since when a write has been waiting for room in the socket.
    write_blocked: Option<Instant>,
    /// Bytes staged and bytes handed to the socket since the connection opened: a request
    /// whose offset is at or past `written` was never sent.
    staged: u64,
    written: u64,
    watchdog: Pin<Box<Sleep>>,
    addr: Addr,
    response_timeout: Duration,
    write_timeout: Duration,
    hooks: Hooks,
    shared: Arc<Shared>,
}

impl Driver {
    async fn run(mut self, mut rx: mpsc::UnboundedReceiver<Request>) {
        let mut handles_gone = false;
        let failure = loop {
            if handles_gone
                && self.inflight.is_empty()
                && self.waiting.is_empty()
                && !self.has_output()
            {
                break None;
            }
            // Reserve only when short of room: right after a large reply was handed out,
            // its caller still shares this buffer, and an eager reserve would allocate.
            // Small steps: reading walks forward through the buffer until a reserve moves
            // what is left to its front, and every page it walked stays in memory; 4 KiB
            // at a time keeps a connection of short replies at a page or two.
            let want = self.decoder.read_room(self.rbuf.len());
            if self.rbuf.capacity() - self.rbuf.len() < want.max(1024) {
                self.rbuf.reserve(want.max(4096));
            }
            match poll_fn(|cx| self.poll_event(cx, &mut rx, handles_gone)).await {
                Event::Read(Ok(0)) => {
                    break Some(
                        io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            "the server closed the connection",
                        )
                        .into(),
                    )
                }
                Event::Read(Ok(_)) | Event::Undispatched => match self.dispatch() {
                    Err(e) => break Some(e),
                    // Let the callers just woken run (and queue their next requests)
                    // before the rest are answered.
                    Ok(true) => tokio::task::yield_now().await,
                    Ok(false) => {}
                },
                Event::Read(Err(e)) | Event::WriteFailed(e) => break Some(e.into()),
                Event::Request(first) if self.has_output() || !self.waiting.is_empty() => {
                    // The batch is still being written: this one goes in the next.
                    self.note_deadline(first.deadline);
                    self.waiting.push_back(first);
                }
                Event::Waiting => self.drain(&mut rx, Instant::now()),
                Event::Request(first) => {
                    let busy = !self.inflight.is_empty();
                    let now = Instant::now();
                    self.stage(first, now);
                    // Everything else already waiting goes in the same write.
                    self.drain(&mut rx, now);
                    if busy {
                        // Other callers are active: let them queue their requests first,
                        // so one write carries more of them. A lone sequential caller
                        // never pays for this.
                        tokio::task::yield_now().await;
                        self.drain(&mut rx, now);
                    }
                }
                Event::HandlesGone => handles_gone = true,
                Event::Watchdog => {
                    if let Some(e) = self.check_stall() {
                        break Some(e);
                    }
                }
                Event::Rotated => self.rotated(),
            }
        };
        self.shared.dead.store(true, Ordering::Release);
        // Idle blocking connections go to the same node: if it was replaced, so are they.
        if self.abort.is_aborted() {
            self.shared
                .blocking
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clear();
        }
        let cause = match failure {
            Some(e) => {
                // Replies that arrived whole before the failure are answers: hand out those
                // the wake budget left in the buffer before failing the rest. (Never after
                // a decoding error: `dispatch` clears `undispatched` before it decodes.)
                while self.undispatched && matches!(self.dispatch(), Ok(true)) {}
                // Aborted from outside (the node was replaced): that is the cause, not
                // the end of file the shutdown produced.
                let e = self.abort.cause_error().unwrap_or(e);
                let cause = e.to_string();
                for slot in self.inflight.drain(..) {
                    let err = if slot.deadline.is_some_and(|(d, _)| d <= Instant::now()) {
                        // Its caller's time was up: the same answer as the watchdog's.
                        Error::Timeout {
                            what: "response",
                            after: slot.deadline.map(|(_, l)| l).unwrap_or_default(),
                        }
                    } else if slot.offset >= self.written {
                        not_sent() // not one byte reached the socket: safe to retry
                    } else {
                        Error::MayHaveExecuted(Box::new(e.replicate()))
                    };
                    if let Slot::Caller(tx) = slot.tx {
                        let _ = tx.send(Err(err));
                    }
                }
                cause
            }
            None => {
                // Every handle is gone: close politely, but never wait on a stuck socket.
                let _ = tokio::time::timeout(self.write_timeout, self.io.shutdown()).await;
                "closed: every handle was dropped".to_owned()
            }
        };
        self.hooks.emit(ConnectionEvent::Disconnected {
            addr: self.addr.clone(),
            cause,
        });
        self.shared.room.close();
        rx.close();
        let now = Instant::now();
        let queued = std::mem::take(&mut self.waiting);
        for req in queued
            .into_iter()
            .chain(std::iter::from_fn(|| rx.try_recv().ok()))
        {
            let err = if req.deadline.is_some_and(|d| d <= now) {
                req.timeout()
            } else {
                not_sent()
            };
            let _ = req.tx.send(Err(err));
        }
    }

    /// Moves the pending write forward, then waits for whichever comes first: bytes to
    /// read, a new request (once the batch is written), or the watchdog.
    fn poll_event(
        &mut self,
        cx: &mut Context<'_>,
        rx: &mut mpsc::UnboundedReceiver<Request>,
        handles_gone: bool,
    ) -> Poll<Event> {
        if self.has_output() {
            if let Poll::Ready(Err(e)) = self.poll_write(cx) {
                return Poll::Ready(Event::WriteFailed(e));
            }
        }
        let read = std::pin::pin!(self.io.read_buf(&mut self.rbuf));
        if let Poll::Ready(r) = read.poll(cx) {
            return Poll::Ready(Event::Read(r));
        }
        if !self.has_output() && !self.waiting.is_empty() {
            return Poll::Ready(Event::Waiting);
        }
        // Taken even while a batch is being written (then kept in `waiting`), so that the
        // watchdog knows every request's deadline; the queue's room is what pushes back.
        if !handles_gone {
            match rx.poll_recv(cx) {
                Poll::Ready(Some(req)) => return Poll::Ready(Event::Request(req)),
                Poll::Ready(None) => return Poll::Ready(Event::HandlesGone),
                Poll::Pending => {}
            }
        }
        if self.undispatched {
            return Poll::Ready(Event::Undispatched);
        }
        if self.watchdog.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Event::Watchdog);
        }
        // Between batches, like new requests: an AUTH is staged whole, after the requests
        // already staged and before the next ones, never inside an atomic pipeline. The
        // waker is registered once per rotation; until one comes this is an atomic load.
        if !handles_gone && !self.has_output() {
            if let Some((_, changed)) = &mut self.auth {
                if Pin::new(changed).poll(cx).is_ready() {
                    return Poll::Ready(Event::Rotated);
                }
            }
        }
        Poll::Pending
    }

    fn has_output(&self) -> bool {
        self.wpos < self.wbuf.len() || !self.big.is_empty() || self.flush
    }

    /// Writes as much of the batch as the socket takes: `Ready(Ok)` once all of it is
    /// written and flushed, `Pending` while the socket is full.
    fn poll_write(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            let chunk: &[u8] = match self.big.front() {
                Some((at, bytes)) if self.wpos >= *at => &bytes[self.big_pos..],
                Some((at, _)) => &self.wbuf[self.wpos..*at],
                None if self.wpos < self.wbuf.len() => &self.wbuf[self.wpos..],
                None => break,
            };
            match Pin::new(&mut self.io).poll_write(cx, chunk) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => {
                    self.write_blocked = None;
                    self.written += n as u64;
                    match self.big.front() {
                        Some((at, bytes)) if self.wpos >= *at => {
                            self.big_pos += n;
                            if self.big_pos == bytes.len() {
                                self.big.pop_front();
                                self.big_pos = 0;
                            }
                        }
                        _ => self.wpos += n,
                    }
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => {
                    self.note_write_blocked();
                    return Poll::Pending;
                }
            }
        }
        self.wbuf.clear();
        self.wpos = 0;
        if self.flush {
            match Pin::new(&mut self.io).poll_flush(cx) {
                Poll::Ready(Ok(())) => self.flush = false,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => {
                    self.note_write_blocked();
                    return Poll::Pending;
                }
            }
        }
        self.write_blocked = None;
        Poll::Ready(Ok(()))
    }

    /// A write is waiting for room in the socket: from the first time it does, the
    /// watchdog must fire no later than `write_timeout` from now.
    fn note_write_blocked(&mut self) {
        if self.write_blocked.is_none() {
            let now = Instant::now();
            self.write_blocked = Some(now);
            let due = now + self.write_timeout;
            if self.watchdog.deadline() > due {
                self.watchdog.as_mut().reset(due);
            }
        }
    }

    /// Stages every request already waiting, up to about 1 MiB of bytes: those kept in
    /// `waiting` first, then those in the channel.
    fn drain(&mut self, rx: &mut mpsc::UnboundedReceiver<Request>, now: Instant) {
        while self.wbuf.len() < BATCH_BYTES {
            let next = match self.waiting.pop_front() {
                Some(req) => req,
                None => match rx.try_recv() {
                    Ok(req) => req,
                    Err(_) => break,
                },
            };
            self.stage(next, now);
        }
        // Once per batch: each call takes the semaphore's lock.
        if self.taken > 0 {
            self.shared
                .room
                .add_permits(std::mem::take(&mut self.taken));
        }
    }

    /// A request with this deadline arrived: the watchdog must fire by then.
    fn note_deadline(&mut self, deadline: Option<Instant>) {
        let Some(d) = deadline else {
            return;
        };
        if self.earliest.is_none_or(|e| d < e) {
            self.earliest = Some(d);
        }
        // In the usual case (one response timeout for every handle) this is one comparison.
        if d < self.watchdog.deadline() {
            self.watchdog.as_mut().reset(d);
        }
    }

    /// Answers with `Timeout` every request whose deadline has passed, queued or in
    /// flight (its reply, if it comes, is thrown away), and recomputes `earliest`.
    fn expire(&mut self, now: Instant) {
        if self.earliest.is_none_or(|e| now < e) {
            return;
        }
        let mut earliest: Option<Instant> = None;
        let mut keep = |d: Instant| {
            if earliest.is_none_or(|e| d < e) {
                earliest = Some(d);
            }
        };
        let mut freed = 0;
        let waiting = std::mem::take(&mut self.waiting);
        for req in waiting {
            match req.deadline {
                Some(d) if d <= now => {
                    let err = req.timeout();
                    let _ = req.tx.send(Err(err));
                    freed += 1;
                }
                Some(d) => {
                    keep(d);
                    self.waiting.push_back(req);
                }
                None => self.waiting.push_back(req),
            }
        }
        for slot in &mut self.inflight {
            match slot.deadline {
                Some((d, limit)) if d <= now => {
                    slot.deadline = None;
                    if let Slot::Caller(tx) = std::mem::replace(&mut slot.tx, Slot::Gone) {
                        let _ = tx.send(Err(Error::Timeout {
                            what: "response",
                            after: limit,
                        }));
                    }
                }
                Some((d, _)) => keep(d),
                None => {}
            }
        }
        if freed > 0 {
            self.shared.room.add_permits(freed);
        }
        self.earliest = earliest;
    }

    /// The credentials rotated: reports a provider failure, and stages `AUTH` with the
    /// new credentials (its reply becomes a `Reauthenticated` or `ReauthFailed` event).
    fn rotated(&mut self) {
        let Some((watch, changed)) = &mut self.auth else {
            return;
        };
        let auth = self.hooks.take_auth_due(watch, &self.addr);
        *changed = watch.rotation().changed(watch.seen_version());
        let Some(auth) = auth else {
            return;
        };
        let now = Instant::now();
        self.push_inflight(
            Payload::Cmd(auth),
            1,
            Some(self.response_timeout),
            None,
            Slot::Auth,
            now,
        );
    }

    /// Queues a request for the next write, unless its caller is already gone or its
    /// time is up, and gives its room in the queue back.
    fn stage(&mut self, req: Request, now: Instant) {
        self.taken += 1; // given back by `drain`, which every staging ends with
        if req.tx.is_closed() {
            return; // cancelled before it was written: it never runs
        }
        if req.deadline.is_some_and(|d| d <= now) {
            let err = req.timeout();
            let _ = req.tx.send(Err(err)); // timed out before it was written: never runs
            return;
        }
        if req.replies == 0 {
            let _ = req.tx.send(Ok(Replies::Many(Vec::new())));
            return;
        }
        self.note_deadline(req.deadline);
        let deadline = req.deadline.zip(req.limit);
        let slot = Slot::Caller(req.tx);
        self.push_inflight(req.bytes, req.replies, req.limit, deadline, slot, now);
    }

    fn push_inflight(
        &mut self,
        bytes: Payload,
        replies: usize,
        limit: Option<Duration>,
        deadline: Option<(Instant, Duration)>,
        tx: Slot,
        now: Instant,
    ) {
        let values = if replies == 1 {
            Vec::new()
        } else {
            Vec::with_capacity(replies.min(1024))
        };
        // An eighth of the limit after the caller's deadline (counted from now, when it
        // is written): the caller sees its own `Timeout`, and the link is dropped just
        // after.
        let stall = limit.and_then(|l| now.checked_add(l + l / 8));
        if let Some(d) = stall {
            // Only a handle with a shorter timeout than the watchdog's current period
            // moves it; in the usual case this is one comparison.
            if d < self.watchdog.deadline() {
                self.watchdog.as_mut().reset(d);
            }
        }
        self.inflight.push_back(InFlight {
            offset: self.staged,
            left: replies,
            values,
            deadline,
            stall,
            since: now,
            tx,
        });
        self.flush = true;
        let len = bytes.as_slice().len();
        self.staged += len as u64;
        if len >= BIG_REQUEST {
            self.big.push_back((self.wbuf.len(), bytes.into_bytes()));
        } else {
            self.wbuf.extend_from_slice(bytes.as_slice());
        }
    }

    /// The watchdog fired: fails the link if the oldest request in flight is past its
    /// deadline or a write has made no progress for `write_timeout`; otherwise sets the
    /// next check.
    fn check_stall(&mut self) -> Option<Error> {
        let now = Instant::now();
        self.expire(now);
        let mut next = now + self.response_timeout;
        if let Some(e) = self.earliest {
            next = next.min(e);
        }
        if let Some(since) = self.write_blocked {
            let waited = now.saturating_duration_since(since);
            if waited >= self.write_timeout {
                return Some(self.unresponsive("write", self.write_timeout, waited));
            }
            next = next.min(since + self.write_timeout);
        }
        if let Some(deadline) = self.inflight.front().and_then(|f| f.stall) {
            if now >= deadline {
                let waited = self.response_timeout.max(now - deadline);
                return Some(self.unresponsive("response", self.response_timeout, waited));
            }
            next = next.min(deadline);
        }
        if let Some(interval) = self.probe.interval {
            // Checked every half interval, so a wait is reported between one and one and
            // a half intervals after it began; an idle link wakes twice per interval,
            // which costs nothing measurable.
            if let Some(front) = self.inflight.front() {
                let waited = now.saturating_duration_since(front.since);
                if waited >= interval {
                    self.probe.source.slow(&self.addr, waited);
                }
            }
            next = next.min(now + interval / 2);
        }
        self.watchdog.as_mut().reset(next);
        None
    }

    fn unresponsive(&self, what: &'static str, after: Duration, waited: Duration) -> Error {
        self.hooks.emit(ConnectionEvent::Unresponsive {
            addr: self.addr.clone(),
            waited,
        });
        Error::Timeout { what, after }
    }

    /// Hands complete replies to the request at the front of the queue, and push frames
    /// to the push sink, until the read buffer has no complete reply left or
    /// [`WAKE_BUDGET`] callers were answered; true in the second case.
    fn dispatch(&mut self) -> Result<bool> {
        let mut woken = 0;
        self.undispatched = false;
        loop {
            if let Some(front) = self.inflight.front_mut() {
                // A pipeline of writes is answered by runs of `+OK`: each run is taken
                // at once, all but the request's last reply (which ends it, below).
                if front.left > 1 {
                    let n = self.decoder.take_okays(&mut self.rbuf, front.left - 1);
                    front
                        .values
                        .resize_with(front.values.len() + n, || Value::Okay);
                    front.left -= n;
                }
            }
            let Some(v) = self.decoder.decode(&mut self.rbuf)? else {
                break;
            };
            if matches!(v, Value::Push(_)) {
                // Out of band (client tracking, sharded pub/sub), whatever the protocol.
                if !self.shared.pushes.send(v) {
                    self.shared.unclaimed_pushes.fetch_add(1, Ordering::Relaxed);
                }
                continue;
            }
            if let Value::ServerError(e) = &v {
                report_if_replaced(&*self.probe.source, &self.addr, e);
            }
            let Some(front) = self.inflight.front_mut() else {
                return Err(Error::protocol("the server sent a reply nobody asked for"));
            };
            front.left -= 1;
            if front.left == 0 && front.values.is_empty() {
                // A single command's reply: no Vec at all.
                if let Some(done) = self.inflight.pop_front() {
                    done.tx.send(Ok(Replies::One(v)), &self.hooks, &self.addr);
                }
            } else {
                front.values.push(v);
                if front.left > 0 {
                    continue;
                }
                if let Some(done) = self.inflight.pop_front() {
                    done.tx
                        .send(Ok(Replies::Many(done.values)), &self.hooks, &self.addr);
                }
            }
            woken += 1;
            if woken == WAKE_BUDGET {
                self.undispatched = true;
                return Ok(true);
            }
        }
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `is_plain` never lets through a command `check_shareable` refuses or that may
    /// block: every name in the command table (and its lower and mixed case), alone and
    /// with the arguments that make `CLIENT` refused.
    #[test]
    fn is_plain_lets_through_only_commands_the_full_checks_pass() {
        for info in command_table::all() {
            if info.name.contains('|') {
                continue;
            }
            let upper = info.name.to_ascii_uppercase();
            let mixed: String = upper
                .chars()
                .enumerate()
                .map(|(i, c)| {
                    if i % 2 == 1 {
                        c.to_ascii_lowercase()
                    } else {
                        c
                    }
                })
                .collect();
            for name in [info.name, &upper, &mixed] {
                if !is_plain(name.as_bytes()) {
                    continue;
                }
                for extra in [&[][..], &["REPLY", "OFF"], &["TRACKING", "ON"], &["0"]] {
                    let mut c = redis_core::cmd(name);
                    for a in extra {
                        c.arg(*a);
                    }
                    assert!(check_shareable(&c).is_ok(), "{name} {extra:?} is refused");
                    assert!(!info.is_blocking(), "{name} may block");
                    assert_eq!(
                        command_table::block_time(&c),
                        BlockTime::NotBlocking,
                        "{name} {extra:?}"
                    );
                }
            }
        }
        for refused in [
            "WATCH",
            "exec",
            "Select",
            "client",
            "SUBSCRIBE",
            "quit",
            "AUTH",
        ] {
            assert!(!is_plain(refused.as_bytes()), "{refused}");
        }
        for plain in ["GET", "set", "INCR", "hset", "PING", "EVALSHA"] {
            assert!(is_plain(plain.as_bytes()), "{plain}");
        }
    }
}
