//! Lists, blocking pops included.
//!
//! One group of the typed command list; see the parent module for the entry format and how the
//! groups are chained.

/// Appends this group's entries and hands over to the next group.
#[doc(hidden)]
#[macro_export]
macro_rules! __command_list_lists {
    ([$next:path $(, $rest:path)*] $head:tt $($acc:tt)*) => {
        $next! { [$($rest),*] $head $($acc)*

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
        }
    };
}
