//! Which arguments of a command are keys.
//!
//! Cluster routing hashes a command's keys to pick its node, so it must find them for every
//! command, including those whose keys move with the arguments (`EVAL script 2 k1 k2 a`,
//! `XREAD COUNT 5 STREAMS s1 s2 0 0`, `ZUNIONSTORE dst 2 a b WEIGHTS 1 2`,
//! `GEORADIUS ... STORE dst`). Redis 7 describes them with *key specifications*, which the
//! generated table records per command and subcommand: where the search begins (an argument
//! index, or the argument after a keyword) and how keys are found from there (a range, or a
//! count given by an argument). [`keys`] applies them the way the server does for
//! `COMMAND GETKEYS`. The three commands whose specs say "unknown" or "incomplete" (`SORT`,
//! `SORT_RO`, `MIGRATE`) get their own rules, the server's own `getkeys` procedures.
//!
//! Pure and panic-free on any arguments: a command the table does not know, a wrong number
//! of arguments or a key count that is not a number gives an error (the key positions cannot
//! be determined; the server would refuse the command anyway); a command without keys gives
//! an empty list.

use super::{lookup_entry, CommandInfo, Entry};
use crate::error::{Error, Result};
use crate::Cmd;

/// One key specification: the keys it finds and what the command does to them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeySpec {
    /// Bits from [`key_flags`](super::key_flags) (`RO`, `RW`, `access`, `not_key`, ...).
    pub flags: u16,
    /// Where the search for the first key begins.
    pub begin_search: BeginSearch,
    /// How the keys are found from there.
    pub find_keys: FindKeys,
}

/// Where a key specification's search for its first key begins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BeginSearch {
    /// The first key is this argument (0 is the command name; for a subcommand, 1 is the
    /// subcommand name).
    Index(i32),
    /// The first key follows the first argument equal to `keyword` (any case), searched from
    /// argument `start_from` towards the end, or if negative from `argc + start_from`
    /// towards the start. No such argument: this spec finds no key.
    Keyword {
        /// The keyword, upper case (`"STREAMS"`, `"STORE"`, `"KEYS"`).
        keyword: &'static str,
        /// The argument to search from (negative: counted from the end, searched backwards).
        start_from: i32,
    },
    /// The server does not say (the command has its own rules).
    Unknown,
}

/// How a key specification finds its keys from the first one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FindKeys {
    /// Keys from the first one to `last_key` (relative to the first; negative counts from
    /// the end, -1 being the last argument), every `key_step` arguments. With a negative
    /// `last_key` and a `limit` above 1, only the first `1/limit` of the remaining
    /// arguments are keys (`XREAD ... STREAMS k1 k2 id1 id2` has limit 2).
    Range {
        /// Last key, relative to the first key (negative: from the end).
        last_key: i32,
        /// Distance between keys (2 for `MSET k v k v`).
        key_step: i32,
        /// With a negative `last_key`: divide the remaining arguments by this.
        limit: i32,
    },
    /// The argument at `keynum_index` (relative to the begin search) is the number of keys;
    /// they start at `first_key` (relative too), every `key_step` arguments.
    Keynum {
        /// Position of the key count, relative to the begin search.
        keynum_index: i32,
        /// Position of the first key, relative to the begin search.
        first_key: i32,
        /// Distance between keys.
        key_step: i32,
    },
    /// The server does not say (the command has its own rules).
    Unknown,
}

// Short constructors for the generated table.
pub(super) const fn spec(flags: u16, begin_search: BeginSearch, find_keys: FindKeys) -> KeySpec {
    KeySpec {
        flags,
        begin_search,
        find_keys,
    }
}
pub(super) const fn index(i: i32) -> BeginSearch {
    BeginSearch::Index(i)
}
pub(super) const fn keyword(keyword: &'static str, start_from: i32) -> BeginSearch {
    BeginSearch::Keyword {
        keyword,
        start_from,
    }
}
pub(super) const fn range(last_key: i32, key_step: i32, limit: i32) -> FindKeys {
    FindKeys::Range {
        last_key,
        key_step,
        limit,
    }
}
pub(super) const fn keynum(keynum_index: i32, first_key: i32, key_step: i32) -> FindKeys {
    FindKeys::Keynum {
        keynum_index,
        first_key,
        key_step,
    }
}
pub(super) const UNKNOWN_BEGIN: BeginSearch = BeginSearch::Unknown;
pub(super) const UNKNOWN_FIND: FindKeys = FindKeys::Unknown;

/// The key arguments of `cmd`, in the order the server lists them for `COMMAND GETKEYS`
/// (a key named twice is listed twice). Sharded pub/sub channels (`SPUBLISH ch msg`,
/// flagged `not_key`) are included: they are hashed to a slot like keys.
///
/// `Ok(vec![])` for a command without keys (`PING`, `EVAL s 0`, `SUNSUBSCRIBE`). An error
/// ([`Error::InvalidRequest`], naming the command only) when the positions cannot be
/// determined: a command or subcommand the table does not know, a wrong number of
/// arguments, a key count that is not a non-negative number, or keys announced beyond the
/// last argument.
pub fn keys(cmd: &Cmd) -> Result<Vec<&[u8]>> {
    match lookup_entry(cmd) {
        Some(entry) => keys_of(cmd, entry),
        None => Err(invalid(cmd, "is not in the command table")),
    }
}

/// [`keys`] for a command whose table entry the caller already has (`entry` must be
/// [`lookup_entry`]'s answer for `cmd`).
pub fn keys_of(cmd: &Cmd, entry: Entry) -> Result<Vec<&[u8]>> {
    let info = entry.info;
    if entry.unknown_subcommand {
        // A container (`OBJECT`, `XINFO`, ...) whose subcommand the table does not know.
        return Err(invalid(
            cmd,
            "has a subcommand that is not in the command table",
        ));
    }
    if !arity_ok(info, cmd.argc()) {
        return Err(invalid(cmd, "has the wrong number of arguments"));
    }
    let args: Vec<&[u8]> = cmd.args().collect();
    let argc = args.len();
    let positions = match info.name {
        "sort" => sort_keys(&args),
        "sort_ro" => vec![1],
        "migrate" => migrate_keys(&args),
        _ if info.key_specs.is_empty() => legacy_keys(info, argc),
        _ => {
            let mut out = Vec::new();
            let optional = info.has(super::flags::NO_MANDATORY_KEYS);
            for s in info.key_specs {
                spec_keys(s, &args, (optional, info.arity), &mut out)
                    .map_err(|why| invalid(cmd, why))?;
            }
            out
        }
    };
    Ok(positions
        .into_iter()
        .filter_map(|i| args.get(i).copied())
        .collect())
}

/// The one key of a command that has exactly one, at a fixed position (`GET k`, `SET k v
/// ...`, `HSET k f v`, `INCR k`: most commands), found without collecting the arguments;
/// `None` for every other command (no key, several, keys that move with the arguments,
/// a wrong number of arguments), whose keys [`keys_of`] finds. When it is `Some`, it is
/// what [`keys_of`] would list alone. `entry` must be [`lookup_entry`]'s answer for `cmd`.
pub fn single_key(cmd: &Cmd, entry: Entry) -> Option<&[u8]> {
    cmd.arg_at(single_key_at(entry, cmd.argc())?)
}

/// Where [`single_key`] finds the key of a command with `argc` arguments (the name
/// included) whose table entry is `entry`, without looking at the command: the position
/// depends on the entry and the argument count alone, so a caller routing many commands
/// of one name works it out once per name and count.
pub fn single_key_at(entry: Entry, argc: usize) -> Option<usize> {
    let info = entry.info;
    if entry.unknown_subcommand || !arity_ok(info, argc) {
        return None;
    }
    if matches!(info.name, "sort" | "sort_ro" | "migrate") {
        return None;
    }
    let [KeySpec {
        begin_search: BeginSearch::Index(i),
        find_keys: FindKeys::Range { last_key: 0, .. },
        ..
    }] = info.key_specs
    else {
        return None;
    };
    // As `spec_keys` finds it: first = last = i, within the arguments.
    usize::try_from(*i).ok().filter(|&i| i >= 1 && i < argc)
}

/// Whether `argc` arguments (the name included) fit the entry's arity.
fn arity_ok(info: &CommandInfo, argc: usize) -> bool {
    match usize::try_from(info.arity) {
        Ok(n) => argc == n,
        Err(_) => argc >= info.arity.unsigned_abs() as usize,
    }
}

fn invalid(cmd: &Cmd, why: &str) -> Error {
    // The name only: other arguments may be secrets (`MIGRATE ... AUTH pw`).
    let mut name = cmd.name();
    name.truncate(64);
    Error::InvalidRequest(format!("key positions of {name}: the command {why}"))
}

/// Appends the positions one key spec finds, as the server's `getKeysUsingKeySpecs` does.
/// An empty range is not an error when the command may have no keys: it is flagged
/// `no_mandatory_keys`, or its arity allows stopping before its first key (`SUNSUBSCRIBE`;
/// not `PFMERGE dst`, which has a key, and which the server refuses like this).
fn spec_keys(
    spec: &KeySpec,
    args: &[&[u8]],
    (optional, arity): (bool, i32),
    out: &mut Vec<usize>,
) -> std::result::Result<(), &'static str> {
    let argc = args.len() as i64;
    let first = match spec.begin_search {
        BeginSearch::Index(i) => i64::from(i),
        BeginSearch::Keyword {
            keyword,
            start_from,
        } => match find_keyword(args, keyword, start_from) {
            Some(i) => i as i64 + 1,
            None => return Ok(()), // optional keyword absent: no key from this spec
        },
        BeginSearch::Unknown => return Err("has key positions the table cannot describe"),
    };
    let (first, last, step) = match spec.find_keys {
        FindKeys::Range {
            last_key,
            key_step,
            limit,
        } => {
            let last = if last_key >= 0 {
                first + i64::from(last_key)
            } else if limit <= 1 {
                argc + i64::from(last_key)
            } else {
                first + ((argc - first) / i64::from(limit) + i64::from(last_key))
            };
            (first, last, key_step)
        }
        FindKeys::Keynum {
            keynum_index,
            first_key,
            key_step,
        } => {
            let at = first + i64::from(keynum_index);
            let n = usize::try_from(at)
                .ok()
                .and_then(|at| args.get(at))
                .and_then(|a| std::str::from_utf8(a).ok())
                .and_then(|s| s.parse::<i64>().ok())
                .filter(|n| *n >= 0)
                .ok_or("has a key count that is not a non-negative number")?;
            if n == 0 {
                return Ok(());
            }
            let first = first + i64::from(first_key);
            let last = n
                .checked_sub(1)
                .and_then(|k| k.checked_mul(i64::from(key_step.max(1))))
                .and_then(|k| k.checked_add(first))
                .ok_or("has a key count out of range")?;
            (first, last, key_step)
        }
        FindKeys::Unknown => return Err("has key positions the table cannot describe"),
    };
    let optional =
        optional || (out.is_empty() && arity < 0 && i64::from(arity.unsigned_abs()) <= first);
    if optional && last < first {
        return Ok(());
    }
    if first < 1 || last < first || last >= argc {
        return Err("announces keys beyond its arguments");
    }
    let step = usize::try_from(step.max(1)).unwrap_or(1);
    // In range: 1 <= first <= last < argc, which fits in usize.
    out.extend((first as usize..=last as usize).step_by(step));
    Ok(())
}

/// The position of `keyword`, searched as `BeginSearch::Keyword` says. Like the server, the
/// search never looks at the name (0) nor, forwards, at the last argument.
fn find_keyword(args: &[&[u8]], keyword: &str, start_from: i32) -> Option<usize> {
    let argc = args.len() as i64;
    let is = |i: &i64| {
        usize::try_from(*i)
            .ok()
            .and_then(|i| args.get(i))
            .is_some_and(|a| a.eq_ignore_ascii_case(keyword.as_bytes()))
    };
    let found = if start_from > 0 {
        (i64::from(start_from)..argc - 1).find(is)
    } else {
        (1..=(argc + i64::from(start_from)).min(argc - 1))
            .rev()
            .find(is)
    };
    found.and_then(|i| usize::try_from(i).ok())
}

/// The legacy `first_key`/`last_key`/`key_step` (for a command without key specs).
fn legacy_keys(info: &CommandInfo, argc: usize) -> Vec<usize> {
    let (Ok(first), Ok(step)) = (
        usize::try_from(info.first_key),
        usize::try_from(info.key_step),
    ) else {
        return Vec::new();
    };
    if first == 0 {
        return Vec::new();
    }
    let last = match usize::try_from(info.last_key) {
        Ok(l) => l,
        Err(_) => match argc.checked_sub(info.last_key.unsigned_abs() as usize) {
            Some(l) => l,
            None => return Vec::new(),
        },
    };
    (first..=last.min(argc.saturating_sub(1)))
        .step_by(step.max(1))
        .collect()
}

/// `SORT key [BY p] [LIMIT o c] [GET p ...] [ASC|DESC] [ALPHA] [STORE dst]`: the key, and
/// the last `STORE` destination (the server's `sortGetKeys`; `BY`/`GET` patterns name keys
/// derived from the data, which no client can know).
fn sort_keys(args: &[&[u8]]) -> Vec<usize> {
    let mut store = None;
    let mut i = 2;
    while i < args.len() {
        let a = args[i];
        if a.eq_ignore_ascii_case(b"LIMIT") {
            i += 2;
        } else if a.eq_ignore_ascii_case(b"GET") || a.eq_ignore_ascii_case(b"BY") {
            i += 1;
        } else if a.eq_ignore_ascii_case(b"STORE") && i + 1 < args.len() {
            store = Some(i + 1);
        }
        i += 1;
    }
    std::iter::once(1).chain(store).collect()
}

/// `MIGRATE host port key|"" db timeout [COPY] [REPLACE] [AUTH pw] [AUTH2 user pw]
/// [KEYS k ...]`: the key, or with `KEYS` every argument after it (the server's
/// `migrateGetKeys`).
fn migrate_keys(args: &[&[u8]]) -> Vec<usize> {
    let mut i = 6;
    while i < args.len() {
        let a = args[i];
        if a.eq_ignore_ascii_case(b"KEYS") {
            return (i + 1..args.len()).collect();
        } else if a.eq_ignore_ascii_case(b"AUTH") {
            i += 1;
        } else if a.eq_ignore_ascii_case(b"AUTH2") {
            i += 2;
        }
        i += 1;
    }
    vec![3]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(args: &[&str]) -> Cmd {
        let mut c = Cmd::new(args.first().copied().unwrap_or_default());
        for a in &args[1..] {
            c.arg(*a);
        }
        c
    }

    fn k(args: &[&str]) -> Result<Vec<String>> {
        let c = c(args);
        let keys = keys(&c)?;
        Ok(keys
            .iter()
            .map(|k| String::from_utf8_lossy(k).into_owned())
            .collect())
    }

    /// `single_key` (the routing fast path) agrees with `keys_of` for every command and
    /// subcommand of the table, with every argument count up to 8: where it answers, the
    /// command has that key and no other.
    #[test]
    fn single_key_agrees_with_keys_of() {
        let mut answered = 0;
        for info in crate::command_table::all() {
            let words: Vec<&str> = info.name.split('|').collect();
            for extra in 0..8 {
                let mut args = words.clone();
                let names: Vec<String> = (0..extra).map(|i| format!("a{i}")).collect();
                args.extend(names.iter().map(String::as_str));
                let c = c(&args);
                let Some(entry) = lookup_entry(&c) else {
                    continue;
                };
                if let Some(key) = single_key(&c, entry) {
                    answered += 1;
                    assert_eq!(keys_of(&c, entry).ok(), Some(vec![key]), "{args:?}");
                }
            }
        }
        assert!(
            answered > 100,
            "the fast path answers for most keyed commands"
        );
    }

    fn ok(args: &[&str], want: &[&str]) {
        let want: Vec<String> = want.iter().map(|w| w.to_string()).collect();
        assert_eq!(k(args).ok(), Some(want), "{args:?}");
    }

    #[test]
    fn fixed_and_movable_keys() {
        ok(&["GET", "k"], &["k"]);
        ok(&["mset", "a", "1", "b", "2"], &["a", "b"]);
        ok(&["BLPOP", "a", "b", "0"], &["a", "b"]);
        ok(&["PING"], &[]);
        ok(&["EVAL", "s", "2", "k1", "k2", "a"], &["k1", "k2"]);
        ok(&["EVALSHA", "s", "0", "a"], &[]);
        ok(&["FCALL", "f", "1", "k", "a"], &["k"]);
        ok(
            &["XREAD", "COUNT", "1", "STREAMS", "a", "b", "0", "0"],
            &["a", "b"],
        );
        let group = ["XREADGROUP", "GROUP", "STREAMS", "c", "STREAMS", "s", ">"];
        ok(&group, &["s"]);
        ok(
            &["ZUNIONSTORE", "d", "2", "a", "b", "WEIGHTS", "1", "2"],
            &["d", "a", "b"],
        );
        ok(&["ZINTER", "2", "a", "b"], &["a", "b"]);
        ok(&["ZDIFF", "1", "a"], &["a"]);
        ok(&["LMPOP", "2", "a", "b", "LEFT"], &["a", "b"]);
        ok(&["BZMPOP", "0", "1", "a", "MIN"], &["a"]);
        ok(&["SORT", "l", "BY", "STORE", "STORE", "d"], &["l", "d"]);
        ok(&["SORT_RO", "l", "GET", "#"], &["l"]);
        ok(&["MIGRATE", "h", "1", "k", "0", "5"], &["k"]);
        let migrate = [
            "MIGRATE", "h", "1", "", "0", "5", "AUTH", "KEYS", "KEYS", "a", "b",
        ];
        ok(&migrate, &["a", "b"]);
        ok(
            &["GEORADIUS", "g", "0", "0", "1", "km", "STORE", "d"],
            &["g", "d"],
        );
        ok(
            &["GEORADIUSBYMEMBER", "g", "m", "1", "km", "STOREDIST", "d"],
            &["g", "d"],
        );
        ok(&["XINFO", "STREAM", "s"], &["s"]);
        ok(&["object", "encoding", "k"], &["k"]);
        ok(&["MEMORY", "USAGE", "k", "SAMPLES", "5"], &["k"]);
        // Sharded channels are hashed like keys.
        ok(&["SPUBLISH", "ch", "m"], &["ch"]);
        ok(&["SSUBSCRIBE", "a", "b"], &["a", "b"]);
        ok(&["SUNSUBSCRIBE"], &[]);
    }

    #[test]
    fn undeterminable_keys_are_errors() {
        for bad in [
            &["NOSUCH", "k"][..],
            &["XINFO", "NOSUCH", "k"],
            &["GET"],
            &["GET", "a", "b"],
            &["EVAL", "s", "x", "k"],
            &["EVAL", "s", "-1", "k"],
            &["EVAL", "s", "3", "k"],
            &["EVAL", "s", "99999999999999999999", "k"],
            &["EVAL", "s", "9223372036854775807", "k"],
            &["XREAD", "STREAMS"],
        ] {
            let e = k(bad).err();
            assert!(
                matches!(e, Some(Error::InvalidRequest(_))),
                "{bad:?}: {e:?}"
            );
        }
        assert!(keys(&Cmd::default()).is_err());
        // No secret in the message.
        let e = k(&["MIGRATE", "h", "p", "secret"])
            .err()
            .map(|e| e.to_string());
        assert!(e.is_some_and(|e| e.contains("MIGRATE") && !e.contains("secret")));
    }

    /// Every command of the table, with argument lists made of words that steer the key
    /// search (keywords, counts, extremes): never a panic, and keys are arguments.
    #[test]
    fn never_panics_on_any_command() {
        let words = [
            "",
            "0",
            "1",
            "2",
            "-1",
            "-2",
            "x",
            "STREAMS",
            "KEYS",
            "STORE",
            "STOREDIST",
            "BY",
            "GET",
            "LIMIT",
            "AUTH",
            "AUTH2",
            "9223372036854775807",
            "-9223372036854775808",
            "2147483648",
        ];
        for info in super::super::all() {
            let names: Vec<&str> = info.name.split('|').collect();
            for len in 0..8 {
                for w in 0..words.len() {
                    let mut args = names.clone();
                    args.extend((0..len).map(|i| words[(w + i * 7) % words.len()]));
                    let c = c(&args);
                    if let Ok(ks) = keys(&c) {
                        let all: Vec<&[u8]> = c.args().skip(1).collect();
                        assert!(ks.iter().all(|k| all.contains(k)), "{args:?}");
                    }
                }
            }
        }
    }
}
