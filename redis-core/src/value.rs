//! The decoded form of any RESP2 or RESP3 reply.
//!
//! Bulk data is kept as [`bytes::Bytes`], a slice of the read buffer, so a 1 MiB value is
//! copied from the socket once and never again until the caller converts it.

use bytes::Bytes;

use crate::error::ServerError;

/// One reply (or one element of an aggregate reply).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// RESP3 null, RESP2 null bulk string or null array.
    Nil,
    /// Integer reply.
    Int(i64),
    /// Bulk string (binary safe).
    BulkString(Bytes),
    /// The `OK` status (kept apart from other statuses so the most common reply of all
    /// costs no allocation).
    Okay,
    /// Simple status string other than `OK`, such as `PONG` or `QUEUED`.
    SimpleString(String),
    /// Array reply.
    Array(Vec<Value>),
    /// RESP3 map, in the order the server sent it.
    Map(Vec<(Value, Value)>),
    /// RESP3 set.
    Set(Vec<Value>),
    /// RESP3 boolean.
    Boolean(bool),
    /// RESP3 double (may be `inf`, `-inf` or NaN).
    Double(f64),
    /// RESP3 big number, kept as the text the server sent (its digits are checked when it
    /// is converted to a number, so a malformed one fails that conversion, not the
    /// connection).
    BigNumber(String),
    /// RESP3 verbatim string with its three-letter format (`txt`, `mkd`).
    VerbatimString {
        /// The format bytes as the server sent them, e.g. `*b"txt"` (kept as bytes: three
        /// of them fit in the value, where a `String` would make every `Value` larger).
        format: [u8; 3],
        /// The text.
        text: Bytes,
    },
    /// RESP3 attribute: out-of-band metadata attached to the value that follows it.
    Attribute {
        /// The value the attributes describe.
        data: Box<Value>,
        /// The attribute map.
        attributes: Vec<(Value, Value)>,
    },
    /// RESP3 push message (pub/sub, client tracking). The first element is the kind.
    Push(Vec<Value>),
    /// An error reply nested in an aggregate (EXEC results, pipeline replies).
    /// A top-level error reply is returned as `Err(Error::Server(..))` instead.
    ServerError(ServerError),
}

impl Value {
    /// True for the `OK` status.
    pub fn is_ok_status(&self) -> bool {
        matches!(self, Value::Okay)
    }

    /// A short description of the value's shape, for conversion errors.
    pub fn describe(&self) -> String {
        match self {
            Value::Nil => "nil".into(),
            Value::Okay => "status \"OK\"".into(),
            Value::Int(i) => format!("integer {i}"),
            Value::BulkString(b) => {
                if b.len() <= 32 {
                    format!("bulk string {:?}", String::from_utf8_lossy(b))
                } else {
                    format!("bulk string of {} bytes", b.len())
                }
            }
            Value::SimpleString(s) => format!("status {s:?}"),
            Value::Array(v) => format!("array of {}", v.len()),
            Value::Map(v) => format!("map of {}", v.len()),
            Value::Set(v) => format!("set of {}", v.len()),
            Value::Boolean(b) => format!("boolean {b}"),
            Value::Double(d) => format!("double {d}"),
            Value::BigNumber(n) => format!("big number {n}"),
            Value::VerbatimString { text, .. } => {
                format!("verbatim string of {} bytes", text.len())
            }
            Value::Attribute { data, .. } => format!("attribute on {}", data.describe()),
            Value::Push(v) => format!("push of {}", v.len()),
            Value::ServerError(e) => format!("error reply ({e})"),
        }
    }

    /// Turns a nested error reply into `Err`, leaves every other value as it is.
    pub fn into_result(self) -> crate::Result<Value> {
        match self {
            Value::ServerError(e) => Err(e.into()),
            v => Ok(v),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_is_five_words() {
        // Every element of an aggregate reply costs this much: a 10M-element LRANGE holds
        // 10M of them. Rare large variants (error replies) live behind a pointer.
        assert_eq!(std::mem::size_of::<Value>(), 40);
    }
}
