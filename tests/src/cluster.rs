//! A real Redis Cluster per test: primaries and replicas, each a [`RedisServer`].
//!
//! Cluster clients fail their users in failovers, migrations and frozen nodes, so their
//! tests need a real cluster they can break. [`RedisCluster`] starts `redis-server`
//! processes with `cluster-enabled yes` on free loopback ports (the port *and* its cluster
//! bus port, port + 10000, must be free), forms the cluster with plain commands
//! (`CLUSTER ADDSLOTSRANGE`, `MEET`, `REPLICATE`) and waits until every node reports
//! `cluster_state:ok` and every replica is in sync. The node timeout is small (2 s by
//! default) so a frozen primary is replaced within seconds. Like every [`RedisServer`], a
//! node has its own temp dir (with its `nodes.conf`) and no persistence (`save ""`,
//! `appendonly no`).
//!
//! The harness talks to the nodes over a tiny RESP2 client of its own with short timeouts
//! (not through the client under test, and not through `redis-cli`, which would hang on a
//! paused node), so a frozen node never stalls it.
//!
//! ```no_run
//! use redis_tests::RedisCluster;
//!
//! let mut cluster = RedisCluster::builder().primaries(3).replicas_per_primary(1).start();
//! let config = cluster.seed_config(); // redis_core::Config of the first node
//! # let _ = config;
//! let shard = cluster.node_for_slot(0);
//! let replica = cluster.replicas_of(shard)[0];
//! cluster.failover(replica); // the replica is now the primary of slot 0
//! cluster.wait_healthy();
//! ```
//!
//! Node indexes are positions in [`RedisCluster::nodes`] and never change: at start, nodes
//! `0..primaries` are the primaries and the replicas of primary `i` follow them in order.
//! Roles change with failovers; [`RedisCluster::primaries`] and
//! [`RedisCluster::replicas_of`] report the current ones.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use redis_core::Config;

use crate::{free_port, RedisServer};

/// Number of hash slots in a Redis Cluster.
const SLOTS: u16 = 16384;
/// The cluster bus listens on the client port plus this.
const BUS_OFFSET: u16 = 10000;
/// How long forming the cluster, a failover, a migration or healing may take.
const FORM_TIMEOUT: Duration = Duration::from_secs(60);
/// How long one harness command to a node may take.
const QUERY_TIMEOUT: Duration = Duration::from_secs(5);
/// Pause between polls while waiting for the cluster.
const POLL: Duration = Duration::from_millis(50);
/// Keys moved per `MIGRATE`.
const MIGRATE_BATCH: usize = 100;

/// Options for a [`RedisCluster`]; made by [`RedisCluster::builder`], consumed by
/// [`RedisClusterBuilder::start`].
#[derive(Clone, Debug)]
pub struct RedisClusterBuilder {
    primaries: usize,
    replicas_per_primary: usize,
    node_timeout_ms: u64,
    password: Option<String>,
    tls: bool,
}

impl RedisClusterBuilder {
    /// Number of primaries (default 3). The 16384 slots are split evenly among them.
    pub fn primaries(mut self, n: usize) -> Self {
        assert!(n >= 1, "a cluster needs at least one primary");
        self.primaries = n;
        self
    }

    /// Replicas of each primary (default 1).
    pub fn replicas_per_primary(mut self, n: usize) -> Self {
        self.replicas_per_primary = n;
        self
    }

    /// `cluster-node-timeout` in milliseconds (default 2000): how long a node may be
    /// unreachable before it is failed and its replica promoted.
    pub fn node_timeout(mut self, ms: u64) -> Self {
        self.node_timeout_ms = ms;
        self
    }

    /// Requires this password on every node (`requirepass`); replicas authenticate to
    /// their primary with it (`masterauth`). [`RedisServer::config`] and
    /// [`RedisServer::cli`] of each node use it.
    pub fn password(mut self, password: &str) -> Self {
        self.password = Some(password.to_owned());
        self
    }

    /// Serves clients over TLS too: each node also listens on a TLS port (certificates of
    /// the harness's test CA, [`crate::TlsFiles`]), and the cluster bus and replication
    /// run over TLS (`tls-cluster yes`, `tls-replication yes`), so `CLUSTER SHARDS` and
    /// `CLUSTER SLOTS` announce the TLS ports. The plain port stays open for the harness
    /// itself; [`RedisCluster::seed_config`] and [`RedisCluster::configs`] are TLS configs
    /// that trust the test CA.
    pub fn tls(mut self) -> Self {
        self.tls = true;
        self
    }

    /// Starts all nodes, forms the cluster and waits until it is healthy
    /// ([`RedisCluster::wait_healthy`]). Panics with the reason if it cannot within 60 s.
    pub fn start(self) -> RedisCluster {
        let total = self.primaries * (1 + self.replicas_per_primary);
        let tls = self.tls.then(TlsDir::new);
        let (nodes, tls_ports): (Vec<RedisServer>, Vec<u16>) =
            (0..total).map(|_| self.start_node(tls.as_ref())).unzip();
        let mut cluster = RedisCluster {
            tls,
            tls_ports,
            ids: Vec::new(),
            states: vec![NodeState::Up; total],
            nodes,
            options: self,
        };
        cluster.ids = (0..total)
            .map(|i| cluster.query(i, &["CLUSTER", "MYID"]).text())
            .collect();
        cluster.form();
        cluster
    }

    /// Starts one node on a port whose bus port is free too.
    fn start_node(&self, tls: Option<&TlsDir>) -> (RedisServer, u16) {
        // The cluster bus listens on the announced port + 10000: the TLS port in a TLS
        // cluster, the plain one otherwise.
        let port = if tls.is_some() {
            free_port()
        } else {
            cluster_port()
        };
        let mut builder = RedisServer::builder().port(port).extra_args([
            "--cluster-enabled".to_owned(),
            "yes".to_owned(),
            "--cluster-config-file".to_owned(),
            "nodes.conf".to_owned(),
            "--cluster-node-timeout".to_owned(),
            self.node_timeout_ms.to_string(),
            // A replica syncs at once instead of after the default 5 s, so forming and
            // healing take a second, not five.
            "--repl-diskless-sync-delay".to_owned(),
            "0".to_owned(),
        ]);
        if let Some(pw) = &self.password {
            builder = builder
                .password(pw)
                .extra_args(["--masterauth".to_owned(), pw.clone()]);
        }
        let tls_port = match tls {
            Some(tls) => {
                let tls_port = cluster_port();
                let p = |f: &std::path::Path| f.to_string_lossy().into_owned();
                builder = builder.extra_args([
                    "--tls-port".to_owned(),
                    tls_port.to_string(),
                    "--tls-cert-file".to_owned(),
                    p(&tls.files.server_cert),
                    "--tls-key-file".to_owned(),
                    p(&tls.files.server_key),
                    "--tls-ca-cert-file".to_owned(),
                    p(&tls.files.ca_cert),
                    // The bus and replication links are TLS clients too: they present the
                    // test client certificate (the server one is for servers only).
                    "--tls-client-cert-file".to_owned(),
                    p(&tls.files.client_cert),
                    "--tls-client-key-file".to_owned(),
                    p(&tls.files.client_key),
                    "--tls-auth-clients".to_owned(),
                    "optional".to_owned(),
                    "--tls-cluster".to_owned(),
                    "yes".to_owned(),
                    "--tls-replication".to_owned(),
                    "yes".to_owned(),
                ]);
                tls_port
            }
            None => 0,
        };
        (builder.start(), tls_port)
    }
}

/// The test certificates of a TLS cluster, in a temp dir of their own that lives as long
/// as the cluster.
struct TlsDir {
    _dir: tempfile::TempDir,
    files: crate::TlsFiles,
}

impl TlsDir {
    fn new() -> TlsDir {
        let dir = tempfile::Builder::new()
            .prefix("redis-cluster-tls-")
            .tempdir()
            .unwrap_or_else(|e| panic!("cannot create a temp dir for certificates: {e}"));
        let files = crate::TlsFiles::write_to(dir.path());
        TlsDir { _dir: dir, files }
    }
}

/// A port `p` from [`free_port`] such that `p + 10000` (the cluster bus) is free too.
fn cluster_port() -> u16 {
    for _ in 0..100 {
        let port = free_port();
        let Some(bus) = port.checked_add(BUS_OFFSET) else {
            continue;
        };
        if TcpListener::bind(("127.0.0.1", bus)).is_ok() {
            return port;
        }
    }
    panic!("no loopback port p with p + {BUS_OFFSET} free found after 100 tries")
}

/// What the harness did to a node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum NodeState {
    Up,
    Paused,
    Killed,
    /// Killed and removed from the cluster with `CLUSTER FORGET`.
    Forgotten,
}

/// One line of `CLUSTER NODES`.
#[derive(Clone, Debug)]
struct NodeLine {
    id: String,
    flags: Vec<String>,
    master: Option<String>,
    connected: bool,
    slots: Vec<(u16, u16)>,
}

impl NodeLine {
    fn has(&self, flag: &str) -> bool {
        self.flags.iter().any(|f| f == flag)
    }
}

/// What one node says about one node: id, whether master, its master's id, its slots.
type Role = (String, bool, Option<String>, Vec<(u16, u16)>);

/// A Redis Cluster of real `redis-server` processes that belongs to one test.
///
/// Dropping it stops every node by PID (each [`RedisServer`] does on drop).
pub struct RedisCluster {
    options: RedisClusterBuilder,
    /// The test certificates shared by every node of a TLS cluster.
    tls: Option<TlsDir>,
    /// Each node's TLS port (0 without TLS).
    tls_ports: Vec<u16>,
    nodes: Vec<RedisServer>,
    ids: Vec<String>,
    states: Vec<NodeState>,
}

impl RedisCluster {
    /// Options for a cluster; finish with [`RedisClusterBuilder::start`].
    pub fn builder() -> RedisClusterBuilder {
        RedisClusterBuilder {
            primaries: 3,
            replicas_per_primary: 1,
            node_timeout_ms: 2000,
            password: None,
            tls: false,
        }
    }

    /// Starts 3 primaries with 1 replica each, node timeout 2 s, no password.
    pub fn start() -> RedisCluster {
        RedisCluster::builder().start()
    }

    /// All nodes, by index (see the module docs for the initial layout).
    pub fn nodes(&self) -> &[RedisServer] {
        &self.nodes
    }

    /// Node `i`.
    pub fn node(&self, i: usize) -> &RedisServer {
        &self.nodes[i]
    }

    /// The cluster node id of node `i` (`CLUSTER MYID`; kept across restarts).
    pub fn node_id(&self, i: usize) -> &str {
        &self.ids[i]
    }

    /// The node timeout the cluster runs with.
    pub fn node_timeout(&self) -> Duration {
        Duration::from_millis(self.options.node_timeout_ms)
    }

    /// Client config of the first node (address and password), the seed a cluster client
    /// starts from.
    pub fn seed_config(&self) -> Config {
        self.node_config(0)
    }

    /// Client configs of all nodes, by index (killed and forgotten ones included).
    pub fn configs(&self) -> Vec<Config> {
        (0..self.nodes.len()).map(|i| self.node_config(i)).collect()
    }

    /// Node `i`'s client config: its TLS port and the test CA in a TLS cluster.
    fn node_config(&self, i: usize) -> Config {
        let config = self.nodes[i].config();
        match &self.tls {
            Some(tls) => {
                let mut tls_config = Config::new(redis_core::Addr::Tls {
                    host: "127.0.0.1".to_owned(),
                    port: self.tls_ports[i],
                });
                tls_config.credentials = config.credentials;
                tls_config.tls.ca_cert_pem = Some(tls.files.ca_cert_pem.clone());
                tls_config
            }
            None => config,
        }
    }

    /// Indexes of the nodes that currently serve slots as primaries, as a running node
    /// sees it (`CLUSTER NODES`), in index order.
    pub fn primaries(&self) -> Vec<usize> {
        let view = self.view(self.any_up());
        let mut out: Vec<usize> = view
            .iter()
            .filter(|n| n.has("master") && !n.slots.is_empty())
            .filter_map(|n| self.index_of_id(&n.id))
            .collect();
        out.sort_unstable();
        out
    }

    /// Indexes of the current replicas of node `i`, as a running node sees it.
    pub fn replicas_of(&self, i: usize) -> Vec<usize> {
        let view = self.view(self.any_up());
        let mut out: Vec<usize> = view
            .iter()
            .filter(|n| n.master.as_deref() == Some(self.ids[i].as_str()))
            .filter_map(|n| self.index_of_id(&n.id))
            .collect();
        out.sort_unstable();
        out
    }

    /// Slot ranges and the index of the primary serving each, from `CLUSTER SLOTS` of a
    /// running node, sorted by first slot: `(first, last, primary)`.
    pub fn slot_ranges(&self) -> Vec<(u16, u16, usize)> {
        let asked = self.any_up();
        let reply = self.query(asked, &["CLUSTER", "SLOTS"]);
        let mut out = Vec::new();
        for range in reply.array() {
            let items = range.array();
            let (Some(first), Some(last), Some(primary)) =
                (items.first(), items.get(1), items.get(2))
            else {
                panic!("node {asked}: odd CLUSTER SLOTS entry {range:?}");
            };
            let port = primary
                .array()
                .get(1)
                .map(Resp::int)
                .unwrap_or_else(|| panic!("node {asked}: no port in {primary:?}"));
            let index = self
                .index_of_port(port)
                .unwrap_or_else(|| panic!("node {asked}: unknown port {port} in CLUSTER SLOTS"));
            out.push((to_slot(first.int()), to_slot(last.int()), index));
        }
        out.sort_unstable();
        out
    }

    /// Index of the primary serving `slot` (per `CLUSTER SLOTS` of a running node).
    /// Panics if the slot is not covered.
    pub fn node_for_slot(&self, slot: u16) -> usize {
        self.slot_ranges()
            .into_iter()
            .find(|&(first, last, _)| (first..=last).contains(&slot))
            .map(|(_, _, index)| index)
            .unwrap_or_else(|| panic!("slot {slot} is not covered"))
    }

    /// The slot of `key` (`CLUSTER KEYSLOT` on a running node).
    pub fn slot_of(&self, key: &str) -> u16 {
        to_slot(
            self.query(self.any_up(), &["CLUSTER", "KEYSLOT", key])
                .int(),
        )
    }

    /// Freezes node `i` with SIGSTOP ([`RedisServer::pause`]).
    pub fn pause(&mut self, i: usize) {
        self.nodes[i].pause();
        self.states[i] = NodeState::Paused;
    }

    /// Undoes [`pause`](Self::pause) on node `i`.
    pub fn resume(&mut self, i: usize) {
        self.nodes[i].resume();
        self.states[i] = NodeState::Up;
    }

    /// Kills node `i` with SIGKILL ([`RedisServer::kill`]): a crash. Restart it with
    /// [`restart`](Self::restart) or remove it with [`forget`](Self::forget).
    pub fn kill(&mut self, i: usize) {
        self.nodes[i].kill();
        self.states[i] = NodeState::Killed;
    }

    /// Removes killed node `i` from the cluster: `CLUSTER FORGET` on every other member
    /// (which must all be running). [`wait_healthy`](Self::wait_healthy) then ignores it.
    /// Panics if the node still serves slots: fail it over first.
    pub fn forget(&mut self, i: usize) {
        assert_eq!(
            self.states[i],
            NodeState::Killed,
            "forget: kill node {i} first"
        );
        let id = self.ids[i].clone();
        let serves = self
            .view(self.any_up())
            .iter()
            .any(|n| n.id == id && !n.slots.is_empty());
        assert!(!serves, "forget: node {i} still serves slots");
        self.states[i] = NodeState::Forgotten;
        for other in self.members().collect::<Vec<_>>() {
            self.ok(other, &["CLUSTER", "FORGET", &id]);
        }
    }

    /// Restarts node `i` on its port. It keeps its node id and rejoins (its `nodes.conf`
    /// is kept) but loses its data; call [`wait_healthy`](Self::wait_healthy) after.
    pub fn restart(&mut self, i: usize) {
        assert_ne!(
            self.states[i],
            NodeState::Forgotten,
            "restart: node {i} was forgotten"
        );
        self.nodes[i].restart();
        self.states[i] = NodeState::Up;
    }

    /// Promotes replica node `replica` with `CLUSTER FAILOVER` (a coordinated failover:
    /// no write is lost) and waits until it reports itself master (`ROLE`) and every
    /// running node sees it serving slots.
    /// Panics if `replica` is not a replica or is not promoted within 60 s.
    pub fn failover(&self, replica: usize) {
        let reply = self.query(replica, &["CLUSTER", "FAILOVER"]);
        assert!(
            matches!(reply, Resp::Status(_)),
            "CLUSTER FAILOVER on node {replica}: {reply:?}"
        );
        self.wait_for(&format!("node {replica} to be promoted"), || {
            self.is_promoted(replica)
        });
    }

    /// Waits until node `i` reports itself master (`ROLE`) and every running node sees it
    /// serving slots, e.g. after its primary was paused for longer than the node timeout.
    /// Returns how long that took. Panics after 60 s.
    pub fn wait_until_master(&self, i: usize) -> Duration {
        let start = Instant::now();
        self.wait_for(&format!("node {i} to be promoted"), || self.is_promoted(i));
        start.elapsed()
    }

    /// Whether node `i` reports itself master and every other running node agrees, so
    /// that [`node_for_slot`](Self::node_for_slot) gives the same answer whichever node
    /// it asks.
    fn is_promoted(&self, i: usize) -> bool {
        self.role(i) == "master"
            && self.up_nodes().all(|asked| {
                self.try_view(asked).is_ok_and(|view| {
                    view.iter()
                        .any(|n| n.id == self.ids[i] && n.has("master") && !n.slots.is_empty())
                })
            })
    }

    /// Waits until the cluster is healthy: every node (but forgotten ones) is up (not paused or killed),
    /// says `cluster_state:ok` with all 16384 slots ok, sees every other node connected
    /// and none failed, all agree on every node's role and slots, and every replica is connected to its primary and in sync
    /// (`ROLE`). Panics after 60 s with what is still wrong.
    pub fn wait_healthy(&self) {
        for i in self.members() {
            let state = self.states[i];
            assert_eq!(
                state,
                NodeState::Up,
                "wait_healthy: node {i} is {state:?}; resume, restart or forget it first"
            );
        }
        self.wait_for("the cluster to be healthy", || self.unhealthy().is_none());
    }

    /// Moves `slot` to primary node `to`, with its keys, as `redis-cli --cluster reshard`
    /// does: `SETSLOT IMPORTING` on the target, `SETSLOT MIGRATING` on the source,
    /// `MIGRATE` of the keys in batches of 100 (while clients keep writing: a key the
    /// source no longer has is redirected with `ASK`), then `SETSLOT NODE` on the target,
    /// the source and every other primary. Waits until every running node maps the slot
    /// to `to`. Panics on any error.
    pub fn migrate_slot(&self, slot: u16, to: usize) {
        self.migrate_slots(slot..=slot, to);
    }

    /// [`migrate_slot`](Self::migrate_slot) for each slot of `slots` in turn, waiting once
    /// at the end until every running node maps them all to `to`.
    pub fn migrate_slots(&self, slots: std::ops::RangeInclusive<u16>, to: usize) {
        for slot in slots.clone() {
            self.move_slot(slot, to);
        }
        let what = format!("every node to map slots {slots:?} to node {to}");
        self.wait_for(&what, || {
            self.up_nodes().all(|i| {
                self.try_view(i).is_ok_and(|view| {
                    slots.clone().all(|slot| {
                        view.iter()
                            .find(|n| n.slots.iter().any(|&(a, b)| (a..=b).contains(&slot)))
                            .is_some_and(|n| n.id == self.ids[to])
                    })
                })
            })
        });
    }

    /// One slot's migration, without waiting for the other nodes to learn of it.
    fn move_slot(&self, slot: u16, to: usize) {
        let from = self.node_for_slot(slot);
        if from == to {
            return;
        }
        let slot_s = slot.to_string();
        let (from_id, to_id) = (self.ids[from].as_str(), self.ids[to].as_str());
        self.ok(to, &["CLUSTER", "SETSLOT", &slot_s, "IMPORTING", from_id]);
        self.ok(from, &["CLUSTER", "SETSLOT", &slot_s, "MIGRATING", to_id]);
        // MIGRATE connects over TLS in a TLS cluster (`tls-cluster yes`).
        let to_port = self.announced_port(to).to_string();
        let batch = MIGRATE_BATCH.to_string();
        loop {
            let keys = self.query(from, &["CLUSTER", "GETKEYSINSLOT", &slot_s, &batch]);
            let keys: Vec<Vec<u8>> = keys.array().iter().map(Resp::bytes).collect();
            if keys.is_empty() {
                break;
            }
            let mut args: Vec<&[u8]> = ["MIGRATE", "127.0.0.1", &to_port, "", "0", "5000"]
                .iter()
                .map(|a| a.as_bytes())
                .collect();
            if let Some(pw) = &self.options.password {
                args.extend([b"AUTH".as_slice(), pw.as_bytes()]);
            }
            args.push(b"KEYS");
            args.extend(keys.iter().map(Vec::as_slice));
            let reply = self
                .try_query_raw(from, &args)
                .unwrap_or_else(|e| panic!("MIGRATE of slot {slot} on node {from}: {e}"));
            // NOKEY: the keys expired or were deleted since GETKEYSINSLOT.
            assert!(
                matches!(&reply, Resp::Status(s) if s == "OK" || s == "NOKEY"),
                "MIGRATE of slot {slot} from node {from} to node {to}: {reply:?}"
            );
        }
        self.ok(to, &["CLUSTER", "SETSLOT", &slot_s, "NODE", to_id]);
        self.ok(from, &["CLUSTER", "SETSLOT", &slot_s, "NODE", to_id]);
        for other in self.primaries() {
            if other != from && other != to {
                self.ok(other, &["CLUSTER", "SETSLOT", &slot_s, "NODE", to_id]);
            }
        }
    }

    /// Sends one command to node `i` over the harness's own connection and returns the
    /// reply as text: an integer as digits, a nil as `""`, an array as its items joined
    /// by newlines, an error as `"ERR ..."`. Panics if the node does not answer within
    /// 5 s. Unlike [`RedisServer::cli`], it never hangs on a paused node.
    pub fn command(&self, i: usize, args: &[&str]) -> String {
        self.query(i, args).text()
    }

    // ---- forming ----

    fn form(&self) {
        let primaries = self.options.primaries;
        let per = self.options.replicas_per_primary;
        for p in 0..primaries {
            let first = p * usize::from(SLOTS) / primaries;
            let last = (p + 1) * usize::from(SLOTS) / primaries - 1;
            self.ok(
                p,
                &[
                    "CLUSTER",
                    "ADDSLOTSRANGE",
                    &first.to_string(),
                    &last.to_string(),
                ],
            );
        }
        for i in 1..self.nodes.len() {
            let port = self.announced_port(i).to_string();
            self.ok(0, &["CLUSTER", "MEET", "127.0.0.1", &port]);
        }
        let total = self.nodes.len();
        self.wait_for("every node to know every other node", || {
            (0..total).all(|i| {
                let view = self.view(i);
                view.len() == total
                    && view
                        .iter()
                        .all(|n| n.connected && !n.has("handshake") && !n.has("noaddr"))
            })
        });
        for p in 0..primaries {
            for r in 0..per {
                let replica = primaries + p * per + r;
                self.ok(replica, &["CLUSTER", "REPLICATE", &self.ids[p]]);
            }
        }
        self.wait_healthy();
    }

    // ---- health ----

    /// What is wrong with the cluster, or `None` when it is healthy.
    fn unhealthy(&self) -> Option<String> {
        let members: Vec<usize> = self.members().collect();
        let total = members.len();
        let mut first_map: Option<(usize, Vec<Role>)> = None;
        for &i in &members {
            let down = |e: String| Some(format!("node {i}: {e}"));
            let info = match self.try_query(i, &["CLUSTER", "INFO"]) {
                Ok(info) => info.text(),
                Err(e) => return down(e),
            };
            if !info.contains("cluster_state:ok") || !info.contains("cluster_slots_ok:16384") {
                return Some(format!("node {i}: {info}"));
            }
            let view = match self.try_view(i) {
                Ok(view) => view,
                Err(e) => return down(e),
            };
            if view.len() != total {
                return Some(format!("node {i} knows {} nodes", view.len()));
            }
            if let Some(bad) = view.iter().find(|n| {
                !n.connected
                    || ["fail", "fail?", "handshake", "noaddr"]
                        .iter()
                        .any(|f| n.has(f))
            }) {
                return Some(format!("node {i} sees {bad:?}"));
            }
            let mut map: Vec<Role> = view
                .iter()
                .map(|n| {
                    (
                        n.id.clone(),
                        n.has("master"),
                        n.master.clone(),
                        n.slots.clone(),
                    )
                })
                .collect();
            map.sort();
            match &first_map {
                None => first_map = Some((i, map)),
                Some((j, first)) if *first != map => {
                    return Some(format!(
                        "nodes {j} and {i} disagree on roles or slots: {first:?} vs {map:?}"
                    ))
                }
                Some(_) => {}
            }
            let role = match self.try_query(i, &["ROLE"]) {
                Ok(role) => role,
                Err(e) => return down(e),
            };
            let role = role.array();
            if role.first().map(Resp::text).as_deref() == Some("slave")
                && role.get(3).map(Resp::text).as_deref() != Some("connected")
            {
                return Some(format!("replica {i} is not in sync: {role:?}"));
            }
        }
        None
    }

    /// `master` or `slave` (or `?` if the node does not answer).
    fn role(&self, i: usize) -> String {
        match self.try_query(i, &["ROLE"]) {
            Ok(reply) => reply.array().first().map(Resp::text).unwrap_or_default(),
            Err(_) => "?".to_owned(),
        }
    }

    fn wait_for(&self, what: &str, mut done: impl FnMut() -> bool) {
        let deadline = Instant::now() + FORM_TIMEOUT;
        while !done() {
            if Instant::now() >= deadline {
                panic!(
                    "timed out after {FORM_TIMEOUT:?} waiting for {what}; still wrong: {}",
                    self.unhealthy()
                        .unwrap_or_else(|| "nothing (now healthy)".into())
                );
            }
            thread::sleep(POLL);
        }
    }

    // ---- topology views ----

    /// Nodes that belong to the cluster (all but the forgotten ones).
    fn members(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.nodes.len()).filter(|&i| self.states[i] != NodeState::Forgotten)
    }

    fn up_nodes(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.nodes.len()).filter(|&i| self.states[i] == NodeState::Up)
    }

    fn any_up(&self) -> usize {
        self.up_nodes()
            .next()
            .unwrap_or_else(|| panic!("no node of the cluster is running"))
    }

    fn index_of_id(&self, id: &str) -> Option<usize> {
        self.ids.iter().position(|x| x == id)
    }

    /// The node with this port, plain or TLS (a TLS cluster answers a plain connection's
    /// `CLUSTER SLOTS` with plain ports, and names TLS ports in `CLUSTER NODES`).
    fn index_of_port(&self, port: i64) -> Option<usize> {
        (0..self.nodes.len()).position(|i| {
            i64::from(self.announced_port(i)) == port || i64::from(self.nodes[i].port()) == port
        })
    }

    /// The port node `i` announces to the cluster (`CLUSTER NODES`, `MEET`): its TLS port
    /// in a TLS cluster.
    fn announced_port(&self, i: usize) -> u16 {
        match self.tls {
            Some(_) => self.tls_ports[i],
            None => self.nodes[i].port(),
        }
    }

    fn view(&self, i: usize) -> Vec<NodeLine> {
        self.try_view(i)
            .unwrap_or_else(|e| panic!("CLUSTER NODES on node {i}: {e}"))
    }

    fn try_view(&self, i: usize) -> Result<Vec<NodeLine>, String> {
        let text = self.try_query(i, &["CLUSTER", "NODES"])?.text();
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(parse_node_line)
            .collect()
    }

    // ---- commands ----

    fn query(&self, i: usize, args: &[&str]) -> Resp {
        self.try_query(i, args)
            .unwrap_or_else(|e| panic!("{args:?} on node {i} ({}): {e}", self.nodes[i].addr()))
    }

    /// Panics unless the reply is `+OK`.
    fn ok(&self, i: usize, args: &[&str]) {
        let reply = self.query(i, args);
        assert!(
            matches!(&reply, Resp::Status(s) if s == "OK"),
            "{args:?} on node {i}: {reply:?}"
        );
    }

    fn try_query(&self, i: usize, args: &[&str]) -> Result<Resp, String> {
        let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        self.try_query_raw(i, &args)
    }

    fn try_query_raw(&self, i: usize, args: &[&[u8]]) -> Result<Resp, String> {
        if self.states[i] != NodeState::Up {
            return Err(format!("node {i} is {:?}", self.states[i]));
        }
        let addr = SocketAddr::from(([127, 0, 0, 1], self.nodes[i].port()));
        let stream = TcpStream::connect_timeout(&addr, QUERY_TIMEOUT).map_err(|e| e.to_string())?;
        stream
            .set_read_timeout(Some(QUERY_TIMEOUT))
            .and_then(|()| stream.set_write_timeout(Some(QUERY_TIMEOUT)))
            .map_err(|e| e.to_string())?;
        let mut reader = BufReader::new(stream);
        if let Some(pw) = &self.options.password {
            match round_trip(&mut reader, &[b"AUTH", pw.as_bytes()])? {
                Resp::Status(_) => {}
                other => return Err(format!("AUTH failed: {other:?}")),
            }
        }
        round_trip(&mut reader, args)
    }
}

impl std::fmt::Debug for RedisCluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisCluster")
            .field("nodes", &self.nodes)
            .field("states", &self.states)
            .finish_non_exhaustive()
    }
}

fn to_slot(n: i64) -> u16 {
    u16::try_from(n)
        .ok()
        .filter(|&s| s < SLOTS)
        .unwrap_or_else(|| panic!("not a slot: {n}"))
}

/// Parses `<id> <ip:port@cport> <flags> <master> <ping> <pong> <epoch> <link> <slot>...`.
fn parse_node_line(line: &str) -> Result<NodeLine, String> {
    let f: Vec<&str> = line.split_whitespace().collect();
    if f.len() < 8 {
        return Err(format!("odd CLUSTER NODES line: {line:?}"));
    }
    let mut slots = Vec::new();
    for s in &f[8..] {
        if s.starts_with('[') {
            continue; // a slot being imported or migrated
        }
        let (a, b) = s.split_once('-').unwrap_or((s, s));
        match (a.parse(), b.parse()) {
            (Ok(a), Ok(b)) => slots.push((a, b)),
            _ => return Err(format!("odd slot range {s:?} in {line:?}")),
        }
    }
    Ok(NodeLine {
        id: f[0].to_owned(),
        flags: f[2].split(',').map(str::to_owned).collect(),
        master: (f[3] != "-").then(|| f[3].to_owned()),
        connected: f[7] == "connected",
        slots,
    })
}

/// A RESP2 reply, as far as the harness needs one.
#[derive(Clone, Debug)]
enum Resp {
    Status(String),
    Error(String),
    Int(i64),
    Bulk(Option<Vec<u8>>),
    Array(Option<Vec<Resp>>),
}

impl Resp {
    fn array(&self) -> &[Resp] {
        match self {
            Resp::Array(Some(items)) => items,
            Resp::Array(None) => &[],
            other => panic!("expected an array reply, got {other:?}"),
        }
    }

    fn int(&self) -> i64 {
        match self {
            Resp::Int(n) => *n,
            other => panic!("expected an integer reply, got {other:?}"),
        }
    }

    fn bytes(&self) -> Vec<u8> {
        match self {
            Resp::Bulk(Some(b)) => b.clone(),
            other => panic!("expected a bulk string reply, got {other:?}"),
        }
    }

    fn text(&self) -> String {
        match self {
            Resp::Status(s) | Resp::Error(s) => s.clone(),
            Resp::Int(n) => n.to_string(),
            Resp::Bulk(Some(b)) => String::from_utf8_lossy(b).into_owned(),
            Resp::Bulk(None) | Resp::Array(None) => String::new(),
            Resp::Array(Some(items)) => items.iter().map(Resp::text).collect::<Vec<_>>().join("\n"),
        }
    }
}

fn round_trip(reader: &mut BufReader<TcpStream>, args: &[&[u8]]) -> Result<Resp, String> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    reader
        .get_mut()
        .write_all(&out)
        .map_err(|e| e.to_string())?;
    read_resp(reader)
}

fn read_resp(reader: &mut BufReader<TcpStream>) -> Result<Resp, String> {
    let mut line = String::new();
    reader.read_line(&mut line).map_err(|e| e.to_string())?;
    let line = line
        .strip_suffix("\r\n")
        .ok_or_else(|| format!("connection closed or odd line {line:?}"))?;
    let (kind, rest) = line.split_at(1.min(line.len()));
    let num = || {
        rest.parse::<i64>()
            .map_err(|_| format!("odd line {line:?}"))
    };
    Ok(match kind {
        "+" => Resp::Status(rest.to_owned()),
        "-" => Resp::Error(rest.to_owned()),
        ":" => Resp::Int(num()?),
        "$" => match usize::try_from(num()?) {
            Err(_) => Resp::Bulk(None),
            Ok(len) => {
                let mut buf = vec![0; len + 2];
                std::io::Read::read_exact(reader, &mut buf).map_err(|e| e.to_string())?;
                buf.truncate(len);
                Resp::Bulk(Some(buf))
            }
        },
        "*" => match usize::try_from(num()?) {
            Err(_) => Resp::Array(None),
            Ok(len) => Resp::Array(Some(
                (0..len)
                    .map(|_| read_resp(reader))
                    .collect::<Result<_, _>>()?,
            )),
        },
        _ => return Err(format!("unexpected reply line {line:?}")),
    })
}
