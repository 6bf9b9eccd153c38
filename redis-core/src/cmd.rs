//! One command, encoded as it is built.
//!
//! A `Cmd` keeps its arguments already in RESP form (`$len\r\ndata\r\n` each) in one buffer,
//! with room reserved in front for the `*argc\r\n` header, which is rewritten as arguments
//! are added. Sending a command is then one borrowed slice: no second encoding pass and no
//! second copy of a large argument. A large command's buffer is shared rather than copied
//! when another task needs its bytes ([`Cmd::packed_bytes`]); a small one's is copied,
//! which is cheaper than sharing.

use std::sync::Arc;

use crate::types::{ArgSink, ToArgs};

/// Room for `*` + 20 digits + CRLF.
const HEADER_ROOM: usize = 24;

/// Bytes a command holds in place before it needs a heap buffer: the header room and a
/// typical small command (a `SET` of a 30-byte key and a 30-byte value is 107). Building
/// and dropping such a command allocates nothing, which was most of what a pipeline of a
/// thousand small commands cost its caller (one allocation and one free each, on the
/// allocator's slow path once there are more of them than its per-thread cache holds).
/// The size makes a whole `Cmd` 128 bytes, which the compiler still moves with a few
/// vector stores rather than a `memcpy` call (a command is moved several times while it
/// is built and queued).
const INLINE: usize = 110;

const _: () = assert!(std::mem::size_of::<Cmd>() <= 128);

/// Commands at least this big keep their buffer behind an `Arc`, so that
/// [`Cmd::packed_bytes`] (and `clone`) share it instead of copying it.
const SHARE_FROM: usize = 64 * 1024;

/// A Redis command: its name followed by arguments.
#[derive(Clone)]
pub struct Cmd {
    buf: Buf,
    start: usize,
    argc: usize,
}

/// The encoded command: in place while it fits, then owned (no atomic on the hot path),
/// then shared (copy on write) once large.
#[derive(Clone)]
enum Buf {
    /// The first `len` bytes of `bytes` are used.
    Inline {
        len: u8,
        bytes: [u8; INLINE],
    },
    Small(Vec<u8>),
    Large(Arc<Vec<u8>>),
}

impl Buf {
    #[inline]
    fn get(&self) -> &[u8] {
        match self {
            Buf::Inline { len, bytes } => &bytes[..usize::from(*len)],
            Buf::Small(v) => v,
            Buf::Large(a) => a,
        }
    }

    #[inline]
    fn get_mut(&mut self) -> &mut [u8] {
        match self {
            Buf::Inline { len, bytes } => &mut bytes[..usize::from(*len)],
            Buf::Small(v) => v,
            // Copies only if bytes handed out earlier still share the buffer.
            Buf::Large(a) => Arc::make_mut(a).as_mut_slice(),
        }
    }

    /// Appends `parts` on the heap, moving an in-place buffer there first (`push_arg`
    /// writes whatever fits in place itself).
    fn append(&mut self, parts: [&[u8]; 3]) {
        let added: usize = parts.iter().map(|p| p.len()).sum();
        match self {
            Buf::Inline { len, bytes } => {
                let used = &bytes[..usize::from(*len)];
                let mut v = Vec::with_capacity((used.len() + added).max(2 * INLINE));
                v.extend_from_slice(used);
                extend(&mut v, parts, added);
                *self = Buf::Small(v);
            }
            Buf::Small(v) => extend(v, parts, added),
            Buf::Large(a) => extend(Arc::make_mut(a), parts, added),
        }
    }
}

#[inline]
fn extend(v: &mut Vec<u8>, parts: [&[u8]; 3], added: usize) {
    v.reserve(added);
    for p in parts {
        v.extend_from_slice(p);
    }
}

impl PartialEq for Cmd {
    fn eq(&self, other: &Cmd) -> bool {
        self.packed() == other.packed()
    }
}

impl Eq for Cmd {}

/// Starts a command: `cmd("SET").arg("k").arg(1)`.
#[inline]
pub fn cmd(name: &str) -> Cmd {
    Cmd::new(name)
}

impl Default for Cmd {
    fn default() -> Self {
        Cmd::with_capacity(64)
    }
}

impl Cmd {
    /// A command with the given name (the name may hold a space-free subcommand only if
    /// passed as a separate argument: `cmd("CLIENT").arg("SETNAME")`).
    #[inline]
    pub fn new(name: &str) -> Cmd {
        let mut c = Cmd::with_capacity(name.len() + 64);
        c.push_arg(name.as_bytes());
        c
    }

    /// An empty command with room for `bytes` of encoded arguments.
    #[inline]
    fn with_capacity(bytes: usize) -> Cmd {
        let buf = if HEADER_ROOM + bytes <= INLINE {
            Buf::Inline {
                len: HEADER_ROOM as u8,
                bytes: [0; INLINE],
            }
        } else {
            let mut v = Vec::with_capacity(HEADER_ROOM + bytes);
            v.resize(HEADER_ROOM, 0);
            Buf::Small(v)
        };
        let mut c = Cmd {
            buf,
            start: HEADER_ROOM,
            argc: 0,
        };
        c.write_header();
        c
    }

    /// Appends an argument (or several, for lists, maps and tuples).
    #[inline]
    pub fn arg<T: ToArgs>(&mut self, arg: T) -> &mut Cmd {
        arg.write_args(self);
        self
    }

    /// Appends an argument by value (convenient with `cmd("X").with(a).with(b)` chains that
    /// need to return the `Cmd`).
    #[inline]
    pub fn with<T: ToArgs>(mut self, arg: T) -> Cmd {
        arg.write_args(&mut self);
        self
    }

    /// Number of arguments, the name included.
    pub fn argc(&self) -> usize {
        self.argc
    }

    /// The command encoded in RESP, ready for the socket.
    #[inline]
    pub fn packed(&self) -> &[u8] {
        &self.buf.get()[self.start..]
    }

    /// The encoded command as shared bytes, without copying (for handing it to another
    /// task).
    pub fn into_packed(self) -> bytes::Bytes {
        let buf = match self.buf {
            Buf::Inline { len, bytes } => {
                return bytes::Bytes::copy_from_slice(&bytes[self.start..usize::from(len)])
            }
            Buf::Small(v) => bytes::Bytes::from(v),
            Buf::Large(a) => match Arc::try_unwrap(a) {
                Ok(v) => bytes::Bytes::from(v),
                Err(shared) => bytes::Bytes::from_owner(SharedBuf(shared)),
            },
        };
        buf.slice(self.start..)
    }

    /// The encoded command as bytes another task can own, from a borrowed command: a
    /// large command (64 KiB and more) shares its buffer (no copy of the payload; a later
    /// `arg` on the command copies it first), a small one is copied.
    pub fn packed_bytes(&self) -> bytes::Bytes {
        match &self.buf {
            Buf::Inline { .. } => bytes::Bytes::copy_from_slice(self.packed()),
            Buf::Small(v) => bytes::Bytes::copy_from_slice(&v[self.start..]),
            Buf::Large(a) => bytes::Bytes::from_owner(SharedBuf(Arc::clone(a))).slice(self.start..),
        }
    }

    /// The arguments (name first), as byte slices.
    #[inline]
    pub fn args(&self) -> ArgIter<'_> {
        ArgIter {
            rest: &self.buf.get()[HEADER_ROOM..],
        }
    }

    /// The `i`-th argument, the name being 0.
    #[inline]
    pub fn arg_at(&self, i: usize) -> Option<&[u8]> {
        self.args().nth(i)
    }

    /// The first byte of the name, found without parsing the arguments (a name shorter
    /// than ten bytes starts at a fixed place); a filter that runs on every pipelined
    /// command.
    #[inline]
    pub(crate) fn name_first_byte(&self) -> Option<u8> {
        match self.buf.get().get(HEADER_ROOM..HEADER_ROOM + 5) {
            Some(&[b'$', b'1'..=b'9', b'\r', b'\n', first]) => Some(first),
            _ => self.arg_at(0).and_then(|n| n.first().copied()),
        }
    }

    /// The key arguments, as the server would list them for `COMMAND GETKEYS` (movable keys
    /// included: `EVAL` numkeys, `XREAD ... STREAMS`, `SORT ... STORE`, ...). See
    /// [`command_table::keys`](crate::command_table::keys) for when it is an error.
    pub fn keys(&self) -> crate::Result<Vec<&[u8]>> {
        crate::command_table::keys(self)
    }

    /// The command name, upper-cased (e.g. `GET`).
    pub fn name(&self) -> String {
        self.arg_at(0)
            .map(|n| String::from_utf8_lossy(n).to_ascii_uppercase())
            .unwrap_or_default()
    }

    /// Moves a buffer that became large behind an `Arc` (no copy).
    #[cold]
    fn share(&mut self) {
        if let Buf::Small(v) = &mut self.buf {
            self.buf = Buf::Large(Arc::new(std::mem::take(v)));
        }
    }

    #[inline]
    fn write_header(&mut self) {
        self.start = write_header(self.buf.get_mut(), self.argc);
    }
}

/// Writes `*argc\r\n` right before `HEADER_ROOM` and returns where it starts.
#[inline]
fn write_header(buf: &mut [u8], argc: usize) -> usize {
    if let Ok(d @ 0..=9) = u8::try_from(argc) {
        // Most commands: one digit, no formatting (this runs for every new command).
        let start = HEADER_ROOM - 4;
        if let Some(h) = buf.get_mut(start..HEADER_ROOM) {
            h.copy_from_slice(&[b'*', b'0' + d, b'\r', b'\n']);
        }
        return start;
    }
    write_long_header(buf, argc)
}

/// [`write_header`] for ten arguments and more.
fn write_long_header(buf: &mut [u8], argc: usize) -> usize {
    let mut digits = itoa::Buffer::new();
    let d = digits.format(argc).as_bytes();
    let start = HEADER_ROOM - (d.len() + 3);
    buf[start] = b'*';
    buf[start + 1..start + 1 + d.len()].copy_from_slice(d);
    buf[HEADER_ROOM - 2] = b'\r';
    buf[HEADER_ROOM - 1] = b'\n';
    start
}

/// A large command's buffer, shared with the bytes handed out by [`Cmd::packed_bytes`].
struct SharedBuf(Arc<Vec<u8>>);

impl AsRef<[u8]> for SharedBuf {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl ArgSink for Cmd {
    fn push_arg(&mut self, arg: &[u8]) {
        self.argc += 1;
        if let Buf::Inline { len, bytes } = &mut self.buf {
            if let Some(end) = put_inline(bytes, usize::from(*len), arg) {
                *len = end;
                match u8::try_from(self.argc) {
                    // `*<argc>\r\n` of one digit is in place already: only the digit changes.
                    Ok(d @ 1..=9) if self.start == HEADER_ROOM - 4 => {
                        bytes[HEADER_ROOM - 3] = b'0' + d;
                    }
                    _ => self.start = write_header(bytes, self.argc),
                }
                return;
            }
        }
        self.push_arg_heap(arg);
    }
}

/// Writes `$<len>\r\n<arg>\r\n` into `bytes` at `at` if it fits, and returns the new end.
/// Arguments of this size (names, keys, small values) have a length of one or two digits:
/// the header is a store of fixed size, not a formatting call.
#[inline]
fn put_inline(bytes: &mut [u8; INLINE], mut at: usize, arg: &[u8]) -> Option<u8> {
    let n = arg.len();
    let head = if n < 10 { 4 } else { 5 };
    if n >= 100 || at + head + n + 2 > INLINE {
        return None;
    }
    if n < 10 {
        bytes[at..at + 4].copy_from_slice(&[b'$', b'0' + n as u8, b'\r', b'\n']);
        at += 4;
    } else {
        let (tens, ones) = ((n / 10) as u8, (n % 10) as u8);
        bytes[at..at + 5].copy_from_slice(&[b'$', b'0' + tens, b'0' + ones, b'\r', b'\n']);
        at += 5;
    }
    bytes[at..at + n].copy_from_slice(arg);
    bytes[at + n..at + n + 2].copy_from_slice(b"\r\n");
    u8::try_from(at + n + 2).ok()
}

impl Cmd {
    /// `push_arg` for an argument that does not fit in place (argc is already counted).
    #[inline(never)]
    fn push_arg_heap(&mut self, arg: &[u8]) {
        let mut digits = itoa::Buffer::new();
        let d = digits.format(arg.len()).as_bytes();
        let mut head = [0u8; 24]; // `$` + up to 20 digits + CRLF
        head[0] = b'$';
        head[1..1 + d.len()].copy_from_slice(d);
        head[1 + d.len()..3 + d.len()].copy_from_slice(b"\r\n");
        self.buf.append([&head[..3 + d.len()], arg, b"\r\n"]);
        self.write_header();
        if let Buf::Small(v) = &self.buf {
            if v.len() >= SHARE_FROM {
                self.share();
            }
        }
    }
}

impl std::fmt::Debug for Cmd {
    /// Shows the command name and argument count only: arguments may hold secrets
    /// (`AUTH`, `HELLO ... AUTH`, `MIGRATE ... AUTH`).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cmd")
            .field("name", &self.name())
            .field("argc", &self.argc)
            .finish()
    }
}

/// Iterator over a command's arguments.
#[derive(Clone)]
pub struct ArgIter<'a> {
    rest: &'a [u8],
}

impl std::fmt::Debug for ArgIter<'_> {
    /// Shows how many arguments are left, never their bytes: they may hold secrets, as
    /// [`Cmd`]'s `Debug` explains.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArgIter")
            .field("remaining", &self.clone().count())
            .finish()
    }
}

impl<'a> Iterator for ArgIter<'a> {
    type Item = &'a [u8];

    #[inline]
    fn next(&mut self) -> Option<&'a [u8]> {
        // The buffer was written by `push_arg`, so its shape is known: `$<len>\r\n<data>\r\n`.
        // The length is a few decimal digits: read them in place (no memchr call, no UTF-8
        // check, no `str::parse`; this runs several times per routed command).
        let rest = self.rest.get(1..)?;
        let digit = |d: u8| usize::from(d - b'0');
        let (len, cr) = match *rest {
            // Most arguments are shorter than 100 bytes.
            [d @ b'0'..=b'9', b'\r', ..] => (digit(d), 1),
            [t @ b'0'..=b'9', d @ b'0'..=b'9', b'\r', ..] => (digit(t) * 10 + digit(d), 2),
            _ => {
                let mut len: usize = 0;
                let mut cr = 0;
                loop {
                    match *rest.get(cr)? {
                        d @ b'0'..=b'9' => len = len.checked_mul(10)?.checked_add(digit(d))?,
                        b'\r' if cr > 0 => break,
                        _ => return None,
                    }
                    cr += 1;
                }
                (len, cr)
            }
        };
        let data = rest.get(cr + 2..cr.checked_add(2)?.checked_add(len)?)?;
        self.rest = rest.get(cr + 2 + len + 2..).unwrap_or_default();
        Some(data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Defect 10: `Debug` of the argument iterator printed the packed arguments (the
    /// password of an `AUTH`, as a list of byte values). It shows how many are left only.
    #[test]
    fn arg_iter_debug_hides_arguments() {
        let c = cmd("AUTH").with("user").with("s3cr3t");
        let secret_bytes = format!("{:?}", b"s3cr3t");
        let secret_bytes = secret_bytes.trim_matches(|c| c == '[' || c == ']');
        let mut it = c.args();
        for dbg in [format!("{it:?}"), format!("{it:#?}")] {
            assert!(
                !dbg.contains("s3cr3t") && !dbg.contains(secret_bytes),
                "{dbg}"
            );
            assert_eq!(
                dbg.split_whitespace()
                    .collect::<String>()
                    .replace(",}", "}"),
                "ArgIter{remaining:3}"
            );
        }
        it.next();
        assert_eq!(format!("{it:?}"), "ArgIter { remaining: 2 }");
    }

    /// The RESP encoding of `args`, written the long way.
    fn reference(args: &[Vec<u8>]) -> Vec<u8> {
        let mut out = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            out.extend_from_slice(a);
            out.extend_from_slice(b"\r\n");
        }
        out
    }

    /// A command grows from in place to the heap to shared without changing its bytes:
    /// every argument size around the in-place limit, more than nine arguments, and past
    /// the sharing size.
    #[test]
    fn encoding_is_the_same_in_place_on_the_heap_and_shared() {
        for first in 0..=INLINE + 8 {
            let mut args = vec![b"SET".to_vec(), vec![b'k'; first]];
            let mut c = cmd("SET");
            c.arg(&args[1][..]);
            assert_eq!(c.packed(), &reference(&args)[..], "first {first}");
            for (i, size) in [0, 1, 9, 10, 99, 100, 5, 40, 3, 2, 1]
                .into_iter()
                .enumerate()
            {
                args.push(vec![b'0' + i as u8; size]);
                c.arg(&args[args.len() - 1][..]);
                assert_eq!(c.packed(), &reference(&args)[..], "first {first}, then {i}");
                assert_eq!(c.argc(), args.len());
                let listed: Vec<&[u8]> = c.args().collect();
                assert_eq!(listed.len(), args.len());
                assert_eq!(c.clone().into_packed(), c.packed());
                assert_eq!(c.packed_bytes(), c.packed());
            }
        }
        let big = vec![b'v'; SHARE_FROM];
        let mut c = cmd("SET").with("k");
        let shared_before = c.packed_bytes();
        c.arg(&big[..]).arg("tail");
        let args = [
            b"SET".to_vec(),
            b"k".to_vec(),
            big.clone(),
            b"tail".to_vec(),
        ];
        assert_eq!(c.packed(), &reference(&args)[..]);
        assert_eq!(&shared_before[..], &reference(&args[..2])[..]);
        let handed_out = c.packed_bytes();
        c.arg("more");
        assert_eq!(
            &handed_out[..],
            &reference(&args)[..],
            "bytes handed out never change"
        );
    }

    #[test]
    fn the_first_byte_of_any_name() {
        for len in 0..13 {
            let name: String = "abcdefghijklm"[..len].to_string();
            assert_eq!(cmd(&name).name_first_byte(), name.bytes().next(), "{name}");
        }
        assert_eq!(Cmd::default().name_first_byte(), None);
    }

    #[test]
    fn encodes_resp() {
        let mut c = cmd("SET");
        c.arg("key").arg(42).arg(&b"\r\n"[..]);
        assert_eq!(
            c.packed(),
            b"*4\r\n$3\r\nSET\r\n$3\r\nkey\r\n$2\r\n42\r\n$2\r\n\r\n\r\n"
        );
        let args: Vec<&[u8]> = c.args().collect();
        assert_eq!(args, [&b"SET"[..], b"key", b"42", b"\r\n"]);
        assert_eq!(c.name(), "SET");
        let mut big = cmd("MSET");
        for i in 0..12 {
            big.arg(i);
        }
        assert!(big.packed().starts_with(b"*13\r\n$4\r\nMSET\r\n"));
        // One-digit and two-digit counts and lengths, across the change from 9 to 10.
        let mut c = cmd("X");
        for i in 1..=8 {
            c.arg(i);
        }
        assert!(c.packed().starts_with(b"*9\r\n$1\r\nX\r\n"));
        c.arg("0123456789");
        assert!(c.packed().starts_with(b"*10\r\n$1\r\nX\r\n"));
        assert!(c.packed().ends_with(b"$1\r\n8\r\n$10\r\n0123456789\r\n"));
        assert_eq!(c.args().count(), 10);
        // Argument lengths across the one-, two- and three-digit headers.
        for len in [0, 9, 10, 99, 100, 12345] {
            let arg = vec![b'a'; len];
            let mut want = format!("*2\r\n$3\r\nSET\r\n${len}\r\n").into_bytes();
            want.extend_from_slice(&arg);
            want.extend_from_slice(b"\r\n");
            assert_eq!(cmd("SET").with(&arg[..]).packed(), &want[..], "{len}");
        }
        assert_eq!(c.arg_at(9), Some(&b"0123456789"[..]));
        // A large command shares its buffer with the bytes handed to another task.
        let mut large = cmd("SET");
        large.arg("k").arg(vec![b'x'; SHARE_FROM]);
        let sent = large.packed_bytes();
        assert_eq!(sent.as_ptr(), large.packed().as_ptr(), "copied, not shared");
        assert_eq!(large.clone(), large);
        large.arg("EX"); // copy on write: the bytes handed out do not change
        assert_eq!(sent.len() + 8, large.packed().len());
        assert!(sent.starts_with(b"*3\r\n$3\r\nSET\r\n"));
        assert_eq!(large.clone().into_packed(), large.packed());
        assert_eq!(
            cmd("GET").with("k").packed_bytes(),
            cmd("GET").with("k").packed()
        );
        assert_eq!(
            format!("{:?}", cmd("AUTH").with("secret")),
            "Cmd { name: \"AUTH\", argc: 2 }"
        );
    }
}
