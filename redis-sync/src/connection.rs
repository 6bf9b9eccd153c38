//! One blocking connection: write a request, read its reply, never lose step.
//!
//! The rule this file keeps: a connection never hands a caller someone else's reply. If a
//! write fails, or a read fails or times out before a whole reply has arrived, the server
//! may still send that reply later, so the connection is marked broken and every later
//! request fails with [`Error::Broken`] instead of reading a stale reply. Pools drop broken
//! connections. An error *reply* (e.g. WRONGTYPE) is a complete reply and leaves the
//! connection usable.
//!
//! # Implementation
//!
//! Requests are written straight from the `Cmd`'s encoded buffer (pipelines from one
//! reused buffer), in one `write_all`. Replies are read into a `BytesMut` and decoded by
//! the sans-IO decoder in redis-core; bulk payloads come out as slices of that buffer.
//!
//! Each request has a deadline (`redis_core::timing`): the response timeout, or for
//! blocking commands (BLPOP, XREAD BLOCK, WAIT, ...) the command's own block time plus the
//! response timeout, or none for "block forever". The socket read timeout is set to the
//! time left before each read, but only when that differs from the current setting by more
//! than a tenth of the limit, so a reply that comes in one read costs no extra system call.
//! The handshake shares one deadline with the connect: `connect_timeout`.
//!
//! A push frame (`>`) is never a reply, whatever protocol was negotiated (the user may
//! send `HELLO 3` and `CLIENT TRACKING ON` themselves): reading a reply sets pushes aside.

use std::io::{self, Read, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use redis_core::abort::{AbortGuard, AbortHandle};
use redis_core::command_table::{self, BlockTime};
use redis_core::credentials::AuthWatch;
use redis_core::resp::Decoder;
use redis_core::timing;
use redis_core::{Addr, Cmd, ConnectionEvent, Error, Pipeline, Protocol, Result, Target, Value};

use crate::events::Events;
use crate::source::ConnectionSource;
use crate::stream::Stream;

/// Something that sends requests and returns replies: a [`Connection`], a pooled one, or
/// (later) a cluster or sentinel-backed handle. The typed [`crate::Commands`] and the
/// [`crate::Query`] helpers work on anything that implements it.
pub trait ConnectionLike {
    /// Sends one command and reads its reply. An error reply becomes `Err(Error::Server)`.
    fn req(&mut self, cmd: &Cmd) -> Result<Value>;

    /// Like [`req`](Self::req), for a command the caller no longer needs (the typed
    /// methods use it); connections that must hand the bytes to another task take them
    /// without a copy.
    fn req_owned(&mut self, cmd: Cmd) -> Result<Value> {
        self.req(&cmd)
    }

    /// Sends a pipeline in one write and returns its raw replies in order (error replies
    /// stay in the list as [`Value::ServerError`]).
    fn req_pipeline(&mut self, pipe: &Pipeline) -> Result<Vec<Value>>;
}

/// A borrowed connection works wherever an owned one does (a lock or a transaction on
/// `&mut con`).
impl<C: ConnectionLike + ?Sized> ConnectionLike for &mut C {
    fn req(&mut self, cmd: &Cmd) -> Result<Value> {
        (**self).req(cmd)
    }

    fn req_owned(&mut self, cmd: Cmd) -> Result<Value> {
        (**self).req_owned(cmd)
    }

    fn req_pipeline(&mut self, pipe: &Pipeline) -> Result<Vec<Value>> {
        (**self).req_pipeline(pipe)
    }
}

const READ_CHUNK: usize = 16 * 1024;

/// The scratch buffer's first size: a connection that only ever sees short replies keeps
/// 4 KiB of it in memory rather than 16 (a cluster client holds one per node); one whose
/// read fills it doubles it, up to [`READ_CHUNK`]. (The read buffer itself is made with
/// `READ_CHUNK`: `BytesMut` sizes the buffers it makes after a large reply was handed out
/// by its first capacity, and starting at 4 KiB made 1 MiB GETs 40% slower.)
const FIRST_READ: usize = 4 * 1024;

/// A blocking connection to one server.
pub struct Connection {
    /// First field, so it drops before the stream: the abort registry lets go of its
    /// duplicate of the socket before the socket closes.
    abort: AbortGuard,
    abort_handle: AbortHandle,
    /// Told when a request waits past each probe interval (see [`ConnectionSource::slow`]).
    probe: Option<Probe>,
    /// The source this connection came from, told of `READONLY` replies (`None`: opened
    /// by hand).
    source: Option<Arc<dyn ConnectionSource>>,
    /// When the current request is next reported as slow.
    probe_at: Option<Instant>,
    stream: Stream,
    rbuf: BytesMut,
    scratch: Box<[u8]>,
    decoder: Decoder,
    /// Always empty between requests (a pipeline is encoded into it, then written).
    wbuf: Vec<u8>,
    /// Replies owed by a pipeline written with `write_pipeline` and not read yet.
    unread: usize,
    broken: Option<String>,
    response_timeout: Duration,
    /// The read timeout the socket has now.
    read_timeout: Option<Duration>,
    /// The current request's deadline and its whole limit (`None`: no limit).
    deadline: Option<Deadline>,
    /// Set during the handshake: every request shares the connect deadline.
    handshake: Option<Deadline>,
    protocol: Protocol,
    addr: Addr,
    /// What the connection authenticated with, when its credentials rotate.
    auth: Option<AuthWatch>,
    /// Where its life events go (the client's callbacks).
    events: Option<Events>,
}

struct Probe {
    interval: Duration,
    source: Arc<dyn ConnectionSource>,
}

/// When a request must be answered by, and the limit that set it (for the error).
#[derive(Debug, Clone, Copy)]
struct Deadline {
    at: Instant,
    limit: Duration,
    what: &'static str,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("protocol", &self.protocol)
            .field("broken", &self.broken)
            .finish()
    }
}

redis_core::handshake_template!(maybe_async::must_be_sync);

impl Connection {
    /// Opens the socket, runs the handshake and the target's checks (`READONLY`, `ROLE`),
    /// all within `connect_timeout`; a node that fails them is closed, never handed out.
    /// One attempt: [`crate::Client`] retries.
    pub(crate) fn open(target: &Target, events: Option<Events>) -> Result<Connection> {
        let config = &target.config;
        // Before the handshake asks for credentials: a rotation during it is seen later.
        let auth = AuthWatch::new(&config.credentials);
        let started = Instant::now();
        let stream = Stream::connect(config)?;
        stream.set_write_timeout(Some(config.write_timeout))?;
        let (abort, abort_handle) = stream.register_abort(&config.addr);
        let mut con = Connection {
            abort,
            abort_handle,
            probe: None,
            source: None,
            probe_at: None,
            stream,
            rbuf: BytesMut::with_capacity(READ_CHUNK),
            scratch: vec![0; FIRST_READ].into_boxed_slice(),
            decoder: Decoder::new(config.decoder_limits),
            wbuf: Vec::new(),
            unread: 0,
            broken: None,
            response_timeout: config.response_timeout,
            read_timeout: None,
            deadline: None,
            handshake: Some(Deadline {
                at: started + config.connect_timeout,
                limit: config.connect_timeout,
                what: "connect and handshake",
            }),
            protocol: config.protocol,
            addr: config.addr.clone(),
            auth,
            events,
        };
        con.protocol = handshake(&mut con, target)?;
        con.handshake = None;
        con.emit(ConnectionEvent::HandshakeDone {
            addr: con.addr.clone(),
            protocol: con.protocol,
        });
        con.emit(ConnectionEvent::Connected {
            addr: con.addr.clone(),
        });
        Ok(con)
    }

    fn emit(&self, event: ConnectionEvent) {
        if let Some(events) = &self.events {
            events.emit(event);
        }
    }

    /// Before a request: re-authenticates when the credentials rotated (one atomic load
    /// when they did not). Never inside `MULTI`: the `AUTH` would join the transaction.
    #[inline]
    fn safe_point(&mut self) -> Result<()> {
        match &self.auth {
            Some(a) if a.should_look() => self.reauthenticate(),
            _ => Ok(()),
        }
    }

    /// Notes what is written, so re-authentication keeps out of `MULTI` blocks.
    #[inline]
    fn note_sent(&mut self, cmd: &Cmd) {
        if let Some(a) = &mut self.auth {
            a.note_sent(cmd);
        }
    }

    /// What a rotation asks of this connection now: reports a provider failure (once per
    /// client), and returns the `AUTH` to send when new credentials arrived. A provider
    /// that cannot give them is a `ReauthFailed` event, and the connection goes on as it is.
    pub(crate) fn take_auth_due(&mut self) -> Option<Cmd> {
        let auth = self.auth.as_mut()?;
        let due = auth.due();
        let cmd = if due.reauth {
            auth.auth_command()
        } else {
            Ok(None)
        };
        if let (Some((failures, error)), Some(events)) = (due.failure, &self.events) {
            events.provider_failed(&self.addr, failures, error);
        }
        match cmd {
            Ok(cmd) => cmd,
            Err(e) => {
                self.emit(ConnectionEvent::ReauthFailed {
                    addr: self.addr.clone(),
                    error: e.to_string(),
                });
                None
            }
        }
    }

    /// Reports the server's answer to a re-authentication `AUTH`. A refusal leaves the
    /// connection as the identity it was.
    pub(crate) fn auth_replied(&self, reply: &Value) {
        self.emit(match reply {
            Value::ServerError(e) => ConnectionEvent::ReauthFailed {
                addr: self.addr.clone(),
                error: e.to_string(),
            },
            _ => ConnectionEvent::Reauthenticated {
                addr: self.addr.clone(),
            },
        });
    }

    /// True when the credentials of this connection rotate.
    pub(crate) fn rotates(&self) -> bool {
        self.auth.is_some()
    }

    /// True when a rotation is waiting to be looked at (pub/sub checks between reads).
    pub(crate) fn auth_should_look(&self) -> bool {
        self.auth.as_ref().is_some_and(AuthWatch::should_look)
    }

    #[cold]
    fn reauthenticate(&mut self) -> Result<()> {
        let Some(auth) = self.take_auth_due() else {
            return Ok(());
        };
        self.start(Some(self.response_timeout));
        self.write_raw(auth.packed())?;
        let reply = self.read_reply()?;
        self.auth_replied(&reply);
        Ok(())
    }

    /// The address this connection is connected to.
    pub fn addr(&self) -> &Addr {
        &self.addr
    }

    /// True when an earlier failure left the connection out of step, or it was aborted;
    /// it refuses all use.
    pub fn is_broken(&self) -> bool {
        self.broken.is_some() || self.abort.is_aborted()
    }

    /// A handle that ends this connection from any thread (see
    /// [`AbortHandle`](redis_core::abort::AbortHandle)).
    pub fn abort_handle(&self) -> AbortHandle {
        self.abort_handle.clone()
    }

    /// Ties the connection to the source it came from: requests that wait longer than
    /// `interval` (and each multiple of it) are reported to `source.slow` on the waiting
    /// thread, and `READONLY` replies to `source.failed`.
    pub(crate) fn set_probe(
        &mut self,
        interval: Option<Duration>,
        source: Arc<dyn ConnectionSource>,
    ) {
        self.probe = interval.map(|interval| Probe {
            interval,
            source: source.clone(),
        });
        self.source = Some(source);
    }

    /// The protocol the handshake settled on.
    pub fn protocol(&self) -> Protocol {
        self.protocol
    }

    /// The default limit on waiting for a reply.
    pub fn response_timeout(&self) -> Duration {
        self.response_timeout
    }

    /// Changes the default limit on waiting for a reply.
    pub fn set_response_timeout(&mut self, t: Duration) {
        self.response_timeout = t;
    }

    fn check(&mut self) -> Result<()> {
        if self.unread != 0 {
            let e = Error::Broken(format!(
                "{} replies of a written pipeline were never read",
                self.unread
            ));
            return Err(self.fail(e, "a request before the replies were read"));
        }
        self.check_usable()
    }

    /// Fails when the connection is broken or was aborted.
    fn check_usable(&mut self) -> Result<()> {
        if self.broken.is_none() && self.abort.is_aborted() {
            let cause = self.abort.cause().unwrap_or_default();
            self.broken = Some(format!("aborted: {cause}"));
            self.stream.shutdown();
        }
        match &self.broken {
            Some(why) => Err(Error::Broken(why.clone())),
            None => Ok(()),
        }
    }

    /// Marks the connection broken and closes the socket, so the server drops any reply
    /// still on its way.
    fn fail(&mut self, e: Error, when: &str) -> Error {
        if self.broken.is_none() {
            self.broken = Some(format!("{when}: {e}"));
            self.stream.shutdown();
            if self.handshake.is_none() {
                self.emit(ConnectionEvent::Disconnected {
                    addr: self.addr.clone(),
                    cause: e.to_string(),
                });
            }
        }
        e
    }

    fn set_read_timeout(&mut self, t: Option<Duration>) -> Result<()> {
        if self.read_timeout != t {
            if let Err(e) = self.stream.set_read_timeout(t) {
                return Err(self.fail(e.into(), "setting the read timeout"));
            }
            self.read_timeout = t;
        }
        Ok(())
    }

    /// Starts the deadline of a request allowed to wait `limit` (`None`: forever). Only
    /// requests that do not block (their limit is the response timeout) are probed: a
    /// `BLPOP` waiting is no sign of a frozen node.
    fn start(&mut self, limit: Option<Duration>) {
        if let Some(d) = self.handshake {
            self.deadline = Some(d);
            self.probe_at = None;
            return;
        }
        let now = Instant::now();
        self.deadline = limit.map(|limit| Deadline {
            at: now + limit,
            limit,
            what: "response",
        });
        self.probe_at = match &self.probe {
            Some(p) if limit == Some(self.response_timeout) => Some(now + p.interval),
            _ => None,
        };
    }

    /// The read woke without data: when the probe is due, reports the wait to the source
    /// (which may end this very connection through its abort handle) and sets the next.
    fn probe_if_due(&mut self) {
        let (Some(at), Some(probe)) = (self.probe_at, &self.probe) else {
            return;
        };
        let now = Instant::now();
        if now < at {
            return;
        }
        let started = at - probe.interval;
        self.probe_at = Some(now + probe.interval);
        probe
            .source
            .slow(&self.addr, now.saturating_duration_since(started));
    }

    /// Sets the socket read timeout to the time left before the deadline (when that
    /// changes it meaningfully); a deadline already past is a timeout.
    fn arm(&mut self) -> Result<()> {
        let now = Instant::now();
        let (left, limit) = match self.deadline {
            Some(d) => {
                let left = d.at.saturating_duration_since(now);
                if left.is_zero() {
                    return Err(self.fail(d.timeout(), "reading a reply failed"));
                }
                (Some(left), d.limit)
            }
            None => (None, Duration::ZERO),
        };
        // Wake for the probe too; its interval sets the slack, so a reply that comes
        // in one read still costs no extra system call.
        let (left, limit) = match (self.probe_at, &self.probe) {
            (Some(at), Some(p)) => {
                let to_probe = at.saturating_duration_since(now);
                (
                    Some(left.map_or(to_probe, |l| l.min(to_probe))),
                    limit.min(p.interval),
                )
            }
            _ => (left, limit),
        };
        match timing::read_timeout_change(self.read_timeout, left, limit) {
            Some(t) => self.set_read_timeout(t),
            None => Ok(()),
        }
    }

    pub(crate) fn write_raw(&mut self, bytes: &[u8]) -> Result<()> {
        self.check()?;
        if let Err(e) = self.stream.write_all(bytes) {
            return Err(self.fail(io_error(e, "write", None), "write failed"));
        }
        Ok(())
    }

    /// Reads more bytes; a large bulk string is read straight into the buffer, which grows
    /// only as its bytes arrive (never from the length its header announced).
    fn fill(&mut self) -> io::Result<()> {
        let start = self.rbuf.len();
        let room = self.decoder.read_room(start);
        if room > READ_CHUNK {
            // Zero the room once and read straight into it.
            let end = start + room;
            self.rbuf.resize(end, 0);
            let mut filled = start;
            while filled < end {
                match self.stream.read(&mut self.rbuf[filled..end]) {
                    Ok(0) => {
                        self.rbuf.truncate(filled);
                        return Err(closed());
                    }
                    Ok(n) => filled += n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        self.rbuf.truncate(filled);
                        return Err(e);
                    }
                }
            }
            return Ok(());
        }
        // Small reads go through a scratch buffer zeroed once, so no read pays for zeroing
        // room it does not fill (safe Rust cannot read into uninitialized memory).
        if self.rbuf.is_empty() {
            // Everything read was handed out: go on from the buffer's front (no copy), so
            // short replies keep to its first pages instead of walking all of it.
            self.rbuf.reserve(READ_CHUNK);
        }
        loop {
            match self.stream.read(&mut self.scratch[..]) {
                Ok(0) => return Err(closed()),
                Ok(n) => {
                    self.rbuf.extend_from_slice(&self.scratch[..n]);
                    if n == self.scratch.len() && n < READ_CHUNK {
                        // More was probably waiting: read more at a time from now on.
                        self.scratch = vec![0; n * 2].into_boxed_slice();
                    }
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Reads one frame (replies and pushes alike) before the request's deadline. Any
    /// failure breaks the connection.
    pub(crate) fn read_frame(&mut self) -> Result<Value> {
        loop {
            match self.decoder.decode(&mut self.rbuf) {
                Ok(Some(v)) => return Ok(v),
                Ok(None) => {}
                Err(e) => return Err(self.fail(e, "invalid reply")),
            }
            self.arm()?;
            match self.fill() {
                Ok(()) => {}
                // The socket's timeout may end a little before the deadline, or wake
                // for the probe: re-arm.
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) && (self.deadline.is_some() || self.probe_at.is_some()) =>
                {
                    self.probe_if_due()
                }
                Err(e) => {
                    // Aborted from outside (the node was replaced): the request was
                    // written, so it may have run.
                    let e = match self.abort.error() {
                        Some(aborted) => aborted,
                        None => io_error(e, "response", self.read_timeout),
                    };
                    return Err(self.fail(e, "reading a reply failed"));
                }
            }
        }
    }

    /// Waits up to `timeout` (`None`: forever) for one frame when no request is pending
    /// (pub/sub). Running out of time is not a failure: the decoder keeps any partial frame.
    pub(crate) fn poll_frame(&mut self, timeout: Option<Duration>) -> Result<Option<Value>> {
        self.check()?;
        if timeout == Some(Duration::ZERO) {
            return match self.decoder.decode(&mut self.rbuf) {
                Ok(v) => Ok(v),
                Err(e) => Err(self.fail(e, "invalid reply")),
            };
        }
        self.set_read_timeout(timeout)?;
        loop {
            match self.decoder.decode(&mut self.rbuf) {
                Ok(Some(v)) => return Ok(Some(v)),
                Ok(None) => {}
                Err(e) => return Err(self.fail(e, "invalid reply")),
            }
            match self.fill() {
                Ok(()) => {}
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    return Ok(None)
                }
                Err(e) => return Err(self.fail(e.into(), "reading failed")),
            }
        }
    }

    /// Reads one reply, setting aside out-of-band pushes (client tracking, ...): a push
    /// is never a reply, whatever protocol was negotiated.
    fn read_reply(&mut self) -> Result<Value> {
        loop {
            match self.read_frame()? {
                Value::Push(_) => continue,
                Value::ServerError(e) => {
                    self.report_if_replaced(&e);
                    return Ok(Value::ServerError(e));
                }
                v => return Ok(v),
            }
        }
    }

    /// Writes `cmds` as one pipeline, in one write, without waiting for their replies;
    /// [`read_pipeline`](Self::read_pipeline) reads them. This lets a caller write to
    /// several connections before reading from any, so that several servers work at the
    /// same time (a cluster pipeline across nodes); otherwise use
    /// [`ConnectionLike::req_pipeline`].
    ///
    /// Until its replies are read the connection is out of step: any other request on it
    /// fails and breaks it (a reply must never reach the wrong caller). The deadline of
    /// the replies (the response timeout, or longer for blocking commands) starts now.
    /// Use [`ConnectionLike::req_pipeline`] for `MULTI`/`EXEC`: this writes the commands
    /// as given.
    pub fn write_pipeline<'a>(&mut self, cmds: impl IntoIterator<Item = &'a Cmd>) -> Result<()> {
        self.check()?;
        self.safe_point()?;
        let mut block = BlockTime::NotBlocking;
        let mut n = 0;
        let mut wbuf = std::mem::take(&mut self.wbuf);
        for cmd in cmds {
            wbuf.extend_from_slice(cmd.packed());
            block = timing::longest(block, command_table::block_time(cmd));
            self.note_sent(cmd);
            n += 1;
        }
        self.wbuf = wbuf;
        self.start(timing::timeout_for(self.response_timeout, block));
        self.send_wbuf(n)
    }

    /// Reads the replies of the pipeline [`write_pipeline`](Self::write_pipeline) wrote,
    /// in order; error replies stay in the list as [`Value::ServerError`]. With nothing
    /// written, an empty list.
    pub fn read_pipeline(&mut self) -> Result<Vec<Value>> {
        // A failure below breaks the connection: what is left unread never matters.
        let n = std::mem::take(&mut self.unread);
        self.check_usable()?;
        let mut replies = Vec::with_capacity(n);
        while replies.len() < n {
            // A pipeline of writes is answered by runs of `+OK`: each run is taken at once.
            let okays = self.decoder.take_okays(&mut self.rbuf, n - replies.len());
            replies.resize_with(replies.len() + okays, || Value::Okay);
            if replies.len() < n {
                replies.push(self.read_reply()?);
            }
        }
        Ok(replies)
    }

    /// Sends what was encoded into the write buffer in one write, leaves the buffer empty,
    /// and records that `replies` replies are now owed (the deadline is already started).
    fn send_wbuf(&mut self, replies: usize) -> Result<()> {
        let mut wbuf = std::mem::take(&mut self.wbuf);
        let written = self.write_raw(&wbuf);
        wbuf.clear();
        self.wbuf = wbuf;
        written?;
        self.unread = replies;
        Ok(())
    }

    /// A `READONLY` reply means the node is a replica now: a primary this connection's
    /// source named was demoted. The source hears of it at once (a Sentinel source
    /// re-resolves) instead of at its next periodic check; the caller still gets the
    /// error, which proves the command did not run.
    fn report_if_replaced(&self, e: &redis_core::ServerError) {
        if let Some(source) = &self.source {
            if *e.kind() == redis_core::ServerErrorKind::ReadOnly {
                source.failed(&self.addr, &Error::Server(e.clone()));
            }
        }
    }
}

impl Deadline {
    fn timeout(&self) -> Error {
        Error::Timeout {
            what: self.what,
            after: self.limit,
        }
    }
}

fn closed() -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        "the server closed the connection",
    )
}

fn io_error(e: io::Error, what: &'static str, timeout: Option<Duration>) -> Error {
    match (e.kind(), timeout) {
        (io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut, Some(after)) => {
            Error::Timeout { what, after }
        }
        _ => Error::Io(e),
    }
}

impl ConnectionLike for Connection {
    fn req(&mut self, cmd: &Cmd) -> Result<Value> {
        let _span = crate::events::command_span(cmd);
        self.check()?;
        self.safe_point()?;
        self.note_sent(cmd);
        self.start(timing::cmd_timeout(self.response_timeout, cmd));
        self.write_raw(cmd.packed())?;
        self.read_reply()?.into_result()
    }

    fn req_pipeline(&mut self, pipe: &Pipeline) -> Result<Vec<Value>> {
        let _span = crate::events::pipeline_span(pipe);
        self.check()?;
        // Before the whole pipeline, never inside it: an atomic one stays one block.
        self.safe_point()?;
        if self.auth.is_some() {
            pipe.cmds().iter().for_each(|c| self.note_sent(c));
        }
        self.start(timing::pipeline_timeout(self.response_timeout, pipe));
        pipe.write_packed(&mut self.wbuf);
        self.send_wbuf(pipe.expected_replies())?;
        self.read_pipeline()
    }
}
