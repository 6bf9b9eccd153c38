//! Primary and replica discovery as a sans-IO step machine.
//!
//! Discovery asks the sentinels in turn until one names the node: a sentinel that is
//! unreachable, times out, answers with an error or garbage, or does not know the service
//! is skipped, and why is remembered for the error if none helps. The first that answers
//! moves to the front of the [`SentinelList`], and is then asked for the other sentinels
//! (`SENTINEL SENTINELS`, best effort) so the list follows the deployment. The result is a
//! [`Target`] that checks with `ROLE` that the node is what the sentinel said.
//!
//! The machine does no I/O: each shell connects to [`Step::Send`]'s sentinel with the
//! sentinel config (its own auth and TLS, bounded by its timeouts), sends the command and
//! feeds the reply, or the error it met, back to [`Discovery::reply`]. Blocking and async
//! clients drive the same machine with a short loop, and the tests drive it with scripted
//! replies.

use redis_core::routing::{Choice, NodeStats, ReadFrom};
use redis_core::{
    Addr, Cmd, Config, Error, Result, Role, SentinelAttempt, SentinelErrorKind, ServerErrorKind,
    Target, Value,
};

use crate::replicas::usable_replicas;
use crate::replies::{
    master_addr_cmd, parse_instances, parse_master_addr, replicas_cmd, sentinels_cmd,
};
use crate::sentinels::SentinelList;

/// What the shell does next.
// One step per round trip to a sentinel: its size does not matter, and an unboxed
// `Done(Target)` is plainer for the shells to match.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Step {
    /// Send `cmd` to the sentinel at `sentinel` (connecting first if needed) and pass the
    /// reply, or the connect/handshake/timeout error, to [`Discovery::reply`].
    Send {
        /// The sentinel to ask.
        sentinel: Addr,
        /// The command to send it.
        cmd: Cmd,
    },
    /// Discovery is over: connect here (the target checks `ROLE` after the handshake).
    /// Store [`Discovery::sentinels`] back: its order and members may have changed.
    Done(Target),
    /// Discovery failed; the error says why for each sentinel tried.
    Failed(Error),
}

/// How [`Discovery::replica`] picks among the usable replicas.
#[derive(Clone, Debug, Default)]
pub struct ReplicaChoice {
    /// The read routing policy (the same type as redis-cluster's).
    pub read_from: ReadFrom,
    /// Grows by one per request (round robin).
    pub counter: u64,
    /// A fresh random number (random choice).
    pub random: u64,
    /// What the shell knows about nodes (health, latency); nodes not listed count as
    /// healthy and not measured.
    pub stats: Vec<(Addr, NodeStats)>,
}

impl ReplicaChoice {
    fn stats_of(&self, addr: &Addr) -> NodeStats {
        self.stats
            .iter()
            .find(|(a, _)| a == addr)
            .map(|(_, s)| *s)
            .unwrap_or_default()
    }
}

#[derive(Debug)]
enum Phase {
    /// Asking the sentinel at `pos` for the primary's address.
    AskPrimary,
    /// The sentinel at `pos` named `primary`; asking it for the replicas.
    AskReplicas { primary: Addr },
    /// Found `target`; asking the sentinel that answered for the other sentinels.
    Learn { target: Box<Target> },
    /// Done or failed: any further reply is a misuse.
    Over,
}

/// One discovery of a service's primary or of a replica to read from.
#[derive(Debug)]
pub struct Discovery {
    service: String,
    base: Config,
    list: SentinelList,
    replica: Option<ReplicaChoice>,
    learn: bool,
    pos: usize,
    phase: Phase,
    tried: Vec<SentinelAttempt>,
    unknown: usize,
    auth_failures: usize,
    usable: Vec<Addr>,
}

impl Discovery {
    /// Finds the primary of `service`, asking the sentinels of `list` in order. The target
    /// is `base` with the primary's address (TLS if `base` uses TLS), checked to be a
    /// primary with `ROLE`.
    pub fn primary(service: &str, base: &Config, list: SentinelList) -> Discovery {
        Discovery::new(service, base, list, None)
    }

    /// Picks a node to read from: asks for the primary and then the replicas of `service`,
    /// keeps the usable ones ([`crate::replicas`]), and lets `choice.read_from` choose. The
    /// target is checked with `ROLE` to be a replica (or the primary, when the policy falls
    /// back to it). [`ReadFrom::Replica`] with no usable replica fails with
    /// [`SentinelErrorKind::NoUsableReplica`].
    pub fn replica(
        service: &str,
        base: &Config,
        list: SentinelList,
        choice: ReplicaChoice,
    ) -> Discovery {
        Discovery::new(service, base, list, Some(choice))
    }

    fn new(
        service: &str,
        base: &Config,
        list: SentinelList,
        replica: Option<ReplicaChoice>,
    ) -> Discovery {
        Discovery {
            service: service.to_owned(),
            base: base.clone(),
            list,
            replica,
            learn: true,
            pos: 0,
            phase: Phase::AskPrimary,
            tried: Vec::new(),
            unknown: 0,
            auth_failures: 0,
            usable: Vec::new(),
        }
    }

    /// Whether to ask the sentinel that answered for the others (`SENTINEL SENTINELS`)
    /// before finishing; on by default.
    pub fn with_learning(mut self, learn: bool) -> Discovery {
        self.learn = learn;
        self
    }

    /// The sentinel list, with the one that answered at the front and the sentinels it
    /// named added, once discovery is done.
    pub fn sentinels(&self) -> &SentinelList {
        &self.list
    }

    /// The sentinels tried so far and why each did not help.
    pub fn tried(&self) -> &[SentinelAttempt] {
        &self.tried
    }

    /// The usable replicas the answering sentinel listed (replica discovery only; empty
    /// before that or when there is none), so a shell can keep the whole list and choose
    /// again without asking (`follow::ReplicaSet`).
    pub fn replicas(&self) -> &[Addr] {
        &self.usable
    }

    /// The first step: ask the first sentinel.
    pub fn start(&mut self) -> Step {
        if self.list.is_empty() {
            self.phase = Phase::Over;
            return Step::Failed(Error::InvalidConfig(
                "no sentinel address configured".to_owned(),
            ));
        }
        self.pos = 0;
        self.phase = Phase::AskPrimary;
        self.ask_primary()
    }

    /// The reply to the last [`Step::Send`], or the error met getting it (connect refused,
    /// handshake refused, timeout, ...).
    pub fn reply(&mut self, reply: Result<Value>) -> Step {
        let reply = reply.and_then(Value::into_result);
        match std::mem::replace(&mut self.phase, Phase::Over) {
            Phase::AskPrimary => self.on_primary(reply),
            Phase::AskReplicas { primary } => self.on_replicas(primary, reply),
            Phase::Learn { target } => {
                if let Ok(v) = reply {
                    self.on_sentinels(&v);
                }
                Step::Done(*target)
            }
            Phase::Over => Step::Failed(Error::InvalidRequest(
                "sentinel discovery is already over".to_owned(),
            )),
        }
    }

    fn sentinel(&self) -> Addr {
        self.list.order()[self.pos].clone()
    }

    fn nodes_tls(&self) -> bool {
        matches!(self.base.addr, Addr::Tls { .. })
    }

    fn ask_primary(&mut self) -> Step {
        self.phase = Phase::AskPrimary;
        Step::Send {
            sentinel: self.sentinel(),
            cmd: master_addr_cmd(&self.service),
        }
    }

    fn on_primary(&mut self, reply: Result<Value>) -> Step {
        let asked = self.sentinel();
        let found = reply.and_then(|v| parse_master_addr(&v, &asked, self.nodes_tls()));
        match found {
            Err(e) => self.skip(e),
            Ok(None) => {
                self.unknown += 1;
                self.record("does not monitor this service".to_owned());
                self.next_sentinel()
            }
            Ok(Some(primary)) if self.replica.is_none() => {
                let target = Target::resolved(&self.base, primary, Role::Primary);
                self.found(target)
            }
            Ok(Some(primary)) => {
                self.phase = Phase::AskReplicas { primary };
                Step::Send {
                    sentinel: asked,
                    cmd: replicas_cmd(&self.service),
                }
            }
        }
    }

    fn on_replicas(&mut self, primary: Addr, reply: Result<Value>) -> Step {
        let asked = self.sentinel();
        let tls = self.nodes_tls();
        let replicas = reply
            .and_then(|v| parse_instances(&v))
            .and_then(|list| usable_replicas(&list, &asked, tls));
        let replicas = match replicas {
            Ok(r) => r,
            Err(e) => return self.skip(e),
        };
        self.usable = replicas.clone();
        let Some(choice) = &self.replica else {
            return self.skip(Error::InvalidRequest("no replica choice".to_owned()));
        };
        let stats: Vec<NodeStats> = replicas.iter().map(|a| choice.stats_of(a)).collect();
        let picked = choice.read_from.choose(
            false,
            &choice.stats_of(&primary),
            &stats,
            choice.counter,
            choice.random,
        );
        let target = match picked {
            Some(Choice::Replica(i)) if i < replicas.len() => {
                Target::resolved(&self.base, replicas[i].clone(), Role::Replica)
            }
            Some(_) => Target::resolved(&self.base, primary, Role::Primary),
            None => {
                // This sentinel answered: it still moves to the front.
                self.list.answered(self.pos);
                self.phase = Phase::Over;
                return Step::Failed(Error::Sentinel(SentinelErrorKind::NoUsableReplica {
                    service: self.service.clone(),
                }));
            }
        };
        self.found(target)
    }

    /// A node was found by the sentinel at `pos`.
    fn found(&mut self, target: Target) -> Step {
        let asked = self.sentinel();
        self.list.answered(self.pos);
        self.pos = 0;
        if !self.learn {
            self.phase = Phase::Over;
            return Step::Done(target);
        }
        self.phase = Phase::Learn {
            target: Box::new(target),
        };
        Step::Send {
            sentinel: asked,
            cmd: sentinels_cmd(&self.service),
        }
    }

    /// Adds the sentinels named in a `SENTINEL SENTINELS` reply (best effort: a bad reply
    /// or entry is ignored, discovery already succeeded).
    fn on_sentinels(&mut self, reply: &Value) {
        let asked = self.list.order()[0].clone();
        let tls = matches!(asked, Addr::Tls { .. });
        if let Ok(instances) = parse_instances(reply) {
            let addrs: Vec<Addr> = instances
                .iter()
                .filter_map(|i| i.addr(&asked, tls).ok().flatten())
                .collect();
            self.list.learned(0, addrs);
        }
    }

    fn skip(&mut self, e: Error) -> Step {
        if matches!(
            e.server_kind(),
            Some(ServerErrorKind::WrongPass | ServerErrorKind::NoAuth | ServerErrorKind::NoPerm)
        ) {
            self.auth_failures += 1;
        }
        self.record(e.to_string());
        self.next_sentinel()
    }

    fn record(&mut self, reason: String) {
        self.tried.push(SentinelAttempt {
            sentinel: self.sentinel().to_string(),
            reason,
        });
    }

    fn next_sentinel(&mut self) -> Step {
        self.pos += 1;
        if self.pos < self.list.len() {
            return self.ask_primary();
        }
        self.phase = Phase::Over;
        let service = self.service.clone();
        let tried = self.tried.clone();
        let n = tried.len();
        Step::Failed(Error::Sentinel(if self.unknown == n {
            SentinelErrorKind::UnknownService { service }
        } else if self.auth_failures == n {
            SentinelErrorKind::AuthFailed { service, tried }
        } else {
            SentinelErrorKind::NoSentinelReachable { service, tried }
        }))
    }
}

#[cfg(test)]
mod tests;
