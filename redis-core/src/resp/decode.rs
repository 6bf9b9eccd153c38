//! Sans-IO RESP2/RESP3 decoder.
//!
//! The caller owns the bytes: it appends whatever the socket gave to a `BytesMut` and calls
//! [`Decoder::decode`], which either returns one complete reply, says it needs more bytes, or
//! fails with a protocol error. Aggregates that are only partly received are kept on an
//! explicit stack, so a reply is never re-parsed from its start and deep nesting never
//! recurses. Every length the peer sends is checked against a limit before it is used, and
//! no allocation is sized from an untrusted length alone: aggregates reserve at most what the
//! bytes already received could fill.
//!
//! # Implementation
//!
//! `decode` loops over element headers. A scalar is produced whole (bulk payloads become
//! `Bytes` slices of the input buffer, no copy) and then folded into the aggregate frames on
//! the stack; each frame that fills up is popped and folded into its parent. A top-level
//! value ends the loop. After any error the decoder resets; its connection must be dropped.

use bytes::{Buf, Bytes, BytesMut};

use crate::error::{Error, Result, ServerError};
use crate::value::Value;

/// Limits that bound what one reply may make the client allocate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecoderLimits {
    /// Longest bulk string, verbatim string, bulk error or status line (default 512 MiB,
    /// the server's own `proto-max-bulk-len`).
    pub max_bulk_len: usize,
    /// Most elements in one array, set, push or map (default 2^32 - 1).
    pub max_aggregate_len: usize,
    /// Deepest nesting of aggregates (default 128).
    pub max_depth: usize,
    /// Most memory one reply may take once decoded, counted as payload bytes plus the size
    /// of each `Value` (default 1 GiB).
    pub max_reply_bytes: usize,
}

impl Default for DecoderLimits {
    fn default() -> Self {
        DecoderLimits {
            max_bulk_len: 512 * 1024 * 1024,
            max_aggregate_len: u32::MAX as usize,
            max_depth: 128,
            max_reply_bytes: 1024 * 1024 * 1024,
        }
    }
}

#[derive(Debug)]
enum Seq {
    Array,
    Set,
    Push,
}

#[derive(Debug)]
enum Frame {
    Seq {
        kind: Seq,
        remaining: usize,
        items: Vec<Value>,
    },
    Map {
        attribute: bool,
        remaining: usize,
        key: Option<Value>,
        items: Vec<(Value, Value)>,
    },
    /// An attribute map was read; the next value is the one it describes.
    AttributeData { attributes: Vec<(Value, Value)> },
}

/// A resumable RESP2/RESP3 decoder. One per connection.
#[derive(Debug, Default)]
pub struct Decoder {
    limits: DecoderLimits,
    stack: Vec<Frame>,
    reply_bytes: usize,
    /// Bytes already searched for a CRLF at the start of the buffer without finding one.
    scanned: usize,
    /// Bytes the buffer must hold before the next element can be complete.
    need: usize,
}

const VALUE_COST: usize = std::mem::size_of::<Value>();

impl Decoder {
    /// A decoder with the given limits.
    pub fn new(limits: DecoderLimits) -> Decoder {
        Decoder {
            limits,
            ..Decoder::default()
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> &DecoderLimits {
        &self.limits
    }

    /// How many bytes the buffer must hold before decoding can make progress (0 when
    /// unknown). Lets a reader size its next read to a large bulk string in one go.
    pub fn needed(&self) -> usize {
        self.need
    }

    /// True when a reply has been started but not finished.
    pub fn in_progress(&self) -> bool {
        !self.stack.is_empty() || self.need > 0 || self.scanned > 0
    }

    /// Decodes one reply from the front of `buf`, consuming its bytes.
    ///
    /// Returns `Ok(None)` when `buf` ends before the reply does; call again with more bytes
    /// appended. On error the decoder is reset and the connection must not be reused.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Value>> {
        match self.decode_inner(buf) {
            Ok(v) => Ok(v),
            Err(e) => {
                self.reset();
                Err(e)
            }
        }
    }

    fn reset(&mut self) {
        self.stack.clear();
        self.reply_bytes = 0;
        self.scanned = 0;
        self.need = 0;
    }

    fn decode_inner(&mut self, buf: &mut BytesMut) -> Result<Option<Value>> {
        loop {
            if buf.len() < self.need {
                return Ok(None);
            }
            let Some(mut value) = self.element(buf)? else {
                return Ok(None);
            };
            // Fold the finished element into the open aggregates.
            loop {
                let frame = match self.stack.last_mut() {
                    None => {
                        self.reply_bytes = 0;
                        return Ok(Some(value));
                    }
                    Some(Frame::AttributeData { attributes }) => {
                        value = Value::Attribute {
                            data: Box::new(value),
                            attributes: std::mem::take(attributes),
                        };
                        self.stack.pop();
                        continue;
                    }
                    Some(frame) => frame,
                };
                let full = match frame {
                    Frame::Seq {
                        remaining, items, ..
                    } => {
                        items.push(value);
                        *remaining -= 1;
                        *remaining == 0
                    }
                    Frame::Map {
                        remaining,
                        key,
                        items,
                        ..
                    } => {
                        match key.take() {
                            None => *key = Some(value),
                            Some(k) => items.push((k, value)),
                        }
                        *remaining -= 1;
                        *remaining == 0
                    }
                    Frame::AttributeData { .. } => unreachable!("handled above"),
                };
                if !full {
                    break;
                }
                value = match self.stack.pop() {
                    Some(Frame::Seq { kind, items, .. }) => match kind {
                        Seq::Array => Value::Array(items),
                        Seq::Set => Value::Set(items),
                        Seq::Push => Value::Push(items),
                    },
                    Some(Frame::Map {
                        attribute: false,
                        items,
                        ..
                    }) => Value::Map(items),
                    Some(Frame::Map {
                        attribute: true,
                        items,
                        ..
                    }) => {
                        self.stack.push(Frame::AttributeData { attributes: items });
                        break;
                    }
                    Some(Frame::AttributeData { .. }) | None => break,
                };
            }
        }
    }

    fn charge(&mut self, bytes: usize) -> Result<()> {
        self.reply_bytes = self.reply_bytes.saturating_add(bytes);
        if self.reply_bytes > self.limits.max_reply_bytes {
            return Err(Error::protocol(format!(
                "reply exceeds the {} byte limit",
                self.limits.max_reply_bytes
            )));
        }
        Ok(())
    }

    /// Reads one element header (and a scalar's payload). Returns a finished scalar or an
    /// empty aggregate; a non-empty aggregate is pushed on the stack and the loop goes on.
    fn element(&mut self, buf: &mut BytesMut) -> Result<Option<Value>> {
        loop {
            let Some(line_end) = self.find_crlf(buf)? else {
                return Ok(None);
            };
            let tag = buf[0];
            let header_len = line_end + 2;
            let line = &buf[1..line_end];
            self.charge(VALUE_COST)?;
            let value = match tag {
                b'+' if line == b"OK" => Value::Okay,
                b'+' => {
                    let s = utf8(line, "status")?;
                    self.charge(s.len())?;
                    Value::SimpleString(s)
                }
                b'-' => {
                    let s = utf8(line, "error")?;
                    self.charge(s.len())?;
                    Value::ServerError(ServerError::parse(&s))
                }
                b':' => Value::Int(parse_int(line)?),
                b'_' => {
                    if !line.is_empty() {
                        return Err(Error::protocol("null with a payload"));
                    }
                    Value::Nil
                }
                b'#' => match line {
                    b"t" => Value::Boolean(true),
                    b"f" => Value::Boolean(false),
                    _ => return Err(Error::protocol("invalid boolean")),
                },
                b',' => Value::Double(parse_double(line)?),
                b'(' => {
                    let s = utf8(line, "big number")?;
                    let digits = s.strip_prefix(['-', '+']).unwrap_or(&s);
                    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                        return Err(Error::protocol("invalid big number"));
                    }
                    self.charge(s.len())?;
                    Value::BigNumber(s)
                }
                b'$' | b'!' | b'=' => {
                    let len = parse_int(line)?;
                    if len == -1 && tag == b'$' {
                        buf.advance(header_len);
                        self.scanned = 0;
                        return Ok(Some(Value::Nil));
                    }
                    let len = self.checked_len(len, self.limits.max_bulk_len, "bulk")?;
                    let total = header_len + len + 2;
                    if buf.len() < total {
                        self.need = total;
                        return Ok(None);
                    }
                    if &buf[header_len + len..total] != b"\r\n" {
                        return Err(Error::protocol("bulk string not followed by CRLF"));
                    }
                    self.charge(len)?;
                    buf.advance(header_len);
                    let data = buf.split_to(len).freeze();
                    buf.advance(2);
                    self.scanned = 0;
                    self.need = 0;
                    return bulk(tag, data).map(Some);
                }
                b'*' | b'~' | b'>' | b'%' | b'|' => {
                    let n = parse_int(line)?;
                    if n == -1 && tag == b'*' {
                        buf.advance(header_len);
                        self.scanned = 0;
                        return Ok(Some(Value::Nil));
                    }
                    let n = self.checked_len(n, self.limits.max_aggregate_len, "aggregate")?;
                    let is_map = matches!(tag, b'%' | b'|');
                    if n == 0 {
                        buf.advance(header_len);
                        self.scanned = 0;
                        if tag == b'|' {
                            self.stack.push(Frame::AttributeData {
                                attributes: Vec::new(),
                            });
                            continue;
                        }
                        return Ok(Some(empty_aggregate(tag)));
                    }
                    if self.stack.len() >= self.limits.max_depth {
                        return Err(Error::protocol(format!(
                            "reply nested deeper than {}",
                            self.limits.max_depth
                        )));
                    }
                    let elements = if is_map { n.saturating_mul(2) } else { n };
                    // Each element takes at least 3 bytes on the wire: never reserve more
                    // than what the bytes already here could fill.
                    let cap = n.min((buf.len() - header_len) / 3 + 1);
                    self.charge(cap.saturating_mul(VALUE_COST))?;
                    buf.advance(header_len);
                    self.scanned = 0;
                    let frame = if is_map {
                        Frame::Map {
                            attribute: tag == b'|',
                            remaining: elements,
                            key: None,
                            items: Vec::with_capacity(cap),
                        }
                    } else {
                        Frame::Seq {
                            kind: match tag {
                                b'~' => Seq::Set,
                                b'>' => Seq::Push,
                                _ => Seq::Array,
                            },
                            remaining: elements,
                            items: Vec::with_capacity(cap),
                        }
                    };
                    self.stack.push(frame);
                    continue;
                }
                other => {
                    return Err(Error::protocol(format!(
                        "unknown type byte {:?}",
                        char::from(other)
                    )))
                }
            };
            buf.advance(header_len);
            self.scanned = 0;
            return Ok(Some(value));
        }
    }

    fn checked_len(&self, n: i64, max: usize, what: &str) -> Result<usize> {
        if n < 0 {
            return Err(Error::protocol(format!("negative {what} length {n}")));
        }
        let n = usize::try_from(n).map_err(|_| Error::protocol(format!("{what} too long")))?;
        if n > max {
            return Err(Error::protocol(format!(
                "{what} length {n} exceeds the limit of {max}"
            )));
        }
        Ok(n)
    }

    /// Position of the CR of the first CRLF in `buf`, remembering how far it looked.
    fn find_crlf(&mut self, buf: &BytesMut) -> Result<Option<usize>> {
        let start = self.scanned.max(1);
        if let Some(rel) = memchr::memchr(b'\n', buf.get(start..).unwrap_or_default()) {
            let lf = start + rel;
            if lf < 2 || buf[lf - 1] != b'\r' {
                return Err(Error::protocol("line not terminated by CRLF"));
            }
            return Ok(Some(lf - 1));
        }
        if buf.len() > self.limits.max_bulk_len {
            return Err(Error::protocol("header line too long"));
        }
        self.scanned = buf.len();
        Ok(None)
    }
}

fn empty_aggregate(tag: u8) -> Value {
    match tag {
        b'~' => Value::Set(Vec::new()),
        b'>' => Value::Push(Vec::new()),
        b'%' => Value::Map(Vec::new()),
        _ => Value::Array(Vec::new()),
    }
}

fn bulk(tag: u8, data: Bytes) -> Result<Value> {
    match tag {
        b'$' => Ok(Value::BulkString(data)),
        b'!' => {
            let text = String::from_utf8_lossy(&data);
            Ok(Value::ServerError(ServerError::parse(&text)))
        }
        _ => {
            if data.len() < 4 || data[3] != b':' {
                return Err(Error::protocol("verbatim string without a format"));
            }
            let format = utf8(&data[..3], "verbatim format")?;
            Ok(Value::VerbatimString {
                format,
                text: data.slice(4..),
            })
        }
    }
}

fn utf8(bytes: &[u8], what: &str) -> Result<String> {
    String::from_utf8(bytes.to_vec()).map_err(|_| Error::protocol(format!("{what} is not UTF-8")))
}

/// Parses a RESP integer: optional sign and 1 to 19 digits, no overflow.
pub(crate) fn parse_int(line: &[u8]) -> Result<i64> {
    let (neg, digits) = match line.first() {
        Some(b'-') => (true, &line[1..]),
        Some(b'+') => (false, &line[1..]),
        _ => (false, line),
    };
    if digits.is_empty() || digits.len() > 19 {
        return Err(Error::protocol("invalid integer"));
    }
    let mut n: i64 = 0;
    for &b in digits {
        if !b.is_ascii_digit() {
            return Err(Error::protocol("invalid integer"));
        }
        let d = i64::from(b - b'0');
        n = n
            .checked_mul(10)
            .and_then(|n| {
                if neg {
                    n.checked_sub(d)
                } else {
                    n.checked_add(d)
                }
            })
            .ok_or_else(|| Error::protocol("integer overflow"))?;
    }
    Ok(n)
}

fn parse_double(line: &[u8]) -> Result<f64> {
    match line {
        b"inf" | b"+inf" => Ok(f64::INFINITY),
        b"-inf" => Ok(f64::NEG_INFINITY),
        b"nan" | b"-nan" => Ok(f64::NAN),
        _ => std::str::from_utf8(line)
            .ok()
            .and_then(|s| s.parse::<f64>().ok())
            .ok_or_else(|| Error::protocol("invalid double")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(input: &[u8]) -> Result<Vec<Value>> {
        let mut d = Decoder::default();
        let mut buf = BytesMut::from(input);
        let mut out = Vec::new();
        while let Some(v) = d.decode(&mut buf)? {
            out.push(v);
        }
        assert!(buf.is_empty(), "left over: {buf:?}");
        Ok(out)
    }

    #[test]
    fn resp2_and_resp3_types() {
        let v = decode_all(
            b"+OK\r\n-ERR bad\r\n:-42\r\n$3\r\nfoo\r\n$-1\r\n*-1\r\n*2\r\n:1\r\n$0\r\n\r\n\
              _\r\n#t\r\n,1.5\r\n,inf\r\n,-inf\r\n(123456789012345678901234567890\r\n\
              !10\r\nERR broken\r\n=7\r\ntxt:abc\r\n%1\r\n+k\r\n:1\r\n~1\r\n:2\r\n\
              |1\r\n+ttl\r\n:3\r\n+val\r\n>2\r\n+message\r\n$1\r\nx\r\n*0\r\n",
        )
        .unwrap();
        assert_eq!(v[0], Value::Okay);
        assert!(matches!(&v[1], Value::ServerError(e) if e.code() == "ERR"));
        assert_eq!(v[2], Value::Int(-42));
        assert_eq!(v[3], Value::BulkString(Bytes::from_static(b"foo")));
        assert_eq!(v[4], Value::Nil);
        assert_eq!(v[5], Value::Nil);
        assert_eq!(
            v[6],
            Value::Array(vec![Value::Int(1), Value::BulkString(Bytes::new())])
        );
        assert_eq!(v[7], Value::Nil);
        assert_eq!(v[8], Value::Boolean(true));
        assert_eq!(v[9], Value::Double(1.5));
        assert_eq!(v[10], Value::Double(f64::INFINITY));
        assert_eq!(v[11], Value::Double(f64::NEG_INFINITY));
        assert_eq!(
            v[12],
            Value::BigNumber("123456789012345678901234567890".into())
        );
        assert!(matches!(&v[13], Value::ServerError(e) if e.message() == "broken"));
        assert_eq!(
            v[14],
            Value::VerbatimString {
                format: "txt".into(),
                text: Bytes::from_static(b"abc")
            }
        );
        assert_eq!(
            v[15],
            Value::Map(vec![(Value::SimpleString("k".into()), Value::Int(1))])
        );
        assert_eq!(v[16], Value::Set(vec![Value::Int(2)]));
        assert_eq!(
            v[17],
            Value::Attribute {
                data: Box::new(Value::SimpleString("val".into())),
                attributes: vec![(Value::SimpleString("ttl".into()), Value::Int(3))]
            }
        );
        assert!(matches!(&v[18], Value::Push(items) if items.len() == 2));
        assert_eq!(v[19], Value::Array(vec![]));
        assert_eq!(v.len(), 20);
    }

    #[test]
    fn nan_double() {
        let v = decode_all(b",nan\r\n").unwrap();
        assert!(matches!(v[0], Value::Double(d) if d.is_nan()));
    }

    #[test]
    fn illegal_inputs_are_errors() {
        for bad in [
            &b"$-5\r\n"[..],
            b"*-2\r\n",
            b"$9999999999\r\n",
            b":12a\r\n",
            b":99999999999999999999\r\n",
            b"+OK\n",
            b"$3\r\nfooXY",
            b"?\r\n",
            b"#x\r\n",
            b",abc\r\n",
            b"=2\r\nab\r\n",
            b"_x\r\n",
        ] {
            assert!(decode_all(bad).is_err(), "{:?} accepted", bad);
        }
    }

    #[test]
    fn byte_by_byte_is_the_same() {
        let input = b"*3\r\n$5\r\nhello\r\n%1\r\n+a\r\n*1\r\n:7\r\n,2.5\r\n+OK\r\n";
        let mut d = Decoder::default();
        let mut buf = BytesMut::new();
        let mut out = Vec::new();
        for &b in input.iter() {
            buf.extend_from_slice(&[b]);
            while let Some(v) = d.decode(&mut buf).unwrap() {
                out.push(v);
            }
        }
        assert_eq!(out, decode_all(input).unwrap());
        assert!(!d.in_progress());
    }

    #[test]
    fn depth_and_memory_are_bounded() {
        let deep = b"*1\r\n".repeat(100_000);
        assert!(decode_all(&deep).is_err());

        let mut d = Decoder::new(DecoderLimits {
            max_reply_bytes: 1 << 20,
            ..DecoderLimits::default()
        });
        let mut buf = BytesMut::from(&b"*2147483647\r\n"[..]);
        let mut failed = false;
        for _ in 0..100_000 {
            buf.extend_from_slice(b":1\r\n:2\r\n:3\r\n:4\r\n");
            match d.decode(&mut buf) {
                Ok(None) => {}
                Ok(Some(_)) => panic!("cannot be complete"),
                Err(_) => {
                    failed = true;
                    break;
                }
            }
        }
        assert!(failed, "the reply cap was never hit");
    }
}
