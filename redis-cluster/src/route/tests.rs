use super::*;
use redis_core::{cmd, Bytes, ServerError};

fn c(args: &[&str]) -> Cmd {
    let mut c = cmd(args[0]);
    for a in &args[1..] {
        c.arg(*a);
    }
    c
}

fn b(s: &str) -> Value {
    Value::BulkString(Bytes::copy_from_slice(s.as_bytes()))
}

fn err(line: &str) -> Value {
    Value::ServerError(ServerError::parse(line))
}

fn ok(v: Vec<Value>) -> Vec<Result<Value>> {
    v.into_iter().map(Ok).collect()
}

fn split_of(args: &[&str]) -> SlotSplit {
    match route(&c(args)).unwrap() {
        Route::Split(s) => s,
        other => panic!("{args:?} -> {other:?}"),
    }
}

#[test]
fn connection_state_commands_are_refused() {
    for args in [
        &["SELECT", "1"][..],
        &["watch", "k"],
        &["MULTI"],
        &["EXEC"],
        &["HELLO", "3"],
        &["AUTH", "pw"],
        &["READONLY"],
        &["ASKING"],
        &["SSUBSCRIBE", "c"],
        &["MONITOR"],
        &["CLIENT", "TRACKING", "on"],
        &["client", "reply", "off"],
    ] {
        let e = refuse_connection_state(&c(args)).unwrap_err();
        assert!(matches!(e, Error::InvalidRequest(_)), "{args:?}");
        // The message names the command, never its arguments.
        assert!(!e.to_string().contains("pw"), "{e}");
    }
    for args in [
        &["GET", "k"][..],
        &["CLIENT", "SETNAME", "x"],
        &["PING"],
        &["SPUBLISH", "c", "m"],
    ] {
        assert!(refuse_connection_state(&c(args)).is_ok(), "{args:?}");
    }
    assert!(refuse_connection_state(&Cmd::default()).is_ok());
    // The refusal goes by the table entry's name: every command it names is in the table.
    for args in [
        &["WATCH", "k"][..],
        &["UNWATCH"],
        &["MULTI"],
        &["EXEC"],
        &["DISCARD"],
        &["SELECT", "0"],
        &["HELLO"],
        &["RESET"],
        &["AUTH", "pw"],
        &["READONLY"],
        &["READWRITE"],
        &["ASKING"],
        &["SUBSCRIBE", "c"],
        &["PSUBSCRIBE", "c*"],
        &["SSUBSCRIBE", "c"],
        &["UNSUBSCRIBE"],
        &["PUNSUBSCRIBE"],
        &["SUNSUBSCRIBE"],
        &["QUIT"],
        &["MONITOR"],
        &["SYNC"],
        &["PSYNC", "id", "0"],
        &["CLIENT", "REPLY", "ON"],
        &["CLIENT", "TRACKING", "off"],
    ] {
        assert!(command_table::lookup(&c(args)).is_some(), "{args:?}");
        assert!(refuse_connection_state(&c(args)).is_err(), "{args:?}");
    }
}

#[test]
fn keyed_commands_go_to_their_slot() {
    assert_eq!(
        route(&c(&["GET", "foo"])).unwrap(),
        Route::Slot {
            slot: 12182,
            write: false
        }
    );
    assert_eq!(
        route(&c(&["SET", "foo", "1"])).unwrap(),
        Route::Slot {
            slot: 12182,
            write: true
        }
    );
    // Several keys in one slot: no split, even for MGET.
    let tagged = route(&c(&["MGET", "{u}a", "{u}b"])).unwrap();
    assert_eq!(
        tagged,
        Route::Slot {
            slot: slot(b"u"),
            write: false
        }
    );
    let moved = route(&c(&["LMOVE", "{u}a", "{u}b", "LEFT", "RIGHT"])).unwrap();
    assert!(matches!(moved, Route::Slot { write: true, .. }));
    // Movable keys, sharded pub/sub.
    let eval = route(&c(&["EVAL", "return 1", "1", "foo"])).unwrap();
    assert!(matches!(eval, Route::Slot { slot: 12182, .. }));
    let sp = route(&c(&["SPUBLISH", "foo", "m"])).unwrap();
    assert!(matches!(sp, Route::Slot { slot: 12182, .. }));
    assert_eq!(slot_of(&c(&["GET", "foo"])).unwrap(), Some(12182));
    assert_eq!(slot_of(&c(&["PING"])).unwrap(), None);
}

#[test]
fn cross_slot_is_refused_before_sending() {
    for args in [
        &["RENAME", "foo", "bar"][..],
        &["MSETNX", "foo", "1", "bar", "2"],
        &["SINTER", "foo", "bar"],
        &["EVAL", "return 1", "2", "foo", "bar"],
    ] {
        let e = route(&c(args)).unwrap_err();
        assert!(
            matches!(&e, Error::CrossSlot { command, first: 12182, other: 5061 } if command == args[0]),
            "{args:?} -> {e:?}"
        );
        assert!(e.to_string().contains("different cluster slots"), "{e}");
    }
    // slot_of refuses even the splittable ones (pipelines and transactions do not split).
    assert!(matches!(
        slot_of(&c(&["MGET", "foo", "bar"])),
        Err(Error::CrossSlot { .. })
    ));
    // Wrong arity of a known command: its own error.
    assert!(matches!(route(&c(&["GET"])), Err(Error::InvalidRequest(_))));
}

#[test]
fn keyless_commands_follow_request_policy() {
    use ResponsePolicy::*;
    let r = |args: &[&str]| route(&c(args)).unwrap();
    assert_eq!(r(&["DBSIZE"]), Route::AllPrimaries(AggSum));
    assert_eq!(r(&["FLUSHALL"]), Route::AllPrimaries(AllSucceeded));
    assert_eq!(r(&["KEYS", "*"]), Route::AllPrimaries(Default));
    assert_eq!(
        r(&["SCRIPT", "LOAD", "return 1"]),
        Route::AllNodes(AllSucceeded)
    );
    assert_eq!(
        r(&["SCRIPT", "EXISTS", "abc"]),
        Route::AllPrimaries(AggLogicalAnd)
    );
    assert_eq!(r(&["SCRIPT", "KILL"]), Route::AllPrimaries(OneSucceeded));
    assert_eq!(
        r(&["CONFIG", "SET", "x", "y"]),
        Route::AllNodes(AllSucceeded)
    );
    assert_eq!(r(&["PING"]), Route::AllPrimaries(AllSucceeded));
    assert_eq!(r(&["ECHO", "x"]), Route::AnyPrimary { write: true });
    assert_eq!(r(&["RANDOMKEY"]), Route::AllPrimaries(Default));
    // A SCAN cursor belongs to one node: never sent to "any" primary.
    let scan = route(&c(&["SCAN", "0"])).unwrap_err();
    assert!(
        matches!(&scan, Error::InvalidRequest(m) if m.starts_with("SCAN")),
        "{scan:?}"
    );
    assert_eq!(
        r(&["PUBLISH", "ch", "m"]),
        Route::AnyPrimary { write: true }
    );
    assert_eq!(
        r(&["EVAL", "return 1", "0"]),
        Route::AnyPrimary { write: true }
    );
    assert_eq!(
        r(&["EVAL_RO", "return 1", "0"]),
        Route::AnyPrimary { write: false }
    );
}

#[test]
fn unknown_commands_route_by_first_argument() {
    assert_eq!(
        route(&c(&["JSON.GET", "foo", "$"])).unwrap(),
        Route::Slot {
            slot: 12182,
            write: true
        }
    );
    assert_eq!(
        route(&c(&["NOSUCH"])).unwrap(),
        Route::AnyPrimary { write: true }
    );
    assert_eq!(slot_of(&c(&["JSON.GET", "foo"])).unwrap(), Some(12182));
}

#[test]
fn multi_key_commands_split_by_slot() {
    // foo and {foo}x share a slot; bar is elsewhere.
    let s = split_of(&["MGET", "foo", "bar", "{foo}x"]);
    assert_eq!(
        (s.merge, s.write, s.key_count),
        (SplitMerge::ByIndex, false, 3)
    );
    assert_eq!(s.parts.len(), 2);
    assert_eq!(s.parts[0].slot, 12182);
    assert_eq!(s.parts[0].cmd, c(&["MGET", "foo", "{foo}x"]));
    assert_eq!(s.parts[0].key_indices, [0, 2]);
    assert_eq!(s.parts[1].cmd, c(&["MGET", "bar"]));
    assert_eq!(s.parts[1].key_indices, [1]);
    let merged = s
        .merge(ok(vec![
            Value::Array(vec![b("1"), Value::Nil]),
            Value::Array(vec![b("2")]),
        ]))
        .unwrap();
    assert_eq!(merged, Value::Array(vec![b("1"), b("2"), Value::Nil]));

    let s = split_of(&["mset", "foo", "1", "bar", "2", "{foo}y", "3"]);
    assert_eq!(
        (s.merge, s.write, s.key_count),
        (SplitMerge::AllOk, true, 3)
    );
    assert_eq!(s.parts[0].cmd, c(&["MSET", "foo", "1", "{foo}y", "3"]));
    assert_eq!(s.parts[1].cmd, c(&["MSET", "bar", "2"]));
    assert_eq!(
        s.merge(ok(vec![Value::Okay, Value::Okay])).unwrap(),
        Value::Okay
    );
    assert!(s.merge(ok(vec![Value::Okay, Value::Nil])).is_err());

    for name in ["DEL", "UNLINK", "EXISTS", "TOUCH"] {
        let s = split_of(&[name, "foo", "bar", "foo"]);
        assert_eq!(s.merge, SplitMerge::Sum);
        assert_eq!(s.write, name == "DEL" || name == "UNLINK", "{name}");
        assert_eq!(s.parts[0].cmd, c(&[name, "foo", "foo"]));
        let n = s.merge(ok(vec![Value::Int(2), Value::Int(1)])).unwrap();
        assert_eq!(n, Value::Int(3));
    }
}

#[test]
fn split_merge_errors() {
    let s = split_of(&["MGET", "foo", "bar"]);
    // The first error in part order wins, a nested error reply included.
    let e = s
        .merge(vec![Ok(err("MOVED 12182 h:1")), Err(Error::protocol("x"))])
        .unwrap_err();
    assert!(e.is_redirect(), "{e:?}");
    assert!(s.merge(ok(vec![Value::Array(vec![])])).is_err(), "too few");
    let short = ok(vec![Value::Array(vec![]), Value::Array(vec![b("x")])]);
    assert!(matches!(s.merge(short), Err(Error::Protocol(_))));
    assert!(s.merge(ok(vec![Value::Int(1), Value::Int(1)])).is_err());
    let d = split_of(&["DEL", "foo", "bar"]);
    assert!(d
        .merge(ok(vec![Value::Int(i64::MAX), Value::Int(1)]))
        .is_err());
    assert!(matches!(
        d.merge(ok(vec![b("x"), Value::Int(1)])),
        Err(Error::Conversion { .. })
    ));
    let odd = route(&c(&["MSET", "foo", "1", "bar"]));
    assert!(matches!(odd, Err(Error::InvalidRequest(_))), "{odd:?}");
}

#[test]
fn response_policies() {
    use ResponsePolicy::*;
    let ints = |v: &[i64]| ok(v.iter().map(|&i| Value::Int(i)).collect());
    assert_eq!(merge(AggSum, ints(&[1, 2, 3])).unwrap(), Value::Int(6));
    assert_eq!(merge(AggMin, ints(&[4, 2, 3])).unwrap(), Value::Int(2));
    assert_eq!(merge(AggLogicalAnd, ints(&[1, 1])).unwrap(), Value::Int(1));
    assert_eq!(
        merge(AggLogicalAnd, ints(&[1, 0, 1])).unwrap(),
        Value::Int(0)
    );
    // Element-wise over arrays (SCRIPT EXISTS a b on three primaries).
    let arrays = ok(vec![
        Value::Array(vec![Value::Int(1), Value::Int(1)]),
        Value::Array(vec![Value::Int(1), Value::Int(0)]),
        Value::Array(vec![Value::Int(1), Value::Int(1)]),
    ]);
    assert_eq!(
        merge(AggLogicalAnd, arrays).unwrap(),
        Value::Array(vec![Value::Int(1), Value::Int(0)])
    );
    let ragged = ok(vec![
        Value::Array(vec![]),
        Value::Array(vec![Value::Int(1)]),
    ]);
    assert!(matches!(
        merge(AggSum, ragged),
        Err(Error::Conversion { .. })
    ));

    assert_eq!(
        merge(AllSucceeded, ok(vec![Value::Okay, Value::Okay])).unwrap(),
        Value::Okay
    );
    let one_down = vec![Ok(Value::Okay), Ok(err("ERR no")), Ok(Value::Okay)];
    assert!(matches!(
        merge(AllSucceeded, one_down),
        Err(Error::Server(_))
    ));
    let one_up = vec![Ok(err("NOTBUSY x")), Ok(Value::Okay)];
    assert_eq!(merge(OneSucceeded, one_up).unwrap(), Value::Okay);
    let none_up = vec![Ok(err("NOTBUSY x")), Err(Error::protocol("y"))];
    let e = merge(OneSucceeded, none_up).unwrap_err();
    assert_eq!(e.server_kind(), Some(&redis_core::ServerErrorKind::Other));

    let keys = ok(vec![
        Value::Array(vec![b("a")]),
        Value::Set(vec![b("b"), b("c")]),
    ]);
    assert_eq!(
        merge(Default, keys).unwrap(),
        Value::Array(vec![b("a"), b("b"), b("c")])
    );
    assert_eq!(
        merge(Default, ok(vec![Value::Okay, Value::Okay])).unwrap(),
        Value::Okay
    );
    let randomkey = ok(vec![Value::Nil, b("k"), Value::Nil]);
    assert_eq!(merge(Default, randomkey).unwrap(), b("k"));
    assert_eq!(merge(Default, ok(vec![Value::Nil])).unwrap(), Value::Nil);
    let info = ok(vec![b("node1"), b("node2")]);
    assert_eq!(
        merge(Special, info).unwrap(),
        Value::Array(vec![b("node1"), b("node2")])
    );
    assert!(matches!(
        merge(Default, vec![]),
        Err(Error::InvalidRequest(_))
    ));
}

mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// For any keys: the parts partition the keys, each part's keys share its slot,
        /// and merging per-part replies puts every value back at its key's position.
        #[test]
        fn mget_split_merges_in_caller_order(keys in prop::collection::vec("[a-c{}]{0,4}", 1..12)) {
            let mut mget = cmd("MGET");
            for k in &keys {
                mget.arg(k.as_str());
            }
            let parts = match route(&mget).unwrap() {
                Route::Split(s) => s,
                Route::Slot { slot: s, .. } => {
                    prop_assert!(keys.iter().all(|k| slot(k.as_bytes()) == s));
                    return Ok(());
                }
                other => panic!("{other:?}"),
            };
            let mut seen: Vec<usize> = parts.parts.iter().flat_map(|p| p.key_indices.clone()).collect();
            seen.sort_unstable();
            prop_assert_eq!(seen, (0..keys.len()).collect::<Vec<_>>());
            let mut replies = Vec::new();
            for p in &parts.parts {
                let part_keys: Vec<&[u8]> = p.cmd.args().skip(1).collect();
                prop_assert!(part_keys.iter().all(|k| slot(k) == p.slot));
                // The server's answer: each key's own name as its value.
                replies.push(Ok(Value::Array(part_keys.iter().map(|k| Value::BulkString(Bytes::copy_from_slice(k))).collect())));
            }
            let merged = parts.merge(replies).unwrap();
            let want: Vec<Value> = keys.iter().map(|k| b(k)).collect();
            prop_assert_eq!(merged, Value::Array(want));
        }
    }
}

#[test]
fn fan_out_targets_and_writes() {
    use crate::slot_map::{Node, NodeRole, Shard, SlotMap};
    use redis_core::Addr;
    let a = |p| Addr::tcp("h", p);
    let failed = Node {
        healthy: false,
        ..Node::new(a(12), NodeRole::Replica)
    };
    let map = SlotMap::new(vec![
        (
            vec![0..=8191],
            Shard {
                primary: Node::new(a(1), NodeRole::Primary),
                replicas: vec![Node::new(a(11), NodeRole::Replica)],
            },
        ),
        (
            vec![8192..=16383],
            Shard {
                primary: Node::new(a(2), NodeRole::Primary),
                replicas: vec![failed],
            },
        ),
    ])
    .unwrap();
    let (addrs, policy) = route(&cmd("DBSIZE")).unwrap().fan_out(&map);
    assert_eq!((addrs, policy), (vec![a(1), a(2)], ResponsePolicy::AggSum));
    let (addrs, _) = route(&cmd("CONFIG").with("SET").with("x").with("y"))
        .unwrap()
        .fan_out(&map);
    assert_eq!(addrs, [a(1), a(11), a(2)], "every node but the failed one");
    assert!(route(&cmd("GET").with("k"))
        .unwrap()
        .fan_out(&map)
        .0
        .is_empty());
    assert!(!is_write(&cmd("GET").with("k")));
    assert!(is_write(&cmd("SET").with("k").with(1)));
    assert!(is_write(&cmd("MODULE.THING").with("k")));
}

/// A router that reuses what a name gave for the next command of that name routes every
/// command exactly as a fresh look-up does: the same name with other argument counts, a
/// container's subcommands, keyless and unknown commands, refusals and errors in a run.
#[test]
fn a_router_routes_a_run_as_fresh_lookups_do() {
    let run: Vec<Vec<&str>> = vec![
        vec!["SET", "a", "1"],
        vec!["SET", "b", "2"],
        vec!["SET", "c", "3", "EX", "10"],
        vec!["SET", "d"],
        vec!["SET", "{d}x", "4"],
        vec!["GET", "a"],
        vec!["GET", "a", "extra"],
        vec!["MGET", "a", "b", "c"],
        vec!["MGET", "{t}a", "{t}b"],
        vec!["OBJECT", "ENCODING", "a"],
        vec!["OBJECT", "FREQ", "b"],
        vec!["OBJECT"],
        vec!["CLIENT", "SETNAME", "x"],
        vec!["CLIENT", "TRACKING", "on"],
        vec!["CLIENT", "SETNAME", "y"],
        vec!["NOSUCHCMD", "k"],
        vec!["NOSUCHCMD"],
        vec!["PING"],
        vec!["DBSIZE"],
        vec!["EVAL", "return 1", "1", "k"],
        vec!["EVAL", "return 1", "2", "k", "{k}j"],
        vec!["SELECT", "1"],
        vec!["set", "a", "1"],
        vec!["XREAD", "STREAMS", "s", "0"],
        vec!["SORT", "a"],
        vec!["SORT", "a", "STORE", "b"],
    ];
    for writes in [false, true] {
        let cmds: Vec<Cmd> = run.iter().map(|a| c(a)).collect();
        let mut router = Router::new(writes);
        for (cmd, args) in cmds.iter().zip(&run) {
            let fresh = route_request(cmd, writes);
            let reused = router.route(cmd);
            // And the long way: the refusal, then `route` (keys looked for by the table).
            let slow = refuse_connection_state(cmd).and_then(|()| route(cmd));
            match (&slow, &reused) {
                (Ok(a), Ok(b)) => assert_eq!(a, &b.route, "{args:?}"),
                (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "{args:?}"),
                _ => panic!("{args:?}: {slow:?} vs {reused:?}"),
            }
            match (&fresh, &reused) {
                (Ok(a), Ok(b)) => assert_eq!(a, b, "{args:?}"),
                (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "{args:?}"),
                _ => panic!("{args:?}: {fresh:?} vs {reused:?}"),
            }
        }
    }
}
