//! What the server says about each command, known without asking it.
//!
//! Some client decisions depend on which command is being sent, and must be made before
//! (or without) a round trip:
//!
//! - **Safe retries.** After a connection fails with a command written but no reply read,
//!   the command may or may not have run. It is sent again only if that cannot do harm
//!   ([`is_retry_safe`]); otherwise the caller gets an error saying it may have executed.
//! - **Blocking commands.** `BLPOP k 30`, `XREAD BLOCK 5000 ...` and `WAIT 1 0` legitimately
//!   hold their reply for as long as their own timeout argument says, so the default
//!   response timeout must not cut them; [`block_time`] reads that argument.
//! - **Cluster routing.** [`keys`] finds a command's key arguments from the Redis 7 key
//!   specifications ([`CommandInfo::key_specs`]), including keys that move with the
//!   arguments ([`flags::MOVABLEKEYS`]: `EVAL` numkeys, `XREAD ... STREAMS`, ...); the
//!   request/response policy tips tell which node(s) a command goes to and how replies are
//!   merged.
//!
//! The table (`generated.rs`) is generated from a live server's `COMMAND` reply by
//! `scripts/gen_command_table.py`, for the version in [`SERVER_VERSION`]; it lists every
//! command and subcommand, subcommands named as Redis names them (`"client|kill"`). Commands
//! it does not know (newer servers, modules) get `None` from the lookups and the
//! conservative answer from the decisions: not retry-safe, not blocking unless known by name.
//! Everything here is pure: no I/O, no allocation on lookup.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::OnceLock;
use std::time::Duration;

use crate::Cmd;

mod generated;
mod keys;

pub use generated::{flags, key_flags, SERVER_VERSION};
pub use keys::{keys, keys_of, single_key, single_key_at, BeginSearch, FindKeys, KeySpec};

/// One command or subcommand, as the server's `COMMAND` reply describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CommandInfo {
    /// Lower-case name; a subcommand is `"container|sub"` (e.g. `"client|kill"`).
    pub name: &'static str,
    /// Number of arguments, the name included (and the subcommand name, for a subcommand);
    /// negative `-n` means "at least `n`".
    pub arity: i32,
    /// Bits from [`flags`]: command flags and the cluster/nondeterminism tips.
    pub flags: u32,
    /// Position of the first key (0 = no keys), from the legacy key fields of `COMMAND`.
    pub first_key: i32,
    /// Position of the last key; negative counts from the end (-1 = last argument).
    pub last_key: i32,
    /// Step between keys (e.g. 2 for `MSET k v k v`).
    pub key_step: i32,
    /// The Redis 7 key specifications, in the server's order (see [`keys`]).
    pub key_specs: &'static [KeySpec],
}

impl CommandInfo {
    /// Whether every bit of `flag` (one of [`flags`], or several or-ed) is set.
    pub fn has(&self, flag: u32) -> bool {
        self.flags & flag == flag
    }

    /// The command only reads keys (`readonly`).
    pub fn is_readonly(&self) -> bool {
        self.has(flags::READONLY)
    }

    /// The command may modify keys (`write`).
    pub fn is_write(&self) -> bool {
        self.has(flags::WRITE)
    }

    /// The command may block (`blocking`; `XREAD` only does with `BLOCK`). Note that `WAIT`
    /// does not carry this flag although it blocks; [`block_time`] knows it by name.
    pub fn is_blocking(&self) -> bool {
        self.has(flags::BLOCKING)
    }

    /// The command is administrative (`admin`).
    pub fn is_admin(&self) -> bool {
        self.has(flags::ADMIN)
    }

    /// The command is part of Pub/Sub (`pubsub`).
    pub fn is_pubsub(&self) -> bool {
        self.has(flags::PUBSUB)
    }
}

/// Longer than any name in the table (checked by a test): a longer query is not in it.
const MAX_NAME: usize = 64;

/// The entry named by `parts` joined by `|`, in any case.
///
/// Every routed command looks itself up a few times (keys, retry safety, blocking), so
/// this is on the hot path: the query is lower-cased once into a stack buffer and the
/// binary search compares plain byte slices.
fn find(parts: &[&[u8]]) -> Option<&'static CommandInfo> {
    generated::COMMANDS.get(position(parts)?)
}

/// The index in the table of the entry named by `parts` (see [`find`]).
fn position(parts: &[&[u8]]) -> Option<usize> {
    let mut buf = [0u8; MAX_NAME];
    let mut len = 0;
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            *buf.get_mut(len)? = b'|';
            len += 1;
        }
        let dst = buf.get_mut(len..len + part.len())?;
        for (d, s) in dst.iter_mut().zip(part.iter()) {
            *d = s.to_ascii_lowercase();
        }
        len += part.len();
    }
    index().get(&buf[..len]).map(|&i| usize::from(i))
}

/// Table position by name, built on first use. A hash lookup of a short name is a few
/// dozen instructions; the binary search it replaced cost over a thousand (nine
/// `memcmp` calls), paid several times per routed command.
fn index() -> &'static HashMap<&'static [u8], u16, BuildHasherDefault<Fnv>> {
    static INDEX: OnceLock<HashMap<&'static [u8], u16, BuildHasherDefault<Fnv>>> = OnceLock::new();
    INDEX.get_or_init(|| {
        generated::COMMANDS
            .iter()
            .enumerate()
            .filter_map(|(i, e)| Some((e.name.as_bytes(), u16::try_from(i).ok()?)))
            .collect()
    })
}

/// FNV-1a: command names are short and not chosen by an attacker to collide (a lookup
/// of an unknown name just misses), so a simple fast hash beats SipHash here.
#[derive(Default)]
struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

/// Whether the entry at `i` is a container (`client`, `config`, ...): its subcommands
/// (`client|kill`) sort right after it, since `|` sorts after every character used in
/// command names (checked by a test).
fn is_container(i: usize) -> bool {
    let table: &'static [CommandInfo] = &generated::COMMANDS;
    match (table.get(i), table.get(i + 1)) {
        (Some(top), Some(next)) => next
            .name
            .strip_prefix(top.name)
            .is_some_and(|rest| rest.starts_with('|')),
        _ => false,
    }
}

/// The table entry for `cmd`, by its name (any case). For a container command (`CLIENT`,
/// `CONFIG`, `XINFO`, ...) the second argument picks the subcommand (`"client|kill"`); if
/// that subcommand is not in the table, or absent, the container's own entry is returned
/// (usually with no flags at all). `None` for a command the table does not know.
pub fn lookup(cmd: &Cmd) -> Option<&'static CommandInfo> {
    lookup_entry(cmd).map(|e| e.info)
}

/// A command's table entry as [`lookup_entry`] found it: what the decisions about one
/// command ([`keys_of`], [`is_retry_safe_with`], cluster routing) need, looked up once and
/// passed along rather than looked up again by each of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// The entry ([`lookup`]'s answer).
    pub info: &'static CommandInfo,
    /// `cmd` is a container (`OBJECT`, `XINFO`, ...) named with a subcommand the table
    /// does not know: `info` is the container's own entry, and its key positions are
    /// unknown.
    pub unknown_subcommand: bool,
    /// The command has subcommands (`CLIENT`, `CONFIG`, ...): its entry depends on the
    /// second argument too, not on the name alone.
    pub container: bool,
}

impl Entry {
    /// Whether every command named `name` (any case) has this entry, whatever its other
    /// arguments, so a caller looking up many commands may reuse it for the next one
    /// with the same name (a pipeline of a thousand `SET`s looks the name up once).
    pub fn is_by_name_alone(&self) -> bool {
        !self.container
    }
}

/// [`lookup`], with whether the subcommand was unknown ([`Entry`]). One pass over the
/// first two arguments and one or two hash lookups.
pub fn lookup_entry(cmd: &Cmd) -> Option<Entry> {
    let mut args = cmd.args();
    let name = args.next()?;
    let at = position(&[name])?;
    let top = generated::COMMANDS.get(at)?;
    let container = is_container(at);
    let found = |info, unknown_subcommand| {
        Some(Entry {
            info,
            unknown_subcommand,
            container,
        })
    };
    match args.next() {
        Some(sub) if container => match find(&[name, sub]) {
            Some(info) => found(info, false),
            None => found(top, true),
        },
        _ => found(top, false),
    }
}

/// The table entry for a name in any case: `"get"`, `"GET"`, `"client|setname"`.
pub fn lookup_name(name: &str) -> Option<&'static CommandInfo> {
    find(&[name.as_bytes()])
}

/// Every command and subcommand in the table, sorted by name.
pub fn all() -> &'static [CommandInfo] {
    &generated::COMMANDS
}

/// Whether re-sending `cmd` after a connection failure, when it may already have run, is
/// safe.
///
/// By default (`idempotent_writes == false`) only commands that cannot change data are
/// retried: reads, `PING`, server introspection. A write that looks idempotent (`SET k v`,
/// `DEL k`, `HSET`) is *not* safe by default: if the first run landed and a concurrent
/// writer changed the key before the retry, the retry overwrites that writer's value (a
/// lost update nobody asked for). Callers that accept this opt in with
/// `Config::retry_idempotent_writes`, and this function is then called with `true`.
///
/// With `idempotent_writes == true`, running it twice must leave the same data as running
/// it once (ignoring concurrent writers), and the reply of the second run must still answer
/// what the caller asked. Counts may come out lower (a retried `DEL k` may say 0 keys were
/// removed, `SADD` 0 members added). Never safe, whatever the flag:
///
/// - anything relative to the current data: `INCR`, `APPEND`, `LPUSH`/`RPUSH`, `XADD`,
///   `ZADD ... INCR`, `LTRIM`, `RENAME`, `EXPIRE`/`PEXPIRE` (relative to when they run;
///   the absolute `EXPIREAT`/`PEXPIREAT` are idempotent), `EVAL`/`EVALSHA`/`FCALL`, `PUBLISH`;
/// - anything that removes and returns: `LPOP`, `SPOP`, `GETDEL`, `BLPOP`, `XREADGROUP`...;
/// - anything whose reply is the point and would be wrong the second time: `SET ... NX`
///   (a lock taken by the first run would be reported as not taken), `SET ... GET` and
///   `GETSET` (the second run returns the value the first run wrote), `SETNX`, `MSETNX`,
///   `HSETNX`, `SETBIT` (returns the previous bit);
/// - connection-state commands whose effect is lost with the connection (`WATCH`, `MULTI`,
///   `EXEC`, `ASKING`, `SUBSCRIBE`); the transaction and pub/sub code handle those;
/// - any command the table does not know, and any unknown option of a command below.
///
/// Always safe: every command the server flags `readonly` (including `EVAL_RO`,
/// `EVALSHA_RO`, `FCALL_RO`, `SORT_RO`, `XREAD`), `SORT` and `GEORADIUS`/
/// `GEORADIUSBYMEMBER` without `STORE`/`STOREDIST`, and commands that read server rather
/// than key state or set connection state that a reconnect re-establishes: `PING`, `ECHO`,
/// `SELECT`, `AUTH`, `HELLO`, `READONLY`, `READWRITE`, `INFO`, `TIME`, `LASTSAVE`, `ROLE`,
/// `COMMAND ...`, `CONFIG GET`, `CLIENT GETNAME/ID/INFO/LIST/SETNAME`, `CLUSTER INFO/NODES/
/// SLOTS/SHARDS/MYID/KEYSLOT/COUNTKEYSINSLOT/GETKEYSINSLOT`, `SLOWLOG GET/LEN`, `SCRIPT
/// EXISTS`, `FUNCTION LIST/DUMP/STATS`, `PUBSUB CHANNELS/NUMSUB/NUMPAT/SHARDCHANNELS/
/// SHARDNUMSUB`, `MEMORY STATS`, `ACL WHOAMI/CAT`.
///
/// Safe only with `idempotent_writes`: `SET` whose options are only `XX`/`KEEPTTL`/`EX`/
/// `PX`/`EXAT`/`PXAT` (a relative TTL restarts with the value, as with `SETEX`), `SETEX`,
/// `PSETEX`, `MSET`, `SETRANGE`, `DEL`, `UNLINK`, `EXPIREAT`, `PEXPIREAT`, `PERSIST`,
/// `HSET`, `HMSET`, `HDEL`, `SADD`, `SREM`, `ZADD` without `INCR`, `ZREM`, `GEOADD`,
/// `PFADD`, `LSET`, `XACK`, `XDEL`, `SCRIPT LOAD`.
pub fn is_retry_safe(cmd: &Cmd, idempotent_writes: bool) -> bool {
    lookup(cmd).is_some_and(|info| is_retry_safe_with(cmd, info, idempotent_writes))
}

/// [`is_retry_safe`] for a command whose table entry the caller already has (`info` must
/// be [`lookup`]'s answer for `cmd`).
pub fn is_retry_safe_with(cmd: &Cmd, info: &CommandInfo, idempotent_writes: bool) -> bool {
    retry_safe_by_name(info, idempotent_writes).unwrap_or_else(|| match info.name {
        "set" => set_options_are_idempotent(cmd),
        "zadd" => !zadd_has_incr(cmd),
        _ => !has_store_option(cmd),
    })
}

/// [`is_retry_safe_with`] when the answer is the same for every command with this entry,
/// whatever its arguments (`None`: it depends on them). A caller checking many commands
/// of one name (a pipeline of `SET`s) asks once.
pub fn retry_safe_by_name(info: &CommandInfo, idempotent_writes: bool) -> Option<bool> {
    if info.is_readonly() {
        return Some(true);
    }
    Some(match info.name {
        "sort" | "georadius" | "georadiusbymember" => return None,
        "set" | "zadd" if idempotent_writes => return None,
        "set" | "zadd" => false,
        "setex" | "psetex" | "mset" | "setrange" | "del" | "unlink" | "expireat" | "pexpireat"
        | "persist" | "hset" | "hmset" | "hdel" | "sadd" | "srem" | "zrem" | "geoadd" | "pfadd"
        | "lset" | "xack" | "xdel" | "script|load" => idempotent_writes,
        "ping"
        | "echo"
        | "select"
        | "auth"
        | "hello"
        | "readonly"
        | "readwrite"
        | "info"
        | "time"
        | "lastsave"
        | "role"
        | "command"
        | "config|get"
        | "client|getname"
        | "client|id"
        | "client|info"
        | "client|list"
        | "client|setname"
        | "cluster|info"
        | "cluster|nodes"
        | "cluster|slots"
        | "cluster|shards"
        | "cluster|myid"
        | "cluster|keyslot"
        | "cluster|countkeysinslot"
        | "cluster|getkeysinslot"
        | "slowlog|get"
        | "slowlog|len"
        | "script|exists"
        | "function|list"
        | "function|dump"
        | "function|stats"
        | "pubsub|channels"
        | "pubsub|numsub"
        | "pubsub|numpat"
        | "pubsub|shardchannels"
        | "pubsub|shardnumsub"
        | "memory|stats"
        | "acl|whoami"
        | "acl|cat" => true,
        name => name.starts_with("command|"),
    })
}

/// `SET key value [options]`: safe only with options that do not make the reply depend on
/// the previous value.
fn set_options_are_idempotent(cmd: &Cmd) -> bool {
    let mut opts = cmd.args().skip(3);
    while let Some(opt) = opts.next() {
        if opt.eq_ignore_ascii_case(b"XX") || opt.eq_ignore_ascii_case(b"KEEPTTL") {
            continue;
        }
        let takes_value = [&b"EX"[..], b"PX", b"EXAT", b"PXAT"]
            .iter()
            .any(|o| opt.eq_ignore_ascii_case(o));
        if !takes_value || opts.next().is_none() {
            return false; // NX, GET, or anything this code does not know
        }
    }
    true
}

/// `ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member ...`: the options come before the
/// first score (a number), so a member named "incr" is not mistaken for the option.
fn zadd_has_incr(cmd: &Cmd) -> bool {
    const OPTIONS: [&[u8]; 6] = [b"NX", b"XX", b"GT", b"LT", b"CH", b"INCR"];
    cmd.args()
        .skip(2)
        .take_while(|a| OPTIONS.iter().any(|o| a.eq_ignore_ascii_case(o)))
        .any(|a| a.eq_ignore_ascii_case(b"INCR"))
}

/// `SORT`/`GEORADIUS*` write only with `STORE` (or `STOREDIST`). Any argument equal to
/// those words counts, even in a value position: the mistake can only make the answer
/// "not safe".
fn has_store_option(cmd: &Cmd) -> bool {
    cmd.args()
        .skip(2)
        .any(|a| a.eq_ignore_ascii_case(b"STORE") || a.eq_ignore_ascii_case(b"STOREDIST"))
}

/// How long the server may legitimately hold the reply of a blocking command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockTime {
    /// The command does not block: the normal response timeout applies.
    NotBlocking,
    /// The command may block with no limit (timeout 0, or a timeout this code cannot read).
    Forever,
    /// The command blocks for at most this long (the server's own timeout, rounded up to
    /// whole milliseconds as the server does); allow this plus the usual response time.
    For(Duration),
}

/// How long the server may hold the reply of `cmd`, read from its own timeout argument.
///
/// - `BLPOP`, `BRPOP`, `BZPOPMIN`, `BZPOPMAX`, `BRPOPLPUSH`, `BLMOVE`: last argument,
///   seconds (decimals allowed); 0 blocks forever.
/// - `BLMPOP`, `BZMPOP`: first argument after the name, seconds.
/// - `XREAD`, `XREADGROUP`: the `BLOCK <ms>` option before `STREAMS`; without it the
///   command does not block; 0 blocks forever.
/// - `WAIT numreplicas timeout` and `WAITAOF numlocal numreplicas timeout`: last argument,
///   milliseconds; 0 blocks forever. (`WAIT` has no `blocking` flag in the table.)
/// - Any other command the table flags `blocking`: [`BlockTime::Forever`].
///
/// A timeout that is missing, not a number or negative gives [`BlockTime::Forever`]: the
/// server will answer such a command with an error at once, and never cutting it is the
/// safe side. Inside `MULTI` nothing blocks; that is the caller's business.
#[inline]
pub fn block_time(cmd: &Cmd) -> BlockTime {
    // Hot path: every blocking command (table flag or WAIT/WAITAOF) starts with b, x or w
    // (checked by a test against the table), so most commands stop here.
    if matches!(
        cmd.name_first_byte().map(|b| b.to_ascii_lowercase()),
        Some(b'b' | b'x' | b'w')
    ) {
        block_time_of_candidate(cmd)
    } else {
        BlockTime::NotBlocking
    }
}

/// [`block_time`] of a command whose name starts as a blocking one's may.
fn block_time_of_candidate(cmd: &Cmd) -> BlockTime {
    const LAST_ARG_SECONDS: [&str; 6] = [
        "blpop",
        "brpop",
        "bzpopmin",
        "bzpopmax",
        "brpoplpush",
        "blmove",
    ];
    let Some(name) = cmd.arg_at(0) else {
        return BlockTime::NotBlocking;
    };
    let is = |list: &[&str]| list.iter().any(|n| name.eq_ignore_ascii_case(n.as_bytes()));
    let last = match cmd.argc() {
        0 | 1 => None,
        n => cmd.arg_at(n - 1),
    };
    if is(&LAST_ARG_SECONDS) {
        seconds(last)
    } else if is(&["blmpop", "bzmpop"]) {
        seconds(cmd.arg_at(1))
    } else if is(&["xread", "xreadgroup"]) {
        xread_block(cmd)
    } else if is(&["wait", "waitaof"]) {
        millis(last)
    } else if lookup(cmd).is_some_and(CommandInfo::is_blocking) {
        BlockTime::Forever
    } else {
        BlockTime::NotBlocking
    }
}

/// `XREAD [COUNT n] [BLOCK ms] STREAMS ...` and
/// `XREADGROUP GROUP g c [COUNT n] [BLOCK ms] [NOACK] STREAMS ...`.
fn xread_block(cmd: &Cmd) -> BlockTime {
    let mut args = cmd.args().skip(1);
    while let Some(a) = args.next() {
        if a.eq_ignore_ascii_case(b"BLOCK") {
            return millis(args.next());
        } else if a.eq_ignore_ascii_case(b"STREAMS") {
            break;
        } else if a.eq_ignore_ascii_case(b"GROUP") {
            // Group and consumer names may be any word, "BLOCK" included.
            args.next();
            args.next();
        } else if a.eq_ignore_ascii_case(b"COUNT") {
            args.next();
        }
    }
    BlockTime::NotBlocking
}

/// A timeout in seconds (decimals allowed), as BLPOP & co. take it.
fn seconds(arg: Option<&[u8]>) -> BlockTime {
    let secs = arg
        .and_then(|a| std::str::from_utf8(a).ok())
        .and_then(|s| s.parse::<f64>().ok());
    match secs {
        // The server converts to milliseconds, rounds up, and refuses more than i64::MAX.
        Some(s) if s >= 0.0 && s * 1000.0 <= i64::MAX as f64 => {
            from_millis((s * 1000.0).ceil() as u64)
        }
        _ => BlockTime::Forever, // also NaN and infinities
    }
}

/// A timeout in milliseconds, as XREAD BLOCK and WAIT take it.
fn millis(arg: Option<&[u8]>) -> BlockTime {
    let ms = arg
        .and_then(|a| std::str::from_utf8(a).ok())
        .and_then(|s| s.parse::<i64>().ok());
    match ms.and_then(|ms| u64::try_from(ms).ok()) {
        Some(ms) => from_millis(ms),
        None => BlockTime::Forever, // missing, not a number, or negative
    }
}

fn from_millis(ms: u64) -> BlockTime {
    if ms == 0 {
        BlockTime::Forever
    } else {
        BlockTime::For(Duration::from_millis(ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd;

    fn c(args: &[&str]) -> Cmd {
        let mut it = args.iter();
        let mut c = cmd(it.next().copied().unwrap_or_default());
        for a in it {
            c.arg(*a);
        }
        c
    }

    #[test]
    fn a_retry_safety_by_name_holds_for_any_arguments() {
        // Every entry of the table, with argument lists that change the answer of the
        // commands whose safety depends on them (`GET`/`NX` of SET, `INCR` of ZADD,
        // `STORE` of SORT and GEORADIUS).
        let tails: [&[&str]; 5] = [
            &["k", "v"],
            &["k", "v", "EX", "10"],
            &["k", "v", "NX", "GET"],
            &["k", "1", "m", "INCR"],
            &["k", "0", "0", "1", "m", "STORE", "d"],
        ];
        let mut by_name = 0;
        for info in generated::COMMANDS.iter() {
            let parts: Vec<&str> = info.name.split('|').collect();
            for writes in [false, true] {
                let Some(safe) = retry_safe_by_name(info, writes) else {
                    continue;
                };
                by_name += 1;
                for tail in tails {
                    let args: Vec<&str> = parts.iter().chain(tail.iter()).copied().collect();
                    let cmd = c(&args);
                    assert_eq!(
                        is_retry_safe_with(&cmd, info, writes),
                        safe,
                        "{args:?} (idempotent writes: {writes})"
                    );
                }
            }
        }
        assert!(by_name > 600, "only {by_name} answers by name");
        let set = lookup(&c(&["SET", "k", "v"])).map(|i| retry_safe_by_name(i, true));
        assert_eq!(set, Some(None), "SET's safety depends on its options");
    }

    /// What `find` and `is_container` rely on: every name fits the search buffer, and a
    /// container's subcommands come right after it in the sorted table.
    #[test]
    fn names_fit_and_subcommands_follow_their_container() {
        let table = all();
        assert!(table.iter().all(|e| e.name.len() < MAX_NAME));
        assert!(table.len() < usize::from(u16::MAX));
        assert!(
            table.windows(2).all(|w| w[0].name < w[1].name),
            "sorted, no duplicates"
        );
        for (i, e) in table.iter().enumerate() {
            if let Some((top, _)) = e.name.split_once('|') {
                let at = position(&[top.as_bytes()]).expect("container in the table");
                assert!(is_container(at), "{top} is not seen as a container");
                assert!(
                    table[at..i]
                        .iter()
                        .all(|x| x.name == top || x.name.starts_with(&format!("{top}|"))),
                    "{}",
                    e.name
                );
            }
        }
        let get = position(&[b"get"]).expect("get");
        assert!(!is_container(get));
    }

    #[test]
    fn table_is_sorted_unique_and_lower_case() {
        let t = all();
        assert!(t.len() > 300, "{} commands", t.len());
        for w in t.windows(2) {
            assert!(w[0].name < w[1].name, "{} before {}", w[0].name, w[1].name);
        }
        for e in t {
            assert_eq!(e.name, e.name.to_ascii_lowercase());
            assert_eq!(lookup_name(e.name), Some(e));
        }
    }

    #[test]
    fn lookups() {
        let get = lookup(&c(&["GET", "k"])).map(|i| i.name);
        assert_eq!(get, Some("get"));
        assert!(lookup_name("get").is_some_and(|i| i.is_readonly() && !i.is_write()));
        assert!(lookup_name("get").is_some_and(|i| i.first_key == 1 && i.arity == 2));
        assert!(lookup_name("SeT").is_some_and(|i| i.is_write() && i.has(flags::DENYOOM)));
        assert!(lookup_name("blpop").is_some_and(|i| i.is_blocking() && i.last_key == -2));
        assert!(lookup_name("mset").is_some_and(|i| i.key_step == 2));
        assert!(lookup_name("subscribe").is_some_and(CommandInfo::is_pubsub));
        assert!(lookup_name("xread").is_some_and(|i| i.has(flags::MOVABLEKEYS)));
        let tips = flags::REQUEST_POLICY_ALL_SHARDS | flags::RESPONSE_POLICY_AGG_SUM;
        assert!(lookup_name("dbsize").is_some_and(|i| i.has(tips)));

        let kill = lookup(&c(&["client", "KILL", "ID", "7"]));
        assert_eq!(kill.map(|i| i.name), Some("client|kill"));
        assert!(kill.is_some_and(CommandInfo::is_admin));
        assert_eq!(
            lookup_name("CLIENT|SetName").map(|i| i.name),
            Some("client|setname")
        );
        // Unknown subcommand or none: the container itself.
        assert_eq!(
            lookup(&c(&["CLIENT", "NOPE"])).map(|i| i.name),
            Some("client")
        );
        assert_eq!(lookup(&c(&["CLIENT"])).map(|i| i.name), Some("client"));
        // A plain command's second argument is not a subcommand.
        assert_eq!(lookup(&c(&["GET", "kill"])).map(|i| i.name), Some("get"));

        assert_eq!(lookup(&c(&["NOSUCHCOMMAND", "x"])), None);
        assert_eq!(lookup_name("nosuch"), None);
        assert_eq!(lookup_name(""), None);
        assert_eq!(lookup(&Cmd::default()), None);
        let long = vec![b'a'; MAX_NAME + 1];
        assert_eq!(find(&[&long]), None);
    }

    #[test]
    fn block_times() {
        let ms = |n| BlockTime::For(Duration::from_millis(n));
        assert_eq!(block_time(&c(&["BLPOP", "a", "b", "1.5"])), ms(1500));
        assert_eq!(block_time(&c(&["blpop", "a", "0"])), BlockTime::Forever);
        assert_eq!(block_time(&c(&["BRPOP", "a", "2"])), ms(2000));
        assert_eq!(block_time(&c(&["BZPOPMIN", "a", "0.0001"])), ms(1));
        assert_eq!(
            block_time(&c(&["BLMOVE", "a", "b", "LEFT", "RIGHT", "3"])),
            ms(3000)
        );
        assert_eq!(
            block_time(&c(&["BRPOPLPUSH", "a", "b", "0"])),
            BlockTime::Forever
        );
        assert_eq!(
            block_time(&c(&["BLMPOP", "0.25", "1", "a", "LEFT"])),
            ms(250)
        );
        assert_eq!(
            block_time(&c(&["BZMPOP", "0", "1", "a", "MIN"])),
            BlockTime::Forever
        );

        let xread = c(&["XREAD", "COUNT", "5", "block", "100", "STREAMS", "s", "$"]);
        assert_eq!(block_time(&xread), ms(100));
        let xread = c(&["XREAD", "COUNT", "5", "STREAMS", "BLOCK", "100"]);
        assert_eq!(block_time(&xread), BlockTime::NotBlocking);
        let xread = c(&["XREAD", "BLOCK", "0", "STREAMS", "s", "$"]);
        assert_eq!(block_time(&xread), BlockTime::Forever);
        let group = c(&["XREADGROUP", "GROUP", "BLOCK", "COUNT", "STREAMS", "s", ">"]);
        assert_eq!(block_time(&group), BlockTime::NotBlocking);
        let group = c(&[
            "XREADGROUP",
            "GROUP",
            "g",
            "c",
            "NOACK",
            "BLOCK",
            "7",
            "STREAMS",
        ]);
        assert_eq!(block_time(&group), ms(7));

        assert_eq!(block_time(&c(&["WAIT", "1", "0"])), BlockTime::Forever);
        assert_eq!(block_time(&c(&["WAIT", "1", "250"])), ms(250));
        assert_eq!(block_time(&c(&["WAITAOF", "1", "0", "20"])), ms(20));

        assert_eq!(block_time(&c(&["GET", "k"])), BlockTime::NotBlocking);
        assert_eq!(block_time(&c(&["NOSUCH", "1"])), BlockTime::NotBlocking);
        assert_eq!(block_time(&Cmd::default()), BlockTime::NotBlocking);

        // Not understood: never cut, never panic.
        for bad in ["x", "-1", "nan", "inf", "1e400", "", "\u{fffd}"] {
            assert_eq!(
                block_time(&c(&["BLPOP", "a", bad])),
                BlockTime::Forever,
                "{bad}"
            );
            let x = c(&["XREAD", "BLOCK", bad, "STREAMS", "s", "$"]);
            assert_eq!(block_time(&x), BlockTime::Forever, "{bad}");
        }
        assert_eq!(block_time(&c(&["BLPOP"])), BlockTime::Forever);
        assert_eq!(block_time(&c(&["XREAD", "BLOCK"])), BlockTime::Forever);
        assert_eq!(block_time(&c(&["WAIT"])), BlockTime::Forever);
        assert_eq!(block_time(&c(&["BLMPOP"])), BlockTime::Forever);
        assert_eq!(block_time(&c(&["BLPOP", "a", "1e300"])), BlockTime::Forever);
        let x = c(&["XREAD", "BLOCK", "9223372036854775808", "STREAMS", "s", "$"]);
        assert_eq!(block_time(&x), BlockTime::Forever);
    }

    #[test]
    fn retry_safety() {
        let safe = |args: &[&str]| is_retry_safe(&c(args), true);
        assert!(safe(&["GET", "k"]));
        assert!(safe(&["set", "k", "v"]));
        assert!(safe(&["SET", "k", "v", "EX", "10", "XX"]));
        assert!(safe(&["SET", "k", "v", "keepttl"]));
        assert!(!safe(&["SET", "k", "v", "NX", "PX", "100"]));
        assert!(!safe(&["SET", "k", "v", "GET"]));
        assert!(!safe(&["SET", "k", "v", "EX"]));
        assert!(!safe(&["SET", "k", "v", "IFEQ", "x"]));
        assert!(!safe(&["INCR", "k"]));
        assert!(!safe(&["LPUSH", "l", "x"]));
        assert!(!safe(&["LPOP", "l"]));
        assert!(!safe(&["SPOP", "s"]));
        assert!(!safe(&["APPEND", "k", "x"]));
        assert!(!safe(&["XADD", "s", "*", "f", "v"]));
        assert!(!safe(&["EVAL", "return 1", "0"]));
        assert!(!safe(&["EVALSHA", "abc", "0"]));
        assert!(safe(&["EVALSHA_RO", "abc", "0"]));
        assert!(safe(&["FCALL_RO", "f", "0"]));
        assert!(!safe(&["EXPIRE", "k", "10"]));
        assert!(safe(&["EXPIREAT", "k", "1700000000"]));
        assert!(safe(&["ZADD", "z", "NX", "CH", "1", "incr"]));
        assert!(!safe(&["ZADD", "z", "XX", "INCR", "1", "m"]));
        assert!(safe(&["SORT", "l", "LIMIT", "0", "10"]));
        assert!(!safe(&["SORT", "l", "STORE", "dst"]));
        assert!(safe(&["DEL", "a", "b"]));
        assert!(safe(&["MSET", "a", "1", "b", "2"]));
        assert!(!safe(&["MSETNX", "a", "1"]));
        assert!(safe(&["PING"]));
        assert!(safe(&["CLUSTER", "SLOTS"]));
        assert!(safe(&["COMMAND", "DOCS", "get"]));
        assert!(safe(&["SCRIPT", "LOAD", "return 1"]));
        assert!(!safe(&["SCRIPT", "FLUSH"]));
        assert!(!safe(&["CLIENT", "KILL", "ID", "1"]));
        assert!(!safe(&["CLIENT"]));
        assert!(safe(&["XREAD", "BLOCK", "0", "STREAMS", "s", "$"]));
        assert!(!safe(&[
            "XREADGROUP",
            "GROUP",
            "g",
            "c",
            "STREAMS",
            "s",
            ">"
        ]));
        assert!(!safe(&["PUBLISH", "ch", "m"]));
        assert!(!safe(&["WATCH", "k"]));
        assert!(!safe(&["NOSUCH"]));
        assert!(!is_retry_safe(&Cmd::default(), true));
    }

    #[test]
    fn writes_are_not_retried_by_default() {
        let safe = |args: &[&str]| is_retry_safe(&c(args), false);
        for write in [
            &["SET", "k", "v"][..],
            &["SET", "k", "v", "EX", "10"],
            &["DEL", "k"],
            &["HSET", "h", "f", "v"],
            &["MSET", "a", "1"],
            &["ZADD", "z", "1", "m"],
            &["SADD", "s", "m"],
            &["EXPIREAT", "k", "1700000000"],
            &["SCRIPT", "LOAD", "return 1"],
            &["INCR", "k"],
            &["SORT", "l", "STORE", "dst"],
        ] {
            assert!(!safe(write), "{write:?} retried by default");
        }
        for read in [
            &["GET", "k"][..],
            &["PING"],
            &["HGETALL", "h"],
            &["EVALSHA_RO", "abc", "0"],
            &["SORT", "l", "LIMIT", "0", "10"],
            &["CLUSTER", "SLOTS"],
            &["XREAD", "STREAMS", "s", "0"],
        ] {
            assert!(safe(read), "{read:?} not retried by default");
        }
    }

    #[test]
    fn every_blocking_command_starts_with_b_x_or_w() {
        for c in all() {
            if c.is_blocking() {
                assert!(
                    matches!(c.name.as_bytes()[0], b'b' | b'x' | b'w'),
                    "{} breaks block_time's fast path",
                    c.name
                );
            }
        }
    }
}
