//! One command, encoded as it is built.
//!
//! A `Cmd` keeps its arguments already in RESP form (`$len\r\ndata\r\n` each) in one buffer,
//! with room reserved in front for the `*argc\r\n` header, which is rewritten as arguments
//! are added. Sending a command is then one borrowed slice: no second encoding pass and no
//! second copy of a large argument.

use crate::types::{ArgSink, ToArgs};

/// Room for `*` + 20 digits + CRLF.
const HEADER_ROOM: usize = 24;

/// A Redis command: its name followed by arguments.
#[derive(Clone, PartialEq, Eq)]
pub struct Cmd {
    buf: Vec<u8>,
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
            buf,
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
        bytes::Bytes::from(self.buf).slice(self.start..)
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

    fn write_header(&mut self) {
        let mut digits = itoa::Buffer::new();
        let d = digits.format(self.argc).as_bytes();
        let len = d.len() + 3;
        let start = HEADER_ROOM - len;
        self.buf[start] = b'*';
        self.buf[start + 1..start + 1 + d.len()].copy_from_slice(d);
        self.buf[HEADER_ROOM - 2] = b'\r';
        self.buf[HEADER_ROOM - 1] = b'\n';
        self.start = start;
    }
}

impl ArgSink for Cmd {
    fn push_arg(&mut self, arg: &[u8]) {
        let mut digits = itoa::Buffer::new();
        let d = digits.format(arg.len()).as_bytes();
        self.buf.reserve(arg.len() + d.len() + 5);
        self.buf.push(b'$');
        self.buf.extend_from_slice(d);
        self.buf.extend_from_slice(b"\r\n");
        self.buf.extend_from_slice(arg);
        self.buf.extend_from_slice(b"\r\n");
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
        assert_eq!(
            format!("{:?}", cmd("AUTH").with("secret")),
            "Cmd { name: \"AUTH\", argc: 2 }"
        );
    }
}
