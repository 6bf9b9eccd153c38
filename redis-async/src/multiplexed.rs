//! The multiplexed connection: one socket shared by any number of tasks.
//!
//! One driver task owns the socket. Callers hand it requests through a bounded channel
//! (which pushes back when full) and wait on a oneshot for their replies. The driver
//! writes every request it finds waiting in one `write_all` (auto-pipelining) and matches
//! replies to requests in order.
//!
//! Cancellation safety comes from that shape: a caller that drops its future (timeout,
//! `select!`, abort) only drops its oneshot receiver. If the request was not written yet,
//! the driver sees the closed oneshot and never sends it; if it was written, the driver
//! still reads its reply in turn and throws it away. No reply can reach another caller,
//! because replies are only ever matched to the slot at the front of the in-flight queue.
//!
//! When the socket fails, every written request gets an error saying it may have executed,
//! every unwritten one gets `Error::Broken` (never sent, safe to retry), and the handle is
//! dead; [`crate::ManagedConnection`] replaces it.

use std::collections::VecDeque;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use redis_core::command_table::{self, BlockTime};
use redis_core::resp::Decoder;
use redis_core::{Cmd, Config, Error, Pipeline, Protocol, Result, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot};

use crate::api::ConnectionLike;
use crate::dedicated::{pipeline_block, timeout_for, DedicatedConnection};
use crate::stream::Stream;

/// Requests bigger than this are written on their own instead of being copied into the
/// batch buffer.
const BIG_REQUEST: usize = 64 * 1024;

type Reply = Result<Replies>;

/// The replies of one request: a single command's reply travels without a `Vec`.
enum Replies {
    One(Value),
    Many(Vec<Value>),
}

impl Replies {
    fn into_vec(self) -> Vec<Value> {
        match self {
            Replies::One(v) => vec![v],
            Replies::Many(v) => v,
        }
    }
}

struct Request {
    bytes: Bytes,
    replies: usize,
    tx: oneshot::Sender<Reply>,
}

struct InFlight {
    left: usize,
    values: Vec<Value>,
    tx: oneshot::Sender<Reply>,
}

/// A cheap-to-clone handle to a shared connection (`Send + Sync`).
#[derive(Clone)]
pub struct Connection {
    tx: mpsc::Sender<Request>,
    dead: Arc<AtomicBool>,
    response_timeout: Duration,
    protocol: Protocol,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("protocol", &self.protocol)
            .field("dead", &self.is_dead())
            .finish()
    }
}

impl Connection {
    /// Opens a connection (handshake included) and starts its driver task on the current
    /// tokio runtime. `queue` bounds the requests waiting to be written.
    pub(crate) async fn open(config: &Config, queue: usize) -> Result<Connection> {
        let con = DedicatedConnection::open(config).await?;
        let (tx, rx) = mpsc::channel(queue.max(1));
        let dead = Arc::new(AtomicBool::new(false));
        let driver = Driver {
            io: con.io,
            rbuf: con.rbuf,
            decoder: con.decoder,
            protocol: con.protocol,
            inflight: VecDeque::new(),
            wbuf: Vec::with_capacity(16 * 1024),
            big: Vec::new(),
            dead: dead.clone(),
        };
        tokio::spawn(driver.run(rx));
        Ok(Connection {
            tx,
            dead,
            response_timeout: config.response_timeout,
            protocol: con.protocol,
        })
    }

    /// True once the socket has failed or closed; every request will fail.
    pub fn is_dead(&self) -> bool {
        self.dead.load(Ordering::Acquire)
    }

    /// The protocol the handshake settled on.
    pub fn protocol(&self) -> Protocol {
        self.protocol
    }

    /// Changes this handle's default limit on waiting for a reply.
    pub fn set_response_timeout(&mut self, t: Duration) {
        self.response_timeout = t;
    }

    async fn send(&self, bytes: Bytes, replies: usize, block: BlockTime) -> Reply {
        let (tx, rx) = oneshot::channel();
        let exchange = async {
            self.tx
                .send(Request { bytes, replies, tx })
                .await
                .map_err(|_| not_sent())?;
            rx.await.unwrap_or_else(|_| Err(not_sent()))
        };
        match timeout_for(self.response_timeout, block) {
            Some(t) => tokio::time::timeout(t, exchange)
                .await
                .unwrap_or(Err(Error::Timeout {
                    what: "response",
                    after: t,
                })),
            None => exchange.await,
        }
    }
}

impl Connection {
    async fn send_one(&self, bytes: Bytes, block: BlockTime) -> Result<Value> {
        match self.send(bytes, 1, block).await? {
            Replies::One(v) => v.into_result(),
            Replies::Many(mut v) => v.pop().unwrap_or(Value::Nil).into_result(),
        }
    }
}

fn not_sent() -> Error {
    Error::Broken("the connection is closed; the request was not sent".into())
}

/// Commands that change what the server sends back on the socket (subscribed mode,
/// MONITOR, CLIENT REPLY OFF) would desynchronize every other caller of a shared socket.
fn check_shareable(cmd: &Cmd) -> Result<()> {
    let name = cmd.arg_at(0).unwrap_or_default();
    const REFUSED: [&[u8]; 7] = [
        b"SUBSCRIBE",
        b"PSUBSCRIBE",
        b"SSUBSCRIBE",
        b"UNSUBSCRIBE",
        b"PUNSUBSCRIBE",
        b"SUNSUBSCRIBE",
        b"MONITOR",
    ];
    let refused = REFUSED.iter().any(|r| name.eq_ignore_ascii_case(r))
        || (name.eq_ignore_ascii_case(b"CLIENT")
            && cmd
                .arg_at(1)
                .is_some_and(|s| s.eq_ignore_ascii_case(b"REPLY")));
    if refused {
        return Err(Error::InvalidRequest(format!(
            "{} cannot run on a shared connection; use get_pubsub() or a dedicated connection",
            cmd.name()
        )));
    }
    Ok(())
}

impl ConnectionLike for Connection {
    async fn req(&mut self, cmd: &Cmd) -> Result<Value> {
        check_shareable(cmd)?;
        let block = command_table::block_time(cmd);
        self.send_one(Bytes::copy_from_slice(cmd.packed()), block)
            .await
    }

    async fn req_owned(&mut self, cmd: Cmd) -> Result<Value> {
        check_shareable(&cmd)?;
        let block = command_table::block_time(&cmd);
        self.send_one(cmd.into_packed(), block).await
    }

    async fn req_pipeline(&mut self, pipe: &Pipeline) -> Result<Vec<Value>> {
        pipe.cmds().iter().try_for_each(check_shareable)?;
        self.send(
            Bytes::from(pipe.packed()),
            pipe.expected_replies(),
            pipeline_block(pipe),
        )
        .await
        .map(Replies::into_vec)
    }
}

struct Driver {
    io: Stream,
    rbuf: BytesMut,
    decoder: Decoder,
    protocol: Protocol,
    inflight: VecDeque<InFlight>,
    wbuf: Vec<u8>,
    /// Large requests of the current batch, with their position in `wbuf`.
    big: Vec<(usize, Bytes)>,
    dead: Arc<AtomicBool>,
}

impl Driver {
    async fn run(mut self, mut rx: mpsc::Receiver<Request>) {
        let mut handles_gone = false;
        let failure = loop {
            if handles_gone && self.inflight.is_empty() {
                break None;
            }
            // Reserve only when short of room: right after a large reply was handed out,
            // its caller still shares this buffer, and an eager reserve would allocate.
            let want = self.decoder.read_room(self.rbuf.len());
            if self.rbuf.capacity() - self.rbuf.len() < want.max(4096) {
                self.rbuf.reserve(want.max(16 * 1024));
            }
            tokio::select! {
                biased;
                read = self.io.read_buf(&mut self.rbuf) => {
                    match read {
                        Ok(0) => break Some(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            "the server closed the connection",
                        ).into()),
                        Ok(_) => {
                            if let Err(e) = self.dispatch() {
                                break Some(e);
                            }
                        }
                        Err(e) => break Some(e.into()),
                    }
                }
                req = rx.recv(), if !handles_gone => {
                    match req {
                        Some(first) => {
                            let busy = !self.inflight.is_empty();
                            self.stage(first);
                            // Everything else already waiting goes in the same write.
                            self.drain(&mut rx);
                            if busy {
                                // Other callers are active: let them queue their requests
                                // first, so one write carries more of them. A lone
                                // sequential caller never pays for this.
                                tokio::task::yield_now().await;
                                self.drain(&mut rx);
                            }
                            if let Err(e) = self.flush().await {
                                break Some(e.into());
                            }
                        }
                        None => handles_gone = true,
                    }
                }
            }
        };
        self.dead.store(true, Ordering::Release);
        let _ = self.io.shutdown().await;
        if let Some(e) = failure {
            let (kind, text) = match &e {
                Error::Io(io) => (io.kind(), io.to_string()),
                other => (io::ErrorKind::Other, other.to_string()),
            };
            for slot in self.inflight.drain(..) {
                let err = Error::Io(io::Error::new(kind, text.clone()));
                let _ = slot.tx.send(Err(Error::MayHaveExecuted(Box::new(err))));
            }
        }
        rx.close();
        while let Ok(req) = rx.try_recv() {
            let _ = req.tx.send(Err(not_sent()));
        }
    }

    /// Stages every request already waiting, up to about 1 MiB of bytes.
    fn drain(&mut self, rx: &mut mpsc::Receiver<Request>) {
        while self.wbuf.len() < 1 << 20 {
            match rx.try_recv() {
                Ok(more) => self.stage(more),
                Err(_) => break,
            }
        }
    }

    /// Queues a request for the next write, unless its caller is already gone.
    fn stage(&mut self, req: Request) {
        if req.tx.is_closed() {
            return; // cancelled before it was written: it never runs
        }
        if req.replies == 0 {
            let _ = req.tx.send(Ok(Replies::Many(Vec::new())));
            return;
        }
        if req.bytes.len() >= BIG_REQUEST {
            self.inflight.push_back(InFlight {
                left: req.replies,
                values: Vec::with_capacity(req.replies.min(1024)),
                tx: req.tx,
            });
            self.big.push((self.wbuf.len(), req.bytes));
            return;
        }
        self.wbuf.extend_from_slice(&req.bytes);
        self.inflight.push_back(InFlight {
            left: req.replies,
            values: if req.replies == 1 {
                Vec::new()
            } else {
                Vec::with_capacity(req.replies.min(1024))
            },
            tx: req.tx,
        });
    }

    /// Writes the batch: small requests from one buffer, large ones from their own.
    async fn flush(&mut self) -> io::Result<()> {
        let mut from = 0;
        for (at, bytes) in std::mem::take(&mut self.big) {
            if at > from {
                self.io.write_all(&self.wbuf[from..at]).await?;
            }
            self.io.write_all(&bytes).await?;
            from = at;
        }
        if self.wbuf.len() > from {
            self.io.write_all(&self.wbuf[from..]).await?;
        }
        self.wbuf.clear();
        self.io.flush().await
    }

    /// Hands every complete reply to the request at the front of the queue.
    fn dispatch(&mut self) -> Result<()> {
        while let Some(v) = self.decoder.decode(&mut self.rbuf)? {
            if matches!(v, Value::Push(_)) && self.protocol == Protocol::Resp3 {
                continue; // out-of-band (client tracking): not a reply; pub/sub has its own connection
            }
            let Some(front) = self.inflight.front_mut() else {
                return Err(Error::protocol("the server sent a reply nobody asked for"));
            };
            front.left -= 1;
            if front.left == 0 && front.values.is_empty() {
                // A single command's reply: no Vec at all.
                if let Some(done) = self.inflight.pop_front() {
                    // The caller may be gone (cancelled): its reply is dropped here.
                    let _ = done.tx.send(Ok(Replies::One(v)));
                }
                continue;
            }
            front.values.push(v);
            if front.left == 0 {
                if let Some(done) = self.inflight.pop_front() {
                    let _ = done.tx.send(Ok(Replies::Many(done.values)));
                }
            }
        }
        Ok(())
    }
}
