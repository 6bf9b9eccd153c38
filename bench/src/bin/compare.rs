//! One command, all ratios: this client against redis-rs and `redis-benchmark`, in one run,
//! against one private `redis-server` (see shared/bench/WORKLOADS.md for the workloads).
//!
//! ```text
//! compare [--quick] [--runs N]   all workloads, then the decoder ratios
//! compare --decoder [--quick]    only the decoder ratios (no server needed)
//! compare --child NAME --port P --n N   (internal) one timed run in its own process
//! ```
//!
//! Why the shape:
//! - Every client run is a child process (this binary re-executed with `--child`), so its
//!   peak RSS (`VmHWM`) is its own, measured the same way for both clients, and one run's
//!   heap never warms the next.
//! - Runs of the different clients are interleaved (ours, redis-rs, redis-benchmark, ours,
//!   ...), so a slow minute on this shared 2-core machine hits all of them alike; medians of
//!   the runs are reported, and ratios are taken between medians of the same run.
//! - Every reply is checked: SET must answer OK, GET must return the value just set (values
//!   differ per key, and per iteration for the large value), so a client that lost step
//!   or dropped data fails loudly instead of looking fast.
//! - Timing starts after the connection is open and warmed up (2,000 ops; 5 iterations for
//!   the 1 MiB value), as WORKLOADS.md says.

use std::fs;
use std::hint::black_box;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use redis_bench::{
    decode_ours, decode_redis_rs, large_bulk_reply, mixed_reply, shape_ours, shape_redis_rs, LARGE,
};
use redis_core::resp::Decoder;
use redis_sync::{cmd, commands, pipe, Commands, Query, Value};

/// Keys cycle over this many names: `bench:key:0000` .. `bench:key:0999`.
const KEYS: usize = 1000;
/// Warm-up ops before timing the small workloads.
const WARMUP_OPS: usize = 2000;
/// Warm-up iterations (one SET + one GET each) before timing the large workload.
const WARMUP_LARGE: usize = 5;
/// Commands per pipeline in (b).
const PIPE: usize = 1000;
/// The key of the large workload (one key, as redis-benchmark uses one key without -r).
const LARGE_KEY: &str = "bench:large";

/// What one full run measures; `--quick` shrinks the counts.
struct Sizes {
    runs: usize,
    seq_ops: usize,
    pipe_ops: usize,
    large_iters: usize,
    ping_ops: usize,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |name: &str| args.iter().any(|a| a == name);
    let value = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };

    if let Some(name) = value("--child") {
        let port: u16 = value("--port")
            .and_then(|p| p.parse().ok())
            .expect("--child needs --port PORT");
        let n: usize = value("--n")
            .and_then(|p| p.parse().ok())
            .expect("--child needs --n COUNT");
        run_child(&name, port, n);
        return;
    }

    let quick = flag("--quick");
    if flag("--decoder") {
        decoder_ratios(quick);
        return;
    }
    let mut sizes = if quick {
        Sizes {
            runs: 3,
            seq_ops: 20_000,
            pipe_ops: 200_000,
            large_iters: 50,
            ping_ops: 20_000,
        }
    } else {
        Sizes {
            runs: 5,
            seq_ops: 100_000,
            pipe_ops: 1_000_000,
            large_iters: 200,
            ping_ops: 100_000,
        }
    };
    if let Some(r) = value("--runs") {
        sizes.runs = r.parse().expect("--runs takes a number");
        assert!(sizes.runs >= 1, "--runs must be at least 1");
    }
    compare_all(&sizes);
    decoder_ratios(quick);
}

// ---------------------------------------------------------------------------------------
// The parent: server, runs, table.

fn compare_all(sizes: &Sizes) {
    let server = Server::start();
    let port = server.port;
    println!(
        "server: {} on 127.0.0.1:{port} (--save \"\" --appendonly no), pid {}",
        tool_version("redis-server"),
        server.child.id()
    );
    println!(
        "clients: ours (redis-sync, this tree) | redis-rs 1.8.1 sync Connection | {}",
        tool_version("redis-benchmark")
    );
    println!(
        "{} runs each, interleaved; medians below. cpus: {}\n",
        sizes.runs,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );

    let n = sizes.seq_ops.to_string();
    let ping = median_of(sizes.runs, |_| {
        let r = redis_benchmark(port, &["-n", &sizes.ping_ops.to_string(), "-t", "ping"]);
        mean(&r.iter().map(|(_, v)| *v).collect::<Vec<_>>())
    });

    // (a) seq_sync
    let a = measure(
        sizes.runs,
        port,
        &[("ours", "ours-a"), ("redis-rs", "redis-rs-a")],
        sizes.seq_ops,
        || {
            let r = redis_benchmark(port, &["-n", &n, "-t", "set,get"]);
            mean_rps(&r, &["SET", "GET"])
        },
    );

    // (b) pipe_sync
    let n = sizes.pipe_ops.to_string();
    let b = measure(
        sizes.runs,
        port,
        &[("ours", "ours-b"), ("redis-rs", "redis-rs-b")],
        sizes.pipe_ops,
        || {
            let r = redis_benchmark(port, &["-n", &n, "-P", "1000", "-t", "set"]);
            mean_rps(&r, &["SET"])
        },
    );

    // (e) large: MB/s (10^6 B) of value bytes moved. redis-benchmark reports requests/s of
    // one 1 MiB value each, so its MB/s is rps * 1 MiB / 10^6.
    let n = sizes.large_iters.to_string();
    let e = measure(
        sizes.runs,
        port,
        &[
            ("ours", "ours-e"),
            ("ours (Bytes)", "ours-bytes-e"),
            ("redis-rs", "redis-rs-e"),
        ],
        sizes.large_iters,
        || {
            let r = redis_benchmark(port, &["-n", &n, "-d", "1048576", "-t", "set,get"]);
            mean_rps(&r, &["SET", "GET"]) * LARGE as f64 / 1e6
        },
    );
    drop(server);

    println!("workload (median)               ours   redis-rs  redis-benchmark   ours/rs  ours/rb");
    println!(
        "PING floor (rb, ops/s)             -          -  {:>15}         -        -",
        fmt(ping)
    );
    row("(a) seq_sync ops/s", &a, "ours", "redis-rs");
    row("(b) pipe_sync ops/s", &b, "ours", "redis-rs");
    row("(e) large MB/s (Vec<u8>)", &e, "ours", "redis-rs");
    row(
        "(e) large MB/s (ours: Bytes)",
        &e,
        "ours (Bytes)",
        "redis-rs",
    );
    println!();
    // Wall-clock figures swing with whatever else runs on the 2 cores; the client's own CPU
    // time per op (user + kernel, from /proc/thread-self/schedstat) hardly does.
    println!(
        "client CPU per op (user+kernel, median)   ours   redis-rs   ours/rs (lower is better)"
    );
    for (what, m, ours) in [
        ("(a) seq_sync", &a, "ours"),
        ("(b) pipe_sync", &b, "ours"),
        ("(e) large, Vec<u8>", &e, "ours"),
        ("(e) large, ours Bytes", &e, "ours (Bytes)"),
    ] {
        println!(
            "  {what:<38} {:>8} {:>10} {:>9.2}",
            fmt_ns(m.cpu(ours)),
            fmt_ns(m.cpu("redis-rs")),
            m.cpu(ours) / m.cpu("redis-rs")
        );
    }
    println!();
    println!("peak RSS of the client process (VmHWM, KiB; median of runs)");
    for (what, m) in [("(a)", &a), ("(b)", &b), ("(e)", &e)] {
        println!(
            "  {what}: ours {:>7}  redis-rs {:>7}  ours/rs {:.3}",
            m.rss("ours"),
            m.rss("redis-rs"),
            m.rss("ours") as f64 / m.rss("redis-rs") as f64
        );
    }
    println!();
    println!("targets (same-run medians):");
    target("(a) ours / redis-benchmark", a.get("ours") / a.peer, 0.97);
    target(
        "(b) ours / redis-rs",
        b.get("ours") / b.get("redis-rs"),
        1.2,
    );
    target(
        "(e) ours / redis-rs MB/s",
        e.get("ours") / e.get("redis-rs"),
        2.0,
    );
    for (what, m) in [("(a)", &a), ("(b)", &b)] {
        let ratio = m.rss("ours") as f64 / m.rss("redis-rs") as f64;
        println!(
            "  {:<34} {:>6.3}  (want <= 1.00)  {}",
            format!("RSS {what} ours / redis-rs"),
            ratio,
            if ratio <= 1.0 { "MET" } else { "MISSED" }
        );
    }
    println!(
        "  (info) (a) ours/redis-rs {:.2}, (b) ours/redis-benchmark {:.2}, (e) ours/redis-benchmark {:.2}, (e) ours Bytes/redis-rs {:.2}",
        a.get("ours") / a.get("redis-rs"),
        b.get("ours") / b.peer,
        e.get("ours") / e.peer,
        e.get("ours (Bytes)") / e.get("redis-rs"),
    );
    println!();
}

/// Medians of one workload: per client (name, figure, peak RSS KiB, CPU ns per op), plus
/// the redis-benchmark figure.
struct Measured {
    clients: Vec<(&'static str, f64, u64, f64)>,
    peer: f64,
}

impl Measured {
    fn get(&self, name: &str) -> f64 {
        self.clients
            .iter()
            .find(|c| c.0 == name)
            .map(|c| c.1)
            .expect("unknown client name")
    }
    fn rss(&self, name: &str) -> u64 {
        self.clients
            .iter()
            .find(|c| c.0 == name)
            .map(|c| c.2)
            .expect("unknown client name")
    }
    fn cpu(&self, name: &str) -> f64 {
        self.clients
            .iter()
            .find(|c| c.0 == name)
            .map(|c| c.3)
            .expect("unknown client name")
    }
}

/// Runs each client (as a child process) and the redis-benchmark peer `runs` times,
/// interleaved, and keeps the medians.
fn measure(
    runs: usize,
    port: u16,
    clients: &[(&'static str, &str)],
    n: usize,
    peer: impl Fn() -> f64,
) -> Measured {
    eprint!("  ({}) runs:", clients[0].1.trim_start_matches("ours-"));
    let mut figures = vec![Vec::new(); clients.len()];
    let mut rss = vec![Vec::new(); clients.len()];
    let mut cpu = vec![Vec::new(); clients.len()];
    let mut peers = Vec::new();
    for _ in 0..runs {
        for (i, (_, child)) in clients.iter().enumerate() {
            let (figure, hwm, cpu_per_op) = spawn_child(child, port, n);
            figures[i].push(figure);
            rss[i].push(hwm as f64);
            cpu[i].push(cpu_per_op);
        }
        peers.push(peer());
        eprint!(" .");
    }
    eprintln!();
    Measured {
        clients: clients
            .iter()
            .enumerate()
            .map(|(i, (name, _))| {
                (
                    *name,
                    median(&figures[i]),
                    median(&rss[i]) as u64,
                    median(&cpu[i]),
                )
            })
            .collect(),
        peer: median(&peers),
    }
}

fn row(what: &str, m: &Measured, ours: &str, theirs: &str) {
    println!(
        "{what:<28} {:>10} {:>10} {:>16} {:>9.2} {:>8.2}",
        fmt(m.get(ours)),
        fmt(m.get(theirs)),
        fmt(m.peer),
        m.get(ours) / m.get(theirs),
        m.get(ours) / m.peer
    );
}

fn target(what: &str, ratio: f64, want: f64) {
    println!(
        "  {what:<34} {ratio:>6.2}  (want >= {want:.2})  {}",
        if ratio >= want { "MET" } else { "MISSED" }
    );
}

fn fmt(x: f64) -> String {
    if x.is_nan() {
        "-".into()
    } else if x >= 100_000.0 {
        format!("{:.0}k", x / 1000.0)
    } else if x >= 10_000.0 {
        format!("{:.1}k", x / 1000.0)
    } else {
        format!("{x:.0}")
    }
}

fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn median_of(runs: usize, mut f: impl FnMut(usize) -> f64) -> f64 {
    median(&(0..runs).map(&mut f).collect::<Vec<_>>())
}

fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

/// The mean requests/s of the named tests, as the brief for these comparisons asks.
fn mean_rps(results: &[(String, f64)], tests: &[&str]) -> f64 {
    let picked: Vec<f64> = tests
        .iter()
        .map(|t| {
            results
                .iter()
                .find(|(name, _)| name == t)
                .map(|(_, v)| *v)
                .unwrap_or_else(|| panic!("redis-benchmark printed no {t} figure: {results:?}"))
        })
        .collect();
    mean(&picked)
}

/// Runs `redis-benchmark -c 1 -q` against the private server; returns (test, requests/s).
fn redis_benchmark(port: u16, extra: &[&str]) -> Vec<(String, f64)> {
    let out = Command::new("redis-benchmark")
        .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-c", "1", "-q"])
        .args(extra)
        .stdin(Stdio::null())
        .output()
        .expect("running redis-benchmark (Debian package redis-tools)");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "redis-benchmark failed: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // -q prints progress lines ending in '\r' and, per test, a final line like
    // "SET: 17123.29 requests per second, p50=0.055 msec".
    let mut results = Vec::new();
    for line in text.split(['\r', '\n']) {
        let Some((name, rest)) = line.split_once(": ") else {
            continue;
        };
        let Some((num, _)) = rest.split_once(" requests per second") else {
            continue;
        };
        if let Ok(v) = num.trim().parse::<f64>() {
            results.push((name.trim().to_string(), v));
        }
    }
    assert!(
        !results.is_empty(),
        "no figures in redis-benchmark's output: {text}"
    );
    results
}

fn tool_version(tool: &str) -> String {
    Command::new(tool)
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|e| {
            panic!("{tool} not found ({e}); install Debian's redis-server/redis-tools")
        })
}

/// Re-executes this binary for one timed run; returns (figure, VmHWM KiB, CPU ns per op).
fn spawn_child(name: &str, port: u16, n: usize) -> (f64, u64, f64) {
    let exe = std::env::current_exe().expect("finding this binary's path");
    let out = Command::new(exe)
        .args([
            "--child",
            name,
            "--port",
            &port.to_string(),
            "--n",
            &n.to_string(),
        ])
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .expect("starting a child run");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "child run {name} failed: {text}");
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix("RESULT "))
        .unwrap_or_else(|| panic!("child run {name} printed no RESULT line: {text}"));
    let mut parts = line.split_whitespace();
    let figure = parts.next().and_then(|s| s.parse().ok());
    let hwm = parts.next().and_then(|s| s.parse().ok());
    let cpu = parts.next().and_then(|s| s.parse().ok());
    match (figure, hwm, cpu) {
        (Some(f), Some(h), Some(c)) => (f, h, c),
        _ => panic!("child run {name} printed a bad RESULT line: {line}"),
    }
}

/// A private redis-server on a free loopback port, in its own temp dir; stopped (by its
/// PID, through the `Child` handle) and cleaned up on drop.
struct Server {
    child: Child,
    dir: PathBuf,
    port: u16,
}

impl Server {
    fn start() -> Server {
        let mut last_log = String::new();
        // A port found free can be taken before the server binds it: try a few.
        for attempt in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("finding a free loopback port")
                .port();
            let dir = std::env::temp_dir().join(format!(
                "redis-bench-{}-{attempt}-{port}",
                std::process::id()
            ));
            fs::create_dir_all(&dir).expect("creating the server's temp dir");
            let log = dir.join("redis.log");
            let child = Command::new("redis-server")
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .args(["--save", "", "--appendonly", "no"])
                .arg("--dir")
                .arg(&dir)
                .arg("--logfile")
                .arg(&log)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("starting redis-server (Debian package redis-server)");
            let mut server = Server { child, dir, port };
            if server.wait_ready() {
                return server;
            }
            last_log = fs::read_to_string(&log).unwrap_or_default();
            drop(server);
        }
        panic!("redis-server did not come up; its last log:\n{last_log}");
    }

    fn wait_ready(&mut self) -> bool {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            if let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.port)) {
                let _ = s.set_read_timeout(Some(Duration::from_secs(1)));
                let mut reply = [0u8; 7];
                if s.write_all(b"PING\r\n").is_ok()
                    && s.read_exact(&mut reply).is_ok()
                    && &reply == b"+PONG\r\n"
                {
                    return true;
                }
            }
            sleep(Duration::from_millis(50));
        }
        false
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Only the server this process started, by its PID.
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = fs::remove_dir_all(&self.dir);
    }
}

// ---------------------------------------------------------------------------------------
// The child: one timed run of one client on one workload, then its own peak RSS.

fn run_child(name: &str, port: u16, n: usize) {
    let url = format!("redis://127.0.0.1:{port}/");
    let (figure, cpu_ns_per_op) = match name {
        "ours-a" => seq_ours(&url, n),
        "redis-rs-a" => seq_redis_rs(&url, n),
        "ours-b" => pipe_ours(&url, n),
        "redis-rs-b" => pipe_redis_rs(&url, n),
        "ours-e" => large_ours(&url, n, false),
        "ours-bytes-e" => large_ours(&url, n, true),
        "redis-rs-e" => large_redis_rs(&url, n),
        other => panic!("unknown child run {other}"),
    };
    println!("RESULT {figure} {} {cpu_ns_per_op}", peak_rss_kib());
}

/// Nanoseconds this (single-threaded) process has spent on a CPU, user and kernel time
/// together. Unlike wall time it hardly moves when other work shares the machine's cores,
/// so it shows the client's own cost per op even when the ops/s figures are noisy.
fn cpu_ns() -> u64 {
    fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse().ok()))
        .expect("reading /proc/thread-self/schedstat")
}

/// A timed section: wall clock and CPU time from its start.
struct Timer {
    wall: Instant,
    cpu: u64,
}

impl Timer {
    fn start() -> Timer {
        Timer {
            cpu: cpu_ns(),
            wall: Instant::now(),
        }
    }

    fn secs(&self) -> f64 {
        self.wall.elapsed().as_secs_f64()
    }

    fn cpu_ns_per(&self, ops: usize) -> f64 {
        (cpu_ns() - self.cpu) as f64 / ops as f64
    }
}

/// `VmHWM` of this process: the peak resident set size, in KiB.
fn peak_rss_kib() -> u64 {
    let status = fs::read_to_string("/proc/self/status").expect("reading /proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("no VmHWM line in /proc/self/status")
}

fn keys() -> Vec<String> {
    (0..KEYS).map(|i| format!("bench:key:{i:04}")).collect()
}

/// 3-byte values that differ per key, so a GET answered with another key's value fails.
fn values() -> Vec<Vec<u8>> {
    (0..KEYS).map(|i| format!("{i:03}").into_bytes()).collect()
}

/// (ops/s, CPU ns per op) of a timed section.
fn per_sec(ops: usize, t: Timer) -> (f64, f64) {
    (ops as f64 / t.secs(), t.cpu_ns_per(ops))
}

fn ours_connection(url: &str) -> redis_sync::Connection {
    redis_sync::Client::open(url)
        .and_then(|c| c.get_connection())
        .expect("connecting with our client")
}

fn redis_rs_connection(url: &str) -> redis::Connection {
    redis::Client::open(url)
        .and_then(|c| c.get_connection())
        .expect("connecting with redis-rs")
}

/// (a) ours: SET then GET, one round trip each; `n` ops in total.
fn seq_ours(url: &str, n: usize) -> (f64, f64) {
    let mut con = ours_connection(url);
    let (keys, values) = (keys(), values());
    let mut pair = |i: usize| {
        let k = i % KEYS;
        let set: Value = cmd("SET")
            .arg(&keys[k])
            .arg(&values[k][..])
            .query(&mut con)
            .expect("ours: SET failed");
        assert!(
            matches!(&set, Value::Okay),
            "ours: SET answered {set:?}"
        );
        let got: Vec<u8> = con.get(&keys[k]).expect("ours: GET failed");
        assert_eq!(got, values[k], "ours: GET returned another value");
    };
    (0..WARMUP_OPS / 2).for_each(&mut pair);
    let t = Timer::start();
    (0..n / 2).for_each(&mut pair);
    per_sec(n / 2 * 2, t)
}

/// (a) redis-rs: the same with its sync `Connection`.
fn seq_redis_rs(url: &str, n: usize) -> (f64, f64) {
    let mut con = redis_rs_connection(url);
    let (keys, values) = (keys(), values());
    let mut pair = |i: usize| {
        let k = i % KEYS;
        let set: redis::Value = redis::cmd("SET")
            .arg(&keys[k])
            .arg(&values[k][..])
            .query(&mut con)
            .expect("redis-rs: SET failed");
        assert_eq!(set, redis::Value::Okay, "redis-rs: SET answered {set:?}");
        let got: Vec<u8> = redis::cmd("GET")
            .arg(&keys[k])
            .query(&mut con)
            .expect("redis-rs: GET failed");
        assert_eq!(got, values[k], "redis-rs: GET returned another value");
    };
    (0..WARMUP_OPS / 2).for_each(&mut pair);
    let t = Timer::start();
    (0..n / 2).for_each(&mut pair);
    per_sec(n / 2 * 2, t)
}

/// (b) ours: pipelines of 1000 SETs, each reply checked to be OK. A new pipeline per batch,
/// as application code builds one.
fn pipe_ours(url: &str, n: usize) -> (f64, f64) {
    let mut con = ours_connection(url);
    let (keys, values) = (keys(), values());
    let mut batch = |b: usize| {
        let mut p = pipe();
        for j in 0..PIPE {
            let k = (b * PIPE + j) % KEYS;
            p.add(commands::set(&keys[k], &values[k][..]));
        }
        let replies: Vec<Value> = p.query(&mut con).expect("ours: pipeline failed");
        assert_eq!(
            replies.len(),
            PIPE,
            "ours: wrong number of pipeline replies"
        );
        for r in &replies {
            assert!(
                matches!(r, Value::Okay),
                "ours: SET in a pipeline answered {r:?}"
            );
        }
    };
    (0..WARMUP_OPS / PIPE).for_each(&mut batch);
    let t = Timer::start();
    (0..n / PIPE).for_each(&mut batch);
    per_sec(n / PIPE * PIPE, t)
}

/// (b) redis-rs: the same with `redis::pipe()`.
fn pipe_redis_rs(url: &str, n: usize) -> (f64, f64) {
    let mut con = redis_rs_connection(url);
    let (keys, values) = (keys(), values());
    let mut batch = |b: usize| {
        let mut p = redis::pipe();
        for j in 0..PIPE {
            let k = (b * PIPE + j) % KEYS;
            p.cmd("SET").arg(&keys[k]).arg(&values[k][..]);
        }
        let replies: Vec<redis::Value> = p.query(&mut con).expect("redis-rs: pipeline failed");
        assert_eq!(
            replies.len(),
            PIPE,
            "redis-rs: wrong number of pipeline replies"
        );
        for r in &replies {
            assert_eq!(
                *r,
                redis::Value::Okay,
                "redis-rs: SET in a pipeline answered {r:?}"
            );
        }
    };
    (0..WARMUP_OPS / PIPE).for_each(&mut batch);
    let t = Timer::start();
    (0..n / PIPE).for_each(&mut batch);
    per_sec(n / PIPE * PIPE, t)
}

/// A 1 MiB value whose first 8 bytes carry the iteration, so every GET is checked against
/// the value set just before it, not an older one.
fn large_value() -> Vec<u8> {
    (0..LARGE).map(|i| b'a' + (i % 26) as u8).collect()
}

fn mark(value: &mut [u8], iteration: usize) {
    value[..8].copy_from_slice(&(iteration as u64).to_le_bytes());
}

/// (MB/s, CPU ns per op) of a timed section of `iters` SET+GET pairs.
fn mb_per_sec(iters: usize, t: Timer) -> (f64, f64) {
    (
        (LARGE * 2 * iters) as f64 / t.secs() / 1e6,
        t.cpu_ns_per(2 * iters),
    )
}

/// (e) ours: SET then GET of 1 MiB, `iters` times. `zero_copy` reads the reply as `Bytes`
/// (a slice of the read buffer) instead of `Vec<u8>` (the type redis-rs returns), to show
/// what the zero-copy path is worth.
fn large_ours(url: &str, iters: usize, zero_copy: bool) -> (f64, f64) {
    let mut con = ours_connection(url);
    let mut value = large_value();
    let mut step = |i: usize| {
        mark(&mut value, i);
        let set: Value = cmd("SET")
            .arg(LARGE_KEY)
            .arg(&value[..])
            .query(&mut con)
            .expect("ours: SET 1 MiB failed");
        assert!(
            matches!(&set, Value::Okay),
            "ours: SET answered {set:?}"
        );
        if zero_copy {
            let got: bytes::Bytes = con.get(LARGE_KEY).expect("ours: GET 1 MiB failed");
            assert!(got[..] == value[..], "ours: GET returned another value");
            black_box(got);
        } else {
            let got: Vec<u8> = con.get(LARGE_KEY).expect("ours: GET 1 MiB failed");
            assert!(got == value, "ours: GET returned another value");
            black_box(got);
        }
    };
    (0..WARMUP_LARGE).for_each(&mut step);
    let t = Timer::start();
    (WARMUP_LARGE..WARMUP_LARGE + iters).for_each(&mut step);
    mb_per_sec(iters, t)
}

/// (e) redis-rs: the same, reading `Vec<u8>`.
fn large_redis_rs(url: &str, iters: usize) -> (f64, f64) {
    let mut con = redis_rs_connection(url);
    let mut value = large_value();
    let mut step = |i: usize| {
        mark(&mut value, i);
        let set: redis::Value = redis::cmd("SET")
            .arg(LARGE_KEY)
            .arg(&value[..])
            .query(&mut con)
            .expect("redis-rs: SET 1 MiB failed");
        assert_eq!(set, redis::Value::Okay, "redis-rs: SET answered {set:?}");
        let got: Vec<u8> = redis::cmd("GET")
            .arg(LARGE_KEY)
            .query(&mut con)
            .expect("redis-rs: GET 1 MiB failed");
        assert!(got == value, "redis-rs: GET returned another value");
        black_box(got);
    };
    (0..WARMUP_LARGE).for_each(&mut step);
    let t = Timer::start();
    (WARMUP_LARGE..WARMUP_LARGE + iters).for_each(&mut step);
    mb_per_sec(iters, t)
}

// ---------------------------------------------------------------------------------------
// Decoder ratios: a plain timing loop over the same inputs and steps as benches/decoder.rs.

fn decoder_ratios(quick: bool) {
    println!("decoder (same input; ours copies it into a BytesMut each iteration, see src/lib.rs)");
    println!("input                      ours/iter   redis-rs/iter   redis-rs time / ours time");
    let batches = if quick { 5 } else { 11 };
    for (name, input) in [
        ("mixed array, 100 elems", mixed_reply()),
        ("bulk string, 1 MiB", large_bulk_reply()),
    ] {
        assert_eq!(
            shape_ours(&decode_ours(&mut Decoder::default(), &input)),
            shape_redis_rs(&decode_redis_rs(&mut redis::Parser::new(), &input)),
            "the decoders disagree on {name}"
        );
        let mut ours = Decoder::default();
        let mut parser = redis::Parser::new();
        // Size a batch to ~40 ms of the slower decoder, then alternate batches of the two.
        let per_batch = calibrate(|| {
            black_box(decode_redis_rs(&mut parser, black_box(&input)));
        });
        let mut t_ours = Vec::new();
        let mut t_rs = Vec::new();
        for _ in 0..batches {
            t_ours.push(time_batch(per_batch, || {
                black_box(decode_ours(&mut ours, black_box(&input)));
            }));
            t_rs.push(time_batch(per_batch, || {
                black_box(decode_redis_rs(&mut parser, black_box(&input)));
            }));
        }
        let (o, r) = (median(&t_ours), median(&t_rs));
        println!(
            "{name:<24} {:>11} {:>15} {:>14.2}x",
            fmt_ns(o),
            fmt_ns(r),
            r / o
        );
    }
}

/// Iterations that take about 40 ms.
fn calibrate(mut f: impl FnMut()) -> usize {
    let mut n = 1;
    loop {
        let t = Instant::now();
        for _ in 0..n {
            f();
        }
        if t.elapsed() >= Duration::from_millis(40) || n >= 1 << 24 {
            return n;
        }
        n *= 2;
    }
}

/// Nanoseconds per iteration over one batch.
fn time_batch(n: usize, mut f: impl FnMut()) -> f64 {
    let t = Instant::now();
    for _ in 0..n {
        f();
    }
    t.elapsed().as_nanos() as f64 / n as f64
}

fn fmt_ns(ns: f64) -> String {
    if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.2} us", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}
