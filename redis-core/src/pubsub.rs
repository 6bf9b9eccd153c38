//! Pub/sub: messages, parsed the same way from RESP2 arrays and RESP3 push frames, and the
//! bookkeeping of a subscribed connection ([`Subscriptions`]), written once for both shells.
//!
//! The bookkeeping is sans-IO. A shell asks it for the command of each (un)subscribe
//! request and gets a [`Ticket`]; it feeds every frame it reads to
//! [`Subscriptions::on_frame`], which says which requests the server has now fully
//! confirmed (one confirmation per name, and exactly one for "unsubscribe from all" when
//! nothing was subscribed), which one it refused, or hands back a published message.
//! After a reconnect, [`Subscriptions::restore`] gives the commands that bring a new
//! connection back to the same set of channels, patterns and shard channels.

use std::collections::{BTreeSet, VecDeque};

use bytes::Bytes;

use crate::cmd::{cmd, Cmd};
use crate::error::{Error, Result, ServerError};
use crate::types::FromValue;
use crate::value::Value;

/// What a pub/sub frame announces.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MsgKind {
    /// A message on a subscribed channel.
    Message,
    /// A message matched by a pattern subscription.
    PMessage,
    /// A message on a shard channel.
    SMessage,
    /// Confirmation of SUBSCRIBE (one per channel).
    Subscribe,
    /// Confirmation of UNSUBSCRIBE.
    Unsubscribe,
    /// Confirmation of PSUBSCRIBE.
    PSubscribe,
    /// Confirmation of PUNSUBSCRIBE.
    PUnsubscribe,
    /// Confirmation of SSUBSCRIBE.
    SSubscribe,
    /// Confirmation of SUNSUBSCRIBE.
    SUnsubscribe,
    /// Reply to PING in subscribed mode.
    Pong,
    /// Any other push (e.g. `invalidate` from client tracking).
    Other(String),
    /// Not from the server: a reconnecting subscriber has restored every subscription on
    /// a new connection (the payload is how many). Messages published while it was away
    /// are lost, as pub/sub always loses them for a subscriber that is not connected.
    Resubscribed,
}

/// One pub/sub frame.
#[derive(Debug, Clone, PartialEq)]
pub struct Msg {
    kind: MsgKind,
    channel: Bytes,
    pattern: Option<Bytes>,
    payload: Value,
}

fn bytes_of(v: Value) -> Option<Bytes> {
    match v {
        Value::BulkString(b) => Some(b),
        Value::SimpleString(s) => Some(Bytes::from(s)),
        _ => None,
    }
}

impl Msg {
    /// The notice a reconnecting subscriber puts in its stream once `restored`
    /// subscriptions are confirmed on the new connection ([`MsgKind::Resubscribed`]).
    pub fn resubscribed(restored: usize) -> Msg {
        Msg {
            kind: MsgKind::Resubscribed,
            channel: Bytes::new(),
            pattern: None,
            payload: Value::Int(i64::try_from(restored).unwrap_or(i64::MAX)),
        }
    }

    /// Parses a frame; `None` when it is not a pub/sub frame.
    pub fn from_value(v: Value) -> Option<Msg> {
        let items = match v {
            Value::Array(items) | Value::Push(items) => items,
            _ => return None,
        };
        let mut it = items.into_iter();
        let kind_bytes = bytes_of(it.next()?)?;
        let kind = match &kind_bytes[..] {
            b"message" => MsgKind::Message,
            b"pmessage" => MsgKind::PMessage,
            b"smessage" => MsgKind::SMessage,
            b"subscribe" => MsgKind::Subscribe,
            b"unsubscribe" => MsgKind::Unsubscribe,
            b"psubscribe" => MsgKind::PSubscribe,
            b"punsubscribe" => MsgKind::PUnsubscribe,
            b"ssubscribe" => MsgKind::SSubscribe,
            b"sunsubscribe" => MsgKind::SUnsubscribe,
            b"pong" => MsgKind::Pong,
            other => MsgKind::Other(String::from_utf8_lossy(other).into_owned()),
        };
        let (pattern, channel, payload) = match kind {
            MsgKind::PMessage => (
                Some(bytes_of(it.next()?)?),
                bytes_of(it.next()?)?,
                it.next()?,
            ),
            MsgKind::Pong => (None, Bytes::new(), it.next().unwrap_or(Value::Nil)),
            MsgKind::Other(_) | MsgKind::Resubscribed => {
                (None, Bytes::new(), Value::Array(it.collect()))
            }
            _ => (None, bytes_of(it.next()?).unwrap_or_default(), it.next()?),
        };
        Some(Msg {
            kind,
            channel,
            pattern,
            payload,
        })
    }

    /// The kind of frame.
    pub fn kind(&self) -> &MsgKind {
        &self.kind
    }

    /// True for an actual message (not a subscription confirmation).
    pub fn is_message(&self) -> bool {
        matches!(
            self.kind,
            MsgKind::Message | MsgKind::PMessage | MsgKind::SMessage
        )
    }

    /// The channel (empty for PONG and unknown pushes).
    pub fn channel(&self) -> &[u8] {
        &self.channel
    }

    /// The channel as text (lossy).
    pub fn channel_name(&self) -> String {
        String::from_utf8_lossy(&self.channel).into_owned()
    }

    /// The matching pattern, for pattern messages.
    pub fn pattern(&self) -> Option<&[u8]> {
        self.pattern.as_deref()
    }

    /// The payload as sent (for confirmations: the subscription count).
    pub fn payload_value(&self) -> &Value {
        &self.payload
    }

    /// The payload converted.
    pub fn payload<T: FromValue>(&self) -> Result<T> {
        T::from_value(self.payload.clone())
    }
}

/// A family of subscriptions: each has its own commands, confirmations and set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SubKind {
    /// `SUBSCRIBE` channels.
    Channel,
    /// `PSUBSCRIBE` patterns.
    Pattern,
    /// `SSUBSCRIBE` shard channels.
    Shard,
}

impl SubKind {
    /// Every kind, in the order a restore resubscribes them.
    pub const ALL: [SubKind; 3] = [SubKind::Channel, SubKind::Pattern, SubKind::Shard];

    /// `SUBSCRIBE`, `PSUBSCRIBE` or `SSUBSCRIBE`.
    pub fn subscribe_command(self) -> &'static str {
        match self {
            SubKind::Channel => "SUBSCRIBE",
            SubKind::Pattern => "PSUBSCRIBE",
            SubKind::Shard => "SSUBSCRIBE",
        }
    }

    /// `UNSUBSCRIBE`, `PUNSUBSCRIBE` or `SUNSUBSCRIBE`.
    pub fn unsubscribe_command(self) -> &'static str {
        match self {
            SubKind::Channel => "UNSUBSCRIBE",
            SubKind::Pattern => "PUNSUBSCRIBE",
            SubKind::Shard => "SUNSUBSCRIBE",
        }
    }

    fn confirmation(self, subscribe: bool) -> MsgKind {
        match (self, subscribe) {
            (SubKind::Channel, true) => MsgKind::Subscribe,
            (SubKind::Channel, false) => MsgKind::Unsubscribe,
            (SubKind::Pattern, true) => MsgKind::PSubscribe,
            (SubKind::Pattern, false) => MsgKind::PUnsubscribe,
            (SubKind::Shard, true) => MsgKind::SSubscribe,
            (SubKind::Shard, false) => MsgKind::SUnsubscribe,
        }
    }

    fn index(self) -> usize {
        match self {
            SubKind::Channel => 0,
            SubKind::Pattern => 1,
            SubKind::Shard => 2,
        }
    }
}

/// Names one (un)subscribe request made through [`Subscriptions`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ticket(u64);

/// What one frame read from a subscribed connection means.
#[derive(Debug, PartialEq)]
#[non_exhaustive]
pub enum Incoming {
    /// A published message (`message`, `pmessage`, `smessage`), for the application.
    Message(Msg),
    /// Requests the server has now fully confirmed (often none: a request with N names
    /// needs N confirmations).
    Confirmed(Vec<Ticket>),
    /// The server refused the oldest waiting request (e.g. `NOPERM` for a channel the ACL
    /// user may not use); its names are taken out of the tracked set again. No tickets:
    /// an error reply when nothing was waiting.
    Refused(Vec<Ticket>, ServerError),
    /// Anything else: a `PONG`, an unknown push, a confirmation nobody waits for (parsed
    /// when it is a pub/sub frame), or a reply that is not pub/sub at all (`None`).
    Other(Option<Msg>),
}

/// The commands that bring a new connection back to the tracked subscriptions.
#[derive(Debug)]
pub struct Restore {
    /// To send on the new connection, in order (empty when nothing is subscribed).
    pub commands: Vec<Cmd>,
    /// Completes when every restore command is confirmed; the requests that were waiting
    /// on the old connection complete with it.
    pub ticket: Ticket,
    /// Tickets already complete because there was nothing to restore (the restore ticket
    /// and the requests that were waiting).
    pub done_now: Vec<Ticket>,
    /// How many channels, patterns and shard channels are being restored.
    pub restored: usize,
}

#[derive(Debug)]
struct Pending {
    confirm: MsgKind,
    left: usize,
    /// Completed together when `left` reaches 0 (a request, or a restore and the requests
    /// it stands in for).
    tickets: Vec<Ticket>,
    kind: SubKind,
    /// Names this request put into the set, or took out of it: undone if it is refused.
    added: Vec<Bytes>,
    removed: Vec<Bytes>,
}

/// The subscriptions of one connection and the requests waiting for confirmation.
///
/// The set is updated when a request is made, in the order requests are sent, which is
/// the order the server runs them; so "unsubscribe from all" knows how many confirmations
/// it will get. Confirmations are counted in order against the oldest waiting request.
#[derive(Debug, Default)]
pub struct Subscriptions {
    sets: [BTreeSet<Bytes>; 3],
    pending: VecDeque<Pending>,
    next: u64,
}

impl Subscriptions {
    /// Nothing subscribed, nothing waiting.
    pub fn new() -> Subscriptions {
        Subscriptions::default()
    }

    fn ticket(&mut self) -> Ticket {
        self.next += 1;
        Ticket(self.next)
    }

    /// Records a subscribe request for `names` and returns the command to send. At least
    /// one name is required.
    pub fn subscribe(&mut self, kind: SubKind, names: &[Vec<u8>]) -> Result<(Cmd, Ticket)> {
        if names.is_empty() {
            return Err(Error::InvalidRequest(format!(
                "{} needs at least one name",
                kind.subscribe_command()
            )));
        }
        let mut c = cmd(kind.subscribe_command());
        let mut added = Vec::new();
        for n in names {
            c.arg(&n[..]);
            let n = Bytes::copy_from_slice(n);
            if self.sets[kind.index()].insert(n.clone()) {
                added.push(n);
            }
        }
        let ticket = self.ticket();
        self.pending.push_back(Pending {
            confirm: kind.confirmation(true),
            left: names.len(),
            tickets: vec![ticket],
            kind,
            added,
            removed: Vec::new(),
        });
        Ok((c, ticket))
    }

    /// Records an unsubscribe request (`names` empty: from every name of this kind) and
    /// returns the command to send.
    pub fn unsubscribe(&mut self, kind: SubKind, names: &[Vec<u8>]) -> (Cmd, Ticket) {
        let mut c = cmd(kind.unsubscribe_command());
        let set = &mut self.sets[kind.index()];
        let (removed, left): (Vec<Bytes>, usize) = if names.is_empty() {
            // The server confirms each name it drops, or once (with a nil name) if none.
            let all: Vec<Bytes> = std::mem::take(set).into_iter().collect();
            let left = all.len().max(1);
            (all, left)
        } else {
            let mut removed = Vec::new();
            for n in names {
                c.arg(&n[..]);
                if let Some(n) = set.take(&n[..]) {
                    removed.push(n);
                }
            }
            (removed, names.len())
        };
        let ticket = self.ticket();
        self.pending.push_back(Pending {
            confirm: kind.confirmation(false),
            left,
            tickets: vec![ticket],
            kind,
            added: Vec::new(),
            removed,
        });
        (c, ticket)
    }

    /// Interprets one frame read from the subscribed connection.
    pub fn on_frame(&mut self, frame: Value) -> Incoming {
        let msg = match frame {
            Value::ServerError(e) => {
                let Some(p) = self.pending.pop_front() else {
                    return Incoming::Refused(Vec::new(), e);
                };
                let set = &mut self.sets[p.kind.index()];
                for n in p.added {
                    set.remove(&n);
                }
                set.extend(p.removed);
                return Incoming::Refused(p.tickets, e);
            }
            f => match Msg::from_value(f) {
                Some(m) if m.is_message() => return Incoming::Message(m),
                Some(m) => m,
                None => return Incoming::Other(None),
            },
        };
        match self.pending.front_mut() {
            Some(front) if msg.kind() == &front.confirm => {
                front.left = front.left.saturating_sub(1);
                if front.left > 0 {
                    return Incoming::Confirmed(Vec::new());
                }
                match self.pending.pop_front() {
                    Some(done) => Incoming::Confirmed(done.tickets),
                    None => Incoming::Confirmed(Vec::new()),
                }
            }
            _ => Incoming::Other(Some(msg)),
        }
    }

    /// True while `ticket` waits for confirmations.
    pub fn is_waiting(&self, ticket: Ticket) -> bool {
        self.pending.iter().any(|p| p.tickets.contains(&ticket))
    }

    /// How many requests wait for confirmations.
    pub fn waiting(&self) -> usize {
        self.pending.len()
    }

    /// For a new connection: forgets what waited on the old one and returns the commands
    /// that subscribe it to every tracked name. The requests that were waiting complete
    /// with the restore: the set already reflects them.
    pub fn restore(&mut self) -> Restore {
        let orphans: Vec<Ticket> = self.pending.drain(..).flat_map(|p| p.tickets).collect();
        let ticket = self.ticket();
        let mut commands = Vec::new();
        let mut restored = 0;
        for kind in SubKind::ALL {
            let set = &self.sets[kind.index()];
            if set.is_empty() {
                continue;
            }
            let mut c = cmd(kind.subscribe_command());
            for n in set {
                c.arg(&n[..]);
            }
            restored += set.len();
            commands.push(c);
            self.pending.push_back(Pending {
                confirm: kind.confirmation(true),
                left: set.len(),
                tickets: Vec::new(),
                kind,
                added: Vec::new(),
                removed: Vec::new(),
            });
        }
        let mut tickets = vec![ticket];
        tickets.extend(orphans);
        match self.pending.back_mut() {
            Some(last) => {
                last.tickets = tickets;
                Restore {
                    commands,
                    ticket,
                    done_now: Vec::new(),
                    restored,
                }
            }
            None => Restore {
                commands,
                ticket,
                done_now: tickets,
                restored,
            },
        }
    }

    /// The tracked names of one kind.
    pub fn names(&self, kind: SubKind) -> impl Iterator<Item = &[u8]> {
        self.sets[kind.index()].iter().map(|b| &b[..])
    }

    /// How many channels, patterns and shard channels are tracked in all.
    pub fn len(&self) -> usize {
        self.sets.iter().map(BTreeSet::len).sum()
    }

    /// True when nothing is tracked.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// How many of `fresh`'s first messages repeat the last ones of `old`: when a pub/sub
/// connection is replaced without a gap (the new one subscribed before the old one
/// stopped), both received the messages published in between, in the same order (the
/// server publishes to every subscriber in one order). The longest suffix of `old` that is
/// a prefix of `fresh` is that overlap; skip it in `fresh`. A message repeated verbatim
/// at the seam could be taken for the overlap, so exact only when payloads differ.
pub fn overlap(old: &[Msg], fresh: &[Msg]) -> usize {
    let max = old.len().min(fresh.len());
    (1..=max)
        .rev()
        .find(|&k| old[old.len() - k..] == fresh[..k])
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlap_is_the_longest_suffix_of_old_that_starts_fresh() {
        let m = |p: &str| {
            Msg::from_value(Value::Array(vec![
                Value::BulkString(Bytes::from_static(b"message")),
                Value::BulkString(Bytes::from_static(b"ch")),
                Value::BulkString(Bytes::copy_from_slice(p.as_bytes())),
            ]))
            .unwrap()
        };
        let old = [m("1"), m("2"), m("3"), m("4")];
        assert_eq!(overlap(&old, &[m("3"), m("4"), m("5")]), 2);
        assert_eq!(overlap(&old, &[m("5")]), 0);
        assert_eq!(overlap(&old, &[]), 0);
        assert_eq!(overlap(&[], &[m("1")]), 0);
        assert_eq!(overlap(&old, &old), 4);
        // Only a suffix counts: "2" alone in fresh is not the end of old.
        assert_eq!(overlap(&old, &[m("2"), m("3")]), 0);
    }

    fn b(s: &str) -> Value {
        Value::BulkString(Bytes::copy_from_slice(s.as_bytes()))
    }

    #[test]
    fn parses_both_protocols() {
        let m = Msg::from_value(Value::Array(vec![b("message"), b("ch"), b("hi")])).unwrap();
        assert!(m.is_message());
        assert_eq!(m.channel(), b"ch");
        assert_eq!(m.payload::<String>().unwrap(), "hi");
        let m =
            Msg::from_value(Value::Push(vec![b("pmessage"), b("c*"), b("cx"), b("p")])).unwrap();
        assert_eq!(m.pattern(), Some(&b"c*"[..]));
        assert_eq!(m.channel(), b"cx");
        let m = Msg::from_value(Value::Push(vec![b("subscribe"), b("c"), Value::Int(1)])).unwrap();
        assert_eq!(m.kind(), &MsgKind::Subscribe);
        assert!(!m.is_message());
        assert!(Msg::from_value(Value::Int(1)).is_none());
    }
    fn confirm(kind: &str, name: Option<&str>, count: i64) -> Value {
        Value::Push(vec![b(kind), name.map_or(Value::Nil, b), Value::Int(count)])
    }

    fn names(list: &[&str]) -> Vec<Vec<u8>> {
        list.iter().map(|s| s.as_bytes().to_vec()).collect()
    }

    fn args(c: &Cmd) -> Vec<String> {
        c.args()
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect()
    }

    #[test]
    fn a_request_completes_after_one_confirmation_per_name() {
        let mut s = Subscriptions::new();
        let (c, t) = s.subscribe(SubKind::Channel, &names(&["a", "b"])).unwrap();
        assert_eq!(args(&c), ["SUBSCRIBE", "a", "b"]);
        assert!(s.is_waiting(t));
        assert_eq!(
            s.on_frame(confirm("subscribe", Some("a"), 1)),
            Incoming::Confirmed(vec![])
        );
        // A message in between is handed on and does not count.
        let m = s.on_frame(Value::Array(vec![b("message"), b("a"), b("x")]));
        assert!(matches!(m, Incoming::Message(_)));
        // A confirmation of another kind does not count either.
        assert!(matches!(
            s.on_frame(confirm("psubscribe", Some("p*"), 2)),
            Incoming::Other(_)
        ));
        assert_eq!(
            s.on_frame(confirm("subscribe", Some("b"), 2)),
            Incoming::Confirmed(vec![t])
        );
        assert!(!s.is_waiting(t));
        assert_eq!(s.len(), 2);
        assert!(s.subscribe(SubKind::Channel, &[]).is_err());
    }

    #[test]
    fn unsubscribe_from_all_expects_one_reply_per_name_or_one_for_none() {
        let mut s = Subscriptions::new();
        let (_, t1) = s
            .subscribe(SubKind::Pattern, &names(&["p*", "q*"]))
            .unwrap();
        let (c, t2) = s.unsubscribe(SubKind::Pattern, &[]);
        assert_eq!(args(&c), ["PUNSUBSCRIBE"]);
        assert!(s.is_empty());
        let (_, t3) = s.unsubscribe(SubKind::Pattern, &[]);
        let replies = [
            (confirm("psubscribe", Some("p*"), 1), vec![]),
            (confirm("psubscribe", Some("q*"), 2), vec![t1]),
            (confirm("punsubscribe", Some("p*"), 1), vec![]),
            (confirm("punsubscribe", Some("q*"), 0), vec![t2]),
            (confirm("punsubscribe", None, 0), vec![t3]),
        ];
        for (frame, done) in replies {
            assert_eq!(s.on_frame(frame), Incoming::Confirmed(done));
        }
        assert_eq!(s.waiting(), 0);
        // Named unsubscribe: one reply per name given, subscribed or not.
        let (c, t) = s.unsubscribe(SubKind::Channel, &names(&["x", "y"]));
        assert_eq!(args(&c), ["UNSUBSCRIBE", "x", "y"]);
        assert_eq!(
            s.on_frame(confirm("unsubscribe", Some("x"), 0)),
            Incoming::Confirmed(vec![])
        );
        assert_eq!(
            s.on_frame(confirm("unsubscribe", Some("y"), 0)),
            Incoming::Confirmed(vec![t])
        );
    }

    #[test]
    fn a_refused_request_fails_and_is_taken_out_of_the_set() {
        let mut s = Subscriptions::new();
        let (_, ok) = s.subscribe(SubKind::Channel, &names(&["a"])).unwrap();
        let (_, bad) = s
            .subscribe(SubKind::Channel, &names(&["a", "secret"]))
            .unwrap();
        assert_eq!(
            s.on_frame(confirm("subscribe", Some("a"), 1)),
            Incoming::Confirmed(vec![ok])
        );
        let refused = Value::ServerError(ServerError::parse("NOPERM no"));
        match s.on_frame(refused) {
            Incoming::Refused(t, e) => {
                assert_eq!(t, vec![bad]);
                assert_eq!(e.code(), "NOPERM");
            }
            other => panic!("{other:?}"),
        }
        // "a" was subscribed before the refused request, so it stays.
        let left: Vec<&[u8]> = s.names(SubKind::Channel).collect();
        assert_eq!(left, [&b"a"[..]]);
    }

    #[test]
    fn a_restore_resubscribes_everything_and_completes_the_waiting_requests() {
        let mut s = Subscriptions::new();
        let (_, t1) = s.subscribe(SubKind::Channel, &names(&["a", "b"])).unwrap();
        let (_, t2) = s.subscribe(SubKind::Shard, &names(&["s"])).unwrap();
        let (_, t3) = s.unsubscribe(SubKind::Channel, &names(&["b"]));
        // The connection died before any confirmation.
        let r = s.restore();
        let cmds: Vec<Vec<String>> = r.commands.iter().map(args).collect();
        assert_eq!(cmds, [vec!["SUBSCRIBE", "a"], vec!["SSUBSCRIBE", "s"]]);
        assert_eq!(r.restored, 2);
        assert!(r.done_now.is_empty());
        assert!(s.is_waiting(r.ticket) && s.is_waiting(t1));
        assert_eq!(
            s.on_frame(confirm("subscribe", Some("a"), 1)),
            Incoming::Confirmed(vec![])
        );
        assert_eq!(
            s.on_frame(confirm("ssubscribe", Some("s"), 1)),
            Incoming::Confirmed(vec![r.ticket, t1, t2, t3])
        );
        // Nothing to restore: everything completes at once.
        let mut empty = Subscriptions::new();
        let (_, t) = empty.unsubscribe(SubKind::Channel, &[]);
        let r = empty.restore();
        assert!(r.commands.is_empty());
        assert_eq!(r.done_now, vec![r.ticket, t]);
    }

    #[test]
    fn the_resubscribed_notice_is_not_a_message() {
        let m = Msg::resubscribed(3);
        assert_eq!(m.kind(), &MsgKind::Resubscribed);
        assert!(!m.is_message());
        assert_eq!(m.payload::<i64>().unwrap(), 3);
    }
}
