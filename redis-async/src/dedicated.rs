//! A connection used by one caller at a time: for the handshake, WATCH transactions and
//! blocking commands, whose state or waiting must not be shared with other callers.
//!
//! Requests run inline on the caller's task (no driver task), so a sequential caller pays
//! no hand-off. Dropping a request's future half-way would leave its reply on the wire;
//! the connection notices on its next use and refuses it (`Error::Broken`), exactly as a
//! blocking connection does after a timeout.

use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use redis_core::abort::{AbortGuard, AbortHandle};
use redis_core::command_table::{self, BlockTime};
use redis_core::credentials::AuthWatch;
use redis_core::resp::Decoder;
use redis_core::{Addr, Cmd, ConnectionEvent, Error, Pipeline, Protocol, Result, Target, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::api::ConnectionLike;
use crate::events::Hooks;
use crate::source::{report_if_replaced, ConnectionSource};
use crate::stream::Stream;

/// Room made before a read when a reply needs no more (a large one gets what it needs):
/// reading walks forward through the buffer until a reserve moves what is left to its
/// front, and every page walked stays in memory, so short replies keep to a page or two.
/// The multiplexed driver takes the buffer over with the connection.
const READ_CHUNK: usize = 4 * 1024;

/// A non-shared async connection.
pub struct DedicatedConnection {
    /// Before `io`, so the abort registry lets go of its duplicate socket first.
    pub(crate) abort: AbortGuard,
    pub(crate) abort_handle: AbortHandle,
    pub(crate) io: Stream,
    pub(crate) rbuf: BytesMut,
    pub(crate) decoder: Decoder,
    wbuf: Vec<u8>,
    broken: Option<String>,
    busy: bool,
    pub(crate) response_timeout: Duration,
    pub(crate) protocol: Protocol,
    pub(crate) addr: Addr,
    /// What the connection authenticated with, when its credentials rotate.
    pub(crate) auth: Option<AuthWatch>,
    pub(crate) hooks: Hooks,
    /// The source this connection came from, told of `READONLY` replies (`None`: not
    /// from a source, or still in its handshake).
    source: Option<Arc<dyn ConnectionSource>>,
}

impl std::fmt::Debug for DedicatedConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DedicatedConnection")
            .field("protocol", &self.protocol)
            .field("broken", &self.broken)
            .finish()
    }
}

redis_core::handshake_template!(maybe_async::must_be_async(AFIT));

impl DedicatedConnection {
    /// Opens the socket, runs the handshake and the target's checks (`READONLY`, `ROLE`),
    /// all within `connect_timeout`; a node that fails them is closed, never handed out.
    pub(crate) async fn open(target: &Target, hooks: Hooks) -> Result<DedicatedConnection> {
        let limit = target.config.connect_timeout;
        match tokio::time::timeout(limit, DedicatedConnection::open_within(target, hooks)).await {
            Ok(r) => r,
            Err(_) => Err(Error::Timeout {
                what: "connect and handshake",
                after: limit,
            }),
        }
    }

    async fn open_within(target: &Target, hooks: Hooks) -> Result<DedicatedConnection> {
        let config = &target.config;
        // Before the handshake asks for credentials: a rotation during it is seen later.
        let auth = AuthWatch::new(&config.credentials);
        let io = Stream::connect(config).await?;
        let (abort, abort_handle) = io.register_abort(&config.addr);
        let mut con = DedicatedConnection {
            abort,
            abort_handle,
            io,
            rbuf: BytesMut::with_capacity(READ_CHUNK),
            decoder: Decoder::new(config.decoder_limits),
            wbuf: Vec::new(),
            broken: None,
            busy: false,
            response_timeout: config.connect_timeout,
            protocol: config.protocol,
            addr: config.addr.clone(),
            auth: None,
            hooks,
            source: None,
        };
        con.protocol = handshake(&mut con, target).await?;
        con.auth = auth;
        con.response_timeout = config.response_timeout;
        con.hooks.emit(ConnectionEvent::HandshakeDone {
            addr: con.addr.clone(),
            protocol: con.protocol,
        });
        Ok(con)
    }

    /// Before a request (nothing in flight, not inside `MULTI`): re-authenticates when
    /// the credentials rotated (one atomic load when they did not). The rare
    /// re-authentication is boxed, so it does not grow every request's future.
    async fn safe_point(&mut self) -> Result<()> {
        if self.auth.as_ref().is_some_and(AuthWatch::should_look) {
            Box::pin(self.reauthenticate()).await?;
        }
        Ok(())
    }

    async fn reauthenticate(&mut self) -> Result<()> {
        let Some(auth) = self.take_auth_due() else {
            return Ok(());
        };
        let reply = self.run(auth.packed(), 1, BlockTime::NotBlocking).await?;
        if let Some(v) = reply.first() {
            self.hooks.auth_replied(&self.addr, v);
        }
        Ok(())
    }

    /// The `AUTH` due after a credentials rotation, if any (outside `MULTI`); reports a
    /// provider failure on the way.
    pub(crate) fn take_auth_due(&mut self) -> Option<Cmd> {
        match &mut self.auth {
            Some(a) if a.should_look() => self.hooks.take_auth_due(a, &self.addr),
            _ => None,
        }
    }

    /// The address this connection is connected to.
    pub fn addr(&self) -> &Addr {
        &self.addr
    }

    /// True when an earlier failure or cancellation left the connection out of step, or
    /// it was aborted.
    pub fn is_broken(&self) -> bool {
        self.broken.is_some() || self.busy || self.abort.is_aborted()
    }

    /// A handle that ends this connection from any task or thread (see
    /// [`AbortHandle`](redis_core::abort::AbortHandle)).
    pub fn abort_handle(&self) -> AbortHandle {
        self.abort_handle.clone()
    }

    /// The protocol the handshake settled on.
    pub fn protocol(&self) -> Protocol {
        self.protocol
    }

    /// Changes the default limit on waiting for a reply.
    pub fn set_response_timeout(&mut self, t: Duration) {
        self.response_timeout = t;
    }

    fn begin(&mut self) -> Result<()> {
        if self.broken.is_none() && self.abort.is_aborted() {
            let cause = self.abort.cause().unwrap_or_default();
            self.broken = Some(format!("aborted: {cause}"));
        }
        if self.busy && self.broken.is_none() {
            self.broken = Some("a request was cancelled before its reply was read".into());
        }
        if let Some(why) = &self.broken {
            return Err(Error::Broken(why.clone()));
        }
        self.busy = true;
        Ok(())
    }

    fn fail(&mut self, e: Error, when: &str) -> Error {
        // Aborted from outside (the node was replaced) while a request was out.
        let e = match self.abort.error() {
            Some(aborted) if self.busy => aborted,
            _ => e,
        };
        if self.broken.is_none() {
            self.broken = Some(format!("{when}: {e}"));
        }
        e
    }

    /// Reads one frame (reply or push).
    pub(crate) async fn read_frame(&mut self) -> Result<Value> {
        loop {
            if let Some(v) = self.decoder.decode(&mut self.rbuf)? {
                return Ok(v);
            }
            let want = self.decoder.read_room(self.rbuf.len()).max(READ_CHUNK);
            self.rbuf.reserve(want);
            if self.io.read_buf(&mut self.rbuf).await? == 0 {
                return Err(Error::Io(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "the server closed the connection",
                )));
            }
        }
    }

    /// Reads the next reply. A push frame (`>`) is never a reply, whatever protocol the
    /// handshake chose: the user may have sent `HELLO 3` and `CLIENT TRACKING ON` on this
    /// connection, and an invalidation may come before any reply.
    async fn read_reply(&mut self) -> Result<Value> {
        loop {
            match self.read_frame().await? {
                // Never a reply, whatever protocol was negotiated (the user may have sent
                // HELLO 3 and CLIENT TRACKING ON on this connection).
                Value::Push(_) => continue,
                Value::ServerError(e) => {
                    if let Some(source) = &self.source {
                        report_if_replaced(&**source, &self.addr, &e);
                    }
                    return Ok(Value::ServerError(e));
                }
                v => return Ok(v),
            }
        }
    }

    /// Ties the connection to the source it came from: `READONLY` replies are reported to
    /// `source.failed` (the node was demoted), as the multiplexed connection does.
    pub(crate) fn set_source(&mut self, source: Arc<dyn ConnectionSource>) {
        self.source = Some(source);
    }

    async fn exchange(&mut self, bytes: &[u8], replies: usize) -> Result<Vec<Value>> {
        self.io.write_all(bytes).await?;
        let mut out = Vec::with_capacity(replies);
        for _ in 0..replies {
            out.push(self.read_reply().await?);
        }
        Ok(out)
    }

    async fn run(&mut self, bytes: &[u8], replies: usize, block: BlockTime) -> Result<Vec<Value>> {
        self.begin()?;

        let result = match timeout_for(self.response_timeout, block) {
            Some(t) => match tokio::time::timeout(t, self.exchange(bytes, replies)).await {
                Ok(r) => r,
                Err(_) => Err(Error::Timeout {
                    what: "response",
                    after: t,
                }),
            },
            None => self.exchange(bytes, replies).await,
        };
        match result {
            Ok(v) => {
                self.busy = false;
                Ok(v)
            }
            Err(e) => Err(self.fail(e, "request failed")),
        }
    }
}

// The limits both clients share (the multiplexed connection imports them from here).
pub(crate) use redis_core::timing::{pipeline_block_time as pipeline_block, timeout_for};

impl ConnectionLike for DedicatedConnection {
    async fn req(&mut self, cmd: &Cmd) -> Result<Value> {
        let span = crate::events::command_span(cmd);
        crate::events::in_span(span, async move {
            self.safe_point().await?;
            if let Some(a) = &mut self.auth {
                a.note_sent(cmd);
            }
            let block = command_table::block_time(cmd);
            let mut v = self.run(cmd.packed(), 1, block).await?;
            v.pop().unwrap_or(Value::Nil).into_result()
        })
        .await
    }

    async fn req_pipeline(&mut self, pipe: &Pipeline) -> Result<Vec<Value>> {
        let span = crate::events::pipeline_span(pipe);
        crate::events::in_span(span, async move {
            self.safe_point().await?;
            if let Some(a) = &mut self.auth {
                pipe.cmds().iter().for_each(|c| a.note_sent(c));
            }
            let mut wbuf = std::mem::take(&mut self.wbuf);
            wbuf.clear();
            pipe.write_packed(&mut wbuf);
            let r = self
                .run(&wbuf, pipe.expected_replies(), pipeline_block(pipe))
                .await;
            self.wbuf = wbuf;
            r
        })
        .await
    }
}
