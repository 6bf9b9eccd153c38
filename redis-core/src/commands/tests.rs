//! Unit tests of the typed command list: the exact arguments a sample of commands and every
//! option type encode to, and coverage of the Redis 7.0 command set.

use std::collections::{BTreeMap, BTreeSet};

use super::*;
use crate::cmd::Cmd;

/// The arguments of a command (name first), as strings.
fn args(c: &Cmd) -> Vec<String> {
    c.args()
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect()
}

/// The arguments a `ToArgs` value writes, as strings.
fn opt_args<T: ToArgs>(v: &T) -> Vec<String> {
    v.to_arg_vec()
        .into_iter()
        .map(|a| String::from_utf8_lossy(&a).into_owned())
        .collect()
}

/// Every non-admin leaf command of Redis 7.0.15 (`COMMAND` reply: subcommands of
/// containers, else the command; leaves flagged `admin` left out).
#[rustfmt::skip]
const REDIS_70_NON_ADMIN_LEAVES: &[&str] = &[
    "acl|cat", "acl|genpass", "acl|help", "acl|whoami", "append", "asking", "auth", "bitcount",
    "bitfield", "bitfield_ro", "bitop", "bitpos", "blmove", "blmpop", "blpop", "brpop",
    "brpoplpush", "bzmpop", "bzpopmax", "bzpopmin", "client|caching", "client|getname",
    "client|getredir", "client|help", "client|id", "client|info", "client|reply",
    "client|setname", "client|tracking", "client|trackinginfo", "cluster|countkeysinslot",
    "cluster|getkeysinslot", "cluster|help", "cluster|info", "cluster|keyslot",
    "cluster|links", "cluster|myid", "cluster|nodes", "cluster|shards", "cluster|slots",
    "command|count", "command|docs", "command|getkeys", "command|getkeysandflags",
    "command|help", "command|info", "command|list", "config|help", "copy", "dbsize", "decr",
    "decrby", "del", "discard", "dump", "echo", "eval", "eval_ro", "evalsha", "evalsha_ro",
    "exec", "exists", "expire", "expireat", "expiretime", "fcall", "fcall_ro", "flushall",
    "flushdb", "function|delete", "function|dump", "function|flush", "function|help",
    "function|kill", "function|list", "function|load", "function|restore", "function|stats",
    "geoadd", "geodist", "geohash", "geopos", "georadius", "georadius_ro", "georadiusbymember",
    "georadiusbymember_ro", "geosearch", "geosearchstore", "get", "getbit", "getdel", "getex",
    "getrange", "getset", "hdel", "hello", "hexists", "hget", "hgetall", "hincrby",
    "hincrbyfloat", "hkeys", "hlen", "hmget", "hmset", "hrandfield", "hscan", "hset", "hsetnx",
    "hstrlen", "hvals", "incr", "incrby", "incrbyfloat", "info", "keys", "lastsave",
    "latency|help", "lcs", "lindex", "linsert", "llen", "lmove", "lmpop", "lolwut", "lpop",
    "lpos", "lpush", "lpushx", "lrange", "lrem", "lset", "ltrim", "memory|doctor",
    "memory|help", "memory|malloc-stats", "memory|purge", "memory|stats", "memory|usage",
    "mget", "migrate", "module|help", "move", "mset", "msetnx", "multi", "object|encoding",
    "object|freq", "object|help", "object|idletime", "object|refcount", "persist", "pexpire",
    "pexpireat", "pexpiretime", "pfadd", "pfcount", "pfmerge", "ping", "psetex", "psubscribe",
    "pttl", "publish", "pubsub|channels", "pubsub|help", "pubsub|numpat", "pubsub|numsub",
    "pubsub|shardchannels", "pubsub|shardnumsub", "punsubscribe", "quit", "randomkey",
    "readonly", "readwrite", "rename", "renamenx", "reset", "restore", "restore-asking",
    "role", "rpop", "rpoplpush", "rpush", "rpushx", "sadd", "scan", "scard", "script|debug",
    "script|exists", "script|flush", "script|help", "script|kill", "script|load", "sdiff",
    "sdiffstore", "select", "set", "setbit", "setex", "setnx", "setrange", "sinter",
    "sintercard", "sinterstore", "sismember", "slowlog|help", "smembers", "smismember",
    "smove", "sort", "sort_ro", "spop", "spublish", "srandmember", "srem", "sscan",
    "ssubscribe", "strlen", "subscribe", "substr", "sunion", "sunionstore", "sunsubscribe",
    "swapdb", "time", "touch", "ttl", "type", "unlink", "unsubscribe", "unwatch", "wait",
    "watch", "xack", "xadd", "xautoclaim", "xclaim", "xdel", "xgroup|create",
    "xgroup|createconsumer", "xgroup|delconsumer", "xgroup|destroy", "xgroup|help",
    "xgroup|setid", "xinfo|consumers", "xinfo|groups", "xinfo|help", "xinfo|stream", "xlen",
    "xpending", "xrange", "xread", "xreadgroup", "xrevrange", "xsetid", "xtrim", "zadd",
    "zcard", "zcount", "zdiff", "zdiffstore", "zincrby", "zinter", "zintercard", "zinterstore",
    "zlexcount", "zmpop", "zmscore", "zpopmax", "zpopmin", "zrandmember", "zrange",
    "zrangebylex", "zrangebyscore", "zrangestore", "zrank", "zrem", "zremrangebylex",
    "zremrangebyrank", "zremrangebyscore", "zrevrange", "zrevrangebylex", "zrevrangebyscore",
    "zrevrank", "zscan", "zscore", "zunion", "zunionstore",
];

/// Leaves the clients own (handshake, pub/sub, transactions, connection teardown) or that
/// would desynchronise replies (`CLIENT REPLY`, `SCRIPT DEBUG`), or that only servers send
/// each other (`RESTORE-ASKING`).
const DELIBERATELY_UNTYPED: &[&str] = &[
    "auth",
    "hello",
    "subscribe",
    "unsubscribe",
    "psubscribe",
    "punsubscribe",
    "ssubscribe",
    "sunsubscribe",
    "multi",
    "exec",
    "discard",
    "quit",
    "client|reply",
    "script|debug",
    "restore-asking",
];

#[test]
fn covers_redis_70() {
    let typed: BTreeSet<&str> = TYPED_COMMANDS.iter().copied().collect();
    let missing: Vec<&str> = REDIS_70_NON_ADMIN_LEAVES
        .iter()
        .copied()
        .filter(|n| !typed.contains(n))
        .collect();
    let covered = REDIS_70_NON_ADMIN_LEAVES.len() - missing.len();
    // At least 92% of the non-admin leaves.
    assert!(
        covered * 100 >= REDIS_70_NON_ADMIN_LEAVES.len() * 92,
        "{covered}/{} covered; missing {missing:?}",
        REDIS_70_NON_ADMIN_LEAVES.len()
    );
    // Whatever is missing is missing on purpose, or a semantic duplicate (INCR/DECR are
    // `incr(key, 1)` / `decr(key, 1)`).
    for name in &missing {
        assert!(
            DELIBERATELY_UNTYPED.contains(name) || *name == "incr" || *name == "decr",
            "{name} has no typed method"
        );
    }
    for name in DELIBERATELY_UNTYPED {
        assert!(
            !typed.contains(name),
            "{name} is typed but listed as untyped"
        );
    }
}

#[test]
fn names_are_lower_case_with_subcommands() {
    for name in TYPED_COMMANDS {
        assert_eq!(*name, name.to_ascii_lowercase(), "{name}");
        assert!(!name.contains(' '), "{name}");
        assert!(name.matches('|').count() <= 1, "{name}");
    }
}

#[test]
fn strings() {
    assert_eq!(args(&get("k")), ["GET", "k"]);
    assert_eq!(args(&mget(["a", "b"])), ["MGET", "a", "b"]);
    assert_eq!(args(&set("k", 1)), ["SET", "k", "1"]);
    assert_eq!(args(&set_ex("k", "v", 10)), ["SETEX", "k", "10", "v"]);
    assert_eq!(args(&pset_ex("k", "v", 1500)), ["PSETEX", "k", "1500", "v"]);
    assert_eq!(args(&set_nx("k", "v")), ["SETNX", "k", "v"]);
    assert_eq!(
        args(&mset(&[("a", 1), ("b", 2)][..])),
        ["MSET", "a", "1", "b", "2"]
    );
    assert_eq!(args(&getex("k", Expiry::Ex(5))), ["GETEX", "k", "EX", "5"]);
    assert_eq!(args(&getex("k", Expiry::Keep)), ["GETEX", "k", "PERSIST"]);
    assert_eq!(args(&getrange("k", 0, -1)), ["GETRANGE", "k", "0", "-1"]);
    assert_eq!(args(&incr("k", -2)), ["INCRBY", "k", "-2"]);
    assert_eq!(args(&decr("k", 3)), ["DECRBY", "k", "3"]);
    assert_eq!(args(&incrbyfloat("k", 0.5)), ["INCRBYFLOAT", "k", "0.5"]);
    assert_eq!(args(&lcs_len("a", "b")), ["LCS", "a", "b", "LEN"]);
    assert_eq!(
        args(&lcs_idx("a", "b", Some(4), true)),
        ["LCS", "a", "b", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN"]
    );
    assert_eq!(
        args(&lcs_idx("a", "b", None, false)),
        ["LCS", "a", "b", "IDX"]
    );
}

#[test]
fn set_options_encoding() {
    assert_eq!(opt_args(&SetOptions::new()), Vec::<String>::new());
    let o = SetOptions::new()
        .existence(Existence::Nx)
        .get(true)
        .expiry(Expiry::Px(250));
    assert_eq!(opt_args(&o), ["NX", "GET", "PX", "250"]);
    assert_eq!(
        opt_args(
            &SetOptions::new()
                .existence(Existence::Xx)
                .expiry(Expiry::Keep)
        ),
        ["XX", "KEEPTTL"]
    );
    assert_eq!(opt_args(&Expiry::ExAt(7)), ["EXAT", "7"]);
    assert_eq!(opt_args(&Expiry::PxAt(8)), ["PXAT", "8"]);
    assert_eq!(
        args(&set_options(
            "k",
            "v",
            SetOptions::new().expiry(Expiry::Ex(1))
        )),
        ["SET", "k", "v", "EX", "1"]
    );
}

#[test]
fn keys_and_expiry() {
    assert_eq!(args(&del(vec!["a", "b"])), ["DEL", "a", "b"]);
    assert_eq!(args(&expire("k", 5)), ["EXPIRE", "k", "5"]);
    for (o, s) in [
        (ExpireOption::Nx, "NX"),
        (ExpireOption::Xx, "XX"),
        (ExpireOption::Gt, "GT"),
        (ExpireOption::Lt, "LT"),
    ] {
        assert_eq!(args(&expire_options("k", 5, o)), ["EXPIRE", "k", "5", s]);
    }
    assert_eq!(
        args(&pexpireat_options("k", 99, ExpireOption::Gt)),
        ["PEXPIREAT", "k", "99", "GT"]
    );
    assert_eq!(args(&key_type("k")), ["TYPE", "k"]);
    assert_eq!(args(&move_key("k", 2)), ["MOVE", "k", "2"]);
    assert_eq!(
        args(&copy_options("a", "b", Some(3), true)),
        ["COPY", "a", "b", "DB", "3", "REPLACE"]
    );
    assert_eq!(
        args(&copy_options("a", "b", None, false)),
        ["COPY", "a", "b"]
    );
    assert_eq!(args(&object_encoding("k")), ["OBJECT", "ENCODING", "k"]);
    assert_eq!(args(&wait(1, 100)), ["WAIT", "1", "100"]);
}

#[test]
fn restore_and_migrate_options() {
    let o = RestoreOptions::new()
        .replace(true)
        .absttl(true)
        .idletime(10)
        .freq(3);
    assert_eq!(
        args(&restore_options("k", 0, &b"\x00payload"[..], o)),
        [
            "RESTORE",
            "k",
            "0",
            "\u{0}payload",
            "REPLACE",
            "ABSTTL",
            "IDLETIME",
            "10",
            "FREQ",
            "3"
        ]
    );
    let m = MigrateOptions::new()
        .copy(true)
        .replace(true)
        .auth2("user", "s3cret");
    assert_eq!(
        args(&migrate("h", 6380, "k", 0, 1000, m.clone())),
        ["MIGRATE", "h", "6380", "k", "0", "1000", "COPY", "REPLACE", "AUTH2", "user", "s3cret"]
    );
    assert!(!format!("{m:?}").contains("s3cret"));
    let m = MigrateOptions::new().auth("pw");
    assert_eq!(opt_args(&m), ["AUTH", "pw"]);
    assert!(!format!("{m:?}").contains("pw\""));
    assert_eq!(
        args(&migrate_keys(
            "h",
            1,
            ["a", "b"],
            0,
            5,
            MigrateOptions::new()
        )),
        ["MIGRATE", "h", "1", "", "0", "5", "KEYS", "a", "b"]
    );
}

#[test]
fn scan_and_sort_options() {
    assert_eq!(args(&scan(0)), ["SCAN", "0"]);
    let o = ScanOptions::new()
        .pattern("user:*")
        .count(100)
        .key_type("hash");
    assert_eq!(
        args(&scan_options(17, o)),
        ["SCAN", "17", "MATCH", "user:*", "COUNT", "100", "TYPE", "hash"]
    );
    assert_eq!(
        args(&hscan_options("h", 0, ScanOptions::new().count(5))),
        ["HSCAN", "h", "0", "COUNT", "5"]
    );
    let o = SortOptions::new()
        .by("w_*")
        .limit(0, 10)
        .get("#")
        .get("obj_*->name")
        .order(SortOrder::Desc)
        .alpha(true)
        .store("dst");
    assert_eq!(
        args(&sort_options("l", o)),
        [
            "SORT",
            "l",
            "BY",
            "w_*",
            "LIMIT",
            "0",
            "10",
            "GET",
            "#",
            "GET",
            "obj_*->name",
            "DESC",
            "ALPHA",
            "STORE",
            "dst"
        ]
    );
    assert_eq!(args(&sort_ro("l", SortOptions::new())), ["SORT_RO", "l"]);
}

#[test]
fn lists() {
    assert_eq!(args(&lpush("l", [1, 2])), ["LPUSH", "l", "1", "2"]);
    assert_eq!(args(&lpop_count("l", 3)), ["LPOP", "l", "3"]);
    assert_eq!(
        args(&linsert_after("l", "p", "v")),
        ["LINSERT", "l", "AFTER", "p", "v"]
    );
    assert_eq!(
        args(&lmove("a", "b", Direction::Left, Direction::Right)),
        ["LMOVE", "a", "b", "LEFT", "RIGHT"]
    );
    assert_eq!(
        args(&blmove("a", "b", Direction::Right, Direction::Left, 1.5)),
        ["BLMOVE", "a", "b", "RIGHT", "LEFT", "1.5"]
    );
    assert_eq!(
        args(&lmpop(["a", "b"], Direction::Left)),
        ["LMPOP", "2", "a", "b", "LEFT"]
    );
    assert_eq!(
        args(&blmpop_count("a", Direction::Right, 4, 0.0)),
        ["BLMPOP", "0", "1", "a", "RIGHT", "COUNT", "4"]
    );
    assert_eq!(args(&blpop(["a", "b"], 2.0)), ["BLPOP", "a", "b", "2"]);
    assert_eq!(
        args(&brpoplpush("a", "b", 0.25)),
        ["BRPOPLPUSH", "a", "b", "0.25"]
    );
    let o = LposOptions::new().rank(-1).count(0).maxlen(1000);
    assert_eq!(
        args(&lpos_options("l", "x", o)),
        ["LPOS", "l", "x", "RANK", "-1", "COUNT", "0", "MAXLEN", "1000"]
    );
}

#[test]
fn sets() {
    assert_eq!(args(&sadd("s", ["a", "b"])), ["SADD", "s", "a", "b"]);
    assert_eq!(
        args(&srandmember_count("s", -3)),
        ["SRANDMEMBER", "s", "-3"]
    );
    assert_eq!(args(&sintercard(["a", "b"])), ["SINTERCARD", "2", "a", "b"]);
    assert_eq!(
        args(&sintercard_limit(["a", "b"], 5)),
        ["SINTERCARD", "2", "a", "b", "LIMIT", "5"]
    );
    assert_eq!(
        args(&sinterstore("d", ["a", "b"])),
        ["SINTERSTORE", "d", "a", "b"]
    );
}

#[test]
fn sorted_sets() {
    assert_eq!(args(&zadd("z", 1.5, "m")), ["ZADD", "z", "1.5", "m"]);
    assert_eq!(
        args(&zadd_multiple("z", &[(1, "a"), (2, "b")][..])),
        ["ZADD", "z", "1", "a", "2", "b"]
    );
    let o = ZAddOptions::new()
        .existence(Existence::Xx)
        .comparison(Comparison::Gt)
        .ch(true)
        .incr(true);
    assert_eq!(
        args(&zadd_options("z", (2, "a"), o)),
        ["ZADD", "z", "XX", "GT", "CH", "INCR", "2", "a"]
    );
    assert_eq!(
        opt_args(
            &ZAddOptions::new()
                .existence(Existence::Nx)
                .comparison(Comparison::Lt)
        ),
        ["NX", "LT"]
    );
    assert_eq!(args(&zincrby("z", -1.0, "m")), ["ZINCRBY", "z", "-1", "m"]);
    assert_eq!(
        args(&zcount("z", "-inf", "(5")),
        ["ZCOUNT", "z", "-inf", "(5"]
    );
    assert_eq!(
        args(&zrange_byscore("z", f64::NEG_INFINITY, 3)),
        ["ZRANGE", "z", "-inf", "3", "BYSCORE"]
    );
    assert_eq!(
        args(&zrange_options(
            "z",
            "+inf",
            "(1",
            ZRangeOptions::new()
                .by_score()
                .rev(true)
                .limit(0, 5)
                .withscores(true)
        )),
        [
            "ZRANGE",
            "z",
            "+inf",
            "(1",
            "BYSCORE",
            "REV",
            "LIMIT",
            "0",
            "5",
            "WITHSCORES"
        ]
    );
    assert_eq!(
        args(&zrangestore(
            "d",
            "z",
            "[a",
            "+",
            ZRangeOptions::new().by_lex()
        )),
        ["ZRANGESTORE", "d", "z", "[a", "+", "BYLEX"]
    );
    assert_eq!(
        args(&zrevrangebyscore_limit_withscores(
            "z", "+inf", "-inf", 1, 2
        )),
        [
            "ZREVRANGEBYSCORE",
            "z",
            "+inf",
            "-inf",
            "WITHSCORES",
            "LIMIT",
            "1",
            "2"
        ]
    );
    assert_eq!(args(&zpopmin_count("z", 2)), ["ZPOPMIN", "z", "2"]);
    assert_eq!(
        args(&bzpopmax(["a", "b"], 0.1)),
        ["BZPOPMAX", "a", "b", "0.1"]
    );
    assert_eq!(
        args(&zmpop_count(["a"], MinMax::Max, 3)),
        ["ZMPOP", "1", "a", "MAX", "COUNT", "3"]
    );
    assert_eq!(
        args(&bzmpop(["a", "b"], MinMax::Min, 1.0)),
        ["BZMPOP", "1", "2", "a", "b", "MIN"]
    );
    assert_eq!(
        args(&zrandmember_withscores("z", 2)),
        ["ZRANDMEMBER", "z", "2", "WITHSCORES"]
    );
    assert_eq!(
        args(&zunion_withscores(["a", "b"])),
        ["ZUNION", "2", "a", "b", "WITHSCORES"]
    );
    let o = ZAggregateOptions::new()
        .weights([2.0, 0.5])
        .aggregate(Aggregate::Max)
        .withscores(true);
    assert_eq!(
        args(&zinter_options(["a", "b"], o)),
        [
            "ZINTER",
            "2",
            "a",
            "b",
            "WEIGHTS",
            "2",
            "0.5",
            "AGGREGATE",
            "MAX",
            "WITHSCORES"
        ]
    );
    let o = ZAggregateOptions::new().aggregate(Aggregate::Sum);
    assert_eq!(
        args(&zunionstore_options("d", vec!["a"], o)),
        ["ZUNIONSTORE", "d", "1", "a", "AGGREGATE", "SUM"]
    );
    assert_eq!(
        opt_args(&ZAggregateOptions::new().aggregate(Aggregate::Min)),
        ["AGGREGATE", "MIN"]
    );
    assert_eq!(
        args(&zdiffstore("d", ["a", "b"])),
        ["ZDIFFSTORE", "d", "2", "a", "b"]
    );
    assert_eq!(
        args(&zintercard_limit(["a", "b"], 1)),
        ["ZINTERCARD", "2", "a", "b", "LIMIT", "1"]
    );
}

#[test]
fn hashes() {
    assert_eq!(args(&hset("h", "f", 1)), ["HSET", "h", "f", "1"]);
    let m: BTreeMap<&str, i32> = [("a", 1), ("b", 2)].into_iter().collect();
    assert_eq!(
        args(&hset_multiple("h", &m)),
        ["HSET", "h", "a", "1", "b", "2"]
    );
    assert_eq!(args(&hmget("h", ["a", "b"])), ["HMGET", "h", "a", "b"]);
    assert_eq!(
        args(&hincrbyfloat("h", "f", 2.5)),
        ["HINCRBYFLOAT", "h", "f", "2.5"]
    );
    assert_eq!(
        args(&hrandfield_withvalues("h", -2)),
        ["HRANDFIELD", "h", "-2", "WITHVALUES"]
    );
}

#[test]
fn bitmaps() {
    assert_eq!(args(&setbit("b", 7, true)), ["SETBIT", "b", "7", "1"]);
    assert_eq!(
        args(&bitcount_range_bits("b", 0, 9)),
        ["BITCOUNT", "b", "0", "9", "BIT"]
    );
    assert_eq!(
        args(&bitop(BitOp::Xor, "d", ["a", "b"])),
        ["BITOP", "XOR", "d", "a", "b"]
    );
    assert_eq!(
        args(&bitop(BitOp::Not, "d", "a")),
        ["BITOP", "NOT", "d", "a"]
    );
    assert_eq!(opt_args(&BitOp::And), ["AND"]);
    assert_eq!(opt_args(&BitOp::Or), ["OR"]);
    assert_eq!(
        args(&bitpos_range("b", false, 2, -1)),
        ["BITPOS", "b", "0", "2", "-1"]
    );
    let ops = BitFieldOps::new()
        .get("u8", 0)
        .overflow(Overflow::Sat)
        .incrby("i5", "#1", 3)
        .set("u4", 8, 9);
    assert_eq!(
        args(&bitfield("b", ops)),
        [
            "BITFIELD", "b", "GET", "u8", "0", "OVERFLOW", "SAT", "INCRBY", "i5", "#1", "3", "SET",
            "u4", "8", "9"
        ]
    );
    assert_eq!(opt_args(&Overflow::Wrap), ["WRAP"]);
    assert_eq!(opt_args(&Overflow::Fail), ["FAIL"]);
    assert_eq!(
        args(&bitfield_ro("b", BitFieldOps::new().get("i8", 4))),
        ["BITFIELD_RO", "b", "GET", "i8", "4"]
    );
}

#[test]
fn geo() {
    assert_eq!(
        args(&geoadd("g", (13.361389, 38.115556, "Palermo"))),
        ["GEOADD", "g", "13.361389", "38.115556", "Palermo"]
    );
    assert_eq!(
        args(&geoadd_options(
            "g",
            (1.0, 2.0, "m"),
            GeoAddOptions::new().existence(Existence::Xx).ch(true)
        )),
        ["GEOADD", "g", "XX", "CH", "1", "2", "m"]
    );
    assert_eq!(
        args(&geodist_unit("g", "a", "b", GeoUnit::Kilometers)),
        ["GEODIST", "g", "a", "b", "km"]
    );
    for (u, s) in [
        (GeoUnit::Meters, "m"),
        (GeoUnit::Miles, "mi"),
        (GeoUnit::Feet, "ft"),
    ] {
        assert_eq!(opt_args(&u), [s]);
    }
    let s = GeoSearch::from_member("Palermo", GeoBy::Radius(200.0, GeoUnit::Kilometers))
        .order(SortOrder::Asc)
        .count(3)
        .any(true)
        .withcoord(true)
        .withdist(true)
        .withhash(true);
    assert_eq!(
        args(&geosearch("g", s)),
        [
            "GEOSEARCH",
            "g",
            "FROMMEMBER",
            "Palermo",
            "BYRADIUS",
            "200",
            "km",
            "ASC",
            "COUNT",
            "3",
            "ANY",
            "WITHCOORD",
            "WITHDIST",
            "WITHHASH"
        ]
    );
    let s = GeoSearch::from_lonlat(15.0, 37.0, GeoBy::Box(400.0, 300.5, GeoUnit::Meters))
        .storedist(true);
    assert_eq!(
        args(&geosearchstore("d", "g", s)),
        [
            "GEOSEARCHSTORE",
            "d",
            "g",
            "FROMLONLAT",
            "15",
            "37",
            "BYBOX",
            "400",
            "300.5",
            "m",
            "STOREDIST"
        ]
    );
    // `any` without `count` is not sent (the server would reject it).
    assert_eq!(opt_args(&GeoOptions::new().any(true)), Vec::<String>::new());
    let o = GeoOptions::new().withdist(true).order(SortOrder::Desc);
    assert_eq!(
        args(&georadius("g", 15.0, 37.0, 100.0, GeoUnit::Kilometers, o)),
        [
            "GEORADIUS",
            "g",
            "15",
            "37",
            "100",
            "km",
            "DESC",
            "WITHDIST"
        ]
    );
    assert_eq!(
        args(&georadiusbymember_ro(
            "g",
            "m",
            5.0,
            GeoUnit::Miles,
            GeoOptions::new()
        )),
        ["GEORADIUSBYMEMBER_RO", "g", "m", "5", "mi"]
    );
}

#[test]
fn streams() {
    assert_eq!(
        args(&xadd("s", "*", &[("f", "v"), ("g", "w")][..])),
        ["XADD", "s", "*", "f", "v", "g", "w"]
    );
    let m: BTreeMap<&str, i32> = [("a", 1)].into_iter().collect();
    assert_eq!(args(&xadd_map("s", "*", &m)), ["XADD", "s", "*", "a", "1"]);
    let o = XAddOptions::new()
        .nomkstream(true)
        .trim(StreamTrim::maxlen(1000).approx(true).limit(10));
    assert_eq!(
        args(&xadd_options("s", "*", ("f", "v"), o)),
        [
            "XADD",
            "s",
            "NOMKSTREAM",
            "MAXLEN",
            "~",
            "1000",
            "LIMIT",
            "10",
            "*",
            "f",
            "v"
        ]
    );
    assert_eq!(
        args(&xtrim("s", StreamTrim::minid("1-0"))),
        ["XTRIM", "s", "MINID", "=", "1-0"]
    );
    assert_eq!(
        args(&xrange_count("s", "-", "+", 5)),
        ["XRANGE", "s", "-", "+", "COUNT", "5"]
    );
    assert_eq!(args(&xrevrange_all("s")), ["XREVRANGE", "s", "+", "-"]);
    assert_eq!(
        args(&xread(["a", "b"], ["0", "$"])),
        ["XREAD", "STREAMS", "a", "b", "0", "$"]
    );
    let o = StreamReadOptions::new().count(10).block(5000);
    assert_eq!(o.block_ms(), Some(5000));
    assert_eq!(
        args(&xread_options("a", "$", o)),
        ["XREAD", "COUNT", "10", "BLOCK", "5000", "STREAMS", "a", "$"]
    );
    let o = StreamReadOptions::new().block(0).noack(true);
    assert_eq!(
        args(&xreadgroup_options("g", "c", "a", ">", o)),
        [
            "XREADGROUP",
            "GROUP",
            "g",
            "c",
            "BLOCK",
            "0",
            "NOACK",
            "STREAMS",
            "a",
            ">"
        ]
    );
    assert_eq!(
        args(&xgroup_create_mkstream("s", "g", "$")),
        ["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]
    );
    let o = XGroupCreateOptions::new().mkstream(true).entries_read(7);
    assert_eq!(
        args(&xgroup_create_options("s", "g", "0", o)),
        [
            "XGROUP",
            "CREATE",
            "s",
            "g",
            "0",
            "MKSTREAM",
            "ENTRIESREAD",
            "7"
        ]
    );
    assert_eq!(
        args(&xgroup_setid_entriesread("s", "g", "0", 3)),
        ["XGROUP", "SETID", "s", "g", "0", "ENTRIESREAD", "3"]
    );
    assert_eq!(
        args(&xack("s", "g", ["1-0", "2-0"])),
        ["XACK", "s", "g", "1-0", "2-0"]
    );
    assert_eq!(args(&xpending("s", "g")), ["XPENDING", "s", "g"]);
    let o = XPendingOptions::new("-", "+", 10)
        .idle(60000)
        .consumer("c1");
    assert_eq!(
        args(&xpending_options("s", "g", o)),
        ["XPENDING", "s", "g", "IDLE", "60000", "-", "+", "10", "c1"]
    );
    assert_eq!(
        opt_args(&XPendingOptions::new("1-0", "+", 5)),
        ["1-0", "+", "5"]
    );
    let o = XClaimOptions::new()
        .idle(1)
        .time(2)
        .retrycount(3)
        .force(true)
        .justid(true)
        .lastid("9-0");
    assert_eq!(
        args(&xclaim_options("s", "g", "c", 3600000, ["1-0"], o)),
        [
            "XCLAIM",
            "s",
            "g",
            "c",
            "3600000",
            "1-0",
            "IDLE",
            "1",
            "TIME",
            "2",
            "RETRYCOUNT",
            "3",
            "FORCE",
            "JUSTID",
            "LASTID",
            "9-0"
        ]
    );
    let o = XAutoClaimOptions::new().count(25).justid(true);
    assert_eq!(
        args(&xautoclaim_options("s", "g", "c", 10, "0-0", o)),
        [
            "XAUTOCLAIM",
            "s",
            "g",
            "c",
            "10",
            "0-0",
            "COUNT",
            "25",
            "JUSTID"
        ]
    );
    assert_eq!(
        args(&xinfo_stream_full("s", Some(0))),
        ["XINFO", "STREAM", "s", "FULL", "COUNT", "0"]
    );
    assert_eq!(
        args(&xinfo_stream_full("s", None)),
        ["XINFO", "STREAM", "s", "FULL"]
    );
    assert_eq!(
        args(&xinfo_consumers("s", "g")),
        ["XINFO", "CONSUMERS", "s", "g"]
    );
}

#[test]
fn scripting() {
    assert_eq!(
        args(&eval("return 1", ["k1", "k2"], ["a"])),
        ["EVAL", "return 1", "2", "k1", "k2", "a"]
    );
    assert_eq!(
        args(&evalsha_ro("abc", None::<&str>, None::<&str>)),
        ["EVALSHA_RO", "abc", "0"]
    );
    assert_eq!(
        args(&fcall("f", "k", (1, 2))),
        ["FCALL", "f", "1", "k", "1", "2"]
    );
    assert_eq!(
        args(&script_flush_mode(FlushMode::Async)),
        ["SCRIPT", "FLUSH", "ASYNC"]
    );
    assert_eq!(args(&flushall_mode(FlushMode::Sync)), ["FLUSHALL", "SYNC"]);
    assert_eq!(
        args(&function_load_replace("#!lua name=l")),
        ["FUNCTION", "LOAD", "REPLACE", "#!lua name=l"]
    );
    assert_eq!(
        args(&function_list_options("my*", true)),
        ["FUNCTION", "LIST", "LIBRARYNAME", "my*", "WITHCODE"]
    );
    assert_eq!(
        args(&function_restore(
            &b"xyz"[..],
            Some(FunctionRestorePolicy::Replace)
        )),
        ["FUNCTION", "RESTORE", "xyz", "REPLACE"]
    );
    assert_eq!(
        args(&function_restore("p", None)),
        ["FUNCTION", "RESTORE", "p"]
    );
    assert_eq!(opt_args(&FunctionRestorePolicy::Flush), ["FLUSH"]);
    assert_eq!(opt_args(&FunctionRestorePolicy::Append), ["APPEND"]);
}

#[test]
fn server_and_connection() {
    assert_eq!(args(&ping()), ["PING"]);
    assert_eq!(args(&client_setname("app")), ["CLIENT", "SETNAME", "app"]);
    assert_eq!(args(&client_no_evict(true)), ["CLIENT", "NO-EVICT", "ON"]);
    assert_eq!(args(&client_caching(false)), ["CLIENT", "CACHING", "NO"]);
    let o = ClientTrackingOptions::new()
        .redirect(42)
        .prefix("a:")
        .prefix("b:")
        .bcast(true)
        .optin(true)
        .optout(true)
        .noloop(true);
    assert_eq!(
        args(&client_tracking_on(o)),
        [
            "CLIENT", "TRACKING", "ON", "REDIRECT", "42", "PREFIX", "a:", "PREFIX", "b:", "BCAST",
            "OPTIN", "OPTOUT", "NOLOOP"
        ]
    );
    assert_eq!(
        args(&client_kill(("ID", 12))),
        ["CLIENT", "KILL", "ID", "12"]
    );
    assert_eq!(
        args(&client_pause_write(100)),
        ["CLIENT", "PAUSE", "100", "WRITE"]
    );
    assert_eq!(
        args(&info_section(["server", "clients"])),
        ["INFO", "server", "clients"]
    );
    assert_eq!(
        args(&config_set_multiple(
            &[("maxmemory", "10mb"), ("hz", "20")][..]
        )),
        ["CONFIG", "SET", "maxmemory", "10mb", "hz", "20"]
    );
    assert_eq!(
        args(&command_getkeys(["SET", "k", "v"])),
        ["COMMAND", "GETKEYS", "SET", "k", "v"]
    );
    assert_eq!(
        args(&command_list_filterby(("ACLCAT", "read"))),
        ["COMMAND", "LIST", "FILTERBY", "ACLCAT", "read"]
    );
    assert_eq!(
        args(&command_docs(Vec::<String>::new())),
        ["COMMAND", "DOCS"]
    );
    assert_eq!(
        args(&memory_usage_samples("k", 0)),
        ["MEMORY", "USAGE", "k", "SAMPLES", "0"]
    );
    assert_eq!(args(&replicaof_no_one()), ["REPLICAOF", "NO", "ONE"]);
    assert_eq!(
        args(&acl_setuser("u", ["on", ">pw", "~*", "+@all"])),
        ["ACL", "SETUSER", "u", "on", ">pw", "~*", "+@all"]
    );
    assert_eq!(args(&acl_log_reset()), ["ACL", "LOG", "RESET"]);
    assert_eq!(
        args(&cluster_getkeysinslot(7000, 10)),
        ["CLUSTER", "GETKEYSINSLOT", "7000", "10"]
    );
}

#[test]
fn counted_writes_the_number_of_arguments() {
    assert_eq!(opt_args(&Counted("k")), ["1", "k"]);
    assert_eq!(opt_args(&Counted(["a", "b", "c"])), ["3", "a", "b", "c"]);
    assert_eq!(opt_args(&Counted(Vec::<String>::new())), ["0"]);
    // A binary key is one argument.
    assert_eq!(opt_args(&Counted(vec![0u8, 1, 2])).len(), 2);
}
