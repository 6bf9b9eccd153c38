//! The seams the Sentinel and cluster clients end stale connections through: a source
//! hears of every connection opened from it (with an `AbortHandle`) and of every request
//! that waits past the probe interval, and aborting a connection ends the requests on it
//! at once: a written write says it may have executed, a managed handle re-sends a read.
//! A `READONLY` reply (the node was demoted) is reported to the source as a failure.
//!
//! The server is frozen with `CLIENT PAUSE ... ALL`, so a request waits as it would on a
//! SIGSTOPped primary, without stopping the process the test needs afterwards.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use redis_core::abort::AbortHandle;
use redis_core::{cmd, Addr, Config, Error, FromValue, Result, Target};
use redis_tests::RedisServer;

/// A fixed source that keeps every handle it is given and, when first told a request is
/// slow, aborts every connection to that node (what a Sentinel source does once the sentinels
/// name another primary).
#[derive(Debug)]
struct Aborting {
    config: Config,
    handles: Mutex<Vec<AbortHandle>>,
    slow_calls: AtomicUsize,
    longest_wait: Mutex<Duration>,
    /// `READONLY` errors the connections reported through `failed`.
    readonly_reports: AtomicUsize,
}

impl Aborting {
    fn new(config: Config) -> Arc<Aborting> {
        Arc::new(Aborting {
            config,
            handles: Mutex::new(Vec::new()),
            slow_calls: AtomicUsize::new(0),
            longest_wait: Mutex::new(Duration::ZERO),
            readonly_reports: AtomicUsize::new(0),
        })
    }

    fn keep(&self, abort: AbortHandle) {
        let mut handles = self.handles.lock().unwrap();
        handles.retain(AbortHandle::is_alive);
        handles.push(abort);
    }

    /// Aborts on the first report only: the node is "replaced" once, and the new
    /// connections (to the same test server) must be left to finish.
    fn abort_all(&self, addr: &Addr, waited: Duration) {
        let first = self.slow_calls.fetch_add(1, Ordering::SeqCst) == 0;
        let mut longest = self.longest_wait.lock().unwrap();
        *longest = (*longest).max(waited);
        if !first {
            return;
        }
        for h in self.handles.lock().unwrap().iter() {
            if h.addr() == addr {
                h.abort("the test says the node was replaced");
            }
        }
    }

    fn note_failure(&self, e: &Error) {
        if e.server_kind() == Some(&redis_core::ServerErrorKind::ReadOnly) {
            self.readonly_reports.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn live(&self) -> usize {
        let handles = self.handles.lock().unwrap();
        handles.iter().filter(|h| h.is_alive()).count()
    }
}

impl redis_sync::ConnectionSource for Aborting {
    fn target(&self) -> Result<Target> {
        Ok(Target::fixed(self.config.clone()))
    }
    fn opened(&self, _: &Addr, abort: AbortHandle) {
        self.keep(abort);
    }
    fn failed(&self, _: &Addr, e: &Error) {
        self.note_failure(e);
    }
    fn slow(&self, addr: &Addr, waited: Duration) {
        self.abort_all(addr, waited);
    }
}

impl redis_async::ConnectionSource for Aborting {
    fn target(&self) -> redis_async::TargetFuture<'_> {
        let t = Target::fixed(self.config.clone());
        Box::pin(async move { Ok(t) })
    }
    fn opened(&self, _: &Addr, abort: AbortHandle) {
        self.keep(abort);
    }
    fn failed(&self, _: &Addr, e: &Error) {
        self.note_failure(e);
    }
    fn slow(&self, addr: &Addr, waited: Duration) {
        self.abort_all(addr, waited);
    }
}

const PROBE: Duration = Duration::from_millis(200);

fn probed(server: &RedisServer) -> Config {
    server.config().with_probe_interval(Some(PROBE))
}

/// Freezes every client of `server` for `ms` milliseconds (from a side connection).
fn pause(server: &RedisServer, ms: u64) {
    let mut side = redis_sync::Client::open(server.config())
        .unwrap()
        .get_connection()
        .unwrap();
    use redis_sync::ConnectionLike;
    side.req(&cmd("CLIENT").with("PAUSE").with(ms).with("ALL"))
        .unwrap();
}

fn is_may_have_executed(e: &Error) -> bool {
    matches!(e, Error::MayHaveExecuted(_))
}

#[test]
fn sync_a_slow_request_is_reported_and_an_abort_ends_it_as_may_have_executed() {
    use redis_sync::ConnectionLike;
    let server = RedisServer::start();
    let source = Aborting::new(probed(&server));
    let client = redis_sync::Client::with_source(probed(&server), source.clone());
    let mut con = client.get_connection().unwrap();
    assert_eq!(source.live(), 1, "the source hears of the connection");
    con.req(&cmd("SET").with("k").with(1)).unwrap();

    pause(&server, 3000);
    let started = std::time::Instant::now();
    let r = con.req(&cmd("INCR").with("k"));
    let took = started.elapsed();
    println!("sync: INCR on a frozen server ended after {took:?}: {r:?}");
    let e = r.unwrap_err();
    assert!(is_may_have_executed(&e), "{e:?}");
    assert!(source.slow_calls.load(Ordering::SeqCst) >= 1);
    assert!(*source.longest_wait.lock().unwrap() >= PROBE);
    assert!(con.is_broken(), "an aborted connection refuses further use");
    assert!(matches!(con.req(&cmd("PING")), Err(Error::Broken(_))));
    drop(con);
    assert_eq!(source.live(), 0, "the handle does not keep the connection");
}

#[test]
fn sync_pool_drops_an_aborted_idle_connection() {
    use redis_sync::ConnectionLike;
    let server = RedisServer::start();
    let source = Aborting::new(server.config());
    let client = redis_sync::Client::with_source(server.config(), source.clone());
    let pool = client.pool(1).unwrap();
    {
        let mut con = pool.get().unwrap();
        con.req(&cmd("PING")).unwrap();
    }
    for h in source.handles.lock().unwrap().iter() {
        h.abort("replaced while idle");
    }
    let mut con = pool.get().unwrap();
    assert!(!con.is_broken());
    assert_eq!(
        con.req(&cmd("PING")).unwrap(),
        redis_core::Value::SimpleString("PONG".into())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_an_abort_ends_written_writes_and_a_managed_handle_resends_reads() {
    use redis_async::ConnectionLike;
    let server = RedisServer::start();
    let source = Aborting::new(probed(&server));
    let client = redis_async::Client::with_source(probed(&server), source.clone());
    let mut con = client.get_connection().await.unwrap();
    let mut managed = client.get_managed_connection().await.unwrap();
    assert_eq!(source.live(), 2);
    con.req(&cmd("SET").with("k").with(1)).await.unwrap();

    pause(&server, 2000);
    let started = std::time::Instant::now();
    let (write, read) = tokio::join!(async { con.req(&cmd("INCR").with("k")).await }, async {
        managed.req(&cmd("GET").with("k")).await
    });
    println!(
        "async: INCR {write:?}, GET through the managed handle {read:?} after {:?}",
        started.elapsed()
    );
    let e = write.unwrap_err();
    assert!(is_may_have_executed(&e), "{e:?}");
    assert!(con.is_dead());
    assert!(source.slow_calls.load(Ordering::SeqCst) >= 1);
    assert!(*source.longest_wait.lock().unwrap() >= PROBE);
    // The read was re-sent on a new socket and answered once the pause ended; whether
    // the INCR ran is unknown to the caller, so the value is 1 or 2, never an error.
    let v = i64::from_value(read.unwrap()).unwrap();
    assert!(v == 1 || v == 2, "{v}");
    assert!(managed.generation() >= 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_without_a_probe_interval_the_source_is_never_told() {
    use redis_async::ConnectionLike;
    let server = RedisServer::start();
    let config = server.config().with_probe_interval(None);
    let source = Aborting::new(config.clone());
    let client = redis_async::Client::with_source(config, source.clone());
    let mut con = client.get_connection().await.unwrap();
    pause(&server, 600);
    con.req(&cmd("PING")).await.unwrap();
    assert_eq!(source.slow_calls.load(Ordering::SeqCst), 0);
}

/// A replica: the server the test points the clients at answers writes with `READONLY`,
/// as a demoted primary does.
fn replica_of(primary: &RedisServer) -> RedisServer {
    use redis_sync::ConnectionLike;
    let replica = RedisServer::start();
    let mut con = redis_sync::Client::open(replica.config())
        .unwrap()
        .get_connection()
        .unwrap();
    let Addr::Tcp { port, .. } = primary.config().addr else {
        panic!("tcp primary")
    };
    con.req(&cmd("REPLICAOF").with("127.0.0.1").with(port))
        .unwrap();
    replica
}

#[test]
fn sync_a_readonly_reply_is_reported_to_the_source() {
    use redis_sync::ConnectionLike;
    let primary = RedisServer::start();
    let replica = replica_of(&primary);
    let source = Aborting::new(replica.config());
    let client = redis_sync::Client::with_source(replica.config(), source.clone());
    let mut con = client.get_connection().unwrap();
    let e = con.req(&cmd("SET").with("k").with(1)).unwrap_err();
    assert_eq!(
        e.server_kind(),
        Some(&redis_core::ServerErrorKind::ReadOnly)
    );
    assert_eq!(source.readonly_reports.load(Ordering::SeqCst), 1);
    assert!(
        !con.is_broken(),
        "an error reply leaves the connection in step"
    );
    con.req(&cmd("GET").with("k")).unwrap();
    assert_eq!(source.readonly_reports.load(Ordering::SeqCst), 1);
}

/// Both kinds of async connection from a source, the multiplexed one and a dedicated one
/// (transactions, blocking commands), report a `READONLY` reply to it once and stay in
/// step (the dedicated one once reported it only to the caller).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_a_readonly_reply_is_reported_to_the_source() {
    let primary = RedisServer::start();
    let replica = replica_of(&primary);
    let source = Aborting::new(replica.config());
    let client = redis_async::Client::with_source(replica.config(), source.clone());
    let mut shared = client.get_connection().await.unwrap();
    readonly_is_reported_once(&mut shared, &source, 1).await;
    let mut dedicated = client.get_dedicated_connection().await.unwrap();
    readonly_is_reported_once(&mut dedicated, &source, 2).await;
    assert!(!dedicated.is_broken(), "an error reply leaves it in step");
}

/// A write on a replica answers `READONLY`, which makes the source's count `reports`; a
/// read after it is answered and reports nothing.
async fn readonly_is_reported_once(
    con: &mut impl redis_async::ConnectionLike,
    source: &Aborting,
    reports: usize,
) {
    let e = con.req(&cmd("SET").with("k").with(1)).await.unwrap_err();
    assert_eq!(
        e.server_kind(),
        Some(&redis_core::ServerErrorKind::ReadOnly)
    );
    assert_eq!(source.readonly_reports.load(Ordering::SeqCst), reports);
    con.req(&cmd("GET").with("k")).await.unwrap();
    assert_eq!(source.readonly_reports.load(Ordering::SeqCst), reports);
}

/// A source whose node is briefly in the wrong role, as during a Sentinel failover: the
/// replica chosen for promotion is named before it answers ROLE as a primary.
#[derive(Debug)]
struct Promoting {
    base: Config,
    now: Mutex<Addr>,
    handles: Mutex<Vec<AbortHandle>>,
}

impl redis_async::ConnectionSource for Promoting {
    fn target(&self) -> redis_async::TargetFuture<'_> {
        let addr = self.now.lock().unwrap().clone();
        let t = Target::resolved(&self.base, addr, redis_core::Role::Primary);
        Box::pin(async move { Ok(t) })
    }
    fn opened(&self, _: &Addr, abort: AbortHandle) {
        self.handles.lock().unwrap().push(abort);
    }
}

/// A reconnect that meets a node still being promoted (ROLE says replica) keeps trying
/// within the reconnect budget instead of failing the read at the first refusal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_managed_reconnect_waits_out_a_promotion_in_progress() {
    use redis_async::ConnectionLike;
    let primary = RedisServer::start();
    let replica = replica_of(&primary);
    let source = Arc::new(Promoting {
        base: primary.config(),
        now: Mutex::new(primary.config().addr),
        handles: Mutex::new(Vec::new()),
    });
    let client = redis_async::Client::with_source(primary.config(), source.clone());
    let mut managed = client.get_managed_connection().await.unwrap();
    managed.req(&cmd("SET").with("k").with(1)).await.unwrap();

    // The failover starts: the source names the replica before its promotion, and the
    // link to the old primary is ended.
    *source.now.lock().unwrap() = replica.config().addr;
    for h in source.handles.lock().unwrap().iter() {
        h.abort("switching to the promoted replica");
    }
    // The promotion lands 700 ms later (here: the source goes back to a real primary).
    let later = source.clone();
    let primary_addr = primary.config().addr;
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(700)).await;
        *later.now.lock().unwrap() = primary_addr;
    });
    let v = managed.req(&cmd("GET").with("k")).await;
    println!("read during the promotion: {v:?}");
    assert_eq!(i64::from_value(v.unwrap()).unwrap(), 1);
}
