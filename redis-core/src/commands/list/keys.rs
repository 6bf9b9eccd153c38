//! The keyspace: deleting, renaming, expiring, scanning, dumping keys.
//!
//! One group of the typed command list; see the parent module for the entry format and how the
//! groups are chained.

/// Appends this group's entries and hands over to the next group.
#[doc(hidden)]
#[macro_export]
macro_rules! __command_list_keys {
    ([$next:path $(, $rest:path)*] $head:tt $($acc:tt)*) => {
        $next! { [$($rest),*] $head $($acc)*

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
        }
    };
}
