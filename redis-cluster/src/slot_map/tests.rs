use super::*;
use redis_core::Bytes;

fn b(s: &str) -> Value {
    Value::BulkString(Bytes::copy_from_slice(s.as_bytes()))
}

fn arr(v: Vec<Value>) -> Value {
    Value::Array(v)
}

/// A RESP2 flat array of key/value pairs.
fn flat(kv: Vec<(&str, Value)>) -> Value {
    arr(kv.into_iter().flat_map(|(k, v)| [b(k), v]).collect())
}

/// The same as a RESP3 map.
fn map(kv: Vec<(&str, Value)>) -> Value {
    Value::Map(kv.into_iter().map(|(k, v)| (b(k), v)).collect())
}

fn node_fields(
    id: &str,
    endpoint: &str,
    port: i64,
    role: &str,
    health: &str,
) -> Vec<(&'static str, Value)> {
    vec![
        ("id", b(id)),
        ("port", Value::Int(port)),
        ("tls-port", Value::Int(port + 1000)),
        ("ip", b("10.0.0.9")),
        ("endpoint", b(endpoint)),
        ("hostname", b("")),
        ("role", b(role)),
        ("replication-offset", Value::Int(72156)),
        ("health", b(health)),
    ]
}

/// Three shards: 0-5460 (+ 6000-6001), 5461-10922, 10923-16383, each with a replica.
fn shards_reply(as_map: bool) -> Value {
    let mk = |kv| if as_map { map(kv) } else { flat(kv) };
    let shard = |slots: Vec<i64>, p: i64| {
        mk(vec![
            ("slots", arr(slots.into_iter().map(Value::Int).collect())),
            (
                "nodes",
                arr(vec![
                    mk(node_fields(
                        &format!("p{p}"),
                        "127.0.0.1",
                        p,
                        "master",
                        "online",
                    )),
                    mk(node_fields(
                        &format!("r{p}"),
                        "127.0.0.1",
                        p + 3,
                        "replica",
                        "online",
                    )),
                ]),
            ),
        ])
    };
    arr(vec![
        shard(vec![0, 5460, 6000, 6001], 7000),
        shard(vec![5461, 5999, 6002, 10922], 7001),
        shard(vec![10923, 16383], 7002),
    ])
}

fn tcp(host: &str, port: u16) -> Addr {
    Addr::tcp(host, port)
}

fn seed() -> Addr {
    tcp("seed.example", 7000)
}

fn parse_shards(v: &Value) -> Result<SlotMap> {
    SlotMap::from_shards(v, &AddrContext::new(&seed(), false))
}

#[test]
fn shards_resp2_and_resp3() {
    let m = parse_shards(&shards_reply(false)).unwrap();
    assert_eq!(parse_shards(&shards_reply(true)).unwrap(), m);
    assert_eq!(m.primary_for(0).unwrap().addr, tcp("127.0.0.1", 7000));
    assert_eq!(m.primary_for(5460).unwrap().addr, tcp("127.0.0.1", 7000));
    assert_eq!(m.primary_for(5461).unwrap().addr, tcp("127.0.0.1", 7001));
    assert_eq!(m.primary_for(6001).unwrap().addr, tcp("127.0.0.1", 7000));
    assert_eq!(m.primary_for(6002).unwrap().id.as_deref(), Some("p7001"));
    assert_eq!(m.primary_for(16383).unwrap().addr, tcp("127.0.0.1", 7002));
    assert_eq!(m.replicas_for(16383)[0].addr, tcp("127.0.0.1", 7005));
    assert_eq!(m.replicas_for(16383)[0].role, NodeRole::Replica);
    assert_eq!(m.all_primaries().count(), 3);
    assert_eq!(m.all_nodes().count(), 6);
    assert!(m.is_primary(&tcp("127.0.0.1", 7001)));
    assert!(!m.is_primary(&tcp("127.0.0.1", 7004)));
    assert!(m.node(&tcp("127.0.0.1", 7004)).is_some());
    assert!((0..SLOT_COUNT).all(|s| m.is_covered(s)));
    assert!(m.uncovered_ranges().is_empty());
    assert_eq!(m.covered_slots(), usize::from(SLOT_COUNT));
}

#[test]
fn tls_ports_remap_and_endpoints() {
    let reply = shards_reply(true);
    let m = SlotMap::from_shards(&reply, &AddrContext::new(&seed(), true)).unwrap();
    assert_eq!(
        m.primary_for(0).unwrap().addr,
        Addr::Tls {
            host: "127.0.0.1".into(),
            port: 8000
        }
    );
    // The remap hook sees every address.
    let remap = |a: Addr| match a {
        Addr::Tcp { port, .. } => tcp("proxy", port + 100),
        other => other,
    };
    let asked = seed();
    let ctx = AddrContext::new(&asked, false).with_remap(&remap);
    let m = SlotMap::from_shards(&reply, &ctx).unwrap();
    assert!(m
        .all_nodes()
        .all(|n| matches!(&n.addr, Addr::Tcp { host, .. } if host == "proxy")));
    assert_eq!(m.primary_for(0).unwrap().addr, tcp("proxy", 7100));
    assert!(format!("{ctx:?}").contains("seed.example"));

    // Empty endpoint: the node asked. `?`: fall back to the ip. IPv6 in brackets.
    let one = |endpoint: &str| {
        let n = map(node_fields("x", endpoint, 7000, "master", "online"));
        let r = arr(vec![map(vec![
            ("slots", arr(vec![Value::Int(0), Value::Int(16383)])),
            ("nodes", arr(vec![n])),
        ])]);
        parse_shards(&r)
            .unwrap()
            .primary_for(1)
            .map(|n| n.addr.clone())
    };
    assert_eq!(one(""), Some(tcp("seed.example", 7000)));
    assert_eq!(one("?"), Some(tcp("10.0.0.9", 7000)));
    assert_eq!(one("[::1]"), Some(tcp("::1", 7000)));
    assert_eq!(one("::1"), Some(tcp("::1", 7000)));
    assert_eq!(one("node-1.example"), Some(tcp("node-1.example", 7000)));
    assert_eq!(one("bad host"), Some(tcp("10.0.0.9", 7000)));
}

#[test]
fn failed_nodes_are_skipped_for_reads() {
    let shard = map(vec![
        ("slots", arr(vec![Value::Int(0), Value::Int(16383)])),
        (
            "nodes",
            arr(vec![
                map(node_fields("r1", "h", 7001, "replica", "failed")),
                map(node_fields("p", "h", 7000, "master", "online")),
                map(node_fields("r2", "h", 7002, "replica", "loading")),
                map(node_fields("r3", "h", 7003, "replica", "online")),
            ]),
        ),
    ]);
    let m = parse_shards(&arr(vec![shard])).unwrap();
    assert_eq!(m.replicas_for(5).len(), 3);
    assert!(!m.replicas_for(5)[0].healthy);
    for c in 0..10 {
        let n = m
            .node_for(
                5,
                false,
                &ReadFrom::RoundRobinReplicas,
                |_| NodeStats::default(),
                c,
                0,
            )
            .unwrap();
        assert_eq!(n.addr, tcp("h", 7003));
        let w = m
            .node_for(5, true, &ReadFrom::Replica, |_| NodeStats::default(), c, 0)
            .unwrap();
        assert_eq!(w.addr, tcp("h", 7000));
    }
    // The client's own stats count too.
    let stats = |n: &Node| NodeStats {
        healthy: n.addr != tcp("h", 7003),
        latency: None,
    };
    assert_eq!(m.node_for(5, false, &ReadFrom::Replica, stats, 0, 0), None);
    let p = m.node_for(5, false, &ReadFrom::PreferReplica, stats, 0, 0);
    assert_eq!(p.map(|n| n.role), Some(NodeRole::Primary));
}

fn slots_node_v(host: &str, port: i64, id: &str) -> Value {
    arr(vec![
        b(host),
        Value::Int(port),
        b(id),
        map(vec![("hostname", b("host-a"))]),
    ])
}

#[test]
fn cluster_slots_fallback() {
    let reply = arr(vec![
        arr(vec![
            Value::Int(0),
            Value::Int(99),
            slots_node_v("10.0.0.1", 7000, "a"),
            slots_node_v("10.0.0.2", 7003, "ar"),
        ]),
        arr(vec![
            Value::Int(200),
            Value::Int(16383),
            slots_node_v("", 7001, "b"),
            slots_node_v("?", 7004, "br"),
        ]),
        // Another range of the first primary, and a range whose primary is unknown.
        arr(vec![
            Value::Int(100),
            Value::Int(149),
            slots_node_v("10.0.0.1", 7000, "a"),
        ]),
        arr(vec![
            Value::Int(150),
            Value::Int(199),
            slots_node_v("?", 7002, "c"),
        ]),
    ]);
    let m = SlotMap::from_slots(&reply, &AddrContext::new(&seed(), false)).unwrap();
    assert_eq!(m.primary_for(120).unwrap().addr, tcp("10.0.0.1", 7000));
    assert_eq!(m.replicas_for(120)[0].addr, tcp("10.0.0.2", 7003));
    assert_eq!(m.primary_for(300).unwrap().addr, tcp("seed.example", 7001));
    assert!(m.replicas_for(300).is_empty(), "unknown replica skipped");
    assert_eq!(m.primary_for(160), None);
    assert!(!m.is_covered(199) && m.is_covered(200));
    assert_eq!(m.uncovered_ranges(), vec![150..=199]);
    assert_eq!(m.all_primaries().count(), 2);
    assert_eq!(m.primary_for(0).unwrap().id.as_deref(), Some("a"));
}

#[test]
fn uncovered_ranges() {
    let shard = |port| Shard {
        primary: Node::new(tcp("h", port), NodeRole::Primary),
        replicas: vec![],
    };
    let m = SlotMap::new(vec![(vec![10..=20, 30..=40], shard(1))]).unwrap();
    assert_eq!(m.uncovered_ranges(), vec![0..=9, 21..=29, 41..=16383]);
    assert_eq!(SlotMap::default().uncovered_ranges(), vec![0..=16383]);
    let m = SlotMap::new(vec![(vec![0..=0, 16383..=16383], shard(1))]).unwrap();
    assert_eq!(m.uncovered_ranges(), vec![1..=16382]);
    assert!(SlotMap::new(vec![(vec![RangeInclusive::new(5, 4)], shard(1))]).is_err());
    assert!(SlotMap::new(vec![(vec![0..=16384], shard(1))]).is_err());
    let overlap = SlotMap::new(vec![(vec![0..=10], shard(1)), (vec![10..=20], shard(2))]);
    assert!(matches!(overlap, Err(Error::Protocol(_))));
}

#[test]
fn one_slot_per_primary_names_each_shard_once() {
    let shard = |port| Shard {
        primary: Node::new(tcp("h", port), NodeRole::Primary),
        replicas: vec![],
    };
    let m = SlotMap::new(vec![
        (vec![100..=200, 5000..=6000], shard(1)),
        (vec![0..=99], shard(2)),
        (vec![300..=400], shard(3)),
    ])
    .unwrap();
    assert_eq!(m.one_slot_per_primary(), vec![0, 100, 300]);
    assert!(SlotMap::default().one_slot_per_primary().is_empty());
}

#[test]
fn freshest_view_by_agreement() {
    let shard = |port| Shard {
        primary: Node::new(tcp("h", port), NodeRole::Primary),
        replicas: vec![],
    };
    let old = || SlotMap::new(vec![(vec![0..=16383], shard(1))]).unwrap();
    let new = || SlotMap::new(vec![(vec![0..=16383], shard(2))]).unwrap();
    // Listed in two pieces: the same assignment.
    let new_split = || {
        SlotMap::new(vec![
            (vec![0..=99], shard(2)),
            (vec![100..=16383], shard(2)),
        ])
        .unwrap()
    };
    let partial = || SlotMap::new(vec![(vec![0..=99], shard(1))]).unwrap();

    let pick = |v: Vec<SlotMap>| {
        SlotMap::freshest(v)
            .unwrap()
            .primary_for(0)
            .unwrap()
            .addr
            .clone()
    };
    assert_eq!(pick(vec![old(), new(), new_split()]), tcp("h", 2));
    assert_eq!(pick(vec![new(), old(), old()]), tcp("h", 1));
    // A tie: more coverage wins, then the first.
    assert_eq!(pick(vec![partial(), new()]), tcp("h", 2));
    assert_eq!(pick(vec![old(), new()]), tcp("h", 1));
    assert_eq!(SlotMap::freshest(vec![]), None);
}

#[test]
fn moved_updates_one_slot() {
    let mut m = parse_shards(&shards_reply(true)).unwrap();
    let before = m.clone();
    m.apply_moved(100, tcp("127.0.0.1", 7001));
    assert_eq!(m.primary_for(100).unwrap().addr, tcp("127.0.0.1", 7001));
    assert_eq!(m.primary_for(99).unwrap().addr, tcp("127.0.0.1", 7000));
    assert_eq!(m.primary_for(101).unwrap().addr, tcp("127.0.0.1", 7000));
    assert_eq!(m.all_primaries().count(), 3);
    // A promoted replica becomes a primary of its own.
    m.apply_moved(0, tcp("127.0.0.1", 7003));
    assert_eq!(m.primary_for(0).unwrap().addr, tcp("127.0.0.1", 7003));
    m.apply_moved(16383, tcp("new", 1));
    assert_eq!(m.primary_for(16383).unwrap().addr, tcp("new", 1));
    assert_eq!(m.primary_for(16382).unwrap().addr, tcp("127.0.0.1", 7002));
    // An uncovered slot becomes covered.
    let mut empty = SlotMap::default();
    empty.apply_moved(5, tcp("x", 1));
    assert_eq!(empty.uncovered_ranges(), vec![0..=4, 6..=16383]);
    for s in (0..SLOT_COUNT).step_by(97) {
        let want = if [0, 100, 16383].contains(&s) {
            None
        } else {
            before.primary_for(s)
        };
        if want.is_some() {
            assert_eq!(m.primary_for(s), want, "slot {s}");
        }
    }
    m.apply_moved(SLOT_COUNT, tcp("x", 1)); // ignored, no panic
}

/// The shard of `slot` found by searching the ranges, as the map did before it had a
/// look-up table.
fn by_ranges(m: &SlotMap, slot: u16) -> Option<&Shard> {
    m.range_index(slot).map(|i| &m.shards[m.ranges[i].shard])
}

#[test]
fn the_slot_table_agrees_with_the_ranges_after_every_change() {
    let mut m = parse_shards(&shards_reply(true)).unwrap();
    assert!(m.by_slot.is_empty(), "a parsed view has no table");
    let unindexed = m.clone();
    m.index_slots();
    assert_eq!(m, unindexed);
    let check = |m: &SlotMap, when: &str| {
        assert_eq!(m.by_slot.len(), usize::from(SLOT_COUNT), "{when}");
        for s in 0..SLOT_COUNT {
            assert_eq!(m.shard_for(s), by_ranges(m, s), "{when}: slot {s}");
        }
    };
    check(&m, "parsed");
    let moves = [
        (100, tcp("127.0.0.1", 7001)),
        (0, tcp("127.0.0.1", 7003)),
        (16383, tcp("new", 1)),
        (101, tcp("new", 1)),
        (100, tcp("127.0.0.1", 7000)),
        (8000, tcp("other", 2)),
    ];
    for (slot, addr) in moves {
        m.apply_moved(slot, addr.clone());
        check(&m, &format!("after MOVED {slot} {addr}"));
        assert_eq!(m.primary_for(slot).map(|n| &n.addr), Some(&addr));
    }
    // Uncovered slots, in the table and out of it.
    let mut partial = SlotMap::new(vec![(
        vec![10..=20, 30..=30],
        Shard {
            primary: Node::new(tcp("a", 1), NodeRole::Primary),
            replicas: vec![],
        },
    )])
    .unwrap();
    partial.index_slots();
    check(&partial, "partial");
    assert!(partial.shard_for(9).is_none() && partial.shard_for(21).is_none());
    partial.apply_moved(25, tcp("b", 2));
    check(&partial, "partial, moved");
    let empty = SlotMap::default();
    assert!(empty.shard_for(0).is_none() && !empty.is_covered(16383));
    assert_eq!(empty, SlotMap::new(vec![]).unwrap());
}

#[test]
fn malformed_replies_are_errors() {
    let asked = seed();
    let ctx = AddrContext::new(&asked, false);
    let bad_shards = [
        Value::Nil,
        Value::Int(1),
        arr(vec![Value::Nil]),
        arr(vec![map(vec![("nodes", arr(vec![]))])]),
        arr(vec![map(vec![
            ("slots", arr(vec![Value::Int(0)])),
            ("nodes", arr(vec![])),
        ])]),
        arr(vec![map(vec![
            ("slots", arr(vec![Value::Int(0), Value::Int(16384)])),
            ("nodes", arr(vec![])),
        ])]),
        arr(vec![map(vec![
            ("slots", arr(vec![Value::Int(0), b("x")])),
            ("nodes", arr(vec![])),
        ])]),
        arr(vec![map(vec![
            ("slots", arr(vec![Value::Int(0), Value::Int(1)])),
            ("nodes", arr(vec![map(vec![("role", b("boss"))])])),
        ])]),
        arr(vec![map(vec![
            ("slots", arr(vec![Value::Int(0), Value::Int(1)])),
            (
                "nodes",
                arr(vec![map(vec![
                    ("role", b("master")),
                    ("port", Value::Int(-1)),
                ])]),
            ),
        ])]),
    ];
    for v in &bad_shards {
        assert!(
            matches!(SlotMap::from_shards(v, &ctx), Err(Error::Protocol(_))),
            "{v:?}"
        );
    }
    let bad_slots = [
        Value::Nil,
        arr(vec![arr(vec![Value::Int(0), Value::Int(1)])]),
        arr(vec![arr(vec![Value::Int(0), Value::Int(1), Value::Nil])]),
        arr(vec![arr(vec![
            Value::Int(0),
            Value::Int(1),
            arr(vec![b("h")]),
        ])]),
        arr(vec![arr(vec![
            Value::Int(2),
            Value::Int(1),
            slots_node_v("h", 1, "a"),
        ])]),
        arr(vec![arr(vec![
            Value::Int(0),
            Value::Int(1),
            slots_node_v("h", 70000, "a"),
        ])]),
        arr(vec![arr(vec![
            Value::Int(0),
            Value::Int(1),
            slots_node_v("h", 0, "a"),
        ])]),
    ];
    for v in &bad_slots {
        assert!(
            matches!(SlotMap::from_slots(v, &ctx), Err(Error::Protocol(_))),
            "{v:?}"
        );
    }
}

/// Every path to a leaf or aggregate of `v`, as indices.
fn paths(v: &Value, at: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
    out.push(at.clone());
    let children: Vec<&Value> = match v {
        Value::Array(a) => a.iter().collect(),
        Value::Map(m) => m.iter().flat_map(|(k, v)| [k, v]).collect(),
        _ => vec![],
    };
    for (i, c) in children.into_iter().enumerate() {
        at.push(i);
        paths(c, at, out);
        at.pop();
    }
}

fn at_mut<'a>(v: &'a mut Value, path: &[usize]) -> &'a mut Value {
    let Some((&i, rest)) = path.split_first() else {
        return v;
    };
    let child = match v {
        Value::Array(a) => &mut a[i],
        Value::Map(m) => {
            let kv = &mut m[i / 2];
            if i % 2 == 0 {
                &mut kv.0
            } else {
                &mut kv.1
            }
        }
        _ => unreachable!(),
    };
    at_mut(child, rest)
}

/// Every element of good replies replaced by odd values, and every aggregate truncated:
/// typed results only, never a panic.
#[test]
fn garbled_replies_never_panic() {
    let asked = seed();
    let ctx = AddrContext::new(&asked, true);
    let slots = arr(vec![arr(vec![
        Value::Int(0),
        Value::Int(16383),
        slots_node_v("10.0.0.1", 7000, "a"),
        slots_node_v("10.0.0.2", 7001, "b"),
    ])]);
    let replacements = || {
        [
            Value::Nil,
            Value::Int(-1),
            Value::Int(i64::MAX),
            Value::Int(16384),
            b(""),
            b("?"),
            b("master"),
            b("\u{0}:\u{ff}"),
            Value::Array(vec![]),
            Value::Map(vec![]),
            Value::Double(f64::NAN),
        ]
    };
    let mut tried = 0;
    for good in [shards_reply(false), shards_reply(true), slots] {
        let mut all = Vec::new();
        paths(&good, &mut Vec::new(), &mut all);
        for path in &all {
            for r in replacements() {
                let mut v = good.clone();
                *at_mut(&mut v, path) = r;
                let _ = SlotMap::from_shards(&v, &ctx);
                let _ = SlotMap::from_slots(&v, &ctx);
                tried += 1;
            }
            let len = match at_mut(&mut good.clone(), path) {
                Value::Array(a) => a.len(),
                _ => 0,
            };
            for keep in 0..len {
                let mut v = good.clone();
                if let Value::Array(a) = at_mut(&mut v, path) {
                    a.truncate(keep);
                }
                let _ = SlotMap::from_shards(&v, &ctx);
                let _ = SlotMap::from_slots(&v, &ctx);
                tried += 1;
            }
        }
    }
    assert!(tried > 1000, "{tried}");
}

mod props {
    use super::*;
    use proptest::prelude::*;

    fn value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Nil),
            any::<i64>().prop_map(Value::Int),
            (0i64..20000).prop_map(Value::Int),
            prop::sample::select(vec![
                "slots", "nodes", "id", "port", "tls-port", "ip", "endpoint", "hostname", "role",
                "health", "master", "replica", "online", "?", "", "::1", "[::1]", "h",
            ])
            .prop_map(b),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
                prop::collection::vec((inner.clone(), inner), 0..6).prop_map(Value::Map),
            ]
        })
    }

    proptest! {
        /// Any reply shape gives a map or a typed error, never a panic; a map it gives
        /// never has overlapping ranges or slots out of range.
        #[test]
        fn any_reply_is_a_map_or_an_error(v in value(), tls: bool) {
            let asked = seed();
            let ctx = AddrContext::new(&asked, tls);
            for r in [SlotMap::from_shards(&v, &ctx), SlotMap::from_slots(&v, &ctx)] {
                match r {
                    Ok(m) => {
                        prop_assert!(m.covered_slots() <= usize::from(SLOT_COUNT));
                        let uncovered: usize = m.uncovered_ranges().iter().map(|r| r.len()).sum();
                        prop_assert_eq!(uncovered + m.covered_slots(), usize::from(SLOT_COUNT));
                    }
                    Err(e) => prop_assert!(matches!(e, Error::Protocol(_)), "{:?}", e),
                }
            }
        }
    }
}

/// Replies recorded from redis-server 7.0.15 (one node serving 0-9999, started with
/// `--cluster-announce-hostname node-a.example`; alone, it does not know its own ip, so
/// `ip` and `endpoint` are empty: "the node you asked").
mod recorded {
    use super::*;
    use redis_core::resp::{Decoder, DecoderLimits};

    const SHARDS_RESP2: &[u8] = b"*1\r\n*4\r\n$5\r\nslots\r\n*2\r\n:0\r\n:9999\r\n$5\r\nnodes\r\n*1\r\n*16\r\n$2\r\nid\r\n$40\r\n9353acd8e27d303cb69fbe49fa0945344c7db40e\r\n$4\r\nport\r\n:54053\r\n$2\r\nip\r\n$0\r\n\r\n$8\r\nendpoint\r\n$0\r\n\r\n$8\r\nhostname\r\n$14\r\nnode-a.example\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$18\r\nreplication-offset\r\n:0\r\n$6\r\nhealth\r\n$6\r\nonline\r\n";
    const SHARDS_RESP3: &[u8] = b"*1\r\n%2\r\n$5\r\nslots\r\n*2\r\n:0\r\n:9999\r\n$5\r\nnodes\r\n*1\r\n%8\r\n$2\r\nid\r\n$40\r\n9353acd8e27d303cb69fbe49fa0945344c7db40e\r\n$4\r\nport\r\n:54053\r\n$2\r\nip\r\n$0\r\n\r\n$8\r\nendpoint\r\n$0\r\n\r\n$8\r\nhostname\r\n$14\r\nnode-a.example\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$18\r\nreplication-offset\r\n:0\r\n$6\r\nhealth\r\n$6\r\nonline\r\n";
    const SLOTS: &[u8] = b"*1\r\n*3\r\n:0\r\n:9999\r\n*4\r\n$0\r\n\r\n:54053\r\n$40\r\n9353acd8e27d303cb69fbe49fa0945344c7db40e\r\n*2\r\n$8\r\nhostname\r\n$14\r\nnode-a.example\r\n";

    fn decode(raw: &[u8]) -> Value {
        let mut buf = bytes::BytesMut::from(raw);
        Decoder::new(DecoderLimits::default())
            .decode(&mut buf)
            .unwrap()
            .unwrap()
    }

    #[test]
    fn real_server_replies() {
        let asked = tcp("127.0.0.1", 54053);
        let ctx = AddrContext::new(&asked, false);
        let a = SlotMap::from_shards(&decode(SHARDS_RESP2), &ctx).unwrap();
        let b = SlotMap::from_shards(&decode(SHARDS_RESP3), &ctx).unwrap();
        let c = SlotMap::from_slots(&decode(SLOTS), &ctx).unwrap();
        assert_eq!(a, b);
        let p = a.primary_for(9999).unwrap();
        assert_eq!(p.addr, asked);
        assert_eq!(
            p.id.as_deref(),
            Some("9353acd8e27d303cb69fbe49fa0945344c7db40e")
        );
        assert!(p.healthy);
        assert_eq!(a.uncovered_ranges(), vec![10000..=16383]);
        assert_eq!(c.assignment(), a.assignment());
        assert_eq!(c.primary_for(0), a.primary_for(0));
    }

    /// Three primaries, one replica (still loading) of the first, replies recorded from
    /// redis-server 7.0.15 before and after that primary was stopped (SIGSTOP) and its
    /// replica promoted: the failed primary stays listed as a shard without slots, with
    /// health `fail`.
    const FAILOVER_BEFORE_RESP3: &[u8] = b"*3\r\n%2\r\n$5\r\nslots\r\n*2\r\n:10923\r\n:16383\r\n$5\r\nnodes\r\n*1\r\n%7\r\n$2\r\nid\r\n$40\r\nb16591ded620b6403adf73df1726d7af92f043ee\r\n$4\r\nport\r\n:45211\r\n$2\r\nip\r\n$9\r\n127.0.0.1\r\n$8\r\nendpoint\r\n$9\r\n127.0.0.1\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$18\r\nreplication-offset\r\n:0\r\n$6\r\nhealth\r\n$6\r\nonline\r\n%2\r\n$5\r\nslots\r\n*2\r\n:5461\r\n:10922\r\n$5\r\nnodes\r\n*1\r\n%7\r\n$2\r\nid\r\n$40\r\n149733c459c701f2a0909fd866ae02e93374d9da\r\n$4\r\nport\r\n:35661\r\n$2\r\nip\r\n$9\r\n127.0.0.1\r\n$8\r\nendpoint\r\n$9\r\n127.0.0.1\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$18\r\nreplication-offset\r\n:0\r\n$6\r\nhealth\r\n$6\r\nonline\r\n%2\r\n$5\r\nslots\r\n*2\r\n:0\r\n:5460\r\n$5\r\nnodes\r\n*2\r\n%7\r\n$2\r\nid\r\n$40\r\n787a3db2ea3d280feea524d5eadf2b6293c4ba5a\r\n$4\r\nport\r\n:45041\r\n$2\r\nip\r\n$9\r\n127.0.0.1\r\n$8\r\nendpoint\r\n$9\r\n127.0.0.1\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$18\r\nreplication-offset\r\n:0\r\n$6\r\nhealth\r\n$6\r\nonline\r\n%7\r\n$2\r\nid\r\n$40\r\n4a53533dd52b99fb72c0747e3e86773e8048e199\r\n$4\r\nport\r\n:44501\r\n$2\r\nip\r\n$9\r\n127.0.0.1\r\n$8\r\nendpoint\r\n$9\r\n127.0.0.1\r\n$4\r\nrole\r\n$7\r\nreplica\r\n$18\r\nreplication-offset\r\n:0\r\n$6\r\nhealth\r\n$7\r\nloading\r\n";
    const FAILOVER_AFTER_RESP2: &[u8] = b"*4\r\n*4\r\n$5\r\nslots\r\n*2\r\n:10923\r\n:16383\r\n$5\r\nnodes\r\n*1\r\n*14\r\n$2\r\nid\r\n$40\r\nb16591ded620b6403adf73df1726d7af92f043ee\r\n$4\r\nport\r\n:45211\r\n$2\r\nip\r\n$9\r\n127.0.0.1\r\n$8\r\nendpoint\r\n$9\r\n127.0.0.1\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$18\r\nreplication-offset\r\n:0\r\n$6\r\nhealth\r\n$6\r\nonline\r\n*4\r\n$5\r\nslots\r\n*2\r\n:5461\r\n:10922\r\n$5\r\nnodes\r\n*1\r\n*14\r\n$2\r\nid\r\n$40\r\n149733c459c701f2a0909fd866ae02e93374d9da\r\n$4\r\nport\r\n:35661\r\n$2\r\nip\r\n$9\r\n127.0.0.1\r\n$8\r\nendpoint\r\n$9\r\n127.0.0.1\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$18\r\nreplication-offset\r\n:0\r\n$6\r\nhealth\r\n$6\r\nonline\r\n*4\r\n$5\r\nslots\r\n*2\r\n:0\r\n:5460\r\n$5\r\nnodes\r\n*1\r\n*14\r\n$2\r\nid\r\n$40\r\n4a53533dd52b99fb72c0747e3e86773e8048e199\r\n$4\r\nport\r\n:44501\r\n$2\r\nip\r\n$9\r\n127.0.0.1\r\n$8\r\nendpoint\r\n$9\r\n127.0.0.1\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$18\r\nreplication-offset\r\n:0\r\n$6\r\nhealth\r\n$6\r\nonline\r\n*4\r\n$5\r\nslots\r\n*0\r\n$5\r\nnodes\r\n*1\r\n*14\r\n$2\r\nid\r\n$40\r\n787a3db2ea3d280feea524d5eadf2b6293c4ba5a\r\n$4\r\nport\r\n:45041\r\n$2\r\nip\r\n$9\r\n127.0.0.1\r\n$8\r\nendpoint\r\n$9\r\n127.0.0.1\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$18\r\nreplication-offset\r\n:0\r\n$6\r\nhealth\r\n$4\r\nfail\r\n";
    const FAILOVER_AFTER_SLOTS: &[u8] = b"*3\r\n*3\r\n:0\r\n:5460\r\n*4\r\n$9\r\n127.0.0.1\r\n:44501\r\n$40\r\n4a53533dd52b99fb72c0747e3e86773e8048e199\r\n*0\r\n*3\r\n:5461\r\n:10922\r\n*4\r\n$9\r\n127.0.0.1\r\n:35661\r\n$40\r\n149733c459c701f2a0909fd866ae02e93374d9da\r\n*0\r\n*3\r\n:10923\r\n:16383\r\n*4\r\n$9\r\n127.0.0.1\r\n:45211\r\n$40\r\nb16591ded620b6403adf73df1726d7af92f043ee\r\n*0\r\n";

    #[test]
    fn real_failover_replies() {
        let asked = tcp("127.0.0.1", 35661);
        let ctx = AddrContext::new(&asked, false);
        let before = SlotMap::from_shards(&decode(FAILOVER_BEFORE_RESP3), &ctx).unwrap();
        let after = SlotMap::from_shards(&decode(FAILOVER_AFTER_RESP2), &ctx).unwrap();
        let slots = SlotMap::from_slots(&decode(FAILOVER_AFTER_SLOTS), &ctx).unwrap();
        let (old, new) = (tcp("127.0.0.1", 45041), tcp("127.0.0.1", 44501));

        assert_eq!(before.primary_for(0).unwrap().addr, old);
        assert_eq!(before.replicas_for(0)[0].addr, new);
        assert!(
            !before.replicas_for(0)[0].healthy,
            "a loading replica serves no reads"
        );
        let read = before.node_for(
            0,
            false,
            &ReadFrom::PreferReplica,
            |_| NodeStats::default(),
            0,
            0,
        );
        assert_eq!(read.unwrap().addr, old);

        assert_eq!(after.primary_for(0).unwrap().addr, new);
        assert_eq!(
            after.primary_for(5460).unwrap().id.as_deref(),
            Some("4a53533dd52b99fb72c0747e3e86773e8048e199")
        );
        assert!(after.uncovered_ranges().is_empty());
        assert_eq!(
            after.all_primaries().count(),
            3,
            "the failed primary is no fan-out target"
        );
        assert_eq!(after.all_nodes().count(), 4);
        assert!(!after.node(&old).unwrap().healthy);
        assert_eq!(slots.assignment(), after.assignment());
        // Two nodes that saw the failover outvote one that did not.
        let fresh = SlotMap::freshest(vec![before.clone(), after.clone(), slots]).unwrap();
        assert_eq!(fresh.primary_for(0).unwrap().addr, new);
    }
}

/// After a failover `CLUSTER SHARDS` lists the failed old primary as a shard of its own,
/// without slots: it is known, but not a target for "all shards".
#[test]
fn failed_old_primary_without_slots() {
    let shard = |slots: Vec<Value>, fields| {
        map(vec![
            ("slots", arr(slots)),
            ("nodes", arr(vec![map(fields)])),
        ])
    };
    let reply = arr(vec![
        shard(
            vec![Value::Int(0), Value::Int(16383)],
            node_fields("new", "h", 7003, "master", "online"),
        ),
        shard(vec![], node_fields("old", "h", 7000, "master", "failed")),
    ]);
    let m = parse_shards(&reply).unwrap();
    let primaries: Vec<&Addr> = m.all_primaries().map(|n| &n.addr).collect();
    assert_eq!(primaries, [&tcp("h", 7003)]);
    assert_eq!(m.all_nodes().count(), 2);
    assert_eq!(m.shards().len(), 2);
    assert!(m.is_primary(&tcp("h", 7000)));
    assert!(!m.node(&tcp("h", 7000)).unwrap().healthy);
}
