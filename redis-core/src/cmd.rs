//! One command, encoded as it is built.
//!
//! A `Cmd` keeps its arguments already in RESP form (`$len\r\ndata\r\n` each) in one buffer,
//! with room reserved in front for the `*argc\r\n` header, which is rewritten as arguments
//! are added. Sending a command is then one borrowed slice: no second encoding pass and no
//! second copy of a large argument. The buffer is shared on clone (copy on write), so a
//! task can hand a borrowed command's bytes to another task ([`Cmd::packed_bytes`])
//! without copying a large payload.

use std::sync::Arc;

use crate::types::{ArgSink, ToArgs};

/// Room for `*` + 20 digits + CRLF.
const HEADER_ROOM: usize = 24;

/// A Redis command: its name followed by arguments.
#[derive(Clone, PartialEq, Eq)]
pub struct Cmd {
    buf: Arc<Vec<u8>>,
    start: usize,
    argc: usize,
}

/// Starts a command: `cmd("SET").arg("k").arg(1)`.
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
    pub fn new(name: &str) -> Cmd {
        let mut c = Cmd::with_capacity(name.len() + 64);
        c.push_arg(name.as_bytes());
        c
    }

    /// An empty command with room for `bytes` of encoded arguments.
    fn with_capacity(bytes: usize) -> Cmd {
        let mut buf = Vec::with_capacity(HEADER_ROOM + bytes);
        buf.resize(HEADER_ROOM, 0);
        let mut c = Cmd {
            buf: Arc::new(buf),
            start: HEADER_ROOM,
            argc: 0,
        };
        c.write_header();
        c
    }

    /// Appends an argument (or several, for lists, maps and tuples).
    pub fn arg<T: ToArgs>(&mut self, arg: T) -> &mut Cmd {
        arg.write_args(self);
        self
    }

    /// Appends an argument by value (convenient with `cmd("X").with(a).with(b)` chains that
    /// need to return the `Cmd`).
    pub fn with<T: ToArgs>(mut self, arg: T) -> Cmd {
        arg.write_args(&mut self);
        self
    }

    /// Number of arguments, the name included.
    pub fn argc(&self) -> usize {
        self.argc
    }

    /// The command encoded in RESP, ready for the socket.
    pub fn packed(&self) -> &[u8] {
        &self.buf[self.start..]
    }

    /// The encoded command as shared bytes, without copying (for handing it to another
    /// task).
    pub fn into_packed(self) -> bytes::Bytes {
        match Arc::try_unwrap(self.buf) {
            Ok(buf) => bytes::Bytes::from(buf).slice(self.start..),
            Err(shared) => bytes::Bytes::from_owner(SharedBuf(shared)).slice(self.start..),
        }
    }

    /// The encoded command as shared bytes, without copying the buffer: the bytes share
    /// it with this `Cmd` (a later `arg` on the command copies it first). Worth it for
    /// large commands; for a few bytes, copying `packed()` is as cheap.
    pub fn packed_bytes(&self) -> bytes::Bytes {
        bytes::Bytes::from_owner(SharedBuf(Arc::clone(&self.buf))).slice(self.start..)
    }

    /// The arguments (name first), as byte slices.
    pub fn args(&self) -> ArgIter<'_> {
        ArgIter {
            rest: &self.buf[HEADER_ROOM..],
        }
    }

    /// The `i`-th argument, the name being 0.
    pub fn arg_at(&self, i: usize) -> Option<&[u8]> {
        self.args().nth(i)
    }

    /// The command name, upper-cased (e.g. `GET`).
    pub fn name(&self) -> String {
        self.arg_at(0)
            .map(|n| String::from_utf8_lossy(n).to_ascii_uppercase())
            .unwrap_or_default()
    }

    fn write_header(&mut self) {
        let mut digits = itoa::Buffer::new();
        let d = digits.format(self.argc).as_bytes();
        let len = d.len() + 3;
        let start = HEADER_ROOM - len;
        let buf = Arc::make_mut(&mut self.buf);
        buf[start] = b'*';
        buf[start + 1..start + 1 + d.len()].copy_from_slice(d);
        buf[HEADER_ROOM - 2] = b'\r';
        buf[HEADER_ROOM - 1] = b'\n';
        self.start = start;
    }
}

/// A command buffer shared with the bytes handed out by [`Cmd::packed_bytes`].
struct SharedBuf(Arc<Vec<u8>>);

impl AsRef<[u8]> for SharedBuf {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl ArgSink for Cmd {
    fn push_arg(&mut self, arg: &[u8]) {
        let mut digits = itoa::Buffer::new();
        let d = digits.format(arg.len()).as_bytes();
        // Copy on write: only when packed bytes handed out earlier still share the buffer.
        let buf = Arc::make_mut(&mut self.buf);
        buf.reserve(arg.len() + d.len() + 5);
        buf.push(b'$');
        buf.extend_from_slice(d);
        buf.extend_from_slice(b"\r\n");
        buf.extend_from_slice(arg);
        buf.extend_from_slice(b"\r\n");
        self.argc += 1;
        self.write_header();
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
#[derive(Debug, Clone)]
pub struct ArgIter<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for ArgIter<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        // The buffer was written by `push_arg`, so its shape is known: `$<len>\r\n<data>\r\n`.
        let rest = self.rest.get(1..)?;
        let cr = memchr::memchr(b'\r', rest)?;
        let len: usize = std::str::from_utf8(&rest[..cr]).ok()?.parse().ok()?;
        let data = rest.get(cr + 2..cr + 2 + len)?;
        self.rest = rest.get(cr + 2 + len + 2..).unwrap_or_default();
        Some(data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let mut shared = cmd("SET");
        shared.arg("k");
        let sent = shared.packed_bytes();
        assert_eq!(&sent[..], shared.packed());
        shared.arg("v"); // copies: the bytes handed out do not change
        assert_eq!(&sent[..], b"*2\r\n$3\r\nSET\r\n$1\r\nk\r\n");
        assert_eq!(shared.clone().into_packed(), shared.packed());
        assert_eq!(
            format!("{:?}", cmd("AUTH").with("secret")),
            "Cmd { name: \"AUTH\", argc: 2 }"
        );
    }
}
