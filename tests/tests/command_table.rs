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

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};

use redis_core::command_table::{self, flags, CommandInfo};
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
#[derive(Debug, Clone, PartialEq, Eq)]
struct ServerCommand {
    arity: i32,
    flags: u32,
    first_key: i32,
    last_key: i32,
    key_step: i32,
    /// Flags or tips the table has no bit for.
    unknown: Vec<String>,
}

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
