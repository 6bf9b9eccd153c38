//! Server administration and introspection.
//!
//! One group of the typed command list; see the parent module for the entry format and how the
//! groups are chained.

/// Appends this group's entries and hands over to the next group.
#[doc(hidden)]
#[macro_export]
macro_rules! __command_list_server {
    ([$next:path $(, $rest:path)*] $head:tt $($acc:tt)*) => {
        $next! { [$($rest),*] $head $($acc)*

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
        }
    };
}
