//! Pub/sub on a dedicated connection.
//!
//! Subscribing and unsubscribing wait (within the response timeout) for the server's
//! confirmations, counted by [`redis_core::pubsub::Subscriptions`]: a message published
//! after `subscribe` returns is never missed, and none is sent after `unsubscribe`
//! returns. Messages that arrive while waiting are queued, not dropped. Works the same on
//! RESP2 (arrays) and RESP3 (push frames).
//!
//! When the credentials rotate, the subscribed connection re-authenticates between reads
//! (an idle reader looks at least once a second): on RESP3 with `AUTH` on the subscribed
//! link itself; on RESP2, where a subscribed connection may not send `AUTH`, by a new
//! connection (with the new credentials) that subscribes to everything before the old
//! one leaves (`RESET`), so no message is missed; the messages both received are
//! delivered once (see [`redis_core::pubsub::overlap`]).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use redis_core::pubsub::{overlap, Incoming, SubKind, Subscriptions, Ticket};
use redis_core::{cmd, ConnectionEvent, Error, Msg, MsgKind, Protocol, Result, ToArgs, Value};

use crate::client::Client;
use crate::connection::Connection;

/// How long an idle reader waits between looks at the credentials, when they rotate.
const AUTH_LOOK: Duration = Duration::from_secs(1);

/// A connection in subscribed mode.
#[derive(Debug)]
pub struct PubSub {
    con: Connection,
    client: Client,
    subs: Subscriptions,
    queued: VecDeque<Msg>,
    /// RESP3 replies (not pushes) still to come, in order: `true` for a re-authentication
    /// `AUTH`, `false` for a `PING`.
    replies: VecDeque<bool>,
}

impl PubSub {
    pub(crate) fn new(con: Connection, client: Client) -> PubSub {
        PubSub {
            con,
            client,
            subs: Subscriptions::new(),
            queued: VecDeque::new(),
            replies: VecDeque::new(),
        }
    }

    /// How long one read may wait: `left`, but no longer than [`AUTH_LOOK`] when the
    /// credentials rotate, so an idle reader re-authenticates in time.
    fn step(&self, left: Option<Duration>) -> Option<Duration> {
        if !self.con.rotates() {
            return left;
        }
        Some(left.map_or(AUTH_LOOK, |l| l.min(AUTH_LOOK)))
    }

    /// The safe point between reads: re-authenticates when new credentials arrived and
    /// no (un)subscribe waits for its confirmation.
    fn reauth_if_due(&mut self) -> Result<()> {
        if !self.con.auth_should_look() || self.subs.waiting() > 0 {
            return Ok(());
        }
        let Some(auth) = self.con.take_auth_due() else {
            return Ok(());
        };
        match self.con.protocol() {
            Protocol::Resp3 => {
                self.con.write_raw(auth.packed())?;
                self.replies.push_back(true);
                Ok(())
            }
            Protocol::Resp2 => self.resubscribe(),
        }
    }

    /// RESP2: moves the subscriptions to a new connection (opened with the newest
    /// credentials) without a gap; see the module docs. A new connection that cannot be
    /// opened leaves the old one in place (a `ReauthFailed` event).
    fn resubscribe(&mut self) -> Result<()> {
        let mut fresh_con = match self.client.get_connection() {
            Ok(c) => c,
            Err(e) => {
                self.client.emit_event(ConnectionEvent::ReauthFailed {
                    addr: self.con.addr().clone(),
                    error: e.to_string(),
                });
                return Ok(());
            }
        };
        if self.subs.is_empty() && self.subs.waiting() == 0 {
            // Nothing subscribed: nothing to carry over.
            self.con = fresh_con;
            self.replies.clear();
            return Ok(());
        }
        let restore = self.subs.restore();
        for c in &restore.commands {
            fresh_con.write_raw(c.packed())?;
        }
        let timeout = self.con.response_timeout();
        let deadline = Instant::now() + timeout;
        let mut fresh = Vec::new();
        while self.subs.is_waiting(restore.ticket) {
            let left = deadline.saturating_duration_since(Instant::now());
            let Some(frame) = fresh_con.poll_frame(Some(left.max(Duration::from_millis(1))))?
            else {
                return Err(Error::Timeout {
                    what: "resubscription confirmation",
                    after: timeout,
                });
            };
            match self.subs.on_frame(frame) {
                Incoming::Message(m) => fresh.push(m),
                Incoming::Refused(_, e) => return Err(e.into()),
                _ => {}
            }
        }
        // Everything the old connection received before it left subscribed mode is
        // ours; `RESET` answers once it has.
        let mut old = Vec::new();
        if self.con.write_raw(cmd("RESET").packed()).is_ok() {
            let deadline = Instant::now() + timeout;
            loop {
                let left = deadline.saturating_duration_since(Instant::now());
                match self
                    .con
                    .poll_frame(Some(left.max(Duration::from_millis(1))))
                {
                    Ok(Some(Value::SimpleString(s))) if s == "RESET" => break,
                    Ok(Some(frame)) => {
                        if let Some(m) = Msg::from_value(frame).filter(Msg::is_message) {
                            old.push(m);
                        }
                    }
                    // Gone or silent: what it delivered is all there is.
                    Ok(None) | Err(_) => break,
                }
            }
        }
        // The messages both connections received are on the new one before the answer to
        // a PING sent now (the old one had left by then).
        fresh_con.write_raw(cmd("PING").packed())?;
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let Some(frame) = fresh_con.poll_frame(Some(left.max(Duration::from_millis(1))))?
            else {
                return Err(Error::Timeout {
                    what: "PING on the new pub/sub connection",
                    after: timeout,
                });
            };
            match self.subs.on_frame(frame) {
                Incoming::Message(m) => fresh.push(m),
                Incoming::Other(Some(m)) if m.kind() == &MsgKind::Pong => break,
                _ => {}
            }
        }
        let skip = overlap(&old, &fresh);
        self.queued.extend(old);
        self.queued.extend(fresh.into_iter().skip(skip));
        self.con = fresh_con;
        self.replies.clear();
        self.client.emit_event(ConnectionEvent::PubSubResubscribed {
            addr: self.con.addr().clone(),
            subscriptions: restore.restored,
        });
        Ok(())
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
        self.reauth_if_due()?;
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
            self.reauth_if_due()?;
            if let Some(m) = self.queued.pop_front() {
                return Ok(Some(m));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            let wait = self.step(Some(left.max(Duration::from_millis(1))));
            let frame = match self.con.poll_frame(wait)? {
                Some(f) => f,
                None if Instant::now() < deadline => continue,
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
            self.reauth_if_due()?;
            if let Some(m) = self.queued.pop_front() {
                return Ok(m);
            }
            let wait = self.step(None);
            if let Some(frame) = self.con.poll_frame(wait)? {
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
        self.con.write_raw(cmd("PING").packed())?;
        if self.con.protocol() == Protocol::Resp3 {
            self.replies.push_back(false);
        }
        Ok(())
    }

    /// Feeds a frame to the bookkeeping: the message it carries, if any. A refusal is an
    /// error for the request it answers (`waiting`), and for a reader when nothing waits.
    fn message_of(&mut self, frame: Value, waiting: Option<Ticket>) -> Result<Option<Msg>> {
        // RESP3: every pub/sub frame is a push, so anything else answers a PING or AUTH.
        if !self.replies.is_empty() && !matches!(frame, Value::Push(_)) {
            if self.replies.pop_front() == Some(true) {
                self.con.auth_replied(&frame);
            }
            return Ok(None);
        }
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
