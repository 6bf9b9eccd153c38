//! Hashes.
//!
//! One group of the typed command list; see the parent module for the entry format and how the
//! groups are chained.

/// Appends this group's entries and hands over to the next group.
#[doc(hidden)]
#[macro_export]
macro_rules! __command_list_hashes {
    ([$next:path $(, $rest:path)*] $head:tt $($acc:tt)*) => {
        $next! { [$($rest),*] $head $($acc)*

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
        }
    };
}
