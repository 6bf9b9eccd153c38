//! Tests of the Sentinel topology harness itself: it starts, the sentinels agree on the
//! primary, and its faults (graceful failover, a frozen primary) really move the primary.
//! The Sentinel client's tests rely on every one of these.

// A failing test should panic, with the error in the message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use redis_core::Addr;
use redis_tests::SentinelSetup;

/// First line of a `ROLE` reply.
fn role(node: &redis_tests::RedisServer) -> String {
    node.cli(&["ROLE"]).lines().next().unwrap_or("").to_owned()
}

#[test]
fn setup_starts_and_every_sentinel_names_the_primary() {
    let started = Instant::now();
    let setup = SentinelSetup::start();
    eprintln!("default topology started in {:?}", started.elapsed());

    assert_eq!(setup.sentinels().len(), 3);
    assert_eq!(setup.nodes().len(), 3);
    assert_eq!(setup.primary_index(), 0, "the first node starts as primary");
    let primary = setup.primary();
    for sentinel in setup.sentinels() {
        let answer = sentinel.cli(&["SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster"]);
        assert_eq!(
            answer,
            format!("127.0.0.1\n{}", primary.port()),
            "sentinel {}",
            sentinel.addr()
        );
    }
    assert_eq!(role(primary), "master");
    // The addresses the sentinels hand out are reachable loopback ones.
    for (i, sentinel) in setup.sentinels().iter().enumerate() {
        let listed = sentinel.cli(&["SENTINEL", "SENTINELS", "mymaster"]);
        for (j, other) in setup.sentinels().iter().enumerate() {
            if i != j {
                let entry = format!("ip\n127.0.0.1\nport\n{}\n", other.port());
                assert!(listed.contains(&entry), "sentinel {i} about {j}: {listed}");
            }
        }
        let listed = sentinel.cli(&["SENTINEL", "REPLICAS", "mymaster"]);
        for replica in setup.replicas() {
            let entry = format!("ip\n127.0.0.1\nport\n{}\n", replica.port());
            assert!(listed.contains(&entry), "sentinel {i}: {listed}");
        }
    }
    let replicas = setup.replicas();
    assert_eq!(replicas.len(), 2);
    for replica in replicas {
        assert_eq!(role(replica), "slave", "replica {}", replica.addr());
    }
    let addrs: Vec<Addr> = setup
        .sentinels()
        .iter()
        .map(|s| Addr::tcp("127.0.0.1", s.port()))
        .collect();
    assert_eq!(setup.sentinel_addrs(), addrs);
    assert_eq!(
        setup.data_config().addr,
        Addr::tcp("127.0.0.1", primary.port())
    );
    assert_eq!(setup.wait_settled(), 0);

    // A wait that times out says what the sentinels and nodes report.
    let gave_up = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        setup.wait_role(0, "slave", Duration::from_millis(300))
    }));
    let message = gave_up.expect_err("node 0 is the primary, not a replica");
    let message = message
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default();
    assert!(message.contains("waiting for node 0"), "{message}");
    assert!(message.contains("sentinel 2 ("), "{message}");
    assert!(message.contains("ROLE master"), "{message}");
}

#[test]
fn failover_switches_the_primary_and_demotes_the_old_one() {
    let mut setup = SentinelSetup::start();
    let old = setup.primary_index();
    let started = Instant::now();
    let new = setup.failover();
    eprintln!(
        "SENTINEL FAILOVER: node {old} -> node {new} in {:?}",
        started.elapsed()
    );
    assert_ne!(new, old);
    assert_eq!(setup.primary_index(), new);
    assert_eq!(role(&setup.nodes()[new]), "master");
    setup.wait_role(old, "slave", Duration::from_secs(30));
    eprintln!(
        "old primary demoted {:?} after the failover",
        started.elapsed()
    );
    assert_eq!(setup.wait_healthy(), new);
    eprintln!("healthy again {:?} after the failover", started.elapsed());
    assert_eq!(setup.wait_settled(), new);
    eprintln!(
        "sentinels list every replica linked {:?} after the failover",
        started.elapsed()
    );

    // A sentinel that lost its state comes back following the current primary.
    let restarted_at = Instant::now();
    setup.restart_sentinel(0);
    let answer = setup.sentinels()[0].cli(&["SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster"]);
    assert_eq!(answer, format!("127.0.0.1\n{}", setup.nodes()[new].port()));
    assert_eq!(setup.wait_healthy(), new);
    eprintln!(
        "restarted sentinel caught up in {:?}",
        restarted_at.elapsed()
    );
}

#[test]
fn paused_primary_is_replaced_then_demoted_when_it_resumes() {
    let mut setup = SentinelSetup::start();
    let down_after = setup.down_after();
    let paused_at = Instant::now();
    let old = setup.pause_primary();
    let new = setup.wait_primary_changed(old, Duration::from_secs(30));
    let promoted = paused_at.elapsed();
    eprintln!(
        "SIGSTOP of node {old}: node {new} promoted after {promoted:?} (down-after {down_after:?})"
    );
    assert_ne!(new, old);
    setup.wait_role(new, "master", Duration::from_secs(30));
    // The old primary stays frozen past down-after plus a little, as in the client tests.
    let frozen_for = down_after + Duration::from_secs(2);
    if let Some(rest) = frozen_for.checked_sub(paused_at.elapsed()) {
        std::thread::sleep(rest);
    }
    let resumed_at = Instant::now();
    setup.resume(old);
    setup.wait_role(old, "slave", Duration::from_secs(60));
    eprintln!(
        "node {old} resumed after {:?} frozen; demoted {:?} after resume",
        resumed_at - paused_at,
        resumed_at.elapsed()
    );
    assert_eq!(setup.wait_healthy(), new);
    eprintln!("healthy again {:?} after resume", resumed_at.elapsed());
}

#[test]
fn passwords_guard_the_sentinels_and_the_data_nodes() {
    let setup = SentinelSetup::builder()
        .replicas(1)
        .sentinels(2)
        .service("svc-a")
        .password("data pw")
        .sentinel_password("sentinel \"pw\"")
        .start();
    let sentinel = &setup.sentinels()[0];
    let refused = sentinel.cli_as(
        None,
        None,
        &["SENTINEL", "GET-MASTER-ADDR-BY-NAME", "svc-a"],
    );
    assert!(
        refused.starts_with("NOAUTH"),
        "without password: {refused:?}"
    );
    let wrong = sentinel.cli_as(
        None,
        Some("data pw"),
        &["SENTINEL", "GET-MASTER-ADDR-BY-NAME", "svc-a"],
    );
    assert!(
        !wrong.starts_with("127.0.0.1"),
        "the data password must not open a sentinel: {wrong:?}"
    );
    let answer = sentinel.cli(&["SENTINEL", "GET-MASTER-ADDR-BY-NAME", "svc-a"]);
    assert_eq!(answer, format!("127.0.0.1\n{}", setup.primary().port()));

    let primary = setup.primary();
    let refused = primary.cli_as(None, None, &["GET", "k"]);
    assert!(
        refused.starts_with("NOAUTH"),
        "data node without password: {refused:?}"
    );
    assert_eq!(primary.cli(&["SET", "k", "v"]), "OK");
    // Replication works through masterauth, and the sentinels see the replica through
    // auth-pass (start() waited for it) and each other through sentinel-pass.
    assert_eq!(setup.wait_healthy(), 0);
}

#[test]
fn killed_primary_is_replaced() {
    let mut setup = SentinelSetup::start();
    let killed_at = Instant::now();
    let old = setup.kill_primary();
    let new = setup.wait_primary_changed(old, Duration::from_secs(30));
    eprintln!(
        "SIGKILL of node {old}: node {new} promoted after {:?}",
        killed_at.elapsed()
    );
    setup.wait_role(new, "master", Duration::from_secs(30));
    // The surviving replica follows the new primary. (A restarted old primary is demoted
    // ~10 s later, as the paused one is: not waited for here, to keep the file short.)
    let survivor = 3 - old - new;
    let new_port = setup.nodes()[new].port().to_string();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let role = setup.nodes()[survivor].cli(&["ROLE"]);
        let lines: Vec<&str> = role.lines().collect();
        if lines.first() == Some(&"slave") && lines.get(2) == Some(&new_port.as_str()) {
            break;
        }
        assert!(Instant::now() < deadline, "survivor never followed: {role}");
        std::thread::sleep(Duration::from_millis(100));
    }
}
