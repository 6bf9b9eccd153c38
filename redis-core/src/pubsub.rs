//! Pub/sub messages, parsed the same way from RESP2 arrays and RESP3 push frames.

use bytes::Bytes;

use crate::error::Result;
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
            MsgKind::Other(_) => (None, Bytes::new(), Value::Array(it.collect())),
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
