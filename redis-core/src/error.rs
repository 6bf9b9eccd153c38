//! The one error type every crate of the workspace returns.
//!
//! Server errors are parsed once, here, into a [`ServerErrorKind`] so that callers match on
//! data (`ServerErrorKind::Moved { .. }`) instead of grepping strings. Cluster and Sentinel add
//! kinds to these enums rather than types of their own, so one `?` works everywhere.

use std::fmt;
use std::io;
use std::time::Duration;

/// Shorthand for `std::result::Result<T, redis_core::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong talking to Redis.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The socket failed (connect refused, reset, closed by the peer, ...).
    #[error("I/O error: {0}")]
    Io(#[from] io::Error),
    /// The peer sent bytes that are not valid RESP, or broke a configured limit.
    #[error("protocol error: {0}")]
    Protocol(String),
    /// The server answered with an error reply.
    #[error("{0}")]
    Server(ServerError),
    /// A wait ran out: connect, response or pool checkout.
    #[error("timed out after {after:?} waiting for {what}")]
    Timeout {
        /// What was being waited for.
        what: &'static str,
        /// The limit that ran out.
        after: Duration,
    },
    /// A reply could not be converted to the requested Rust type.
    #[error("cannot convert reply: expected {expected}, got {got}")]
    Conversion {
        /// The Rust-side shape that was asked for.
        expected: String,
        /// A short description of what the server sent.
        got: String,
    },
    /// TLS could not be set up or the handshake failed (certificate, host name, ...).
    #[error("TLS error: {0}")]
    Tls(String),
    /// The connection URL or configuration is invalid.
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),
    /// The connection pool failed to give out a connection.
    #[error("pool error: {0}")]
    Pool(String),
    /// The connection is out of step with the server (an earlier reply was cut by a timeout
    /// or an I/O error) and refuses further use. Open a new one.
    #[error("connection is broken and was not reused: {0}")]
    Broken(String),
    /// The connection failed after the command was written: it may or may not have run on
    /// the server, so it was not retried automatically.
    #[error("command may have executed before the connection failed: {0}")]
    MayHaveExecuted(Box<Error>),
    /// An optimistic transaction (WATCH ... EXEC) kept finding its watched keys changed
    /// and gave up after this many attempts (see `redis_core::transaction`).
    #[error("transaction gave up: watched keys changed under {attempts} attempt(s)")]
    WatchConflicts {
        /// How many times the transaction body ran.
        attempts: u32,
    },
    /// The credentials provider could not supply credentials (a token fetch failed and
    /// the last token has expired, ...). The text never contains the secret.
    #[error("credentials unavailable: {0}")]
    Credentials(String),
    /// A client-side misuse: a command or argument the client refuses to send.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// A pub/sub subscriber fell behind and its buffer overflowed: `dropped` messages were
    /// lost (reported, never silently).
    #[error("pub/sub subscriber lagged: {dropped} message(s) dropped")]
    Lagged {
        /// How many messages were dropped.
        dropped: u64,
    },
    /// A lock could not be acquired, released or extended as asked.
    #[error("lock: {0}")]
    Lock(LockErrorKind),
    /// A node is not in the role its connection source said it has (a Sentinel-named
    /// primary that reports itself a replica, e.g. after a failover): it was not used.
    #[error("{addr} is a {actual}, not the {expected} it was expected to be")]
    RoleMismatch {
        /// The node's address.
        addr: String,
        /// The role the source named.
        expected: crate::source::Role,
        /// What `ROLE` answered (`master`, `slave`, `sentinel`).
        actual: String,
    },
    /// Sentinel: discovery through the sentinels failed (see [`SentinelErrorKind`]). A node
    /// that is reached but reports the wrong role is [`Error::RoleMismatch`] instead.
    #[error("sentinel: {0}")]
    Sentinel(SentinelErrorKind),
    /// Cluster: the command's keys hash to different slots and the command cannot be split
    /// (give the keys one hash tag, `{user1}.a` / `{user1}.b`). Refused before sending.
    #[error("{command}: keys hash to different cluster slots ({first} and {other})")]
    CrossSlot {
        /// The command name (never its arguments).
        command: String,
        /// The slot of the first key.
        first: u16,
        /// The slot of the first key that differs.
        other: u16,
    },
    /// Cluster: the request could not be served by the cluster as it is now (see
    /// [`ClusterErrorKind`]). Redirects and brief refusals are handled by the client and
    /// never reach the caller; these are what is left when they run out.
    #[error("cluster: {0}")]
    Cluster(ClusterErrorKind),
}

/// Why a cluster client gave up on a request ([`Error::Cluster`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClusterErrorKind {
    /// No node serves this slot (a `CLUSTER DELSLOTS`, a failed shard without a replica),
    /// and the client's refreshes did not find one within the wait it allows. The command
    /// was not sent. The client serves the slot again as soon as a refresh finds it covered.
    SlotNotCovered {
        /// The slot.
        slot: u16,
    },
    /// The request was redirected (`MOVED`/`ASK`/a stale map) more times than allowed; the
    /// last redirect did not run the command.
    TooManyRedirects {
        /// How many redirects were followed.
        redirects: u32,
    },
    /// The read policy allows only replicas for this read and no replica of the slot's
    /// shard is usable (`ReadFrom::Replica`).
    NoUsableReplica {
        /// The slot.
        slot: u16,
    },
    /// The slot map could not be read from any node asked (each unreachable or answering
    /// garbage); lists the nodes tried with why each failed.
    TopologyUnavailable {
        /// `addr: reason` for each node asked, in order.
        tried: Vec<String>,
    },
}

impl fmt::Display for ClusterErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClusterErrorKind::SlotNotCovered { slot } => {
                write!(f, "slot {slot} is not served by any node")
            }
            ClusterErrorKind::TooManyRedirects { redirects } => {
                write!(f, "gave up after {redirects} redirects")
            }
            ClusterErrorKind::NoUsableReplica { slot } => {
                write!(f, "no usable replica serves slot {slot}")
            }
            ClusterErrorKind::TopologyUnavailable { tried } => {
                write!(f, "no node answered with a slot map, tried {}", tried.len())?;
                for (i, t) in tried.iter().enumerate() {
                    f.write_str(if i == 0 { ": " } else { "; " })?;
                    f.write_str(t)?;
                }
                Ok(())
            }
        }
    }
}

/// Why a lock operation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LockErrorKind {
    /// Somebody else holds the lock and the wait ran out (or `try_acquire` gave up at once).
    NotAcquired,
    /// The lock had expired and is now absent or owned by another holder; nothing was changed.
    NotOwned,
}

impl fmt::Display for LockErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LockErrorKind::NotAcquired => f.write_str("held by another owner"),
            LockErrorKind::NotOwned => {
                f.write_str("no longer owned by this holder (expired, maybe taken by another)")
            }
        }
    }
}

/// Why discovery through the sentinels failed ([`Error::Sentinel`]).
///
/// Addresses and service names are not secret and are kept; the reasons are the
/// `Display` text of the errors met, which never carry a password.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SentinelErrorKind {
    /// Every sentinel asked answered, and none of them monitors this service (a typo in the
    /// service name, or sentinels of another deployment).
    UnknownService {
        /// The service (master) name asked for.
        service: String,
    },
    /// No sentinel named a node for the service: each was unreachable, timed out, answered
    /// with an error or garbage, or did not know the service. Lists every sentinel tried, in
    /// the order tried, with why it did not help.
    NoSentinelReachable {
        /// The service (master) name asked for.
        service: String,
        /// Each sentinel tried and why it failed.
        tried: Vec<SentinelAttempt>,
    },
    /// Every sentinel refused the client's credentials (`WRONGPASS`, `NOAUTH`, `NOPERM`):
    /// the sentinel config (separate from the data nodes') is wrong.
    AuthFailed {
        /// The service (master) name asked for.
        service: String,
        /// Each sentinel tried and what it answered.
        tried: Vec<SentinelAttempt>,
    },
    /// The sentinels name no replica of the service that is fit to serve reads, and the
    /// read routing forbids falling back to the primary.
    NoUsableReplica {
        /// The service (master) name asked for.
        service: String,
    },
}

/// One sentinel asked during discovery, and why it did not name a node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentinelAttempt {
    /// The sentinel's address (`host:port`).
    pub sentinel: String,
    /// Why it failed (the error's text, e.g. `I/O error: connection refused`).
    pub reason: String,
}

impl fmt::Display for SentinelErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |f: &mut fmt::Formatter<'_>, tried: &[SentinelAttempt]| {
            for (i, a) in tried.iter().enumerate() {
                let sep = if i == 0 { ": " } else { "; " };
                write!(f, "{sep}{} ({})", a.sentinel, a.reason)?;
            }
            Ok(())
        };
        match self {
            SentinelErrorKind::UnknownService { service } => {
                write!(f, "no sentinel monitors a service named {service:?}")
            }
            SentinelErrorKind::NoSentinelReachable { service, tried } => {
                write!(
                    f,
                    "no sentinel named a node for service {service:?}, tried {}",
                    tried.len()
                )?;
                list(f, tried)
            }
            SentinelErrorKind::AuthFailed { service, tried } => {
                write!(
                    f,
                    "every sentinel refused the credentials (service {service:?})"
                )?;
                list(f, tried)
            }
            SentinelErrorKind::NoUsableReplica { service } => {
                write!(f, "no usable replica of service {service:?}")
            }
        }
    }
}

/// An error reply from the server, with its code parsed.
///
/// One pointer wide (the parts live behind a `Box`): error replies are rare, and a small
/// `ServerError` keeps every [`crate::Value`] and [`Error`] small.
#[derive(Clone, PartialEq)]
pub struct ServerError(Box<ServerErrorParts>);

#[derive(Clone, PartialEq)]
struct ServerErrorParts {
    kind: ServerErrorKind,
    code: String,
    message: String,
}

impl fmt::Debug for ServerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerError")
            .field("kind", &self.0.kind)
            .field("code", &self.0.code)
            .field("message", &self.0.message)
            .finish()
    }
}

/// The error codes a client acts on. Anything else is [`ServerErrorKind::Other`] and keeps
/// its code in [`ServerError::code`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ServerErrorKind {
    /// Generic `ERR`.
    Err,
    /// Operation against a key holding the wrong kind of value.
    WrongType,
    /// Cluster: the slot lives on another node for good.
    Moved {
        /// The hash slot.
        slot: u16,
        /// `host:port` of the node that owns it.
        addr: String,
    },
    /// Cluster: the slot is being migrated; ask this node once.
    Ask {
        /// The hash slot.
        slot: u16,
        /// `host:port` of the importing node.
        addr: String,
    },
    /// EVALSHA with a script the server does not know.
    NoScript,
    /// Write sent to a read-only replica.
    ReadOnly,
    /// The server is loading its dataset.
    Loading,
    /// A script or function is running.
    Busy,
    /// Cluster: multi-key command during resharding; try again.
    TryAgain,
    /// Cluster: the cluster is down.
    ClusterDown,
    /// Authentication required.
    NoAuth,
    /// Wrong password or unknown user.
    WrongPass,
    /// The ACL user lacks a permission.
    NoPerm,
    /// EXEC discarded the transaction because a queued command had an error.
    ExecAbort,
    /// Out of memory (`maxmemory` reached).
    Oom,
    /// Replica is disconnected from the primary and configured not to serve stale data.
    MasterDown,
    /// Any other code.
    Other,
}

impl ServerError {
    /// Bytes the boxed parts take on the heap (the decoder charges replies for them).
    pub(crate) const PARTS_SIZE: usize = std::mem::size_of::<ServerErrorParts>();

    /// Parses an error line such as `MOVED 3999 127.0.0.1:6381` or `ERR unknown command`.
    pub fn parse(line: &str) -> ServerError {
        let (code, rest) = match line.split_once(' ') {
            Some((c, r)) => (c, r),
            None => (line, ""),
        };
        let kind = match code {
            "ERR" => ServerErrorKind::Err,
            "WRONGTYPE" => ServerErrorKind::WrongType,
            "MOVED" | "ASK" => match parse_redirect(rest) {
                Some((slot, addr)) if code == "MOVED" => ServerErrorKind::Moved { slot, addr },
                Some((slot, addr)) => ServerErrorKind::Ask { slot, addr },
                None => ServerErrorKind::Other,
            },
            "NOSCRIPT" => ServerErrorKind::NoScript,
            "READONLY" => ServerErrorKind::ReadOnly,
            "LOADING" => ServerErrorKind::Loading,
            "BUSY" => ServerErrorKind::Busy,
            "TRYAGAIN" => ServerErrorKind::TryAgain,
            "CLUSTERDOWN" => ServerErrorKind::ClusterDown,
            "NOAUTH" => ServerErrorKind::NoAuth,
            "WRONGPASS" => ServerErrorKind::WrongPass,
            "NOPERM" => ServerErrorKind::NoPerm,
            "EXECABORT" => ServerErrorKind::ExecAbort,
            "OOM" => ServerErrorKind::Oom,
            "MASTERDOWN" => ServerErrorKind::MasterDown,
            _ => ServerErrorKind::Other,
        };
        ServerError(Box::new(ServerErrorParts {
            kind,
            code: code.to_string(),
            message: rest.to_string(),
        }))
    }

    /// The parsed kind.
    pub fn kind(&self) -> &ServerErrorKind {
        &self.0.kind
    }

    /// The code as the server sent it (`ERR`, `WRONGTYPE`, `MYMODULEERR`, ...).
    pub fn code(&self) -> &str {
        &self.0.code
    }

    /// The text after the code.
    pub fn message(&self) -> &str {
        &self.0.message
    }
}

fn parse_redirect(rest: &str) -> Option<(u16, String)> {
    let mut parts = rest.split(' ');
    let slot = parts.next()?.parse::<u16>().ok()?;
    let addr = parts.next()?;
    if addr.is_empty() || parts.next().is_some() {
        return None;
    }
    Some((slot, addr.to_string()))
}

impl fmt::Display for ServerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.message.is_empty() {
            write!(f, "server error {}", self.0.code)
        } else {
            write!(f, "server error {}: {}", self.0.code, self.0.message)
        }
    }
}

impl std::error::Error for ServerError {}

impl From<ServerError> for Error {
    fn from(e: ServerError) -> Self {
        Error::Server(e)
    }
}

impl Error {
    /// The server error kind, when this is a server error reply.
    pub fn server_kind(&self) -> Option<&ServerErrorKind> {
        match self {
            Error::Server(e) => Some(e.kind()),
            _ => None,
        }
    }

    /// True when the connection this error came from should be considered gone: the socket
    /// failed, the peer broke the protocol, or a reply was cut by a timeout (a blocking
    /// connection is then broken; a multiplexed one may still work, but a timeout is the
    /// usual sign of a dead or stalled link).
    pub fn is_connection_dropped(&self) -> bool {
        match self {
            Error::Io(_)
            | Error::Protocol(_)
            | Error::Broken(_)
            | Error::Tls(_)
            | Error::Timeout { .. } => true,
            Error::MayHaveExecuted(inner) => inner.is_connection_dropped(),
            _ => false,
        }
    }

    /// True when a retry of the same request may succeed: a transient server state
    /// (LOADING, TRYAGAIN, CLUSTERDOWN, BUSY, MASTERDOWN) or a dropped connection.
    /// Whether a retry is *safe* also depends on the command; see `command_table`.
    pub fn is_retriable(&self) -> bool {
        match self {
            Error::Server(e) => matches!(
                e.kind(),
                ServerErrorKind::Loading
                    | ServerErrorKind::TryAgain
                    | ServerErrorKind::ClusterDown
                    | ServerErrorKind::Busy
                    | ServerErrorKind::MasterDown
            ),
            Error::Io(_) | Error::Timeout { .. } | Error::Broken(_) => true,
            // The source re-resolves: the next attempt may reach the right node.
            Error::RoleMismatch { .. } => true,
            _ => false,
        }
    }

    /// An error of the same kind and text, for the other callers a single failure ends (a
    /// socket that dies with many requests in flight gives each of them the cause as
    /// `MayHaveExecuted(cause)`; the error is not `Clone` because `io::Error` is not).
    /// The kind is kept: an `Io` error keeps its `io::ErrorKind` and message, a `Timeout`
    /// its fields, a `Protocol` error its text; kinds without owned data are rebuilt as
    /// they are, and the few with data that cannot be copied become `Broken` with the text.
    pub fn replicate(&self) -> Error {
        match self {
            Error::Io(e) => Error::Io(io::Error::new(e.kind(), e.to_string())),
            Error::Protocol(m) => Error::Protocol(m.clone()),
            Error::Server(e) => Error::Server(e.clone()),
            Error::Timeout { what, after } => Error::Timeout {
                what,
                after: *after,
            },
            Error::Tls(m) => Error::Tls(m.clone()),
            Error::Broken(m) => Error::Broken(m.clone()),
            Error::MayHaveExecuted(inner) => Error::MayHaveExecuted(Box::new(inner.replicate())),
            Error::InvalidRequest(m) => Error::InvalidRequest(m.clone()),
            Error::Lock(k) => Error::Lock(*k),
            Error::Sentinel(k) => Error::Sentinel(k.clone()),
            Error::Cluster(k) => Error::Cluster(k.clone()),
            Error::CrossSlot {
                command,
                first,
                other,
            } => Error::CrossSlot {
                command: command.clone(),
                first: *first,
                other: *other,
            },
            other => Error::Broken(other.to_string()),
        }
    }

    /// The error under `MayHaveExecuted` (the real cause), or `self` for any other kind.
    pub fn cause(&self) -> &Error {
        match self {
            Error::MayHaveExecuted(inner) => inner.cause(),
            other => other,
        }
    }

    /// True for cluster redirects (MOVED or ASK).
    pub fn is_redirect(&self) -> bool {
        matches!(
            self.server_kind(),
            Some(ServerErrorKind::Moved { .. } | ServerErrorKind::Ask { .. })
        )
    }

    /// Shorthand for a protocol error.
    pub fn protocol(msg: impl Into<String>) -> Error {
        Error::Protocol(msg.into())
    }

    /// Shorthand for a conversion error.
    pub fn conversion(expected: impl Into<String>, got: impl Into<String>) -> Error {
        Error::Conversion {
            expected: expected.into(),
            got: got.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_redirects_and_codes() {
        let e = ServerError::parse("MOVED 3999 127.0.0.1:6381");
        assert_eq!(
            e.kind(),
            &ServerErrorKind::Moved {
                slot: 3999,
                addr: "127.0.0.1:6381".into()
            }
        );
        let e = ServerError::parse("ASK 1 [::1]:7000");
        assert_eq!(
            e.kind(),
            &ServerErrorKind::Ask {
                slot: 1,
                addr: "[::1]:7000".into()
            }
        );
        let e = ServerError::parse("MOVED notaslot x");
        assert_eq!(e.kind(), &ServerErrorKind::Other);
        let e = ServerError::parse("WRONGTYPE Operation against a key");
        assert_eq!(e.kind(), &ServerErrorKind::WrongType);
        assert_eq!(e.message(), "Operation against a key");
        let e = ServerError::parse("MYERR");
        assert_eq!(e.code(), "MYERR");
        assert_eq!(e.kind(), &ServerErrorKind::Other);
        assert!(Error::from(ServerError::parse("LOADING x")).is_retriable());
        assert!(!Error::from(ServerError::parse("ERR x")).is_retriable());
    }

    #[test]
    fn cluster_errors_say_what_ran_out() {
        let e = Error::Cluster(ClusterErrorKind::SlotNotCovered { slot: 7 });
        assert_eq!(e.to_string(), "cluster: slot 7 is not served by any node");
        assert!(!e.is_retriable() && !e.is_connection_dropped());
        assert!(matches!(
            e.replicate(),
            Error::Cluster(ClusterErrorKind::SlotNotCovered { slot: 7 })
        ));
        let e = Error::Cluster(ClusterErrorKind::TopologyUnavailable {
            tried: vec!["a:1: refused".into(), "b:2: timed out".into()],
        });
        assert_eq!(
            e.to_string(),
            "cluster: no node answered with a slot map, tried 2: a:1: refused; b:2: timed out"
        );
        let e = Error::CrossSlot {
            command: "RENAME".into(),
            first: 1,
            other: 2,
        };
        assert!(matches!(
            e.replicate(),
            Error::CrossSlot {
                first: 1,
                other: 2,
                ..
            }
        ));
    }

    #[test]
    fn sentinel_errors_list_each_sentinel_tried() {
        let e = Error::Sentinel(SentinelErrorKind::NoSentinelReachable {
            service: "mymaster".into(),
            tried: vec![
                SentinelAttempt {
                    sentinel: "10.0.0.1:26379".into(),
                    reason: "I/O error: connection refused".into(),
                },
                SentinelAttempt {
                    sentinel: "10.0.0.2:26379".into(),
                    reason: "does not monitor the service".into(),
                },
            ],
        });
        assert_eq!(
            e.to_string(),
            "sentinel: no sentinel named a node for service \"mymaster\", tried 2: \
             10.0.0.1:26379 (I/O error: connection refused); \
             10.0.0.2:26379 (does not monitor the service)"
        );
        assert!(
            matches!(e.replicate(), Error::Sentinel(k) if matches!(k, SentinelErrorKind::NoSentinelReachable { ref tried, .. } if tried.len() == 2))
        );
        let unknown = Error::Sentinel(SentinelErrorKind::UnknownService {
            service: "nosuch".into(),
        });
        assert_eq!(
            unknown.to_string(),
            "sentinel: no sentinel monitors a service named \"nosuch\""
        );
    }

    #[test]
    fn may_have_executed_keeps_its_cause() {
        let io = Error::Io(io::Error::new(io::ErrorKind::ConnectionReset, "reset"));
        let e = Error::MayHaveExecuted(Box::new(io.replicate()));
        assert!(
            matches!(e.cause(), Error::Io(i) if i.kind() == io::ErrorKind::ConnectionReset),
            "{e:?}"
        );
        let t = Error::Timeout {
            what: "response",
            after: Duration::from_secs(1),
        };
        assert!(matches!(
            t.replicate(),
            Error::Timeout {
                what: "response",
                ..
            }
        ));
        let p = Error::protocol("bad byte");
        assert!(matches!(p.replicate(), Error::Protocol(m) if m == "bad byte"));
        assert!(e.is_connection_dropped());
    }
}
