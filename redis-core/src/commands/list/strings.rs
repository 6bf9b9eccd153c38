//! Strings: GET/SET and friends, counters, ranges.
//!
//! One group of the typed command list; see the parent module for the entry format and how the
//! groups are chained.

/// Appends this group's entries and hands over to the next group.
#[doc(hidden)]
#[macro_export]
macro_rules! __command_list_strings {
    ([$next:path $(, $rest:path)*] $head:tt $($acc:tt)*) => {
        $next! { [$($rest),*] $head $($acc)*

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
        }
    };
}
