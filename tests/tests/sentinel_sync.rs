//! The blocking Sentinel client (`redis_sentinel::sync`) against real sentinels (issue 8):
//! primary + 2 replicas + 3 sentinels on loopback, `down-after-milliseconds` 1000.
//!
//! Each test prints its figures (time from the switch to the first acknowledged write on
//! the new primary, acknowledged writes lost, errors inside the switch window) and asserts
//! only correctness: no acknowledged write lost, no error outside the switch window, no
//! connection to the old primary left, typed errors. Timeouts are hang guards, never speed
//! assertions. The tests run one at a time (each starts six processes, and failure
//! detection at 1 s must not starve on a busy machine).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use redis_sentinel::sync::Sentinel;
use redis_sentinel::{ReadFrom, SentinelErrorKind};
use redis_sync::prelude::*;
use redis_sync::{Addr, Pool};
use redis_tests::{RedisServer, SentinelSetup};

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Generous bound on waits that only guard against a hang.
const GUARD: Duration = Duration::from_secs(60);

fn addr_of(node: &RedisServer) -> Addr {
    Addr::tcp("127.0.0.1", node.port())
}

fn sentinel_of(setup: &SentinelSetup) -> Sentinel {
    Sentinel::new(setup.sentinel_addrs(), setup.sentinel_config())
}

/// The data nodes' config with a client name, so `CLIENT LIST` on a node shows which of
/// its connections are this test's.
fn data_config(setup: &SentinelSetup, name: &str) -> Config {
    let mut config = setup.data_config();
    config.client_name = Some(name.to_owned());
    config
}

/// How many connections named `name` node has now.
fn connections_named(node: &RedisServer, name: &str) -> usize {
    node.cli(&["CLIENT", "LIST"])
        .lines()
        .filter(|l| l.contains(&format!(" name={name} ")))
        .count()
}

/// `INFO commandstats` calls of `command` on node.
fn calls(node: &RedisServer, command: &str) -> u64 {
    let info = node.cli(&["INFO", "commandstats"]);
    let prefix = format!("cmdstat_{command}:calls=");
    info.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .and_then(|rest| rest.split(',').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// Polls `check` every 20 ms until it holds; false after `limit`.
fn eventually(limit: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if check() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// When the test itself hears `+switch-master` on a sentinel: the switch as the sentinels
/// announce it, independent of the client under test.
struct SwitchHeard {
    at: Arc<Mutex<Option<Instant>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl SwitchHeard {
    fn start(setup: &SentinelSetup) -> SwitchHeard {
        let at = Arc::new(Mutex::new(None));
        let stop = Arc::new(AtomicBool::new(false));
        let mut sub = Client::open(setup.sentinel_config())
            .unwrap()
            .get_pubsub()
            .unwrap();
        sub.subscribe("+switch-master").unwrap();
        let (at2, stop2) = (at.clone(), stop.clone());
        let thread = thread::spawn(move || {
            while !stop2.load(Ordering::Relaxed) {
                if let Ok(Some(_)) = sub.get_message(Duration::from_millis(50)) {
                    at2.lock().unwrap().get_or_insert_with(Instant::now);
                }
            }
        });
        SwitchHeard {
            at,
            stop,
            thread: Some(thread),
        }
    }

    fn at(&self) -> Option<Instant> {
        *self.at.lock().unwrap()
    }
}

impl Drop for SwitchHeard {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// When the client under test stopped counting `old` as current (its source switched).
fn watch_applied(client: &Client, old: Addr, stop: Arc<AtomicBool>) -> JoinHandle<Option<Instant>> {
    let source = client.source().clone();
    thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            if !source.is_current(&old) {
                return Some(Instant::now());
            }
            thread::sleep(Duration::from_millis(1));
        }
        None
    })
}

/// One write as its caller saw it.
struct Write {
    key: String,
    started: Instant,
    ended: Instant,
    error: Option<String>,
}

/// `threads` writers, each `SET <tag>:<thread>:<n> n` through `pool` until `stop`, pausing
/// `pause` between writes.
fn write_load(
    pool: &Pool,
    tag: &str,
    threads: usize,
    pause: Duration,
    stop: &Arc<AtomicBool>,
) -> Vec<JoinHandle<Vec<Write>>> {
    (0..threads)
        .map(|t| {
            let (pool, stop, tag) = (pool.clone(), stop.clone(), tag.to_owned());
            thread::spawn(move || {
                let mut done = Vec::new();
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let key = format!("{tag}:{t}:{n}");
                    let started = Instant::now();
                    let result = pool.get().and_then(|mut con| con.set::<_, _, ()>(&key, n));
                    let error = result.err().map(|e| e.to_string());
                    let failed = error.is_some();
                    done.push(Write {
                        key,
                        started,
                        ended: Instant::now(),
                        error,
                    });
                    thread::sleep(if failed {
                        Duration::from_millis(20)
                    } else {
                        pause
                    });
                }
                done
            })
        })
        .collect()
}

/// `threads` writers on long-lived connections of their own (`client.get_connection()`
/// once, and again only after an error), like [`write_load`].
fn connection_writers(
    client: &Client,
    tag: &str,
    threads: usize,
    pause: Duration,
    stop: &Arc<AtomicBool>,
) -> Vec<JoinHandle<Vec<Write>>> {
    (0..threads)
        .map(|t| {
            let (client, stop, tag) = (client.clone(), stop.clone(), tag.to_owned());
            thread::spawn(move || {
                let mut done = Vec::new();
                let mut con: Option<Connection> = None;
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let key = format!("{tag}:c{t}:{n}");
                    let started = Instant::now();
                    let result = match con.as_mut() {
                        Some(c) => c.set::<_, _, ()>(&key, n),
                        None => client.get_connection().and_then(|mut c| {
                            let r = c.set::<_, _, ()>(&key, n);
                            con = Some(c);
                            r
                        }),
                    };
                    let error = result.err().map(|e| e.to_string());
                    if error.is_some() {
                        con = None;
                    }
                    let failed = error.is_some();
                    done.push(Write {
                        key,
                        started,
                        ended: Instant::now(),
                        error,
                    });
                    thread::sleep(if failed {
                        Duration::from_millis(20)
                    } else {
                        pause
                    });
                }
                done
            })
        })
        .collect()
}

fn join_all(handles: Vec<JoinHandle<Vec<Write>>>) -> Vec<Write> {
    handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect()
}

/// How many of `keys` the node at `node` does not have.
fn missing_on(node: &RedisServer, keys: &[&str]) -> usize {
    let mut con = Client::open(node.config())
        .unwrap()
        .get_connection()
        .unwrap();
    keys.chunks(500)
        .map(|chunk| {
            let values: Vec<Option<String>> = cmd("MGET").with(chunk).query(&mut con).unwrap();
            values.iter().filter(|v| v.is_none()).count()
        })
        .sum()
}

/// One read: when it started and ended, and its error if it failed.
type Read = (Instant, Instant, Option<String>);

/// Error texts and how often each came (the first 60 characters).
fn error_kinds<'a>(writes: impl Iterator<Item = &'a Write>) -> Vec<(String, usize)> {
    let mut kinds: Vec<(String, usize)> = Vec::new();
    for w in writes {
        if let Some(e) = &w.error {
            let short: String = e.chars().take(60).collect();
            match kinds.iter_mut().find(|(k, _)| *k == short) {
                Some((_, n)) => *n += 1,
                None => kinds.push((short, 1)),
            }
        }
    }
    kinds
}

#[test]
fn frozen_primary_under_write_load_loses_no_acknowledged_write() {
    let _serial = serial();
    let mut setup = SentinelSetup::start();
    let sentinel = sentinel_of(&setup);
    let client = sentinel
        .master_for(setup.service(), data_config(&setup, "ss-freeze"))
        .unwrap();
    let pool = client.pool(8).unwrap();
    pool.get().unwrap().set::<_, _, ()>("warm", 1).unwrap();
    let heard = SwitchHeard::start(&setup);

    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = write_load(&pool, "freeze", 8, Duration::from_millis(2), &stop);
    writers.extend(connection_writers(
        &client,
        "freeze",
        2,
        Duration::from_millis(2),
        &stop,
    ));
    thread::sleep(Duration::from_secs(1));

    let frozen_at = Instant::now();
    let old = setup.pause_primary();
    let new = setup.wait_primary_changed(old, GUARD);
    thread::sleep((frozen_at + Duration::from_secs(7)).saturating_duration_since(Instant::now()));
    setup.resume(old);
    let resumed_at = Instant::now();
    // Back, and still believing it is the primary: none of the client's connections is
    // left there (they were aborted at the switch; the node now sees them closed).
    let left_at_resume = connections_named(&setup.nodes()[old], "ss-freeze");
    let closed = eventually(Duration::from_secs(10), || {
        connections_named(&setup.nodes()[old], "ss-freeze") == 0
    });
    // Writes go on while the old primary is back but not yet demoted: the window in which
    // a client that did not follow the switch loses what it writes.
    setup.wait_role(old, "slave", GUARD);
    let demoted_after = resumed_at.elapsed();
    thread::sleep(Duration::from_millis(500));
    stop.store(true, Ordering::Relaxed);
    let writes = join_all(writers);

    let switched = heard.at().expect("the test heard +switch-master");
    let acked: Vec<&str> = writes
        .iter()
        .filter(|w| w.error.is_none())
        .map(|w| w.key.as_str())
        .collect();
    // The frozen primary acknowledges nothing: the first write acknowledged after the
    // freeze is on the new primary (and the lost count below checks it).
    let resumed_writing = writes
        .iter()
        .filter(|w| w.error.is_none() && w.started > frozen_at + Duration::from_millis(50))
        .map(|w| w.ended)
        .min()
        .expect("writes succeed after the switch");
    let ms = |a: Instant, b: Instant| {
        if a >= b {
            (a - b).as_millis() as i64
        } else {
            -((b - a).as_millis() as i64)
        }
    };
    let lost = missing_on(&setup.nodes()[new], &acked);
    let errors = writes.iter().filter(|w| w.error.is_some()).count();
    println!(
        "sync freeze (pool of 8 for 8 threads + 2 long-lived connections): primary frozen \
         7 s; client connections on it right after SIGCONT {left_at_resume}; +switch-master {:?} after the freeze; first acknowledged write on the new \
         primary {:?} after the freeze, {} ms from +switch-master (negative: before it, the \
         client followed +selected-slave); old primary demoted {:?} after SIGCONT; {} writes, \
         {} acknowledged, {} errors, acknowledged writes lost: {lost}",
        switched - frozen_at,
        resumed_writing - frozen_at,
        ms(resumed_writing, switched),
        demoted_after,
        writes.len(),
        acked.len(),
        errors,
    );
    println!("sync freeze errors: {:?}", error_kinds(writes.iter()));
    assert!(
        writes
            .iter()
            .any(|w| w.error.is_none() && w.started > resumed_at),
        "writes went on after the old primary came back"
    );
    assert!(closed, "connections to the old primary survived the switch");
    assert_eq!(lost, 0, "acknowledged writes missing on the new primary");
}

#[test]
fn graceful_failover_under_load_pool_of_8_for_64_threads_and_pubsub() {
    let _serial = serial();
    let mut setup = SentinelSetup::start();
    let sentinel = sentinel_of(&setup);
    let name = "ss-graceful";
    let client = sentinel
        .master_for(setup.service(), data_config(&setup, name))
        .unwrap();
    let pool = client.pool(8).unwrap();
    pool.get().unwrap().set::<_, _, ()>("warm", 1).unwrap();
    let old = setup.primary_index();
    let old_addr = addr_of(&setup.nodes()[old]);
    let stop = Arc::new(AtomicBool::new(false));
    let applied = watch_applied(&client, old_addr, stop.clone());

    // A subscriber through the same client: when its connection ends, it subscribes again
    // through the client (which then reaches the new primary).
    let received = Arc::new(Mutex::new(HashSet::<u64>::new()));
    let resubscribed = Arc::new(Mutex::new(0u32));
    let subscriber = {
        let (client, stop, received, resubscribed) = (
            client.clone(),
            stop.clone(),
            received.clone(),
            resubscribed.clone(),
        );
        let ready = Arc::new(AtomicBool::new(false));
        let ready2 = ready.clone();
        let t = thread::spawn(move || {
            let mut first = true;
            while !stop.load(Ordering::Relaxed) {
                let sub = client.get_pubsub().and_then(|mut s| {
                    s.subscribe("ss-news")?;
                    Ok(s)
                });
                let Ok(mut sub) = sub else {
                    thread::sleep(Duration::from_millis(20));
                    continue;
                };
                if !first {
                    *resubscribed.lock().unwrap() += 1;
                }
                first = false;
                ready2.store(true, Ordering::Relaxed);
                while !stop.load(Ordering::Relaxed) {
                    match sub.get_message(Duration::from_millis(50)) {
                        Ok(Some(m)) => {
                            received.lock().unwrap().insert(m.payload::<u64>().unwrap());
                        }
                        Ok(None) => {}
                        Err(_) => break,
                    }
                }
            }
        });
        assert!(eventually(GUARD, || ready.load(Ordering::Relaxed)));
        t
    };
    // A publisher through the pool: (message, receivers, when published).
    let publisher = {
        let (pool, stop) = (pool.clone(), stop.clone());
        thread::spawn(move || {
            let mut sent = Vec::new();
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let r: Result<i64> = pool
                    .get()
                    .and_then(|mut con| cmd("PUBLISH").with("ss-news").with(n).query(&mut con));
                if let Ok(receivers) = r {
                    sent.push((n, receivers, Instant::now()));
                }
                thread::sleep(Duration::from_millis(20));
            }
            sent
        })
    };
    let writers = write_load(&pool, "graceful", 64, Duration::from_millis(5), &stop);
    // Readers on replicas across the failover: the promoted replica leaves their set.
    let reader_name = "ss-graceful-reader";
    let reader = sentinel
        .replica_for(
            setup.service(),
            data_config(&setup, reader_name),
            ReadFrom::RoundRobinReplicas,
        )
        .unwrap();
    let reader_pool = reader.pool(4).unwrap();
    let readers: Vec<JoinHandle<usize>> = (0..4)
        .map(|_| {
            let (pool, stop) = (reader_pool.clone(), stop.clone());
            thread::spawn(move || {
                let mut errors = 0;
                while !stop.load(Ordering::Relaxed) {
                    let r: Result<Option<String>> = pool.get().and_then(|mut c| c.get("warm"));
                    if r.is_err() {
                        errors += 1;
                    }
                    thread::sleep(Duration::from_millis(5));
                }
                errors
            })
        })
        .collect();
    thread::sleep(Duration::from_secs(1));

    let requested = Instant::now();
    let new = setup.failover();
    let mut applied_at = None;
    assert!(
        eventually(GUARD, || applied.is_finished()),
        "the client follows the switch"
    );
    if let Ok(at) = applied.join() {
        applied_at = at;
    }
    let applied_at = applied_at.expect("the client follows the switch");
    // No connection to the old primary survives the switch (pooled, in flight, pub/sub).
    let checked_after = applied_at.elapsed();
    let left_at_check = connections_named(&setup.nodes()[old], name);
    let closed = eventually(Duration::from_secs(10), || {
        connections_named(&setup.nodes()[old], name) == 0
    });
    // Nor does a replica reader stay on the promoted replica.
    let readers_left = eventually(Duration::from_secs(10), || {
        connections_named(&setup.nodes()[new], reader_name) == 0
    });
    thread::sleep(Duration::from_millis(1500));
    stop.store(true, Ordering::Relaxed);
    let writes = join_all(writers);
    let sent = publisher.join().unwrap();
    subscriber.join().unwrap();
    let read_errors: usize = readers.into_iter().map(|h| h.join().unwrap()).sum();

    // The switch window: from the failover request until the first write acknowledged
    // after the client applied the switch (the new primary may take a moment to accept:
    // a connection to it is refused by the ROLE check until its promotion is done). A
    // request that started after that must not fail.
    let first_after = writes
        .iter()
        .filter(|w| w.error.is_none() && w.started > applied_at)
        .map(|w| w.ended)
        .min()
        .expect("writes succeed after the switch");
    let before: Vec<&Write> = writes
        .iter()
        .filter(|w| w.error.is_some() && w.ended < requested)
        .collect();
    let inside: Vec<&Write> = writes
        .iter()
        .filter(|w| w.error.is_some() && w.ended >= requested && w.started <= first_after)
        .collect();
    let beyond: Vec<&Write> = writes
        .iter()
        .filter(|w| w.error.is_some() && w.started > first_after)
        .collect();
    setup.wait_role(old, "slave", GUARD);
    let acked: Vec<&str> = writes
        .iter()
        .filter(|w| w.error.is_none())
        .map(|w| w.key.as_str())
        .collect();
    let lost = missing_on(&setup.nodes()[new], &acked);
    let acked_after_switch: Vec<&str> = writes
        .iter()
        .filter(|w| w.error.is_none() && w.started > applied_at)
        .map(|w| w.key.as_str())
        .collect();
    let lost_after_switch = missing_on(&setup.nodes()[new], &acked_after_switch);
    let received = received.lock().unwrap().clone();
    let delivered: Vec<u64> = sent
        .iter()
        .filter(|(_, receivers, _)| *receivers > 0)
        .map(|(n, _, _)| *n)
        .collect();
    let after_switch = sent
        .iter()
        .filter(|(n, receivers, at)| *receivers > 0 && *at > applied_at && received.contains(n))
        .count();
    println!(
        "sync graceful failover, pool of 8 under 64 threads: client applied the switch {:?} \
         after the request; first write {:?} after that; {} writes, {} acknowledged; errors \
         before {} / inside the switch window {} / beyond {}; acknowledged writes lost: {lost}; \
         this client's connections on the old primary {:?} after the switch: {}; pub/sub: {} \
         resubscription(s), {} messages received after the switch",
        applied_at - requested,
        first_after - applied_at,
        writes.len(),
        acked.len(),
        before.len(),
        inside.len(),
        beyond.len(),
        checked_after,
        left_at_check,
        *resubscribed.lock().unwrap(),
        after_switch,
    );
    println!(
        "sync graceful errors: {:?}",
        error_kinds(inside.iter().copied())
    );
    println!("sync graceful replica readers: {read_errors} failed reads across the failover");
    assert!(closed, "connections to the old primary survived the switch");
    assert!(
        readers_left,
        "a replica_for connection stayed on the promoted replica"
    );
    // A sentinel-driven failover does not pause the old primary: the client leaves it at
    // the leader's `+selected-slave`, and a client that hears that event only after the
    // promotion (a loaded machine) loses what the old primary acknowledged in between
    // (`lost`, printed; 0 in most runs). Nothing written after the client switched is.
    assert_eq!(
        lost_after_switch, 0,
        "writes acknowledged after the switch missing on the new primary"
    );
    assert!(before.is_empty(), "errors before the failover");
    assert!(
        beyond.is_empty(),
        "errors beyond the switch window: {:?}",
        error_kinds(beyond.iter().copied())
    );
    let undelivered: Vec<&u64> = delivered.iter().filter(|n| !received.contains(n)).collect();
    assert!(
        undelivered.is_empty(),
        "messages a subscriber took were not received: {undelivered:?}"
    );
    assert!(after_switch > 0, "pub/sub received after the failover");
}

#[test]
fn sentinel_faults_give_typed_errors_within_the_timeouts() {
    let _serial = serial();
    let mut setup = SentinelSetup::builder()
        .sentinel_password("sentinel-pw")
        .start();
    let service = setup.service().to_owned();
    let data = data_config(&setup, "ss-faults");

    // Unknown service.
    let sentinel = sentinel_of(&setup);
    let started = Instant::now();
    let err = sentinel
        .master_for("no-such-service", data.clone())
        .unwrap()
        .get_connection()
        .unwrap_err();
    println!("unknown service: {err} ({:?})", started.elapsed());
    assert!(
        matches!(&err, Error::Sentinel(SentinelErrorKind::UnknownService { service }) if service == "no-such-service"),
        "{err:?}"
    );
    assert!(started.elapsed() < GUARD);
    let err = sentinel
        .replica_for(
            "no-such-service",
            data.clone(),
            ReadFrom::RoundRobinReplicas,
        )
        .unwrap()
        .get_connection()
        .unwrap_err();
    assert!(
        matches!(
            &err,
            Error::Sentinel(SentinelErrorKind::UnknownService { .. })
        ),
        "{err:?}"
    );

    // Wrong sentinel password (the data nodes have none; the sentinels' is separate).
    let wrong = Sentinel::new(
        setup.sentinel_addrs(),
        Config::new(Addr::tcp("unused", 1)).with_password(None, "not-the-password"),
    );
    let started = Instant::now();
    let err = wrong
        .master_for(&service, data.clone())
        .unwrap()
        .get_connection()
        .unwrap_err();
    println!("wrong sentinel password: {err} ({:?})", started.elapsed());
    match &err {
        Error::Sentinel(SentinelErrorKind::AuthFailed { tried, .. }) => assert_eq!(tried.len(), 3),
        other => panic!("expected an auth failure, got {other:?}"),
    }
    assert!(!format!("{err} {err:?}").contains("not-the-password"));

    // A sentinel naming a node in the wrong role (here one told to monitor a replica as a
    // primary): the ROLE check refuses it, the sentinels are asked again, and the caller
    // gets a typed role mismatch, never a connection to the replica.
    let replica_port = setup.replicas()[0].port().to_string();
    let monitor = setup.sentinels()[0].cli(&[
        "SENTINEL",
        "MONITOR",
        "ss-wrong-role",
        "127.0.0.1",
        &replica_port,
        "1",
    ]);
    assert_eq!(monitor, "OK");
    let liar = Sentinel::new([setup.sentinel_addrs()[0].clone()], setup.sentinel_config());
    let started = Instant::now();
    let err = liar
        .master_for("ss-wrong-role", data.clone())
        .unwrap()
        .get_connection()
        .unwrap_err();
    println!("node in the wrong role: {err} ({:?})", started.elapsed());
    match &err {
        Error::RoleMismatch {
            addr,
            expected,
            actual,
        } => {
            assert_eq!(addr, &format!("127.0.0.1:{replica_port}"));
            assert_eq!(*expected, redis_sync::Role::Primary);
            assert_eq!(actual, "slave");
        }
        other => panic!("expected a role mismatch, got {other:?}"),
    }
    setup.sentinels()[0].cli(&["SENTINEL", "REMOVE", "ss-wrong-role"]);

    // A client made while every sentinel is up, and its follower: subscribed on every
    // sentinel, and gone from them once the last handle of the client is dropped.
    let mut named = setup.sentinel_config();
    named.client_name = Some("ss-follow".to_owned());
    let subscribed = |setup: &SentinelSetup| -> usize {
        setup
            .sentinels()
            .iter()
            .map(|s| {
                s.cli(&["CLIENT", "LIST"])
                    .lines()
                    .filter(|l| l.contains(" name=ss-follow ") && l.contains(" flags=P "))
                    .count()
            })
            .sum()
    };
    let followed = Sentinel::new(setup.sentinel_addrs(), named);
    let dropped = followed.master_for(&service, data.clone()).unwrap();
    let pool = dropped.pool(2).unwrap();
    pool.get().unwrap().ping::<String>().unwrap();
    assert!(
        eventually(GUARD, || subscribed(&setup) == 3),
        "the follower subscribes on every sentinel"
    );
    drop(pool);
    drop(dropped);
    assert!(
        eventually(GUARD, || subscribed(&setup) == 0),
        "the follower ends with the client"
    );

    let long_lived = sentinel.master_for(&service, data.clone()).unwrap();
    long_lived
        .get_connection()
        .unwrap()
        .ping::<String>()
        .unwrap();

    // The first sentinel frozen (it accepts connections and never answers): it costs one
    // sentinel timeout, then the next answers and is asked first from then on.
    setup.sentinel_mut(0).pause();
    let fresh = sentinel_of(&setup);
    let started = Instant::now();
    let pong: String = fresh
        .master_for(&service, data.clone())
        .unwrap()
        .get_connection()
        .unwrap()
        .ping()
        .unwrap();
    assert_eq!(pong, "PONG");
    println!(
        "first sentinel frozen: primary found in {:?} (sentinel timeout {:?}); now asked first: {}",
        started.elapsed(),
        fresh.timeout(),
        fresh.sentinels()[0]
    );
    assert_eq!(fresh.sentinels()[0], setup.sentinel_addrs()[1]);
    // The second one down too: the third answers.
    setup.sentinel_mut(1).stop();
    let fresh = sentinel_of(&setup);
    let started = Instant::now();
    let pong: String = fresh
        .master_for(&service, data.clone())
        .unwrap()
        .get_connection()
        .unwrap()
        .ping()
        .unwrap();
    assert_eq!(pong, "PONG");
    println!(
        "two sentinels down (one frozen, one stopped): primary found in {:?}",
        started.elapsed()
    );
    assert_eq!(fresh.sentinels()[0], setup.sentinel_addrs()[2]);

    // None left (one frozen, two stopped): each sentinel tried, and why; bounded by the
    // sentinel timeout each.
    setup.sentinel_mut(2).stop();
    let fresh = sentinel_of(&setup);
    let started = Instant::now();
    let err = fresh
        .master_for(&service, data.clone())
        .unwrap()
        .get_connection()
        .unwrap_err();
    println!("no sentinel up: {err} ({:?})", started.elapsed());
    match &err {
        Error::Sentinel(SentinelErrorKind::NoSentinelReachable { service: s, tried }) => {
            assert_eq!(s, &service);
            assert_eq!(tried.len(), 3, "{tried:?}");
            assert!(tried.iter().all(|a| !a.reason.is_empty()));
        }
        other => panic!("expected no sentinel reachable, got {other:?}"),
    }
    assert!(started.elapsed() < GUARD);
    // A client that already knows the primary keeps working without sentinels.
    let pong: String = long_lived.get_connection().unwrap().ping().unwrap();
    assert_eq!(pong, "PONG");
}

#[test]
fn replica_for_reads_never_reach_the_primary_and_skip_a_killed_replica() {
    let _serial = serial();
    let mut setup = SentinelSetup::start();
    setup.wait_settled();
    let sentinel = sentinel_of(&setup);
    let service = setup.service().to_owned();
    let primary = setup.primary_index();
    let writer = sentinel
        .master_for(&service, data_config(&setup, "ss-writer"))
        .unwrap();
    let mut wcon = writer.get_connection().unwrap();
    wcon.set::<_, _, ()>("ss-read", "v").unwrap();
    let _: i64 = cmd("WAIT").with(2).with(5000).query(&mut wcon).unwrap();

    let name = "ss-reader";
    let reader = sentinel
        .replica_for(
            &service,
            data_config(&setup, name),
            ReadFrom::RoundRobinReplicas,
        )
        .unwrap();
    let pool = reader.pool(4).unwrap();
    let gets_before = calls(&setup.nodes()[primary], "get");
    let stop = Arc::new(AtomicBool::new(false));
    let readers: Vec<JoinHandle<Vec<Read>>> = (0..8)
        .map(|_| {
            let (pool, stop) = (pool.clone(), stop.clone());
            thread::spawn(move || {
                let mut done = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let started = Instant::now();
                    let r: Result<Option<String>> = pool.get().and_then(|mut c| c.get("ss-read"));
                    let error = match r {
                        Ok(Some(v)) if v == "v" => None,
                        Ok(other) => Some(format!("wrong reply {other:?}")),
                        Err(e) => Some(e.to_string()),
                    };
                    done.push((started, Instant::now(), error));
                    thread::sleep(Duration::from_millis(2));
                }
                done
            })
        })
        .collect();
    thread::sleep(Duration::from_secs(2));
    let replicas: Vec<usize> = (0..3).filter(|&i| i != primary).collect();
    let served: Vec<u64> = replicas
        .iter()
        .map(|&i| calls(&setup.nodes()[i], "get"))
        .collect();
    let primary_gets = calls(&setup.nodes()[primary], "get") - gets_before;
    let on_primary = connections_named(&setup.nodes()[primary], name);

    // Kill one replica under the load; reads go on on the other.
    let killed = replicas[0];
    let survivor = replicas[1];
    let survivor_before = calls(&setup.nodes()[survivor], "get");
    let killed_at = Instant::now();
    setup.node_mut(killed).kill();
    thread::sleep(Duration::from_secs(3));
    let late = Instant::now() - Duration::from_secs(1);
    stop.store(true, Ordering::Relaxed);
    let reads: Vec<Read> = readers
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    let survivor_after = calls(&setup.nodes()[survivor], "get");
    // Reads in flight on the killed replica may fail; none that ended before it.
    let before_kill: Vec<&String> = reads
        .iter()
        .filter(|(_, ended, _)| *ended < killed_at)
        .filter_map(|(_, _, e)| e.as_ref())
        .collect();
    let after_kill: Vec<&String> = reads
        .iter()
        .filter(|(_, ended, _)| *ended >= killed_at)
        .filter_map(|(_, _, e)| e.as_ref())
        .collect();
    let late_errors = reads
        .iter()
        .filter(|(started, _, e)| *started >= late && e.is_some())
        .count();
    println!(
        "sync replica_for: {} reads; GETs served by the replicas {served:?}, by the primary \
         {primary_gets}; after killing a replica: {} errors (reads in flight there: {:?}), \
         none in the last second, {} GETs on the survivor",
        reads.len(),
        after_kill.len(),
        after_kill.iter().take(3).collect::<Vec<_>>(),
        survivor_after - survivor_before,
    );
    assert_eq!(primary_gets, 0, "a read reached the primary");
    assert_eq!(
        on_primary, 0,
        "a replica_for connection reached the primary"
    );
    assert!(served.iter().all(|&n| n > 0), "both replicas serve reads");
    assert!(
        before_kill.is_empty(),
        "errors before the kill: {before_kill:?}"
    );
    assert!(
        survivor_after > survivor_before,
        "the survivor serves reads"
    );
    assert_eq!(late_errors, 0, "the killed replica is skipped");
    assert_eq!(calls(&setup.nodes()[primary], "get"), gets_before);
}
