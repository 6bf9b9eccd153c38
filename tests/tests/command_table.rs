//! The command table in redis-core against the running server, and how much of it the
//! typed command API covers.
//!
//! 1. `redis_core::command_table::all()` must match the `COMMAND` reply of the
//!    `redis-server` the harness starts: the same names (subcommands as `container|sub`),
//!    arity, the flags and tips the table records, and first/last/step key positions. Any
//!    difference fails the test, listing every one.
//! 2. Typed command coverage: of the leaf commands (the subcommands of container commands,
//!    otherwise the command itself) without the `admin` flag, how many are listed in
//!    `redis_core::commands::TYPED_COMMANDS`. Printed (see it with `--nocapture`) and
//!    required to be at least 90%.
//! 3. `Cmd::keys()` against `COMMAND GETKEYS` for every command and subcommand of the table:
//!    plausible arguments per command (generated from the arity, or samples below for the
//!    commands whose keys move with the arguments), the keys must be the server's, in its
//!    order. Where the server refuses (no key arguments, invalid arguments), ours must give
//!    no keys or an error.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};

use redis_core::command_table::{
    self, flags, key_flags, BeginSearch, CommandInfo, FindKeys, KeySpec,
};
use redis_sync::{cmd, Client, FromValue, Protocol, Query, Value};
use redis_tests::RedisServer;

/// Every flag and tip the table has a bit for, as `COMMAND` reports it.
const RECORDED: &[(&str, u32)] = &[
    ("write", flags::WRITE),
    ("readonly", flags::READONLY),
    ("denyoom", flags::DENYOOM),
    ("admin", flags::ADMIN),
    ("pubsub", flags::PUBSUB),
    ("noscript", flags::NOSCRIPT),
    ("blocking", flags::BLOCKING),
    ("loading", flags::LOADING),
    ("stale", flags::STALE),
    ("skip_monitor", flags::SKIP_MONITOR),
    ("skip_slowlog", flags::SKIP_SLOWLOG),
    ("asking", flags::ASKING),
    ("fast", flags::FAST),
    ("no_auth", flags::NO_AUTH),
    ("no_mandatory_keys", flags::NO_MANDATORY_KEYS),
    ("no_async_loading", flags::NO_ASYNC_LOADING),
    ("no_multi", flags::NO_MULTI),
    ("movablekeys", flags::MOVABLEKEYS),
    ("allow_busy", flags::ALLOW_BUSY),
    ("nondeterministic_output", flags::NONDETERMINISTIC_OUTPUT),
    (
        "nondeterministic_output_order",
        flags::NONDETERMINISTIC_OUTPUT_ORDER,
    ),
    ("request_policy:all_nodes", flags::REQUEST_POLICY_ALL_NODES),
    (
        "request_policy:all_shards",
        flags::REQUEST_POLICY_ALL_SHARDS,
    ),
    (
        "request_policy:multi_shard",
        flags::REQUEST_POLICY_MULTI_SHARD,
    ),
    ("request_policy:special", flags::REQUEST_POLICY_SPECIAL),
    (
        "response_policy:one_succeeded",
        flags::RESPONSE_POLICY_ONE_SUCCEEDED,
    ),
    (
        "response_policy:all_succeeded",
        flags::RESPONSE_POLICY_ALL_SUCCEEDED,
    ),
    (
        "response_policy:agg_logical_and",
        flags::RESPONSE_POLICY_AGG_LOGICAL_AND,
    ),
    ("response_policy:agg_min", flags::RESPONSE_POLICY_AGG_MIN),
    ("response_policy:agg_sum", flags::RESPONSE_POLICY_AGG_SUM),
    ("response_policy:special", flags::RESPONSE_POLICY_SPECIAL),
];

/// One command or subcommand as the server describes it, in the table's terms.
#[derive(Debug, Clone, PartialEq)]
struct ServerCommand {
    arity: i32,
    flags: u32,
    first_key: i32,
    last_key: i32,
    key_step: i32,
    /// Flags or tips the table has no bit for.
    unknown: Vec<String>,
    /// The key specs, as the server reports them (compared through [`spec_of`]).
    key_specs: Vec<Value>,
}

/// A RESP2 flat list or RESP3 map of `key, value` pairs.
fn pairs(v: Value) -> BTreeMap<String, Value> {
    match v {
        Value::Map(m) => m
            .into_iter()
            .map(|(k, v)| (String::from_value(k).unwrap(), v))
            .collect(),
        other => {
            let flat: Vec<Value> = FromValue::from_value(other).unwrap();
            flat.chunks(2)
                .map(|kv| (String::from_value(kv[0].clone()).unwrap(), kv[1].clone()))
                .collect()
        }
    }
}

/// A server key spec in the table's terms.
fn spec_of(v: &Value) -> KeySpec {
    let d = pairs(v.clone());
    let mut flags = 0;
    for f in Vec::<String>::from_value(d["flags"].clone()).unwrap() {
        flags |= KEY_FLAGS
            .iter()
            .find(|(n, _)| *n == f)
            .unwrap_or_else(|| panic!("key spec flag {f} has no bit"))
            .1;
    }
    let bs = pairs(d["begin_search"].clone());
    let fk = pairs(d["find_keys"].clone());
    let kind = |m: &BTreeMap<String, Value>| String::from_value(m["type"].clone()).unwrap();
    let spec = |m: &BTreeMap<String, Value>| match &m["spec"] {
        Value::Array(a) if a.is_empty() => BTreeMap::new(),
        Value::Map(m) if m.is_empty() => BTreeMap::new(),
        s => pairs(s.clone()),
    };
    let (bspec, fspec) = (spec(&bs), spec(&fk));
    let int = |m: &BTreeMap<String, Value>, k: &str| i32::from_value(m[k].clone()).unwrap();
    let begin_search = match kind(&bs).as_str() {
        "index" => BeginSearch::Index(int(&bspec, "index")),
        "keyword" => {
            let kw = String::from_value(bspec["keyword"].clone()).unwrap();
            let known = command_table::all()
                .iter()
                .flat_map(|c| c.key_specs)
                .find_map(|s| match s.begin_search {
                    BeginSearch::Keyword { keyword, .. } if keyword == kw => Some(keyword),
                    _ => None,
                })
                .unwrap_or("<not in the table>");
            BeginSearch::Keyword {
                keyword: known,
                start_from: int(&bspec, "startfrom"),
            }
        }
        _ => BeginSearch::Unknown,
    };
    let find_keys = match kind(&fk).as_str() {
        "range" => FindKeys::Range {
            last_key: int(&fspec, "lastkey"),
            key_step: int(&fspec, "keystep"),
            limit: int(&fspec, "limit"),
        },
        "keynum" => FindKeys::Keynum {
            keynum_index: int(&fspec, "keynumidx"),
            first_key: int(&fspec, "firstkey"),
            key_step: int(&fspec, "keystep"),
        },
        _ => FindKeys::Unknown,
    };
    KeySpec {
        flags,
        begin_search,
        find_keys,
    }
}

/// Every key spec flag the table has a bit for, as `COMMAND` reports it.
const KEY_FLAGS: &[(&str, u16)] = &[
    ("RO", key_flags::RO),
    ("RW", key_flags::RW),
    ("OW", key_flags::OW),
    ("RM", key_flags::RM),
    ("access", key_flags::ACCESS),
    ("update", key_flags::UPDATE),
    ("insert", key_flags::INSERT),
    ("delete", key_flags::DELETE),
    ("not_key", key_flags::NOT_KEY),
    ("incomplete", key_flags::INCOMPLETE),
    ("variable_flags", key_flags::VARIABLE_FLAGS),
];

fn flag_names(bits: u32) -> Vec<&'static str> {
    RECORDED
        .iter()
        .filter(|(_, bit)| bits & bit != 0)
        .map(|(name, _)| *name)
        .collect()
}

/// `[name, arity, flags, first, last, step, acl categories, tips, key specs, subcommands]`.
fn walk(entry: Value, out: &mut BTreeMap<String, ServerCommand>) {
    let items: Vec<Value> = FromValue::from_value(entry).unwrap();
    let get = |i: usize| items.get(i).cloned().unwrap_or(Value::Nil);
    let name = String::from_value(get(0)).unwrap().to_lowercase();
    let mut reported: Vec<String> = Vec::from_value(get(2)).unwrap();
    reported.extend(Vec::<String>::from_value(get(7)).unwrap());
    let mut bits = 0;
    let mut unknown = Vec::new();
    for f in reported {
        match RECORDED.iter().find(|(n, _)| *n == f) {
            Some((_, bit)) => bits |= bit,
            None => unknown.push(f),
        }
    }
    out.insert(
        name,
        ServerCommand {
            key_specs: Vec::from_value(get(8)).unwrap(),
            arity: i32::from_value(get(1)).unwrap(),
            flags: bits,
            first_key: i32::from_value(get(3)).unwrap(),
            last_key: i32::from_value(get(4)).unwrap(),
            key_step: i32::from_value(get(5)).unwrap(),
            unknown,
        },
    );
    for sub in Vec::<Value>::from_value(get(9)).unwrap() {
        walk(sub, out);
    }
}

fn server_commands(protocol: Protocol) -> (String, BTreeMap<String, ServerCommand>) {
    let server = RedisServer::start();
    let mut con = Client::open(server.config().with_protocol(protocol))
        .unwrap()
        .get_connection()
        .unwrap();
    let mut out = BTreeMap::new();
    let entries: Vec<Value> = cmd("COMMAND").query(&mut con).unwrap();
    for e in entries {
        walk(e, &mut out);
    }
    (server.version().to_string(), out)
}

fn differences(server: &BTreeMap<String, ServerCommand>) -> Vec<String> {
    let table: BTreeMap<&str, &CommandInfo> =
        command_table::all().iter().map(|c| (c.name, c)).collect();
    let mut diffs = Vec::new();
    for (name, s) in server {
        let Some(t) = table.get(name.as_str()) else {
            diffs.push(format!("{name}: on the server, missing from the table"));
            continue;
        };
        if t.arity != s.arity {
            diffs.push(format!(
                "{name}: arity table {} server {}",
                t.arity, s.arity
            ));
        }
        if t.flags != s.flags {
            let only_table: Vec<_> = flag_names(t.flags & !s.flags);
            let only_server: Vec<_> = flag_names(s.flags & !t.flags);
            diffs.push(format!(
                "{name}: flags only in the table {only_table:?}, only on the server {only_server:?}"
            ));
        }
        let tk = (t.first_key, t.last_key, t.key_step);
        let sk = (s.first_key, s.last_key, s.key_step);
        if tk != sk {
            diffs.push(format!(
                "{name}: first/last/step table {tk:?} server {sk:?}"
            ));
        }
        let specs: Vec<KeySpec> = s.key_specs.iter().map(spec_of).collect();
        if t.key_specs != specs.as_slice() {
            diffs.push(format!(
                "{name}: key specs table {:?} server {specs:?}",
                t.key_specs
            ));
        }
        if !s.unknown.is_empty() {
            diffs.push(format!(
                "{name}: flags/tips the table cannot record: {:?}",
                s.unknown
            ));
        }
    }
    for name in table.keys() {
        if !server.contains_key(*name) {
            diffs.push(format!("{name}: in the table, not on the server"));
        }
    }
    diffs
}

#[test]
fn command_table_matches_the_server() {
    for protocol in [Protocol::Resp2, Protocol::Resp3] {
        let (version, server) = server_commands(protocol);
        let diffs = differences(&server);
        let msg = format!(
            "{protocol:?}: redis-server {version} vs command table of {} ({} entries): {} difference(s)\n  {}",
            command_table::SERVER_VERSION,
            command_table::all().len(),
            diffs.len(),
            diffs.join("\n  ")
        );
        println!("{msg}");
        eprintln!("{msg}");
        assert!(
            server.len() > 200,
            "{protocol:?}: COMMAND listed only {} commands",
            server.len()
        );
        assert!(diffs.is_empty(), "{msg}");
    }
}

#[test]
fn typed_command_coverage() {
    let all = command_table::all();
    let containers: BTreeSet<&str> = all
        .iter()
        .filter_map(|c| c.name.split_once('|').map(|(container, _)| container))
        .collect();
    let leaves: Vec<&CommandInfo> = all
        .iter()
        .filter(|c| !containers.contains(c.name))
        .collect();
    let non_admin: Vec<&CommandInfo> = leaves.iter().copied().filter(|c| !c.is_admin()).collect();
    let typed: BTreeSet<&str> = redis_core::commands::TYPED_COMMANDS
        .iter()
        .copied()
        .collect();
    let (covered, missing): (Vec<&CommandInfo>, Vec<&CommandInfo>) = non_admin
        .iter()
        .copied()
        .partition(|c| typed.contains(c.name));
    let pct = 100.0 * covered.len() as f64 / non_admin.len() as f64;
    let unknown: Vec<&str> = typed
        .iter()
        .copied()
        .filter(|t| command_table::lookup_name(t).is_none())
        .collect();
    let msg = format!(
        "typed command coverage: {} of {} non-admin commands ({pct:.1}%)\n  \
         ({} leaves, {} admin; not typed: {}; typed but newer than the table's Redis {}: {})",
        covered.len(),
        non_admin.len(),
        leaves.len(),
        leaves.len() - non_admin.len(),
        missing
            .iter()
            .map(|c| c.name)
            .collect::<Vec<_>>()
            .join(", "),
        command_table::SERVER_VERSION,
        unknown.join(", ")
    );
    println!("{msg}");
    eprintln!("{msg}");
    assert!(
        pct >= 90.0,
        "typed command coverage {pct:.1}% is below 90%\n{msg}"
    );
}

/// Arguments (after the command and subcommand names) for commands whose keys depend on
/// them, or that need valid syntax for the server to find keys. Several lists per command
/// cover the options that move keys, and a few malformed ones.
const SAMPLES: &[(&str, &[&[&str]])] = &[
    (
        "eval",
        &[
            &["s", "2", "k1", "k2", "a"],
            &["s", "0", "a"],
            &["s", "x", "k"],
            &["s", "3", "k1"],
            &["s", "-1", "k"],
        ],
    ),
    ("eval_ro", &[&["s", "2", "k1", "k2", "a"], &["s", "0"]]),
    ("evalsha", &[&["sha", "1", "k1", "a", "b"], &["sha", "0"]]),
    ("evalsha_ro", &[&["sha", "3", "k1", "k2", "k3"]]),
    ("fcall", &[&["f", "2", "k1", "k2", "a"], &["f", "0", "a"]]),
    ("fcall_ro", &[&["f", "1", "k1"]]),
    (
        "blmpop",
        &[
            &["0", "2", "k1", "k2", "LEFT"],
            &["1.5", "1", "k1", "RIGHT", "COUNT", "2"],
        ],
    ),
    (
        "bzmpop",
        &[
            &["0", "2", "k1", "k2", "MIN"],
            &["0", "1", "k1", "MAX", "COUNT", "2"],
        ],
    ),
    (
        "lmpop",
        &[
            &["2", "k1", "k2", "LEFT"],
            &["1", "k1", "RIGHT", "COUNT", "3"],
            &["x", "k1", "LEFT"],
        ],
    ),
    (
        "zmpop",
        &[&["2", "k1", "k2", "MIN", "COUNT", "3"], &["1", "k1", "MAX"]],
    ),
    (
        "sintercard",
        &[&["2", "k1", "k2", "LIMIT", "5"], &["1", "k1"]],
    ),
    (
        "zintercard",
        &[&["3", "k1", "k2", "k3"], &["1", "k1", "LIMIT", "1"]],
    ),
    ("zdiff", &[&["2", "k1", "k2", "WITHSCORES"]]),
    (
        "zinter",
        &[&["2", "k1", "k2", "WEIGHTS", "1", "2", "AGGREGATE", "SUM"]],
    ),
    (
        "zunion",
        &[&["3", "k1", "k2", "k3", "WITHSCORES"], &["9", "k1"]],
    ),
    ("zdiffstore", &[&["dst", "2", "k1", "k2"]]),
    (
        "zinterstore",
        &[&["dst", "2", "k1", "k2", "WEIGHTS", "1", "2"]],
    ),
    (
        "zunionstore",
        &[
            &["dst", "3", "k1", "k2", "k3", "AGGREGATE", "MAX"],
            &["dst", "0"],
        ],
    ),
    (
        "xread",
        &[
            &["COUNT", "5", "BLOCK", "10", "STREAMS", "s1", "s2", "0", "0"],
            &["STREAMS", "s1", "$"],
            &["STREAMS", "STREAMS", "STREAMS", "0", "0"],
            &["COUNT", "5", "s1", "$"],
        ],
    ),
    (
        "xreadgroup",
        &[
            &[
                "GROUP", "g", "c", "COUNT", "1", "STREAMS", "s1", "s2", ">", ">",
            ],
            &["GROUP", "STREAMS", "c", "NOACK", "STREAMS", "s1", ">"],
        ],
    ),
    (
        "sort",
        &[
            &["k"],
            &[
                "k", "BY", "w*", "LIMIT", "0", "10", "GET", "#", "GET", "h*->f", "DESC", "ALPHA",
                "STORE", "dst",
            ],
            &["k", "STORE", "d1", "STORE", "d2"],
            &["k", "GET", "STORE", "ASC"],
            &["k", "STORE"],
        ],
    ),
    ("sort_ro", &[&["k", "BY", "w*", "GET", "#"], &["k"]]),
    (
        "migrate",
        &[
            &["h", "6379", "k", "0", "100"],
            &[
                "h", "6379", "", "0", "100", "COPY", "REPLACE", "AUTH", "pw", "KEYS", "k1", "k2",
            ],
            &[
                "h", "6379", "", "0", "100", "AUTH2", "u", "KEYS", "KEYS", "k1",
            ],
            &["h", "6379", "", "0", "100", "AUTH", "KEYS", "KEYS", "k1"],
        ],
    ),
    (
        "georadius",
        &[
            &["k", "0", "0", "10", "km", "WITHDIST", "STORE", "dst"],
            &["k", "0", "0", "10", "km", "STOREDIST", "d2", "COUNT", "3"],
            &["k", "0", "0", "10", "km", "ASC"],
        ],
    ),
    (
        "georadiusbymember",
        &[
            &["k", "m", "10", "km", "STORE", "dst"],
            &["k", "m", "10", "km"],
        ],
    ),
    ("mset", &[&["k1", "v1", "k2", "v2", "k3", "v3"]]),
    ("object|encoding", &[&["k"]]),
    ("memory|usage", &[&["k", "SAMPLES", "5"]]),
    ("xinfo|stream", &[&["k", "FULL", "COUNT", "10"]]),
];

/// Commands where ours differs from `COMMAND GETKEYS` on purpose, with the reason. Their
/// keys are checked by the unit tests of `command_table::keys` instead.
const KNOWN_EXCEPTIONS: &[(&str, &str)] = &[
    (
        "spublish",
        "sharded channel (`not_key` spec): Redis 7.0 GETKEYS says no keys, cluster routing hashes it",
    ),
    ("ssubscribe", "sharded channels, as spublish"),
    ("sunsubscribe", "sharded channels, as spublish"),
];

/// Argument lists for one table entry: the samples, plus `a1 a2 ...` as many as the arity
/// asks (and three more when it is a minimum).
fn arg_lists(info: &CommandInfo) -> Vec<Vec<String>> {
    let names: Vec<String> = info.name.split('|').map(str::to_uppercase).collect();
    let with = |rest: &[&str]| {
        let mut v = names.clone();
        v.extend(rest.iter().map(|s| s.to_string()));
        v
    };
    let mut lists = Vec::new();
    if let Some((_, samples)) = SAMPLES.iter().find(|(n, _)| *n == info.name) {
        lists.extend(samples.iter().map(|s| with(s)));
    }
    let n = info.arity.unsigned_abs() as usize;
    let generic = |total: usize| {
        let mut v = names.clone();
        let extra = total.saturating_sub(names.len());
        v.extend((1..=extra).map(|i| format!("a{i}")));
        v
    };
    lists.push(generic(n));
    if info.arity < 0 {
        lists.push(generic(n + 3));
    }
    lists
}

#[test]
fn keys_match_command_getkeys_for_every_command() {
    let server = RedisServer::builder().start();
    let mut con = Client::open(server.config())
        .unwrap()
        .get_connection()
        .unwrap();
    let mut checked_commands = 0;
    let (mut calls, mut with_keys) = (0, 0);
    let mut mismatches = Vec::new();
    for info in command_table::all() {
        if KNOWN_EXCEPTIONS.iter().any(|(n, _)| *n == info.name) {
            continue;
        }
        checked_commands += 1;
        for args in arg_lists(info) {
            calls += 1;
            let mut ours_cmd = cmd(&args[0]);
            for a in &args[1..] {
                ours_cmd.arg(a.as_str());
            }
            let ours: Result<Vec<String>, String> = ours_cmd
                .keys()
                .map(|ks| {
                    ks.iter()
                        .map(|k| String::from_utf8_lossy(k).into_owned())
                        .collect()
                })
                .map_err(|e| e.to_string());
            let mut getkeys = cmd("COMMAND");
            getkeys.arg("GETKEYS");
            for a in &args {
                getkeys.arg(a.as_str());
            }
            let theirs: Result<Vec<String>, String> =
                getkeys.query(&mut con).map_err(|e| e.to_string());
            let same = match (&ours, &theirs) {
                (Ok(a), Ok(b)) => a == b,
                (Ok(a), Err(_)) => a.is_empty(),
                (Err(_), Ok(b)) => b.is_empty(),
                (Err(_), Err(_)) => true,
            };
            if matches!(&theirs, Ok(b) if !b.is_empty()) {
                with_keys += 1;
            }
            if !same {
                mismatches.push(format!("{args:?}: ours {ours:?}, server {theirs:?}"));
            }
        }
    }
    let msg = format!(
        "Cmd::keys() vs COMMAND GETKEYS on redis-server {}: {checked_commands} commands \
         ({} known exceptions), {calls} argument lists ({with_keys} with keys): {} mismatch(es)\n  {}",
        server.version(),
        KNOWN_EXCEPTIONS.len(),
        mismatches.len(),
        mismatches.join("\n  ")
    );
    println!("{msg}");
    eprintln!("{msg}");
    assert!(checked_commands > 300, "{msg}");
    assert!(mismatches.is_empty(), "{msg}");
}
