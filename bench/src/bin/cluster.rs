//! The cluster client against redis-rs's `ClusterClient`, on one private 3-primary cluster,
//! in one run (issue 7's bench).
//!
//! ```text
//! cluster [--quick] [--runs N]     every workload, interleaved runs, medians and ratios
//! cluster --child NAME --ports P1,P2,P3 --n N   (internal) one timed run in its own process
//! cluster --serve                  start the cluster, print its ports, keep it until stdin
//!                                  closes (to profile one child run by hand)
//! ```
//!
//! Workloads (keys `bench:c:0000` .. `bench:c:0999` spread over all 16384 slots, so every
//! workload touches all three primaries; every reply is checked):
//! - `seq`: blocking sequential round trips, SET and GET alternating;
//! - `pipe`: blocking pipelines of 1000 SET across slots (ours groups per node; redis-rs's
//!   `cluster_pipe` does too);
//! - `aseq`: async sequential round trips;
//! - `mux64`: 64 tasks on one async cluster connection, SET and GET alternating;
//! - `apipe`: async pipelines of 1000 SET across slots (ours only: redis-rs's async cluster
//!   connection refuses a pipeline whose keys span slots).
//!
//! Each run is a child process (its peak RSS is its own); clients are interleaved run by
//! run; figures are medians with the min-max spread, and CPU time per op beside each.

use std::time::Duration;

use redis_bench::measure::{self, median, Timer};
use redis_core::{Addr, Config};
use redis_tests::RedisCluster;

const KEYS: usize = 1000;
const PIPE: usize = 1000;
const WARMUP: usize = 500;
const TASKS: usize = 64;

fn keys() -> Vec<String> {
    (0..KEYS).map(|i| format!("bench:c:{i:04}")).collect()
}

/// Values that differ per key, so a GET answered with another key's value fails. Made
/// once, so the timed loops measure the clients rather than `format!`.
fn value(i: usize) -> &'static str {
    static VALUES: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    let values = VALUES.get_or_init(|| (0..KEYS).map(|i| format!("v{i:04}")).collect());
    &values[i % KEYS]
}

struct Workload {
    name: &'static str,
    what: &'static str,
    /// Ops per run (full size).
    ops: usize,
    peers: &'static [&'static str],
    /// The cluster issue's goal for ours / redis-rs (`None`: a view the issue set none for).
    goal: Option<f64>,
}

const WORKLOADS: &[Workload] = &[
    Workload {
        name: "seq",
        what: "blocking sequential SET/GET",
        ops: 40_000,
        peers: &["ours", "redis-rs"],
        goal: Some(1.0),
    },
    Workload {
        name: "pipe",
        what: "blocking pipelines of 1000 SET across slots",
        ops: 400_000,
        peers: &["ours", "redis-rs"],
        goal: Some(1.5),
    },
    Workload {
        name: "pipe1",
        what: "the same, one pipeline built once and sent again and again (as redis-benchmark -P)",
        ops: 400_000,
        peers: &["ours", "redis-rs"],
        goal: None,
    },
    Workload {
        name: "aseq",
        what: "async sequential SET/GET",
        ops: 40_000,
        peers: &["ours", "redis-rs"],
        goal: Some(1.0),
    },
    Workload {
        name: "mux64",
        what: "64 tasks on one async cluster connection",
        ops: 200_000,
        peers: &["ours", "redis-rs"],
        goal: Some(1.5),
    },
    Workload {
        name: "apipe",
        what: "async pipelines of 1000 SET across slots",
        ops: 400_000,
        peers: &["ours"],
        goal: None,
    },
];

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |name: &str| args.iter().any(|a| a == name);
    let value_of = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    if let Some(child) = value_of("--child") {
        let ports = value_of("--ports").expect("--ports P1,P2,P3");
        let n = value_of("--n").and_then(|s| s.parse().ok()).expect("--n N");
        run_child(&child, &ports, n);
        return;
    }
    let quick = flag("--quick");
    let runs: usize = value_of("--runs")
        .and_then(|s| s.parse().ok())
        .unwrap_or(if quick { 3 } else { 5 });

    let cluster = RedisCluster::builder()
        .primaries(3)
        .replicas_per_primary(0)
        .start();
    cluster.wait_healthy();
    let ports: Vec<String> = cluster
        .configs()
        .iter()
        .filter_map(|c| match &c.addr {
            Addr::Tcp { port, .. } => Some(port.to_string()),
            _ => None,
        })
        .collect();
    let ports = ports.join(",");
    if flag("--serve") {
        println!("ports {ports}");
        let mut sink = String::new();
        let _ = std::io::Read::read_to_string(&mut std::io::stdin(), &mut sink);
        return;
    }
    println!(
        "cluster bench: 3 primaries on 127.0.0.1:{ports}, {runs} interleaved runs per client{}",
        if quick { " (quick)" } else { "" }
    );
    println!(
        "{:<7} {:<9} {:>12} {:>18} {:>10} {:>9} {:>9}",
        "load", "client", "ops/s", "min-max", "CPU ns/op", "RSS KiB", "anon KiB"
    );
    // The servers' CPU is the bench's own, not noise (the quietness check).
    let pids: Vec<u32> = cluster.nodes().iter().map(|n| n.pid()).collect();
    let mut ratios = Vec::new();
    for w in WORKLOADS {
        let n = if quick { w.ops / 5 } else { w.ops };
        let mut figures: Vec<Vec<measure::ChildRun>> = vec![Vec::new(); w.peers.len()];
        for _ in 0..runs {
            for (i, peer) in w.peers.iter().enumerate() {
                let name = format!("{peer}-{}", w.name);
                let args = ["--child", &name, "--ports", &ports, "--n", &n.to_string()];
                let (run, _quiet) = measure::spawn_child_quiet(&args.map(str::to_owned), &pids);
                figures[i].push(run);
            }
        }
        let mut medians = Vec::new();
        for (peer, runs) in w.peers.iter().zip(&figures) {
            let of =
                |f: fn(&measure::ChildRun) -> f64| median(&runs.iter().map(f).collect::<Vec<_>>());
            let ops: Vec<f64> = runs.iter().map(|r| r.figure).collect();
            let (lo, hi) = ops
                .iter()
                .fold((f64::MAX, 0f64), |(lo, hi), x| (lo.min(*x), hi.max(*x)));
            let m = Medians {
                ops: median(&ops),
                cpu: of(|r| r.cpu),
                rss: of(|r| r.hwm as f64),
                anon: of(|r| r.anon as f64),
            };
            println!(
                "{:<7} {:<9} {:>12.0} {:>18} {:>10.0} {:>9.0} {:>9.0}",
                w.name,
                peer,
                m.ops,
                format!("{lo:.0}-{hi:.0}"),
                m.cpu,
                m.rss,
                m.anon
            );
            medians.push(m);
        }
        if let [ours, rs] = &medians[..] {
            ratios.push((
                w,
                ours.ops / rs.ops,
                rs.cpu / ours.cpu,
                ours.rss / rs.rss,
                ours.anon / rs.anon,
            ));
        }
    }
    println!();
    println!("{}", measure::quiet_summary());
    println!("ours / redis-rs ClusterClient (same-run medians)");
    println!(
        "  (memory: the goal is on the client's own memory, `anon` (peak of heap and stacks,\n   \
         sampled); peak RSS also counts the shared bench binary's code pages, which move\n   \
         with code layout)"
    );
    for (w, speed, cpu, rss, anon) in ratios {
        let verdict = |met: bool| if met { "MET" } else { "MISSED" };
        let speed_goal = match w.goal {
            Some(goal) => format!("(goal >= {goal}x) {}", verdict(speed >= goal)),
            None => "(a view, no goal of its own)".into(),
        };
        println!(
            "  {:<6} {:<45} ops/s {speed:.2}x {speed_goal}  CPU/op {cpu:.2}x less  memory {anon:.2}x (goal <= 1.0) {}  peak RSS {rss:.2}x",
            w.name,
            w.what,
            verdict(anon <= 1.0),
        );
    }
}

/// One client's medians on one workload.
struct Medians {
    ops: f64,
    cpu: f64,
    rss: f64,
    anon: f64,
}

// ---------------------------------------------------------------------------------------
// The child: one timed run of one client on one workload.

fn run_child(name: &str, ports: &str, n: usize) {
    measure::sample_anon_peak();
    let ports: Vec<u16> = ports.split(',').filter_map(|p| p.parse().ok()).collect();
    let urls: Vec<String> = ports
        .iter()
        .map(|p| format!("redis://127.0.0.1:{p}/"))
        .collect();
    let configs: Vec<Config> = ports
        .iter()
        .map(|p| Config::new(Addr::tcp("127.0.0.1", *p)))
        .collect();
    let (secs, cpu) = match name {
        "ours-seq" => ours::seq(&configs, n),
        "redis-rs-seq" => rs::seq(&urls, n),
        "ours-pipe" => ours::pipe(&configs, n),
        "redis-rs-pipe" => rs::pipe(&urls, n),
        "ours-pipe1" => ours::pipe_reused(&configs, n),
        "redis-rs-pipe1" => rs::pipe_reused(&urls, n),
        "ours-aseq" => runtime().block_on(async { aseq(ours::connect(&configs).await, n).await }),
        "redis-rs-aseq" => runtime().block_on(async { aseq(rs::connect(&urls).await, n).await }),
        "ours-mux64" => runtime().block_on(async { mux64(ours::connect(&configs).await, n).await }),
        "redis-rs-mux64" => runtime().block_on(async { mux64(rs::connect(&urls).await, n).await }),
        "ours-apipe" => runtime().block_on(ours::apipe(&configs, n)),
        other => panic!("unknown child run {other}"),
    };
    measure::print_result(n as f64 / secs, cpu);
}

/// Multi-thread tokio with two workers, as the single-node async bench.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("building a tokio runtime")
}

/// Checks one reply of the SET/GET alternation: op `i` on key index `k`.
fn check(i: usize, k: usize, reply: &str) {
    let want = if i.is_multiple_of(2) { "OK" } else { value(k) };
    assert_eq!(reply, want, "op {i} on key {k}: wrong reply");
}

/// The future of one async op (boxed: the same cost for both clients).
type OpFuture<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + 'a>>;

/// One SET/GET op of the alternation on an async cluster connection of either client.
trait AsyncOps: Clone + Send + 'static {
    /// Op `i` (SET when even, GET when odd) on its key, reply checked.
    fn op<'a>(&'a mut self, i: usize, keys: &'a [String]) -> OpFuture<'a>;
}

/// Async sequential round trips.
async fn aseq<C: AsyncOps>(mut con: C, n: usize) -> (f64, f64) {
    let keys = keys();
    for i in 0..WARMUP {
        con.op(i, &keys).await;
    }
    let t = Timer::start();
    for i in 0..n {
        con.op(i, &keys).await;
    }
    (t.secs(), t.cpu_ns_per(n))
}

/// `TASKS` tasks sharing one connection (clones of it), each on its own keys.
async fn mux64<C: AsyncOps>(con: C, n: usize) -> (f64, f64) {
    let keys = std::sync::Arc::new(keys());
    let per_task = n / TASKS;
    let run = |count: usize| {
        let tasks: Vec<_> = (0..TASKS)
            .map(|task| {
                let mut con = con.clone();
                let keys = keys.clone();
                tokio::spawn(async move {
                    for j in 0..count {
                        // SET then GET of the same key, each task on its own keys.
                        let i = (task * count + j / 2) * 2 + j % 2;
                        con.op(i, &keys).await;
                    }
                })
            })
            .collect();
        async move {
            for t in tasks {
                t.await.expect("task");
            }
        }
    };
    run(WARMUP / 10 * 2).await;
    let t = Timer::start();
    run(per_task).await;
    (t.secs(), t.cpu_ns_per(per_task * TASKS))
}

mod ours {
    use super::*;
    use redis_sync::ConnectionLike as _;

    pub fn seq(configs: &[Config], n: usize) -> (f64, f64) {
        let client = redis_cluster::sync::ClusterClient::open(configs.to_vec()).expect("client");
        let mut con = client.get_connection().expect("connection");
        let keys = keys();
        let op = |i: usize, con: &mut redis_cluster::sync::ClusterConnection| {
            let k = (i / 2) % KEYS;
            let c = if i.is_multiple_of(2) {
                redis_core::cmd("SET").with(&keys[k]).with(value(k))
            } else {
                redis_core::cmd("GET").with(&keys[k])
            };
            let v: String =
                redis_core::FromValue::from_value(con.req(&c).expect("reply")).expect("a string");
            check(i, k, &v);
        };
        for i in 0..WARMUP {
            op(i, &mut con);
        }
        let t = Timer::start();
        for i in 0..n {
            op(i, &mut con);
        }
        (t.secs(), t.cpu_ns_per(n))
    }

    fn set_pipeline(keys: &[String], from: usize) -> redis_core::Pipeline {
        let mut p = redis_core::pipe();
        for j in 0..PIPE {
            let k = (from + j) % KEYS;
            p.add(redis_core::cmd("SET").with(&keys[k]).with(value(k)));
        }
        p
    }

    fn check_pipeline(replies: Vec<redis_core::Value>) {
        assert_eq!(replies.len(), PIPE);
        for r in replies {
            let ok: String = redis_core::FromValue::from_value(r).expect("a status");
            assert_eq!(ok, "OK");
        }
    }

    pub fn pipe(configs: &[Config], n: usize) -> (f64, f64) {
        let client = redis_cluster::sync::ClusterClient::open(configs.to_vec()).expect("client");
        let mut con = client.get_connection().expect("connection");
        let keys = keys();
        check_pipeline(con.req_pipeline(&set_pipeline(&keys, 0)).expect("warm-up"));
        let t = Timer::start();
        for b in 0..n / PIPE {
            check_pipeline(
                con.req_pipeline(&set_pipeline(&keys, b * 7))
                    .expect("pipeline"),
            );
        }
        (t.secs(), t.cpu_ns_per(n))
    }

    /// `pipe` with one pipeline built before timing: what the client itself costs to
    /// route, send and read a pipeline, without the caller building one each time.
    pub fn pipe_reused(configs: &[Config], n: usize) -> (f64, f64) {
        let client = redis_cluster::sync::ClusterClient::open(configs.to_vec()).expect("client");
        let mut con = client.get_connection().expect("connection");
        let keys = keys();
        let p = set_pipeline(&keys, 0);
        check_pipeline(con.req_pipeline(&p).expect("warm-up"));
        let t = Timer::start();
        for _ in 0..n / PIPE {
            check_pipeline(con.req_pipeline(&p).expect("pipeline"));
        }
        (t.secs(), t.cpu_ns_per(n))
    }

    impl AsyncOps for redis_cluster::aio::ClusterConnection {
        fn op<'a>(&'a mut self, i: usize, keys: &'a [String]) -> OpFuture<'a> {
            Box::pin(aop(i, keys, self))
        }
    }

    async fn aop(i: usize, keys: &[String], con: &mut redis_cluster::aio::ClusterConnection) {
        use redis_async::ConnectionLike as _;
        let k = (i / 2) % KEYS;
        let c = if i.is_multiple_of(2) {
            redis_core::cmd("SET").with(&keys[k]).with(value(k))
        } else {
            redis_core::cmd("GET").with(&keys[k])
        };
        let v: String =
            redis_core::FromValue::from_value(con.req(&c).await.expect("reply")).expect("a string");
        check(i, k, &v);
    }

    pub async fn connect(configs: &[Config]) -> redis_cluster::aio::ClusterConnection {
        let client = redis_cluster::aio::ClusterClient::open(configs.to_vec()).expect("client");
        client.get_connection().await.expect("connection")
    }

    pub async fn apipe(configs: &[Config], n: usize) -> (f64, f64) {
        use redis_async::ConnectionLike as _;
        let mut con = connect(configs).await;
        let keys = keys();
        check_pipeline(
            con.req_pipeline(&set_pipeline(&keys, 0))
                .await
                .expect("warm-up"),
        );
        let t = Timer::start();
        for b in 0..n / PIPE {
            check_pipeline(
                con.req_pipeline(&set_pipeline(&keys, b * 7))
                    .await
                    .expect("pipeline"),
            );
        }
        (t.secs(), t.cpu_ns_per(n))
    }
}

mod rs {
    use super::*;

    fn op_cmd(i: usize, keys: &[String]) -> (usize, redis::Cmd) {
        let k = (i / 2) % KEYS;
        let mut c = if i.is_multiple_of(2) {
            redis::cmd("SET")
        } else {
            redis::cmd("GET")
        };
        c.arg(&keys[k]);
        if i.is_multiple_of(2) {
            c.arg(value(k));
        }
        (k, c)
    }

    pub fn seq(urls: &[String], n: usize) -> (f64, f64) {
        let client = redis::cluster::ClusterClient::new(urls.to_vec()).expect("client");
        let mut con = client.get_connection().expect("connection");
        let keys = keys();
        let mut op = |i: usize| {
            let (k, c) = op_cmd(i, &keys);
            let v: String = c.query(&mut con).expect("reply");
            check(i, k, &v);
        };
        for i in 0..WARMUP {
            op(i);
        }
        let t = Timer::start();
        for i in 0..n {
            op(i);
        }
        (t.secs(), t.cpu_ns_per(n))
    }

    pub fn pipe(urls: &[String], n: usize) -> (f64, f64) {
        let client = redis::cluster::ClusterClient::new(urls.to_vec()).expect("client");
        let mut con = client.get_connection().expect("connection");
        let keys = keys();
        let batch = |from: usize, con: &mut redis::cluster::ClusterConnection| {
            let mut p = redis::cluster::cluster_pipe();
            for j in 0..PIPE {
                let k = (from + j) % KEYS;
                p.cmd("SET").arg(&keys[k]).arg(value(k));
            }
            let replies: Vec<String> = p.query(con).expect("pipeline");
            assert_eq!(replies.len(), PIPE);
            assert!(replies.iter().all(|r| r == "OK"));
        };
        batch(0, &mut con);
        let t = Timer::start();
        for b in 0..n / PIPE {
            batch(b * 7, &mut con);
        }
        (t.secs(), t.cpu_ns_per(n))
    }

    /// `pipe` with one pipeline built before timing (see ours).
    pub fn pipe_reused(urls: &[String], n: usize) -> (f64, f64) {
        let client = redis::cluster::ClusterClient::new(urls.to_vec()).expect("client");
        let mut con = client.get_connection().expect("connection");
        let keys = keys();
        let mut p = redis::cluster::cluster_pipe();
        for (k, key) in keys.iter().enumerate().take(PIPE) {
            p.cmd("SET").arg(key).arg(value(k));
        }
        let send = |con: &mut redis::cluster::ClusterConnection| {
            let replies: Vec<String> = p.query(con).expect("pipeline");
            assert_eq!(replies.len(), PIPE);
            assert!(replies.iter().all(|r| r == "OK"));
        };
        send(&mut con);
        let t = Timer::start();
        for _ in 0..n / PIPE {
            send(&mut con);
        }
        (t.secs(), t.cpu_ns_per(n))
    }

    impl AsyncOps for redis::cluster_async::ClusterConnection {
        fn op<'a>(&'a mut self, i: usize, keys: &'a [String]) -> OpFuture<'a> {
            Box::pin(aop(i, keys, self))
        }
    }

    async fn aop(i: usize, keys: &[String], con: &mut redis::cluster_async::ClusterConnection) {
        let (k, c) = op_cmd(i, keys);
        let v: String = c.query_async(con).await.expect("reply");
        check(i, k, &v);
    }

    pub async fn connect(urls: &[String]) -> redis::cluster_async::ClusterConnection {
        let client = redis::cluster::ClusterClient::builder(urls.to_vec())
            .response_timeout(Duration::from_secs(10))
            .build()
            .expect("client");
        client.get_async_connection().await.expect("connection")
    }
}
