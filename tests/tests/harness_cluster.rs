//! Tests of the cluster harness: a real 3 + 3 cluster forms, covers every slot, routes a
//! `redis-cli -c` key, fails over on request and on a frozen primary, and migrates a slot.
//!
//! One cluster serves all steps of the main test (six processes are costly on a small CI
//! machine); each step leaves the cluster healthy for the next one.

// A failing test should panic, with the error in the message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use redis_tests::{unique_key, RedisCluster};

#[test]
fn cluster_forms_fails_over_and_migrates() {
    let started = Instant::now();
    let mut cluster = RedisCluster::builder()
        .primaries(3)
        .replicas_per_primary(1)
        .start();
    eprintln!("cluster of 6 formed in {:?}", started.elapsed());

    every_node_says_ok(&cluster);
    all_slots_covered(&cluster);
    cli_key_lands_and_reads_back(&cluster);
    failover_promotes_the_replica(&cluster);
    paused_primary_is_replaced(&mut cluster);
    migrating_a_slot_moves_its_keys(&cluster);
    killed_replica_restarts_and_rejoins(&mut cluster);
}

/// Every credential path: `masterauth` for the replicas, `AUTH` in `MIGRATE`, the password
/// in `cli` and `config`; and a killed node forgotten by the others.
#[test]
fn password_cluster_migrates_and_forgets() {
    let mut cluster = RedisCluster::builder()
        .primaries(2)
        .replicas_per_primary(1)
        .password("cluster pw")
        .start();
    assert_eq!(cluster.primaries(), vec![0, 1]);
    assert_eq!(cluster.replicas_of(0), vec![2]);
    assert_eq!(cluster.node_for_slot(8191), 0);
    assert_eq!(cluster.node_for_slot(8192), 1);
    for config in cluster.configs() {
        assert!(
            format!("{config:?}").contains("Tcp"),
            "plain TCP address: {config:?}"
        );
    }
    let noauth = cluster.node(0).cli_as(None, None, &["GET", "x"]);
    assert!(noauth.starts_with("NOAUTH"), "{noauth}");

    let key = unique_key("cluster-pw");
    let slot = cluster.slot_of(&key);
    assert_eq!(cluster.node(0).cli(&["-c", "SET", &key, "v"]), "OK");
    let to = 1 - cluster.node_for_slot(slot);
    cluster.migrate_slot(slot, to);
    assert_eq!(cluster.command(to, &["GET", &key]), "v");
    cluster.migrate_slots(0..=2, 1);
    for slot in 0..=3 {
        let owner = if slot <= 2 { 1 } else { 0 };
        assert_eq!(cluster.node_for_slot(slot), owner, "slot {slot}");
    }

    cluster.kill(2);
    cluster.forget(2);
    cluster.wait_healthy();
    for i in [0, 1, 3] {
        let info = cluster.command(i, &["CLUSTER", "INFO"]);
        assert!(info.contains("cluster_known_nodes:3"), "node {i}: {info}");
    }
    assert_eq!(cluster.replicas_of(0), Vec::<usize>::new());
}

fn every_node_says_ok(cluster: &RedisCluster) {
    assert_eq!(cluster.nodes().len(), 6);
    for i in 0..cluster.nodes().len() {
        let info = cluster.command(i, &["CLUSTER", "INFO"]);
        assert!(info.contains("cluster_state:ok"), "node {i}: {info}");
        assert!(info.contains("cluster_known_nodes:6"), "node {i}: {info}");
    }
    assert_eq!(cluster.primaries(), vec![0, 1, 2]);
    for p in 0..3 {
        assert_eq!(cluster.replicas_of(p), vec![3 + p], "replicas of {p}");
        let role = cluster.command(3 + p, &["ROLE"]);
        assert!(role.starts_with("slave"), "node {}: {role}", 3 + p);
        assert!(role.contains("connected"), "node {}: {role}", 3 + p);
    }
}

fn all_slots_covered(cluster: &RedisCluster) {
    let ranges = cluster.slot_ranges();
    let mut next = 0u32;
    for &(first, last, primary) in &ranges {
        assert_eq!(u32::from(first), next, "gap or overlap before {ranges:?}");
        assert!(cluster.primaries().contains(&primary), "{ranges:?}");
        next = u32::from(last) + 1;
    }
    assert_eq!(next, 16384, "{ranges:?}");
    assert_eq!(cluster.node_for_slot(0), 0);
    assert_eq!(cluster.node_for_slot(16383), 2);
}

fn cli_key_lands_and_reads_back(cluster: &RedisCluster) {
    let key = unique_key("cluster-cli");
    // Sent to node 0 whatever the slot: `-c` follows the MOVED redirect.
    assert_eq!(cluster.node(0).cli(&["-c", "SET", &key, "v1"]), "OK");
    for node in cluster.nodes() {
        assert_eq!(node.cli(&["-c", "GET", &key]), "v1", "via {node:?}");
    }
    let owner = cluster.node_for_slot(cluster.slot_of(&key));
    assert_eq!(cluster.command(owner, &["GET", &key]), "v1");
}

fn failover_promotes_the_replica(cluster: &RedisCluster) {
    let old = cluster.node_for_slot(0);
    let replica = cluster.replicas_of(old)[0];
    let started = Instant::now();
    cluster.failover(replica);
    eprintln!(
        "CLUSTER FAILOVER: node {replica} master after {:?}",
        started.elapsed()
    );
    cluster.wait_healthy();
    eprintln!("healthy again after {:?}", started.elapsed());
    assert_eq!(cluster.node_for_slot(0), replica);
    assert_eq!(cluster.replicas_of(replica), vec![old]);
}

fn paused_primary_is_replaced(cluster: &mut RedisCluster) {
    let key = unique_key("cluster-pause");
    let slot = cluster.slot_of(&key);
    let old = cluster.node_for_slot(slot);
    assert_eq!(cluster.command(old, &["SET", &key, "before"]), "OK");
    // Let the replica receive the write before its primary freezes.
    assert_eq!(cluster.command(old, &["WAIT", "1", "5000"]), "1");
    let replica = cluster.replicas_of(old)[0];

    cluster.pause(old);
    let promoted_after = cluster.wait_until_master(replica);
    eprintln!(
        "primary {old} frozen: replica {replica} promoted after {promoted_after:?} \
         (node timeout {:?})",
        cluster.node_timeout()
    );
    assert_eq!(cluster.node_for_slot(slot), replica);
    assert_eq!(cluster.command(replica, &["GET", &key]), "before");

    let resumed = Instant::now();
    cluster.resume(old);
    cluster.wait_healthy();
    eprintln!("old primary resumed: healthy after {:?}", resumed.elapsed());
    assert_eq!(cluster.replicas_of(replica), vec![old]);
    assert_eq!(cluster.node_for_slot(slot), replica);
}

fn migrating_a_slot_moves_its_keys(cluster: &RedisCluster) {
    // 250 keys in one slot: more than one MIGRATE batch.
    let tag = unique_key("mig");
    let keys: Vec<String> = (0..250).map(|n| format!("{{{tag}}}:{n}")).collect();
    let slot = cluster.slot_of(&keys[0]);
    let from = cluster.node_for_slot(slot);
    let mut mset = vec!["MSET"];
    for key in &keys {
        mset.extend([key.as_str(), key.as_str()]);
    }
    assert_eq!(cluster.command(from, &mset), "OK");
    let to = *cluster
        .primaries()
        .iter()
        .find(|&&p| p != from)
        .expect("another primary");

    let started = Instant::now();
    cluster.migrate_slot(slot, to);
    eprintln!("slot {slot} (250 keys) migrated in {:?}", started.elapsed());

    assert_eq!(cluster.node_for_slot(slot), to);
    let slot_s = slot.to_string();
    let count = ["CLUSTER", "COUNTKEYSINSLOT", &slot_s];
    assert_eq!(cluster.command(to, &count), "250");
    assert_eq!(cluster.command(from, &count), "0");
    assert_eq!(cluster.command(to, &["GET", &keys[249]]), keys[249]);
    let moved = cluster.command(from, &["GET", &keys[0]]);
    assert!(moved.starts_with("MOVED"), "{moved}");
    for node in cluster.nodes() {
        assert_eq!(node.cli(&["-c", "GET", &keys[7]]), keys[7], "via {node:?}");
    }
    cluster.wait_healthy();
}

fn killed_replica_restarts_and_rejoins(cluster: &mut RedisCluster) {
    let key = unique_key("cluster-restart");
    let primary = cluster.node_for_slot(cluster.slot_of(&key));
    let replica = cluster.replicas_of(primary)[0];
    assert_eq!(
        cluster.command(primary, &["SET", &key, "kept by the primary"]),
        "OK"
    );
    cluster.kill(replica);
    let started = Instant::now();
    cluster.restart(replica);
    cluster.wait_healthy();
    eprintln!(
        "killed replica {replica}: restarted and in sync after {:?}",
        started.elapsed()
    );
    assert_eq!(cluster.replicas_of(primary), vec![replica]);
    // It lost its data in the crash and got it back from its primary.
    let keys = cluster.command(primary, &["DBSIZE"]);
    assert_ne!(keys, "0");
    assert_eq!(cluster.command(replica, &["DBSIZE"]), keys);
}
