//! The async cluster client (`redis_cluster::aio`) against real clusters from the harness:
//! every slot routed, multi-key commands split and merged, fan-out, pipelines across
//! slots, a range that loses its slots and gets them back, a coordinated failover under
//! load, and a primary frozen with SIGSTOP under load from writers on every shard.
//!
//! Each test shares one cluster among its steps (six processes are costly on a small CI
//! machine) and runs RESP2 and RESP3 clients side by side. Failover figures (stalls, time
//! from promotion to the first success, acknowledged writes lost) are printed; the tests
//! assert only correctness: nothing acknowledged is lost, no reply is wrong, and errors
//! are the typed ones the issue promises.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use redis_async::prelude::*;
use redis_async::{commands, transaction, Protocol, PubSubOptions, ServerErrorKind};
use redis_cluster::aio::{ClusterClient, ClusterConnection};
use redis_cluster::{slot, SLOT_COUNT};
use redis_core::ClusterErrorKind;
use redis_tests::RedisCluster;

/// Runs a blocking harness call from a multi-thread runtime.
fn blocking<R>(f: impl FnOnce() -> R) -> R {
    tokio::task::block_in_place(f)
}

/// One key per slot, by slot.
fn key_per_slot(prefix: &str) -> Vec<String> {
    let mut keys: Vec<Option<String>> = vec![None; usize::from(SLOT_COUNT)];
    let mut left = keys.len();
    let mut i = 0u64;
    while left > 0 {
        let k = format!("{prefix}{i}");
        let s = usize::from(slot(k.as_bytes()));
        if keys[s].is_none() {
            keys[s] = Some(k);
            left -= 1;
        }
        i += 1;
    }
    keys.into_iter().map(Option::unwrap).collect()
}

/// A client for `cluster`, every node a seed, speaking `protocol`.
fn client(cluster: &RedisCluster, protocol: Protocol) -> ClusterClient {
    let configs = cluster.configs();
    let config = configs[0].clone().with_protocol(protocol);
    ClusterClient::builder(configs)
        .unwrap()
        .config(config)
        .build()
        .unwrap()
}

/// Both protocols' connections.
async fn connections(cluster: &RedisCluster) -> Vec<(Protocol, ClusterConnection)> {
    let mut out = Vec::new();
    for p in [Protocol::Resp2, Protocol::Resp3] {
        out.push((p, client(cluster, p).get_connection().await.unwrap()));
    }
    out
}

/// True for an error that is a cluster redirect or refusal the client should have
/// handled itself.
fn is_redirect(e: &Error) -> bool {
    let e = match e {
        Error::MayHaveExecuted(inner) => inner.as_ref(),
        other => other,
    };
    matches!(
        e.server_kind(),
        Some(
            ServerErrorKind::Moved { .. } | ServerErrorKind::Ask { .. } | ServerErrorKind::ReadOnly
        )
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routes_every_slot_splits_fans_out_heals_and_fails_over() {
    let started = Instant::now();
    let cluster = blocking(RedisCluster::start);
    let cons = connections(&cluster).await;

    for (protocol, con) in &cons {
        every_slot_set_then_get(con, &format!("slot-{protocol:?}-")).await;
        cluster_scan_sees_every_key(con, &format!("slot-{protocol:?}-")).await;
        multi_key_commands_split_and_merge(con, &format!("mk-{protocol:?}-")).await;
        fan_out_follows_the_response_policy(con).await;
        state_changing_commands_are_refused(con).await;
        pipelines_scripts_and_transactions(con, &format!("pl-{protocol:?}-")).await;
        pub_sub_classic_and_sharded(&cluster, *protocol, con).await;
    }
    uncovered_range_fails_typed_then_heals(&cluster, &cons).await;
    coordinated_failover_under_load(&cluster, &cons).await;
    slot_migration_under_load(&cluster, &cons).await;
    println!("whole test: {:?}", started.elapsed());
}

/// Every one of the 16384 slots: SET, then GET of the same key through the same client.
async fn every_slot_set_then_get(con: &ClusterConnection, prefix: &str) {
    let keys = Arc::new(key_per_slot(prefix));
    let tasks = 32;
    let mut handles = Vec::new();
    for t in 0..tasks {
        let (mut con, keys) = (con.clone(), keys.clone());
        handles.push(tokio::spawn(async move {
            for s in (t..keys.len()).step_by(tasks) {
                let k = &keys[s];
                con.set::<_, _, ()>(k, s).await.unwrap();
                let v: usize = con.get(k).await.unwrap();
                assert_eq!(v, s, "slot {s}");
            }
        }));
    }
    for h in handles {
        h.await.unwrap();
    }
    // Hash tags put related keys in one slot: a two-key command that cannot be split
    // runs as it is.
    let mut con = con.clone();
    let (a, b) = (format!("{{{prefix}}}.a"), format!("{{{prefix}}}.b"));
    con.set::<_, _, ()>(&a, "1").await.unwrap();
    let _: () = cmd("RENAME")
        .with(&a)
        .with(&b)
        .query(&mut con)
        .await
        .unwrap();
    let v: String = con.get(&b).await.unwrap();
    assert_eq!(v, "1");
}

/// The cluster-wide SCAN walks every primary: all 16384 keys written above come back.
async fn cluster_scan_sees_every_key(con: &ClusterConnection, prefix: &str) {
    let mut keys: Vec<String> = con
        .scan_options_iter(("MATCH", format!("{prefix}*"), "COUNT", 1000))
        .collect_all()
        .await
        .unwrap();
    keys.sort();
    keys.dedup();
    let mut expected = key_per_slot(prefix);
    expected.sort();
    assert_eq!(keys, expected);
}

/// MSET/MGET/EXISTS/TOUCH/DEL/UNLINK across many slots: split per slot, merged in the
/// caller's order; a command that cannot be split is refused before it is sent.
async fn multi_key_commands_split_and_merge(con: &ClusterConnection, prefix: &str) {
    let mut con = con.clone();
    let keys: Vec<String> = (0..50).map(|i| format!("{prefix}{i}")).collect();
    let pairs: Vec<(String, String)> = keys.iter().map(|k| (k.clone(), format!("v-{k}"))).collect();
    con.mset::<_, ()>(&pairs).await.unwrap();
    let mut asked: Vec<String> = keys.clone();
    asked.insert(7, format!("{prefix}missing"));
    let got: Vec<Option<String>> = con.mget(&asked).await.unwrap();
    for (k, v) in asked.iter().zip(&got) {
        if k.ends_with("missing") {
            assert_eq!(v, &None);
        } else {
            assert_eq!(v.as_deref(), Some(format!("v-{k}").as_str()));
        }
    }
    let n: i64 = con.exists(&asked).await.unwrap();
    assert_eq!(n, 50);
    let n: i64 = cmd("TOUCH").with(&keys).query(&mut con).await.unwrap();
    assert_eq!(n, 50);
    let n: i64 = con.del(&keys[..25]).await.unwrap();
    assert_eq!(n, 25);
    let n: i64 = con.unlink(&asked).await.unwrap();
    assert_eq!(n, 25);
    match cmd("SUNIONSTORE")
        .with(&keys[0])
        .with(&keys[1])
        .with(&keys[2])
        .query::<Value>(&mut con)
        .await
    {
        Err(Error::CrossSlot { .. }) => {}
        other => panic!("a cross-slot SUNIONSTORE must be refused, got {other:?}"),
    }
}

/// Keyless commands go where the command table's request policy says, and the replies
/// merge by its response policy.
async fn fan_out_follows_the_response_policy(con: &ClusterConnection) {
    let mut con = con.clone();
    let total: i64 = cmd("DBSIZE").query(&mut con).await.unwrap();
    let mut by_node = 0;
    let map = con.slot_map();
    for node in map.all_primaries() {
        let mut c = redis_async::Client::open(redis_core::Config::new(node.addr.clone()))
            .unwrap()
            .get_connection()
            .await
            .unwrap();
        let n: i64 = cmd("DBSIZE").query(&mut c).await.unwrap();
        by_node += n;
    }
    assert_eq!(total, by_node, "DBSIZE is the sum over the primaries");
    assert!(total > 0);
    let pong: String = cmd("PING").query(&mut con).await.unwrap();
    assert_eq!(pong, "PONG");
    let sha: String = cmd("SCRIPT")
        .with("LOAD")
        .with("return 1")
        .query(&mut con)
        .await
        .unwrap();
    let exists: Vec<bool> = cmd("SCRIPT")
        .with("EXISTS")
        .with(&sha)
        .query(&mut con)
        .await
        .unwrap();
    assert_eq!(exists, [true], "loaded on every primary");
    let mut keys: Vec<String> = cmd("KEYS")
        .with("slot-Resp2-1?")
        .query(&mut con)
        .await
        .unwrap();
    keys.sort();
    let mut expected: Vec<String> = key_per_slot("slot-Resp2-")
        .into_iter()
        .filter(|k| k.len() == "slot-Resp2-1?".len() && k.starts_with("slot-Resp2-1"))
        .collect();
    expected.sort();
    assert_eq!(keys, expected, "KEYS merges every primary's keys");
}

/// Pipelines across slots come back in the caller's order with error replies in place;
/// an atomic pipeline runs in its slot; a script runs on its key's node (NOSCRIPT
/// fallback there); a WATCH transaction runs on a dedicated connection to the primary.
async fn pipelines_scripts_and_transactions(con: &ClusterConnection, prefix: &str) {
    let mut con = con.clone();
    let mut p = pipe();
    for i in 0..200 {
        p.add(commands::set(format!("{prefix}{i}"), i)).ignore();
    }
    for i in 0..200 {
        p.add(commands::get(format!("{prefix}{i}")));
    }
    let got: Vec<i64> = p.query(&mut con).await.unwrap();
    assert_eq!(got, (0..200).collect::<Vec<i64>>());

    let k = format!("{prefix}text");
    let mut p = pipe();
    p.add(commands::set(&k, "x"))
        .add(commands::incr(&k, 1))
        .add(commands::get(&k))
        .add(commands::get(format!("{prefix}7")));
    let raw = con.req_pipeline(&p).await.unwrap();
    assert_eq!(raw.len(), 4);
    assert!(matches!(raw[1], Value::ServerError(_)), "{raw:?}");
    assert_eq!(String::from_value(raw[2].clone()).unwrap(), "x");
    assert_eq!(i64::from_value(raw[3].clone()).unwrap(), 7);

    let (a, b) = (format!("{{{prefix}}}.a"), format!("{{{prefix}}}.b"));
    let mut p = pipe();
    p.atomic()
        .add(commands::set(&a, 10))
        .ignore()
        .add(commands::incr(&a, 5))
        .add(commands::get(&a));
    let (n, v): (i64, i64) = p.query(&mut con).await.unwrap();
    assert_eq!((n, v), (15, 15));

    let script = Script::new("return redis.call('INCRBY', KEYS[1], ARGV[1])");
    for expected in [16, 17] {
        let n: i64 = script.key(&a).arg(1).query(&mut con).await.unwrap();
        assert_eq!(n, expected);
    }

    let mut dedicated = con.get_exclusive(&a).await.unwrap();
    let (moved,): (i64,) = transaction(&mut dedicated, (&a, &b), async |c, p| {
        let v: i64 = c.get(&a).await?;
        p.add(commands::set(&b, v)).ignore().add(commands::get(&b));
        p.query(c).await
    })
    .await
    .unwrap();
    assert_eq!(moved, 17);
}

/// SUBSCRIBE on any node hears a PUBLISH sent to any other (the cluster bus carries it);
/// SSUBSCRIBE on the shard channel's primary hears SPUBLISH, which is routed by the
/// channel's slot.
async fn pub_sub_classic_and_sharded(
    cluster: &RedisCluster,
    protocol: Protocol,
    con: &ClusterConnection,
) {
    let mut con = con.clone();
    let client = client(cluster, protocol);
    let wait = Duration::from_secs(5);

    let channel = format!("{{news-{protocol:?}}}.sports");
    let mut sub = client
        .get_shard_pubsub(&channel, PubSubOptions::default())
        .await
        .unwrap();
    sub.ssubscribe(&channel).await.unwrap();
    let n: i64 = cmd("SPUBLISH")
        .with(&channel)
        .with("goal")
        .query(&mut con)
        .await
        .unwrap();
    assert_eq!(n, 1, "SPUBLISH reached the shard channel's node");
    let msg = tokio::time::timeout(wait, sub.next_message())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(msg.channel_name(), channel);
    assert_eq!(msg.payload::<String>().unwrap(), "goal");

    let plain = format!("plain-{protocol:?}");
    let mut sub = client.get_pubsub(PubSubOptions::default()).await.unwrap();
    sub.subscribe(&plain).await.unwrap();
    let _: i64 = cmd("PUBLISH")
        .with(&plain)
        .with("hi")
        .query(&mut con)
        .await
        .unwrap();
    let msg = tokio::time::timeout(wait, sub.next_message())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(msg.payload::<String>().unwrap(), "hi");
}

/// Commands that would change the state of a shared node connection are refused.
async fn state_changing_commands_are_refused(con: &ClusterConnection) {
    let mut con = con.clone();
    for c in [
        cmd("SELECT").with(1),
        cmd("WATCH").with("k"),
        cmd("MULTI"),
        cmd("SUBSCRIBE").with("ch"),
        cmd("CLIENT").with("TRACKING").with("on"),
    ] {
        match c.query::<Value>(&mut con).await {
            Err(Error::InvalidRequest(_)) => {}
            other => panic!("{c:?} must be refused, got {other:?}"),
        }
    }
}

/// A range loses its slots on every node (`CLUSTER DELSLOTSRANGE`): requests for it get a
/// typed error within the response timeout; once the range is assigned back, the same
/// clients serve it again. Run with `cluster-require-full-coverage` yes (the default: the
/// whole cluster refuses meanwhile) and no (only the range is down).
async fn uncovered_range_fails_typed_then_heals(
    cluster: &RedisCluster,
    cons: &[(Protocol, ClusterConnection)],
) {
    let keys = key_per_slot("heal-");
    for full_coverage in ["yes", "no"] {
        let (first, _, owner) = blocking(|| cluster.slot_ranges())[0];
        let (a, b) = (first, first + 99);
        blocking(|| {
            for i in 0..cluster.nodes().len() {
                cluster.command(
                    i,
                    &[
                        "CONFIG",
                        "SET",
                        "cluster-require-full-coverage",
                        full_coverage,
                    ],
                );
            }
            for i in 0..cluster.nodes().len() {
                cluster.command(
                    i,
                    &["CLUSTER", "DELSLOTSRANGE", &a.to_string(), &b.to_string()],
                );
            }
        });
        for (protocol, con) in cons {
            let mut con = con.clone();
            let key = &keys[usize::from(a + 5)];
            let t = Instant::now();
            let r = tokio::time::timeout(Duration::from_secs(30), con.set::<_, _, ()>(key, 1))
                .await
                .expect("hang guard");
            let err = r.expect_err("a write to an unassigned slot must fail");
            println!(
                "full-coverage {full_coverage}, {protocol:?}: uncovered slot failed after {:?}: {err}",
                t.elapsed()
            );
            assert!(
                matches!(
                    err,
                    Error::Cluster(ClusterErrorKind::SlotNotCovered { slot }) if slot == a + 5
                ),
                "an uncovered slot fails with a typed error, before sending: {err:?}"
            );
        }
        blocking(|| {
            cluster.command(
                owner,
                &["CLUSTER", "ADDSLOTSRANGE", &a.to_string(), &b.to_string()],
            );
            cluster.wait_healthy();
        });
        for (protocol, con) in cons {
            let mut con = con.clone();
            let key = &keys[usize::from(a + 5)];
            let t = Instant::now();
            loop {
                match con.set::<_, _, ()>(key, 2).await {
                    Ok(()) => break,
                    Err(e) => {
                        assert!(t.elapsed() < Duration::from_secs(30), "never healed: {e}");
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                }
            }
            println!(
                "full-coverage {full_coverage}, {protocol:?}: range served again {:?} after ADDSLOTS",
                t.elapsed()
            );
            let v: i64 = con.get(key).await.unwrap();
            assert_eq!(v, 2);
        }
    }
    blocking(|| {
        for i in 0..cluster.nodes().len() {
            cluster.command(
                i,
                &["CONFIG", "SET", "cluster-require-full-coverage", "yes"],
            );
        }
    });
}

/// What the writers saw.
#[derive(Default)]
struct Tally {
    ok: u64,
    /// Error text by kind.
    errors: HashMap<String, u64>,
    redirects: Vec<String>,
    wrong: Vec<String>,
    /// Acknowledged writes: key -> value.
    acked: HashMap<String, u64>,
    /// Per shard (index in the slot ranges at start): longest request (SET or GET).
    longest: HashMap<usize, Duration>,
    /// Per shard: start and end of each successful request.
    successes: HashMap<usize, Vec<(Instant, Instant)>>,
}

fn kind_of(e: &Error) -> String {
    match e {
        Error::MayHaveExecuted(inner) => format!("MayHaveExecuted({})", kind_of(inner)),
        Error::Server(s) => format!("Server({})", s.code()),
        Error::Timeout { what, .. } => format!("Timeout({what})"),
        Error::Io(_) => "Io".into(),
        Error::Broken(_) => "Broken".into(),
        other => format!("{other}"),
    }
}

/// Writers spread over the shards (writer `i` writes only to shard `i % shards`, so a
/// stalled shard cannot hide whether the others kept serving): each writes a fresh key,
/// then reads it back, until `stop`.
fn start_writers(
    cons: &[(Protocol, ClusterConnection)],
    per_client: usize,
    ranges: Vec<(u16, u16, usize)>,
    stop: Arc<AtomicBool>,
    tally: Arc<Mutex<Tally>>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let ranges = Arc::new(ranges);
    let mut handles = Vec::new();
    let mut writer = 0;
    for (c, (protocol, con)) in cons.iter().enumerate() {
        for w in 0..per_client {
            let (mut con, stop, tally, ranges) =
                (con.clone(), stop.clone(), tally.clone(), ranges.clone());
            let shard = writer % ranges.len();
            writer += 1;
            let prefix = format!("load-{protocol:?}-{c}-{w}-{}", std::process::id());
            handles.push(tokio::spawn(async move {
                let (a, b, _) = ranges[shard];
                let mut n: u64 = 0;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let key = format!("{prefix}-{n}");
                    if !(a..=b).contains(&slot(key.as_bytes())) {
                        continue;
                    }
                    let t = Instant::now();
                    let set = con.set::<_, _, ()>(&key, n).await;
                    let took = t.elapsed();
                    if took > Duration::from_millis(500) && std::env::var("CLUSTER_DEBUG").is_ok() {
                        println!(
                            "slow SET shard {shard} took {took:?} ended at {:?}: {:?}",
                            std::time::SystemTime::now(),
                            set.as_ref().err()
                        );
                    }
                    let written = {
                        let mut tl = tally.lock().unwrap();
                        let longest = tl.longest.entry(shard).or_default();
                        *longest = (*longest).max(took);
                        match set {
                            Ok(()) => {
                                tl.ok += 1;
                                tl.acked.insert(key.clone(), n);
                                tl.successes
                                    .entry(shard)
                                    .or_default()
                                    .push((t, Instant::now()));
                                true
                            }
                            Err(e) => {
                                if is_redirect(&e) {
                                    tl.redirects.push(format!("SET {key}: {e}"));
                                }
                                *tl.errors.entry(kind_of(&e)).or_default() += 1;
                                false
                            }
                        }
                    };
                    if !written {
                        continue;
                    }
                    let t = Instant::now();
                    let get: Result<Option<u64>> = con.get(&key).await;
                    let took = t.elapsed();
                    let mut tl = tally.lock().unwrap();
                    let longest = tl.longest.entry(shard).or_default();
                    *longest = (*longest).max(took);
                    match get {
                        Ok(Some(v)) if v == n => {
                            tl.ok += 1;
                            tl.successes
                                .entry(shard)
                                .or_default()
                                .push((t, Instant::now()));
                        }
                        Ok(other) => tl.wrong.push(format!("GET {key}: {other:?}, wrote {n}")),
                        Err(e) => {
                            if is_redirect(&e) {
                                tl.redirects.push(format!("GET {key}: {e}"));
                            }
                            *tl.errors.entry(kind_of(&e)).or_default() += 1;
                        }
                    }
                }
            }));
        }
    }
    handles
}

/// Reads every acknowledged write back; returns how many are missing or different.
async fn lost_writes(con: &ClusterConnection, acked: &HashMap<String, u64>) -> usize {
    let mut con = con.clone();
    let keys: Vec<&String> = acked.keys().collect();
    let mut lost = 0;
    for chunk in keys.chunks(500) {
        let got: Vec<Option<u64>> = con.mget(chunk).await.unwrap();
        for (k, v) in chunk.iter().zip(got) {
            if v != Some(acked[*k]) {
                lost += 1;
                println!("lost: {k} acked {} read {v:?}", acked[*k]);
            }
        }
    }
    lost
}

/// `CLUSTER FAILOVER` of one shard under load from 8 writers: no MOVED, ASK or READONLY
/// reaches a caller, no reply is wrong, nothing acknowledged is lost.
async fn coordinated_failover_under_load(
    cluster: &RedisCluster,
    cons: &[(Protocol, ClusterConnection)],
) {
    let ranges = blocking(|| cluster.slot_ranges());
    let stop = Arc::new(AtomicBool::new(false));
    let tally = Arc::new(Mutex::new(Tally::default()));
    let writers = start_writers(cons, 4, ranges.clone(), stop.clone(), tally.clone());
    tokio::time::sleep(Duration::from_millis(500)).await;
    let primary = ranges[0].2;
    let t = Instant::now();
    blocking(|| {
        let replica = cluster.replicas_of(primary)[0];
        cluster.failover(replica);
    });
    println!("CLUSTER FAILOVER took {:?}", t.elapsed());
    tokio::time::sleep(Duration::from_millis(1000)).await;
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.await.unwrap();
    }
    blocking(|| cluster.wait_healthy());
    let tl = std::mem::take(&mut *tally.lock().unwrap());
    println!(
        "failover under load: {} ok, errors {:?}, longest per shard {:?}",
        tl.ok, tl.errors, tl.longest
    );
    assert!(
        tl.redirects.is_empty(),
        "redirects reached callers: {:?}",
        tl.redirects
    );
    assert!(tl.wrong.is_empty(), "wrong replies: {:?}", tl.wrong);
    let lost = lost_writes(&cons[0].1, &tl.acked).await;
    println!(
        "failover under load: {} acknowledged writes, {lost} lost",
        tl.acked.len()
    );
    assert_eq!(lost, 0);
}

/// 200 slots migrated (`SETSLOT IMPORTING/MIGRATING`, `MIGRATE` in batches, `SETSLOT
/// NODE`) from one primary to another under load from 8 writers: no error at all reaches
/// the callers (`ASK` and `MOVED` are followed, `TRYAGAIN` waited out), and every
/// acknowledged write is readable afterwards.
async fn slot_migration_under_load(cluster: &RedisCluster, cons: &[(Protocol, ClusterConnection)]) {
    let ranges = blocking(|| cluster.slot_ranges());
    let (first, _, from) = ranges[0];
    let to = ranges[1].2;
    let stop = Arc::new(AtomicBool::new(false));
    let tally = Arc::new(Mutex::new(Tally::default()));
    // Every writer writes to the slots that move.
    let moving = vec![(first, first + 199, from)];
    let writers = start_writers(cons, 4, moving, stop.clone(), tally.clone());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let t = Instant::now();
    blocking(|| cluster.migrate_slots(first..=first + 199, to));
    println!("migrated 200 slots under load in {:?}", t.elapsed());
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.await.unwrap();
    }
    let tl = std::mem::take(&mut *tally.lock().unwrap());
    println!(
        "migration under load: {} ok, errors {:?}, longest per shard {:?}",
        tl.ok, tl.errors, tl.longest
    );
    assert!(
        tl.errors.is_empty(),
        "errors reached callers: {:?}",
        tl.errors
    );
    assert!(tl.wrong.is_empty(), "wrong replies: {:?}", tl.wrong);
    let lost = lost_writes(&cons[1].1, &tl.acked).await;
    println!(
        "migration under load: {} acknowledged writes, {lost} lost",
        tl.acked.len()
    );
    assert_eq!(lost, 0);
}

/// A primary frozen with SIGSTOP for 7 s under load from 8 writers (4 per protocol) over
/// every shard. Prints the longest stall per shard and the time from the replica's
/// promotion to the first success on the frozen shard; asserts that no acknowledged
/// write is lost (read back after SIGCONT and the old primary's demotion), no reply is
/// wrong, the healthy shards kept serving while the primary was frozen, and callers saw
/// only typed errors (no redirect).
///
/// Twice: with `cluster-require-full-coverage yes` (the default), where every node
/// answers `CLUSTERDOWN` from the moment the frozen node is marked failed until its
/// replica is promoted (about a second: the healthy shards' stall then is the server's,
/// the client waits it out), and with `no`, where the healthy shards are not refused and
/// show only their normal latency. Then reads from replicas and a forgotten node.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frozen_primary_under_load_loses_no_acknowledged_write() {
    let mut cluster = blocking(RedisCluster::start);
    let cons = connections(&cluster).await;
    freeze_under_load(&mut cluster, &cons, 0, "yes").await;
    freeze_under_load(&mut cluster, &cons, 1, "no").await;
    replica_reads_then_a_forgotten_node(&mut cluster).await;
}

/// One round of the test above: freezes the primary of shard `frozen_shard` (index in
/// the slot ranges) for 7 s.
async fn freeze_under_load(
    cluster: &mut RedisCluster,
    cons: &[(Protocol, ClusterConnection)],
    frozen_shard: usize,
    full_coverage: &str,
) {
    println!("--- cluster-require-full-coverage {full_coverage}");
    blocking(|| {
        for i in 0..cluster.nodes().len() {
            cluster.command(
                i,
                &[
                    "CONFIG",
                    "SET",
                    "cluster-require-full-coverage",
                    full_coverage,
                ],
            );
        }
    });
    let ranges = blocking(|| cluster.slot_ranges());
    let frozen = ranges[frozen_shard].2;
    let replica = blocking(|| cluster.replicas_of(frozen))[0];

    let stop = Arc::new(AtomicBool::new(false));
    let tally = Arc::new(Mutex::new(Tally::default()));
    let writers = start_writers(cons, 4, ranges.clone(), stop.clone(), tally.clone());
    tokio::time::sleep(Duration::from_millis(1000)).await;

    blocking(|| cluster.pause(frozen));
    let paused_at = Instant::now();
    if std::env::var("CLUSTER_DEBUG").is_ok() {
        println!("paused at {:?}", std::time::SystemTime::now());
    }
    let promotion = blocking(|| cluster.wait_until_master(replica));
    let promoted_at = paused_at + promotion;
    println!("node {frozen} frozen; replica {replica} promoted after {promotion:?}");
    let left = Duration::from_secs(7).saturating_sub(paused_at.elapsed());
    tokio::time::sleep(left).await;
    blocking(|| cluster.resume(frozen));
    let resumed_at = Instant::now();
    blocking(|| cluster.wait_healthy());
    println!(
        "node {frozen} resumed and demoted after {:?}",
        resumed_at.elapsed()
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.await.unwrap();
    }

    let tl = std::mem::take(&mut *tally.lock().unwrap());
    for (i, &(a, b, node)) in ranges.iter().enumerate() {
        // Writes sent while the node was frozen and answered before it was resumed.
        let served = tl.successes.get(&i).map_or(0, |v| {
            v.iter()
                .filter(|(start, end)| *start > paused_at && *end < resumed_at)
                .count()
        });
        println!(
            "shard {i} (slots {a}-{b}, node {node}{}): longest request {:?}, {} successes while frozen",
            if i == frozen_shard { ", FROZEN" } else { "" },
            tl.longest.get(&i).copied().unwrap_or_default(),
            served
        );
        if i != frozen_shard {
            assert!(served > 0, "healthy shard {i} stopped serving");
        }
    }
    let first = tl.successes.get(&frozen_shard).and_then(|v| {
        v.iter()
            .find(|(start, _)| *start > paused_at)
            .map(|(_, end)| *end)
    });
    match first {
        Some(t) if t >= promoted_at => println!(
            "first success on the frozen shard: {:?} after the promotion was seen",
            t - promoted_at
        ),
        Some(t) => println!(
            "first success on the frozen shard: {:?} before the harness saw the promotion",
            promoted_at - t
        ),
        None => panic!("the frozen shard never served again"),
    }
    println!("errors seen by callers: {:?}; {} ok", tl.errors, tl.ok);
    assert!(
        tl.redirects.is_empty(),
        "redirects reached callers: {:?}",
        tl.redirects
    );
    assert!(tl.wrong.is_empty(), "wrong replies: {:?}", tl.wrong);
    for kind in tl.errors.keys() {
        assert!(
            kind.starts_with("MayHaveExecuted"),
            "only writes in flight on the frozen node may fail: {kind}"
        );
    }
    let lost = lost_writes(&cons[0].1, &tl.acked).await;
    println!("acknowledged writes: {}, lost: {lost}", tl.acked.len());
    assert_eq!(lost, 0, "acknowledged writes lost");
}

/// `calls=` of `cmdstat_<cmd>` in node `i`'s `INFO commandstats` (commands refused with a
/// redirect are not counted there).
fn calls(cluster: &RedisCluster, i: usize, cmd: &str) -> u64 {
    let info = cluster.command(i, &["INFO", "commandstats"]);
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("cmdstat_{cmd}:calls=")))
        .and_then(|rest| rest.split(',').next())
        .map_or(0, |n| n.parse().unwrap())
}

/// With `ReadFrom::PreferReplica`, reads are served by replicas (their connections sent
/// `READONLY`); a replica killed and forgotten by the cluster is skipped meanwhile and
/// dropped from the client's map by the periodic refresh.
async fn replica_reads_then_a_forgotten_node(cluster: &mut RedisCluster) {
    let configs = cluster.configs();
    let client = ClusterClient::builder(configs.clone())
        .unwrap()
        .read_from(redis_core::routing::ReadFrom::PreferReplica)
        .refresh(redis_cluster::RefreshConfig {
            periodic: Some(Duration::from_secs(1)),
            ..redis_cluster::RefreshConfig::default()
        })
        .build()
        .unwrap();
    let mut con = client.get_connection().await.unwrap();
    let primary = blocking(|| cluster.slot_ranges())[1].2;
    let replica = blocking(|| cluster.replicas_of(primary))[0];
    let before = blocking(|| calls(cluster, replica, "get"));
    let keys = key_per_slot("replica-read-");
    let shard_keys: Vec<&String> = keys
        .iter()
        .filter(|k| {
            con.slot_map()
                .primary_for(slot(k.as_bytes()))
                .is_some_and(|n| n.addr == configs[primary].addr)
        })
        .take(50)
        .collect();
    for k in &shard_keys {
        con.set::<_, _, ()>(*k, "v").await.unwrap();
    }
    for k in &shard_keys {
        // A replica may lag a little behind its primary.
        let _: Option<String> = con.get(*k).await.unwrap();
    }
    let after = blocking(|| calls(cluster, replica, "get"));
    println!(
        "replica node {replica} served {} of {} reads",
        after - before,
        shard_keys.len()
    );
    assert!(after > before, "no read reached the replica");

    let gone = configs[replica].addr.clone();
    blocking(|| {
        cluster.kill(replica);
        cluster.forget(replica);
    });
    let t = Instant::now();
    loop {
        for k in &shard_keys {
            let _: Option<String> = con.get(*k).await.unwrap();
        }
        if con.slot_map().node(&gone).is_none() {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "the forgotten node stays in the map"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    println!(
        "forgotten node {replica} left the client's map after {:?}",
        t.elapsed()
    );
}

/// One config for every node: a password cluster reached only through a fault proxy per
/// node, the cluster's own addresses mapped to the proxies by the remap hook (as NAT or
/// containers would need). Every node is reached through its proxy with the password,
/// and a link cut under a read is followed by a fresh connection (the read is re-sent).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_cluster_through_remapped_proxies() {
    let cluster = blocking(|| {
        RedisCluster::builder()
            .primaries(3)
            .replicas_per_primary(0)
            .password("cluster secret")
            .start()
    });
    let proxies: Vec<redis_tests::Proxy> = cluster
        .nodes()
        .iter()
        .map(|n| redis_tests::Proxy::start(&n.addr()))
        .collect();
    let to_proxy: HashMap<u16, u16> = cluster
        .nodes()
        .iter()
        .zip(&proxies)
        .map(|(n, p)| (n.port(), p.port()))
        .collect();
    let mut seed = cluster.seed_config().with_protocol(Protocol::Resp3);
    seed.addr = redis_core::Addr::tcp("127.0.0.1", proxies[0].port());
    let client = ClusterClient::builder([seed])
        .unwrap()
        .remap(move |addr| match &addr {
            redis_core::Addr::Tcp { port, .. } => match to_proxy.get(port) {
                Some(p) => redis_core::Addr::tcp("127.0.0.1", *p),
                None => addr,
            },
            _ => addr,
        })
        .build()
        .unwrap();
    let mut con = client.get_connection().await.unwrap();
    for node in con.slot_map().all_nodes() {
        assert!(
            proxies
                .iter()
                .any(|p| node.addr == redis_core::Addr::tcp("127.0.0.1", p.port())),
            "{:?} is not a proxy address",
            node.addr
        );
    }
    let keys = key_per_slot("pw-");
    for k in keys.iter().step_by(97) {
        con.set::<_, _, ()>(k, k).await.unwrap();
        let v: String = con.get(k).await.unwrap();
        assert_eq!(&v, k);
    }
    for (i, p) in proxies.iter().enumerate() {
        assert!(
            p.connections() > 0,
            "node {i} was not reached through its proxy"
        );
    }
    // Cut every link: the next requests open new connections through the proxies.
    for p in &proxies {
        p.cut();
    }
    for k in keys.iter().step_by(97).step_by(10) {
        let v: String = con.get(k).await.unwrap();
        assert_eq!(&v, k);
    }
    println!("keys across every shard read back after every link was cut");

    // Dropping the client and its connections closes every node connection (the
    // topology manager holds no strong reference that would keep them open).
    drop(con);
    drop(client);
    let t = Instant::now();
    while proxies.iter().any(|p| p.links() > 0) {
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "links still open after the client was dropped: {:?}",
            proxies
                .iter()
                .map(redis_tests::Proxy::links)
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    println!(
        "every node link closed {:?} after the client was dropped",
        t.elapsed()
    );
}
