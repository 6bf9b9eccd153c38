//! Streams and consumer groups.
//!
//! One group of the typed command list; see the parent module for the entry format and how the
//! groups are chained.

/// Appends this group's entries and hands over to the next group.
#[doc(hidden)]
#[macro_export]
macro_rules! __command_list_streams {
    ([$next:path $(, $rest:path)*] $head:tt $($acc:tt)*) => {
        $next! { [$($rest),*] $head $($acc)*

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
        }
    };
}
