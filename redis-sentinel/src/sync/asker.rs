//! Talking to the sentinels: discovery driven over blocking connections, and subscriptions.
//!
//! Each sentinel is asked within the sentinel timeout (connect, handshake and each reply),
//! with one attempt, so a dead sentinel costs one timeout and the next one is asked. A
//! connection to a sentinel that answered is kept for the next discovery; one that failed
//! is dropped, and a kept one that turns out dead is replaced once before the sentinel
//! counts as unreachable (it may just have restarted).

use std::sync::Mutex;
use std::time::Duration;

use redis_core::{Addr, Cmd, Config, Result, Target, Value};
use redis_sync::{Client, Connection, ConnectionLike, PubSub};

use crate::discovery::{Discovery, Step};
use crate::replies::EVENT_CHANNELS;
use crate::sentinels::{sentinel_config, SentinelList};

pub(crate) use crate::registry::lock;

/// The sentinels of one [`super::Sentinel`], shared by every client it made.
#[derive(Debug)]
pub(crate) struct Sentinels {
    list: Mutex<SentinelList>,
    config: Config,
    kept: Mutex<Vec<(Addr, Connection)>>,
}

impl Sentinels {
    pub(crate) fn new(list: SentinelList, config: Config, timeout: Duration) -> Sentinels {
        Sentinels {
            list: Mutex::new(list),
            config: sentinel_config(config, timeout),
            kept: Mutex::new(Vec::new()),
        }
    }

    /// The sentinels in the order they are asked now.
    pub(crate) fn list(&self) -> SentinelList {
        lock(&self.list).clone()
    }

    /// Opens a connection to one sentinel (one attempt, bounded by the sentinel timeout).
    fn connect(&self, addr: &Addr) -> Result<Connection> {
        let mut config = self.config.clone();
        config.addr = addr.clone();
        Client::open(config)?.get_connection()
    }

    /// Subscribes to the sentinel events on the sentinel at `addr`.
    pub(crate) fn subscribe(&self, addr: &Addr) -> Result<PubSub> {
        let mut config = self.config.clone();
        config.addr = addr.clone();
        let mut sub = Client::open(config)?.get_pubsub()?;
        sub.subscribe(&EVENT_CHANNELS[..])?;
        Ok(sub)
    }

    /// Runs one discovery to its end (see [`Discovery`]); the sentinel list it leaves
    /// (the one that answered first, the ones learned) becomes the shared list.
    pub(crate) fn discover(&self, discovery: &mut Discovery) -> Result<Target> {
        let mut open = std::mem::take(&mut *lock(&self.kept));
        let mut step = discovery.start();
        let result = loop {
            step = match step {
                Step::Send { sentinel, cmd } => {
                    let reply = self.ask(&mut open, &sentinel, &cmd);
                    discovery.reply(reply)
                }
                Step::Done(target) => break Ok(target),
                Step::Failed(e) => break Err(e),
            };
        };
        *lock(&self.list) = discovery.sentinels().clone();
        let mut kept = lock(&self.kept);
        for (addr, con) in open {
            if !kept.iter().any(|(a, _)| a == &addr) {
                kept.push((addr, con));
            }
        }
        result
    }

    /// Sends `cmd` to the sentinel at `addr`, on a kept connection if there is one (a kept
    /// connection that turns out dead is replaced once).
    fn ask(&self, open: &mut Vec<(Addr, Connection)>, addr: &Addr, cmd: &Cmd) -> Result<Value> {
        if let Some(i) = open.iter().position(|(a, _)| a == addr) {
            let (_, mut con) = open.swap_remove(i);
            match con.req(cmd) {
                Ok(v) => {
                    open.push((addr.clone(), con));
                    return Ok(v);
                }
                Err(e) if e.is_connection_dropped() => {}
                // An error reply leaves the connection usable.
                Err(e) => {
                    if !con.is_broken() {
                        open.push((addr.clone(), con));
                    }
                    return Err(e);
                }
            }
        }
        let mut con = self.connect(addr)?;
        let reply = con.req(cmd);
        if !con.is_broken() {
            open.push((addr.clone(), con));
        }
        reply
    }
}
