//! Fixtures recorded from redis-sentinel 7.0.15 (primary + replica + 2 sentinels) with
//! redis-cli, RESP2 and RESP3 (`-3`), including a replica paused with SIGSTOP (`s_down`)
//! and a `SENTINEL FAILOVER`.

use super::*;
use bytes::Bytes;

fn b(s: &str) -> Value {
    Value::BulkString(Bytes::copy_from_slice(s.as_bytes()))
}

fn flat(s: &str) -> Value {
    Value::Array(s.split(' ').map(b).collect())
}

fn map(s: &str) -> Value {
    let words: Vec<&str> = s.split(' ').collect();
    Value::Map(words.chunks(2).map(|kv| (b(kv[0]), b(kv[1]))).collect())
}

const SENTINEL: &str = "name 6906407f70100abb7745a69f0e7b424b035b1c89 ip 127.0.0.1 port 27380 \
runid 6906407f70100abb7745a69f0e7b424b035b1c89 flags sentinel link-pending-commands 0 \
link-refcount 1 last-ping-sent 0 last-ok-ping-reply 861 last-ping-reply 861 \
down-after-milliseconds 1000 last-hello-message 1081 voted-leader ? voted-leader-epoch 0";

pub(crate) const REPLICA_OK: &str = "name 127.0.0.1:17380 ip 127.0.0.1 port 17380 \
runid 2566fcafc61dba5e4c41345b7b0e832e9781a0b9 flags slave link-pending-commands 0 \
link-refcount 1 last-ping-sent 0 last-ok-ping-reply 865 last-ping-reply 865 \
down-after-milliseconds 1000 info-refresh 1921 role-reported slave role-reported-time 7223 \
master-link-down-time 0 master-link-status ok master-host 127.0.0.1 master-port 17379 \
slave-priority 100 slave-repl-offset 559 replica-announced 1";

/// The old primary, paused after the failover: seen as a replica, subjectively down.
pub(crate) const REPLICA_SDOWN: &str = "name 127.0.0.1:17379 ip 127.0.0.1 port 17379 \
runid ca5747e51d450096557dafc752b72bc2eb698f0b flags s_down,slave link-pending-commands 41 \
link-refcount 1 last-ping-sent 2975 last-ok-ping-reply 4023 last-ping-reply 4023 \
s-down-time 1950 down-after-milliseconds 1000 info-refresh 11268 role-reported master \
role-reported-time 11268 master-link-down-time 0 master-link-status err master-host ? \
master-port 0 slave-priority 100 slave-repl-offset 0 replica-announced 1";

/// Every frame in a byte capture, decoded by the client's own decoder.
fn frames(wire: &[u8]) -> Vec<Value> {
    let mut buf = bytes::BytesMut::new();
    let mut decoder = redis_core::resp::Decoder::new(Default::default());
    let mut out = Vec::new();
    // Fed in small pieces, as a socket would deliver them.
    for piece in wire.chunks(7) {
        buf.extend_from_slice(piece);
        while let Some(v) = decoder.decode(&mut buf).unwrap() {
            out.push(v);
        }
    }
    assert!(buf.is_empty(), "a capture ends with a whole frame");
    out
}

/// Raw bytes from a sentinel 7.0.15 (`printf ... > /dev/tcp`): replies to
/// `GET-MASTER-ADDR-BY-NAME mymaster`, `GET-MASTER-ADDR-BY-NAME nosuch`,
/// `REPLICAS mymaster` and `SENTINELS mymaster`, in RESP2 and after `HELLO 3`.
#[test]
fn recorded_wire_replies_resp2_and_resp3() {
    let resp2 = frames(include_bytes!("fixtures/replies_resp2.bin"));
    let resp3 = frames(include_bytes!("fixtures/replies_resp3.bin"));
    assert_eq!(resp2.len(), 4);
    assert_eq!(resp3.len(), 4);
    assert!(matches!(resp3[2], Value::Array(ref v) if matches!(v[0], Value::Map(_))));
    for replies in [&resp2, &resp3] {
        let asked = Addr::tcp("127.0.0.1", 27379);
        assert_eq!(
            parse_master_addr(&replies[0], &asked, false).unwrap(),
            Some(Addr::tcp("127.0.0.1", 17379))
        );
        assert_eq!(parse_master_addr(&replies[1], &asked, false).unwrap(), None);
        let replicas = parse_instances(&replies[2]).unwrap();
        assert_eq!(
            crate::replicas::usable_replicas(&replicas, &asked, false).unwrap(),
            [Addr::tcp("127.0.0.1", 17380)]
        );
        let sentinels = parse_instances(&replies[3]).unwrap();
        assert_eq!(sentinels.len(), 1);
        assert_eq!(
            sentinels[0].addr(&asked, false).unwrap(),
            Some(Addr::tcp("127.0.0.1", 27380))
        );
    }
    // Same fields in the same order (the timers in them moved between the captures).
    let names = |v: &Value| -> Vec<String> {
        parse_instances(v).unwrap()[0]
            .fields()
            .iter()
            .map(|(k, _)| k.clone())
            .collect()
    };
    assert_eq!(names(&resp2[2]), names(&resp3[2]));
    assert_eq!(names(&resp2[3]), names(&resp3[3]));
}

/// Raw bytes of `HELLO 3` + `SUBSCRIBE +switch-master` on a sentinel during a
/// `SENTINEL FAILOVER`: the hello map, the confirmation push, the event push.
#[test]
fn recorded_switch_master_push() {
    let pushes = frames(include_bytes!("fixtures/switch_master_resp3.bin"));
    let events: Vec<Option<Event>> = pushes
        .into_iter()
        .filter_map(Msg::from_value)
        .map(|m| parse_message(&m, false).unwrap())
        .collect();
    assert_eq!(
        events,
        [
            None,
            Some(Event::SwitchMaster(SwitchMaster {
                service: "mymaster".into(),
                old: Addr::tcp("127.0.0.1", 17379),
                new: Addr::tcp("127.0.0.1", 17380),
            }))
        ]
    );
    let odd = Msg::from_value(Value::Push(vec![b("message"), b("+sdown"), Value::Int(1)]));
    assert!(matches!(
        parse_message(&odd.unwrap(), false),
        Err(Error::Protocol(_))
    ));
}

fn sentinel_addr() -> Addr {
    Addr::tcp("10.0.0.9", 26379)
}

#[test]
fn master_addr() {
    let reply = Value::Array(vec![b("127.0.0.1"), b("17379")]);
    assert_eq!(
        parse_master_addr(&reply, &sentinel_addr(), false).unwrap(),
        Some(Addr::tcp("127.0.0.1", 17379))
    );
    assert_eq!(
        parse_master_addr(&reply, &sentinel_addr(), true).unwrap(),
        Some(Addr::Tls {
            host: "127.0.0.1".into(),
            port: 17379
        })
    );
    // Unknown service: nil in RESP2 and RESP3 alike.
    assert_eq!(
        parse_master_addr(&Value::Nil, &sentinel_addr(), false).unwrap(),
        None
    );
    assert_eq!(
        master_addr_cmd("mymaster").packed(),
        b"*3\r\n$8\r\nSENTINEL\r\n$23\r\nGET-MASTER-ADDR-BY-NAME\r\n$8\r\nmymaster\r\n"
    );
}

#[test]
fn instances_resp2_and_resp3_read_the_same() {
    let resp2 = Value::Array(vec![flat(REPLICA_OK), flat(REPLICA_SDOWN)]);
    let resp3 = Value::Array(vec![map(REPLICA_OK), map(REPLICA_SDOWN)]);
    let two = parse_instances(&resp2).unwrap();
    assert_eq!(two, parse_instances(&resp3).unwrap());
    assert_eq!(two.len(), 2);
    assert_eq!(two[0].get("master-link-status"), Some("ok"));
    assert_eq!(
        two[0].get("runid"),
        Some("2566fcafc61dba5e4c41345b7b0e832e9781a0b9")
    );
    assert!(two[1].has_flag("s_down") && two[1].has_flag("slave"));
    assert!(!two[1].has_flag("o_down"));
    assert_eq!(
        two[1].addr(&sentinel_addr(), false).unwrap(),
        Some(Addr::tcp("127.0.0.1", 17379))
    );
    let sentinels = parse_instances(&Value::Array(vec![flat(SENTINEL)])).unwrap();
    assert!(sentinels[0].has_flag("sentinel"));
    assert_eq!(sentinels[0].get("voted-leader"), Some("?"));
    assert_eq!(
        sentinels[0].addr(&sentinel_addr(), false).unwrap(),
        Some(Addr::tcp("127.0.0.1", 27380))
    );
    assert_eq!(parse_instances(&Value::Array(vec![])).unwrap(), vec![]);
}

#[test]
fn instance_addresses_relative_to_the_sentinel() {
    let same_host = Instance::from_fields([("ip", ""), ("port", "6380")]);
    assert_eq!(
        same_host.addr(&sentinel_addr(), false).unwrap(),
        Some(Addr::tcp("10.0.0.9", 6380))
    );
    let unknown = Instance::from_fields([("ip", "?"), ("port", "6380")]);
    assert_eq!(unknown.addr(&sentinel_addr(), false).unwrap(), None);
    let v6 = Instance::from_fields([("ip", "::1"), ("port", "6380")]);
    assert_eq!(
        v6.addr(&sentinel_addr(), false).unwrap(),
        Some(Addr::tcp("::1", 6380))
    );
    for bad in [
        Instance::from_fields([("port", "6380")]),
        Instance::from_fields([("ip", "h"), ("port", "x")]),
        Instance::from_fields([("ip", "h")]),
        Instance::from_fields([("ip", "a b"), ("port", "1")]),
    ] {
        assert!(
            matches!(bad.addr(&sentinel_addr(), false), Err(Error::Protocol(_))),
            "{bad:?}"
        );
    }
}

#[test]
fn events_as_recorded() {
    let sw = parse_event(
        "+switch-master",
        b"mymaster 127.0.0.1 17379 127.0.0.1 17380",
        false,
    )
    .unwrap();
    assert_eq!(
        sw,
        Some(Event::SwitchMaster(SwitchMaster {
            service: "mymaster".into(),
            old: Addr::tcp("127.0.0.1", 17379),
            new: Addr::tcp("127.0.0.1", 17380),
        }))
    );
    let payload = b"slave 127.0.0.1:17380 127.0.0.1 17380 @ mymaster 127.0.0.1 17379";
    let Some(Event::Down(down)) = parse_event("+sdown", payload, false).unwrap() else {
        panic!("expected +sdown");
    };
    assert!(down.is_replica());
    assert_eq!(down.service(), "mymaster");
    assert_eq!(down.addr, Addr::tcp("127.0.0.1", 17380));
    assert_eq!(down.name, "127.0.0.1:17380");
    assert_eq!(
        down.master,
        Some(MasterRef {
            service: "mymaster".into(),
            addr: Addr::tcp("127.0.0.1", 17379)
        })
    );
    let Some(Event::Up(up)) = parse_event("-sdown", payload, false).unwrap() else {
        panic!("expected -sdown");
    };
    assert_eq!(up, down);
    // A master's own event has no "@ ..." part.
    let Some(Event::Down(master)) =
        parse_event("+sdown", b"master mymaster 127.0.0.1 17379", false).unwrap()
    else {
        panic!("expected +sdown");
    };
    assert_eq!(master.service(), "mymaster");
    assert!(!master.is_replica() && master.master.is_none());
    assert_eq!(parse_event("+new-epoch", b"7", false).unwrap(), None);
    // The leader's failover progress (same instance format).
    let Some(Event::FailoverSelected(sel)) =
        parse_event("+selected-slave", payload, false).unwrap()
    else {
        panic!("expected +selected-slave");
    };
    assert_eq!(sel, down);
    for abort in [
        "-failover-abort-not-elected",
        "-failover-abort-no-good-slave",
        "-failover-abort-slave-timeout",
    ] {
        assert!(EVENT_CHANNELS.contains(&abort));
        let Some(Event::FailoverAborted(a)) =
            parse_event(abort, b"master mymaster 127.0.0.1 17379", false).unwrap()
        else {
            panic!("expected {abort}");
        };
        assert_eq!(a.service(), "mymaster");
    }
}

/// Every prefix of a good reply or payload, and a few garbled ones, gives `Ok` or a
/// protocol error: never a panic.
#[test]
fn truncated_and_garbled_replies_are_typed_errors() {
    let mut replies = vec![
        Value::Int(3),
        Value::Okay,
        b("127.0.0.1:6379"),
        Value::Array(vec![b("127.0.0.1")]),
        Value::Array(vec![b("127.0.0.1"), b("port")]),
        Value::Array(vec![b("127.0.0.1"), b("70000")]),
        Value::Array(vec![b("?"), b("6379")]),
        Value::Array(vec![Value::Nil, b("6379")]),
        Value::Array(vec![b("h"), b("1"), b("x")]),
        Value::Array(vec![Value::BulkString(Bytes::from_static(b"\xff")), b("1")]),
        Value::Array(vec![Value::Int(1)]),
        Value::Array(vec![Value::Array(vec![b("ip")])]),
        Value::Array(vec![Value::Array(vec![b("ip"), Value::Nil])]),
        Value::Array(vec![Value::Map(vec![(Value::Nil, b("x"))])]),
    ];
    let words: Vec<&str> = REPLICA_OK.split(' ').collect();
    for n in 0..words.len() {
        replies.push(Value::Array(vec![flat(&words[..n].join(" "))]));
    }
    for reply in &replies {
        for r in [
            parse_master_addr(reply, &sentinel_addr(), false).map(|_| ()),
            parse_instances(reply).map(|_| ()),
        ] {
            if let Err(e) = r {
                assert!(matches!(e, Error::Protocol(_)), "{reply:?}: {e:?}");
            }
        }
        if let Ok(instances) = parse_instances(reply) {
            for i in instances {
                if let Err(e) = i.addr(&sentinel_addr(), false) {
                    assert!(matches!(e, Error::Protocol(_)), "{e:?}");
                }
            }
        }
    }
    assert!(parse_master_addr(&replies[4], &sentinel_addr(), false).is_err());
    assert!(parse_instances(&replies[11]).is_err());

    let payloads: [&[u8]; 3] = [
        b"mymaster 127.0.0.1 17379 127.0.0.1 17380",
        b"slave 127.0.0.1:17380 127.0.0.1 17380 @ mymaster 127.0.0.1 17379",
        b"slave 127.0.0.1:17380 127.0.0.1 17380 # mymaster 127.0.0.1 17379 \xff",
    ];
    for payload in payloads {
        for n in 0..=payload.len() {
            for channel in EVENT_CHANNELS {
                match parse_event(channel, &payload[..n], false) {
                    Ok(_) => {}
                    Err(Error::Protocol(_)) => {}
                    Err(e) => panic!("{channel} {:?}: {e:?}", &payload[..n]),
                }
            }
        }
    }
    assert!(parse_switch_master("mymaster 127.0.0.1 17379 127.0.0.1", false).is_err());
    assert!(parse_switch_master("mymaster 127.0.0.1 17379 127.0.0.1 0", false).is_err());
    assert!(parse_instance_event("slave a 1.2.3.4 1 @ m 1.2.3.4", false).is_err());
}

proptest::proptest! {
    #[test]
    fn event_parsers_never_panic(channel in "[+-][a-z-]{0,14}", payload in proptest::collection::vec(proptest::num::u8::ANY, 0..80)) {
        if let Err(e) = parse_event(&channel, &payload, false) {
            proptest::prop_assert!(matches!(e, Error::Protocol(_)));
        }
    }
}
