//! Regression tests of the async client for issue 6: a push frame is never a reply, shared
//! connections refuse state-changing commands and never let a blocking command stall the
//! others, a stalled link is replaced, a large pipeline cannot deadlock the driver, a cut
//! write is not retried by default, `MayHaveExecuted` keeps its cause, and the connection
//! events a topology manager subscribes to.
//!
//! Real servers everywhere a real server can produce the fault; the scripted `FakePeer`
//! only for bytes a server never sends on that connection (a push frame before a reply on
//! a RESP2 link, garbage, replies that arrive before the server reads the requests).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use redis_async::prelude::*;
use redis_async::{
    commands, Addr, Config, ConnectionEvent, DedicatedConnection, Error, Protocol, Value,
};
use redis_tests::{unique_key, FakePeer, FakeStep, Proxy, RedisServer};
use tokio::sync::broadcast;

/// Runs a blocking harness call from a multi-thread runtime.
fn blocking<R>(f: impl FnOnce() -> R) -> R {
    tokio::task::block_in_place(f)
}

/// A config that reaches `server` through `proxy`.
fn via(server: &RedisServer, proxy: &Proxy) -> Config {
    let mut config = server.config();
    config.addr = Addr::tcp("127.0.0.1", proxy.port());
    config
}

/// A scripted peer's config, without the `CLIENT SETINFO` a script does not expect.
fn peer_config(peer: &FakePeer) -> Config {
    let mut config = peer.config();
    config.set_lib_info = false;
    config
}

/// A shared connection opened with `config`.
async fn open_shared(config: Config) -> Connection {
    Client::open(config)
        .unwrap()
        .get_connection()
        .await
        .unwrap()
}

/// A field of `INFO <section>`.
async fn info_field(con: &mut impl ConnectionLike, section: &str, field: &str) -> String {
    let info: String = cmd("INFO").with(section).query(con).await.unwrap();
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .unwrap_or_else(|| panic!("INFO {section} has no {field}: {info}"))
        .trim()
        .to_owned()
}

/// The next event within 10 s (hang guard).
/// `HandshakeDone` (every connection, dedicated ones included) is skipped: these tests
/// follow the multiplexed connection's link.
async fn next_event(events: &mut broadcast::Receiver<ConnectionEvent>) -> ConnectionEvent {
    loop {
        let e = tokio::time::timeout(Duration::from_secs(10), events.recv())
            .await
            .expect("no connection event within 10 s")
            .expect("event channel closed or lagged");
        if !matches!(e, ConnectionEvent::HandshakeDone { .. }) {
            return e;
        }
    }
}

// ---------------------------------------------------------------------------------------
// Defect 1: a push frame is never a reply
// ---------------------------------------------------------------------------------------

/// A RESP2 handshake, then a `>` push ahead of the reply to GET: the GET gets its own
/// reply, the push goes to the push sink, and the link stays up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_frame_before_a_reply_goes_to_the_push_sink_whatever_the_protocol() {
    let peer = FakePeer::start(vec![
        FakeStep::expect_command(&["GET", "k"]),
        FakeStep::send(">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n$1\r\nv\r\n"),
        FakeStep::expect_command(&["PING"]),
        FakeStep::send("+PONG\r\n"),
    ]);
    let mut con = open_shared(peer_config(&peer)).await;
    assert_eq!(con.protocol(), Protocol::Resp2);
    let mut pushes = con.pushes();
    let v: String = con.get("k").await.unwrap();
    assert_eq!(v, "v", "the GET must get its own reply, not the push");
    let pong: String = con.ping().await.unwrap();
    assert_eq!(pong, "PONG");
    let push = tokio::time::timeout(Duration::from_secs(5), pushes.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        push,
        Value::Push(vec![
            Value::BulkString(bytes::Bytes::from_static(b"invalidate")),
            Value::Array(vec![Value::BulkString(bytes::Bytes::from_static(b"k"))]),
        ])
    );
    assert!(!con.is_dead(), "a push frame must not kill the link");
    assert_eq!(con.unclaimed_pushes(), 0);
    peer.wait_done().unwrap();
}

/// The user turns on RESP3 and client tracking on a dedicated connection configured for
/// RESP2; another client changes a tracked key; every later reply is still right.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tracking_invalidations_on_a_dedicated_connection_never_shift_replies() {
    let server = RedisServer::start();
    let client = Client::open(server.config()).unwrap();
    let mut con: DedicatedConnection = client.get_dedicated_connection().await.unwrap();
    let mut other = client.get_connection().await.unwrap();
    let key = unique_key("tracked");
    let _: () = other.set(&key, "one").await.unwrap();

    let _: Value = cmd("HELLO").with(3).query(&mut con).await.unwrap();
    let _: () = cmd("CLIENT")
        .with("TRACKING")
        .with("ON")
        .query(&mut con)
        .await
        .unwrap();
    let v: String = con.get(&key).await.unwrap(); // now tracked
    assert_eq!(v, "one");
    let _: () = other.set(&key, "two").await.unwrap(); // sends us an invalidation push
                                                       // The push is on the wire once the SET is answered; give the kernel a moment to
                                                       // deliver it to our socket before the next request (ordering guard, not an assertion).
    tokio::time::sleep(Duration::from_millis(100)).await;
    let pong: String = con.ping().await.unwrap();
    assert_eq!(pong, "PONG", "PING must not return the invalidation push");
    let v: String = con.get(&key).await.unwrap();
    assert_eq!(v, "two");
    let echo: String = cmd("ECHO").with("after").query(&mut con).await.unwrap();
    assert_eq!(echo, "after");
}

// ---------------------------------------------------------------------------------------
// Defect 2: shared connections refuse commands that change connection state
// ---------------------------------------------------------------------------------------

async fn assert_refused(con: &mut impl ConnectionLike, args: &[&str], hint: &str) {
    let mut c = cmd(args[0]);
    for a in &args[1..] {
        c.arg(*a);
    }
    match c.query::<Value>(con).await {
        Err(Error::InvalidRequest(m)) => {
            assert!(m.contains(hint), "{args:?}: {m} does not name {hint}")
        }
        other => panic!("{args:?} was not refused: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shared_connections_refuse_state_changing_commands_and_name_the_alternative() {
    let server = RedisServer::start();
    let client = Client::open(server.config()).unwrap();
    let mut con = client.get_connection().await.unwrap();
    let mut managed = client.get_managed_connection().await.unwrap();
    let cases: [(&[&str], &str); 17] = [
        (&["WATCH", "k"], "DedicatedConnection"),
        (&["unwatch"], "DedicatedConnection"),
        (&["MULTI"], "DedicatedConnection"),
        (&["EXEC"], "DedicatedConnection"),
        (&["DISCARD"], "DedicatedConnection"),
        (&["SELECT", "1"], "Config"),
        (&["HELLO", "3"], "Config"),
        (&["AUTH", "x"], "Config"),
        (&["RESET"], "Config"),
        (&["CLIENT", "TRACKING", "ON"], "DedicatedConnection"),
        (&["client", "reply", "OFF"], "DedicatedConnection"),
        (&["SUBSCRIBE", "ch"], "get_pubsub"),
        (&["PSUBSCRIBE", "ch*"], "get_pubsub"),
        (&["SSUBSCRIBE", "ch"], "get_pubsub"),
        (&["UNSUBSCRIBE"], "get_pubsub"),
        (&["MONITOR"], "DedicatedConnection"),
        (&["QUIT"], "drop the handle"),
    ];
    for (args, hint) in cases {
        assert_refused(&mut con, args, hint).await;
        assert_refused(&mut managed, args, hint).await;
    }
    // Inside a pipeline too.
    let mut p = pipe();
    p.cmd("SET").arg("k").arg(1).cmd("SELECT").arg(2);
    assert!(matches!(
        p.query::<Value>(&mut con).await,
        Err(Error::InvalidRequest(_))
    ));
    // Nothing was sent: the socket is still on db 0 and in step.
    let db: Vec<(String, String)> = cmd("CLIENT")
        .with("INFO")
        .query::<String>(&mut con)
        .await
        .map(|s| {
            s.split_whitespace()
                .filter_map(|kv| kv.split_once('='))
                .filter(|(k, _)| *k == "db")
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect()
        })
        .unwrap();
    assert_eq!(db, [("db".to_owned(), "0".to_owned())]);
    // An atomic pipeline (MULTI..EXEC in one request, no WATCH) is still fine.
    let key = unique_key("atomic");
    let mut p = pipe();
    p.atomic()
        .add(commands::incr(&key, 1))
        .add(commands::incr(&key, 1));
    let (a, b): (i64, i64) = p.query(&mut con).await.unwrap();
    assert_eq!((a, b), (1, 2));
    let (c,): (i64,) = {
        let mut p = pipe();
        p.atomic().add(commands::incr(&key, 1));
        p.query(&mut managed).await.unwrap()
    };
    assert_eq!(c, 3);
}

/// The lost update of the report: WATCH on a shared connection, another caller's EXEC on
/// the same socket clears it, and a conflicting write goes unnoticed. The WATCH is now
/// refused, so no flow can believe it holds one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_on_a_shared_connection_is_refused_so_no_update_is_lost() {
    let server = RedisServer::start();
    let client = Client::open(server.config()).unwrap();
    let mut shared = client.get_connection().await.unwrap();
    let mut managed = client.get_managed_connection().await.unwrap();
    let mut other = client.get_connection().await.unwrap();
    let key = unique_key("balance");
    let _: () = other.set(&key, 100).await.unwrap();
    let r = cmd("WATCH").with(&key).query::<()>(&mut shared).await;
    assert!(matches!(r, Err(Error::InvalidRequest(_))), "{r:?}");
    let r = cmd("WATCH").with(&key).query::<()>(&mut managed).await;
    assert!(matches!(r, Err(Error::InvalidRequest(_))), "{r:?}");
    // The balance is what the other writer left; nothing committed behind its back.
    let _: () = other.set(&key, 500).await.unwrap();
    let v: i64 = shared.get(&key).await.unwrap();
    assert_eq!(v, 500);
}

// ---------------------------------------------------------------------------------------
// Defect 8: a stalled or half-open link is replaced
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_managed_connection_replaces_a_black_holed_link_and_mixes_no_replies() {
    let server = RedisServer::start();
    let proxy = Proxy::start(&server.addr());
    let mut config = via(&server, &proxy);
    config.response_timeout = Duration::from_millis(300);
    config.connect_timeout = Duration::from_millis(500);
    let client = Client::open(config).unwrap();
    let managed = client.get_managed_connection().await.unwrap();
    let mut probe = managed.clone();
    let _: String = probe.ping().await.unwrap();
    assert_eq!(managed.generation(), 1);

    blocking(|| proxy.blackhole(true));
    let mut tasks = Vec::new();
    for t in 0..4 {
        let mut con = managed.clone();
        tasks.push(tokio::spawn(async move {
            let mut wrong = Vec::new();
            let mut errors = 0;
            for i in 0..3 {
                let payload = format!("stall:{t}:{i}");
                match cmd("ECHO").with(&payload).query::<String>(&mut con).await {
                    Ok(back) if back != payload => wrong.push(back),
                    Ok(_) => {}
                    Err(_) => errors += 1,
                }
            }
            (wrong, errors)
        }));
    }
    let mut errors = 0;
    for t in tasks {
        let (wrong, e) = tokio::time::timeout(Duration::from_secs(30), t)
            .await
            .expect("a request hung on a black-holed link")
            .unwrap();
        assert!(
            wrong.is_empty(),
            "replies reached the wrong caller: {wrong:?}"
        );
        errors += e;
    }
    assert!(errors > 0, "nothing failed while the link was black-holed");
    // The old link comes back to life (the proxy delivers what it held): a handle that
    // kept it would carry on with generation 1. It must have moved to a fresh socket.
    blocking(|| proxy.blackhole(false));
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let payload = unique_key("after");
        match cmd("ECHO").with(&payload).query::<String>(&mut probe).await {
            Ok(back) => {
                assert_eq!(back, payload);
                break;
            }
            Err(e) => assert!(Instant::now() < deadline, "never recovered: {e:?}"),
        }
    }
    assert!(
        managed.generation() >= 2,
        "the stalled socket was kept (generation {})",
        managed.generation()
    );
    for i in 0..50 {
        let payload = format!("fresh:{i}");
        let back: String = cmd("ECHO").with(&payload).query(&mut probe).await.unwrap();
        assert_eq!(back, payload);
    }
}

/// The driver itself notices that its oldest request is overdue and fails the link, so a
/// plain multiplexed handle reports dead instead of queueing behind a silent server; the
/// events say what happened.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_overdue_request_fails_the_link_with_unresponsive_and_disconnected_events() {
    let server = RedisServer::start();
    let proxy = Proxy::start(&server.addr());
    let mut config = via(&server, &proxy);
    config.response_timeout = Duration::from_millis(300);
    let client = Client::open(config.clone()).unwrap();
    let mut events = client.events();
    let mut con = client.get_connection().await.unwrap();
    assert_eq!(
        next_event(&mut events).await,
        ConnectionEvent::Connected {
            addr: config.addr.clone()
        }
    );
    let _: String = con.ping().await.unwrap();

    blocking(|| proxy.blackhole(true));
    let r: redis_async::Result<String> = con.ping().await;
    assert!(
        matches!(
            r,
            Err(Error::Timeout { .. }) | Err(Error::MayHaveExecuted(_))
        ),
        "{r:?}"
    );
    match next_event(&mut events).await {
        ConnectionEvent::Unresponsive { addr, waited } => {
            assert_eq!(addr, config.addr);
            assert!(waited >= Duration::from_millis(300), "{waited:?}");
        }
        other => panic!("expected Unresponsive, got {other:?}"),
    }
    match next_event(&mut events).await {
        ConnectionEvent::Disconnected { addr, cause } => {
            assert_eq!(addr, config.addr);
            assert!(cause.contains("timed out"), "{cause}");
        }
        other => panic!("expected Disconnected, got {other:?}"),
    }
    assert!(con.is_dead());
    blocking(|| proxy.blackhole(false));
}

/// A write that makes no progress for `write_timeout` fails the link, with the write
/// timeout as the cause the caller sees.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_stuck_past_the_write_timeout_fails_the_link() {
    let server = RedisServer::start();
    let proxy = Proxy::start(&server.addr());
    let mut config = via(&server, &proxy);
    config.response_timeout = Duration::from_secs(60);
    config.write_timeout = Duration::from_millis(300);
    let client = Client::open(config).unwrap();
    let mut con = client.get_connection().await.unwrap();
    let _: String = con.ping().await.unwrap();
    blocking(|| proxy.blackhole(true));
    // 64 MiB: far more than the socket buffers between us and the stalled proxy.
    let big = vec![b'w'; 64 << 20];
    let started = Instant::now();
    let r = tokio::time::timeout(
        Duration::from_secs(30),
        cmd("SET").with("big").with(&big[..]).query::<()>(&mut con),
    )
    .await
    .expect("the stuck write was never cut");
    match r {
        Err(Error::MayHaveExecuted(cause)) => assert!(
            matches!(*cause, Error::Timeout { what: "write", .. }),
            "{cause:?}"
        ),
        other => panic!("expected MayHaveExecuted(write timeout), got {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(30));
    assert!(con.is_dead());
    blocking(|| proxy.blackhole(false));
}

// ---------------------------------------------------------------------------------------
// Defect 9: the driver reads while it writes
// ---------------------------------------------------------------------------------------

/// A peer that answers a pipeline before reading it all: after the first request, 16 MiB
/// of replies are sent before the remaining 16 MiB of requests are read. A driver that only reads after its write completes
/// deadlocks with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pipeline_larger_than_the_socket_buffers_cannot_deadlock_the_driver() {
    const N: usize = 256;
    const LEN: usize = 64 * 1024;
    let value = vec![b'p'; LEN];
    let mut request = cmd("ECHO");
    request.arg(&value[..]);
    let request_len = request.packed().len();
    let mut reply = format!("${LEN}\r\n").into_bytes();
    reply.extend_from_slice(&value);
    reply.extend_from_slice(b"\r\n");
    let replies = reply.repeat(N);
    let peer = FakePeer::start(vec![
        // The first request proves the pipeline is on its way (a reply before any
        // request would be a reply nobody asked for), then every reply before the rest.
        FakeStep::ReadBytes(request_len),
        FakeStep::Send(replies),
        FakeStep::ReadBytes(request_len * (N - 1)),
        FakeStep::expect_command(&["PING"]),
        FakeStep::send("+PONG\r\n"),
    ]);
    let mut config = peer_config(&peer);
    config.response_timeout = Duration::from_secs(60);
    let mut con = open_shared(config).await;
    let mut p = pipe();
    for _ in 0..N {
        p.add(request.clone());
    }
    let out: Vec<bytes::Bytes> = tokio::time::timeout(Duration::from_secs(30), p.query(&mut con))
        .await
        .expect("the pipeline deadlocked")
        .unwrap();
    assert_eq!(out.len(), N);
    assert!(out.iter().all(|b| b[..] == value[..]));
    let pong: String = con.ping().await.unwrap();
    assert_eq!(pong, "PONG");
    peer.wait_done().unwrap();
}

/// The same shape against a real server: 64 MiB of requests whose replies are 64 MiB.
/// Redis 7 buffers a client's replies without limit by default and keeps reading, so this
/// one completed before the fix too; the scripted peer above is the regression test.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_pipeline_of_sets_and_gets_completes_on_a_real_server() {
    let server = RedisServer::start();
    let mut config = server.config();
    config.response_timeout = Duration::from_secs(60);
    let mut con = Client::open(config)
        .unwrap()
        .get_connection()
        .await
        .unwrap();
    let value = vec![b'v'; 1024];
    let prefix = unique_key("bigpipe");
    let mut p = pipe();
    for i in 0..65_536 {
        p.add(commands::set(format!("{prefix}:{}", i % 1024), &value[..]))
            .ignore();
        p.add(commands::get(format!("{prefix}:{}", i % 1024)));
    }
    let got: Vec<bytes::Bytes> = tokio::time::timeout(Duration::from_secs(60), p.query(&mut con))
        .await
        .expect("the pipeline hung")
        .unwrap();
    assert_eq!(got.len(), 65_536);
    assert!(got.iter().all(|b| b[..] == value[..]));
}

// ---------------------------------------------------------------------------------------
// Defects 11 and 15: no retry of a cut write by default; the cause is kept
// ---------------------------------------------------------------------------------------

/// A SET whose reply is lost when the link is cut: by default the caller is told it may
/// have executed (with the I/O error inside), and only the opt-in retries it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_set_cut_by_a_killed_connection_returns_may_have_executed_by_default() {
    let server = RedisServer::start();
    let proxy = Proxy::start(&server.addr());
    for opt_in in [false, true] {
        let config = via(&server, &proxy).with_retry_idempotent_writes(opt_in);
        let client = Client::open(config).unwrap();
        let mut con = client.get_managed_connection().await.unwrap();
        let _: String = con.ping().await.unwrap();
        let key = unique_key("cut");
        blocking(|| proxy.set_delay(Duration::from_millis(300)));
        let set = tokio::spawn({
            let mut con = con.clone();
            let key = key.clone();
            async move { con.set::<_, _, ()>(&key, "mine").await }
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
        blocking(|| proxy.cut());
        blocking(|| proxy.set_delay(Duration::ZERO));
        let r = tokio::time::timeout(Duration::from_secs(20), set)
            .await
            .unwrap()
            .unwrap();
        if opt_in {
            r.unwrap();
            let v: String = con.get(&key).await.unwrap();
            assert_eq!(v, "mine");
        } else {
            match r {
                Err(Error::MayHaveExecuted(cause)) => {
                    assert!(matches!(*cause, Error::Io(_)), "{cause:?}")
                }
                other => panic!("a cut SET must not be retried by default: {other:?}"),
            }
        }
        // A read is retried either way.
        let _: Option<String> = con.get(&key).await.unwrap();
    }
}

/// A protocol violation ends every request in flight with `MayHaveExecuted(Protocol)`, not
/// a flattened I/O error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn may_have_executed_keeps_a_protocol_cause() {
    let peer = FakePeer::start(vec![
        FakeStep::expect_command(&["GET", "k"]),
        FakeStep::send("?garbage\r\n"),
        FakeStep::ReadUntilClosed,
    ]);
    let mut con = open_shared(peer_config(&peer)).await;
    let r: redis_async::Result<Option<String>> = con.get("k").await;
    match r {
        Err(Error::MayHaveExecuted(cause)) => {
            assert!(matches!(*cause, Error::Protocol(_)), "{cause:?}")
        }
        other => panic!("expected MayHaveExecuted(Protocol), got {other:?}"),
    }
    assert!(con.is_dead());
    peer.wait_done().unwrap();
}

// ---------------------------------------------------------------------------------------
// Defect 17: blocking commands never stall the shared socket
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blpop_on_the_shared_connection_does_not_stall_other_callers() {
    let server = RedisServer::start();
    let client = Client::open(server.config()).unwrap();
    let mut con = client.get_connection().await.unwrap();
    let managed = client.get_managed_connection().await.unwrap();
    let list = unique_key("blpop");
    let key = unique_key("plain");
    let _: () = con.set(&key, "v").await.unwrap();

    for shared in [true, false] {
        let blpop = {
            let l = list.clone();
            let mut con = con.clone();
            let mut managed = managed.clone();
            tokio::spawn(async move {
                let r: Option<(String, String)> = if shared {
                    con.blpop(&l, 2.0).await.unwrap()
                } else {
                    managed.blpop(&l, 2.0).await.unwrap()
                };
                r
            })
        };
        // Wait until the server holds it blocked: on a shared socket the INFO itself
        // would wait behind the BLPOP.
        let deadline = Instant::now() + Duration::from_secs(5);
        while info_field(&mut con, "clients", "blocked_clients").await != "1" {
            assert!(
                Instant::now() < deadline,
                "BLPOP never blocked (or stalled INFO)"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let v: String = con.get(&key).await.unwrap();
        assert_eq!(v, "v");
        assert!(
            !blpop.is_finished(),
            "the GET only returned after the BLPOP ended"
        );
        assert_eq!(
            info_field(&mut con, "clients", "blocked_clients").await,
            "1"
        );
        // Serve it, and check the BLPOP got the element.
        let _: i64 = con.rpush(&list, "x").await.unwrap();
        assert_eq!(blpop.await.unwrap(), Some((list.clone(), "x".to_owned())));
    }
}

// ---------------------------------------------------------------------------------------
// Seam: connection events
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_report_connects_and_disconnects_with_their_cause() {
    let server = RedisServer::start();
    let config = server.config();
    let client = Client::open(config.clone()).unwrap();
    let mut events = client.events();
    let managed = client.get_managed_connection().await.unwrap();
    assert_eq!(
        next_event(&mut events).await,
        ConnectionEvent::Connected {
            addr: config.addr.clone()
        }
    );
    let mut con = managed.clone();
    let id: i64 = cmd("CLIENT").with("ID").query(&mut con).await.unwrap();
    let mut admin = client.get_dedicated_connection().await.unwrap();
    let _: i64 = cmd("CLIENT")
        .with("KILL")
        .with("ID")
        .with(id)
        .query(&mut admin)
        .await
        .unwrap();
    match next_event(&mut events).await {
        ConnectionEvent::Disconnected { addr, cause } => {
            assert_eq!(addr, config.addr);
            assert!(cause.contains("closed"), "{cause}");
        }
        other => panic!("expected Disconnected, got {other:?}"),
    }
    // The managed handle reconnects on next use, and says so.
    let _: String = con.ping().await.unwrap();
    assert_eq!(
        next_event(&mut events).await,
        ConnectionEvent::Connected { addr: config.addr }
    );
    assert_eq!(managed.generation(), 2);
}

/// The dedicated connection kept for blocking commands may be closed by the server while
/// idle; the next blocking command must not fail on it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kept_blocking_connection_closed_while_idle_is_not_reused() {
    let server = RedisServer::start();
    let client = Client::open(server.config()).unwrap();
    let mut con = client.get_connection().await.unwrap();
    let list = unique_key("idle");
    let r: Option<(String, String)> = con.blpop(&list, 0.05).await.unwrap();
    assert_eq!(r, None);
    // Kill the connection that ran the BLPOP (now idle and kept by the handle).
    let clients: String = cmd("CLIENT").with("LIST").query(&mut con).await.unwrap();
    let id = clients
        .lines()
        .find(|l| l.contains("cmd=blpop"))
        .and_then(|l| l.split_whitespace().find_map(|f| f.strip_prefix("id=")))
        .unwrap_or_else(|| panic!("no BLPOP connection in {clients}"))
        .to_owned();
    let killed: i64 = cmd("CLIENT")
        .with("KILL")
        .with("ID")
        .with(&id)
        .query(&mut con)
        .await
        .unwrap();
    assert_eq!(killed, 1);
    tokio::time::sleep(Duration::from_millis(50)).await; // let the close reach us
    let r: Option<(String, String)> = con.blpop(&list, 0.05).await.unwrap();
    assert_eq!(r, None);
}

/// The push sink of a managed handle outlives its sockets: a subscriber taken before a
/// reconnect still gets the pushes of the replacement.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_managed_push_subscriber_keeps_receiving_after_a_reconnect() {
    let push = |n: &str| format!(">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\n{n}\r\n");
    let peer = FakePeer::start(vec![
        FakeStep::expect_command(&["PING"]),
        FakeStep::send(push("a") + "+PONG\r\n"),
        FakeStep::Close,
        FakeStep::Accept,
        FakeStep::expect_command(&["PING"]),
        FakeStep::send(push("b") + "+PONG\r\n"),
    ]);
    let managed = Client::open(peer_config(&peer))
        .unwrap()
        .get_managed_connection()
        .await
        .unwrap();
    let mut pushes = managed.pushes();
    let mut con = managed.clone();
    let pong: String = con.ping().await.unwrap();
    assert_eq!(pong, "PONG");
    // The peer closes the first socket; PING is read-only, so it is retried on the next.
    let pong: String = con.ping().await.unwrap();
    assert_eq!(pong, "PONG");
    assert_eq!(managed.generation(), 2);
    for key in ["a", "b"] {
        let got = tokio::time::timeout(Duration::from_secs(5), pushes.recv())
            .await
            .unwrap()
            .unwrap();
        let Value::Push(parts) = got else {
            panic!("not a push: {got:?}")
        };
        assert_eq!(
            parts[1],
            Value::Array(vec![Value::BulkString(bytes::Bytes::from(key))])
        );
    }
    peer.wait_done().unwrap();
}

/// A request staged behind a write that never completed did not reach the server: it is
/// reported as never sent (`Broken`, safe to retry), not as possibly executed.
#[tokio::test(flavor = "current_thread")]
async fn a_request_behind_a_stuck_write_is_reported_as_never_sent() {
    let server = RedisServer::start();
    let proxy = Proxy::start(&server.addr());
    let mut config = via(&server, &proxy);
    config.response_timeout = Duration::from_secs(60);
    config.write_timeout = Duration::from_millis(300);
    let client = Client::open(config).unwrap();
    let con = client.get_connection().await.unwrap();
    let (mut a, mut b) = (con.clone(), con.clone());
    let _: String = a.ping().await.unwrap();
    proxy.blackhole(true); // an atomic flag: fine on this single-threaded runtime
    let big = vec![b'w'; 64 << 20];
    // One runtime thread: both requests are queued before the driver runs, so they are
    // staged in the same batch, the ECHO behind the SET.
    let set = cmd("SET").with("big").with(&big[..]);
    let echo = cmd("ECHO").with("behind");
    let (set, echo) = tokio::time::timeout(Duration::from_secs(30), async {
        tokio::join!(set.query::<()>(&mut a), echo.query::<String>(&mut b))
    })
    .await
    .expect("the stuck write was never cut");
    assert!(
        matches!(&set, Err(Error::MayHaveExecuted(c)) if matches!(**c, Error::Timeout { what: "write", .. })),
        "{set:?}"
    );
    assert!(matches!(echo, Err(Error::Broken(_))), "{echo:?}");
    proxy.blackhole(false);
}

// ---------------------------------------------------------------------------------------
// Issue 10: the driver enforces each request's response timeout (no timer per request)
// ---------------------------------------------------------------------------------------

/// A request that times out behind a slow one fails with its own `Timeout`, its late
/// reply reaches no one, and the shared link stays in step: the slow request still gets
/// its reply, and the next request on the timed-out handle gets its own.
async fn a_timed_out_request_leaves_the_link_in_step() {
    let server = RedisServer::start();
    let client = Client::open(server.config()).unwrap();
    let mut slow = client.get_connection().await.unwrap();
    let mut hasty = slow.clone();
    hasty.set_response_timeout(Duration::from_millis(200));
    let sleep = cmd("DEBUG").with("SLEEP").with("0.5");
    let echo = cmd("ECHO").with("late");
    // The ECHO is written after the DEBUG SLEEP (same socket), so its reply cannot come
    // before the sleep ends, 300 ms after its own limit: it must time out.
    let (slept, echoed) = tokio::join!(sleep.query::<String>(&mut slow), async {
        tokio::task::yield_now().await;
        echo.query::<String>(&mut hasty).await
    });
    assert_eq!(slept.unwrap(), "OK");
    assert!(
        matches!(
            echoed,
            Err(Error::Timeout {
                what: "response",
                ..
            })
        ),
        "{echoed:?}"
    );
    assert!(
        !hasty.is_dead(),
        "a caller's timeout must not drop the link"
    );
    for i in 0..3 {
        let want = format!("next-{i}");
        let got: String = cmd("ECHO").with(&want).query(&mut hasty).await.unwrap();
        assert_eq!(got, want, "a late reply reached the next request");
    }
    let got: String = cmd("ECHO").with("slow").query(&mut slow).await.unwrap();
    assert_eq!(got, "slow");
}

#[tokio::test(flavor = "current_thread")]
async fn a_timed_out_request_leaves_the_link_in_step_current_thread() {
    a_timed_out_request_leaves_the_link_in_step().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timed_out_request_leaves_the_link_in_step_multi_thread() {
    a_timed_out_request_leaves_the_link_in_step().await;
}

/// A request queued while the driver is stuck writing an earlier one is still answered
/// at its own deadline with `Timeout` (the driver takes it from the channel and knows
/// its deadline), not held until the write timeout drops the link.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_queued_behind_a_stuck_write_times_out_at_its_own_deadline() {
    let server = RedisServer::start();
    let proxy = Proxy::start(&server.addr());
    let mut config = via(&server, &proxy);
    config.response_timeout = Duration::from_secs(60);
    config.write_timeout = Duration::from_secs(60);
    let client = Client::open(config).unwrap();
    let con = client.get_connection().await.unwrap();
    let (mut a, mut b) = (con.clone(), con.clone());
    b.set_response_timeout(Duration::from_millis(300));
    let _: String = a.ping().await.unwrap();
    blocking(|| proxy.blackhole(true));
    // 64 MiB: far more than the socket buffers between us and the stalled proxy.
    let big = vec![b'w'; 64 << 20];
    let set = tokio::spawn(async move {
        cmd("SET")
            .with("big")
            .with(&big[..])
            .query::<()>(&mut a)
            .await
    });
    // Let the driver stage the SET and block on its write.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let r = tokio::time::timeout(
        Duration::from_secs(30),
        cmd("ECHO").with("behind").query::<String>(&mut b),
    )
    .await
    .expect("a queued request waited far beyond its limit");
    assert!(
        matches!(
            r,
            Err(Error::Timeout {
                what: "response",
                ..
            })
        ),
        "{r:?}"
    );
    assert!(!con.is_dead(), "nothing timed out but the queued request");
    con.abort_handle().abort("the test is over");
    let _ = set.await;
    blocking(|| proxy.blackhole(false));
}

// ---------------------------------------------------------------------------------------
// Replies that arrived before the server closed the link
// ---------------------------------------------------------------------------------------

/// Forty callers share a connection; the server answers all of them, then closes, and
/// the client reads the replies and the end of the stream together. Every caller gets its
/// own reply: the driver wakes callers a share at a time (its wake budget), and it must
/// still hand out every reply that arrived whole before it acts on the end of the stream
/// (it failed the 24 past the first share with `MayHaveExecuted`).
#[tokio::test(flavor = "current_thread")]
async fn replies_that_arrived_before_the_server_closed_reach_their_callers() {
    const CALLERS: usize = 40;
    let mut script: Vec<FakeStep> = (0..CALLERS).map(|_| FakeStep::ReadCommand).collect();
    let replies: String = (0..CALLERS)
        .map(|i| {
            let v = format!("v{i}");
            format!("${}\r\n{v}\r\n", v.len())
        })
        .collect();
    script.push(FakeStep::send(&replies));
    script.push(FakeStep::Close);
    let peer = FakePeer::start(script);
    let con = open_shared(peer_config(&peer)).await;
    let tasks: Vec<_> = (0..CALLERS)
        .map(|i| {
            let mut con = con.clone();
            tokio::spawn(async move { con.get::<_, String>(format!("k{i}")).await })
        })
        .collect();
    // Let the callers and the driver run until the requests are written, then keep the
    // runtime's only thread from reading until the peer has answered and closed: the
    // replies and the end of the stream then wait in the socket together.
    for _ in 0..50 {
        tokio::task::yield_now().await;
    }
    std::thread::sleep(Duration::from_millis(300));
    let mut failed = Vec::new();
    for (i, task) in tasks.into_iter().enumerate() {
        let got = tokio::time::timeout(Duration::from_secs(10), task)
            .await
            .expect("a caller hung")
            .unwrap();
        match got {
            Ok(v) => assert_eq!(v, format!("v{i}"), "caller {i} got another caller's reply"),
            Err(e) => failed.push(format!("{i}: {e}")),
        }
    }
    assert!(
        failed.is_empty(),
        "{} of {CALLERS} callers lost a reply that had arrived: {failed:?}",
        failed.len()
    );
    peer.wait_done().unwrap();
}
