//! The follower's decisions, driven with event frames shaped as a sentinel sends them and
//! with explicit instants (no sleeping).

use std::io;

use bytes::Bytes;
use redis_core::{ServerError, Value};

use super::*;

fn b(s: &str) -> Value {
    Value::BulkString(Bytes::copy_from_slice(s.as_bytes()))
}

fn n(port: u16) -> Addr {
    Addr::tcp("127.0.0.1", port)
}

/// A pub/sub message frame as a sentinel publishes it (RESP2 array or RESP3 push).
fn event(channel: &str, payload: &str, resp3: bool) -> Msg {
    let items = vec![b("message"), b(channel), b(payload)];
    let frame = if resp3 {
        Value::Push(items)
    } else {
        Value::Array(items)
    };
    Msg::from_value(frame).unwrap()
}

fn switch(service: &str, old: u16, new: u16) -> Msg {
    event(
        "+switch-master",
        &format!("{service} 127.0.0.1 {old} 127.0.0.1 {new}"),
        false,
    )
}

fn followed(primary: u16) -> (Follower, Instant) {
    let t0 = Instant::now();
    let mut f = Follower::new("mymaster", false);
    assert_eq!(f.resolved(n(primary), t0), Decision::Unchanged);
    (f, t0)
}

#[test]
fn first_resolution_then_switch_then_unchanged() {
    let (mut f, t0) = followed(6379);
    assert!(f.is_current(&n(6379)));
    assert!(!f.is_current(&n(6380)));
    // A re-discovery naming the same node changes nothing.
    assert_eq!(f.resolved(n(6379), t0), Decision::Unchanged);
    // One naming another is a switch away from the one in use.
    assert_eq!(
        f.resolved(n(6380), t0),
        Decision::Switch {
            old: n(6379),
            new: n(6380)
        }
    );
    assert!(f.is_current(&n(6380)));
    assert!(
        !f.is_current(&n(6379)),
        "the old primary is never current again"
    );
    assert_eq!(f.primary(), Some(&n(6380)));
}

#[test]
fn switch_master_for_our_service_only() {
    let (mut f, _) = followed(6379);
    assert_eq!(
        f.on_message(&switch("other", 6379, 7000)).unwrap(),
        Decision::Unchanged
    );
    assert!(f.is_current(&n(6379)));
    assert_eq!(
        f.on_message(&switch("mymaster", 6379, 6381)).unwrap(),
        Decision::Switch {
            old: n(6379),
            new: n(6381)
        }
    );
    // The same event from a second sentinel: already followed.
    assert_eq!(
        f.on_message(&switch("mymaster", 6379, 6381)).unwrap(),
        Decision::Unchanged
    );
}

#[test]
fn switch_is_from_the_primary_in_use_even_if_events_were_missed() {
    // We used 6379; the sentinels moved to 6380, then to 6381, and we only hear the last.
    let (mut f, _) = followed(6379);
    assert_eq!(
        f.on_message(&switch("mymaster", 6380, 6381)).unwrap(),
        Decision::Switch {
            old: n(6379),
            new: n(6381)
        }
    );
}

#[test]
fn switch_before_any_resolution_just_sets_the_primary() {
    let mut f = Follower::new("mymaster", false);
    assert!(!f.is_current(&n(6379)));
    assert_eq!(
        f.on_message(&switch("mymaster", 6379, 6380)).unwrap(),
        Decision::Unchanged
    );
    assert!(f.is_current(&n(6380)));
}

#[test]
fn replica_up_and_down_events() {
    let (mut f, _) = followed(6379);
    let ours = "slave 127.0.0.1:6380 127.0.0.1 6380 @ mymaster 127.0.0.1 6379";
    let theirs = "slave 127.0.0.1:7001 127.0.0.1 7001 @ other 127.0.0.1 7000";
    for resp3 in [false, true] {
        assert_eq!(
            f.on_message(&event("+sdown", ours, resp3)).unwrap(),
            Decision::ReplicasChanged
        );
        assert_eq!(
            f.on_message(&event("-sdown", ours, resp3)).unwrap(),
            Decision::ReplicasChanged
        );
        assert_eq!(
            f.on_message(&event("+sdown", theirs, resp3)).unwrap(),
            Decision::Unchanged
        );
    }
    // The primary itself going subjectively down is not a switch (yet).
    let master = "master mymaster 127.0.0.1 6379";
    assert_eq!(
        f.on_message(&event("+sdown", master, false)).unwrap(),
        Decision::Unchanged
    );
    // Sentinel-to-sentinel chatter and confirmations change nothing.
    assert_eq!(
        f.on_message(&event("+odown", master, false)).unwrap(),
        Decision::Unchanged
    );
    let confirm = Msg::from_value(Value::Array(vec![
        b("subscribe"),
        b("+sdown"),
        Value::Int(2),
    ]))
    .unwrap();
    assert_eq!(f.on_message(&confirm).unwrap(), Decision::Unchanged);
    assert!(f.is_current(&n(6379)));
}

#[test]
fn malformed_event_is_an_error_and_changes_nothing() {
    let (mut f, _) = followed(6379);
    assert!(f
        .on_message(&event("+switch-master", "mymaster 127.0.0.1", false))
        .is_err());
    assert!(f.is_current(&n(6379)));
}

#[test]
fn tls_follows_the_data_config() {
    let t0 = Instant::now();
    let mut f = Follower::new("mymaster", true);
    f.resolved(
        Addr::node("10.0.0.1", 6379, true)
            .ok()
            .and_then(|e| e.resolve(&n(1)))
            .unwrap(),
        t0,
    );
    match f.on_message(&switch("mymaster", 6379, 6380)).unwrap() {
        Decision::Switch { new, .. } => assert!(matches!(new, Addr::Tls { .. }), "{new:?}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn reasons_from_errors() {
    let readonly = Error::Server(ServerError::parse(
        "READONLY You can't write against a read only replica.",
    ));
    assert_eq!(reason_of(&readonly), Some(Reason::ReadOnly));
    let mismatch = Error::RoleMismatch {
        addr: "127.0.0.1:6379".into(),
        expected: redis_core::Role::Primary,
        actual: "slave".into(),
    };
    assert_eq!(reason_of(&mismatch), Some(Reason::RoleMismatch));
    let reset = Error::Io(io::Error::new(io::ErrorKind::ConnectionReset, "reset"));
    assert_eq!(reason_of(&reset), Some(Reason::ConnectionLost));
    let maybe = Error::MayHaveExecuted(Box::new(Error::Timeout {
        what: "response",
        after: Duration::from_millis(1),
    }));
    assert_eq!(reason_of(&maybe), Some(Reason::ConnectionLost));
    let wrongtype = Error::Server(ServerError::parse("WRONGTYPE Operation against a key"));
    assert_eq!(reason_of(&wrongtype), None);
}

#[test]
fn periodic_check_and_burst_gate() {
    let t0 = Instant::now();
    let mut f = Follower::new("mymaster", false).with_check_interval(Duration::from_secs(3));
    assert!(f.check_due(t0), "never checked: due");
    assert_eq!(f.next_check(t0), t0);
    f.resolved(n(6379), t0);
    assert!(!f.check_due(t0 + Duration::from_secs(2)));
    assert!(f.check_due(t0 + Duration::from_secs(3)));
    assert_eq!(f.next_check(t0), t0 + Duration::from_secs(3));

    // Many callers see the node fail at t1; the first re-resolves (started t2 >= t1), the
    // others find the check already done.
    let t1 = t0 + Duration::from_secs(1);
    assert!(!f.checked_since(t1));
    let t2 = t1 + Duration::from_millis(5);
    f.resolved(n(6379), t2);
    assert!(f.checked_since(t1));
    // A failure seen after that check started needs a check of its own.
    assert!(!f.checked_since(t2 + Duration::from_millis(1)));
    // A failed check counts as a check (no hammering), and keeps the primary.
    let t3 = t2 + Duration::from_secs(1);
    f.check_failed(t3);
    assert!(f.checked_since(t3));
    assert!(f.is_current(&n(6379)));
    // A slow check that started earlier never moves the clock back.
    f.resolved(n(6379), t1);
    assert!(f.checked_since(t3));
}

#[test]
fn followed_sentinels_at_least_two() {
    let list = SentinelList::new([n(1), n(2), n(3)]);
    assert_eq!(sentinels_to_follow(&list, &[], 0), [n(1), n(2)]);
    assert_eq!(sentinels_to_follow(&list, &[], 3), [n(1), n(2), n(3)]);
    // One followed sentinel died: replace it with the next in order.
    assert_eq!(sentinels_to_follow(&list, &[n(2)], 2), [n(1)]);
    assert_eq!(sentinels_to_follow(&list, &[n(1), n(2)], 2), []);
    let one = SentinelList::new([n(1)]);
    assert_eq!(sentinels_to_follow(&one, &[], 2), [n(1)]);
    assert_eq!(sentinels_to_follow(&one, &[n(1)], 2), []);
}

#[test]
fn replica_set_never_picks_the_primary_and_skips_failed_replicas() {
    let t0 = Instant::now();
    let mut set = ReplicaSet::new().with_penalty(Duration::from_secs(5));
    assert!(set.is_stale());
    assert_eq!(set.choose(&ReadFrom::RoundRobinReplicas, 0, t0), None);
    set.set(vec![n(6380), n(6381)]);
    assert!(!set.is_stale());
    assert!(set.is_current(&n(6380)));
    assert!(!set.is_current(&n(6379)));
    let picks: Vec<Option<Addr>> = (0..4)
        .map(|_| set.choose(&ReadFrom::RoundRobinReplicas, 0, t0))
        .collect();
    assert_eq!(
        picks,
        [Some(n(6380)), Some(n(6381)), Some(n(6380)), Some(n(6381))]
    );
    // Policies that may pick the primary pick a replica here.
    for rf in [
        ReadFrom::RoundRobin,
        ReadFrom::PreferReplica,
        ReadFrom::LowestLatency,
        ReadFrom::RandomReplica,
        ReadFrom::Replica,
    ] {
        for _ in 0..5 {
            assert!(set.choose(&rf, 7, t0).is_some(), "{rf:?}");
        }
    }
    assert_eq!(set.choose(&ReadFrom::Primary, 0, t0), None);

    // 6380 fails: skipped for the penalty, and the list goes stale.
    set.failed(&n(6380), t0);
    assert!(set.is_stale());
    for _ in 0..4 {
        assert_eq!(
            set.choose(
                &ReadFrom::RoundRobinReplicas,
                0,
                t0 + Duration::from_secs(1)
            ),
            Some(n(6381))
        );
    }
    // After the penalty it is tried again.
    let later = t0 + Duration::from_secs(6);
    let again: Vec<Option<Addr>> = (0..2)
        .map(|_| set.choose(&ReadFrom::RoundRobinReplicas, 0, later))
        .collect();
    assert!(again.contains(&Some(n(6380))));
    // Every replica failed recently: try them anyway rather than none.
    set.failed(&n(6381), later);
    set.failed(&n(6380), later);
    assert!(set.choose(&ReadFrom::Replica, 0, later).is_some());
    // A fresh discovery without a replica: nothing to choose.
    set.set(Vec::new());
    assert_eq!(set.choose(&ReadFrom::PreferReplica, 0, later), None);
    set.mark_stale();
    assert!(set.is_stale());
}

#[test]
fn replica_set_events() {
    let mut set = ReplicaSet::new();
    set.set(vec![n(6380), n(6381)]);
    let down = "slave 127.0.0.1:6380 127.0.0.1 6380 @ mymaster 127.0.0.1 6379";
    assert_eq!(
        set.on_message("mymaster", false, &event("+sdown", down, true))
            .unwrap(),
        None
    );
    assert!(set.is_stale());
    set.set(vec![n(6380), n(6381)]);
    assert_eq!(
        set.on_message("mymaster", false, &switch("other", 1, 6381))
            .unwrap(),
        None
    );
    assert!(!set.is_stale());
    // 6381 was promoted: not a replica any more, its connections must close.
    assert_eq!(
        set.on_message("mymaster", false, &switch("mymaster", 6379, 6381))
            .unwrap(),
        Some(n(6381))
    );
    assert!(!set.is_current(&n(6381)));
    assert!(set.is_current(&n(6380)));
    assert!(set.is_stale());
    assert!(set
        .on_message("mymaster", false, &event("+switch-master", "x", false))
        .is_err());
}

fn selected(replica: u16, master: u16) -> Msg {
    event(
        "+selected-slave",
        &format!("slave 127.0.0.1:{replica} 127.0.0.1 {replica} @ mymaster 127.0.0.1 {master}"),
        false,
    )
}

#[test]
fn selected_replica_fences_the_old_primary_until_the_switch() {
    let (mut f, t0) = followed(6379);
    let f = &mut f;
    // Another service's failover, or one away from a primary we do not use: nothing.
    assert_eq!(
        f.on_message_at(&selected(6380, 7000), t0).unwrap(),
        Decision::Unchanged
    );
    // Ours: switch to the replica being promoted, fence the old primary.
    assert_eq!(
        f.on_message_at(&selected(6380, 6379), t0).unwrap(),
        Decision::Switch {
            old: n(6379),
            new: n(6380)
        }
    );
    assert!(!f.is_current(&n(6379)));
    assert_eq!(f.fenced(t0), Some(&n(6379)));
    // The sentinels still name the old primary until the switch: that does not bring it back.
    let t1 = t0 + Duration::from_millis(300);
    assert_eq!(f.resolved(n(6379), t1), Decision::Unchanged);
    assert!(f.is_current(&n(6380)));
    // +switch-master confirms (nothing to do) and lifts the fence.
    assert_eq!(
        f.on_message_at(&switch("mymaster", 6379, 6380), t1)
            .unwrap(),
        Decision::Unchanged
    );
    assert_eq!(f.fenced(t1), None);
    // Later (a new failover back), the old node can be primary again.
    assert_eq!(
        f.resolved(n(6379), t1),
        Decision::Switch {
            old: n(6380),
            new: n(6379)
        }
    );
}

#[test]
fn fence_ends_on_abort_or_timeout() {
    let (f, t0) = followed(6379);
    let mut f = f.with_fence_timeout(Duration::from_secs(10));
    f.on_message_at(&selected(6380, 6379), t0).unwrap();
    let abort = event(
        "-failover-abort-slave-timeout",
        "master mymaster 127.0.0.1 6379",
        false,
    );
    assert_eq!(f.on_message_at(&abort, t0).unwrap(), Decision::Recheck);
    assert_eq!(f.on_message_at(&abort, t0).unwrap(), Decision::Unchanged);
    // The recheck finds the old primary: back to it.
    assert_eq!(
        f.resolved(n(6379), t0),
        Decision::Switch {
            old: n(6380),
            new: n(6379)
        }
    );
    // A failover that goes silent: the fence times out and the sentinels' answer wins.
    f.on_message_at(&selected(6381, 6379), t0).unwrap();
    assert_eq!(
        f.resolved(n(6379), t0 + Duration::from_secs(9)),
        Decision::Unchanged
    );
    assert_eq!(
        f.resolved(n(6379), t0 + Duration::from_secs(10)),
        Decision::Switch {
            old: n(6381),
            new: n(6379)
        }
    );
    // Before any use, a selected replica is simply where the client starts.
    let mut fresh = Follower::new("mymaster", false);
    assert_eq!(
        fresh.on_message_at(&selected(6380, 6379), t0).unwrap(),
        Decision::Unchanged
    );
    assert!(fresh.is_current(&n(6380)));
}

#[test]
fn replica_set_drops_the_replica_being_promoted() {
    let mut set = ReplicaSet::new();
    set.set(vec![n(6380), n(6381)]);
    assert_eq!(
        set.on_message("mymaster", false, &selected(6381, 6379))
            .unwrap(),
        Some(n(6381))
    );
    assert!(!set.is_current(&n(6381)));
    assert!(set.is_stale());
}
