//! Pub/sub on a dedicated connection.
//!
//! Subscribing waits for the server's confirmations, so a message published after
//! `subscribe` returns is never missed. Messages that arrive while waiting are queued, not
//! dropped. Works the same on RESP2 (arrays) and RESP3 (push frames).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use redis_core::{cmd, Error, Msg, MsgKind, Result, ToArgs, Value};

use crate::connection::Connection;

/// A connection in subscribed mode.
#[derive(Debug)]
pub struct PubSub {
    con: Connection,
    queued: VecDeque<Msg>,
}

impl PubSub {
    pub(crate) fn new(con: Connection) -> PubSub {
        PubSub {
            con,
            queued: VecDeque::new(),
        }
    }

    /// Subscribes to channel(s) and waits until the server confirms each.
    pub fn subscribe<T: ToArgs>(&mut self, channels: T) -> Result<()> {
        self.sub("SUBSCRIBE", MsgKind::Subscribe, channels)
    }

    /// Subscribes to pattern(s) (`news.*`) and waits for the confirmations.
    pub fn psubscribe<T: ToArgs>(&mut self, patterns: T) -> Result<()> {
        self.sub("PSUBSCRIBE", MsgKind::PSubscribe, patterns)
    }

    /// Subscribes to shard channel(s) and waits for the confirmations.
    pub fn ssubscribe<T: ToArgs>(&mut self, channels: T) -> Result<()> {
        self.sub("SSUBSCRIBE", MsgKind::SSubscribe, channels)
    }

    /// Unsubscribes from channel(s) (all channels when given an empty list).
    pub fn unsubscribe<T: ToArgs>(&mut self, channels: T) -> Result<()> {
        self.con
            .write_raw(cmd("UNSUBSCRIBE").arg(channels).packed())
    }

    /// Unsubscribes from pattern(s) (all patterns when given an empty list).
    pub fn punsubscribe<T: ToArgs>(&mut self, patterns: T) -> Result<()> {
        self.con
            .write_raw(cmd("PUNSUBSCRIBE").arg(patterns).packed())
    }

    /// Unsubscribes from shard channel(s).
    pub fn sunsubscribe<T: ToArgs>(&mut self, channels: T) -> Result<()> {
        self.con
            .write_raw(cmd("SUNSUBSCRIBE").arg(channels).packed())
    }

    fn sub<T: ToArgs>(&mut self, name: &str, confirm: MsgKind, channels: T) -> Result<()> {
        let mut c = cmd(name);
        c.arg(channels);
        let mut waiting = c.argc() - 1;
        if waiting == 0 {
            return Err(Error::InvalidRequest(format!("{name} needs a channel")));
        }
        self.con.write_raw(c.packed())?;
        let timeout = self.con.response_timeout();
        let deadline = Instant::now() + timeout;
        while waiting > 0 {
            let left = deadline.saturating_duration_since(Instant::now());
            let frame = match self
                .con
                .poll_frame(Some(left.max(Duration::from_millis(1))))?
            {
                Some(f) => f,
                None => {
                    return Err(Error::Timeout {
                        what: "subscription confirmation",
                        after: timeout,
                    })
                }
            };
            match Msg::from_value(frame.into_result()?) {
                Some(m) if m.kind() == &confirm => waiting -= 1,
                Some(m) if m.is_message() => self.queued.push_back(m),
                _ => {}
            }
        }
        Ok(())
    }

    /// Waits up to `timeout` for the next message; `Ok(None)` when none came.
    /// Subscription confirmations and PONGs are skipped.
    pub fn get_message(&mut self, timeout: Duration) -> Result<Option<Msg>> {
        if let Some(m) = self.queued.pop_front() {
            return Ok(Some(m));
        }
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let frame = match self
                .con
                .poll_frame(Some(left.max(Duration::from_millis(1))))?
            {
                Some(f) => f,
                None => return Ok(None),
            };
            if let Some(m) = self.message_of(frame)? {
                return Ok(Some(m));
            }
            if Instant::now() >= deadline {
                return Ok(None);
            }
        }
    }

    /// Waits (without limit) for the next message.
    pub fn next_message(&mut self) -> Result<Msg> {
        if let Some(m) = self.queued.pop_front() {
            return Ok(m);
        }
        loop {
            if let Some(frame) = self.con.poll_frame(None)? {
                if let Some(m) = self.message_of(frame)? {
                    return Ok(m);
                }
            }
        }
    }

    /// An endless iterator over messages (each `next` blocks until one arrives; it ends
    /// after the first error).
    pub fn messages(&mut self) -> Messages<'_> {
        Messages {
            pubsub: self,
            done: false,
        }
    }

    /// Sends PING; the PONG is consumed by the next read.
    pub fn ping(&mut self) -> Result<()> {
        self.con.write_raw(cmd("PING").packed())
    }

    fn message_of(&mut self, frame: Value) -> Result<Option<Msg>> {
        let frame = frame.into_result()?;
        Ok(Msg::from_value(frame).filter(Msg::is_message))
    }
}

/// Iterator returned by [`PubSub::messages`].
#[derive(Debug)]
pub struct Messages<'a> {
    pubsub: &'a mut PubSub,
    done: bool,
}

impl Iterator for Messages<'_> {
    type Item = Result<Msg>;

    fn next(&mut self) -> Option<Result<Msg>> {
        if self.done {
            return None;
        }
        let r = self.pubsub.next_message();
        self.done = r.is_err();
        Some(r)
    }
}
