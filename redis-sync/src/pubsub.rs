//! Pub/sub on a dedicated connection.
//!
//! Subscribing and unsubscribing wait (within the response timeout) for the server's
//! confirmations, counted by [`redis_core::pubsub::Subscriptions`]: a message published
//! after `subscribe` returns is never missed, and none is sent after `unsubscribe`
//! returns. Messages that arrive while waiting are queued, not dropped. Works the same on
//! RESP2 (arrays) and RESP3 (push frames).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use redis_core::pubsub::{Incoming, SubKind, Subscriptions, Ticket};
use redis_core::{cmd, Error, Msg, Result, ToArgs, Value};

use crate::connection::Connection;

/// A connection in subscribed mode.
#[derive(Debug)]
pub struct PubSub {
    con: Connection,
    subs: Subscriptions,
    queued: VecDeque<Msg>,
}

impl PubSub {
    pub(crate) fn new(con: Connection) -> PubSub {
        PubSub {
            con,
            subs: Subscriptions::new(),
            queued: VecDeque::new(),
        }
    }

    /// Subscribes to channel(s) and waits until the server confirms each.
    pub fn subscribe<T: ToArgs>(&mut self, channels: T) -> Result<()> {
        self.request(SubKind::Channel, true, channels)
    }

    /// Subscribes to pattern(s) (`news.*`) and waits for the confirmations.
    pub fn psubscribe<T: ToArgs>(&mut self, patterns: T) -> Result<()> {
        self.request(SubKind::Pattern, true, patterns)
    }

    /// Subscribes to shard channel(s) and waits for the confirmations.
    pub fn ssubscribe<T: ToArgs>(&mut self, channels: T) -> Result<()> {
        self.request(SubKind::Shard, true, channels)
    }

    /// Unsubscribes from channel(s) (all channels when given an empty list) and waits
    /// for the confirmations.
    pub fn unsubscribe<T: ToArgs>(&mut self, channels: T) -> Result<()> {
        self.request(SubKind::Channel, false, channels)
    }

    /// Unsubscribes from pattern(s) (all patterns when given an empty list) and waits for
    /// the confirmations.
    pub fn punsubscribe<T: ToArgs>(&mut self, patterns: T) -> Result<()> {
        self.request(SubKind::Pattern, false, patterns)
    }

    /// Unsubscribes from shard channel(s) (all when given an empty list) and waits for
    /// the confirmations.
    pub fn sunsubscribe<T: ToArgs>(&mut self, channels: T) -> Result<()> {
        self.request(SubKind::Shard, false, channels)
    }

    fn request<T: ToArgs>(&mut self, kind: SubKind, sub: bool, names: T) -> Result<()> {
        let names = names.to_arg_vec();
        let (c, ticket) = if sub {
            self.subs.subscribe(kind, &names)?
        } else {
            self.subs.unsubscribe(kind, &names)
        };
        self.con.write_raw(c.packed())?;
        self.wait_for(ticket)
    }

    /// Reads until `ticket` is confirmed (queueing messages), within the response timeout.
    fn wait_for(&mut self, ticket: Ticket) -> Result<()> {
        let timeout = self.con.response_timeout();
        let deadline = Instant::now() + timeout;
        while self.subs.is_waiting(ticket) {
            let left = deadline.saturating_duration_since(Instant::now());
            let Some(frame) = self
                .con
                .poll_frame(Some(left.max(Duration::from_millis(1))))?
            else {
                return Err(Error::Timeout {
                    what: "subscription confirmation",
                    after: timeout,
                });
            };
            if let Some(m) = self.message_of(frame, Some(ticket))? {
                self.queued.push_back(m);
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
            if let Some(m) = self.message_of(frame, None)? {
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
                if let Some(m) = self.message_of(frame, None)? {
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

    /// Feeds a frame to the bookkeeping: the message it carries, if any. A refusal is an
    /// error for the request it answers (`waiting`), and for a reader when nothing waits.
    fn message_of(&mut self, frame: Value, waiting: Option<Ticket>) -> Result<Option<Msg>> {
        match self.subs.on_frame(frame) {
            Incoming::Message(m) => Ok(Some(m)),
            Incoming::Refused(failed, e)
                if failed.is_empty() || waiting.is_some_and(|t| failed.contains(&t)) =>
            {
                Err(e.into())
            }
            _ => Ok(None),
        }
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
