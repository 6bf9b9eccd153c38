//! Sets.
//!
//! One group of the typed command list; see the parent module for the entry format and how the
//! groups are chained.

/// Appends this group's entries and hands over to the next group.
#[doc(hidden)]
#[macro_export]
macro_rules! __command_list_sets {
    ([$next:path $(, $rest:path)*] $head:tt $($acc:tt)*) => {
        $next! { [$($rest),*] $head $($acc)*

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
        }
    };
}
