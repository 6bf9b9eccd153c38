//! The list of typed commands. See the parent module for how it is expanded.
//!
//! Format of an entry (doc comment, Redis name in lower case with `|` before a
//! subcommand, signature with only `ToArgs` generics, body building the `Cmd`):
//!
//! ```text
//! /// Get the value of a key.
//! "get" fn get<K: ToArgs>(key: K) { cmd("GET").with(key) }
//! ```
//!
//! Conventions:
//!
//! - Methods are named after the Redis command in lower case (`hsetnx`, `zrangebyscore`),
//!   with `_` before a subcommand (`client_setname`, `xinfo_stream`). Exceptions: Rust
//!   keywords (`key_type` for TYPE, `move_key` for MOVE); `set_ex(key, value, seconds)`,
//!   `pset_ex(key, value, ms)` and `set_nx(key, value)` for SETEX, PSETEX, SETNX; and
//!   `incr`/`decr`, which take a delta and send INCRBY/DECRBY.
//! - A method named after a Redis command takes its arguments in the order Redis does; a
//!   variant (`_count`, `_withscores`, `_options`, ...) adds its arguments at the end.
//! - Arguments that may be one value or several (`keys`, `members`, `fields`, `items`)
//!   take any `ToArgs`: a single value, a slice, a `Vec`, a tuple, or a map (written as
//!   key/value pairs). Bounds such as scores and ids are `ToArgs` too, so `"-inf"`, `"(1"`,
//!   `"[a"`, `"-"`, `"+"` and `"*"` work.
//! - Blocking list and sorted-set commands take `timeout` in seconds (`0.0` = forever);
//!   `XREAD` / `XREADGROUP` take `BLOCK` in milliseconds through `StreamReadOptions`.
//! - Option structs and enums live in `options.rs` and are re-exported from
//!   `redis_core::commands`.
//!
//! Not here on purpose: `AUTH`, `HELLO`, the `SUBSCRIBE` family, `MULTI` / `EXEC` /
//! `DISCARD`, `MONITOR`, `QUIT`, `SYNC` / `PSYNC` (the clients own those flows), and
//! `CLIENT REPLY` / `SCRIPT DEBUG`, which change how replies arrive on the connection.

/// Calls `$callback! { $extra; <every command entry> }`.
#[doc(hidden)]
#[macro_export]
macro_rules! command_list {
    ($callback:path; $($extra:tt)*) => {
        $callback! { $($extra)*;

        // ---- strings -------------------------------------------------------------------

        /// Get the value of a key (nil when missing).
        "get" fn get<K: ToArgs>(key: K) { cmd("GET").with(key) }

        /// Get the values of several keys (nil for each missing one).
        "mget" fn mget<K: ToArgs>(keys: K) { cmd("MGET").with(keys) }

        /// Set a key to a value.
        "set" fn set<K: ToArgs, V: ToArgs>(key: K, value: V) { cmd("SET").with(key).with(value) }

        /// Set a key with options: expiry, NX/XX, GET, KEEPTTL. Returns OK, nil when NX/XX
        /// stopped it, or the old value with GET.
        "set" fn set_options<K: ToArgs, V: ToArgs>(key: K, value: V, options: SetOptions) {
            cmd("SET").with(key).with(value).with(options)
        }

        /// Set a key with an expiry in seconds (`SETEX key seconds value`).
        "setex" fn set_ex<K: ToArgs, V: ToArgs>(key: K, value: V, seconds: u64) {
            cmd("SETEX").with(key).with(seconds).with(value)
        }

        /// Set a key with an expiry in milliseconds (`PSETEX key milliseconds value`).
        "psetex" fn pset_ex<K: ToArgs, V: ToArgs>(key: K, value: V, milliseconds: u64) {
            cmd("PSETEX").with(key).with(milliseconds).with(value)
        }

        /// Set a key only if it does not exist; returns 1 if set, 0 if not.
        "setnx" fn set_nx<K: ToArgs, V: ToArgs>(key: K, value: V) { cmd("SETNX").with(key).with(value) }

        /// Set several keys from key/value pairs (a slice of tuples or a map).
        "mset" fn mset<I: ToArgs>(items: I) { cmd("MSET").with(items) }

        /// Set several keys only if none exists; returns 1 if all were set, 0 if none.
        "msetnx" fn msetnx<I: ToArgs>(items: I) { cmd("MSETNX").with(items) }

        /// Set a key and return its old value (nil when missing).
        "getset" fn getset<K: ToArgs, V: ToArgs>(key: K, value: V) { cmd("GETSET").with(key).with(value) }

        /// Get a key and delete it; returns the value or nil.
        "getdel" fn getdel<K: ToArgs>(key: K) { cmd("GETDEL").with(key) }

        /// Get a key and change its expiry (`Expiry::Keep` sends `PERSIST`: drop the expiry).
        "getex" fn getex<K: ToArgs>(key: K, expiry: Expiry) {
            match expiry {
                Expiry::Keep => cmd("GETEX").with(key).with("PERSIST"),
                e => cmd("GETEX").with(key).with(e),
            }
        }

        /// A substring of the value (inclusive offsets, negative from the end).
        "getrange" fn getrange<K: ToArgs>(key: K, start: isize, end: isize) {
            cmd("GETRANGE").with(key).with(start).with(end)
        }

        /// Legacy name of `GETRANGE`.
        "substr" fn substr<K: ToArgs>(key: K, start: isize, end: isize) {
            cmd("SUBSTR").with(key).with(start).with(end)
        }

        /// Overwrite part of a value from `offset`; returns the new length.
        "setrange" fn setrange<K: ToArgs, V: ToArgs>(key: K, offset: usize, value: V) {
            cmd("SETRANGE").with(key).with(offset).with(value)
        }

        /// Append to a value; returns the new length.
        "append" fn append<K: ToArgs, V: ToArgs>(key: K, value: V) { cmd("APPEND").with(key).with(value) }

        /// Length of a value (0 when missing).
        "strlen" fn strlen<K: ToArgs>(key: K) { cmd("STRLEN").with(key) }

        /// Increment the integer value of a key by `delta`; returns the new value.
        "incrby" fn incr<K: ToArgs>(key: K, delta: i64) { cmd("INCRBY").with(key).with(delta) }

        /// Decrement the integer value of a key by `delta`; returns the new value.
        "decrby" fn decr<K: ToArgs>(key: K, delta: i64) { cmd("DECRBY").with(key).with(delta) }

        /// Increment the float value of a key by `delta`; returns the new value.
        "incrbyfloat" fn incrbyfloat<K: ToArgs>(key: K, delta: f64) {
            cmd("INCRBYFLOAT").with(key).with(delta)
        }

        /// Longest common subsequence of two string values.
        "lcs" fn lcs<K1: ToArgs, K2: ToArgs>(key1: K1, key2: K2) { cmd("LCS").with(key1).with(key2) }

        /// Length of the longest common subsequence of two string values.
        "lcs" fn lcs_len<K1: ToArgs, K2: ToArgs>(key1: K1, key2: K2) {
            cmd("LCS").with(key1).with(key2).with("LEN")
        }

        /// Matching ranges of the longest common subsequence (`IDX`), keeping matches of at
        /// least `min_match_len`, with each match's length when `withmatchlen`.
        "lcs" fn lcs_idx<K1: ToArgs, K2: ToArgs>(key1: K1, key2: K2, min_match_len: Option<u64>, withmatchlen: bool) {
            let mut c = cmd("LCS");
            c.arg(key1).arg(key2).arg("IDX");
            if let Some(n) = min_match_len {
                c.arg("MINMATCHLEN").arg(n);
            }
            if withmatchlen {
                c.arg("WITHMATCHLEN");
            }
            c
        }

        // ---- keys ----------------------------------------------------------------------

        /// Delete keys; returns how many existed.
        "del" fn del<K: ToArgs>(keys: K) { cmd("DEL").with(keys) }

        /// Delete keys, freeing memory in the background; returns how many existed.
        "unlink" fn unlink<K: ToArgs>(keys: K) { cmd("UNLINK").with(keys) }

        /// How many of the keys exist (a key given twice counts twice).
        "exists" fn exists<K: ToArgs>(keys: K) { cmd("EXISTS").with(keys) }

        /// Set a timeout in seconds; returns 1 if set, 0 if the key is missing.
        "expire" fn expire<K: ToArgs>(key: K, seconds: i64) { cmd("EXPIRE").with(key).with(seconds) }

        /// Set a timeout in seconds under a condition (NX/XX/GT/LT); returns 1 if set.
        "expire" fn expire_options<K: ToArgs>(key: K, seconds: i64, option: ExpireOption) {
            cmd("EXPIRE").with(key).with(seconds).with(option)
        }

        /// Set a timeout in milliseconds; returns 1 if set.
        "pexpire" fn pexpire<K: ToArgs>(key: K, milliseconds: i64) {
            cmd("PEXPIRE").with(key).with(milliseconds)
        }

        /// Set a timeout in milliseconds under a condition (NX/XX/GT/LT); returns 1 if set.
        "pexpire" fn pexpire_options<K: ToArgs>(key: K, milliseconds: i64, option: ExpireOption) {
            cmd("PEXPIRE").with(key).with(milliseconds).with(option)
        }

        /// Expire at a unix time in seconds; returns 1 if set.
        "expireat" fn expireat<K: ToArgs>(key: K, unix_seconds: i64) {
            cmd("EXPIREAT").with(key).with(unix_seconds)
        }

        /// Expire at a unix time in seconds under a condition (NX/XX/GT/LT); returns 1 if set.
        "expireat" fn expireat_options<K: ToArgs>(key: K, unix_seconds: i64, option: ExpireOption) {
            cmd("EXPIREAT").with(key).with(unix_seconds).with(option)
        }

        /// Expire at a unix time in milliseconds; returns 1 if set.
        "pexpireat" fn pexpireat<K: ToArgs>(key: K, unix_milliseconds: i64) {
            cmd("PEXPIREAT").with(key).with(unix_milliseconds)
        }

        /// Expire at a unix time in milliseconds under a condition; returns 1 if set.
        "pexpireat" fn pexpireat_options<K: ToArgs>(key: K, unix_milliseconds: i64, option: ExpireOption) {
            cmd("PEXPIREAT").with(key).with(unix_milliseconds).with(option)
        }

        /// Remaining time to live in seconds (-1: no expiry, -2: no key).
        "ttl" fn ttl<K: ToArgs>(key: K) { cmd("TTL").with(key) }

        /// Remaining time to live in milliseconds (-1: no expiry, -2: no key).
        "pttl" fn pttl<K: ToArgs>(key: K) { cmd("PTTL").with(key) }

        /// Expiry as a unix time in seconds (-1: no expiry, -2: no key).
        "expiretime" fn expiretime<K: ToArgs>(key: K) { cmd("EXPIRETIME").with(key) }

        /// Expiry as a unix time in milliseconds (-1: no expiry, -2: no key).
        "pexpiretime" fn pexpiretime<K: ToArgs>(key: K) { cmd("PEXPIRETIME").with(key) }

        /// Remove the expiry; returns 1 if there was one.
        "persist" fn persist<K: ToArgs>(key: K) { cmd("PERSIST").with(key) }

        /// The type of a key (`string`, `list`, `set`, `zset`, `hash`, `stream`, `none`).
        "type" fn key_type<K: ToArgs>(key: K) { cmd("TYPE").with(key) }

        /// Rename a key (overwriting `new_key`).
        "rename" fn rename<K: ToArgs, N: ToArgs>(key: K, new_key: N) { cmd("RENAME").with(key).with(new_key) }

        /// Rename a key only if `new_key` does not exist; returns 1 if renamed.
        "renamenx" fn renamenx<K: ToArgs, N: ToArgs>(key: K, new_key: N) {
            cmd("RENAMENX").with(key).with(new_key)
        }

        /// Copy a key; returns 1 if copied, 0 if the destination exists.
        "copy" fn copy<S: ToArgs, D: ToArgs>(source: S, destination: D) {
            cmd("COPY").with(source).with(destination)
        }

        /// Copy a key, to another database and/or replacing the destination; returns 1 if
        /// copied.
        "copy" fn copy_options<S: ToArgs, D: ToArgs>(source: S, destination: D, db: Option<i64>, replace: bool) {
            let mut c = cmd("COPY");
            c.arg(source).arg(destination);
            if let Some(db) = db {
                c.arg("DB").arg(db);
            }
            if replace {
                c.arg("REPLACE");
            }
            c
        }

        /// Move a key to another database; returns 1 if moved.
        "move" fn move_key<K: ToArgs>(key: K, db: i64) { cmd("MOVE").with(key).with(db) }

        /// Serialize a key's value (nil when missing), for `restore`.
        "dump" fn dump<K: ToArgs>(key: K) { cmd("DUMP").with(key) }

        /// Create a key from a `dump` payload, with a ttl in milliseconds (0 = none).
        "restore" fn restore<K: ToArgs, P: ToArgs>(key: K, ttl: i64, payload: P) {
            cmd("RESTORE").with(key).with(ttl).with(payload)
        }

        /// `restore` with REPLACE, ABSTTL, IDLETIME, FREQ.
        "restore" fn restore_options<K: ToArgs, P: ToArgs>(key: K, ttl: i64, payload: P, options: RestoreOptions) {
            cmd("RESTORE").with(key).with(ttl).with(payload).with(options)
        }

        /// Keys matching a glob pattern (blocks the server on big databases: prefer `scan`).
        "keys" fn keys<P: ToArgs>(pattern: P) { cmd("KEYS").with(pattern) }

        /// A random key (nil when the database is empty).
        "randomkey" fn randomkey() { cmd("RANDOMKEY") }

        /// Update the last access time of keys; returns how many exist.
        "touch" fn touch<K: ToArgs>(keys: K) { cmd("TOUCH").with(keys) }

        /// Incrementally iterate the keys: returns `[next_cursor, [key, ...]]`; start and end
        /// at cursor 0.
        "scan" fn scan(cursor: u64) { cmd("SCAN").with(cursor) }

        /// `scan` with MATCH, COUNT and TYPE.
        "scan" fn scan_options(cursor: u64, options: ScanOptions) { cmd("SCAN").with(cursor).with(options) }

        /// Sort a list, set or sorted set numerically, ascending.
        "sort" fn sort<K: ToArgs>(key: K) { cmd("SORT").with(key) }

        /// Sort with BY, LIMIT, GET, ASC/DESC, ALPHA, STORE.
        "sort" fn sort_options<K: ToArgs>(key: K, options: SortOptions) { cmd("SORT").with(key).with(options) }

        /// Read-only `SORT` (no STORE), safe on replicas.
        "sort_ro" fn sort_ro<K: ToArgs>(key: K, options: SortOptions) { cmd("SORT_RO").with(key).with(options) }

        /// The internal encoding of a key's value (`listpack`, `hashtable`, ...).
        "object|encoding" fn object_encoding<K: ToArgs>(key: K) { cmd("OBJECT").with("ENCODING").with(key) }

        /// The access frequency counter of a key (LFU policies only).
        "object|freq" fn object_freq<K: ToArgs>(key: K) { cmd("OBJECT").with("FREQ").with(key) }

        /// Seconds since the key was last accessed (not with LFU policies).
        "object|idletime" fn object_idletime<K: ToArgs>(key: K) { cmd("OBJECT").with("IDLETIME").with(key) }

        /// The reference count of a key's value.
        "object|refcount" fn object_refcount<K: ToArgs>(key: K) { cmd("OBJECT").with("REFCOUNT").with(key) }

        /// Help text of `OBJECT`.
        "object|help" fn object_help() { cmd("OBJECT").with("HELP") }

        /// Move one key to another server (`timeout` in milliseconds); returns OK or NOKEY.
        "migrate" fn migrate<H: ToArgs, K: ToArgs>(host: H, port: u16, key: K, db: i64, timeout: u64, options: MigrateOptions) {
            cmd("MIGRATE").with(host).with(port).with(key).with(db).with(timeout).with(options)
        }

        /// Move several keys to another server (`MIGRATE ... "" ... KEYS key ...`).
        "migrate" fn migrate_keys<H: ToArgs, K: ToArgs>(host: H, port: u16, keys: K, db: i64, timeout: u64, options: MigrateOptions) {
            cmd("MIGRATE").with(host).with(port).with("").with(db).with(timeout).with(options).with("KEYS").with(keys)
        }

        /// Block until `numreplicas` replicas acknowledged this connection's writes, or
        /// `timeout` milliseconds (0 = forever); returns the number of replicas reached.
        "wait" fn wait(numreplicas: u64, timeout: u64) { cmd("WAIT").with(numreplicas).with(timeout) }

        /// Watch keys for the next `MULTI`/`EXEC` on this connection.
        "watch" fn watch<K: ToArgs>(keys: K) { cmd("WATCH").with(keys) }

        /// Forget all watched keys.
        "unwatch" fn unwatch() { cmd("UNWATCH") }

        // ---- lists ---------------------------------------------------------------------

        /// Prepend values to a list; returns the new length.
        "lpush" fn lpush<K: ToArgs, V: ToArgs>(key: K, values: V) { cmd("LPUSH").with(key).with(values) }

        /// Append values to a list; returns the new length.
        "rpush" fn rpush<K: ToArgs, V: ToArgs>(key: K, values: V) { cmd("RPUSH").with(key).with(values) }

        /// Prepend values only if the list exists; returns the new length (0 if missing).
        "lpushx" fn lpushx<K: ToArgs, V: ToArgs>(key: K, values: V) { cmd("LPUSHX").with(key).with(values) }

        /// Append values only if the list exists; returns the new length (0 if missing).
        "rpushx" fn rpushx<K: ToArgs, V: ToArgs>(key: K, values: V) { cmd("RPUSHX").with(key).with(values) }

        /// Remove and return the first element (nil when empty).
        "lpop" fn lpop<K: ToArgs>(key: K) { cmd("LPOP").with(key) }

        /// Remove and return up to `count` elements from the head (nil when empty).
        "lpop" fn lpop_count<K: ToArgs>(key: K, count: usize) { cmd("LPOP").with(key).with(count) }

        /// Remove and return the last element (nil when empty).
        "rpop" fn rpop<K: ToArgs>(key: K) { cmd("RPOP").with(key) }

        /// Remove and return up to `count` elements from the tail (nil when empty).
        "rpop" fn rpop_count<K: ToArgs>(key: K, count: usize) { cmd("RPOP").with(key).with(count) }

        /// Length of a list.
        "llen" fn llen<K: ToArgs>(key: K) { cmd("LLEN").with(key) }

        /// Elements between two indexes (inclusive, negative from the end).
        "lrange" fn lrange<K: ToArgs>(key: K, start: isize, stop: isize) {
            cmd("LRANGE").with(key).with(start).with(stop)
        }

        /// The element at an index (nil when out of range).
        "lindex" fn lindex<K: ToArgs>(key: K, index: isize) { cmd("LINDEX").with(key).with(index) }

        /// Set the element at an index.
        "lset" fn lset<K: ToArgs, V: ToArgs>(key: K, index: isize, value: V) {
            cmd("LSET").with(key).with(index).with(value)
        }

        /// Insert before the first `pivot`; returns the new length (-1: no pivot).
        "linsert" fn linsert_before<K: ToArgs, P: ToArgs, V: ToArgs>(key: K, pivot: P, value: V) {
            cmd("LINSERT").with(key).with("BEFORE").with(pivot).with(value)
        }

        /// Insert after the first `pivot`; returns the new length (-1: no pivot).
        "linsert" fn linsert_after<K: ToArgs, P: ToArgs, V: ToArgs>(key: K, pivot: P, value: V) {
            cmd("LINSERT").with(key).with("AFTER").with(pivot).with(value)
        }

        /// Remove `count` occurrences of a value (from the tail if negative, all if 0);
        /// returns how many were removed.
        "lrem" fn lrem<K: ToArgs, V: ToArgs>(key: K, count: isize, value: V) {
            cmd("LREM").with(key).with(count).with(value)
        }

        /// Keep only the elements between two indexes.
        "ltrim" fn ltrim<K: ToArgs>(key: K, start: isize, stop: isize) {
            cmd("LTRIM").with(key).with(start).with(stop)
        }

        /// Index of the first matching element (nil when none).
        "lpos" fn lpos<K: ToArgs, V: ToArgs>(key: K, element: V) { cmd("LPOS").with(key).with(element) }

        /// `lpos` with RANK, COUNT (returns an array), MAXLEN.
        "lpos" fn lpos_options<K: ToArgs, V: ToArgs>(key: K, element: V, options: LposOptions) {
            cmd("LPOS").with(key).with(element).with(options)
        }

        /// Pop from one end of `source` and push to one end of `destination`; returns the
        /// element (nil when empty).
        "lmove" fn lmove<S: ToArgs, D: ToArgs>(source: S, destination: D, from: Direction, to: Direction) {
            cmd("LMOVE").with(source).with(destination).with(from).with(to)
        }

        /// Blocking `lmove`, waiting up to `timeout` seconds (0 = forever).
        "blmove" fn blmove<S: ToArgs, D: ToArgs>(source: S, destination: D, from: Direction, to: Direction, timeout: f64) {
            cmd("BLMOVE").with(source).with(destination).with(from).with(to).with(timeout)
        }

        /// Pop one element from the first non-empty list; returns `[key, [element]]` or nil.
        "lmpop" fn lmpop<K: ToArgs>(keys: K, from: Direction) { cmd("LMPOP").with(Counted(keys)).with(from) }

        /// Pop up to `count` elements from the first non-empty list; returns
        /// `[key, [element, ...]]` or nil.
        "lmpop" fn lmpop_count<K: ToArgs>(keys: K, from: Direction, count: usize) {
            cmd("LMPOP").with(Counted(keys)).with(from).with("COUNT").with(count)
        }

        /// Blocking `lmpop`, waiting up to `timeout` seconds (0 = forever).
        "blmpop" fn blmpop<K: ToArgs>(keys: K, from: Direction, timeout: f64) {
            cmd("BLMPOP").with(timeout).with(Counted(keys)).with(from)
        }

        /// Blocking `lmpop_count`, waiting up to `timeout` seconds (0 = forever).
        "blmpop" fn blmpop_count<K: ToArgs>(keys: K, from: Direction, count: usize, timeout: f64) {
            cmd("BLMPOP").with(timeout).with(Counted(keys)).with(from).with("COUNT").with(count)
        }

        /// Remove and return the first element of the first non-empty list, blocking up to
        /// `timeout` seconds (0 = forever); returns `[key, element]` or nil.
        "blpop" fn blpop<K: ToArgs>(keys: K, timeout: f64) { cmd("BLPOP").with(keys).with(timeout) }

        /// Remove and return the last element of the first non-empty list, blocking up to
        /// `timeout` seconds (0 = forever); returns `[key, element]` or nil.
        "brpop" fn brpop<K: ToArgs>(keys: K, timeout: f64) { cmd("BRPOP").with(keys).with(timeout) }

        /// Pop the last element of `source` and push it to the head of `destination`.
        "rpoplpush" fn rpoplpush<S: ToArgs, D: ToArgs>(source: S, destination: D) {
            cmd("RPOPLPUSH").with(source).with(destination)
        }

        /// Blocking `rpoplpush`, waiting up to `timeout` seconds (0 = forever).
        "brpoplpush" fn brpoplpush<S: ToArgs, D: ToArgs>(source: S, destination: D, timeout: f64) {
            cmd("BRPOPLPUSH").with(source).with(destination).with(timeout)
        }

        // ---- sets ----------------------------------------------------------------------

        /// Add members to a set; returns how many were new.
        "sadd" fn sadd<K: ToArgs, M: ToArgs>(key: K, members: M) { cmd("SADD").with(key).with(members) }

        /// Remove members from a set; returns how many were there.
        "srem" fn srem<K: ToArgs, M: ToArgs>(key: K, members: M) { cmd("SREM").with(key).with(members) }

        /// All members of a set.
        "smembers" fn smembers<K: ToArgs>(key: K) { cmd("SMEMBERS").with(key) }

        /// Whether a member is in the set (1/0).
        "sismember" fn sismember<K: ToArgs, M: ToArgs>(key: K, member: M) {
            cmd("SISMEMBER").with(key).with(member)
        }

        /// For each member, whether it is in the set (array of 1/0).
        "smismember" fn smismember<K: ToArgs, M: ToArgs>(key: K, members: M) {
            cmd("SMISMEMBER").with(key).with(members)
        }

        /// Number of members of a set.
        "scard" fn scard<K: ToArgs>(key: K) { cmd("SCARD").with(key) }

        /// Remove and return a random member (nil when empty).
        "spop" fn spop<K: ToArgs>(key: K) { cmd("SPOP").with(key) }

        /// Remove and return up to `count` random members.
        "spop" fn spop_count<K: ToArgs>(key: K, count: usize) { cmd("SPOP").with(key).with(count) }

        /// A random member (nil when empty).
        "srandmember" fn srandmember<K: ToArgs>(key: K) { cmd("SRANDMEMBER").with(key) }

        /// `count` random members: distinct if positive, possibly repeated if negative.
        "srandmember" fn srandmember_count<K: ToArgs>(key: K, count: i64) {
            cmd("SRANDMEMBER").with(key).with(count)
        }

        /// Move a member from one set to another; returns 1 if moved.
        "smove" fn smove<S: ToArgs, D: ToArgs, M: ToArgs>(source: S, destination: D, member: M) {
            cmd("SMOVE").with(source).with(destination).with(member)
        }

        /// Intersection of sets.
        "sinter" fn sinter<K: ToArgs>(keys: K) { cmd("SINTER").with(keys) }

        /// Size of the intersection of sets.
        "sintercard" fn sintercard<K: ToArgs>(keys: K) { cmd("SINTERCARD").with(Counted(keys)) }

        /// Size of the intersection of sets, counting at most `limit` (0 = no limit).
        "sintercard" fn sintercard_limit<K: ToArgs>(keys: K, limit: u64) {
            cmd("SINTERCARD").with(Counted(keys)).with("LIMIT").with(limit)
        }

        /// Store the intersection of sets; returns its size.
        "sinterstore" fn sinterstore<D: ToArgs, K: ToArgs>(destination: D, keys: K) {
            cmd("SINTERSTORE").with(destination).with(keys)
        }

        /// Union of sets.
        "sunion" fn sunion<K: ToArgs>(keys: K) { cmd("SUNION").with(keys) }

        /// Store the union of sets; returns its size.
        "sunionstore" fn sunionstore<D: ToArgs, K: ToArgs>(destination: D, keys: K) {
            cmd("SUNIONSTORE").with(destination).with(keys)
        }

        /// Members of the first set that are in none of the others.
        "sdiff" fn sdiff<K: ToArgs>(keys: K) { cmd("SDIFF").with(keys) }

        /// Store the difference of sets; returns its size.
        "sdiffstore" fn sdiffstore<D: ToArgs, K: ToArgs>(destination: D, keys: K) {
            cmd("SDIFFSTORE").with(destination).with(keys)
        }

        /// Incrementally iterate a set: returns `[next_cursor, [member, ...]]`.
        "sscan" fn sscan<K: ToArgs>(key: K, cursor: u64) { cmd("SSCAN").with(key).with(cursor) }

        /// `sscan` with MATCH and COUNT.
        "sscan" fn sscan_options<K: ToArgs>(key: K, cursor: u64, options: ScanOptions) {
            cmd("SSCAN").with(key).with(cursor).with(options)
        }

        // ---- sorted sets ---------------------------------------------------------------

        /// Add a member with a score (or update its score); returns 1 if it was new.
        "zadd" fn zadd<K: ToArgs, S: ToArgs, M: ToArgs>(key: K, score: S, member: M) {
            cmd("ZADD").with(key).with(score).with(member)
        }

        /// Add members from `(score, member)` pairs; returns how many were new.
        "zadd" fn zadd_multiple<K: ToArgs, I: ToArgs>(key: K, items: I) { cmd("ZADD").with(key).with(items) }

        /// Add `(score, member)` pairs with NX/XX, GT/LT, CH, INCR.
        "zadd" fn zadd_options<K: ToArgs, I: ToArgs>(key: K, items: I, options: ZAddOptions) {
            cmd("ZADD").with(key).with(options).with(items)
        }

        /// Increment a member's score; returns the new score.
        "zincrby" fn zincrby<K: ToArgs, M: ToArgs>(key: K, increment: f64, member: M) {
            cmd("ZINCRBY").with(key).with(increment).with(member)
        }

        /// Remove members; returns how many were there.
        "zrem" fn zrem<K: ToArgs, M: ToArgs>(key: K, members: M) { cmd("ZREM").with(key).with(members) }

        /// Number of members of a sorted set.
        "zcard" fn zcard<K: ToArgs>(key: K) { cmd("ZCARD").with(key) }

        /// Number of members with a score between `min` and `max`.
        "zcount" fn zcount<K: ToArgs, M: ToArgs, N: ToArgs>(key: K, min: M, max: N) {
            cmd("ZCOUNT").with(key).with(min).with(max)
        }

        /// Number of members between two lexical bounds (`"[a"`, `"(b"`, `"-"`, `"+"`).
        "zlexcount" fn zlexcount<K: ToArgs, M: ToArgs, N: ToArgs>(key: K, min: M, max: N) {
            cmd("ZLEXCOUNT").with(key).with(min).with(max)
        }

        /// Score of a member (nil when missing).
        "zscore" fn zscore<K: ToArgs, M: ToArgs>(key: K, member: M) { cmd("ZSCORE").with(key).with(member) }

        /// Scores of several members (nil for each missing one).
        "zmscore" fn zmscore<K: ToArgs, M: ToArgs>(key: K, members: M) {
            cmd("ZMSCORE").with(key).with(members)
        }

        /// Rank of a member, lowest score first (nil when missing).
        "zrank" fn zrank<K: ToArgs, M: ToArgs>(key: K, member: M) { cmd("ZRANK").with(key).with(member) }

        /// Rank of a member, highest score first (nil when missing).
        "zrevrank" fn zrevrank<K: ToArgs, M: ToArgs>(key: K, member: M) {
            cmd("ZREVRANK").with(key).with(member)
        }

        /// Members in a rank range, lowest score first.
        "zrange" fn zrange<K: ToArgs>(key: K, start: isize, stop: isize) {
            cmd("ZRANGE").with(key).with(start).with(stop)
        }

        /// Members in a rank range with their scores.
        "zrange" fn zrange_withscores<K: ToArgs>(key: K, start: isize, stop: isize) {
            cmd("ZRANGE").with(key).with(start).with(stop).with("WITHSCORES")
        }

        /// Members with a score between `min` and `max` (`ZRANGE ... BYSCORE`).
        "zrange" fn zrange_byscore<K: ToArgs, M: ToArgs, N: ToArgs>(key: K, min: M, max: N) {
            cmd("ZRANGE").with(key).with(min).with(max).with("BYSCORE")
        }

        /// Members between two lexical bounds (`ZRANGE ... BYLEX`).
        "zrange" fn zrange_bylex<K: ToArgs, M: ToArgs, N: ToArgs>(key: K, min: M, max: N) {
            cmd("ZRANGE").with(key).with(min).with(max).with("BYLEX")
        }

        /// `ZRANGE` with BYSCORE/BYLEX, REV, LIMIT, WITHSCORES.
        "zrange" fn zrange_options<K: ToArgs, S: ToArgs, E: ToArgs>(key: K, start: S, stop: E, options: ZRangeOptions) {
            cmd("ZRANGE").with(key).with(start).with(stop).with(options)
        }

        /// Store a `ZRANGE` result (any options but WITHSCORES); returns its size.
        "zrangestore" fn zrangestore<D: ToArgs, K: ToArgs, S: ToArgs, E: ToArgs>(destination: D, key: K, start: S, stop: E, options: ZRangeOptions) {
            cmd("ZRANGESTORE").with(destination).with(key).with(start).with(stop).with(options)
        }

        /// Members in a rank range, highest score first.
        "zrevrange" fn zrevrange<K: ToArgs>(key: K, start: isize, stop: isize) {
            cmd("ZREVRANGE").with(key).with(start).with(stop)
        }

        /// Members in a rank range, highest score first, with their scores.
        "zrevrange" fn zrevrange_withscores<K: ToArgs>(key: K, start: isize, stop: isize) {
            cmd("ZREVRANGE").with(key).with(start).with(stop).with("WITHSCORES")
        }

        /// Members with a score between `min` and `max`, lowest first.
        "zrangebyscore" fn zrangebyscore<K: ToArgs, M: ToArgs, N: ToArgs>(key: K, min: M, max: N) {
            cmd("ZRANGEBYSCORE").with(key).with(min).with(max)
        }

        /// `zrangebyscore` with scores.
        "zrangebyscore" fn zrangebyscore_withscores<K: ToArgs, M: ToArgs, N: ToArgs>(key: K, min: M, max: N) {
            cmd("ZRANGEBYSCORE").with(key).with(min).with(max).with("WITHSCORES")
        }

        /// `zrangebyscore` with `LIMIT offset count`.
        "zrangebyscore" fn zrangebyscore_limit<K: ToArgs, M: ToArgs, N: ToArgs>(key: K, min: M, max: N, offset: i64, count: i64) {
            cmd("ZRANGEBYSCORE").with(key).with(min).with(max).with("LIMIT").with(offset).with(count)
        }

        /// `zrangebyscore` with scores and `LIMIT offset count`.
        "zrangebyscore" fn zrangebyscore_limit_withscores<K: ToArgs, M: ToArgs, N: ToArgs>(key: K, min: M, max: N, offset: i64, count: i64) {
            cmd("ZRANGEBYSCORE").with(key).with(min).with(max).with("WITHSCORES").with("LIMIT").with(offset).with(count)
        }

        /// Members with a score between `max` and `min`, highest first.
        "zrevrangebyscore" fn zrevrangebyscore<K: ToArgs, M: ToArgs, N: ToArgs>(key: K, max: M, min: N) {
            cmd("ZREVRANGEBYSCORE").with(key).with(max).with(min)
        }

        /// `zrevrangebyscore` with scores.
        "zrevrangebyscore" fn zrevrangebyscore_withscores<K: ToArgs, M: ToArgs, N: ToArgs>(key: K, max: M, min: N) {
            cmd("ZREVRANGEBYSCORE").with(key).with(max).with(min).with("WITHSCORES")
        }

        /// `zrevrangebyscore` with `LIMIT offset count`.
        "zrevrangebyscore" fn zrevrangebyscore_limit<K: ToArgs, M: ToArgs, N: ToArgs>(key: K, max: M, min: N, offset: i64, count: i64) {
            cmd("ZREVRANGEBYSCORE").with(key).with(max).with(min).with("LIMIT").with(offset).with(count)
        }

        /// `zrevrangebyscore` with scores and `LIMIT offset count`.
        "zrevrangebyscore" fn zrevrangebyscore_limit_withscores<K: ToArgs, M: ToArgs, N: ToArgs>(key: K, max: M, min: N, offset: i64, count: i64) {
            cmd("ZREVRANGEBYSCORE").with(key).with(max).with(min).with("WITHSCORES").with("LIMIT").with(offset).with(count)
        }

        /// Members between two lexical bounds, ascending.
        "zrangebylex" fn zrangebylex<K: ToArgs, M: ToArgs, N: ToArgs>(key: K, min: M, max: N) {
            cmd("ZRANGEBYLEX").with(key).with(min).with(max)
        }

        /// `zrangebylex` with `LIMIT offset count`.
        "zrangebylex" fn zrangebylex_limit<K: ToArgs, M: ToArgs, N: ToArgs>(key: K, min: M, max: N, offset: i64, count: i64) {
            cmd("ZRANGEBYLEX").with(key).with(min).with(max).with("LIMIT").with(offset).with(count)
        }

        /// Members between two lexical bounds, descending (`max` first).
        "zrevrangebylex" fn zrevrangebylex<K: ToArgs, M: ToArgs, N: ToArgs>(key: K, max: M, min: N) {
            cmd("ZREVRANGEBYLEX").with(key).with(max).with(min)
        }

        /// `zrevrangebylex` with `LIMIT offset count`.
        "zrevrangebylex" fn zrevrangebylex_limit<K: ToArgs, M: ToArgs, N: ToArgs>(key: K, max: M, min: N, offset: i64, count: i64) {
            cmd("ZREVRANGEBYLEX").with(key).with(max).with(min).with("LIMIT").with(offset).with(count)
        }

        /// Remove and return the member with the lowest score (`[member, score]`).
        "zpopmin" fn zpopmin<K: ToArgs>(key: K) { cmd("ZPOPMIN").with(key) }

        /// Remove and return up to `count` members with the lowest scores.
        "zpopmin" fn zpopmin_count<K: ToArgs>(key: K, count: usize) { cmd("ZPOPMIN").with(key).with(count) }

        /// Remove and return the member with the highest score (`[member, score]`).
        "zpopmax" fn zpopmax<K: ToArgs>(key: K) { cmd("ZPOPMAX").with(key) }

        /// Remove and return up to `count` members with the highest scores.
        "zpopmax" fn zpopmax_count<K: ToArgs>(key: K, count: usize) { cmd("ZPOPMAX").with(key).with(count) }

        /// Blocking `zpopmin` over several keys, waiting up to `timeout` seconds (0 =
        /// forever); returns `[key, member, score]` or nil.
        "bzpopmin" fn bzpopmin<K: ToArgs>(keys: K, timeout: f64) { cmd("BZPOPMIN").with(keys).with(timeout) }

        /// Blocking `zpopmax` over several keys, waiting up to `timeout` seconds (0 =
        /// forever); returns `[key, member, score]` or nil.
        "bzpopmax" fn bzpopmax<K: ToArgs>(keys: K, timeout: f64) { cmd("BZPOPMAX").with(keys).with(timeout) }

        /// Pop one member from the first non-empty sorted set; returns
        /// `[key, [[member, score]]]` or nil.
        "zmpop" fn zmpop<K: ToArgs>(keys: K, which: MinMax) { cmd("ZMPOP").with(Counted(keys)).with(which) }

        /// Pop up to `count` members from the first non-empty sorted set.
        "zmpop" fn zmpop_count<K: ToArgs>(keys: K, which: MinMax, count: usize) {
            cmd("ZMPOP").with(Counted(keys)).with(which).with("COUNT").with(count)
        }

        /// Blocking `zmpop`, waiting up to `timeout` seconds (0 = forever).
        "bzmpop" fn bzmpop<K: ToArgs>(keys: K, which: MinMax, timeout: f64) {
            cmd("BZMPOP").with(timeout).with(Counted(keys)).with(which)
        }

        /// Blocking `zmpop_count`, waiting up to `timeout` seconds (0 = forever).
        "bzmpop" fn bzmpop_count<K: ToArgs>(keys: K, which: MinMax, count: usize, timeout: f64) {
            cmd("BZMPOP").with(timeout).with(Counted(keys)).with(which).with("COUNT").with(count)
        }

        /// A random member (nil when empty).
        "zrandmember" fn zrandmember<K: ToArgs>(key: K) { cmd("ZRANDMEMBER").with(key) }

        /// `count` random members: distinct if positive, possibly repeated if negative.
        "zrandmember" fn zrandmember_count<K: ToArgs>(key: K, count: i64) {
            cmd("ZRANDMEMBER").with(key).with(count)
        }

        /// `count` random members with their scores.
        "zrandmember" fn zrandmember_withscores<K: ToArgs>(key: K, count: i64) {
            cmd("ZRANDMEMBER").with(key).with(count).with("WITHSCORES")
        }

        /// Remove members in a rank range; returns how many.
        "zremrangebyrank" fn zremrangebyrank<K: ToArgs>(key: K, start: isize, stop: isize) {
            cmd("ZREMRANGEBYRANK").with(key).with(start).with(stop)
        }

        /// Remove members with a score between `min` and `max`; returns how many.
        "zremrangebyscore" fn zremrangebyscore<K: ToArgs, M: ToArgs, N: ToArgs>(key: K, min: M, max: N) {
            cmd("ZREMRANGEBYSCORE").with(key).with(min).with(max)
        }

        /// Remove members between two lexical bounds; returns how many.
        "zremrangebylex" fn zremrangebylex<K: ToArgs, M: ToArgs, N: ToArgs>(key: K, min: M, max: N) {
            cmd("ZREMRANGEBYLEX").with(key).with(min).with(max)
        }

        /// Union of sorted sets (members only).
        "zunion" fn zunion<K: ToArgs>(keys: K) { cmd("ZUNION").with(Counted(keys)) }

        /// Union of sorted sets with scores.
        "zunion" fn zunion_withscores<K: ToArgs>(keys: K) {
            cmd("ZUNION").with(Counted(keys)).with("WITHSCORES")
        }

        /// Union of sorted sets with WEIGHTS, AGGREGATE, WITHSCORES.
        "zunion" fn zunion_options<K: ToArgs>(keys: K, options: ZAggregateOptions) {
            cmd("ZUNION").with(Counted(keys)).with(options)
        }

        /// Store the union of sorted sets; returns its size.
        "zunionstore" fn zunionstore<D: ToArgs, K: ToArgs>(destination: D, keys: K) {
            cmd("ZUNIONSTORE").with(destination).with(Counted(keys))
        }

        /// Store the union of sorted sets with WEIGHTS and AGGREGATE; returns its size.
        "zunionstore" fn zunionstore_options<D: ToArgs, K: ToArgs>(destination: D, keys: K, options: ZAggregateOptions) {
            cmd("ZUNIONSTORE").with(destination).with(Counted(keys)).with(options)
        }

        /// Intersection of sorted sets (members only).
        "zinter" fn zinter<K: ToArgs>(keys: K) { cmd("ZINTER").with(Counted(keys)) }

        /// Intersection of sorted sets with scores.
        "zinter" fn zinter_withscores<K: ToArgs>(keys: K) {
            cmd("ZINTER").with(Counted(keys)).with("WITHSCORES")
        }

        /// Intersection of sorted sets with WEIGHTS, AGGREGATE, WITHSCORES.
        "zinter" fn zinter_options<K: ToArgs>(keys: K, options: ZAggregateOptions) {
            cmd("ZINTER").with(Counted(keys)).with(options)
        }

        /// Store the intersection of sorted sets; returns its size.
        "zinterstore" fn zinterstore<D: ToArgs, K: ToArgs>(destination: D, keys: K) {
            cmd("ZINTERSTORE").with(destination).with(Counted(keys))
        }

        /// Store the intersection with WEIGHTS and AGGREGATE; returns its size.
        "zinterstore" fn zinterstore_options<D: ToArgs, K: ToArgs>(destination: D, keys: K, options: ZAggregateOptions) {
            cmd("ZINTERSTORE").with(destination).with(Counted(keys)).with(options)
        }

        /// Size of the intersection of sorted sets.
        "zintercard" fn zintercard<K: ToArgs>(keys: K) { cmd("ZINTERCARD").with(Counted(keys)) }

        /// Size of the intersection, counting at most `limit` (0 = no limit).
        "zintercard" fn zintercard_limit<K: ToArgs>(keys: K, limit: u64) {
            cmd("ZINTERCARD").with(Counted(keys)).with("LIMIT").with(limit)
        }

        /// Members of the first sorted set that are in none of the others.
        "zdiff" fn zdiff<K: ToArgs>(keys: K) { cmd("ZDIFF").with(Counted(keys)) }

        /// `zdiff` with scores.
        "zdiff" fn zdiff_withscores<K: ToArgs>(keys: K) {
            cmd("ZDIFF").with(Counted(keys)).with("WITHSCORES")
        }

        /// Store the difference of sorted sets; returns its size.
        "zdiffstore" fn zdiffstore<D: ToArgs, K: ToArgs>(destination: D, keys: K) {
            cmd("ZDIFFSTORE").with(destination).with(Counted(keys))
        }

        /// Incrementally iterate a sorted set: returns `[next_cursor, [member, score, ...]]`.
        "zscan" fn zscan<K: ToArgs>(key: K, cursor: u64) { cmd("ZSCAN").with(key).with(cursor) }

        /// `zscan` with MATCH and COUNT.
        "zscan" fn zscan_options<K: ToArgs>(key: K, cursor: u64, options: ScanOptions) {
            cmd("ZSCAN").with(key).with(cursor).with(options)
        }

        // ---- hashes --------------------------------------------------------------------

        /// Set a hash field; returns 1 if it was new.
        "hset" fn hset<K: ToArgs, F: ToArgs, V: ToArgs>(key: K, field: F, value: V) {
            cmd("HSET").with(key).with(field).with(value)
        }

        /// Set hash fields from field/value pairs (a slice of tuples or a map); returns how
        /// many were new.
        "hset" fn hset_multiple<K: ToArgs, I: ToArgs>(key: K, items: I) { cmd("HSET").with(key).with(items) }

        /// Legacy multi-field set (returns OK); prefer `hset_multiple`.
        "hmset" fn hmset<K: ToArgs, I: ToArgs>(key: K, items: I) { cmd("HMSET").with(key).with(items) }

        /// Set a hash field only if it does not exist; returns 1 if set.
        "hsetnx" fn hsetnx<K: ToArgs, F: ToArgs, V: ToArgs>(key: K, field: F, value: V) {
            cmd("HSETNX").with(key).with(field).with(value)
        }

        /// Value of a hash field (nil when missing).
        "hget" fn hget<K: ToArgs, F: ToArgs>(key: K, field: F) { cmd("HGET").with(key).with(field) }

        /// Values of several hash fields (nil for each missing one).
        "hmget" fn hmget<K: ToArgs, F: ToArgs>(key: K, fields: F) { cmd("HMGET").with(key).with(fields) }

        /// All fields and values of a hash.
        "hgetall" fn hgetall<K: ToArgs>(key: K) { cmd("HGETALL").with(key) }

        /// Delete hash fields; returns how many existed.
        "hdel" fn hdel<K: ToArgs, F: ToArgs>(key: K, fields: F) { cmd("HDEL").with(key).with(fields) }

        /// Whether a hash field exists (1/0).
        "hexists" fn hexists<K: ToArgs, F: ToArgs>(key: K, field: F) { cmd("HEXISTS").with(key).with(field) }

        /// Increment the integer value of a hash field; returns the new value.
        "hincrby" fn hincrby<K: ToArgs, F: ToArgs>(key: K, field: F, delta: i64) {
            cmd("HINCRBY").with(key).with(field).with(delta)
        }

        /// Increment the float value of a hash field; returns the new value.
        "hincrbyfloat" fn hincrbyfloat<K: ToArgs, F: ToArgs>(key: K, field: F, delta: f64) {
            cmd("HINCRBYFLOAT").with(key).with(field).with(delta)
        }

        /// All field names of a hash.
        "hkeys" fn hkeys<K: ToArgs>(key: K) { cmd("HKEYS").with(key) }

        /// All values of a hash.
        "hvals" fn hvals<K: ToArgs>(key: K) { cmd("HVALS").with(key) }

        /// Number of fields of a hash.
        "hlen" fn hlen<K: ToArgs>(key: K) { cmd("HLEN").with(key) }

        /// Length of a hash field's value (0 when missing).
        "hstrlen" fn hstrlen<K: ToArgs, F: ToArgs>(key: K, field: F) { cmd("HSTRLEN").with(key).with(field) }

        /// A random field name (nil when empty).
        "hrandfield" fn hrandfield<K: ToArgs>(key: K) { cmd("HRANDFIELD").with(key) }

        /// `count` random field names: distinct if positive, possibly repeated if negative.
        "hrandfield" fn hrandfield_count<K: ToArgs>(key: K, count: i64) {
            cmd("HRANDFIELD").with(key).with(count)
        }

        /// `count` random fields with their values.
        "hrandfield" fn hrandfield_withvalues<K: ToArgs>(key: K, count: i64) {
            cmd("HRANDFIELD").with(key).with(count).with("WITHVALUES")
        }

        /// Incrementally iterate a hash: returns `[next_cursor, [field, value, ...]]`.
        "hscan" fn hscan<K: ToArgs>(key: K, cursor: u64) { cmd("HSCAN").with(key).with(cursor) }

        /// `hscan` with MATCH and COUNT.
        "hscan" fn hscan_options<K: ToArgs>(key: K, cursor: u64, options: ScanOptions) {
            cmd("HSCAN").with(key).with(cursor).with(options)
        }

        // ---- bitmaps -------------------------------------------------------------------

        /// Set or clear the bit at `offset`; returns the old bit.
        "setbit" fn setbit<K: ToArgs>(key: K, offset: u64, value: bool) {
            cmd("SETBIT").with(key).with(offset).with(value)
        }

        /// The bit at `offset` (0 when out of range).
        "getbit" fn getbit<K: ToArgs>(key: K, offset: u64) { cmd("GETBIT").with(key).with(offset) }

        /// Number of set bits.
        "bitcount" fn bitcount<K: ToArgs>(key: K) { cmd("BITCOUNT").with(key) }

        /// Number of set bits between two byte offsets (inclusive, negative from the end).
        "bitcount" fn bitcount_range<K: ToArgs>(key: K, start: i64, end: i64) {
            cmd("BITCOUNT").with(key).with(start).with(end)
        }

        /// Number of set bits between two bit offsets (`BIT` unit).
        "bitcount" fn bitcount_range_bits<K: ToArgs>(key: K, start: i64, end: i64) {
            cmd("BITCOUNT").with(key).with(start).with(end).with("BIT")
        }

        /// Bitwise operation between keys, stored in `destination`; returns its length.
        "bitop" fn bitop<D: ToArgs, K: ToArgs>(op: BitOp, destination: D, keys: K) {
            cmd("BITOP").with(op).with(destination).with(keys)
        }

        /// Position of the first bit set to `bit` (-1 when none).
        "bitpos" fn bitpos<K: ToArgs>(key: K, bit: bool) { cmd("BITPOS").with(key).with(bit) }

        /// `bitpos` between two byte offsets (inclusive; `end` -1 = the last byte).
        "bitpos" fn bitpos_range<K: ToArgs>(key: K, bit: bool, start: i64, end: i64) {
            cmd("BITPOS").with(key).with(bit).with(start).with(end)
        }

        /// `bitpos` between two bit offsets (`BIT` unit).
        "bitpos" fn bitpos_range_bits<K: ToArgs>(key: K, bit: bool, start: i64, end: i64) {
            cmd("BITPOS").with(key).with(bit).with(start).with(end).with("BIT")
        }

        /// Run GET/SET/INCRBY/OVERFLOW operations on integer fields; returns one reply per
        /// GET/SET/INCRBY.
        "bitfield" fn bitfield<K: ToArgs>(key: K, ops: BitFieldOps) { cmd("BITFIELD").with(key).with(ops) }

        /// Read-only `BITFIELD` (GET operations only), safe on replicas.
        "bitfield_ro" fn bitfield_ro<K: ToArgs>(key: K, ops: BitFieldOps) {
            cmd("BITFIELD_RO").with(key).with(ops)
        }

        // ---- hyperloglog ---------------------------------------------------------------

        /// Add elements to a HyperLogLog; returns 1 if its estimate changed.
        "pfadd" fn pfadd<K: ToArgs, E: ToArgs>(key: K, elements: E) { cmd("PFADD").with(key).with(elements) }

        /// Approximate number of distinct elements in the union of HyperLogLogs.
        "pfcount" fn pfcount<K: ToArgs>(keys: K) { cmd("PFCOUNT").with(keys) }

        /// Merge HyperLogLogs into `destination`.
        "pfmerge" fn pfmerge<D: ToArgs, K: ToArgs>(destination: D, sources: K) {
            cmd("PFMERGE").with(destination).with(sources)
        }

        // ---- geo -----------------------------------------------------------------------

        /// Add members from `(longitude, latitude, member)` triples; returns how many were new.
        "geoadd" fn geoadd<K: ToArgs, I: ToArgs>(key: K, items: I) { cmd("GEOADD").with(key).with(items) }

        /// `geoadd` with NX/XX and CH.
        "geoadd" fn geoadd_options<K: ToArgs, I: ToArgs>(key: K, items: I, options: GeoAddOptions) {
            cmd("GEOADD").with(key).with(options).with(items)
        }

        /// Distance between two members in meters (nil if one is missing).
        "geodist" fn geodist<K: ToArgs, M1: ToArgs, M2: ToArgs>(key: K, member1: M1, member2: M2) {
            cmd("GEODIST").with(key).with(member1).with(member2)
        }

        /// Distance between two members in the given unit.
        "geodist" fn geodist_unit<K: ToArgs, M1: ToArgs, M2: ToArgs>(key: K, member1: M1, member2: M2, unit: GeoUnit) {
            cmd("GEODIST").with(key).with(member1).with(member2).with(unit)
        }

        /// Geohash strings of members (nil for each missing one).
        "geohash" fn geohash<K: ToArgs, M: ToArgs>(key: K, members: M) { cmd("GEOHASH").with(key).with(members) }

        /// `[longitude, latitude]` of members (nil for each missing one).
        "geopos" fn geopos<K: ToArgs, M: ToArgs>(key: K, members: M) { cmd("GEOPOS").with(key).with(members) }

        /// Members within a radius or box around a member or point.
        "geosearch" fn geosearch<K: ToArgs>(key: K, search: GeoSearch) { cmd("GEOSEARCH").with(key).with(search) }

        /// Store a `geosearch` result (STOREDIST for distances); returns its size.
        "geosearchstore" fn geosearchstore<D: ToArgs, S: ToArgs>(destination: D, source: S, search: GeoSearch) {
            cmd("GEOSEARCHSTORE").with(destination).with(source).with(search)
        }

        /// Legacy: members within `radius` of a point.
        "georadius" fn georadius<K: ToArgs>(key: K, longitude: f64, latitude: f64, radius: f64, unit: GeoUnit, options: GeoOptions) {
            cmd("GEORADIUS").with(key).with(longitude).with(latitude).with(radius).with(unit).with(options)
        }

        /// Legacy, read-only: members within `radius` of a point.
        "georadius_ro" fn georadius_ro<K: ToArgs>(key: K, longitude: f64, latitude: f64, radius: f64, unit: GeoUnit, options: GeoOptions) {
            cmd("GEORADIUS_RO").with(key).with(longitude).with(latitude).with(radius).with(unit).with(options)
        }

        /// Legacy: members within `radius` of a member.
        "georadiusbymember" fn georadiusbymember<K: ToArgs, M: ToArgs>(key: K, member: M, radius: f64, unit: GeoUnit, options: GeoOptions) {
            cmd("GEORADIUSBYMEMBER").with(key).with(member).with(radius).with(unit).with(options)
        }

        /// Legacy, read-only: members within `radius` of a member.
        "georadiusbymember_ro" fn georadiusbymember_ro<K: ToArgs, M: ToArgs>(key: K, member: M, radius: f64, unit: GeoUnit, options: GeoOptions) {
            cmd("GEORADIUSBYMEMBER_RO").with(key).with(member).with(radius).with(unit).with(options)
        }

        // ---- streams -------------------------------------------------------------------

        /// Append an entry from field/value pairs; `id` is usually `"*"`. Returns the id.
        "xadd" fn xadd<K: ToArgs, I: ToArgs, F: ToArgs>(key: K, id: I, items: F) {
            cmd("XADD").with(key).with(id).with(items)
        }

        /// Append an entry from a map of fields to values; returns the id.
        "xadd" fn xadd_map<K: ToArgs, I: ToArgs, M: ToArgs>(key: K, id: I, map: M) {
            cmd("XADD").with(key).with(id).with(map)
        }

        /// `xadd` with NOMKSTREAM and MAXLEN/MINID trimming; returns the id (nil with
        /// NOMKSTREAM on a missing stream).
        "xadd" fn xadd_options<K: ToArgs, I: ToArgs, F: ToArgs>(key: K, id: I, items: F, options: XAddOptions) {
            cmd("XADD").with(key).with(options).with(id).with(items)
        }

        /// Number of entries of a stream.
        "xlen" fn xlen<K: ToArgs>(key: K) { cmd("XLEN").with(key) }

        /// Entries with ids between `start` and `end` (`"-"`, `"+"`, `"(id"`).
        "xrange" fn xrange<K: ToArgs, S: ToArgs, E: ToArgs>(key: K, start: S, end: E) {
            cmd("XRANGE").with(key).with(start).with(end)
        }

        /// At most `count` entries with ids between `start` and `end`.
        "xrange" fn xrange_count<K: ToArgs, S: ToArgs, E: ToArgs>(key: K, start: S, end: E, count: u64) {
            cmd("XRANGE").with(key).with(start).with(end).with("COUNT").with(count)
        }

        /// All entries of a stream (`XRANGE key - +`).
        "xrange" fn xrange_all<K: ToArgs>(key: K) { cmd("XRANGE").with(key).with("-").with("+") }

        /// Entries with ids between `end` and `start`, newest first.
        "xrevrange" fn xrevrange<K: ToArgs, E: ToArgs, S: ToArgs>(key: K, end: E, start: S) {
            cmd("XREVRANGE").with(key).with(end).with(start)
        }

        /// At most `count` entries, newest first.
        "xrevrange" fn xrevrange_count<K: ToArgs, E: ToArgs, S: ToArgs>(key: K, end: E, start: S, count: u64) {
            cmd("XREVRANGE").with(key).with(end).with(start).with("COUNT").with(count)
        }

        /// All entries of a stream, newest first (`XREVRANGE key + -`).
        "xrevrange" fn xrevrange_all<K: ToArgs>(key: K) { cmd("XREVRANGE").with(key).with("+").with("-") }

        /// Delete entries by id; returns how many were deleted.
        "xdel" fn xdel<K: ToArgs, I: ToArgs>(key: K, ids: I) { cmd("XDEL").with(key).with(ids) }

        /// Trim a stream by MAXLEN or MINID; returns how many entries were deleted.
        "xtrim" fn xtrim<K: ToArgs>(key: K, trim: StreamTrim) { cmd("XTRIM").with(key).with(trim) }

        /// Entries after the given ids (one id per key, `"$"` for new ones only), without
        /// blocking; returns nil when there are none.
        "xread" fn xread<K: ToArgs, I: ToArgs>(keys: K, ids: I) {
            cmd("XREAD").with("STREAMS").with(keys).with(ids)
        }

        /// `xread` with COUNT and BLOCK (milliseconds).
        "xread" fn xread_options<K: ToArgs, I: ToArgs>(keys: K, ids: I, options: StreamReadOptions) {
            cmd("XREAD").with(options).with("STREAMS").with(keys).with(ids)
        }

        /// Read as `consumer` of `group` (id `">"` for never-delivered entries).
        "xreadgroup" fn xreadgroup<G: ToArgs, C: ToArgs, K: ToArgs, I: ToArgs>(group: G, consumer: C, keys: K, ids: I) {
            cmd("XREADGROUP").with("GROUP").with(group).with(consumer).with("STREAMS").with(keys).with(ids)
        }

        /// `xreadgroup` with COUNT, BLOCK (milliseconds) and NOACK.
        "xreadgroup" fn xreadgroup_options<G: ToArgs, C: ToArgs, K: ToArgs, I: ToArgs>(group: G, consumer: C, keys: K, ids: I, options: StreamReadOptions) {
            cmd("XREADGROUP").with("GROUP").with(group).with(consumer).with(options).with("STREAMS").with(keys).with(ids)
        }

        /// Create a consumer group starting after `id` (`"$"`: only new entries, `"0"`: all).
        "xgroup|create" fn xgroup_create<K: ToArgs, G: ToArgs, I: ToArgs>(key: K, group: G, id: I) {
            cmd("XGROUP").with("CREATE").with(key).with(group).with(id)
        }

        /// Create a consumer group, creating the stream too if missing (`MKSTREAM`).
        "xgroup|create" fn xgroup_create_mkstream<K: ToArgs, G: ToArgs, I: ToArgs>(key: K, group: G, id: I) {
            cmd("XGROUP").with("CREATE").with(key).with(group).with(id).with("MKSTREAM")
        }

        /// Create a consumer group with MKSTREAM and ENTRIESREAD.
        "xgroup|create" fn xgroup_create_options<K: ToArgs, G: ToArgs, I: ToArgs>(key: K, group: G, id: I, options: XGroupCreateOptions) {
            cmd("XGROUP").with("CREATE").with(key).with(group).with(id).with(options)
        }

        /// Destroy a consumer group; returns 1 if it existed.
        "xgroup|destroy" fn xgroup_destroy<K: ToArgs, G: ToArgs>(key: K, group: G) {
            cmd("XGROUP").with("DESTROY").with(key).with(group)
        }

        /// Create a consumer in a group; returns 1 if it was new.
        "xgroup|createconsumer" fn xgroup_createconsumer<K: ToArgs, G: ToArgs, C: ToArgs>(key: K, group: G, consumer: C) {
            cmd("XGROUP").with("CREATECONSUMER").with(key).with(group).with(consumer)
        }

        /// Delete a consumer from a group; returns how many entries it had pending.
        "xgroup|delconsumer" fn xgroup_delconsumer<K: ToArgs, G: ToArgs, C: ToArgs>(key: K, group: G, consumer: C) {
            cmd("XGROUP").with("DELCONSUMER").with(key).with(group).with(consumer)
        }

        /// Set a group's last delivered id.
        "xgroup|setid" fn xgroup_setid<K: ToArgs, G: ToArgs, I: ToArgs>(key: K, group: G, id: I) {
            cmd("XGROUP").with("SETID").with(key).with(group).with(id)
        }

        /// Set a group's last delivered id and its read counter (`ENTRIESREAD`).
        "xgroup|setid" fn xgroup_setid_entriesread<K: ToArgs, G: ToArgs, I: ToArgs>(key: K, group: G, id: I, entries_read: u64) {
            cmd("XGROUP").with("SETID").with(key).with(group).with(id).with("ENTRIESREAD").with(entries_read)
        }

        /// Help text of `XGROUP`.
        "xgroup|help" fn xgroup_help() { cmd("XGROUP").with("HELP") }

        /// Acknowledge entries of a group; returns how many were pending.
        "xack" fn xack<K: ToArgs, G: ToArgs, I: ToArgs>(key: K, group: G, ids: I) {
            cmd("XACK").with(key).with(group).with(ids)
        }

        /// Summary of a group's pending entries: count, lowest and highest id, per-consumer
        /// counts.
        "xpending" fn xpending<K: ToArgs, G: ToArgs>(key: K, group: G) { cmd("XPENDING").with(key).with(group) }

        /// Up to `count` pending entries between `start` and `end`, with owner, idle time and
        /// delivery count.
        "xpending" fn xpending_count<K: ToArgs, G: ToArgs, S: ToArgs, E: ToArgs>(key: K, group: G, start: S, end: E, count: u64) {
            cmd("XPENDING").with(key).with(group).with(start).with(end).with(count)
        }

        /// The extended form with IDLE and a consumer filter.
        "xpending" fn xpending_options<K: ToArgs, G: ToArgs>(key: K, group: G, options: XPendingOptions) {
            cmd("XPENDING").with(key).with(group).with(options)
        }

        /// Take ownership of pending entries idle at least `min_idle_time` ms; returns the
        /// claimed entries.
        "xclaim" fn xclaim<K: ToArgs, G: ToArgs, C: ToArgs, I: ToArgs>(key: K, group: G, consumer: C, min_idle_time: u64, ids: I) {
            cmd("XCLAIM").with(key).with(group).with(consumer).with(min_idle_time).with(ids)
        }

        /// `xclaim` with IDLE, TIME, RETRYCOUNT, FORCE, JUSTID, LASTID.
        "xclaim" fn xclaim_options<K: ToArgs, G: ToArgs, C: ToArgs, I: ToArgs>(key: K, group: G, consumer: C, min_idle_time: u64, ids: I, options: XClaimOptions) {
            cmd("XCLAIM").with(key).with(group).with(consumer).with(min_idle_time).with(ids).with(options)
        }

        /// Claim entries idle at least `min_idle_time` ms, scanning from `start`; returns
        /// `[next_start, [entry, ...], [deleted_id, ...]]`.
        "xautoclaim" fn xautoclaim<K: ToArgs, G: ToArgs, C: ToArgs, S: ToArgs>(key: K, group: G, consumer: C, min_idle_time: u64, start: S) {
            cmd("XAUTOCLAIM").with(key).with(group).with(consumer).with(min_idle_time).with(start)
        }

        /// `xautoclaim` with COUNT and JUSTID.
        "xautoclaim" fn xautoclaim_options<K: ToArgs, G: ToArgs, C: ToArgs, S: ToArgs>(key: K, group: G, consumer: C, min_idle_time: u64, start: S, options: XAutoClaimOptions) {
            cmd("XAUTOCLAIM").with(key).with(group).with(consumer).with(min_idle_time).with(start).with(options)
        }

        /// Information about a stream.
        "xinfo|stream" fn xinfo_stream<K: ToArgs>(key: K) { cmd("XINFO").with("STREAM").with(key) }

        /// Full information about a stream (`FULL`), with at most `count` entries and PEL
        /// entries per group (`None`: the server's default of 10, `Some(0)`: all).
        "xinfo|stream" fn xinfo_stream_full<K: ToArgs>(key: K, count: Option<u64>) {
            let mut c = cmd("XINFO");
            c.arg("STREAM").arg(key).arg("FULL");
            if let Some(n) = count {
                c.arg("COUNT").arg(n);
            }
            c
        }

        /// The consumer groups of a stream.
        "xinfo|groups" fn xinfo_groups<K: ToArgs>(key: K) { cmd("XINFO").with("GROUPS").with(key) }

        /// The consumers of a group.
        "xinfo|consumers" fn xinfo_consumers<K: ToArgs, G: ToArgs>(key: K, group: G) {
            cmd("XINFO").with("CONSUMERS").with(key).with(group)
        }

        /// Help text of `XINFO`.
        "xinfo|help" fn xinfo_help() { cmd("XINFO").with("HELP") }

        /// Set a stream's last id (internal; used by replication and migrations).
        "xsetid" fn xsetid<K: ToArgs, I: ToArgs>(key: K, last_id: I) { cmd("XSETID").with(key).with(last_id) }

        // ---- scripting and functions ---------------------------------------------------

        /// Run a Lua script with keys and arguments.
        "eval" fn eval<S: ToArgs, K: ToArgs, A: ToArgs>(script: S, keys: K, args: A) {
            cmd("EVAL").with(script).with(Counted(keys)).with(args)
        }

        /// Run a cached Lua script by its SHA1 (NOSCRIPT error when not cached).
        "evalsha" fn evalsha<S: ToArgs, K: ToArgs, A: ToArgs>(sha1: S, keys: K, args: A) {
            cmd("EVALSHA").with(sha1).with(Counted(keys)).with(args)
        }

        /// Run a read-only Lua script (safe on replicas).
        "eval_ro" fn eval_ro<S: ToArgs, K: ToArgs, A: ToArgs>(script: S, keys: K, args: A) {
            cmd("EVAL_RO").with(script).with(Counted(keys)).with(args)
        }

        /// Run a cached read-only Lua script by its SHA1.
        "evalsha_ro" fn evalsha_ro<S: ToArgs, K: ToArgs, A: ToArgs>(sha1: S, keys: K, args: A) {
            cmd("EVALSHA_RO").with(sha1).with(Counted(keys)).with(args)
        }

        /// Cache a script; returns its SHA1.
        "script|load" fn script_load<S: ToArgs>(script: S) { cmd("SCRIPT").with("LOAD").with(script) }

        /// For each SHA1, whether the script is cached (array of 1/0).
        "script|exists" fn script_exists<S: ToArgs>(sha1s: S) { cmd("SCRIPT").with("EXISTS").with(sha1s) }

        /// Empty the script cache.
        "script|flush" fn script_flush() { cmd("SCRIPT").with("FLUSH") }

        /// Empty the script cache, ASYNC or SYNC.
        "script|flush" fn script_flush_mode(mode: FlushMode) { cmd("SCRIPT").with("FLUSH").with(mode) }

        /// Kill the running script (if it has not written yet).
        "script|kill" fn script_kill() { cmd("SCRIPT").with("KILL") }

        /// Help text of `SCRIPT`.
        "script|help" fn script_help() { cmd("SCRIPT").with("HELP") }

        /// Call a function with keys and arguments.
        "fcall" fn fcall<F: ToArgs, K: ToArgs, A: ToArgs>(function: F, keys: K, args: A) {
            cmd("FCALL").with(function).with(Counted(keys)).with(args)
        }

        /// Call a read-only function (safe on replicas).
        "fcall_ro" fn fcall_ro<F: ToArgs, K: ToArgs, A: ToArgs>(function: F, keys: K, args: A) {
            cmd("FCALL_RO").with(function).with(Counted(keys)).with(args)
        }

        /// Load a function library; returns its name.
        "function|load" fn function_load<C: ToArgs>(code: C) { cmd("FUNCTION").with("LOAD").with(code) }

        /// Load a function library, replacing one with the same name.
        "function|load" fn function_load_replace<C: ToArgs>(code: C) {
            cmd("FUNCTION").with("LOAD").with("REPLACE").with(code)
        }

        /// Delete a function library.
        "function|delete" fn function_delete<L: ToArgs>(library: L) { cmd("FUNCTION").with("DELETE").with(library) }

        /// Delete all function libraries.
        "function|flush" fn function_flush() { cmd("FUNCTION").with("FLUSH") }

        /// Delete all function libraries, ASYNC or SYNC.
        "function|flush" fn function_flush_mode(mode: FlushMode) { cmd("FUNCTION").with("FLUSH").with(mode) }

        /// All function libraries and their functions.
        "function|list" fn function_list() { cmd("FUNCTION").with("LIST") }

        /// Function libraries whose name matches `pattern`, with their code if `withcode`.
        "function|list" fn function_list_options<P: ToArgs>(pattern: P, withcode: bool) {
            let mut c = cmd("FUNCTION");
            c.arg("LIST").arg("LIBRARYNAME").arg(pattern);
            if withcode {
                c.arg("WITHCODE");
            }
            c
        }

        /// Serialized payload of all libraries, for `function_restore`.
        "function|dump" fn function_dump() { cmd("FUNCTION").with("DUMP") }

        /// Restore libraries from a `function_dump` payload (`None`: APPEND).
        "function|restore" fn function_restore<P: ToArgs>(payload: P, policy: Option<FunctionRestorePolicy>) {
            cmd("FUNCTION").with("RESTORE").with(payload).with(policy)
        }

        /// Kill the running read-only function.
        "function|kill" fn function_kill() { cmd("FUNCTION").with("KILL") }

        /// The running function and the available engines.
        "function|stats" fn function_stats() { cmd("FUNCTION").with("STATS") }

        /// Help text of `FUNCTION`.
        "function|help" fn function_help() { cmd("FUNCTION").with("HELP") }

        // ---- pub/sub -------------------------------------------------------------------

        /// Publish a message; returns how many clients received it.
        "publish" fn publish<C: ToArgs, M: ToArgs>(channel: C, message: M) {
            cmd("PUBLISH").with(channel).with(message)
        }

        /// Publish a message to a shard channel; returns how many clients received it.
        "spublish" fn spublish<C: ToArgs, M: ToArgs>(channel: C, message: M) {
            cmd("SPUBLISH").with(channel).with(message)
        }

        /// Channels with at least one subscriber.
        "pubsub|channels" fn pubsub_channels() { cmd("PUBSUB").with("CHANNELS") }

        /// Channels with at least one subscriber, matching a glob pattern.
        "pubsub|channels" fn pubsub_channels_pattern<P: ToArgs>(pattern: P) {
            cmd("PUBSUB").with("CHANNELS").with(pattern)
        }

        /// Subscriber counts of channels, as `[channel, count, ...]`.
        "pubsub|numsub" fn pubsub_numsub<C: ToArgs>(channels: C) { cmd("PUBSUB").with("NUMSUB").with(channels) }

        /// Number of pattern subscriptions.
        "pubsub|numpat" fn pubsub_numpat() { cmd("PUBSUB").with("NUMPAT") }

        /// Shard channels with at least one subscriber.
        "pubsub|shardchannels" fn pubsub_shardchannels() { cmd("PUBSUB").with("SHARDCHANNELS") }

        /// Shard channels with at least one subscriber, matching a glob pattern.
        "pubsub|shardchannels" fn pubsub_shardchannels_pattern<P: ToArgs>(pattern: P) {
            cmd("PUBSUB").with("SHARDCHANNELS").with(pattern)
        }

        /// Subscriber counts of shard channels, as `[channel, count, ...]`.
        "pubsub|shardnumsub" fn pubsub_shardnumsub<C: ToArgs>(channels: C) {
            cmd("PUBSUB").with("SHARDNUMSUB").with(channels)
        }

        /// Help text of `PUBSUB`.
        "pubsub|help" fn pubsub_help() { cmd("PUBSUB").with("HELP") }

        // ---- connection ----------------------------------------------------------------

        /// Ping the server (replies PONG).
        "ping" fn ping() { cmd("PING") }

        /// Ping with a message (replies with the message).
        "ping" fn ping_message<M: ToArgs>(message: M) { cmd("PING").with(message) }

        /// Return the message.
        "echo" fn echo<M: ToArgs>(message: M) { cmd("ECHO").with(message) }

        /// Switch this connection to another database. A client that reconnects goes back to
        /// the database in its config.
        "select" fn select(db: i64) { cmd("SELECT").with(db) }

        /// Reset this connection's state (database, name, tracking, auth to default user...).
        "reset" fn reset() { cmd("RESET") }

        /// This connection's id.
        "client|id" fn client_id() { cmd("CLIENT").with("ID") }

        /// Information about this connection (one `CLIENT LIST` line).
        "client|info" fn client_info() { cmd("CLIENT").with("INFO") }

        /// Information about all connections, one per line.
        "client|list" fn client_list() { cmd("CLIENT").with("LIST") }

        /// Information about the connections with these ids.
        "client|list" fn client_list_ids<I: ToArgs>(ids: I) { cmd("CLIENT").with("LIST").with("ID").with(ids) }

        /// This connection's name (nil when unset).
        "client|getname" fn client_getname() { cmd("CLIENT").with("GETNAME") }

        /// Set the connection's name.
        "client|setname" fn client_setname<N: ToArgs>(name: N) { cmd("CLIENT").with("SETNAME").with(name) }

        /// Set `lib-name` or `lib-ver` of this connection (Redis 7.2+).
        "client|setinfo" fn client_setinfo<A: ToArgs, V: ToArgs>(attribute: A, value: V) {
            cmd("CLIENT").with("SETINFO").with(attribute).with(value)
        }

        /// Close connections matching filters given as pairs, e.g. `("ID", 12)` or
        /// `("ADDR", "10.0.0.1:5000")`; returns how many were closed.
        "client|kill" fn client_kill<F: ToArgs>(filters: F) { cmd("CLIENT").with("KILL").with(filters) }

        /// Suspend all clients for `timeout` milliseconds.
        "client|pause" fn client_pause(timeout: u64) { cmd("CLIENT").with("PAUSE").with(timeout) }

        /// Suspend writing clients for `timeout` milliseconds (`PAUSE ... WRITE`).
        "client|pause" fn client_pause_write(timeout: u64) {
            cmd("CLIENT").with("PAUSE").with(timeout).with("WRITE")
        }

        /// Resume paused clients.
        "client|unpause" fn client_unpause() { cmd("CLIENT").with("UNPAUSE") }

        /// Exclude this connection from eviction (or not).
        "client|no-evict" fn client_no_evict(on: bool) {
            cmd("CLIENT").with("NO-EVICT").with(if on { "ON" } else { "OFF" })
        }

        /// Do not update keys' access time on this connection's reads (Redis 7.2+).
        "client|no-touch" fn client_no_touch(on: bool) {
            cmd("CLIENT").with("NO-TOUCH").with(if on { "ON" } else { "OFF" })
        }

        /// Turn on server-assisted client caching for this connection.
        "client|tracking" fn client_tracking_on(options: ClientTrackingOptions) {
            cmd("CLIENT").with("TRACKING").with("ON").with(options)
        }

        /// Turn off server-assisted client caching for this connection.
        "client|tracking" fn client_tracking_off() { cmd("CLIENT").with("TRACKING").with("OFF") }

        /// With tracking OPTIN/OPTOUT: track (or not) the keys read by the next command.
        "client|caching" fn client_caching(yes: bool) {
            cmd("CLIENT").with("CACHING").with(if yes { "YES" } else { "NO" })
        }

        /// The client id invalidations are redirected to (0: none, -1: tracking off).
        "client|getredir" fn client_getredir() { cmd("CLIENT").with("GETREDIR") }

        /// This connection's tracking state.
        "client|trackinginfo" fn client_trackinginfo() { cmd("CLIENT").with("TRACKINGINFO") }

        /// Unblock a client blocked in a blocking command (it gets a timeout reply); returns
        /// 1 if it was blocked.
        "client|unblock" fn client_unblock(client_id: i64) { cmd("CLIENT").with("UNBLOCK").with(client_id) }

        /// Unblock a client blocked in a blocking command with an UNBLOCKED error.
        "client|unblock" fn client_unblock_error(client_id: i64) {
            cmd("CLIENT").with("UNBLOCK").with(client_id).with("ERROR")
        }

        /// Help text of `CLIENT`.
        "client|help" fn client_help() { cmd("CLIENT").with("HELP") }

        // ---- server --------------------------------------------------------------------

        /// Number of keys in the current database.
        "dbsize" fn dbsize() { cmd("DBSIZE") }

        /// Delete all keys of the current database.
        "flushdb" fn flushdb() { cmd("FLUSHDB") }

        /// Delete all keys of the current database, ASYNC or SYNC.
        "flushdb" fn flushdb_mode(mode: FlushMode) { cmd("FLUSHDB").with(mode) }

        /// Delete all keys of all databases.
        "flushall" fn flushall() { cmd("FLUSHALL") }

        /// Delete all keys of all databases, ASYNC or SYNC.
        "flushall" fn flushall_mode(mode: FlushMode) { cmd("FLUSHALL").with(mode) }

        /// Swap two databases.
        "swapdb" fn swapdb(index1: i64, index2: i64) { cmd("SWAPDB").with(index1).with(index2) }

        /// Server information and statistics (the default sections).
        "info" fn info() { cmd("INFO") }

        /// Server information for some sections (`"memory"`, `["server", "clients"]`,
        /// `"everything"`).
        "info" fn info_section<S: ToArgs>(sections: S) { cmd("INFO").with(sections) }

        /// Server time: `[unix seconds, microseconds]`.
        "time" fn time() { cmd("TIME") }

        /// Unix time of the last successful save.
        "lastsave" fn lastsave() { cmd("LASTSAVE") }

        /// Save the dataset synchronously (blocks the server).
        "save" fn save() { cmd("SAVE") }

        /// Save the dataset in the background.
        "bgsave" fn bgsave() { cmd("BGSAVE") }

        /// Rewrite the append-only file in the background.
        "bgrewriteaof" fn bgrewriteaof() { cmd("BGREWRITEAOF") }

        /// This server's replication role and state.
        "role" fn role() { cmd("ROLE") }

        /// Make this server a replica of another.
        "replicaof" fn replicaof<H: ToArgs>(host: H, port: u16) { cmd("REPLICAOF").with(host).with(port) }

        /// Stop replicating and become a primary (`REPLICAOF NO ONE`).
        "replicaof" fn replicaof_no_one() { cmd("REPLICAOF").with("NO").with("ONE") }

        /// Computer art and the server version.
        "lolwut" fn lolwut() { cmd("LOLWUT") }

        /// `LOLWUT VERSION v`.
        "lolwut" fn lolwut_version(version: u32) { cmd("LOLWUT").with("VERSION").with(version) }

        /// Configuration parameters matching the glob patterns, as name/value pairs.
        "config|get" fn config_get<P: ToArgs>(parameters: P) { cmd("CONFIG").with("GET").with(parameters) }

        /// Set a configuration parameter.
        "config|set" fn config_set<P: ToArgs, V: ToArgs>(parameter: P, value: V) {
            cmd("CONFIG").with("SET").with(parameter).with(value)
        }

        /// Set several configuration parameters atomically from parameter/value pairs.
        "config|set" fn config_set_multiple<I: ToArgs>(items: I) { cmd("CONFIG").with("SET").with(items) }

        /// Reset the statistics reported by `INFO`.
        "config|resetstat" fn config_resetstat() { cmd("CONFIG").with("RESETSTAT") }

        /// Rewrite the config file with the running configuration.
        "config|rewrite" fn config_rewrite() { cmd("CONFIG").with("REWRITE") }

        /// Help text of `CONFIG`.
        "config|help" fn config_help() { cmd("CONFIG").with("HELP") }

        /// Number of commands of the server.
        "command|count" fn command_count() { cmd("COMMAND").with("COUNT") }

        /// Details of commands (none given: all).
        "command|info" fn command_info<N: ToArgs>(names: N) { cmd("COMMAND").with("INFO").with(names) }

        /// Documentation of commands (none given: all).
        "command|docs" fn command_docs<N: ToArgs>(names: N) { cmd("COMMAND").with("DOCS").with(names) }

        /// Names of all commands.
        "command|list" fn command_list() { cmd("COMMAND").with("LIST") }

        /// Names of commands matching a filter: `("MODULE", name)`, `("ACLCAT", category)` or
        /// `("PATTERN", glob)`.
        "command|list" fn command_list_filterby<F: ToArgs>(filter: F) {
            cmd("COMMAND").with("LIST").with("FILTERBY").with(filter)
        }

        /// The keys of a full command line (`["SET", "k", "v"]`).
        "command|getkeys" fn command_getkeys<A: ToArgs>(command: A) { cmd("COMMAND").with("GETKEYS").with(command) }

        /// The keys of a full command line, with their access flags.
        "command|getkeysandflags" fn command_getkeysandflags<A: ToArgs>(command: A) {
            cmd("COMMAND").with("GETKEYSANDFLAGS").with(command)
        }

        /// Help text of `COMMAND`.
        "command|help" fn command_help() { cmd("COMMAND").with("HELP") }

        /// Bytes used by a key and its value.
        "memory|usage" fn memory_usage<K: ToArgs>(key: K) { cmd("MEMORY").with("USAGE").with(key) }

        /// Bytes used by a key, sampling `samples` nested values (0 = all).
        "memory|usage" fn memory_usage_samples<K: ToArgs>(key: K, samples: u64) {
            cmd("MEMORY").with("USAGE").with(key).with("SAMPLES").with(samples)
        }

        /// Memory usage details.
        "memory|stats" fn memory_stats() { cmd("MEMORY").with("STATS") }

        /// A human-readable memory report.
        "memory|doctor" fn memory_doctor() { cmd("MEMORY").with("DOCTOR") }

        /// The allocator's internal statistics.
        "memory|malloc-stats" fn memory_malloc_stats() { cmd("MEMORY").with("MALLOC-STATS") }

        /// Ask the allocator to release memory.
        "memory|purge" fn memory_purge() { cmd("MEMORY").with("PURGE") }

        /// Help text of `MEMORY`.
        "memory|help" fn memory_help() { cmd("MEMORY").with("HELP") }

        /// The slow log, most recent first (the server's default of 10 entries).
        "slowlog|get" fn slowlog_get() { cmd("SLOWLOG").with("GET") }

        /// The last `count` slow log entries (-1 = all).
        "slowlog|get" fn slowlog_get_count(count: i64) { cmd("SLOWLOG").with("GET").with(count) }

        /// Number of entries in the slow log.
        "slowlog|len" fn slowlog_len() { cmd("SLOWLOG").with("LEN") }

        /// Empty the slow log.
        "slowlog|reset" fn slowlog_reset() { cmd("SLOWLOG").with("RESET") }

        /// Help text of `SLOWLOG`.
        "slowlog|help" fn slowlog_help() { cmd("SLOWLOG").with("HELP") }

        /// The latest latency spike of each event.
        "latency|latest" fn latency_latest() { cmd("LATENCY").with("LATEST") }

        /// Latency spikes of one event over time.
        "latency|history" fn latency_history<E: ToArgs>(event: E) { cmd("LATENCY").with("HISTORY").with(event) }

        /// Reset latency data of events (none given: all); returns how many were reset.
        "latency|reset" fn latency_reset<E: ToArgs>(events: E) { cmd("LATENCY").with("RESET").with(events) }

        /// A human-readable latency report.
        "latency|doctor" fn latency_doctor() { cmd("LATENCY").with("DOCTOR") }

        /// Help text of `LATENCY`.
        "latency|help" fn latency_help() { cmd("LATENCY").with("HELP") }

        /// Help text of `MODULE`.
        "module|help" fn module_help() { cmd("MODULE").with("HELP") }

        // ---- acl -----------------------------------------------------------------------

        /// The user this connection is authenticated as.
        "acl|whoami" fn acl_whoami() { cmd("ACL").with("WHOAMI") }

        /// The ACL categories.
        "acl|cat" fn acl_cat() { cmd("ACL").with("CAT") }

        /// The commands of an ACL category.
        "acl|cat" fn acl_cat_category<C: ToArgs>(category: C) { cmd("ACL").with("CAT").with(category) }

        /// The ACL rules, one line per user.
        "acl|list" fn acl_list() { cmd("ACL").with("LIST") }

        /// The user names.
        "acl|users" fn acl_users() { cmd("ACL").with("USERS") }

        /// The rules of one user (nil when missing).
        "acl|getuser" fn acl_getuser<U: ToArgs>(username: U) { cmd("ACL").with("GETUSER").with(username) }

        /// Create or modify a user with rules (`["on", ">password", "~*", "+@all"]`).
        "acl|setuser" fn acl_setuser<U: ToArgs, R: ToArgs>(username: U, rules: R) {
            cmd("ACL").with("SETUSER").with(username).with(rules)
        }

        /// Delete users; returns how many existed.
        "acl|deluser" fn acl_deluser<U: ToArgs>(usernames: U) { cmd("ACL").with("DELUSER").with(usernames) }

        /// The ACL security log (the server's default of 10 entries).
        "acl|log" fn acl_log() { cmd("ACL").with("LOG") }

        /// The last `count` entries of the ACL log.
        "acl|log" fn acl_log_count(count: u64) { cmd("ACL").with("LOG").with(count) }

        /// Empty the ACL log.
        "acl|log" fn acl_log_reset() { cmd("ACL").with("LOG").with("RESET") }

        /// A random password (256 bits, as hex).
        "acl|genpass" fn acl_genpass() { cmd("ACL").with("GENPASS") }

        /// A random password of `bits` bits, as hex.
        "acl|genpass" fn acl_genpass_bits(bits: u32) { cmd("ACL").with("GENPASS").with(bits) }

        /// Whether a user could run a command line (OK, or the reason it could not).
        "acl|dryrun" fn acl_dryrun<U: ToArgs, A: ToArgs>(username: U, command: A) {
            cmd("ACL").with("DRYRUN").with(username).with(command)
        }

        /// Reload users from the ACL file.
        "acl|load" fn acl_load() { cmd("ACL").with("LOAD") }

        /// Save users to the ACL file.
        "acl|save" fn acl_save() { cmd("ACL").with("SAVE") }

        /// Help text of `ACL`.
        "acl|help" fn acl_help() { cmd("ACL").with("HELP") }

        // ---- cluster -------------------------------------------------------------------

        /// Cluster state and statistics.
        "cluster|info" fn cluster_info() { cmd("CLUSTER").with("INFO") }

        /// The cluster nodes as this node sees them, one per line.
        "cluster|nodes" fn cluster_nodes() { cmd("CLUSTER").with("NODES") }

        /// Slot ranges and their nodes (deprecated in 7.0 for `cluster_shards`).
        "cluster|slots" fn cluster_slots() { cmd("CLUSTER").with("SLOTS") }

        /// The shards, their slots and nodes.
        "cluster|shards" fn cluster_shards() { cmd("CLUSTER").with("SHARDS") }

        /// The hash slot of a key.
        "cluster|keyslot" fn cluster_keyslot<K: ToArgs>(key: K) { cmd("CLUSTER").with("KEYSLOT").with(key) }

        /// Number of keys in a slot (of this node).
        "cluster|countkeysinslot" fn cluster_countkeysinslot(slot: u16) {
            cmd("CLUSTER").with("COUNTKEYSINSLOT").with(slot)
        }

        /// Up to `count` keys of a slot (of this node).
        "cluster|getkeysinslot" fn cluster_getkeysinslot(slot: u16, count: u64) {
            cmd("CLUSTER").with("GETKEYSINSLOT").with(slot).with(count)
        }

        /// This node's id.
        "cluster|myid" fn cluster_myid() { cmd("CLUSTER").with("MYID") }

        /// This node's cluster bus links.
        "cluster|links" fn cluster_links() { cmd("CLUSTER").with("LINKS") }

        /// The replicas of a primary node, in `cluster_nodes` format.
        "cluster|replicas" fn cluster_replicas<N: ToArgs>(node_id: N) { cmd("CLUSTER").with("REPLICAS").with(node_id) }

        /// Help text of `CLUSTER`.
        "cluster|help" fn cluster_help() { cmd("CLUSTER").with("HELP") }

        /// Allow reads from this replica on this connection (cluster).
        "readonly" fn readonly() { cmd("READONLY") }

        /// Stop reads from this replica on this connection (cluster).
        "readwrite" fn readwrite() { cmd("READWRITE") }

        /// Allow the next command on a slot being imported (after an ASK redirect).
        "asking" fn asking() { cmd("ASKING") }

        }
    };
}
