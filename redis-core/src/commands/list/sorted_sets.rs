//! Sorted sets, blocking pops included.
//!
//! One group of the typed command list; see the parent module for the entry format and how the
//! groups are chained.

/// Appends this group's entries and hands over to the next group.
#[doc(hidden)]
#[macro_export]
macro_rules! __command_list_sorted_sets {
    ([$next:path $(, $rest:path)*] $head:tt $($acc:tt)*) => {
        $next! { [$($rest),*] $head $($acc)*

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
        }
    };
}
