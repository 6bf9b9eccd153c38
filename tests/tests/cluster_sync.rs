//! The blocking cluster client (`redis_cluster::sync`) against real clusters: routing of
//! every slot, split and fanned-out commands, pipelines and transactions, uncovered slots
//! that heal, a node that leaves, slot migration and failovers under load, and a primary
//! frozen with SIGSTOP. RESP2 and RESP3.
//!
//! Each test function starts one cluster and runs several checks on it (six processes are
//! costly on a small machine). Failover figures are printed, never asserted: only
//! correctness is (nothing acknowledged lost, no wrong reply, typed errors).

// A failing test should panic, with the error in the message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use redis_cluster::sync::{ClusterClient, ClusterConnection};
use redis_cluster::SLOT_COUNT;
use redis_core::{cmd, pipe, ClusterErrorKind, Config, Error, Protocol, Value};
use redis_sync::{Commands, ConnectionLike, Query};
use redis_tests::RedisCluster;

/// A hash tag for every slot: `tags[slot]` is a `{...}` whose keys hash to `slot`.
fn tags() -> Vec<String> {
    let mut tags: Vec<Option<String>> = vec![None; usize::from(SLOT_COUNT)];
    let mut missing = usize::from(SLOT_COUNT);
    let mut n = 0u64;
    while missing > 0 {
        let tag = format!("t{n}");
        let s = usize::from(redis_cluster::slot(tag.as_bytes()));
        if tags[s].is_none() {
            tags[s] = Some(format!("{{{tag}}}"));
            missing -= 1;
        }
        n += 1;
    }
    tags.into_iter().map(Option::unwrap_or_default).collect()
}

/// A writer's handle: its own connection, or a clone of one shared pool.
enum Handle {
    Con(Box<ClusterConnection>),
    Pool(redis_cluster::sync::ClusterPool),
}

impl Handle {
    fn new(client: &ClusterClient, pool: Option<&redis_cluster::sync::ClusterPool>) -> Handle {
        match pool {
            Some(p) => Handle::Pool(p.clone()),
            None => Handle::Con(Box::new(client.get_connection().unwrap())),
        }
    }
}

impl ConnectionLike for Handle {
    fn req(&mut self, c: &redis_core::Cmd) -> redis_core::Result<Value> {
        match self {
            Handle::Con(c2) => c2.req(c),
            Handle::Pool(p) => p.req(c),
        }
    }

    fn req_pipeline(&mut self, p: &redis_core::Pipeline) -> redis_core::Result<Vec<Value>> {
        match self {
            Handle::Con(c) => c.req_pipeline(p),
            Handle::Pool(pool) => pool.req_pipeline(p),
        }
    }
}

fn client(cluster: &RedisCluster, protocol: Protocol) -> ClusterClient {
    let config: Config = cluster.seed_config().with_protocol(protocol);
    ClusterClient::builder([config]).unwrap().build().unwrap()
}

#[test]
fn routes_every_slot_splits_fans_out_and_heals() {
    let mut cluster = RedisCluster::start();
    let tags = tags();
    for protocol in [Protocol::Resp2, Protocol::Resp3] {
        let client = client(&cluster, protocol);
        let mut con = client.get_connection().unwrap();
        every_slot_set_then_get(&mut con, &tags, protocol);
        split_and_fan_out(&mut con, &tags);
        pipelines_and_transactions(&mut con, &tags);
        refused_before_sending(&mut con);
        scripts_scan_and_watch(&client, &mut con, &tags);
    }
    shard_subscription_follows_its_slot(&cluster, &tags);
    remap_through_a_proxy_per_node(&cluster, &tags);
    uncovered_range_fails_typed_then_heals(&cluster, &tags, Protocol::Resp2, 100);
    uncovered_range_fails_typed_then_heals(&cluster, &tags, Protocol::Resp3, 300);
    node_killed_and_forgotten_is_dropped(&mut cluster, &tags);
}

/// Every one of the 16384 slots: SET then GET of a key in it (pipelines of 1024 keys,
/// so each spans every node), and a second key with the same hash tag lands with it.
fn every_slot_set_then_get(con: &mut ClusterConnection, tags: &[String], protocol: Protocol) {
    let started = Instant::now();
    let p = format!("{protocol:?}");
    for chunk in tags.chunks(1024).enumerate() {
        let (c, chunk) = chunk;
        let mut set = pipe();
        for (i, tag) in chunk.iter().enumerate() {
            let slot = c * 1024 + i;
            set.add(cmd("SET").with(format!("{tag}.a{p}")).with(slot))
                .ignore();
        }
        let () = set.query(con).unwrap();
        let mut get = pipe();
        for tag in chunk {
            get.add(cmd("GET").with(format!("{tag}.a{p}")));
        }
        let got: Vec<usize> = get.query(con).unwrap();
        let want: Vec<usize> = (c * 1024..c * 1024 + chunk.len()).collect();
        assert_eq!(got, want, "{p}: slots {}..", c * 1024);
    }
    // Hash tags co-locate: a multi-key command on one tag is not split.
    let tag = &tags[1234];
    let _: () = con
        .mset(&[(format!("{tag}.x"), "1"), (format!("{tag}.y"), "2")])
        .unwrap();
    let v: Vec<String> = con.mget(&[format!("{tag}.x"), format!("{tag}.y")]).unwrap();
    assert_eq!(v, ["1", "2"]);
    let n: i64 = cmd("EXISTS")
        .with(format!("{tag}.x"))
        .with(format!("{tag}.y"))
        .query(con)
        .unwrap();
    assert_eq!(n, 2);
    println!("{p}: 16384 slots SET+GET in {:?}", started.elapsed());
}

/// MGET/MSET/DEL/EXISTS across slots are split and merged in caller order; DBSIZE sums
/// over the primaries, KEYS merges, PING and SCRIPT LOAD go everywhere.
fn split_and_fan_out(con: &mut ClusterConnection, tags: &[String]) {
    let keys: Vec<String> = [0usize, 6000, 12000, 16383, 7]
        .iter()
        .map(|&s| format!("{}.split", tags[s]))
        .collect();
    let pairs: Vec<(String, usize)> = keys.iter().cloned().zip(0..).collect();
    let _: () = con.mset(&pairs).unwrap();
    let mut asked = keys.clone();
    asked.insert(2, format!("{}.missing", tags[9000]));
    let got: Vec<Option<usize>> = con.mget(&asked).unwrap();
    assert_eq!(got, [Some(0), Some(1), None, Some(2), Some(3), Some(4)]);
    let n: usize = cmd("EXISTS").with(&asked).query(con).unwrap();
    assert_eq!(n, 5);
    let total: usize = cmd("DBSIZE").query(con).unwrap();
    assert!(total >= 5, "DBSIZE sums the primaries: {total}");
    let found: Vec<String> = cmd("KEYS").with("*.split").query(con).unwrap();
    let mut found = found;
    found.sort();
    let mut want = keys.clone();
    want.sort();
    assert_eq!(found, want, "KEYS merges every primary's keys");
    let pong: String = cmd("PING").query(con).unwrap();
    assert_eq!(pong, "PONG");
    let sha: String = cmd("SCRIPT")
        .with("LOAD")
        .with("return 1")
        .query(con)
        .unwrap();
    let exists: Vec<bool> = cmd("SCRIPT").with("EXISTS").with(&sha).query(con).unwrap();
    assert_eq!(exists, [true], "loaded on every primary");
    let n: usize = cmd("DEL").with(&keys).query(con).unwrap();
    assert_eq!(n, 5);
    // A shard channel is routed by its slot (no subscriber: 0 receivers).
    let n: i64 = cmd("SPUBLISH")
        .with(format!("{}.ch", tags[42]))
        .with("m")
        .query(con)
        .unwrap();
    assert_eq!(n, 0);
}

/// A pipeline across slots with an error reply in the middle; an atomic pipeline on one
/// hash tag; an atomic pipeline across slots is refused.
fn pipelines_and_transactions(con: &mut ClusterConnection, tags: &[String]) {
    let (a, b) = (format!("{}.p", tags[100]), format!("{}.p", tags[15000]));
    let mut p = pipe();
    p.add(cmd("SET").with(&a).with("x"))
        .add(cmd("INCR").with(&a))
        .add(cmd("SET").with(&b).with(5))
        .add(cmd("INCR").with(&b));
    let raw = con.req_pipeline(&p).unwrap();
    assert_eq!(raw.len(), 4);
    assert_eq!(raw[0], Value::Okay);
    assert!(matches!(raw[1], Value::ServerError(_)), "{:?}", raw[1]);
    assert_eq!(raw[3], Value::Int(6));
    let tag = &tags[4242];
    let mut t = pipe();
    t.atomic()
        .add(cmd("SET").with(format!("{tag}.t1")).with(1))
        .ignore()
        .add(cmd("INCR").with(format!("{tag}.t1")))
        .add(cmd("GET").with(format!("{tag}.t1")));
    let (n, s): (i64, String) = t.query(con).unwrap();
    assert_eq!((n, s.as_str()), (2, "2"));
    let mut cross = pipe();
    cross
        .atomic()
        .add(cmd("SET").with(&a).with(1))
        .add(cmd("SET").with(&b).with(1));
    let e = cross.query::<()>(con).unwrap_err();
    assert!(matches!(e, Error::CrossSlot { .. }), "{e:?}");
}

/// A `Script` runs on its key's node (NOSCRIPT there falls back to EVAL); the
/// cluster-wide scan sees keys of every primary; WATCH/MULTI/EXEC on an exclusive
/// connection to the key's primary.
fn scripts_scan_and_watch(client: &ClusterClient, con: &mut ClusterConnection, tags: &[String]) {
    let script = redis_core::Script::new("return redis.call('INCRBY', KEYS[1], ARGV[1])");
    for s in [3usize, 8000, 16000] {
        let key = format!("{}.script", tags[s]);
        let _: () = con.del(&key).unwrap();
        let n: i64 = script.key(&key).arg(5).query(con).unwrap();
        let n2: i64 = script.key(&key).arg(5).query(con).unwrap();
        assert_eq!((n, n2), (5, 10), "slot {s}");
    }
    let marked: Vec<String> = [10usize, 5500, 11000, 16380]
        .iter()
        .map(|&s| format!("{}.scanme", tags[s]))
        .collect();
    for k in &marked {
        let _: () = con.set(k, 1).unwrap();
    }
    let mut found: Vec<String> = con
        .scan_match_iter("*.scanme")
        .collect::<Result<_, _>>()
        .unwrap();
    found.sort();
    found.dedup();
    let mut want = marked.clone();
    want.sort();
    assert_eq!(found, want);
    let key = format!("{}.watched", tags[777]);
    let mut ex = client.get_exclusive(&key).unwrap();
    let _: () = ex.set(&key, 1).unwrap();
    let (v,): (i64,) = redis_sync::transaction(&mut ex, &key, |ex, p| {
        let old: i64 = ex.get(&key)?;
        p.add(cmd("SET").with(&key).with(old + 1))
            .ignore()
            .add(cmd("GET").with(&key));
        p.query(ex)
    })
    .unwrap();
    assert_eq!(v, 2);
}

fn refused_before_sending(con: &mut ClusterConnection) {
    let e = cmd("RENAME")
        .with("{a}x")
        .with("{b}y")
        .query::<()>(con)
        .unwrap_err();
    assert!(matches!(e, Error::CrossSlot { .. }), "{e:?}");
    for c in [
        cmd("SELECT").with(1),
        cmd("WATCH").with("k"),
        cmd("SUBSCRIBE").with("c"),
    ] {
        let e = c.query::<()>(con).unwrap_err();
        assert!(matches!(e, Error::InvalidRequest(_)), "{e:?}");
    }
    // Still usable afterwards.
    let pong: String = cmd("PING").query(con).unwrap();
    assert_eq!(pong, "PONG");
}

/// SSUBSCRIBE on the slot's primary, SUBSCRIBE on any node; after the slot migrates, the
/// shard subscription follows it and messages published at the new owner arrive. RESP3
/// (messages as push frames).
fn shard_subscription_follows_its_slot(cluster: &RedisCluster, tags: &[String]) {
    let client = client(cluster, Protocol::Resp3);
    let mut con = client.get_connection().unwrap();
    let mut sub = client.get_pubsub().unwrap();
    let slot = 500u16;
    let ch = format!("{}.news", tags[usize::from(slot)]);
    sub.ssubscribe(&ch).unwrap();
    sub.subscribe("plain-news").unwrap();
    let n: i64 = cmd("SPUBLISH").with(&ch).with("1").query(&mut con).unwrap();
    assert_eq!(n, 1, "the subscriber is on the slot's primary");
    let m = sub.get_message(Duration::from_secs(5)).unwrap().unwrap();
    assert_eq!(
        (m.channel_name(), m.payload::<String>().unwrap()),
        (ch.clone(), "1".into())
    );
    let _: i64 = cmd("PUBLISH")
        .with("plain-news")
        .with("p")
        .query(&mut con)
        .unwrap();
    let m = sub.get_message(Duration::from_secs(5)).unwrap().unwrap();
    assert_eq!(m.payload::<String>().unwrap(), "p");

    let from = cluster.node_for_slot(slot);
    let to = *cluster.primaries().iter().find(|&&p| p != from).unwrap();
    cluster.migrate_slot(slot, to);
    let started = Instant::now();
    let mut got = None;
    for i in 0..40 {
        let payload = format!("after-{i}");
        let _: i64 = cmd("SPUBLISH")
            .with(&ch)
            .with(&payload)
            .query(&mut con)
            .unwrap();
        if let Some(m) = sub.get_message(Duration::from_millis(500)).unwrap() {
            got = Some(m.payload::<String>().unwrap());
            break;
        }
    }
    println!(
        "shard subscription followed its slot in {:?}: {got:?}",
        started.elapsed()
    );
    assert!(got.is_some_and(|p| p.starts_with("after-")));
    cluster.migrate_slot(slot, from);
}

/// The address-remap hook sends every node address (slot map, redirects) through a
/// proxy per node: all traffic goes through the proxies, and reads on links the proxy
/// cut are re-sent transparently.
fn remap_through_a_proxy_per_node(cluster: &RedisCluster, tags: &[String]) {
    let proxies: HashMap<u16, redis_tests::Proxy> = cluster
        .nodes()
        .iter()
        .map(|n| (n.port(), redis_tests::Proxy::start(&n.addr())))
        .collect();
    let to_proxy: HashMap<u16, u16> = proxies.iter().map(|(&n, p)| (n, p.port())).collect();
    let seed = redis_core::Addr::tcp("127.0.0.1", to_proxy[&cluster.node(0).port()]);
    let config = Config::new(seed);
    let client = ClusterClient::builder([config])
        .unwrap()
        .remap(move |addr| match addr {
            redis_core::Addr::Tcp { host, port } => match to_proxy.get(&port) {
                Some(&p) => redis_core::Addr::tcp("127.0.0.1", p),
                None => redis_core::Addr::Tcp { host, port },
            },
            other => other,
        })
        .build()
        .unwrap();
    let mut con = client.get_connection().unwrap();
    let keys: Vec<String> = [1usize, 7000, 15000]
        .iter()
        .map(|&s| format!("{}.proxied", tags[s]))
        .collect();
    for k in &keys {
        let _: () = con.set(k, "v").unwrap();
    }
    for port in cluster.primaries().iter().map(|&i| cluster.node(i).port()) {
        assert!(
            proxies[&port].connections() > 0,
            "primary {port} not reached through its proxy"
        );
    }
    assert!(
        client.slot_map().all_nodes().all(|n| proxies
            .values()
            .any(|p| n.addr.to_string().ends_with(&format!(":{}", p.port())))),
        "map has an address that is not a proxy"
    );
    for p in proxies.values() {
        p.cut();
    }
    for k in &keys {
        let v: String = con.get(k).unwrap();
        assert_eq!(v, "v", "read re-sent after the cut");
    }
}

/// `CLUSTER DELSLOTS` of a range on every node: requests for it fail with the typed
/// error within the response timeout (others are served), and after `ADDSLOTS` the same
/// client serves the range again.
fn uncovered_range_fails_typed_then_heals(
    cluster: &RedisCluster,
    tags: &[String],
    protocol: Protocol,
    first: u16,
) {
    let members: Vec<usize> = (0..cluster.nodes().len()).collect();
    for &i in &members {
        cluster.command(i, &["CONFIG", "SET", "cluster-require-full-coverage", "no"]);
    }
    let client = client(cluster, protocol);
    let mut con = client.get_connection().unwrap();
    let last = first + 99;
    let mid = first + 50;
    let owner = cluster.node_for_slot(first);
    let key = format!("{}.heal", tags[usize::from(mid)]);
    let _: () = con.set(&key, "before").unwrap();
    for &i in &members {
        cluster.command(
            i,
            &[
                "CLUSTER",
                "DELSLOTSRANGE",
                &first.to_string(),
                &last.to_string(),
            ],
        );
    }
    let started = Instant::now();
    let e = con.get::<_, Option<String>>(&key).unwrap_err();
    let took = started.elapsed();
    println!("{protocol:?}: uncovered slot: typed error after {took:?}: {e}");
    assert!(
        matches!(e, Error::Cluster(ClusterErrorKind::SlotNotCovered { slot }) if slot == mid),
        "{e:?}"
    );
    assert!(took < client.config().response_timeout, "{took:?}");
    // Other slots are served meanwhile.
    let other = format!("{}.heal", tags[9000]);
    let _: () = con.set(&other, "ok").unwrap();
    cluster.command(
        owner,
        &[
            "CLUSTER",
            "ADDSLOTSRANGE",
            &first.to_string(),
            &last.to_string(),
        ],
    );
    cluster.wait_healthy();
    let started = Instant::now();
    let v: Option<String> = con.get(&key).unwrap();
    println!(
        "{protocol:?}: range served again {:?} after ADDSLOTS settled",
        started.elapsed()
    );
    assert_eq!(
        v.as_deref(),
        Some("before"),
        "the owner kept the range's keys"
    );
    let _: () = con.set(&key, "after").unwrap();
    let v: String = con.get(&key).unwrap();
    assert_eq!(v, "after");
}

/// A replica killed and forgotten: the client's map drops it, and the connection stops
/// using it (reads from replicas go to the others).
fn node_killed_and_forgotten_is_dropped(cluster: &mut RedisCluster, tags: &[String]) {
    let config = cluster.seed_config();
    let client = ClusterClient::builder([config])
        .unwrap()
        .read_from(redis_core::routing::ReadFrom::PreferReplica)
        .build()
        .unwrap();
    let mut con = client.get_connection().unwrap();
    let key = format!("{}.gone", tags[0]);
    let _: () = con.set(&key, "v").unwrap();
    let shard = cluster.node_for_slot(0);
    let replica = cluster.replicas_of(shard)[0];
    let port = cluster.node(replica).port();
    // Reads go to the replica (eventually consistent: wait for the write to arrive).
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let v: Option<String> = con.get(&key).unwrap();
        if v.as_deref() == Some("v") || Instant::now() > deadline {
            break;
        }
        thread::sleep(Duration::from_millis(50));
    }
    assert!(
        con.connected_nodes()
            .iter()
            .any(|a| a.to_string().ends_with(&format!(":{port}"))),
        "the replica serves reads: {:?}",
        con.connected_nodes()
    );
    // LowestLatency measures each node by using it: both nodes of the shard serve reads.
    let lowest = ClusterClient::builder([cluster.seed_config()])
        .unwrap()
        .read_from(redis_core::routing::ReadFrom::LowestLatency)
        .build()
        .unwrap();
    let mut lcon = lowest.get_connection().unwrap();
    for _ in 0..10 {
        let _: Option<String> = lcon.get(&key).unwrap();
    }
    assert!(
        lcon.connected_nodes().len() >= 2,
        "LowestLatency tried only {:?}",
        lcon.connected_nodes()
    );
    cluster.kill(replica);
    // Killed, not yet failed in the cluster's eyes: reads skip it after its connection
    // failed, and none fails.
    let started = Instant::now();
    for _ in 0..20 {
        let v: Option<String> = con.get(&key).unwrap();
        assert_eq!(v.as_deref(), Some("v"));
    }
    println!(
        "20 reads around a killed replica took {:?}",
        started.elapsed()
    );
    cluster.forget(replica);
    client.refresh().unwrap();
    assert!(
        client
            .slot_map()
            .all_nodes()
            .all(|n| !n.addr.to_string().ends_with(&format!(":{port}"))),
        "forgotten node still in the map"
    );
    for _ in 0..20 {
        let v: Option<String> = con.get(&key).unwrap();
        assert_eq!(v.as_deref(), Some("v"));
    }
    assert!(
        con.connected_nodes()
            .iter()
            .all(|a| !a.to_string().ends_with(&format!(":{port}"))),
        "still connected to the forgotten node: {:?}",
        con.connected_nodes()
    );
}

/// What a writer saw, per shard (primary index at start).
#[derive(Default)]
struct Tally {
    ok: u64,
    may_have_executed: u64,
    other_errors: Vec<String>,
    longest_stall: Duration,
    first_ok_after: Option<Instant>,
}

/// A primary frozen with SIGSTOP for 7 s under 8 writers spread over all shards: the
/// replica is promoted; writes acknowledged are never lost, no reply is wrong, healthy
/// shards keep working. Prints the longest stall per shard and the time from the
/// promotion to the first success on the frozen shard.
#[test]
fn frozen_primary_is_replaced_without_losing_acknowledged_writes() {
    // One cluster, two freezes: the second freezes the replica the first promoted. The
    // first runs with cluster-require-full-coverage yes (the default: between the
    // frozen node's FAIL and the promotion every node answers CLUSTERDOWN, so healthy
    // shards stall for the server's sake), the second with no (healthy shards only see
    // the client).
    let mut cluster = RedisCluster::start();
    let tags = tags();
    frozen_primary(&mut cluster, &tags, Protocol::Resp3, false);
    for i in 0..cluster.nodes().len() {
        cluster.command(i, &["CONFIG", "SET", "cluster-require-full-coverage", "no"]);
    }
    frozen_primary(&mut cluster, &tags, Protocol::Resp2, true);
}

/// One freeze; `pooled`: the writers share one `ClusterPool`, else each has its own
/// `ClusterConnection`.
fn frozen_primary(cluster: &mut RedisCluster, tags: &[String], protocol: Protocol, pooled: bool) {
    let tags = tags.to_vec();
    let full = cluster.command(0, &["CONFIG", "GET", "cluster-require-full-coverage"]);
    println!(
        "{protocol:?}, require-full-coverage {:?}, writers on {}:",
        full.lines().last().unwrap_or(""),
        if pooled {
            "one ClusterPool"
        } else {
            "a ClusterConnection each"
        }
    );
    let client = client(cluster, protocol);
    let frozen = cluster.node_for_slot(0);
    let replica = cluster.replicas_of(frozen)[0];
    let shard_of: HashMap<u16, usize> = (0..SLOT_COUNT)
        .step_by(97)
        .map(|s| (s, cluster.node_for_slot(s)))
        .collect();
    // Writer w writes to the slots of one shard (w % shards), so writers of healthy
    // shards never queue behind the frozen one and their stalls are their own.
    let mut shards: Vec<usize> = shard_of.values().copied().collect();
    shards.sort_unstable();
    shards.dedup();
    let stop = Arc::new(AtomicBool::new(false));
    let tallies: Arc<Mutex<HashMap<usize, Tally>>> = Arc::default();
    let acked: Arc<Mutex<Vec<(String, u64)>>> = Arc::default();
    let seq = Arc::new(AtomicU64::new(0));
    let pool = pooled.then(|| client.get_pool(8).unwrap());
    let writers: Vec<_> = (0..8)
        .map(|w| {
            let client = client.clone();
            let pool = pool.clone();
            let (stop, tallies, acked, seq) =
                (stop.clone(), tallies.clone(), acked.clone(), seq.clone());
            let tags = tags.clone();
            let shard_of = shard_of.clone();
            let mine = shards[w % shards.len()];
            let slots: Vec<u16> = shard_of
                .iter()
                .filter(|&(_, &sh)| sh == mine)
                .map(|(&s, _)| s)
                .collect();
            thread::spawn(move || {
                let mut con = Handle::new(&client, pool.as_ref());
                let mut i = w;
                while !stop.load(Ordering::Relaxed) {
                    let slot = slots[i % slots.len()];
                    i += 1;
                    let key = format!("{}.w{w}", tags[usize::from(slot)]);
                    let n = seq.fetch_add(1, Ordering::Relaxed);
                    let started = Instant::now();
                    let r: Result<(), Error> = con.set(&key, n);
                    let took = started.elapsed();
                    let mut t = tallies.lock().unwrap();
                    let t = t.entry(shard_of[&slot]).or_default();
                    t.longest_stall = t.longest_stall.max(took);
                    match r {
                        Ok(()) => {
                            t.ok += 1;
                            t.first_ok_after.get_or_insert(Instant::now());
                            acked.lock().unwrap().push((key, n));
                        }
                        Err(Error::MayHaveExecuted(_)) => t.may_have_executed += 1,
                        Err(e) => t.other_errors.push(e.to_string()),
                    }
                }
            })
        })
        .collect();
    // Two readers of the frozen shard: a read in flight when the node is judged failed
    // is re-sent by the new map; a read never gets a wrong value.
    let read_key = format!("{}.r", tags[0]);
    {
        let mut con = client.get_connection().unwrap();
        let _: () = con.set(&read_key, "stable").unwrap();
    }
    let reads: Arc<Mutex<(u64, Vec<String>, Duration)>> = Arc::default();
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let (client, stop, reads, key) = (
                client.clone(),
                stop.clone(),
                reads.clone(),
                read_key.clone(),
            );
            thread::spawn(move || {
                let mut con = client.get_connection().unwrap();
                while !stop.load(Ordering::Relaxed) {
                    let started = Instant::now();
                    let r: Result<Option<String>, Error> = con.get(&key);
                    let took = started.elapsed();
                    let mut st = reads.lock().unwrap();
                    st.2 = st.2.max(took);
                    match r {
                        Ok(v) => {
                            assert_eq!(v.as_deref(), Some("stable"), "wrong read");
                            st.0 += 1;
                        }
                        Err(e) => st.1.push(e.to_string()),
                    }
                }
            })
        })
        .collect();
    thread::sleep(Duration::from_secs(1));
    reads.lock().unwrap().2 = Duration::ZERO;
    // Keep only what happens from the freeze on.
    tallies.lock().unwrap().clear();
    cluster.pause(frozen);
    let paused = Instant::now();
    let promoted_after = cluster.wait_until_master(replica);
    let promoted = paused + promoted_after;
    tallies
        .lock()
        .unwrap()
        .entry(frozen)
        .or_default()
        .first_ok_after = None;
    let frozen_first_ok = {
        // The first success on the frozen shard after the promotion.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let t = tallies.lock().unwrap();
            if let Some(at) = t.get(&frozen).and_then(|t| t.first_ok_after) {
                break Some(at);
            }
            drop(t);
            if Instant::now() > deadline {
                break None;
            }
            thread::sleep(Duration::from_millis(5));
        }
    };
    let left = Duration::from_secs(7).saturating_sub(paused.elapsed());
    thread::sleep(left);
    cluster.resume(frozen);
    cluster.wait_healthy();
    thread::sleep(Duration::from_millis(500));
    stop.store(true, Ordering::Relaxed);
    for w in writers.into_iter().chain(readers) {
        w.join().unwrap();
    }
    println!("{protocol:?}: replica promoted {promoted_after:?} after SIGSTOP");
    {
        let r = reads.lock().unwrap();
        println!(
            "{protocol:?}: reads of the frozen shard: {} ok, {} errors {:?}, longest {:?}",
            r.0,
            r.1.len(),
            r.1.first(),
            r.2
        );
    }
    match frozen_first_ok {
        Some(at) => println!(
            "{protocol:?}: first success on the frozen shard {:?} after the promotion",
            at.saturating_duration_since(promoted)
        ),
        None => {
            println!("{protocol:?}: no success on the frozen shard within 10 s of the promotion")
        }
    }
    let tallies = tallies.lock().unwrap();
    for (shard, t) in tallies.iter() {
        println!(
            "{protocol:?}: shard of node {shard}{}: longest stall {:?}, ok {}, may-have-executed {}, other errors {}",
            if *shard == frozen { " (frozen)" } else { "" },
            t.longest_stall,
            t.ok,
            t.may_have_executed,
            t.other_errors.len()
        );
        if let Some(e) = t.other_errors.first() {
            println!("  first other error: {e}");
        }
    }
    // Every acknowledged write is readable: the last acknowledged value of each key.
    let mut last: HashMap<String, u64> = HashMap::new();
    for (k, n) in acked.lock().unwrap().iter() {
        last.insert(k.clone(), *n);
    }
    let mut con = client.get_connection().unwrap();
    let mut lost = 0;
    for (k, n) in &last {
        let v: Option<u64> = con.get(k).unwrap();
        // A later unacknowledged write (MayHaveExecuted) may have landed over it.
        if v.is_none_or(|v| v < *n) {
            lost += 1;
            println!("lost: {k} = {n}, read {v:?}");
        }
    }
    println!(
        "{protocol:?}: acknowledged writes lost: {lost} (of {} keys)",
        last.len()
    );
    assert_eq!(lost, 0);
    assert!(
        frozen_first_ok.is_some(),
        "the frozen shard was never served again"
    );
}

/// Errors callers saw under load, by kind.
#[derive(Default, Debug)]
struct Seen {
    ok: u64,
    redirects: Vec<String>,
    others: Vec<String>,
}

/// 8 threads writing (SET, then GET of the same key) through one `ClusterPool` until
/// `stop`; acknowledged writes go to `acked`.
fn load(
    pool: &redis_cluster::sync::ClusterPool,
    keys: &[String],
    stop: &Arc<AtomicBool>,
    seen: &Arc<Mutex<Seen>>,
    acked: &Arc<Mutex<HashMap<String, u64>>>,
) -> Vec<thread::JoinHandle<()>> {
    (0..8)
        .map(|w| {
            let mut pool = pool.clone();
            let (stop, seen, acked) = (stop.clone(), seen.clone(), acked.clone());
            let keys: Vec<String> = keys.iter().skip(w).step_by(8).cloned().collect();
            thread::spawn(move || {
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    for key in &keys {
                        n += 1;
                        let r: Result<(), Error> = pool.set(key, n);
                        let r = r.and_then(|()| {
                            let v: u64 = pool.get(key)?;
                            // Only this thread writes this key.
                            assert_eq!(v, n, "wrong reply for {key}");
                            Ok(())
                        });
                        let mut s = seen.lock().unwrap();
                        match r {
                            Ok(()) => {
                                s.ok += 1;
                                acked.lock().unwrap().insert(key.clone(), n);
                            }
                            Err(e)
                                if e.is_redirect()
                                    || matches!(
                                        e.server_kind(),
                                        Some(redis_core::ServerErrorKind::ReadOnly)
                                    ) =>
                            {
                                s.redirects.push(e.to_string())
                            }
                            Err(e) => s.others.push(e.to_string()),
                        }
                        if stop.load(Ordering::Relaxed) {
                            break;
                        }
                    }
                }
            })
        })
        .collect()
}

fn stop_and_report(
    what: &str,
    writers: Vec<thread::JoinHandle<()>>,
    stop: &Arc<AtomicBool>,
    seen: &Arc<Mutex<Seen>>,
) -> Seen {
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.join().unwrap();
    }
    let s = std::mem::take(&mut *seen.lock().unwrap());
    println!(
        "{what}: {} ok, {} redirect/READONLY errors, {} other errors {:?}",
        s.ok,
        s.redirects.len(),
        s.others.len(),
        s.others.iter().take(3).collect::<Vec<_>>()
    );
    s
}

fn all_acked_readable(client: &ClusterClient, acked: &Arc<Mutex<HashMap<String, u64>>>) {
    let mut con = client.get_connection().unwrap();
    let acked = acked.lock().unwrap();
    let mut lost = 0;
    for (k, n) in acked.iter() {
        let v: Option<u64> = con.get(k).unwrap();
        if v.is_none_or(|v| v < *n) {
            lost += 1;
        }
    }
    println!("acknowledged writes lost: {lost} of {} keys", acked.len());
    assert_eq!(lost, 0);
}

/// 200 slots migrated under load from 8 threads on one `ClusterPool`, then a
/// coordinated `CLUSTER FAILOVER` under load: callers see no error at all during the
/// migration and no MOVED/ASK/READONLY during the failover; every acknowledged write is
/// readable after each. RESP2 and RESP3.
#[test]
fn migration_and_failover_under_load_reach_no_caller() {
    let cluster = RedisCluster::start();
    let tags = tags();
    // RESP2 moves the slots away from their first owner, RESP3 moves them back.
    for protocol in [Protocol::Resp2, Protocol::Resp3] {
        migration_and_failover(&cluster, &tags, protocol);
    }
}

fn migration_and_failover(cluster: &RedisCluster, tags: &[String], protocol: Protocol) {
    println!("{protocol:?}:");
    let client = client(cluster, protocol);
    let pool = client.get_pool(4).unwrap();
    let from = cluster.node_for_slot(0);
    let to = *cluster.primaries().iter().find(|&&p| p != from).unwrap();
    // Keys in the migrated slots (several per slot) and some elsewhere.
    let mut keys: Vec<String> = (0..200usize)
        .flat_map(|s| (0..3).map(move |i| (s, i)))
        .map(|(s, i)| format!("{}.m{i}", tags[s]))
        .collect();
    keys.extend((1000..16384).step_by(331).map(|s| format!("{}.m", tags[s])));
    let stop = Arc::new(AtomicBool::new(false));
    let seen: Arc<Mutex<Seen>> = Arc::default();
    let acked: Arc<Mutex<HashMap<String, u64>>> = Arc::default();

    let writers = load(&pool, &keys, &stop, &seen, &acked);
    thread::sleep(Duration::from_millis(500));
    let started = Instant::now();
    cluster.migrate_slots(0..=199, to);
    println!(
        "200 slots migrated from node {from} to node {to} in {:?}",
        started.elapsed()
    );
    thread::sleep(Duration::from_millis(500));
    let s = stop_and_report("migration", writers, &stop, &seen);
    assert!(s.ok > 0);
    assert!(
        s.redirects.is_empty(),
        "{:?}",
        &s.redirects[..s.redirects.len().min(5)]
    );
    assert!(
        s.others.is_empty(),
        "{:?}",
        &s.others[..s.others.len().min(5)]
    );
    all_acked_readable(&client, &acked);

    stop.store(false, Ordering::Relaxed);
    let writers = load(&pool, &keys, &stop, &seen, &acked);
    thread::sleep(Duration::from_millis(500));
    let replica = cluster.replicas_of(to)[0];
    let started = Instant::now();
    cluster.failover(replica);
    println!(
        "CLUSTER FAILOVER to node {replica} took {:?}",
        started.elapsed()
    );
    thread::sleep(Duration::from_millis(1000));
    let s = stop_and_report("failover", writers, &stop, &seen);
    assert!(s.ok > 0);
    assert!(
        s.redirects.is_empty(),
        "{:?}",
        &s.redirects[..s.redirects.len().min(5)]
    );
    cluster.wait_healthy();
    all_acked_readable(&client, &acked);
}
