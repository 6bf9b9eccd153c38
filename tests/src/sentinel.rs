//! A Sentinel topology of real processes: one primary, its replicas and the sentinels that
//! watch them, for the tests of the Sentinel client.
//!
//! A Sentinel client can only be trusted once it has followed real failovers, done by real
//! sentinels, against a primary that really froze or died; a scripted imitation would test
//! our reading of the Sentinel docs, not the server. So [`SentinelSetup`] starts every node
//! as a [`RedisServer`] (each on a free loopback port, in its own temp dir, stopped by PID on
//! drop) and gives the tests the faults (pause, kill, `SENTINEL FAILOVER`) and the waits
//! (new primary named, topology healthy again) they need.
//!
//! Everything talks over `127.0.0.1`: replicas announce it (`replica-announce-ip`) and so do
//! the sentinels (`sentinel announce-ip`), so the addresses the sentinels hand out are the
//! ones a client can reach. The harness asks the servers with `redis-cli` under a short
//! timeout, never with the client under test.
//!
//! ```no_run
//! use std::time::Duration;
//! use redis_tests::SentinelSetup;
//!
//! let mut setup = SentinelSetup::builder().password("data-pw").start();
//! let before = setup.primary_index();
//! setup.pause_primary();
//! let after = setup.wait_primary_changed(before, Duration::from_secs(30));
//! setup.resume(before);
//! setup.wait_role(before, "slave", Duration::from_secs(60));
//! # let _ = after;
//! ```

use std::collections::HashMap;
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use redis_core::{Addr, Config};

use crate::process::output_with_timeout;
use crate::server::conf_quote;
use crate::{RedisServer, RedisServerBuilder};

/// How long one `redis-cli` question to a node or sentinel may take.
const ASK_TIMEOUT: Duration = Duration::from_secs(3);
/// Pause between two polls of the topology.
const POLL: Duration = Duration::from_millis(100);
/// Bound of [`SentinelSetup::start`]'s wait for replication and sentinel discovery, and
/// of [`SentinelSetup::wait_healthy`].
const SETTLE_TIMEOUT: Duration = Duration::from_secs(60);
/// Bound of [`SentinelSetup::failover`].
const FAILOVER_TIMEOUT: Duration = Duration::from_secs(60);

/// Options for a [`SentinelSetup`]; made by [`SentinelSetup::builder`], consumed by
/// [`SentinelSetupBuilder::start`].
///
/// Defaults: 2 replicas, 3 sentinels, quorum 2 (at most the number of sentinels), service
/// `mymaster`, `down-after-milliseconds` 1000, `failover-timeout` 5000, no passwords.
#[derive(Clone, Debug)]
pub struct SentinelSetupBuilder {
    replicas: usize,
    sentinels: usize,
    quorum: Option<usize>,
    service: String,
    down_after_ms: u64,
    failover_timeout_ms: u64,
    password: Option<String>,
    sentinel_password: Option<String>,
}

impl SentinelSetupBuilder {
    /// Number of replicas of the primary (default 2).
    pub fn replicas(mut self, n: usize) -> Self {
        self.replicas = n;
        self
    }

    /// Number of sentinels (default 3, at least 1).
    pub fn sentinels(mut self, n: usize) -> Self {
        self.sentinels = n.max(1);
        self
    }

    /// Sentinels that must agree the primary is down before a failover (default 2, or
    /// the number of sentinels if smaller).
    pub fn quorum(mut self, n: usize) -> Self {
        self.quorum = Some(n.max(1));
        self
    }

    /// The monitored service (master) name (default `mymaster`).
    pub fn service(mut self, name: &str) -> Self {
        self.service = name.to_owned();
        self
    }

    /// `down-after-milliseconds`: how long the primary may be silent before a sentinel
    /// thinks it down (default 1000).
    pub fn down_after(mut self, ms: u64) -> Self {
        self.down_after_ms = ms;
        self
    }

    /// `failover-timeout` in milliseconds (default 5000). Sentinel also waits about this
    /// long before it demotes a returning old primary, and twice it before it retries a
    /// failed failover.
    pub fn failover_timeout(mut self, ms: u64) -> Self {
        self.failover_timeout_ms = ms;
        self
    }

    /// Password of the data nodes: `requirepass` and `masterauth` on every node,
    /// `sentinel auth-pass` on the sentinels.
    pub fn password(mut self, password: &str) -> Self {
        self.password = Some(password.to_owned());
        self
    }

    /// Password of the sentinels themselves (`requirepass` in their config, and
    /// `sentinel sentinel-pass` so they can talk to each other), separate from the data
    /// nodes' [`password`](Self::password).
    pub fn sentinel_password(mut self, password: &str) -> Self {
        self.sentinel_password = Some(password.to_owned());
        self
    }

    /// Starts the primary, then the replicas, waits until they replicate, starts the
    /// sentinels and waits until every sentinel names the primary and knows the other
    /// sentinels and all replicas.
    ///
    /// Panics with what was missing (and the servers' log tails) if that takes more than
    /// 60 s.
    pub fn start(self) -> SentinelSetup {
        let started = Instant::now();
        let data_node = |replica_of: Option<u16>| {
            // Diskless sync would wait 5 s for more replicas before every full sync.
            let mut b = RedisServer::builder()
                .conf_line("replica-announce-ip 127.0.0.1")
                .conf_line("repl-diskless-sync-delay 0");
            if let Some(pw) = &self.password {
                b = b
                    .password(pw)
                    .conf_line(format!("masterauth {}", conf_quote(pw)));
            }
            if let Some(port) = replica_of {
                b = b.conf_line(format!("replicaof 127.0.0.1 {port}"));
            }
            b.start()
        };
        let primary = data_node(None);
        let primary_port = primary.port();
        let mut nodes = vec![primary];
        for _ in 0..self.replicas {
            nodes.push(data_node(Some(primary_port)));
        }
        // Sentinels learn the replicas from the primary's INFO: have them connected first.
        wait_until(
            SETTLE_TIMEOUT,
            "the replicas to sync with the primary",
            || {
                let info = ask(
                    &nodes[0],
                    self.password.as_deref(),
                    &["INFO", "replication"],
                )?;
                let fields = info_fields(&info);
                let connected: usize = fields.get("connected_slaves")?.parse().ok()?;
                let online = info.matches("state=online").count();
                (connected == self.replicas && online == self.replicas).then_some(())
            },
        );

        let sentinels = (0..self.sentinels)
            .map(|_| self.sentinel_builder(primary_port).start())
            .collect();
        let setup = SentinelSetup {
            sentinels,
            nodes,
            options: self,
        };
        let others = setup.sentinels.len() - 1;
        let replicas = setup.options.replicas;
        setup.wait_for(
            SETTLE_TIMEOUT,
            "every sentinel to know the primary, the other sentinels and the replicas",
            || {
                setup
                    .sentinels
                    .iter()
                    .all(|s| {
                        let Some(master) = setup.ask_sentinel(s, &["MASTER"]) else {
                            return false;
                        };
                        let f = pairs(&master);
                        f.get("port").map(String::as_str) == Some(&primary_port.to_string())
                            && f.get("flags").map(String::as_str) == Some("master")
                            && f.get("num-other-sentinels") == Some(&others.to_string())
                            && f.get("num-slaves") == Some(&replicas.to_string())
                    })
                    .then_some(())
            },
        );
        eprintln!(
            "sentinel setup: primary + {} replicas + {} sentinels ready in {:?}",
            setup.options.replicas,
            setup.sentinels.len(),
            started.elapsed()
        );
        setup
    }

    /// A sentinel monitoring the primary on `primary_port`, with the options' timings and
    /// passwords.
    fn sentinel_builder(&self, primary_port: u16) -> RedisServerBuilder {
        let quorum = self.quorum.unwrap_or(2).min(self.sentinels);
        let service = conf_quote(&self.service);
        let mut b = RedisServer::builder()
            .sentinel()
            .conf_line(format!(
                "sentinel monitor {service} 127.0.0.1 {primary_port} {quorum}"
            ))
            .conf_line(format!(
                "sentinel down-after-milliseconds {service} {}",
                self.down_after_ms
            ))
            .conf_line(format!(
                "sentinel failover-timeout {service} {}",
                self.failover_timeout_ms
            ))
            .conf_line(format!("sentinel parallel-syncs {service} 1"))
            .conf_line("sentinel announce-ip 127.0.0.1");
        if let Some(pw) = &self.password {
            b = b.conf_line(format!("sentinel auth-pass {service} {}", conf_quote(pw)));
        }
        if let Some(pw) = &self.sentinel_password {
            b = b
                .password(pw)
                .conf_line(format!("sentinel sentinel-pass {}", conf_quote(pw)));
        }
        b
    }
}

/// One primary, its replicas and the sentinels watching them, all real processes on
/// loopback, each replica announcing `127.0.0.1` and syncing without delay.
///
/// Data nodes are numbered once, at start (index 0 is the first primary); an index keeps
/// naming the same process whatever its role becomes. Which node is primary *now* is
/// always asked of the sentinels ([`primary_index`](Self::primary_index)).
///
/// Dropping it stops the sentinels, then the data nodes. A node or sentinel restarted
/// with [`RedisServer::restart`] comes back with its original config file (a replica
/// of the first primary; a sentinel that forgot what it learned).
pub struct SentinelSetup {
    // Declared first so they are dropped first: no failover while the nodes stop.
    sentinels: Vec<RedisServer>,
    nodes: Vec<RedisServer>,
    options: SentinelSetupBuilder,
}

impl SentinelSetup {
    /// Options for a topology; finish with [`SentinelSetupBuilder::start`].
    pub fn builder() -> SentinelSetupBuilder {
        SentinelSetupBuilder {
            replicas: 2,
            sentinels: 3,
            quorum: None,
            service: "mymaster".to_owned(),
            down_after_ms: 1000,
            failover_timeout_ms: 5000,
            password: None,
            sentinel_password: None,
        }
    }

    /// Starts the default topology: primary + 2 replicas + 3 sentinels, no passwords.
    pub fn start() -> SentinelSetup {
        SentinelSetup::builder().start()
    }

    /// The monitored service name.
    pub fn service(&self) -> &str {
        &self.options.service
    }

    /// The `down-after-milliseconds` the sentinels use.
    pub fn down_after(&self) -> Duration {
        Duration::from_millis(self.options.down_after_ms)
    }

    /// Every data node, by index (0 is the first primary).
    pub fn nodes(&self) -> &[RedisServer] {
        &self.nodes
    }

    /// Data node `index`, for faults this type has no helper for.
    pub fn node_mut(&mut self, index: usize) -> &mut RedisServer {
        &mut self.nodes[index]
    }

    /// The sentinels.
    pub fn sentinels(&self) -> &[RedisServer] {
        &self.sentinels
    }

    /// Sentinel `index`, e.g. to stop or pause it.
    pub fn sentinel_mut(&mut self, index: usize) -> &mut RedisServer {
        &mut self.sentinels[index]
    }

    /// The sentinels' addresses (`Addr::Tcp` on `127.0.0.1`), in start order.
    pub fn sentinel_addrs(&self) -> Vec<Addr> {
        self.sentinels
            .iter()
            .map(|s| Addr::tcp("127.0.0.1", s.port()))
            .collect()
    }

    /// Index of the node the sentinels name as primary now: the answer most of the
    /// answering sentinels give to `SENTINEL GET-MASTER-ADDR-BY-NAME`.
    ///
    /// Panics if no sentinel answers or the named node is not one of ours.
    pub fn primary_index(&self) -> usize {
        match self.named_primary() {
            Some((index, _)) => index,
            None => panic!(
                "no sentinel names a primary of ours for {:?}",
                self.options.service
            ),
        }
    }

    /// The node the sentinels name as primary now (see
    /// [`primary_index`](Self::primary_index)).
    pub fn primary(&self) -> &RedisServer {
        &self.nodes[self.primary_index()]
    }

    /// Every node but the one the sentinels name as primary now.
    pub fn replicas(&self) -> Vec<&RedisServer> {
        let primary = self.primary_index();
        self.nodes
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != primary)
            .map(|(_, n)| n)
            .collect()
    }

    /// A config for the current primary with the data nodes' password; the base for
    /// `master_for` / `replica_for` (whose address the Sentinel client replaces).
    pub fn data_config(&self) -> Config {
        self.primary().config()
    }

    /// A config for the first sentinel with the sentinels' password (none if not set).
    pub fn sentinel_config(&self) -> Config {
        self.sentinels[0].config()
    }

    /// Stops sentinel `index` (if running) and starts a fresh one on the same port that
    /// monitors the current primary: a sentinel that lost its state, as after a crash
    /// with its config file gone. It rediscovers the other sentinels and the replicas
    /// within a few seconds ([`wait_healthy`](Self::wait_healthy)).
    pub fn restart_sentinel(&mut self, index: usize) {
        let primary_port = self.nodes[self.primary_index()].port();
        let port = self.sentinels[index].port();
        self.sentinels[index].stop();
        let fresh = self
            .options
            .sentinel_builder(primary_port)
            .port(port)
            .start();
        self.sentinels[index] = fresh;
    }

    /// Freezes the current primary with SIGSTOP; returns its index (for
    /// [`resume`](Self::resume)).
    pub fn pause_primary(&mut self) -> usize {
        let index = self.primary_index();
        self.nodes[index].pause();
        index
    }

    /// Resumes data node `index` with SIGCONT (after [`pause_primary`](Self::pause_primary)).
    pub fn resume(&mut self, index: usize) {
        self.nodes[index].resume();
    }

    /// Kills the current primary with SIGKILL; returns its index. Bring it back with
    /// `node_mut(index).restart()` (it restarts as a replica of the first primary).
    pub fn kill_primary(&mut self) -> usize {
        let index = self.primary_index();
        self.nodes[index].kill();
        index
    }

    /// `SENTINEL FAILOVER` (a graceful switch, no agreement needed), then waits until a
    /// majority of the sentinels name another node and that node's `ROLE` is `master`.
    /// Returns the new primary's index.
    ///
    /// A sentinel that refuses (no good replica yet, a failover already in progress) is
    /// asked again until 60 s have passed; then it panics with the last answer.
    pub fn failover(&mut self) -> usize {
        let from = self.primary_index();
        let deadline = Instant::now() + FAILOVER_TIMEOUT;
        let mut last = String::new();
        'asked: loop {
            for s in &self.sentinels {
                match self.ask_sentinel(s, &["FAILOVER"]) {
                    Some(answer) if answer == "OK" => break 'asked,
                    Some(answer) => last = answer,
                    None => last = format!("sentinel {} did not answer", s.addr()),
                }
            }
            if Instant::now() >= deadline {
                panic!("SENTINEL FAILOVER refused for {FAILOVER_TIMEOUT:?}: {last}");
            }
            thread::sleep(Duration::from_millis(250));
        }
        let left = deadline.saturating_duration_since(Instant::now());
        let to = self.wait_primary_changed(from, left);
        self.wait_role(
            to,
            "master",
            deadline.saturating_duration_since(Instant::now()),
        );
        to
    }

    /// Waits until a majority of the sentinels name the same primary, other than node
    /// `from`; returns its index. Panics after `timeout`.
    pub fn wait_primary_changed(&self, from: usize, timeout: Duration) -> usize {
        let majority = self.sentinels.len() / 2 + 1;
        self.wait_for(
            timeout,
            &format!("a majority of the sentinels to name a primary other than node {from}"),
            || match self.named_primary() {
                Some((index, votes)) if index != from && votes >= majority => Some(index),
                _ => None,
            },
        )
    }

    /// Waits until data node `index` answers `ROLE` with `role` (`"master"` or
    /// `"slave"`, as Redis spells them). Panics after `timeout`.
    pub fn wait_role(&self, index: usize, role: &str, timeout: Duration) {
        let node = &self.nodes[index];
        self.wait_for(
            timeout,
            &format!("node {index} ({}) to report ROLE {role}", node.addr()),
            || {
                let answer = ask(node, self.options.password.as_deref(), &["ROLE"])?;
                (answer.lines().next() == Some(role)).then_some(())
            },
        );
    }

    /// Waits (up to 60 s) until every sentinel names the same primary without a down or
    /// failover flag, knows the other sentinels and lists every other node as a replica
    /// without a down flag, and the primary itself reports every other node as an online
    /// replica. Returns the primary's
    /// index.
    ///
    /// What the sentinels say of a replica's own link (`master-link-status`, `master-port`)
    /// comes from its `INFO`, which they ask only every 10 s: a node demoted a moment ago
    /// may still be listed with its link down. [`wait_settled`](Self::wait_settled) waits
    /// for that too.
    pub fn wait_healthy(&self) -> usize {
        self.wait_for(
            SETTLE_TIMEOUT,
            "all sentinels to agree on a healthy primary with every replica online",
            || self.healthy(false),
        )
    }

    /// [`wait_healthy`](Self::wait_healthy), and also every sentinel lists every replica
    /// with `master-link-status` `ok` and the current primary's port: what a client that
    /// picks replicas from `SENTINEL REPLICAS` will see. Up to ~10 s longer after a
    /// failover; bounded by 60 s.
    pub fn wait_settled(&self) -> usize {
        self.wait_for(
            SETTLE_TIMEOUT,
            "all sentinels to list every replica linked to the current primary",
            || self.healthy(true),
        )
    }

    /// The primary's index if the topology is healthy; with `strict`, the sentinels must
    /// also report each replica's link to the primary as up.
    fn healthy(&self, strict: bool) -> Option<usize> {
        let (index, votes) = self.named_primary()?;
        if votes != self.sentinels.len() {
            return None;
        }
        let port = self.nodes[index].port().to_string();
        let others: Vec<String> = (self.nodes.iter().enumerate())
            .filter(|(i, _)| *i != index)
            .map(|(_, n)| n.port().to_string())
            .collect();
        let other_sentinels = (self.sentinels.len() - 1).to_string();
        for s in &self.sentinels {
            let master = pairs(&self.ask_sentinel(s, &["MASTER"])?);
            if master.get("port") != Some(&port)
                || master.get("flags").map(String::as_str) != Some("master")
                || master.get("num-other-sentinels") != Some(&other_sentinels)
            {
                return None;
            }
            let listed = split_records(&self.ask_sentinel(s, &["REPLICAS"])?);
            let all_listed = others.iter().all(|other| {
                listed.iter().any(|r| {
                    r.get("port") == Some(other)
                        && r.get("flags").map(String::as_str) == Some("slave")
                        && (!strict
                            || (r.get("master-link-status").map(String::as_str) == Some("ok")
                                && r.get("master-port") == Some(&port)))
                })
            });
            if !all_listed {
                return None;
            }
        }
        let info = ask(
            &self.nodes[index],
            self.options.password.as_deref(),
            &["INFO", "replication"],
        )?;
        let fields = info_fields(&info);
        let online = others
            .iter()
            .all(|other| info.contains(&format!("port={other},state=online")));
        (fields.get("role").map(String::as_str) == Some("master") && online).then_some(index)
    }

    /// [`wait_until`], but the panic also shows what each sentinel and node says now.
    fn wait_for<T>(&self, timeout: Duration, what: &str, check: impl FnMut() -> Option<T>) -> T {
        match poll_until(timeout, check) {
            Some(value) => value,
            None => panic!(
                "sentinel setup: gave up after {timeout:?} waiting for {what}\n{}",
                self.describe()
            ),
        }
    }

    /// What each sentinel says of the service and each node of its role, for failure
    /// messages. A node that does not answer (paused, killed) is shown as such.
    fn describe(&self) -> String {
        let mut out = String::new();
        for (i, s) in self.sentinels.iter().enumerate() {
            let master = self.ask_sentinel(s, &["MASTER"]).map(|m| pairs(&m));
            let line = match master {
                None => "no answer".to_owned(),
                Some(f) => {
                    let get = |k: &str| f.get(k).map_or("?", String::as_str);
                    format!(
                        "primary port {} flags {} replicas {} other sentinels {}",
                        get("port"),
                        get("flags"),
                        get("num-slaves"),
                        get("num-other-sentinels")
                    )
                }
            };
            out.push_str(&format!("sentinel {i} ({}): {line}\n", s.addr()));
        }
        for (i, n) in self.nodes.iter().enumerate() {
            let role = ask(n, self.options.password.as_deref(), &["ROLE"])
                .map_or("no answer".to_owned(), |r| r.replace('\n', " "));
            out.push_str(&format!("node {i} ({}): ROLE {role}\n", n.addr()));
        }
        out
    }

    /// The node most answering sentinels name as primary, and how many name it.
    fn named_primary(&self) -> Option<(usize, usize)> {
        let mut votes: HashMap<usize, usize> = HashMap::new();
        for s in &self.sentinels {
            let Some(answer) = self.ask_sentinel(s, &["GET-MASTER-ADDR-BY-NAME"]) else {
                continue;
            };
            let mut lines = answer.lines();
            let (Some(_host), Some(port)) = (lines.next(), lines.next()) else {
                continue;
            };
            let Ok(port) = port.trim().parse::<u16>() else {
                continue;
            };
            if let Some(index) = self.nodes.iter().position(|n| n.port() == port) {
                *votes.entry(index).or_default() += 1;
            }
        }
        votes
            .into_iter()
            .max_by_key(|&(index, n)| (n, usize::MAX - index))
    }

    /// `SENTINEL <sub> <service> <rest..>` on sentinel `s`, or `None` if it does not answer
    /// in time.
    fn ask_sentinel(&self, s: &RedisServer, sub: &[&str]) -> Option<String> {
        let mut args = vec!["SENTINEL"];
        args.extend_from_slice(&sub[..1]);
        args.push(&self.options.service);
        args.extend_from_slice(&sub[1..]);
        ask(s, self.options.sentinel_password.as_deref(), &args)
    }
}

impl std::fmt::Debug for SentinelSetup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SentinelSetup")
            .field("service", &self.options.service)
            .field("nodes", &self.nodes)
            .field("sentinels", &self.sentinels)
            .finish_non_exhaustive()
    }
}

/// Runs `redis-cli` against `server` (with `password`) under [`ASK_TIMEOUT`];
/// `None` if it cannot connect, fails or is too slow (a paused or killed node).
fn ask(server: &RedisServer, password: Option<&str>, args: &[&str]) -> Option<String> {
    let mut cmd = Command::new("redis-cli");
    cmd.args(["-h", "127.0.0.1", "-p", &server.port().to_string()]);
    if let Some(pw) = password {
        cmd.args(["-a", pw]);
    }
    cmd.arg("--no-auth-warning").args(args);
    let out = output_with_timeout(&mut cmd, ASK_TIMEOUT).ok()?;
    if !out.status.success() {
        return None;
    }
    Some(String::from_utf8_lossy(&out.stdout).trim_end().to_owned())
}

/// Polls `check` every 100 ms until it returns `Some`, panicking after `timeout` with
/// what was awaited.
fn wait_until<T>(timeout: Duration, what: &str, check: impl FnMut() -> Option<T>) -> T {
    match poll_until(timeout, check) {
        Some(value) => value,
        None => panic!("sentinel setup: gave up after {timeout:?} waiting for {what}"),
    }
}

/// Polls `check` every 100 ms until it returns `Some`, or `None` after `timeout`.
fn poll_until<T>(timeout: Duration, mut check: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check() {
            return Some(value);
        }
        if Instant::now() >= deadline {
            return None;
        }
        thread::sleep(POLL);
    }
}

/// `key:value` lines of an `INFO` section.
fn info_fields(info: &str) -> HashMap<String, String> {
    info.lines()
        .filter_map(|l| l.trim_end().split_once(':'))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// A flat `redis-cli` map (key line, value line, ...) as a map.
fn pairs(text: &str) -> HashMap<String, String> {
    let lines: Vec<&str> = text.lines().collect();
    lines
        .chunks(2)
        .filter_map(|kv| match kv {
            [k, v] => Some(((*k).to_owned(), (*v).to_owned())),
            _ => None,
        })
        .collect()
}

/// The records of `SENTINEL REPLICAS`: `redis-cli` prints them as one flat list of
/// key/value lines; each record starts with `name`.
fn split_records(text: &str) -> Vec<HashMap<String, String>> {
    let lines: Vec<&str> = text.lines().collect();
    let mut records = Vec::new();
    let mut current: Option<HashMap<String, String>> = None;
    for kv in lines.chunks(2) {
        let [k, v] = kv else { break };
        if *k == "name" {
            records.extend(current.take());
        }
        current
            .get_or_insert_with(HashMap::new)
            .insert((*k).to_owned(), (*v).to_owned());
    }
    records.extend(current);
    records
}
