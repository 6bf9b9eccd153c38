//! How long a request may wait for its reply, decided once for both clients.
//!
//! A request's limit is the response timeout, plus the block time of a blocking command
//! (BLPOP, XREAD BLOCK, WAIT), or no limit for "block forever"; a pipeline waits as long
//! as its longest command. The limit is a deadline for the whole request (every reply of
//! a pipeline, every byte of a reply), not a bound on each read: a server dripping a reply
//! a byte at a time cannot stretch it.

use std::time::Duration;

use crate::cmd::Cmd;
use crate::command_table::{self, BlockTime};
use crate::pipeline::Pipeline;

/// The wait allowed for a request whose longest command blocks for `block`, on top of
/// the `response` timeout; `None` means no limit ("block forever").
pub fn timeout_for(response: Duration, block: BlockTime) -> Option<Duration> {
    match block {
        BlockTime::NotBlocking => Some(response),
        BlockTime::For(d) => Some(response.saturating_add(d)),
        BlockTime::Forever => None,
    }
}

/// The wait allowed for one command (see [`timeout_for`]).
pub fn cmd_timeout(response: Duration, cmd: &Cmd) -> Option<Duration> {
    timeout_for(response, command_table::block_time(cmd))
}

/// The wait allowed for a pipeline: that of its longest-blocking command.
pub fn pipeline_timeout(response: Duration, pipe: &Pipeline) -> Option<Duration> {
    timeout_for(response, pipeline_block_time(pipe))
}

/// The longer of two block times (`Forever` beats any duration).
#[inline]
pub fn longest(a: BlockTime, b: BlockTime) -> BlockTime {
    match (a, b) {
        (BlockTime::Forever, _) | (_, BlockTime::Forever) => BlockTime::Forever,
        (BlockTime::For(x), BlockTime::For(y)) => BlockTime::For(x.max(y)),
        (BlockTime::For(x), _) | (_, BlockTime::For(x)) => BlockTime::For(x),
        _ => BlockTime::NotBlocking,
    }
}

/// The longest block time among a pipeline's commands.
pub fn pipeline_block_time(pipe: &Pipeline) -> BlockTime {
    let mut block = BlockTime::NotBlocking;
    for cmd in pipe.cmds() {
        // `block_time` is inlined up to its first-byte filter: most commands cost a
        // compare here.
        block = longest(block, command_table::block_time(cmd));
    }
    block
}

/// For a blocking socket that enforces a deadline through its read timeout: the timeout
/// to set before the next read, or `None` to keep `current` (saving a system call).
///
/// `left` is the time left before the deadline (`None`: no deadline) and `limit` the
/// request's whole limit. The current setting is kept while it is within a tenth of the
/// limit of what is left, so a request whose reply arrives in one read costs no extra
/// call, and a read never overshoots the deadline by more than that tenth.
pub fn read_timeout_change(
    current: Option<Duration>,
    left: Option<Duration>,
    limit: Duration,
) -> Option<Option<Duration>> {
    let Some(left) = left else {
        return (current.is_some()).then_some(None);
    };
    // A zero read timeout means "no timeout" to std: never set one.
    let left = left.max(Duration::from_millis(1));
    let slack = limit / 10;
    match current {
        Some(cur) if cur <= left + slack && cur + slack >= left => None,
        _ => Some(Some(left)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::cmd;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn limits_and_longest() {
        let r = Duration::from_secs(1);
        assert_eq!(cmd_timeout(r, &cmd("GET").with("k")), Some(r));
        assert_eq!(
            cmd_timeout(r, &cmd("BLPOP").with("k").with(2)),
            Some(Duration::from_secs(3))
        );
        assert_eq!(cmd_timeout(r, &cmd("BLPOP").with("k").with(0)), None);
        let mut p = Pipeline::new();
        p.add(cmd("GET").with("k"))
            .add(cmd("BLPOP").with("k").with(1))
            .add(cmd("BLPOP").with("k").with(2));
        assert_eq!(pipeline_timeout(r, &p), Some(Duration::from_secs(3)));
        p.add(cmd("BLPOP").with("k").with(0));
        assert_eq!(pipeline_timeout(r, &p), None);
        assert_eq!(
            longest(BlockTime::NotBlocking, BlockTime::NotBlocking),
            BlockTime::NotBlocking
        );
    }

    #[test]
    fn read_timeout_changes_only_when_it_matters() {
        let limit = 1000 * MS;
        // Steady state: the first read of a request finds the limit already set.
        assert_eq!(
            read_timeout_change(Some(limit), Some(999 * MS), limit),
            None
        );
        // Time has passed: lower it to what is left.
        assert_eq!(
            read_timeout_change(Some(limit), Some(300 * MS), limit),
            Some(Some(300 * MS))
        );
        // Raised again for the next request.
        assert_eq!(
            read_timeout_change(Some(5 * MS), Some(limit), limit),
            Some(Some(limit))
        );
        // No deadline: clear the timeout once.
        assert_eq!(read_timeout_change(Some(limit), None, limit), Some(None));
        assert_eq!(read_timeout_change(None, None, limit), None);
        // Never a zero timeout (std reads that as "none").
        assert_eq!(
            read_timeout_change(None, Some(Duration::ZERO), limit),
            Some(Some(MS))
        );
    }
}
