//! The machine driven with scripted sentinel replies (shapes as recorded from
//! redis-sentinel 7.0.15, see `replies/tests.rs`).

use std::io;
use std::time::Duration;

use bytes::Bytes;
use redis_core::ServerError;

use super::*;
use crate::replies::tests::{REPLICA_OK, REPLICA_SDOWN};

fn b(s: &str) -> Value {
    Value::BulkString(Bytes::copy_from_slice(s.as_bytes()))
}

fn flat(s: &str) -> Value {
    Value::Array(s.split(' ').map(b).collect())
}

fn s(port: u16) -> Addr {
    Addr::tcp("127.0.0.1", port)
}

fn addr_reply(port: u16) -> Result<Value> {
    Ok(Value::Array(vec![b("127.0.0.1"), b(&port.to_string())]))
}

fn refused() -> Result<Value> {
    Err(Error::Io(io::Error::new(
        io::ErrorKind::ConnectionRefused,
        "connection refused",
    )))
}

fn timed_out() -> Result<Value> {
    Err(Error::Timeout {
        what: "response",
        after: Duration::from_millis(250),
    })
}

fn server_error(line: &str) -> Result<Value> {
    Ok(Value::ServerError(ServerError::parse(line)))
}

fn sentinel_entry(port: u16) -> Value {
    flat(&format!(
        "name abc ip 127.0.0.1 port {port} runid abc flags sentinel"
    ))
}

/// Drives `d` through `script`: each entry is the sentinel port the machine must ask,
/// the command it must send, and the reply to give. Returns the final step.
fn drive(d: &mut Discovery, script: Vec<(u16, &str, Result<Value>)>) -> Step {
    let mut step = d.start();
    for (port, sub, reply) in script {
        match step {
            Step::Send { sentinel, cmd } => {
                assert_eq!(sentinel, s(port));
                assert_eq!(cmd.name(), "SENTINEL");
                let arg = cmd
                    .arg_at(1)
                    .map(|a| String::from_utf8_lossy(a).into_owned());
                assert_eq!(arg.as_deref(), Some(sub), "{cmd:?}");
                assert_eq!(cmd.arg_at(2), Some(&b"mymaster"[..]));
            }
            other => panic!("expected a send to {port}, got {other:?}"),
        }
        step = d.reply(reply);
    }
    step
}

fn base() -> Config {
    Config::new(s(1)).with_db(2)
}

fn three() -> SentinelList {
    SentinelList::new([s(26379), s(26380), s(26381)])
}

const ADDR: &str = "GET-MASTER-ADDR-BY-NAME";

#[test]
fn first_answer_wins_and_moves_to_the_front() {
    let mut d = Discovery::primary("mymaster", &base(), three());
    let step = drive(
        &mut d,
        vec![
            (26379, ADDR, refused()),
            (26380, ADDR, timed_out()),
            (26381, ADDR, addr_reply(6380)),
            (
                26381,
                "SENTINELS",
                Ok(Value::Array(vec![
                    sentinel_entry(26379),
                    sentinel_entry(26382),
                ])),
            ),
        ],
    );
    let Step::Done(target) = step else {
        panic!("{step:?}")
    };
    assert_eq!(target.addr(), &s(6380));
    assert_eq!(target.expect_role, Some(Role::Primary));
    assert_eq!(target.config.db, 2);
    // 26381 answered: first now. It named 26379 and a new one, 26382; 26380 is configured.
    assert_eq!(
        d.sentinels().order(),
        [s(26381), s(26379), s(26380), s(26382)]
    );
    assert_eq!(d.tried().len(), 2);
    assert!(matches!(
        d.reply(addr_reply(1)),
        Step::Failed(Error::InvalidRequest(_))
    ));
}

#[test]
fn learning_is_best_effort_and_optional() {
    let mut d = Discovery::primary("mymaster", &base(), three());
    let step = drive(
        &mut d,
        vec![
            (26379, ADDR, addr_reply(6380)),
            (26379, "SENTINELS", refused()),
        ],
    );
    assert!(matches!(step, Step::Done(t) if t.addr() == &s(6380)));
    assert_eq!(d.sentinels(), &three());

    let mut d = Discovery::primary("mymaster", &base(), three()).with_learning(false);
    let step = drive(&mut d, vec![(26379, ADDR, addr_reply(6380))]);
    assert!(matches!(step, Step::Done(_)));
}

#[test]
fn unknown_service_only_when_every_sentinel_says_so() {
    let mut d = Discovery::primary("mymaster", &base(), three());
    let step = drive(
        &mut d,
        vec![
            (26379, ADDR, Ok(Value::Nil)),
            (26380, ADDR, Ok(Value::Nil)),
            (26381, ADDR, Ok(Value::Nil)),
        ],
    );
    match step {
        Step::Failed(Error::Sentinel(SentinelErrorKind::UnknownService { service })) => {
            assert_eq!(service, "mymaster")
        }
        other => panic!("{other:?}"),
    }
    // One sentinel that does not know it is skipped; the next one answers.
    let mut d = Discovery::primary("mymaster", &base(), three()).with_learning(false);
    let step = drive(
        &mut d,
        vec![
            (26379, ADDR, Ok(Value::Nil)),
            (26380, ADDR, addr_reply(7000)),
        ],
    );
    assert!(matches!(step, Step::Done(t) if t.addr() == &s(7000)));
    assert_eq!(d.sentinels().order()[0], s(26380));
}

#[test]
fn no_sentinel_reachable_lists_each_and_why() {
    let mut d = Discovery::primary("mymaster", &base(), three());
    let step = drive(
        &mut d,
        vec![
            (26379, ADDR, refused()),
            (26380, ADDR, Ok(Value::Nil)),
            (26381, ADDR, Ok(b("garbage"))),
        ],
    );
    let Step::Failed(Error::Sentinel(SentinelErrorKind::NoSentinelReachable { service, tried })) =
        step
    else {
        panic!("{step:?}")
    };
    assert_eq!(service, "mymaster");
    let who: Vec<&str> = tried.iter().map(|a| a.sentinel.as_str()).collect();
    assert_eq!(
        who,
        ["127.0.0.1:26379", "127.0.0.1:26380", "127.0.0.1:26381"]
    );
    assert!(tried[0].reason.contains("connection refused"), "{tried:?}");
    assert!(tried[1].reason.contains("does not monitor"), "{tried:?}");
    assert!(tried[2].reason.contains("protocol error"), "{tried:?}");
    assert_eq!(
        d.sentinels(),
        &three(),
        "no sentinel answered: order unchanged"
    );
}

#[test]
fn auth_failure_on_every_sentinel_is_its_own_kind() {
    let wrongpass = || {
        Err(Error::Server(ServerError::parse(
            "WRONGPASS invalid username-password pair or user is disabled.",
        )))
    };
    let mut d = Discovery::primary("mymaster", &base(), three());
    let step = drive(
        &mut d,
        vec![
            (26379, ADDR, wrongpass()),
            (26380, ADDR, server_error("NOAUTH Authentication required.")),
            (26381, ADDR, wrongpass()),
        ],
    );
    assert!(
        matches!(
            &step,
            Step::Failed(Error::Sentinel(SentinelErrorKind::AuthFailed { tried, .. })) if tried.len() == 3
        ),
        "{step:?}"
    );
    // Mixed with an unreachable sentinel, it is "none reachable", listing both reasons.
    let mut d = Discovery::primary("mymaster", &base(), three());
    let step = drive(
        &mut d,
        vec![
            (26379, ADDR, wrongpass()),
            (26380, ADDR, refused()),
            (26381, ADDR, wrongpass()),
        ],
    );
    let Step::Failed(e) = step else {
        panic!("{step:?}")
    };
    assert!(e.to_string().contains("WRONGPASS"), "{e}");
    assert!(matches!(
        e,
        Error::Sentinel(SentinelErrorKind::NoSentinelReachable { .. })
    ));
}

#[test]
fn empty_sentinel_list_is_a_config_error() {
    let mut d = Discovery::primary("mymaster", &base(), SentinelList::new([]));
    assert!(matches!(d.start(), Step::Failed(Error::InvalidConfig(_))));
}

#[test]
fn tls_base_config_gives_tls_nodes() {
    let tls_base = Config::new(Addr::Tls {
        host: "seed".into(),
        port: 1,
    });
    let mut d = Discovery::primary("mymaster", &tls_base, three()).with_learning(false);
    let step = drive(&mut d, vec![(26379, ADDR, addr_reply(6380))]);
    let Step::Done(t) = step else {
        panic!("{step:?}")
    };
    assert_eq!(
        t.addr(),
        &Addr::Tls {
            host: "127.0.0.1".into(),
            port: 6380
        }
    );
}

fn replicas_reply() -> Result<Value> {
    let second = REPLICA_OK
        .replace("17380", "17381")
        .replace("2566fcafc61dba5e4c41345b7b0e832e9781a0b9", "other");
    Ok(Value::Array(vec![
        flat(REPLICA_SDOWN),
        flat(REPLICA_OK),
        flat(&second),
    ]))
}

fn replica(read_from: ReadFrom, counter: u64) -> Discovery {
    let choice = ReplicaChoice {
        read_from,
        counter,
        ..ReplicaChoice::default()
    };
    Discovery::replica("mymaster", &base(), three(), choice).with_learning(false)
}

#[test]
fn replica_discovery_skips_unusable_replicas_and_follows_read_from() {
    for (counter, port) in [(0, 17380), (1, 17381), (2, 17380)] {
        let mut d = replica(ReadFrom::RoundRobinReplicas, counter);
        let step = drive(
            &mut d,
            vec![
                (26379, ADDR, addr_reply(17382)),
                (26379, "REPLICAS", replicas_reply()),
            ],
        );
        let Step::Done(t) = step else {
            panic!("{step:?}")
        };
        assert_eq!(t.addr(), &s(port), "counter {counter}");
        assert_eq!(t.expect_role, Some(Role::Replica));
        // The whole usable list is kept for the shell's ReplicaSet.
        assert_eq!(d.replicas(), [s(17380), s(17381)]);
    }
    // Round robin over the primary too: counter 0 is the primary, checked as one.
    let mut d = replica(ReadFrom::RoundRobin, 0);
    let step = drive(
        &mut d,
        vec![
            (26379, ADDR, addr_reply(17382)),
            (26379, "REPLICAS", replicas_reply()),
        ],
    );
    assert!(
        matches!(&step, Step::Done(t) if t.addr() == &s(17382) && t.expect_role == Some(Role::Primary)),
        "{step:?}"
    );
}

#[test]
fn lowest_latency_uses_the_shells_measurements() {
    let ms = |n| NodeStats {
        healthy: true,
        latency: Some(Duration::from_millis(n)),
    };
    let choice = ReplicaChoice {
        read_from: ReadFrom::LowestLatency,
        stats: vec![(s(17382), ms(9)), (s(17380), ms(5)), (s(17381), ms(2))],
        ..ReplicaChoice::default()
    };
    let mut d = Discovery::replica("mymaster", &base(), three(), choice).with_learning(false);
    let step = drive(
        &mut d,
        vec![
            (26379, ADDR, addr_reply(17382)),
            (26379, "REPLICAS", replicas_reply()),
        ],
    );
    assert!(
        matches!(&step, Step::Done(t) if t.addr() == &s(17381)),
        "{step:?}"
    );
}

#[test]
fn no_usable_replica() {
    let only_down = || Ok(Value::Array(vec![flat(REPLICA_SDOWN)]));
    let mut d = replica(ReadFrom::Replica, 0);
    let step = drive(
        &mut d,
        vec![
            (26379, ADDR, addr_reply(17382)),
            (26379, "REPLICAS", only_down()),
        ],
    );
    assert!(
        matches!(
            step,
            Step::Failed(Error::Sentinel(SentinelErrorKind::NoUsableReplica { .. }))
        ),
        "{step:?}"
    );
    // PreferReplica falls back to the primary.
    let mut d = replica(ReadFrom::PreferReplica, 0);
    let step = drive(
        &mut d,
        vec![
            (26379, ADDR, addr_reply(17382)),
            (26379, "REPLICAS", only_down()),
        ],
    );
    assert!(
        matches!(&step, Step::Done(t) if t.addr() == &s(17382) && t.expect_role == Some(Role::Primary)),
        "{step:?}"
    );
}

#[test]
fn a_sentinel_failing_the_replica_list_is_skipped() {
    let mut d = replica(ReadFrom::Replica, 0);
    let step = drive(
        &mut d,
        vec![
            (26379, ADDR, addr_reply(17382)),
            (
                26379,
                "REPLICAS",
                server_error("ERR No such master with that name"),
            ),
            (26380, ADDR, addr_reply(17382)),
            (26380, "REPLICAS", replicas_reply()),
        ],
    );
    assert!(
        matches!(&step, Step::Done(t) if t.addr() == &s(17380)),
        "{step:?}"
    );
    assert_eq!(d.sentinels().order()[0], s(26380));
}
