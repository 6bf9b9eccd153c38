//! The list of typed commands, one file per command group. See the parent module for how
//! it is expanded.
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
//!
//! How the groups are joined: `command_list!` must hand its callback every entry in one
//! invocation (the callback defines one trait, and one `TYPED_COMMANDS` array). Each group
//! file defines a `macro_rules!` that appends its entries to the ones collected so far and
//! calls the next group in the chain below; the last link (`__command_list_end!`) calls the
//! callback with all of them. A new group is a new file here and one more link in the chain.

mod acl;
mod bitmaps;
mod cluster;
mod connection;
mod geo;
mod hashes;
mod hyperloglog;
mod keys;
mod lists;
mod pubsub;
mod scripting;
mod server;
mod sets;
mod sorted_sets;
mod streams;
mod strings;

/// Calls `$callback! { $extra; <every command entry> }`.
#[doc(hidden)]
#[macro_export]
macro_rules! command_list {
    ($callback:path; $($extra:tt)*) => {
        $crate::__command_list_strings! {
            [
                $crate::__command_list_keys,
                $crate::__command_list_lists,
                $crate::__command_list_sets,
                $crate::__command_list_sorted_sets,
                $crate::__command_list_hashes,
                $crate::__command_list_bitmaps,
                $crate::__command_list_hyperloglog,
                $crate::__command_list_geo,
                $crate::__command_list_streams,
                $crate::__command_list_scripting,
                $crate::__command_list_pubsub,
                $crate::__command_list_connection,
                $crate::__command_list_server,
                $crate::__command_list_acl,
                $crate::__command_list_cluster,
                $crate::__command_list_end
            ]
            ($callback; $($extra)*)
        }
    };
}

/// The end of the chain: calls the callback with every entry.
#[doc(hidden)]
#[macro_export]
macro_rules! __command_list_end {
    ([] ($callback:path; $($extra:tt)*) $($acc:tt)*) => {
        $callback! { $($extra)*; $($acc)* }
    };
}
