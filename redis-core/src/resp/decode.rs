//! Sans-IO RESP2/RESP3 decoder.
//!
//! The caller owns the bytes: it appends whatever the socket gave to a `BytesMut` and calls
//! [`Decoder::decode`], which either returns one complete reply, says it needs more bytes, or
//! fails with a protocol error. Aggregates that are only partly received are kept on an
//! explicit stack, so a reply is never re-parsed from its start and deep nesting never
//! recurses. Every length the peer sends is checked against a limit before it is used, and
//! no allocation is sized from an untrusted length alone: aggregates reserve at most what the
//! bytes already received could fill, and [`Decoder::read_room`] tells the I/O shells to grow
//! their read buffers only as bytes arrive.
//!
//! The same bytes give the same result however they are split across reads: every check
//! depends only on the bytes of the reply, never on how many of them are buffered. Server
//! text (status lines, error replies, verbatim formats) is data, never a protocol error,
//! whatever its encoding: it is decoded lossily, so one odd byte in a Lua `error_reply`
//! cannot kill a connection that many callers share.
//!
//! # Memory accounting
//!
//! A reply is charged for what it holds once decoded, exactly once per element: the
//! `size_of::<Value>()` slot each element takes in its parent (40 bytes), the payload of
//! bulk and verbatim strings (slices of the read buffer), and for text kept in its own
//! allocation (status lines, big numbers, error replies, attribute boxes) its length plus
//! the allocator's overhead. A top-level scalar is charged its payload only.
//!
//! # Implementation
//!
//! `decode` loops over element headers. A scalar is produced whole (bulk payloads become
//! `Bytes` slices of the input buffer, no copy) and then folded into the aggregate frames on
//! the stack; each frame that fills up is popped and folded into its parent. A top-level
//! value ends the loop. After any error the decoder resets; its connection must be dropped.

use std::borrow::Cow;

use bytes::{Buf, Bytes, BytesMut};

use crate::error::{Error, Result, ServerError};
use crate::value::Value;

/// Limits that bound what one reply may make the client allocate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecoderLimits {
    /// Longest bulk string, verbatim string, bulk error, status line, error line or big
    /// number (default 512 MiB, the server's own `proto-max-bulk-len`).
    pub max_bulk_len: usize,
    /// Most elements in one array, set, push or map (default 2^32 - 1).
    pub max_aggregate_len: usize,
    /// Deepest nesting of aggregates and attributes, every level counted, empty ones too
    /// (default 128). Values are dropped recursively: keep it in the hundreds.
    pub max_depth: usize,
    /// Most memory one reply may hold once decoded (see the module docs for what is
    /// charged). Default 512 MiB: room for one bulk string as long as the server allows
    /// (`proto-max-bulk-len`, 512 MB) or for about 11 million elements of 8 bytes
    /// (`LRANGE key 0 -1` of 10M short elements), while a hostile endless `*2147483647`
    /// of `:1` is cut after 13.4M elements, at about half the 1 GiB it reached when
    /// elements were charged twice and a `Value` took 80 bytes.
    pub max_reply_bytes: usize,
}

impl Default for DecoderLimits {
    fn default() -> Self {
        DecoderLimits {
            max_bulk_len: 512 * 1024 * 1024,
            max_aggregate_len: u32::MAX as usize,
            max_depth: 128,
            max_reply_bytes: 512 * 1024 * 1024,
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

/// The slot one element takes in its parent's `Vec`.
const VALUE_COST: usize = std::mem::size_of::<Value>();

/// What a heap allocation of `len` bytes holds: glibc-style chunks carry 16 bytes of header
/// and are at least 32 bytes long.
fn heap_cost(len: usize) -> usize {
    if len == 0 {
        0
    } else {
        len.saturating_add(16).max(32)
    }
}

/// Longest header or number line (`*`, `$`, `:`, `,`, ...): far more than any valid one.
const MAX_NUMBER_LINE: usize = 4096;

/// Read-buffer growth that needs no bytes to have arrived yet: one large bulk string up to
/// this size is read into a buffer sized once; beyond it the buffer at most doubles per
/// step, so a header alone never makes the client allocate more than this.
const READ_ROOM_FLOOR: usize = 1024 * 1024;

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
    /// unknown).
    pub fn needed(&self) -> usize {
        self.need
    }

    /// How much room a reader should make in its buffer, which holds `buffered` bytes,
    /// before its next read: what the element being decoded still lacks, but never more
    /// than has already arrived (and at most 1 MiB before anything has). 0 when unknown:
    /// the reader then reads its usual chunk.
    ///
    /// A buffer grown by this grows only as bytes arrive: a 14-byte `$536870000` header
    /// costs 1 MiB, not 512 MiB, while a large value still lands in a few large reads.
    pub fn read_room(&self, buffered: usize) -> usize {
        self.need
            .saturating_sub(buffered)
            .min(buffered.max(READ_ROOM_FLOOR))
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
        // The most common reply of all (SET, pipelines of writes): a whole `+OK` outside
        // any aggregate, taken without a line scan. The general path gives the same value
        // and leaves the same state (a line limit under 2 bytes refuses it there).
        if self.stack.is_empty() && buf.starts_with(b"+OK\r\n") && self.max_line(b'+') >= 2 {
            buf.advance(5);
            self.scanned = 0;
            self.need = 0;
            self.reply_bytes = 0;
            return Ok(Some(Value::Okay));
        }
        match self.decode_inner(buf) {
            Ok(v) => Ok(v),
            Err(e) => {
                self.reset();
                Err(e)
            }
        }
    }

    /// Takes up to `max` whole `+OK` replies from the front of `buf` in one step and says
    /// how many: what that many [`decode`](Self::decode) calls would have answered
    /// (`Value::Okay` each) and consumed. A pipeline of writes is answered by a run of
    /// them, and its bytes are then consumed once rather than once per reply. Takes none
    /// inside an aggregate, or under a line limit that refuses `OK`.
    pub fn take_okays(&mut self, buf: &mut BytesMut, max: usize) -> usize {
        const OKAY: &[u8] = b"+OK\r\n";
        if !self.stack.is_empty() || self.max_line(b'+') < 2 {
            return 0;
        }
        let n = buf
            .chunks_exact(OKAY.len())
            .take(max)
            .take_while(|c| *c == OKAY)
            .count();
        if n > 0 {
            buf.advance(n * OKAY.len());
            self.scanned = 0;
            self.need = 0;
            self.reply_bytes = 0;
        }
        n
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
                        let attributes = std::mem::take(attributes);
                        self.stack.pop();
                        self.charge(heap_cost(VALUE_COST))?;
                        value = Value::Attribute {
                            data: Box::new(value),
                            attributes,
                        };
                        continue;
                    }
                    Some(frame) => frame,
                };
                // The element now takes its slot in the parent: charged once, here.
                self.reply_bytes = self.reply_bytes.saturating_add(VALUE_COST);
                if self.reply_bytes > self.limits.max_reply_bytes {
                    return Err(over_budget(&self.limits));
                }
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
            return Err(over_budget(&self.limits));
        }
        Ok(())
    }

    /// Pushes an aggregate frame, refusing to nest deeper than the limit.
    fn open(&mut self, frame: Frame) -> Result<()> {
        if self.stack.len() >= self.limits.max_depth {
            return Err(Error::protocol(format!(
                "reply nested deeper than {}",
                self.limits.max_depth
            )));
        }
        self.stack.push(frame);
        Ok(())
    }

    /// Reads one element header (and a scalar's payload). Returns a finished scalar or an
    /// empty aggregate; a non-empty aggregate is pushed on the stack and the loop goes on.
    fn element(&mut self, buf: &mut BytesMut) -> Result<Option<Value>> {
        loop {
            let Some(&tag) = buf.first() else {
                return Ok(None);
            };
            let Some(line_end) = self.find_crlf(buf, tag)? else {
                return Ok(None);
            };
            let header_len = line_end + 2;
            let line = &buf[1..line_end];
            let value = match tag {
                b'+' if line == b"OK" => Value::Okay,
                b'+' => {
                    let s = text(line).into_owned();
                    self.charge(heap_cost(s.len()))?;
                    Value::SimpleString(s)
                }
                b'-' => {
                    let e = ServerError::parse(&text(line));
                    self.charge(server_error_cost(&e))?;
                    Value::ServerError(e)
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
                    // Kept as the server's text: a conversion to a number checks the digits,
                    // and a malformed one fails that conversion, not the connection.
                    let s = text(line).into_owned();
                    self.charge(heap_cost(s.len()))?;
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
                    if tag == b'=' && (len < 4 || buf[header_len + 3] != b':') {
                        return Err(Error::protocol("verbatim string without a format"));
                    }
                    buf.advance(header_len);
                    let data = buf.split_to(len).freeze();
                    buf.advance(2);
                    self.scanned = 0;
                    self.need = 0;
                    let value = bulk(tag, data);
                    self.charge(match &value {
                        Value::ServerError(e) => server_error_cost(e),
                        _ => len,
                    })?;
                    return Ok(Some(value));
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
                        if tag == b'|' {
                            // An empty attribute still wraps the value after it: a level.
                            self.open(Frame::AttributeData {
                                attributes: Vec::new(),
                            })?;
                            buf.advance(header_len);
                            self.scanned = 0;
                            continue;
                        }
                        buf.advance(header_len);
                        self.scanned = 0;
                        return Ok(Some(empty_aggregate(tag)));
                    }
                    let elements = if is_map { n.saturating_mul(2) } else { n };
                    // Never reserve more than the bytes already here could fill (each
                    // element takes at least 3 of them) or the budget could pay for.
                    // Charges come as elements arrive, so the outcome never depends on
                    // how much was buffered.
                    let item = if is_map { 2 * VALUE_COST } else { VALUE_COST };
                    let budget_left = self.limits.max_reply_bytes.saturating_sub(self.reply_bytes);
                    let cap = n
                        .min((buf.len() - header_len) / 3 + 1)
                        .min(budget_left / item + 1);
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
                    self.open(frame)?;
                    buf.advance(header_len);
                    self.scanned = 0;
                    continue;
                }
                other => return Err(unknown_type(other)),
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

    /// Longest line (after the type byte) an element of type `tag` may have.
    fn max_line(&self, tag: u8) -> usize {
        match tag {
            b'+' | b'-' | b'(' => self.limits.max_bulk_len,
            _ => MAX_NUMBER_LINE,
        }
    }

    /// Position of the CR of the first CRLF in `buf`, remembering how far it looked. A line
    /// (after the type byte) longer than its limit is an error, whether its end is here or
    /// not yet, so the outcome never depends on how the bytes were split.
    fn find_crlf(&mut self, buf: &BytesMut, tag: u8) -> Result<Option<usize>> {
        let start = self.scanned.max(1);
        if let Some(rel) = memchr::memchr(b'\n', buf.get(start..).unwrap_or_default()) {
            let lf = start + rel;
            if lf < 2 || buf[lf - 1] != b'\r' {
                return Err(Error::protocol("line not terminated by CRLF"));
            }
            if lf - 2 > self.max_line(tag) {
                return Err(line_too_long(self.max_line(tag)));
            }
            return Ok(Some(lf - 1));
        }
        // The line holds at least all but the type byte and a possible final CR.
        if buf.len().saturating_sub(2) > self.max_line(tag) {
            return Err(line_too_long(self.max_line(tag)));
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

/// A bulk payload as its value; a verbatim string's `fmt:` prefix is checked by the caller.
fn bulk(tag: u8, data: Bytes) -> Value {
    match tag {
        b'$' => Value::BulkString(data),
        b'!' => Value::ServerError(ServerError::parse(&text(&data))),
        _ => Value::VerbatimString {
            format: [data[0], data[1], data[2]],
            text: data.slice(4..),
        },
    }
}

/// Server text: bytes that are not UTF-8 become U+FFFD, never an error.
fn text(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

#[cold]
fn unknown_type(tag: u8) -> Error {
    Error::protocol(format!("unknown type byte {:?}", char::from(tag)))
}

#[cold]
fn line_too_long(max: usize) -> Error {
    Error::protocol(format!("line longer than the limit of {max} bytes"))
}

#[cold]
fn over_budget(limits: &DecoderLimits) -> Error {
    Error::protocol(format!(
        "reply exceeds the {} byte limit (DecoderLimits::max_reply_bytes)",
        limits.max_reply_bytes
    ))
}

/// The memory an error reply holds: its boxed parts and its two strings.
fn server_error_cost(e: &ServerError) -> usize {
    heap_cost(ServerError::PARTS_SIZE) + heap_cost(e.code().len()) + heap_cost(e.message().len())
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
                format: *b"txt",
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
    fn read_room_grows_only_with_what_arrived() {
        // A lone header announcing 512 MB asks for 1 MiB of room, not 512 MB.
        let mut d = Decoder::default();
        let mut buf = BytesMut::from(&b"$536870000\r\n"[..]);
        assert!(d.decode(&mut buf).unwrap().is_none());
        assert_eq!(d.read_room(buf.len()), READ_ROOM_FLOOR);
        // With 8 MiB here, at most another 8 MiB; near the end, only what is missing.
        assert_eq!(d.read_room(8 << 20), 8 << 20);
        assert_eq!(d.read_room(536_870_000), 14);
        // A 1 MiB value gets its whole room at once.
        let mut d = Decoder::default();
        let mut buf = BytesMut::from(&b"$1048576\r\nab"[..]);
        assert!(d.decode(&mut buf).unwrap().is_none());
        assert_eq!(buf.len() + d.read_room(buf.len()), 12 + (1 << 20));
        // Nothing known: no advice.
        assert_eq!(Decoder::default().read_room(100), 0);
    }

    /// Decodes `input` fed in pieces of `step` bytes, taking runs of `+OK` with
    /// `take_okays` (at most `max` at a time) before each `decode`.
    fn decode_taking_okays(input: &[u8], step: usize, max: usize) -> Result<Vec<Value>> {
        let mut d = Decoder::default();
        let mut buf = BytesMut::new();
        let mut out = Vec::new();
        for piece in input.chunks(step) {
            buf.extend_from_slice(piece);
            loop {
                let n = d.take_okays(&mut buf, max);
                out.extend(std::iter::repeat_n(Value::Okay, n));
                match d.decode(&mut buf)? {
                    Some(v) => out.push(v),
                    None => break,
                }
            }
        }
        assert!(buf.is_empty(), "left over: {buf:?}");
        Ok(out)
    }

    #[test]
    fn runs_of_okays_taken_at_once_decode_as_one_by_one() {
        let input: &[u8] = b"+OK\r\n+OK\r\n+OK\r\n-ERR x\r\n+OK\r\n*2\r\n+OK\r\n+OK\r\n+OKAY\r\n\
              +OK\r\n$2\r\nOK\r\n+OK\r\n+OK\r\n:1\r\n$10\r\n+OK\r\n+OK\r\n\r\n+OK\r\n";
        let want = decode_all(input).unwrap();
        for step in 1..=input.len() {
            for max in [0, 1, 2, 3, usize::MAX] {
                let got = decode_taking_okays(input, step, max).unwrap();
                assert_eq!(got, want, "pieces of {step}, at most {max} at once");
            }
        }
        // Inside an aggregate, none are taken (they are its elements).
        let mut d = Decoder::default();
        let mut buf = BytesMut::from(&b"*3\r\n+OK\r\n"[..]);
        assert_eq!(d.decode(&mut buf).unwrap(), None);
        buf.extend_from_slice(b"+OK\r\n+OK\r\n");
        assert_eq!(d.take_okays(&mut buf, 10), 0);
        assert_eq!(
            d.decode(&mut buf).unwrap(),
            Some(Value::Array(vec![Value::Okay; 3]))
        );
        // A line limit that refuses `OK` refuses it here too.
        let mut strict = Decoder::new(DecoderLimits {
            max_bulk_len: 1,
            ..DecoderLimits::default()
        });
        let mut buf = BytesMut::from(&b"+OK\r\n"[..]);
        assert_eq!(strict.take_okays(&mut buf, 10), 0);
        assert!(strict.decode(&mut buf).is_err());
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
