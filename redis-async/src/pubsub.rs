//! Pub/sub as a `Stream`, on its own connection.
//!
//! One task owns the subscribed connection. The handle sends it (un)subscribe requests and
//! reads messages from a bounded buffer. Subscribing waits for the server's confirmations,
//! so a message published after `subscribe` returns is never missed.
//!
//! When the subscriber falls behind and the buffer is full, new messages are dropped and
//! counted, and the stream reports `Err(Error::Lagged { dropped })` before the next message
//! it delivers ([`Overflow::Lag`]), or ends with that error ([`Overflow::Fail`]): loss is
//! never silent. With `reconnect: true`, a failed connection is replaced with backoff and
//! every subscription is restored before messages flow again; without it, the stream
//! reports the error and ends.

use std::collections::{BTreeSet, VecDeque};
use std::pin::Pin;
use std::task::{Context, Poll};

use redis_core::{cmd, Cmd, Error, Msg, MsgKind, Result, ToArgs, Value};
use tokio::io::AsyncWriteExt;
use tokio::sync::{mpsc, oneshot};

use crate::client::Client;
use crate::dedicated::DedicatedConnection;

/// What happens when the message buffer is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Overflow {
    /// Drop new messages, count them, and report `Error::Lagged` in the stream.
    #[default]
    Lag,
    /// Report `Error::Lagged` and end the stream.
    Fail,
}

/// Options of a pub/sub connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PubSubOptions {
    /// Messages buffered for a slow reader (default 1024).
    pub buffer: usize,
    /// Overflow policy (default: lag events).
    pub overflow: Overflow,
    /// Reconnect and resubscribe after a connection failure (default: no).
    pub reconnect: bool,
}

impl Default for PubSubOptions {
    fn default() -> Self {
        PubSubOptions {
            buffer: 1024,
            overflow: Overflow::Lag,
            reconnect: false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Channel,
    Pattern,
    Shard,
}

impl Kind {
    fn subscribe(self) -> (&'static str, MsgKind) {
        match self {
            Kind::Channel => ("SUBSCRIBE", MsgKind::Subscribe),
            Kind::Pattern => ("PSUBSCRIBE", MsgKind::PSubscribe),
            Kind::Shard => ("SSUBSCRIBE", MsgKind::SSubscribe),
        }
    }

    fn unsubscribe(self) -> &'static str {
        match self {
            Kind::Channel => "UNSUBSCRIBE",
            Kind::Pattern => "PUNSUBSCRIBE",
            Kind::Shard => "SUNSUBSCRIBE",
        }
    }
}

enum Control {
    Subscribe(Kind, Vec<Vec<u8>>, oneshot::Sender<Result<()>>),
    Unsubscribe(Kind, Vec<Vec<u8>>, oneshot::Sender<Result<()>>),
}

/// A subscribed connection; also a `Stream` of messages.
#[derive(Debug)]
pub struct PubSub {
    control: mpsc::Sender<Control>,
    messages: mpsc::Receiver<Result<Msg>>,
}

impl std::fmt::Debug for Control {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Control")
    }
}

impl PubSub {
    pub(crate) async fn open(client: Client, options: PubSubOptions) -> Result<PubSub> {
        let con = client.get_dedicated_connection().await?;
        let (control_tx, control_rx) = mpsc::channel(16);
        let (msg_tx, msg_rx) = mpsc::channel(options.buffer.max(1));
        let task = Subscriber {
            client,
            options,
            con,
            messages: msg_tx,
            lagged: 0,
            subscribed: [BTreeSet::new(), BTreeSet::new(), BTreeSet::new()],
            pending: VecDeque::new(),
        };
        tokio::spawn(task.run(control_rx));
        Ok(PubSub {
            control: control_tx,
            messages: msg_rx,
        })
    }

    async fn control<T: ToArgs>(&self, kind: Kind, sub: bool, names: T) -> Result<()> {
        let names = names.to_arg_vec();
        let (tx, rx) = oneshot::channel();
        let msg = if sub {
            if names.is_empty() {
                return Err(Error::InvalidRequest("subscribe needs a channel".into()));
            }
            Control::Subscribe(kind, names, tx)
        } else {
            Control::Unsubscribe(kind, names, tx)
        };
        let gone = || Error::Broken("the pub/sub connection is closed".into());
        self.control.send(msg).await.map_err(|_| gone())?;
        rx.await.unwrap_or_else(|_| Err(gone()))
    }

    /// Subscribes to channel(s) and waits until the server confirms each.
    pub async fn subscribe<T: ToArgs>(&mut self, channels: T) -> Result<()> {
        self.control(Kind::Channel, true, channels).await
    }

    /// Subscribes to pattern(s) (`news.*`) and waits for the confirmations.
    pub async fn psubscribe<T: ToArgs>(&mut self, patterns: T) -> Result<()> {
        self.control(Kind::Pattern, true, patterns).await
    }

    /// Subscribes to shard channel(s) and waits for the confirmations.
    pub async fn ssubscribe<T: ToArgs>(&mut self, channels: T) -> Result<()> {
        self.control(Kind::Shard, true, channels).await
    }

    /// Unsubscribes from channel(s); an empty list means all.
    pub async fn unsubscribe<T: ToArgs>(&mut self, channels: T) -> Result<()> {
        self.control(Kind::Channel, false, channels).await
    }

    /// Unsubscribes from pattern(s); an empty list means all.
    pub async fn punsubscribe<T: ToArgs>(&mut self, patterns: T) -> Result<()> {
        self.control(Kind::Pattern, false, patterns).await
    }

    /// Unsubscribes from shard channel(s); an empty list means all.
    pub async fn sunsubscribe<T: ToArgs>(&mut self, channels: T) -> Result<()> {
        self.control(Kind::Shard, false, channels).await
    }

    /// The next message, or `None` once the connection has ended.
    pub async fn next_message(&mut self) -> Option<Result<Msg>> {
        self.messages.recv().await
    }
}

impl futures_core::Stream for PubSub {
    type Item = Result<Msg>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Msg>>> {
        self.get_mut().messages.poll_recv(cx)
    }
}

struct Pending {
    confirm: MsgKind,
    left: usize,
    ack: Option<oneshot::Sender<Result<()>>>,
}

struct Subscriber {
    client: Client,
    options: PubSubOptions,
    con: DedicatedConnection,
    messages: mpsc::Sender<Result<Msg>>,
    lagged: u64,
    subscribed: [BTreeSet<Vec<u8>>; 3],
    pending: VecDeque<Pending>,
}

fn slot(kind: Kind) -> usize {
    kind as usize
}

impl Subscriber {
    async fn run(mut self, mut control: mpsc::Receiver<Control>) {
        loop {
            let event = tokio::select! {
                c = control.recv() => Event::Control(c),
                f = self.con.read_frame() => Event::Frame(f),
            };
            let outcome = match event {
                Event::Control(None) => return, // the handle is gone
                Event::Control(Some(c)) => self.handle_control(c).await,
                Event::Frame(Ok(frame)) => self.handle_frame(frame),
                Event::Frame(Err(e)) => Err(e),
            };
            if let Err(e) = outcome {
                if matches!(e, Error::Lagged { .. }) || !self.options.reconnect {
                    self.fail_pending(&e);
                    let _ = self.messages.send(Err(e)).await;
                    return;
                }
                if !self.reconnect().await {
                    return;
                }
            }
        }
    }

    async fn send(&mut self, c: &Cmd) -> Result<()> {
        Ok(self.con.io.write_all(c.packed()).await?)
    }

    async fn handle_control(&mut self, c: Control) -> Result<()> {
        match c {
            Control::Subscribe(kind, names, ack) => {
                let (name, confirm) = kind.subscribe();
                let mut c = cmd(name);
                for n in &names {
                    c.arg(&n[..]);
                    self.subscribed[slot(kind)].insert(n.clone());
                }
                self.pending.push_back(Pending {
                    confirm,
                    left: names.len(),
                    ack: Some(ack),
                });
                self.send(&c).await
            }
            Control::Unsubscribe(kind, names, ack) => {
                let mut c = cmd(kind.unsubscribe());
                if names.is_empty() {
                    self.subscribed[slot(kind)].clear();
                }
                for n in &names {
                    c.arg(&n[..]);
                    self.subscribed[slot(kind)].remove(n);
                }
                let r = self.send(&c).await;
                let _ = ack.send(match &r {
                    Ok(()) => Ok(()),
                    Err(e) => Err(Error::Broken(e.to_string())),
                });
                r
            }
        }
    }

    fn handle_frame(&mut self, frame: Value) -> Result<()> {
        let frame = match frame {
            Value::ServerError(e) => {
                // A refused (un)subscribe: fail whoever waits first.
                if let Some(p) = self.pending.pop_front() {
                    if let Some(ack) = p.ack {
                        let _ = ack.send(Err(e.into()));
                    }
                }
                return Ok(());
            }
            f => f,
        };
        let Some(msg) = Msg::from_value(frame) else {
            return Ok(());
        };
        if msg.is_message() {
            return self.deliver(msg);
        }
        if let Some(front) = self.pending.front_mut() {
            if msg.kind() == &front.confirm {
                front.left = front.left.saturating_sub(1);
                if front.left == 0 {
                    if let Some(done) = self.pending.pop_front() {
                        if let Some(ack) = done.ack {
                            let _ = ack.send(Ok(()));
                        }
                    }
                }
            }
        }
        Ok(())
    }

    fn deliver(&mut self, msg: Msg) -> Result<()> {
        if self.lagged > 0 {
            match self.messages.try_send(Err(Error::Lagged {
                dropped: self.lagged,
            })) {
                Ok(()) => self.lagged = 0,
                Err(_) => {
                    self.lagged += 1;
                    return Ok(());
                }
            }
        }
        match self.messages.try_send(Ok(msg)) {
            Ok(()) => Ok(()),
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.lagged += 1;
                match self.options.overflow {
                    Overflow::Lag => Ok(()),
                    Overflow::Fail => Err(Error::Lagged {
                        dropped: self.lagged,
                    }),
                }
            }
            Err(mpsc::error::TrySendError::Closed(_)) => Ok(()),
        }
    }

    fn fail_pending(&mut self, e: &Error) {
        for p in self.pending.drain(..) {
            if let Some(ack) = p.ack {
                let _ = ack.send(Err(Error::Broken(e.to_string())));
            }
        }
    }

    /// Replaces the connection and restores every subscription. Waiting (un)subscribe
    /// calls are answered when the restored subscriptions are confirmed.
    async fn reconnect(&mut self) -> bool {
        let acks: Vec<_> = self.pending.drain(..).filter_map(|p| p.ack).collect();
        loop {
            if self.messages.is_closed() {
                return false;
            }
            let con = match self.client.get_dedicated_connection().await {
                Ok(c) => c,
                Err(_) => {
                    // get_dedicated_connection already backed off through its retries;
                    // pause once more so a server that stays down is not hammered.
                    tokio::time::sleep(self.client.config().connect_backoff.cap).await;
                    continue;
                }
            };
            self.con = con;
            let mut ok = true;
            for kind in [Kind::Channel, Kind::Pattern, Kind::Shard] {
                let names: Vec<Vec<u8>> = self.subscribed[slot(kind)].iter().cloned().collect();
                if names.is_empty() {
                    continue;
                }
                let (name, confirm) = kind.subscribe();
                let mut c = cmd(name);
                for n in &names {
                    c.arg(&n[..]);
                }
                self.pending.push_back(Pending {
                    confirm,
                    left: names.len(),
                    ack: None,
                });
                if self.send(&c).await.is_err() {
                    ok = false;
                    break;
                }
            }
            if ok {
                // Answer the callers that were waiting once the last restore is confirmed.
                let mut acks = acks;
                match self.pending.back_mut() {
                    Some(last) => {
                        let (first, rest) = (acks.pop(), acks);
                        last.ack = first;
                        for ack in rest {
                            let _ = ack.send(Ok(()));
                        }
                    }
                    None => {
                        for ack in acks {
                            let _ = ack.send(Ok(()));
                        }
                    }
                }
                return true;
            }
            self.pending.clear();
        }
    }
}

enum Event {
    Control(Option<Control>),
    Frame(Result<Value>),
}
