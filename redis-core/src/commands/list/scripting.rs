//! Lua scripts and functions.
//!
//! One group of the typed command list; see the parent module for the entry format and how the
//! groups are chained.

/// Appends this group's entries and hands over to the next group.
#[doc(hidden)]
#[macro_export]
macro_rules! __command_list_scripting {
    ([$next:path $(, $rest:path)*] $head:tt $($acc:tt)*) => {
        $next! { [$($rest),*] $head $($acc)*

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
        }
    };
}
