//! Option types for commands with many optional arguments. Each is a plain struct or enum
//! with a builder, and each implements [`ToArgs`] so it is just more arguments to the
//! command.

use crate::types::{ArgSink, ToArgs};

/// Writes `NAME value` when the value is set.
fn opt<T: ToArgs>(out: &mut dyn ArgSink, name: &[u8], value: &Option<T>) {
    if let Some(v) = value {
        out.push_arg(name);
        v.write_args(out);
    }
}

/// Writes `NAME` when the flag is set.
fn flag(out: &mut dyn ArgSink, name: &[u8], yes: bool) {
    if yes {
        out.push_arg(name);
    }
}

// ---- shared small types -------------------------------------------------------------------

/// Writes the number of arguments of the inner value, then the arguments: the
/// `numkeys key [key ...]` shape of `EVAL`, `ZUNION`, `LMPOP`, `SINTERCARD` and friends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counted<T>(pub T);

impl<T: ToArgs> ToArgs for Counted<T> {
    fn write_args(&self, out: &mut dyn ArgSink) {
        let items = self.0.to_arg_vec();
        items.len().write_args(out);
        for item in &items {
            out.push_arg(item);
        }
    }
}

/// Expiry for `SET` and `GETEX`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    /// `EX seconds`
    Ex(u64),
    /// `PX milliseconds`
    Px(u64),
    /// `EXAT unix-seconds`
    ExAt(u64),
    /// `PXAT unix-milliseconds`
    PxAt(u64),
    /// `KEEPTTL` (SET) / `PERSIST` (GETEX)
    Keep,
}

impl ToArgs for Expiry {
    /// Writes the `SET` form; `Keep` is `KEEPTTL` (`getex` turns it into `PERSIST`).
    fn write_args(&self, out: &mut dyn ArgSink) {
        match *self {
            Expiry::Ex(s) => ("EX", s).write_args(out),
            Expiry::Px(s) => ("PX", s).write_args(out),
            Expiry::ExAt(s) => ("EXAT", s).write_args(out),
            Expiry::PxAt(s) => ("PXAT", s).write_args(out),
            Expiry::Keep => out.push_arg(b"KEEPTTL"),
        }
    }
}

/// Only act if the key (or member) is / is not there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existence {
    /// `NX`: only if it does not exist.
    Nx,
    /// `XX`: only if it exists.
    Xx,
}

impl ToArgs for Existence {
    fn write_args(&self, out: &mut dyn ArgSink) {
        out.push_arg(match self {
            Existence::Nx => b"NX",
            Existence::Xx => b"XX",
        });
    }
}

/// Only update if the new value is greater / less than the current one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    /// `GT`: only if the new value is greater.
    Gt,
    /// `LT`: only if the new value is less.
    Lt,
}

impl ToArgs for Comparison {
    fn write_args(&self, out: &mut dyn ArgSink) {
        out.push_arg(match self {
            Comparison::Gt => b"GT",
            Comparison::Lt => b"LT",
        });
    }
}

/// Condition of `EXPIRE`, `PEXPIRE`, `EXPIREAT`, `PEXPIREAT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpireOption {
    /// `NX`: only if the key has no expiry.
    Nx,
    /// `XX`: only if the key already has an expiry.
    Xx,
    /// `GT`: only if the new expiry is later than the current one.
    Gt,
    /// `LT`: only if the new expiry is earlier than the current one.
    Lt,
}

impl ToArgs for ExpireOption {
    fn write_args(&self, out: &mut dyn ArgSink) {
        out.push_arg(match self {
            ExpireOption::Nx => b"NX",
            ExpireOption::Xx => b"XX",
            ExpireOption::Gt => b"GT",
            ExpireOption::Lt => b"LT",
        });
    }
}

/// Which end of a list (`LMOVE`, `BLMOVE`, `LMPOP`, `BLMPOP`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// `LEFT`: the head.
    Left,
    /// `RIGHT`: the tail.
    Right,
}

impl ToArgs for Direction {
    fn write_args(&self, out: &mut dyn ArgSink) {
        out.push_arg(match self {
            Direction::Left => b"LEFT",
            Direction::Right => b"RIGHT",
        });
    }
}

/// Which end of a sorted set (`ZMPOP`, `BZMPOP`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MinMax {
    /// `MIN`: lowest scores first.
    Min,
    /// `MAX`: highest scores first.
    Max,
}

impl ToArgs for MinMax {
    fn write_args(&self, out: &mut dyn ArgSink) {
        out.push_arg(match self {
            MinMax::Min => b"MIN",
            MinMax::Max => b"MAX",
        });
    }
}

/// Sort order (`SORT`, `GEOSEARCH`, `GEORADIUS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortOrder {
    /// `ASC`
    Asc,
    /// `DESC`
    Desc,
}

impl ToArgs for SortOrder {
    fn write_args(&self, out: &mut dyn ArgSink) {
        out.push_arg(match self {
            SortOrder::Asc => b"ASC",
            SortOrder::Desc => b"DESC",
        });
    }
}

/// `ASYNC` or `SYNC` for `FLUSHALL`, `FLUSHDB`, `SCRIPT FLUSH`, `FUNCTION FLUSH`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlushMode {
    /// `ASYNC`: free memory in the background.
    Async,
    /// `SYNC`: free memory before replying.
    Sync,
}

impl ToArgs for FlushMode {
    fn write_args(&self, out: &mut dyn ArgSink) {
        out.push_arg(match self {
            FlushMode::Async => b"ASYNC",
            FlushMode::Sync => b"SYNC",
        });
    }
}

/// Bitwise operation of `BITOP`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BitOp {
    /// `AND`
    And,
    /// `OR`
    Or,
    /// `XOR`
    Xor,
    /// `NOT` (exactly one source key).
    Not,
}

impl ToArgs for BitOp {
    fn write_args(&self, out: &mut dyn ArgSink) {
        out.push_arg(match self {
            BitOp::And => b"AND",
            BitOp::Or => b"OR",
            BitOp::Xor => b"XOR",
            BitOp::Not => b"NOT",
        });
    }
}

/// Unit of distances in the geo commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GeoUnit {
    /// `m`
    Meters,
    /// `km`
    Kilometers,
    /// `mi`
    Miles,
    /// `ft`
    Feet,
}

impl ToArgs for GeoUnit {
    fn write_args(&self, out: &mut dyn ArgSink) {
        out.push_arg(match self {
            GeoUnit::Meters => b"m",
            GeoUnit::Kilometers => b"km",
            GeoUnit::Miles => b"mi",
            GeoUnit::Feet => b"ft",
        });
    }
}

/// How `ZUNION`, `ZINTER` and their `STORE` forms combine scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aggregate {
    /// `SUM` (the server's default)
    Sum,
    /// `MIN`
    Min,
    /// `MAX`
    Max,
}

impl ToArgs for Aggregate {
    fn write_args(&self, out: &mut dyn ArgSink) {
        out.push_arg(match self {
            Aggregate::Sum => b"SUM",
            Aggregate::Min => b"MIN",
            Aggregate::Max => b"MAX",
        });
    }
}

/// What `FUNCTION RESTORE` does with existing libraries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FunctionRestorePolicy {
    /// `FLUSH`: delete all existing libraries first.
    Flush,
    /// `APPEND`: add, failing on a name clash (the server's default).
    Append,
    /// `REPLACE`: add, replacing libraries with the same name.
    Replace,
}

impl ToArgs for FunctionRestorePolicy {
    fn write_args(&self, out: &mut dyn ArgSink) {
        out.push_arg(match self {
            FunctionRestorePolicy::Flush => b"FLUSH",
            FunctionRestorePolicy::Append => b"APPEND",
            FunctionRestorePolicy::Replace => b"REPLACE",
        });
    }
}

// ---- strings ------------------------------------------------------------------------------

/// Options of `SET`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SetOptions {
    expiry: Option<Expiry>,
    existence: Option<Existence>,
    get: bool,
}

impl SetOptions {
    /// No options.
    pub fn new() -> SetOptions {
        SetOptions::default()
    }

    /// Sets the expiry (`EX`, `PX`, `EXAT`, `PXAT` or `KEEPTTL`).
    pub fn expiry(mut self, e: Expiry) -> SetOptions {
        self.expiry = Some(e);
        self
    }

    /// `NX` or `XX`.
    pub fn existence(mut self, e: Existence) -> SetOptions {
        self.existence = Some(e);
        self
    }

    /// `GET`: return the old value.
    pub fn get(mut self, yes: bool) -> SetOptions {
        self.get = yes;
        self
    }
}

impl ToArgs for SetOptions {
    fn write_args(&self, out: &mut dyn ArgSink) {
        self.existence.write_args(out);
        flag(out, b"GET", self.get);
        self.expiry.write_args(out);
    }
}

// ---- keys ---------------------------------------------------------------------------------

/// Options of `SCAN`, `SSCAN`, `HSCAN` and `ZSCAN`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScanOptions {
    pattern: Option<Vec<u8>>,
    count: Option<u64>,
    key_type: Option<Vec<u8>>,
}

impl ScanOptions {
    /// No options.
    pub fn new() -> ScanOptions {
        ScanOptions::default()
    }

    /// `MATCH pattern`: only return elements matching a glob-style pattern.
    pub fn pattern(mut self, pattern: impl Into<Vec<u8>>) -> ScanOptions {
        self.pattern = Some(pattern.into());
        self
    }

    /// `COUNT n`: a hint of how much work to do per call.
    pub fn count(mut self, n: u64) -> ScanOptions {
        self.count = Some(n);
        self
    }

    /// `TYPE type` (`SCAN` only): only return keys of this type (`string`, `hash`, ...).
    pub fn key_type(mut self, t: impl Into<Vec<u8>>) -> ScanOptions {
        self.key_type = Some(t.into());
        self
    }
}

impl ToArgs for ScanOptions {
    fn write_args(&self, out: &mut dyn ArgSink) {
        opt(out, b"MATCH", &self.pattern);
        opt(out, b"COUNT", &self.count);
        opt(out, b"TYPE", &self.key_type);
    }
}

/// Options of `SORT` and `SORT_RO`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SortOptions {
    by: Option<Vec<u8>>,
    limit: Option<(i64, i64)>,
    get: Vec<Vec<u8>>,
    order: Option<SortOrder>,
    alpha: bool,
    store: Option<Vec<u8>>,
}

impl SortOptions {
    /// No options: sort numerically, ascending.
    pub fn new() -> SortOptions {
        SortOptions::default()
    }

    /// `BY pattern`: sort by external keys (`weight_*`, or `nosort`).
    pub fn by(mut self, pattern: impl Into<Vec<u8>>) -> SortOptions {
        self.by = Some(pattern.into());
        self
    }

    /// `LIMIT offset count`.
    pub fn limit(mut self, offset: i64, count: i64) -> SortOptions {
        self.limit = Some((offset, count));
        self
    }

    /// `GET pattern`, once per call: return external keys instead of the elements (`#`
    /// for the element itself).
    pub fn get(mut self, pattern: impl Into<Vec<u8>>) -> SortOptions {
        self.get.push(pattern.into());
        self
    }

    /// `ASC` or `DESC`.
    pub fn order(mut self, order: SortOrder) -> SortOptions {
        self.order = Some(order);
        self
    }

    /// `ALPHA`: sort lexicographically instead of numerically.
    pub fn alpha(mut self, yes: bool) -> SortOptions {
        self.alpha = yes;
        self
    }

    /// `STORE destination` (`SORT` only): store the result and return its length.
    pub fn store(mut self, destination: impl Into<Vec<u8>>) -> SortOptions {
        self.store = Some(destination.into());
        self
    }
}

impl ToArgs for SortOptions {
    fn write_args(&self, out: &mut dyn ArgSink) {
        opt(out, b"BY", &self.by);
        if let Some((offset, count)) = self.limit {
            ("LIMIT", offset, count).write_args(out);
        }
        for pattern in &self.get {
            out.push_arg(b"GET");
            out.push_arg(pattern);
        }
        self.order.write_args(out);
        flag(out, b"ALPHA", self.alpha);
        opt(out, b"STORE", &self.store);
    }
}

/// Options of `RESTORE`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RestoreOptions {
    replace: bool,
    absttl: bool,
    idletime: Option<u64>,
    freq: Option<u64>,
}

impl RestoreOptions {
    /// No options.
    pub fn new() -> RestoreOptions {
        RestoreOptions::default()
    }

    /// `REPLACE`: overwrite an existing key.
    pub fn replace(mut self, yes: bool) -> RestoreOptions {
        self.replace = yes;
        self
    }

    /// `ABSTTL`: the ttl is a unix time in milliseconds.
    pub fn absttl(mut self, yes: bool) -> RestoreOptions {
        self.absttl = yes;
        self
    }

    /// `IDLETIME seconds` (LRU eviction policies).
    pub fn idletime(mut self, seconds: u64) -> RestoreOptions {
        self.idletime = Some(seconds);
        self
    }

    /// `FREQ frequency` (LFU eviction policies).
    pub fn freq(mut self, frequency: u64) -> RestoreOptions {
        self.freq = Some(frequency);
        self
    }
}

impl ToArgs for RestoreOptions {
    fn write_args(&self, out: &mut dyn ArgSink) {
        flag(out, b"REPLACE", self.replace);
        flag(out, b"ABSTTL", self.absttl);
        opt(out, b"IDLETIME", &self.idletime);
        opt(out, b"FREQ", &self.freq);
    }
}

/// Options of `MIGRATE`. `Debug` never shows the passwords.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct MigrateOptions {
    copy: bool,
    replace: bool,
    auth: Option<Vec<u8>>,
    auth2: Option<(Vec<u8>, Vec<u8>)>,
}

impl MigrateOptions {
    /// No options.
    pub fn new() -> MigrateOptions {
        MigrateOptions::default()
    }

    /// `COPY`: keep the key on the source.
    pub fn copy(mut self, yes: bool) -> MigrateOptions {
        self.copy = yes;
        self
    }

    /// `REPLACE`: overwrite the key on the target.
    pub fn replace(mut self, yes: bool) -> MigrateOptions {
        self.replace = yes;
        self
    }

    /// `AUTH password`: authenticate to the target with the default user.
    pub fn auth(mut self, password: impl Into<Vec<u8>>) -> MigrateOptions {
        self.auth = Some(password.into());
        self
    }

    /// `AUTH2 username password`: authenticate to the target as an ACL user.
    pub fn auth2(
        mut self,
        username: impl Into<Vec<u8>>,
        password: impl Into<Vec<u8>>,
    ) -> MigrateOptions {
        self.auth2 = Some((username.into(), password.into()));
        self
    }
}

impl std::fmt::Debug for MigrateOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MigrateOptions")
            .field("copy", &self.copy)
            .field("replace", &self.replace)
            .field("auth", &self.auth.as_ref().map(|_| "<redacted>"))
            .field("auth2", &self.auth2.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl ToArgs for MigrateOptions {
    fn write_args(&self, out: &mut dyn ArgSink) {
        flag(out, b"COPY", self.copy);
        flag(out, b"REPLACE", self.replace);
        opt(out, b"AUTH", &self.auth);
        if let Some((user, pass)) = &self.auth2 {
            out.push_arg(b"AUTH2");
            out.push_arg(user);
            out.push_arg(pass);
        }
    }
}

// ---- lists --------------------------------------------------------------------------------

/// Options of `LPOS`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LposOptions {
    rank: Option<i64>,
    count: Option<u64>,
    maxlen: Option<u64>,
}

impl LposOptions {
    /// No options.
    pub fn new() -> LposOptions {
        LposOptions::default()
    }

    /// `RANK n`: skip to the n-th match (negative: search from the tail).
    pub fn rank(mut self, rank: i64) -> LposOptions {
        self.rank = Some(rank);
        self
    }

    /// `COUNT n`: return up to n positions as an array (0 = all).
    pub fn count(mut self, count: u64) -> LposOptions {
        self.count = Some(count);
        self
    }

    /// `MAXLEN n`: compare at most n elements.
    pub fn maxlen(mut self, maxlen: u64) -> LposOptions {
        self.maxlen = Some(maxlen);
        self
    }
}

impl ToArgs for LposOptions {
    fn write_args(&self, out: &mut dyn ArgSink) {
        opt(out, b"RANK", &self.rank);
        opt(out, b"COUNT", &self.count);
        opt(out, b"MAXLEN", &self.maxlen);
    }
}

// ---- sorted sets --------------------------------------------------------------------------

/// Options of `ZADD`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ZAddOptions {
    existence: Option<Existence>,
    comparison: Option<Comparison>,
    ch: bool,
    incr: bool,
}

impl ZAddOptions {
    /// No options.
    pub fn new() -> ZAddOptions {
        ZAddOptions::default()
    }

    /// `NX` (only add new members) or `XX` (only update existing ones).
    pub fn existence(mut self, e: Existence) -> ZAddOptions {
        self.existence = Some(e);
        self
    }

    /// `GT` or `LT`: only update when the new score is greater / less.
    pub fn comparison(mut self, c: Comparison) -> ZAddOptions {
        self.comparison = Some(c);
        self
    }

    /// `CH`: return the number of changed members, not only added ones.
    pub fn ch(mut self, yes: bool) -> ZAddOptions {
        self.ch = yes;
        self
    }

    /// `INCR`: act like `ZINCRBY` (one score/member pair) and return the new score.
    pub fn incr(mut self, yes: bool) -> ZAddOptions {
        self.incr = yes;
        self
    }
}

impl ToArgs for ZAddOptions {
    fn write_args(&self, out: &mut dyn ArgSink) {
        self.existence.write_args(out);
        self.comparison.write_args(out);
        flag(out, b"CH", self.ch);
        flag(out, b"INCR", self.incr);
    }
}

/// How `ZRANGE` and `ZRANGESTORE` interpret `start` and `stop`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ZRangeBy {
    Score,
    Lex,
}

/// Options of `ZRANGE` and `ZRANGESTORE` (after `start stop`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ZRangeOptions {
    by: Option<ZRangeBy>,
    rev: bool,
    limit: Option<(i64, i64)>,
    withscores: bool,
}

impl ZRangeOptions {
    /// No options: `start` and `stop` are ranks.
    pub fn new() -> ZRangeOptions {
        ZRangeOptions::default()
    }

    /// `BYSCORE`: `start`/`stop` are scores (`"-inf"`, `"(1.5"` work).
    pub fn by_score(mut self) -> ZRangeOptions {
        self.by = Some(ZRangeBy::Score);
        self
    }

    /// `BYLEX`: `start`/`stop` are lexical bounds (`"[a"`, `"(b"`, `"-"`, `"+"`).
    pub fn by_lex(mut self) -> ZRangeOptions {
        self.by = Some(ZRangeBy::Lex);
        self
    }

    /// `REV`: highest first (with `BYSCORE`/`BYLEX`, pass the high bound as `start`).
    pub fn rev(mut self, yes: bool) -> ZRangeOptions {
        self.rev = yes;
        self
    }

    /// `LIMIT offset count` (needs `BYSCORE` or `BYLEX`; a negative count means all).
    pub fn limit(mut self, offset: i64, count: i64) -> ZRangeOptions {
        self.limit = Some((offset, count));
        self
    }

    /// `WITHSCORES` (`ZRANGE` only): return member/score pairs.
    pub fn withscores(mut self, yes: bool) -> ZRangeOptions {
        self.withscores = yes;
        self
    }
}

impl ToArgs for ZRangeOptions {
    fn write_args(&self, out: &mut dyn ArgSink) {
        match self.by {
            Some(ZRangeBy::Score) => out.push_arg(b"BYSCORE"),
            Some(ZRangeBy::Lex) => out.push_arg(b"BYLEX"),
            None => {}
        }
        flag(out, b"REV", self.rev);
        if let Some((offset, count)) = self.limit {
            ("LIMIT", offset, count).write_args(out);
        }
        flag(out, b"WITHSCORES", self.withscores);
    }
}

/// Options of `ZUNION`, `ZINTER`, `ZUNIONSTORE` and `ZINTERSTORE` (after the keys).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ZAggregateOptions {
    weights: Vec<f64>,
    aggregate: Option<Aggregate>,
    withscores: bool,
}

impl ZAggregateOptions {
    /// No options.
    pub fn new() -> ZAggregateOptions {
        ZAggregateOptions::default()
    }

    /// `WEIGHTS w ...`: one multiplier per input key, in order.
    pub fn weights(mut self, weights: impl Into<Vec<f64>>) -> ZAggregateOptions {
        self.weights = weights.into();
        self
    }

    /// `AGGREGATE SUM|MIN|MAX`.
    pub fn aggregate(mut self, a: Aggregate) -> ZAggregateOptions {
        self.aggregate = Some(a);
        self
    }

    /// `WITHSCORES` (`ZUNION`/`ZINTER` only; the `STORE` forms reject it).
    pub fn withscores(mut self, yes: bool) -> ZAggregateOptions {
        self.withscores = yes;
        self
    }
}

impl ToArgs for ZAggregateOptions {
    fn write_args(&self, out: &mut dyn ArgSink) {
        if !self.weights.is_empty() {
            out.push_arg(b"WEIGHTS");
            self.weights.write_args(out);
        }
        opt(out, b"AGGREGATE", &self.aggregate);
        flag(out, b"WITHSCORES", self.withscores);
    }
}

// ---- bitmaps ------------------------------------------------------------------------------

/// Overflow behaviour of the `BITFIELD` operations that follow it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overflow {
    /// `WRAP`: wrap around (the default).
    Wrap,
    /// `SAT`: saturate at the type's min/max.
    Sat,
    /// `FAIL`: do nothing and return nil.
    Fail,
}

impl ToArgs for Overflow {
    fn write_args(&self, out: &mut dyn ArgSink) {
        out.push_arg(match self {
            Overflow::Wrap => b"WRAP",
            Overflow::Sat => b"SAT",
            Overflow::Fail => b"FAIL",
        });
    }
}

/// The operations of one `BITFIELD` (or `BITFIELD_RO`, `get` only) call, in order.
///
/// Types are strings like `"u8"` or `"i5"`; offsets are numbers or `"#n"` (n times the
/// type's width).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BitFieldOps {
    args: Vec<Vec<u8>>,
}

impl BitFieldOps {
    /// No operations yet.
    pub fn new() -> BitFieldOps {
        BitFieldOps::default()
    }

    fn push<T: ToArgs>(mut self, items: T) -> BitFieldOps {
        items.write_args(&mut self.args);
        self
    }

    /// `GET type offset`.
    pub fn get<O: ToArgs>(self, encoding: &str, offset: O) -> BitFieldOps {
        self.push(("GET", encoding, offset))
    }

    /// `SET type offset value` (returns the old value).
    pub fn set<O: ToArgs>(self, encoding: &str, offset: O, value: i64) -> BitFieldOps {
        self.push(("SET", encoding, offset, value))
    }

    /// `INCRBY type offset increment` (returns the new value).
    pub fn incrby<O: ToArgs>(self, encoding: &str, offset: O, increment: i64) -> BitFieldOps {
        self.push(("INCRBY", encoding, offset, increment))
    }

    /// `OVERFLOW WRAP|SAT|FAIL` for the `set`/`incrby` operations after it.
    pub fn overflow(self, o: Overflow) -> BitFieldOps {
        self.push(("OVERFLOW", o))
    }
}

impl ToArgs for BitFieldOps {
    fn write_args(&self, out: &mut dyn ArgSink) {
        for a in &self.args {
            out.push_arg(a);
        }
    }
}

// ---- geo ----------------------------------------------------------------------------------

/// Options of `GEOADD`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GeoAddOptions {
    existence: Option<Existence>,
    ch: bool,
}

impl GeoAddOptions {
    /// No options.
    pub fn new() -> GeoAddOptions {
        GeoAddOptions::default()
    }

    /// `NX` (only add new members) or `XX` (only update existing ones).
    pub fn existence(mut self, e: Existence) -> GeoAddOptions {
        self.existence = Some(e);
        self
    }

    /// `CH`: count changed members too, not only added ones.
    pub fn ch(mut self, yes: bool) -> GeoAddOptions {
        self.ch = yes;
        self
    }
}

impl ToArgs for GeoAddOptions {
    fn write_args(&self, out: &mut dyn ArgSink) {
        self.existence.write_args(out);
        flag(out, b"CH", self.ch);
    }
}

/// Reply and ordering options shared by `GEOSEARCH` and `GEORADIUS*`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GeoOptions {
    order: Option<SortOrder>,
    count: Option<u64>,
    any: bool,
    withcoord: bool,
    withdist: bool,
    withhash: bool,
}

impl GeoOptions {
    /// No options.
    pub fn new() -> GeoOptions {
        GeoOptions::default()
    }

    /// `ASC` (nearest first) or `DESC`.
    pub fn order(mut self, order: SortOrder) -> GeoOptions {
        self.order = Some(order);
        self
    }

    /// `COUNT n`: at most n results.
    pub fn count(mut self, n: u64) -> GeoOptions {
        self.count = Some(n);
        self
    }

    /// `ANY` (with `count`): stop at the first n matches, not the n nearest.
    pub fn any(mut self, yes: bool) -> GeoOptions {
        self.any = yes;
        self
    }

    /// `WITHCOORD`: return each member's longitude and latitude.
    pub fn withcoord(mut self, yes: bool) -> GeoOptions {
        self.withcoord = yes;
        self
    }

    /// `WITHDIST`: return each member's distance from the center.
    pub fn withdist(mut self, yes: bool) -> GeoOptions {
        self.withdist = yes;
        self
    }

    /// `WITHHASH`: return each member's raw geohash.
    pub fn withhash(mut self, yes: bool) -> GeoOptions {
        self.withhash = yes;
        self
    }
}

impl ToArgs for GeoOptions {
    fn write_args(&self, out: &mut dyn ArgSink) {
        self.order.write_args(out);
        if let Some(n) = self.count {
            ("COUNT", n).write_args(out);
            flag(out, b"ANY", self.any);
        }
        flag(out, b"WITHCOORD", self.withcoord);
        flag(out, b"WITHDIST", self.withdist);
        flag(out, b"WITHHASH", self.withhash);
    }
}

/// Center of a `GEOSEARCH`.
#[derive(Debug, Clone, PartialEq)]
pub enum GeoFrom {
    /// `FROMMEMBER member`
    Member(Vec<u8>),
    /// `FROMLONLAT longitude latitude`
    LonLat(f64, f64),
}

/// Shape of a `GEOSEARCH`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum GeoBy {
    /// `BYRADIUS radius unit`
    Radius(f64, GeoUnit),
    /// `BYBOX width height unit`
    Box(f64, f64, GeoUnit),
}

/// Arguments of `GEOSEARCH` and `GEOSEARCHSTORE` after the key(s).
#[derive(Debug, Clone, PartialEq)]
pub struct GeoSearch {
    from: GeoFrom,
    by: GeoBy,
    options: GeoOptions,
    storedist: bool,
}

impl GeoSearch {
    /// A search around `from` within `by`.
    pub fn new(from: GeoFrom, by: GeoBy) -> GeoSearch {
        GeoSearch {
            from,
            by,
            options: GeoOptions::default(),
            storedist: false,
        }
    }

    /// A search around an existing member (`FROMMEMBER`).
    pub fn from_member(member: impl Into<Vec<u8>>, by: GeoBy) -> GeoSearch {
        GeoSearch::new(GeoFrom::Member(member.into()), by)
    }

    /// A search around a point (`FROMLONLAT`).
    pub fn from_lonlat(longitude: f64, latitude: f64, by: GeoBy) -> GeoSearch {
        GeoSearch::new(GeoFrom::LonLat(longitude, latitude), by)
    }

    /// Replaces the reply and ordering options at once.
    pub fn options(mut self, options: GeoOptions) -> GeoSearch {
        self.options = options;
        self
    }

    /// `ASC` (nearest first) or `DESC`.
    pub fn order(mut self, order: SortOrder) -> GeoSearch {
        self.options = self.options.order(order);
        self
    }

    /// `COUNT n`: at most n results.
    pub fn count(mut self, n: u64) -> GeoSearch {
        self.options = self.options.count(n);
        self
    }

    /// `ANY` (with `count`): stop at the first n matches.
    pub fn any(mut self, yes: bool) -> GeoSearch {
        self.options = self.options.any(yes);
        self
    }

    /// `WITHCOORD` (`GEOSEARCH` only).
    pub fn withcoord(mut self, yes: bool) -> GeoSearch {
        self.options = self.options.withcoord(yes);
        self
    }

    /// `WITHDIST` (`GEOSEARCH` only).
    pub fn withdist(mut self, yes: bool) -> GeoSearch {
        self.options = self.options.withdist(yes);
        self
    }

    /// `WITHHASH` (`GEOSEARCH` only).
    pub fn withhash(mut self, yes: bool) -> GeoSearch {
        self.options = self.options.withhash(yes);
        self
    }

    /// `STOREDIST` (`GEOSEARCHSTORE` only): store distances instead of geohashes.
    pub fn storedist(mut self, yes: bool) -> GeoSearch {
        self.storedist = yes;
        self
    }
}

impl ToArgs for GeoSearch {
    fn write_args(&self, out: &mut dyn ArgSink) {
        match &self.from {
            GeoFrom::Member(m) => {
                out.push_arg(b"FROMMEMBER");
                out.push_arg(m);
            }
            GeoFrom::LonLat(lon, lat) => ("FROMLONLAT", *lon, *lat).write_args(out),
        }
        match self.by {
            GeoBy::Radius(r, unit) => ("BYRADIUS", r, unit).write_args(out),
            GeoBy::Box(w, h, unit) => ("BYBOX", w, h, unit).write_args(out),
        }
        self.options.write_args(out);
        flag(out, b"STOREDIST", self.storedist);
    }
}

// ---- streams ------------------------------------------------------------------------------

/// The threshold of a stream trim.
#[derive(Debug, Clone, PartialEq, Eq)]
enum TrimThreshold {
    MaxLen(u64),
    MinId(Vec<u8>),
}

/// A stream trim: `MAXLEN|MINID [~] threshold [LIMIT count]`, for `XTRIM` and `XADD`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamTrim {
    threshold: TrimThreshold,
    approx: bool,
    limit: Option<u64>,
}

impl StreamTrim {
    /// `MAXLEN n`: keep at most n entries.
    pub fn maxlen(n: u64) -> StreamTrim {
        StreamTrim {
            threshold: TrimThreshold::MaxLen(n),
            approx: false,
            limit: None,
        }
    }

    /// `MINID id`: drop entries with an id lower than `id`.
    pub fn minid(id: impl Into<Vec<u8>>) -> StreamTrim {
        StreamTrim {
            threshold: TrimThreshold::MinId(id.into()),
            approx: false,
            limit: None,
        }
    }

    /// `~`: trim approximately (whole macro nodes, much cheaper); otherwise exact (`=`).
    pub fn approx(mut self, yes: bool) -> StreamTrim {
        self.approx = yes;
        self
    }

    /// `LIMIT count`: evict at most `count` entries (needs `approx`).
    pub fn limit(mut self, count: u64) -> StreamTrim {
        self.limit = Some(count);
        self
    }
}

impl ToArgs for StreamTrim {
    fn write_args(&self, out: &mut dyn ArgSink) {
        match &self.threshold {
            TrimThreshold::MaxLen(_) => out.push_arg(b"MAXLEN"),
            TrimThreshold::MinId(_) => out.push_arg(b"MINID"),
        }
        out.push_arg(if self.approx { b"~" } else { b"=" });
        match &self.threshold {
            TrimThreshold::MaxLen(n) => n.write_args(out),
            TrimThreshold::MinId(id) => out.push_arg(id),
        }
        opt(out, b"LIMIT", &self.limit);
    }
}

/// Options of `XADD` (written before the id).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct XAddOptions {
    nomkstream: bool,
    trim: Option<StreamTrim>,
}

impl XAddOptions {
    /// No options.
    pub fn new() -> XAddOptions {
        XAddOptions::default()
    }

    /// `NOMKSTREAM`: do not create a missing stream (the reply is then nil).
    pub fn nomkstream(mut self, yes: bool) -> XAddOptions {
        self.nomkstream = yes;
        self
    }

    /// Trim the stream while adding.
    pub fn trim(mut self, trim: StreamTrim) -> XAddOptions {
        self.trim = Some(trim);
        self
    }
}

impl ToArgs for XAddOptions {
    fn write_args(&self, out: &mut dyn ArgSink) {
        flag(out, b"NOMKSTREAM", self.nomkstream);
        self.trim.write_args(out);
    }
}

/// Options of `XREAD` and `XREADGROUP` (written before `STREAMS`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StreamReadOptions {
    count: Option<u64>,
    block: Option<u64>,
    noack: bool,
}

impl StreamReadOptions {
    /// No options: do not block, no count limit.
    pub fn new() -> StreamReadOptions {
        StreamReadOptions::default()
    }

    /// `COUNT n`: at most n entries per stream.
    pub fn count(mut self, n: u64) -> StreamReadOptions {
        self.count = Some(n);
        self
    }

    /// `BLOCK milliseconds`: wait for entries up to this long (0 = forever).
    pub fn block(mut self, milliseconds: u64) -> StreamReadOptions {
        self.block = Some(milliseconds);
        self
    }

    /// `NOACK` (`XREADGROUP` only): do not add the entries to the pending list.
    pub fn noack(mut self, yes: bool) -> StreamReadOptions {
        self.noack = yes;
        self
    }

    /// The `BLOCK` time in milliseconds, if any (clients size their read timeout on it).
    pub fn block_ms(&self) -> Option<u64> {
        self.block
    }
}

impl ToArgs for StreamReadOptions {
    fn write_args(&self, out: &mut dyn ArgSink) {
        opt(out, b"COUNT", &self.count);
        opt(out, b"BLOCK", &self.block);
        flag(out, b"NOACK", self.noack);
    }
}

/// Options of `XGROUP CREATE`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct XGroupCreateOptions {
    mkstream: bool,
    entries_read: Option<u64>,
}

impl XGroupCreateOptions {
    /// No options.
    pub fn new() -> XGroupCreateOptions {
        XGroupCreateOptions::default()
    }

    /// `MKSTREAM`: create the stream if it does not exist.
    pub fn mkstream(mut self, yes: bool) -> XGroupCreateOptions {
        self.mkstream = yes;
        self
    }

    /// `ENTRIESREAD n`: how many entries the group has already read (for lag).
    pub fn entries_read(mut self, n: u64) -> XGroupCreateOptions {
        self.entries_read = Some(n);
        self
    }
}

impl ToArgs for XGroupCreateOptions {
    fn write_args(&self, out: &mut dyn ArgSink) {
        flag(out, b"MKSTREAM", self.mkstream);
        opt(out, b"ENTRIESREAD", &self.entries_read);
    }
}

/// The extended form of `XPENDING`: `[IDLE ms] start end count [consumer]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XPendingOptions {
    idle: Option<u64>,
    start: Vec<u8>,
    end: Vec<u8>,
    count: u64,
    consumer: Option<Vec<u8>>,
}

impl XPendingOptions {
    /// Up to `count` pending entries with ids between `start` and `end` (`"-"`, `"+"`).
    pub fn new(start: impl Into<Vec<u8>>, end: impl Into<Vec<u8>>, count: u64) -> XPendingOptions {
        XPendingOptions {
            idle: None,
            start: start.into(),
            end: end.into(),
            count,
            consumer: None,
        }
    }

    /// `IDLE ms`: only entries idle for at least this long.
    pub fn idle(mut self, milliseconds: u64) -> XPendingOptions {
        self.idle = Some(milliseconds);
        self
    }

    /// Only entries owned by this consumer.
    pub fn consumer(mut self, consumer: impl Into<Vec<u8>>) -> XPendingOptions {
        self.consumer = Some(consumer.into());
        self
    }
}

impl ToArgs for XPendingOptions {
    fn write_args(&self, out: &mut dyn ArgSink) {
        opt(out, b"IDLE", &self.idle);
        out.push_arg(&self.start);
        out.push_arg(&self.end);
        self.count.write_args(out);
        self.consumer.write_args(out);
    }
}

/// Options of `XCLAIM` (after the ids).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct XClaimOptions {
    idle: Option<u64>,
    time: Option<u64>,
    retrycount: Option<u64>,
    force: bool,
    justid: bool,
    lastid: Option<Vec<u8>>,
}

impl XClaimOptions {
    /// No options.
    pub fn new() -> XClaimOptions {
        XClaimOptions::default()
    }

    /// `IDLE ms`: set the entries' idle time.
    pub fn idle(mut self, milliseconds: u64) -> XClaimOptions {
        self.idle = Some(milliseconds);
        self
    }

    /// `TIME unix-ms`: set the entries' idle time as of this time.
    pub fn time(mut self, unix_milliseconds: u64) -> XClaimOptions {
        self.time = Some(unix_milliseconds);
        self
    }

    /// `RETRYCOUNT n`: set the delivery counter.
    pub fn retrycount(mut self, n: u64) -> XClaimOptions {
        self.retrycount = Some(n);
        self
    }

    /// `FORCE`: create pending entries for ids not pending yet.
    pub fn force(mut self, yes: bool) -> XClaimOptions {
        self.force = yes;
        self
    }

    /// `JUSTID`: return only ids, and do not increment the delivery counter.
    pub fn justid(mut self, yes: bool) -> XClaimOptions {
        self.justid = yes;
        self
    }

    /// `LASTID id`: update the group's last delivered id.
    pub fn lastid(mut self, id: impl Into<Vec<u8>>) -> XClaimOptions {
        self.lastid = Some(id.into());
        self
    }
}

impl ToArgs for XClaimOptions {
    fn write_args(&self, out: &mut dyn ArgSink) {
        opt(out, b"IDLE", &self.idle);
        opt(out, b"TIME", &self.time);
        opt(out, b"RETRYCOUNT", &self.retrycount);
        flag(out, b"FORCE", self.force);
        flag(out, b"JUSTID", self.justid);
        opt(out, b"LASTID", &self.lastid);
    }
}

/// Options of `XAUTOCLAIM` (after the start id).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct XAutoClaimOptions {
    count: Option<u64>,
    justid: bool,
}

impl XAutoClaimOptions {
    /// No options (the server claims up to 100 entries).
    pub fn new() -> XAutoClaimOptions {
        XAutoClaimOptions::default()
    }

    /// `COUNT n`: claim at most n entries.
    pub fn count(mut self, n: u64) -> XAutoClaimOptions {
        self.count = Some(n);
        self
    }

    /// `JUSTID`: return only ids, and do not increment the delivery counter.
    pub fn justid(mut self, yes: bool) -> XAutoClaimOptions {
        self.justid = yes;
        self
    }
}

impl ToArgs for XAutoClaimOptions {
    fn write_args(&self, out: &mut dyn ArgSink) {
        opt(out, b"COUNT", &self.count);
        flag(out, b"JUSTID", self.justid);
    }
}

// ---- server -------------------------------------------------------------------------------

/// Options of `CLIENT TRACKING ON`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientTrackingOptions {
    redirect: Option<i64>,
    prefixes: Vec<Vec<u8>>,
    bcast: bool,
    optin: bool,
    optout: bool,
    noloop: bool,
}

impl ClientTrackingOptions {
    /// No options: track the keys this connection reads, notify on this connection (RESP3).
    pub fn new() -> ClientTrackingOptions {
        ClientTrackingOptions::default()
    }

    /// `REDIRECT id`: send invalidations to another connection (by its client id).
    pub fn redirect(mut self, client_id: i64) -> ClientTrackingOptions {
        self.redirect = Some(client_id);
        self
    }

    /// `PREFIX prefix`, once per call (broadcast mode).
    pub fn prefix(mut self, prefix: impl Into<Vec<u8>>) -> ClientTrackingOptions {
        self.prefixes.push(prefix.into());
        self
    }

    /// `BCAST`: broadcast mode, notify on every matching key.
    pub fn bcast(mut self, yes: bool) -> ClientTrackingOptions {
        self.bcast = yes;
        self
    }

    /// `OPTIN`: only track reads after `CLIENT CACHING yes`.
    pub fn optin(mut self, yes: bool) -> ClientTrackingOptions {
        self.optin = yes;
        self
    }

    /// `OPTOUT`: track reads except after `CLIENT CACHING no`.
    pub fn optout(mut self, yes: bool) -> ClientTrackingOptions {
        self.optout = yes;
        self
    }

    /// `NOLOOP`: no notifications for this connection's own writes.
    pub fn noloop(mut self, yes: bool) -> ClientTrackingOptions {
        self.noloop = yes;
        self
    }
}

impl ToArgs for ClientTrackingOptions {
    fn write_args(&self, out: &mut dyn ArgSink) {
        opt(out, b"REDIRECT", &self.redirect);
        for p in &self.prefixes {
            out.push_arg(b"PREFIX");
            out.push_arg(p);
        }
        flag(out, b"BCAST", self.bcast);
        flag(out, b"OPTIN", self.optin);
        flag(out, b"OPTOUT", self.optout);
        flag(out, b"NOLOOP", self.noloop);
    }
}
