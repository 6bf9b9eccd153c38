//! Where a command goes in a cluster, and how the replies of a fanned-out command merge.
//!
//! Decided before anything is sent, from the command alone (its keys and the command
//! table's flags and tips), so both clients route identically:
//!
//! - a command with keys goes to the slot of its keys; keys in different slots are refused
//!   with [`Error::CrossSlot`] (the server would refuse them anyway, after a round trip) —
//!   except `MGET`, `MSET`, `DEL`, `UNLINK`, `EXISTS` and `TOUCH`, which are split into one
//!   command per slot ([`SlotSplit`]) and merged back in the caller's key order. A split
//!   command is **not atomic**: another client may see some slots' part done and not the
//!   others';
//! - a command without keys follows its request policy tip: all primaries
//!   (`all_shards`: `DBSIZE`, `FLUSHALL`, `SCRIPT LOAD`, ...), all nodes (`all_nodes`:
//!   `CONFIG SET`, ...), else any one primary (`ECHO`, `PUBLISH`, `EVAL s 0`); `SCAN`
//!   (request policy `special`: its cursor belongs to one node) is refused;
//! - reads (`readonly` flag) may go to a replica, as the read policy says; everything else
//!   goes to a primary;
//! - a command the table does not know (a module's, a newer server's) is routed by its
//!   first argument as if it were the key, as a write: most such commands take their key
//!   there, and when they do not, the `MOVED` reply sends the command to the right node.
//!
//! Fanned-out replies merge by the command's response policy tip ([`merge`]).

use redis_core::command_table::{
    self, flags, is_retry_safe_with, keys_of, lookup_entry, retry_safe_by_name, single_key,
    CommandInfo, Entry,
};
use redis_core::{Addr, Cmd, Error, Result, Value};

use crate::slot_map::SlotMap;

use crate::slot::slot;

/// Where one command goes.
#[derive(Clone, Debug, PartialEq)]
pub enum Route {
    /// To the node serving this slot (every key of the command is in it).
    Slot {
        /// The slot.
        slot: u16,
        /// False for a read (may go to a replica as the read policy says).
        write: bool,
    },
    /// A multi-key command split by slot: send each part to its slot's node, then
    /// [`SlotSplit::merge`].
    Split(SlotSplit),
    /// To every primary, replies merged with [`merge`] and this policy.
    AllPrimaries(ResponsePolicy),
    /// To every node, replicas too, replies merged with [`merge`] and this policy.
    AllNodes(ResponsePolicy),
    /// No key and no request policy: any one primary.
    AnyPrimary {
        /// False for a read.
        write: bool,
    },
}

impl Route {
    /// The nodes of `map` a fan-out route sends to, and how their replies merge: every
    /// primary serving slots ([`Route::AllPrimaries`]) or every node the map does not mark
    /// failed ([`Route::AllNodes`]). No node for the other routes.
    pub fn fan_out(&self, map: &SlotMap) -> (Vec<Addr>, ResponsePolicy) {
        match self {
            Route::AllPrimaries(policy) => (
                map.all_primaries().map(|n| n.addr.clone()).collect(),
                *policy,
            ),
            Route::AllNodes(policy) => (
                map.all_nodes()
                    .filter(|n| n.healthy)
                    .map(|n| n.addr.clone())
                    .collect(),
                *policy,
            ),
            _ => (Vec::new(), ResponsePolicy::Default),
        }
    }
}

/// False for a command the table knows as read-only (it may go to a replica); unknown
/// commands count as writes.
pub fn is_write(cmd: &Cmd) -> bool {
    !command_table::lookup(cmd).is_some_and(|i| i.is_readonly())
}

/// How the replies of a command sent to several nodes become one (the command table's
/// `response_policy` tip).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResponsePolicy {
    /// `one_succeeded`: the first success is the reply (`SCRIPT KILL`).
    OneSucceeded,
    /// `all_succeeded`: every node must succeed; the reply is the first one (`FLUSHALL`).
    AllSucceeded,
    /// `agg_logical_and`: logical AND of integer replies, element-wise for arrays
    /// (`SCRIPT EXISTS`).
    AggLogicalAnd,
    /// `agg_min`: minimum of integer replies, element-wise for arrays.
    AggMin,
    /// `agg_sum`: sum of integer replies, element-wise for arrays (`DBSIZE`).
    AggSum,
    /// `special`: the command needs its own merging (`INFO`, `MEMORY STATS`); the replies
    /// are returned as an array, one per node in the order given.
    Special,
    /// No tip: array and set replies are concatenated (`KEYS`); otherwise the first reply
    /// that is not nil, or nil (`RANDOMKEY`: a key from a primary that has one).
    Default,
}

impl ResponsePolicy {
    /// The policy a table entry's tips name.
    pub fn of(info: &CommandInfo) -> ResponsePolicy {
        if info.has(flags::RESPONSE_POLICY_ONE_SUCCEEDED) {
            ResponsePolicy::OneSucceeded
        } else if info.has(flags::RESPONSE_POLICY_ALL_SUCCEEDED) {
            ResponsePolicy::AllSucceeded
        } else if info.has(flags::RESPONSE_POLICY_AGG_LOGICAL_AND) {
            ResponsePolicy::AggLogicalAnd
        } else if info.has(flags::RESPONSE_POLICY_AGG_MIN) {
            ResponsePolicy::AggMin
        } else if info.has(flags::RESPONSE_POLICY_AGG_SUM) {
            ResponsePolicy::AggSum
        } else if info.has(flags::RESPONSE_POLICY_SPECIAL) {
            ResponsePolicy::Special
        } else {
            ResponsePolicy::Default
        }
    }
}

/// How the parts of a split command merge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SplitMerge {
    /// `MGET`: each part answers an array; values go back to their key's position.
    ByIndex,
    /// `MSET`: every part must answer `OK`.
    AllOk,
    /// `DEL`, `UNLINK`, `EXISTS`, `TOUCH`: the counts add up.
    Sum,
}

/// One per-slot part of a split command.
#[derive(Clone, Debug, PartialEq)]
pub struct SplitPart {
    /// The slot every key of this part hashes to.
    pub slot: u16,
    /// The command to send (same name, this slot's keys, values for `MSET`).
    pub cmd: Cmd,
    /// For each key of `cmd`, its position among the original command's keys.
    pub key_indices: Vec<usize>,
}

/// A multi-key command split by slot.
#[derive(Clone, Debug, PartialEq)]
pub struct SlotSplit {
    /// How the parts' replies merge.
    pub merge: SplitMerge,
    /// False for a read (`MGET`, `EXISTS`).
    pub write: bool,
    /// Number of keys of the original command.
    pub key_count: usize,
    /// The parts, in order of each slot's first key.
    pub parts: Vec<SplitPart>,
}

impl SlotSplit {
    /// Merges the parts' replies (one per part, in the order of [`parts`](Self::parts))
    /// into the reply the unsplit command would have given. The first error (an `Err` or
    /// an error reply) in part order is returned; a reply of the wrong shape is an
    /// [`Error::Protocol`].
    pub fn merge(&self, replies: Vec<Result<Value>>) -> Result<Value> {
        if replies.len() != self.parts.len() {
            return Err(Error::protocol(format!(
                "split command: {} replies for {} parts",
                replies.len(),
                self.parts.len()
            )));
        }
        let replies = successes(replies)?;
        match self.merge {
            SplitMerge::AllOk => match replies.into_iter().find(|v| !v.is_ok_status()) {
                Some(other) => Err(Error::protocol(format!(
                    "split MSET: a part answered {}",
                    other.describe()
                ))),
                None => Ok(Value::Okay),
            },
            SplitMerge::Sum => aggregate(replies, |a, b| a.checked_add(b)),
            SplitMerge::ByIndex => {
                let mut out = vec![Value::Nil; self.key_count];
                for (part, reply) in self.parts.iter().zip(replies) {
                    let Value::Array(values) = reply else {
                        return Err(Error::protocol(format!(
                            "split MGET: a part answered {}",
                            reply.describe()
                        )));
                    };
                    if values.len() != part.key_indices.len() {
                        return Err(Error::protocol(format!(
                            "split MGET: {} values for {} keys",
                            values.len(),
                            part.key_indices.len()
                        )));
                    }
                    for (&i, v) in part.key_indices.iter().zip(values) {
                        if let Some(slot) = out.get_mut(i) {
                            *slot = v;
                        }
                    }
                }
                Ok(Value::Array(out))
            }
        }
    }
}

/// The commands split by slot, and how their parts merge.
const SPLIT: [(&str, SplitMerge); 6] = [
    ("mget", SplitMerge::ByIndex),
    ("mset", SplitMerge::AllOk),
    ("del", SplitMerge::Sum),
    ("unlink", SplitMerge::Sum),
    ("exists", SplitMerge::Sum),
    ("touch", SplitMerge::Sum),
];

/// Where one command goes, and whether it may be re-sent after it may have run: the
/// three decisions a cluster client makes before sending a command
/// ([`refuse_connection_state`], [`route`], [`command_table::is_retry_safe`]), from one
/// look-up of the command in the table.
#[derive(Clone, Debug, PartialEq)]
pub struct Routed {
    /// Where it goes ([`route`]).
    pub route: Route,
    /// Whether it may be re-sent after a failure that left it perhaps executed
    /// ([`command_table::is_retry_safe`] with the config's opt-in).
    pub retry_safe: bool,
}

/// [`refuse_connection_state`], then [`route`], then [`command_table::is_retry_safe`]
/// (with `idempotent_writes`, the config's opt-in), with one table look-up.
pub fn route_request(cmd: &Cmd, idempotent_writes: bool) -> Result<Routed> {
    Router::new(idempotent_writes).route(cmd)
}

/// [`route_request`] for a run of commands (a pipeline): a command named like the one
/// before it (byte for byte) reuses its table entry, its connection-state check and, for
/// the same argument count, where its one key is, so a pipeline of a thousand `SET`s
/// looks `SET` up once.
#[derive(Debug)]
pub struct Router<'c> {
    /// What the previous command's name gave, when it depends on the name alone.
    last: Option<Known<'c>>,
    idempotent_writes: bool,
}

/// What a command name gave a [`Router`].
#[derive(Debug, Clone, Copy)]
struct Known<'c> {
    name: &'c [u8],
    entry: Option<Entry>,
    /// An argument count and [`command_table::single_key_at`] for it, once worked out.
    key_at: Option<(usize, Option<usize>)>,
    /// Whether a command of this name may be re-sent after it may have run, when that
    /// does not depend on its arguments.
    retry_safe: Option<bool>,
}

impl<'c> Router<'c> {
    /// A router; `idempotent_writes` is the config's opt-in (see [`route_request`]).
    pub fn new(idempotent_writes: bool) -> Router<'c> {
        Router {
            last: None,
            idempotent_writes,
        }
    }

    /// [`route_request`] of `cmd`.
    pub fn route(&mut self, cmd: &'c Cmd) -> Result<Routed> {
        let mut args = cmd.args();
        let name = args.next();
        let argc = cmd.argc();
        let known = match (self.last, name) {
            (Some(k), Some(name)) if k.name == name => k,
            _ => {
                let entry = lookup_entry(cmd);
                refuse_state(cmd, entry)?;
                let known = Known {
                    name: name.unwrap_or_default(),
                    entry,
                    key_at: None,
                    retry_safe: entry
                        .map(|e| retry_safe_by_name(e.info, self.idempotent_writes))
                        .unwrap_or(Some(false)),
                };
                self.last = match name {
                    Some(_) if entry.is_none_or(|e| e.is_by_name_alone()) => Some(known),
                    _ => None,
                };
                known
            }
        };
        let entry = known.entry;
        let retry_safe = known.retry_safe.unwrap_or_else(|| {
            entry.is_some_and(|e| is_retry_safe_with(cmd, e.info, self.idempotent_writes))
        });
        if let Some(e) = entry {
            // Most commands: one key at a fixed place, the same for every command of this
            // name and argument count.
            let key_at = match known.key_at {
                Some((n, at)) if n == argc => at,
                _ => {
                    let at = command_table::single_key_at(e, argc);
                    if let Some(last) = &mut self.last {
                        last.key_at = Some((argc, at));
                    }
                    at
                }
            };
            if let Some(key) = key_at.and_then(|i| args.nth(i - 1)) {
                return Ok(Routed {
                    route: Route::Slot {
                        slot: slot(key),
                        write: !e.info.is_readonly(),
                    },
                    retry_safe,
                });
            }
        }
        Ok(Routed {
            route: route_with(cmd, entry)?,
            retry_safe,
        })
    }
}

/// Where `cmd` goes (see the module docs). Errors: [`Error::CrossSlot`] for keys in
/// different slots of a command that cannot be split; [`Error::InvalidRequest`] when a
/// known command's keys cannot be found (wrong number of arguments, a bad key count).
pub fn route(cmd: &Cmd) -> Result<Route> {
    route_with(cmd, lookup_entry(cmd))
}

/// [`route`], with `cmd`'s table entry already looked up.
fn route_with(cmd: &Cmd, entry: Option<Entry>) -> Result<Route> {
    let Some(entry) = entry else {
        // Unknown command: its first argument is the likeliest key (see the module docs).
        return Ok(match cmd.arg_at(1) {
            Some(key) => Route::Slot {
                slot: slot(key),
                write: true,
            },
            None => Route::AnyPrimary { write: true },
        });
    };
    let info = entry.info;
    let write = !info.is_readonly();
    if let Some(key) = single_key(cmd, entry) {
        // Most commands: one key, found without collecting the arguments.
        return Ok(Route::Slot {
            slot: slot(key),
            write,
        });
    }
    let keys = keys_of(cmd, entry)?;
    if keys.is_empty() {
        return Ok(if info.has(flags::REQUEST_POLICY_ALL_SHARDS) {
            Route::AllPrimaries(ResponsePolicy::of(info))
        } else if info.has(flags::REQUEST_POLICY_ALL_NODES) {
            Route::AllNodes(ResponsePolicy::of(info))
        } else if info.has(flags::REQUEST_POLICY_SPECIAL) {
            // `SCAN`: its cursor belongs to one node; sent to any primary, the next call's
            // cursor would be read by another one and the iteration silently skip keys.
            return Err(Error::InvalidRequest(format!(
                "{}: cannot be routed in a cluster as it is (iterate every primary with the \
                 cluster scan, or send it to one node)",
                cmd.name()
            )));
        } else {
            Route::AnyPrimary { write }
        });
    }
    let first = slot(keys[0]);
    let Some(other) = keys.iter().map(|k| slot(k)).find(|&s| s != first) else {
        return Ok(Route::Slot { slot: first, write });
    };
    match SPLIT.iter().find(|(name, _)| *name == info.name) {
        Some(&(_, merge)) => split(cmd, merge, write).map(Route::Split),
        None => Err(Error::CrossSlot {
            command: cmd.name(),
            first,
            other,
        }),
    }
}

/// Refuses a command that would change the state of a cluster client's node connections
/// (they are shared by every request to that node, reopened at will, and some are
/// replicas in `READONLY` mode), naming what to use instead ([`Error::InvalidRequest`]):
/// `WATCH`/`MULTI`/`EXEC`/`DISCARD`/`UNWATCH`, `SELECT`, `HELLO`, `AUTH`, `RESET`,
/// `READONLY`/`READWRITE`/`ASKING`, the `SUBSCRIBE` family, `MONITOR`, `SYNC`/`PSYNC`,
/// `QUIT`, `CLIENT REPLY`, `CLIENT TRACKING`.
pub fn refuse_connection_state(cmd: &Cmd) -> Result<()> {
    refuse_state(cmd, lookup_entry(cmd))
}

/// [`refuse_connection_state`], by the table entry's name (every command it refuses is in
/// the table, checked by a test; a command the table does not know is none of them).
fn refuse_state(cmd: &Cmd, entry: Option<Entry>) -> Result<()> {
    let Some(entry) = entry else {
        return Ok(());
    };
    let instead = match entry.info.name {
        "watch" | "unwatch" | "multi" | "exec" | "discard" => {
            "use the cluster client's transaction (all keys in one slot)"
        }
        "select" => "a cluster has only database 0",
        "hello" | "reset" | "auth" => "set the protocol and credentials in the Config",
        "readonly" | "readwrite" | "asking" => {
            "the cluster client sends these itself (set the read policy with ReadFrom)"
        }
        "subscribe" | "psubscribe" | "ssubscribe" | "unsubscribe" | "punsubscribe"
        | "sunsubscribe" => "use the cluster client's pub/sub",
        "quit" => "drop the connection",
        "monitor" | "sync" | "psync" | "client|reply" | "client|tracking" => {
            "open a plain connection to one node"
        }
        _ => return Ok(()),
    };
    Err(Error::InvalidRequest(format!(
        "{} changes the state of the cluster client's node connections; {instead}",
        cmd.name()
    )))
}

/// The one slot of `cmd`'s keys: `None` for a keyless command, [`Error::CrossSlot`] for
/// keys in several slots (whatever the command: for a pipeline or a transaction, where
/// nothing is split). A command the table does not know is taken as keyed by its first
/// argument, as in [`route`].
pub fn slot_of(cmd: &Cmd) -> Result<Option<u16>> {
    let Some(entry) = lookup_entry(cmd) else {
        return Ok(cmd.arg_at(1).map(slot));
    };
    if let Some(key) = single_key(cmd, entry) {
        return Ok(Some(slot(key)));
    }
    let keys = keys_of(cmd, entry)?;
    let Some(first) = keys.first().map(|k| slot(k)) else {
        return Ok(None);
    };
    match keys.iter().map(|k| slot(k)).find(|&s| s != first) {
        Some(other) => Err(Error::CrossSlot {
            command: cmd.name(),
            first,
            other,
        }),
        None => Ok(Some(first)),
    }
}

/// Splits `MGET k...`/`DEL k...`/... (keys from the first argument on) and `MSET k v ...`
/// (key and value pairs) by slot.
fn split(cmd: &Cmd, merge: SplitMerge, write: bool) -> Result<SlotSplit> {
    let name = cmd.name();
    let step = if merge == SplitMerge::AllOk { 2 } else { 1 };
    let args: Vec<&[u8]> = cmd.args().skip(1).collect();
    if args.is_empty() || args.len() % step != 0 {
        return Err(Error::InvalidRequest(format!(
            "{name}: wrong number of arguments"
        )));
    }
    let mut parts: Vec<SplitPart> = Vec::new();
    for (i, group) in args.chunks(step).enumerate() {
        let s = slot(group[0]);
        let part = match parts.iter_mut().position(|p| p.slot == s) {
            Some(p) => &mut parts[p],
            None => {
                parts.push(SplitPart {
                    slot: s,
                    cmd: Cmd::new(&name),
                    key_indices: Vec::new(),
                });
                let last = parts.len() - 1;
                &mut parts[last]
            }
        };
        for a in group {
            part.cmd.arg(*a);
        }
        part.key_indices.push(i);
    }
    Ok(SlotSplit {
        merge,
        write,
        key_count: args.len() / step,
        parts,
    })
}

/// Merges the replies of a command sent to several nodes (one per node, in any fixed
/// order) by `policy`. Errors: the first error for policies that need every node, all of
/// them failing for [`ResponsePolicy::OneSucceeded`], an [`Error::Conversion`] for
/// replies an aggregate cannot combine, an [`Error::InvalidRequest`] for no reply at all.
pub fn merge(policy: ResponsePolicy, replies: Vec<Result<Value>>) -> Result<Value> {
    if replies.is_empty() {
        return Err(Error::InvalidRequest(
            "no node to send the command to".into(),
        ));
    }
    match policy {
        ResponsePolicy::OneSucceeded => {
            let mut first_err = None;
            for r in replies {
                match r.and_then(Value::into_result) {
                    Ok(v) => return Ok(v),
                    Err(e) => {
                        first_err.get_or_insert(e);
                    }
                }
            }
            Err(first_err.unwrap_or_else(|| Error::protocol("no reply")))
        }
        ResponsePolicy::AllSucceeded => first(successes(replies)?),
        ResponsePolicy::AggLogicalAnd => aggregate(successes(replies)?, |a, b| {
            Some(i64::from(a != 0 && b != 0))
        }),
        ResponsePolicy::AggMin => aggregate(successes(replies)?, |a, b| Some(a.min(b))),
        ResponsePolicy::AggSum => aggregate(successes(replies)?, |a, b| a.checked_add(b)),
        ResponsePolicy::Special => Ok(Value::Array(successes(replies)?)),
        ResponsePolicy::Default => {
            let replies = successes(replies)?;
            if replies
                .iter()
                .all(|v| matches!(v, Value::Array(_) | Value::Set(_)))
            {
                let mut out = Vec::new();
                for v in replies {
                    if let Value::Array(items) | Value::Set(items) = v {
                        out.extend(items);
                    }
                }
                Ok(Value::Array(out))
            } else {
                Ok(replies
                    .into_iter()
                    .find(|v| *v != Value::Nil)
                    .unwrap_or(Value::Nil))
            }
        }
    }
}

/// The replies, or the first error among them (an `Err` or a nested error reply).
fn successes(replies: Vec<Result<Value>>) -> Result<Vec<Value>> {
    replies
        .into_iter()
        .map(|r| r.and_then(Value::into_result))
        .collect()
}

fn first(replies: Vec<Value>) -> Result<Value> {
    replies
        .into_iter()
        .next()
        .ok_or_else(|| Error::protocol("no reply"))
}

/// Folds integer replies with `op`, element-wise through arrays of equal length.
fn aggregate(replies: Vec<Value>, op: fn(i64, i64) -> Option<i64>) -> Result<Value> {
    let mut it = replies.into_iter();
    let acc = it.next().ok_or_else(|| Error::protocol("no reply"))?;
    it.try_fold(acc, |acc, v| combine(acc, v, op))
}

fn combine(a: Value, b: Value, op: fn(i64, i64) -> Option<i64>) -> Result<Value> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => op(x, y)
            .map(Value::Int)
            .ok_or_else(|| Error::conversion("integers to aggregate", "an overflow")),
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .into_iter()
            .zip(y)
            .map(|(a, b)| combine(a, b, op))
            .collect::<Result<Vec<_>>>()
            .map(Value::Array),
        (a, b) => Err(Error::conversion(
            "integers (or arrays of them) to aggregate",
            format!("{} and {}", a.describe(), b.describe()),
        )),
    }
}

#[cfg(test)]
mod tests;
