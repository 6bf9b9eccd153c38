//! Rotating credentials and connection events through the HA clients (issue 9): a cluster
//! client and a Sentinel client ride out an ACL password rotation on every data node
//! under 16 writers and a subscriber (no NOAUTH/WRONGPASS reaches a caller, no message is
//! missed), and report their topology events: `TopologyChanged` after a slot migration
//! and a `CLUSTER FAILOVER`, `PrimarySwitched` after a `SENTINEL FAILOVER`.
//!
//! The rotation is `redis_tests::rotation`'s: every `PERIOD` the admin adds the
//! next password to the ACL user on every data node, the provider publishes it, and
//! `OVERLAP` later the admin removes the previous one. The servers' own links (replication,
//! the cluster bus, the sentinels) use the `default` user and never depend on it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use redis_core::credentials::RotatingCredentials;
use redis_core::{Addr, Config, ConnectionEvent};
use redis_tests::rotation::{creds, rotate, Figures, Order, Tally, ROTATIONS, USER, WRITERS};
use redis_tests::{unique_key, RedisCluster, SentinelSetup};

/// The ACL rules of the rotated user: everything (the cluster client also needs
/// `CLUSTER SHARDS` and `READONLY`, the Sentinel client `ROLE`).
const RULES: [&str; 4] = ["on", "~*", "&*", "+@all"];

/// Creates the ACL user with password `pw0`, through `admin` (which runs one command as
/// the `default` user on every data node).
fn create_user(admin: &dyn Fn(&[&str])) {
    let mut args = vec!["ACL", "SETUSER", USER, ">pw0"];
    args.extend(RULES);
    admin(&args);
}

/// Runs a command as the `default` user (no password) on the node `config` names.
fn admin_on(config: &Config, args: &[&str]) {
    let client = redis_sync::Client::open(config.clone()).unwrap();
    let mut con = client.get_connection().unwrap();
    let mut c = redis_core::cmd(args[0]);
    for a in &args[1..] {
        c.arg(*a);
    }
    let _: redis_core::Value = redis_sync::Query::query(&c, &mut con).unwrap();
}

/// A subscriber thread: collects message payloads until `stop`.
fn collect_messages<F>(
    stop: Arc<AtomicBool>,
    figures: Arc<Figures>,
    mut next: F,
) -> std::thread::JoinHandle<Vec<String>>
where
    F: FnMut() -> redis_core::Result<Option<redis_core::Msg>> + Send + 'static,
{
    std::thread::spawn(move || {
        let mut got = Vec::new();
        while !stop.load(Ordering::SeqCst) {
            match next() {
                Ok(Some(m)) if m.is_message() => got.push(m.payload::<String>().unwrap()),
                Ok(_) => {}
                Err(e) => figures.error(format!("subscriber: {e}")),
            }
        }
        got
    })
}

/// Runs `WRITERS` blocking writers (SET then PUBLISH `w<w>:<n>`, each on the connection
/// `con(w)` gives) while the password rotates, then lets the subscriber drain.
fn write_while_rotating<C, F>(
    con: F,
    channel: &str,
    figures: &Arc<Figures>,
    admin: &dyn Fn(&[&str]),
    provider: &RotatingCredentials,
) where
    C: redis_sync::ConnectionLike + Send + 'static,
    F: Fn(usize) -> C,
{
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let mut con = con(w);
            let (figures, stop, channel) = (figures.clone(), stop.clone(), channel.to_owned());
            std::thread::spawn(move || {
                use redis_sync::Commands;
                let key = unique_key("rot-key");
                let mut n = 0u64;
                while !stop.load(Ordering::SeqCst) {
                    let r = con.set::<_, _, ()>(&key, n).and_then(|()| {
                        con.publish::<_, _, i64>(&channel, format!("w{w}:{n}"))
                            .map(drop)
                    });
                    if !figures.done(w, &mut n, r) {
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(2));
                }
            })
        })
        .collect();
    rotate(admin, provider);
    stop.store(true, Ordering::SeqCst);
    for w in writers {
        w.join().unwrap();
    }
    // Let the subscriber read what is still on its way.
    std::thread::sleep(Duration::from_millis(500));
}

// ---------------------------------------------------------------------------------------
// Cluster
// ---------------------------------------------------------------------------------------

/// A 3-primary/3-replica cluster with the rotated user on every node.
fn cluster_with_user() -> (RedisCluster, impl Fn(&[&str])) {
    let cluster = RedisCluster::start();
    let configs = cluster.configs();
    let admin = move |args: &[&str]| {
        for c in &configs {
            admin_on(c, args);
        }
    };
    create_user(&admin);
    (cluster, admin)
}

/// The blocking cluster client: 16 writer threads on one `ClusterPool` and a subscriber
/// through the client's pub/sub, while the password rotates on all six nodes. The
/// client's `on_event` sees the re-authentications of every node's connections.
#[test]
fn blocking_cluster_pool_and_subscriber_ride_out_password_rotation() {
    let (cluster, admin) = cluster_with_user();
    let provider = Arc::new(RotatingCredentials::new(creds(USER, "pw0")));
    let seed = cluster.seed_config().with_credentials(provider.clone());
    let client = redis_cluster::sync::ClusterClient::open([seed]).unwrap();
    let tally = Arc::new(Tally::default());
    {
        let t = tally.clone();
        client.on_event(move |e| t.note(e));
    }
    let pool = client.get_pool(WRITERS as u32).unwrap();
    let figures = Figures::new();
    let channel = unique_key("rot-cluster");
    let mut sub = client.get_pubsub().unwrap();
    sub.subscribe(&channel).unwrap();
    let sub_stop = Arc::new(AtomicBool::new(false));
    let subscriber = collect_messages(sub_stop.clone(), figures.clone(), move || {
        sub.get_message(Duration::from_millis(100))
    });

    write_while_rotating(|_| pool.clone(), &channel, &figures, &admin, &provider);
    sub_stop.store(true, Ordering::SeqCst);
    let received = subscriber.join().unwrap();

    let missed = figures.report(
        "blocking cluster pool + subscriber",
        &received,
        &tally,
        Order::Any,
    );
    assert_eq!(missed, 0, "the subscriber missed messages");
    assert!(
        tally.get("reauthenticated") >= ROTATIONS as u64,
        "{}",
        tally.show()
    );
    assert!(
        tally.nodes_reauthenticated() >= 3,
        "one place sees every node's connections: {}",
        tally.show()
    );
    assert_eq!(tally.get("reauth_failed"), 0, "{}", tally.show());
}

/// The async cluster client: 16 writer tasks on one `ClusterConnection` and a subscriber
/// through the client's pub/sub, while the password rotates on all six nodes; its
/// `events()` stream sees the re-authentications of every node's connections.
#[test]
fn async_cluster_connection_and_subscriber_ride_out_password_rotation() {
    let (cluster, admin) = cluster_with_user();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let provider = Arc::new(RotatingCredentials::new(creds(USER, "pw0")));
    let seed = cluster.seed_config().with_credentials(provider.clone());
    let client = redis_cluster::aio::ClusterClient::open([seed]).unwrap();
    let tally = Arc::new(Tally::default());
    let figures = Figures::new();
    let channel = unique_key("rot-cluster-async");
    let stop = Arc::new(AtomicBool::new(false));
    let sub_stop = Arc::new(AtomicBool::new(false));
    let (writers, subscriber) = rt.block_on(async {
        let mut events = client.events();
        let t = tally.clone();
        tokio::spawn(async move {
            while let Ok(e) = events.recv().await {
                t.note(&e);
            }
        });
        let con = client.get_connection().await.unwrap();
        let mut sub = client
            .get_pubsub(redis_async::PubSubOptions::default())
            .await
            .unwrap();
        sub.subscribe(&channel).await.unwrap();
        let (figures2, sub_stop2) = (figures.clone(), sub_stop.clone());
        let subscriber = tokio::spawn(async move {
            let mut got = Vec::new();
            while !sub_stop2.load(Ordering::SeqCst) {
                match tokio::time::timeout(Duration::from_millis(100), sub.next_message()).await {
                    Ok(Some(Ok(m))) if m.is_message() => got.push(m.payload::<String>().unwrap()),
                    Ok(Some(Err(e))) => figures2.error(format!("subscriber: {e}")),
                    Ok(None) => {
                        figures2.error("subscriber: stream ended");
                        break;
                    }
                    _ => {}
                }
            }
            got
        });
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                let (mut con, figures, stop, channel) =
                    (con.clone(), figures.clone(), stop.clone(), channel.clone());
                tokio::spawn(async move {
                    use redis_async::Commands;
                    let key = unique_key("rot-key");
                    let mut n = 0u64;
                    while !stop.load(Ordering::SeqCst) {
                        let r = async {
                            con.set::<_, _, ()>(&key, n).await?;
                            con.publish::<_, _, i64>(&channel, format!("w{w}:{n}"))
                                .await?;
                            Ok(())
                        }
                        .await;
                        if !figures.done(w, &mut n, r) {
                            return;
                        }
                        tokio::time::sleep(Duration::from_millis(2)).await;
                    }
                })
            })
            .collect::<Vec<_>>();
        (writers, subscriber)
    });
    rotate(&admin, &provider);
    stop.store(true, Ordering::SeqCst);
    let received = rt.block_on(async {
        for w in writers {
            w.await.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        sub_stop.store(true, Ordering::SeqCst);
        subscriber.await.unwrap()
    });

    let missed = figures.report(
        "async cluster connection + subscriber",
        &received,
        &tally,
        Order::Any,
    );
    assert_eq!(missed, 0, "the subscriber missed messages");
    assert!(
        tally.get("reauthenticated") >= ROTATIONS as u64,
        "{}",
        tally.show()
    );
    assert!(
        tally.nodes_reauthenticated() >= 3,
        "one stream sees every node's connections: {:?}",
        tally.show()
    );
    assert_eq!(tally.get("reauth_failed"), 0, "{}", tally.show());
    drop(cluster);
}

/// Waits (up to 20 s, refreshing) until `seen` holds a `TopologyChanged` that moved
/// `moved` slots; returns the node it names.
fn wait_topology_changed(
    seen: &Mutex<Vec<ConnectionEvent>>,
    moved: usize,
    mut refresh: impl FnMut(),
) -> Addr {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let found = seen.lock().unwrap().iter().find_map(|e| match e {
            ConnectionEvent::TopologyChanged { addr, moved_slots } if *moved_slots == moved => {
                Some(addr.clone())
            }
            _ => None,
        });
        if let Some(addr) = found {
            seen.lock().unwrap().clear();
            return addr;
        }
        assert!(
            Instant::now() < deadline,
            "no TopologyChanged moving {moved} slots; seen {:?}",
            seen.lock().unwrap()
        );
        refresh();
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Both cluster clients report `TopologyChanged` with the number of slots that changed
/// owner: every slot for the first map, one after a slot migration, the whole shard after
/// a `CLUSTER FAILOVER`. A blocking client left idle (no request, no refresh by hand)
/// sees the migration through its periodic refresh (it once refreshed only when the next
/// request came).
#[test]
fn cluster_clients_report_topology_changes() {
    let cluster = RedisCluster::start();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let seed = cluster.seed_config();
    let blocking = redis_cluster::sync::ClusterClient::open([seed.clone()]).unwrap();
    let seen_blocking: Arc<Mutex<Vec<ConnectionEvent>>> = Arc::default();
    {
        let seen = seen_blocking.clone();
        blocking.on_event(move |e| {
            if matches!(e, ConnectionEvent::TopologyChanged { .. }) {
                seen.lock().unwrap().push(e.clone());
            }
        });
    }
    let asynch = redis_cluster::aio::ClusterClient::open([seed]).unwrap();
    let seen_async: Arc<Mutex<Vec<ConnectionEvent>>> = Arc::default();
    {
        let mut events = asynch.events();
        let seen = seen_async.clone();
        rt.spawn(async move {
            while let Ok(e) = events.recv().await {
                if matches!(e, ConnectionEvent::TopologyChanged { .. }) {
                    seen.lock().unwrap().push(e);
                }
            }
        });
    }
    let idle = redis_cluster::sync::ClusterClient::builder([cluster.seed_config()])
        .unwrap()
        .refresh(redis_cluster::RefreshConfig {
            periodic: Some(Duration::from_secs(1)),
            ..Default::default()
        })
        .build()
        .unwrap();
    let seen_idle: Arc<Mutex<Vec<ConnectionEvent>>> = Arc::default();
    {
        let seen = seen_idle.clone();
        idle.on_event(move |e| {
            if matches!(e, ConnectionEvent::TopologyChanged { .. }) {
                seen.lock().unwrap().push(e.clone());
            }
        });
    }
    let refresh_both = || {
        let _ = blocking.refresh();
        let _ = rt.block_on(asynch.refresh());
    };
    // The first map: every slot is new.
    let _con = blocking.get_connection().unwrap();
    let _acon = rt.block_on(asynch.get_connection()).unwrap();
    let _idle_con = idle.get_connection().unwrap();
    wait_topology_changed(&seen_blocking, 16384, || {});
    wait_topology_changed(&seen_async, 16384, || {});
    wait_topology_changed(&seen_idle, 16384, || {});

    // One slot migrates to another primary.
    let slot = 42u16;
    let from = cluster.node_for_slot(slot);
    let to = *cluster.primaries().iter().find(|&&p| p != from).unwrap();
    let migrated = Instant::now();
    cluster.migrate_slot(slot, to);
    wait_topology_changed(&seen_blocking, 1, refresh_both);
    wait_topology_changed(&seen_async, 1, refresh_both);
    wait_topology_changed(&seen_idle, 1, || {});
    println!(
        "idle blocking client (periodic refresh 1 s): saw the migration {:?} after it",
        migrated.elapsed()
    );

    // The shard of slot 0 fails over to its replica: all its slots change owner.
    let primary = cluster.node_for_slot(0);
    let shard_slots: usize = cluster
        .slot_ranges()
        .iter()
        .filter(|&&(_, _, p)| p == primary)
        .map(|&(a, b, _)| usize::from(b - a) + 1)
        .sum();
    let replica = cluster.replicas_of(primary)[0];
    cluster.failover(replica);
    let promoted = Addr::tcp("127.0.0.1", cluster.node(replica).port());
    let named = wait_topology_changed(&seen_blocking, shard_slots, refresh_both);
    println!("blocking: TopologyChanged moving {shard_slots} slots, named by {named}");
    let named = wait_topology_changed(&seen_async, shard_slots, refresh_both);
    println!("async: TopologyChanged moving {shard_slots} slots, named by {named}");
    assert_eq!(cluster.node_for_slot(0), replica, "{promoted}");
}

// ---------------------------------------------------------------------------------------
// Sentinel
// ---------------------------------------------------------------------------------------

/// A primary with 2 replicas and 3 sentinels, the rotated user on the primary and both
/// replicas (ACL SETUSER on each: ACL changes are not replicated).
fn sentinel_with_user() -> (SentinelSetup, impl Fn(&[&str])) {
    let setup = SentinelSetup::start();
    let configs: Vec<Config> = setup.nodes().iter().map(|n| n.config_no_auth()).collect();
    let admin = move |args: &[&str]| {
        for c in &configs {
            admin_on(c, args);
        }
    };
    create_user(&admin);
    (setup, admin)
}

/// A `master_for` client: 16 writer threads on its pool and a subscriber from its
/// `get_pubsub`, while the password rotates on the primary and the replicas.
#[test]
fn sentinel_pool_and_subscriber_ride_out_password_rotation() {
    let (setup, admin) = sentinel_with_user();
    let provider = Arc::new(RotatingCredentials::new(creds(USER, "pw0")));
    let sentinel =
        redis_sentinel::sync::Sentinel::new(setup.sentinel_addrs(), setup.sentinel_config());
    let data = setup.data_config().with_credentials(provider.clone());
    let client = sentinel.master_for(setup.service(), data).unwrap();
    let tally = Arc::new(Tally::default());
    {
        let t = tally.clone();
        client.on_event(move |e| t.note(e));
    }
    let pool = client.pool(WRITERS as u32 + 4).unwrap();
    let figures = Figures::new();
    let channel = unique_key("rot-sentinel");
    let mut sub = client.get_pubsub().unwrap();
    sub.subscribe(&channel).unwrap();
    let sub_stop = Arc::new(AtomicBool::new(false));
    let subscriber = collect_messages(sub_stop.clone(), figures.clone(), move || {
        sub.get_message(Duration::from_millis(100))
    });

    write_while_rotating(
        |_| PooledWriter(pool.clone()),
        &channel,
        &figures,
        &admin,
        &provider,
    );
    sub_stop.store(true, Ordering::SeqCst);
    let received = subscriber.join().unwrap();

    let missed = figures.report(
        "sentinel master_for pool + subscriber",
        &received,
        &tally,
        Order::Any,
    );
    assert_eq!(missed, 0, "the subscriber missed messages");
    assert!(
        tally.get("reauthenticated") >= ROTATIONS as u64,
        "{}",
        tally.show()
    );
    assert_eq!(tally.get("reauth_failed"), 0, "{}", tally.show());
    assert_eq!(tally.get("primary_switched"), 0, "{}", tally.show());
}

/// A writer on a pool: every request checks a connection out (idle pooled connections
/// re-authenticate too).
struct PooledWriter(redis_sync::Pool);

impl redis_sync::ConnectionLike for PooledWriter {
    fn req(&mut self, cmd: &redis_core::Cmd) -> redis_core::Result<redis_core::Value> {
        self.0.get()?.req(cmd)
    }

    fn req_pipeline(
        &mut self,
        pipeline: &redis_core::Pipeline,
    ) -> redis_core::Result<Vec<redis_core::Value>> {
        self.0.get()?.req_pipeline(pipeline)
    }
}

/// Both `master_for` clients report `PrimarySwitched` (new and previous primary) after a
/// `SENTINEL FAILOVER`, through the client's own events.
#[test]
fn sentinel_clients_report_primary_switched() {
    let mut setup = SentinelSetup::start();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let sentinel =
        redis_sentinel::sync::Sentinel::new(setup.sentinel_addrs(), setup.sentinel_config());
    let blocking = sentinel
        .master_for(setup.service(), setup.data_config())
        .unwrap();
    let seen_blocking: Arc<Mutex<Vec<ConnectionEvent>>> = Arc::default();
    {
        let seen = seen_blocking.clone();
        blocking.on_event(move |e| {
            if matches!(e, ConnectionEvent::PrimarySwitched { .. }) {
                seen.lock().unwrap().push(e.clone());
            }
        });
    }
    let asentinel =
        redis_sentinel::aio::Sentinel::new(setup.sentinel_addrs(), setup.sentinel_config());
    let asynch = asentinel
        .master_for(setup.service(), setup.data_config())
        .unwrap();
    let seen_async: Arc<Mutex<Vec<ConnectionEvent>>> = Arc::default();
    {
        let mut events = asynch.events();
        let seen = seen_async.clone();
        rt.spawn(async move {
            while let Ok(e) = events.recv().await {
                if matches!(e, ConnectionEvent::PrimarySwitched { .. }) {
                    seen.lock().unwrap().push(e);
                }
            }
        });
    }
    let ping = || {
        use redis_sync::Commands;
        let _ = blocking
            .get_connection()
            .and_then(|mut c| c.ping::<String>());
        let _ = rt.block_on(async {
            use redis_async::Commands;
            let mut c = asynch.get_connection().await?;
            c.ping::<String>().await
        });
    };
    ping();
    let port = |setup: &SentinelSetup, i: usize| Addr::tcp("127.0.0.1", setup.nodes()[i].port());
    let before = port(&setup, setup.primary_index());
    let after_index = setup.failover();
    let after = port(&setup, after_index);
    let expected = ConnectionEvent::PrimarySwitched {
        addr: after.clone(),
        previous: Some(before.clone()),
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    for (what, seen) in [("blocking", &seen_blocking), ("async", &seen_async)] {
        while !seen.lock().unwrap().contains(&expected) {
            assert!(
                Instant::now() < deadline,
                "{what}: no {expected:?}; seen {:?}",
                seen.lock().unwrap()
            );
            ping();
            std::thread::sleep(Duration::from_millis(100));
        }
        println!("{what}: {expected:?}");
    }
}
