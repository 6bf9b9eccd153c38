//! One command, all ratios: this client against redis-rs and `redis-benchmark`, in one run,
//! against one private `redis-server` (see shared/bench/WORKLOADS.md for the workloads).
//!
//! ```text
//! compare [--quick] [--runs N] [--tries T]   all workloads (blocking and async), then the
//!                                decoder ratios; T tries of a noisy run (3; 1: no re-runs)
//! compare --sync [--quick]       only the blocking workloads (a), (b), (e), then the decoder
//! compare --async [--quick]      only the async workloads (c), (d), (e), (f), on both tokio
//!                                runtimes; no decoder ratios
//! compare --decoder [--quick]    only the decoder ratios (no server needed)
//! compare --child NAME --port P --n N   (internal) one timed run in its own process;
//!                                an async NAME ends in @mt or @ct (the tokio runtime)
//! ```
//!
//! Why the shape:
//! - Every client run is a child process (this binary re-executed with `--child`), so its
//!   peak RSS (`VmHWM`) is its own, measured the same way for both clients, and one run's
//!   heap never warms the next.
//! - Runs of the different clients are interleaved (ours, redis-rs, redis-benchmark, ours,
//!   ...), so a slow minute on this shared 2-core machine hits all of them alike; medians of
//!   the runs are reported with their min-max spread, and ratios are taken between medians
//!   of the same run, each with the ratio of CPU time per op beside it.
//! - Every run is under the quietness check (`measure::quiet_run`): a run during which
//!   other processes used more than `measure::NOISY_SHARE` of a core is re-run in its own
//!   slot, and kept but marked `*` if it stays noisy; the last line says whether the whole
//!   bench passed.
//! - Every reply is checked: SET must answer OK, GET must return the value just set (values
//!   differ per key, and per iteration for the large value), so a client that lost step
//!   or dropped data fails loudly instead of looking fast.
//! - Timing starts after the connection is open and warmed up (2,000 ops; 5 iterations for
//!   the 1 MiB value), as WORKLOADS.md says.
//! - (d) is compared with our blocking client from runs interleaved with the (d) runs, not
//!   with the (a) section minutes earlier: on this VM a lone connection's round trip moves
//!   3-5x with how idle the vCPUs are.

use std::fs;
use std::hint::black_box;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use redis_bench::measure::{self, median, spread, Timer};
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
    /// (c) mux64, ops in all over the 64 tasks.
    mux_ops: usize,
    /// (d) seq_async.
    seq_async_ops: usize,
    /// (f) pipe_async.
    pipe_async_ops: usize,
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
            mux_ops: 100_000,
            seq_async_ops: 20_000,
            pipe_async_ops: 200_000,
        }
    } else {
        Sizes {
            runs: 5,
            seq_ops: 100_000,
            pipe_ops: 1_000_000,
            large_iters: 200,
            ping_ops: 100_000,
            mux_ops: 400_000,
            seq_async_ops: 100_000,
            pipe_async_ops: 1_000_000,
        }
    };
    if let Some(t) = value("--tries") {
        measure::set_tries(t.parse().expect("--tries takes a number"));
    }
    if let Some(r) = value("--runs") {
        sizes.runs = r.parse().expect("--runs takes a number");
        assert!(sizes.runs >= 1, "--runs must be at least 1");
    }
    // Neither switch: both.
    let (sync, asynch) = match (flag("--sync"), flag("--async")) {
        (false, false) => (true, true),
        (s, a) => (s, a),
    };
    compare_all(&sizes, sync, asynch);
    if sync {
        decoder_ratios(quick);
    }
}

// ---------------------------------------------------------------------------------------
// The parent: server, runs, table.

fn compare_all(sizes: &Sizes, sync: bool, asynch: bool) {
    let server = Server::start();
    let port = server.port;
    let srv = Target {
        port,
        pid: server.child.id(),
    };
    println!(
        "server: {} on 127.0.0.1:{port} (--save \"\" --appendonly no), pid {}",
        tool_version("redis-server"),
        server.child.id()
    );
    if sync {
        println!(
            "blocking: ours (redis-sync, this tree) | redis-rs 1.8.1 sync Connection | {}",
            tool_version("redis-benchmark")
        );
    }
    if asynch {
        println!(
            "async: ours (redis-async, this tree, multiplexed Connection unless said) | \
             redis-rs 1.8.1 MultiplexedConnection (tokio-comp) | fred 10.1.0 Client; \
             tokio multi-thread (2 workers) and current-thread"
        );
    }
    println!(
        "{} runs each, interleaved; medians below. cpus: {}\n",
        sizes.runs,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    if sync {
        sync_workloads(sizes, srv);
    }
    if asynch {
        async_workloads(sizes, srv);
    }
    println!("{}", measure::quiet_summary());
    drop(server);
}

/// The server under test: its port, and its PID for the quietness check (its CPU time is
/// the bench's own, not another process's).
#[derive(Clone, Copy)]
struct Target {
    port: u16,
    pid: u32,
}

/// (a), (b), (e) with the blocking clients and redis-benchmark; prints their table.
fn sync_workloads(sizes: &Sizes, srv: Target) {
    let port = srv.port;
    let n = sizes.seq_ops.to_string();
    let ping: Vec<f64> = (0..sizes.runs)
        .map(|_| {
            measure::quiet_run(&[srv.pid], || {
                let r = redis_benchmark(port, &["-n", &sizes.ping_ops.to_string(), "-t", "ping"]);
                mean(&r.iter().map(|(_, v)| *v).collect::<Vec<_>>())
            })
            .0
        })
        .collect();

    // (a) seq_sync
    let a = measure(
        "a",
        sizes.runs,
        srv,
        &[("ours", "ours-a"), ("redis-rs", "redis-rs-a")],
        sizes.seq_ops,
        || {
            let r = redis_benchmark(port, &["-n", &n, "-t", "set,get"]);
            Some((mean_rps(&r, &["SET", "GET"]), 2 * sizes.seq_ops))
        },
    );

    // (b) pipe_sync
    let n = sizes.pipe_ops.to_string();
    let b = measure(
        "b",
        sizes.runs,
        srv,
        &[("ours", "ours-b"), ("redis-rs", "redis-rs-b")],
        sizes.pipe_ops,
        || {
            let r = redis_benchmark(port, &["-n", &n, "-P", "1000", "-t", "set"]);
            Some((mean_rps(&r, &["SET"]), sizes.pipe_ops))
        },
    );

    // (e) large: MB/s (10^6 B) of value bytes moved. redis-benchmark reports requests/s of
    // one 1 MiB value each, so its MB/s is rps * 1 MiB / 10^6.
    let n = sizes.large_iters.to_string();
    let e = measure(
        "e",
        sizes.runs,
        srv,
        &[
            ("ours", "ours-e"),
            ("ours (Bytes)", "ours-bytes-e"),
            ("redis-rs", "redis-rs-e"),
        ],
        sizes.large_iters,
        || {
            let r = redis_benchmark(port, &["-n", &n, "-d", "1048576", "-t", "set,get"]);
            Some((
                mean_rps(&r, &["SET", "GET"]) * LARGE as f64 / 1e6,
                2 * sizes.large_iters,
            ))
        },
    );

    println!(
        "{:<30} {:>22} {:>22} {:>22}   {:<17} {:<17}",
        "workload: median [min-max]",
        "ours",
        "redis-rs",
        "redis-benchmark",
        "ours/rs (CPU/op)",
        "ours/rb (CPU/op)"
    );
    println!(
        "{:<30} {:>22} {:>22} {:>22}",
        "PING floor (rb, ops/s)",
        "-",
        "-",
        spread(&ping, fmt)
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
    println!(
        "  (CPU/op: the same ratio of CPU time per op, lower is better; * marks a figure with \
         a run kept although other processes were busy)"
    );
    println!();
    // Wall-clock figures swing with whatever else runs on the 2 cores; the client's own CPU
    // time per op (user + kernel, all its threads) hardly does.
    println!(
        "client CPU per op (user+kernel, median)   ours   redis-rs   redis-benchmark   ours/rs (lower is better)"
    );
    for (what, m, ours) in [
        ("(a) seq_sync", &a, "ours"),
        ("(b) pipe_sync", &b, "ours"),
        ("(e) large, Vec<u8>", &e, "ours"),
        ("(e) large, ours Bytes", &e, "ours (Bytes)"),
    ] {
        println!(
            "  {what:<38} {:>8} {:>10} {:>17} {:>9.2}",
            fmt_ns(m.cpu(ours)),
            fmt_ns(m.cpu("redis-rs")),
            fmt_ns(m.peer_cpu()),
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
    target(
        "(a) ours / redis-benchmark",
        a.get("ours") / a.peer(),
        a.cpu("ours") / a.peer_cpu(),
        0.97,
    );
    target(
        "(b) ours / redis-rs",
        b.get("ours") / b.get("redis-rs"),
        b.cpu("ours") / b.cpu("redis-rs"),
        1.2,
    );
    target(
        "(e) ours / redis-rs MB/s",
        e.get("ours") / e.get("redis-rs"),
        e.cpu("ours") / e.cpu("redis-rs"),
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
        b.get("ours") / b.peer(),
        e.get("ours") / e.peer(),
        e.get("ours (Bytes)") / e.get("redis-rs"),
    );
    println!();
}

/// The tokio runtimes every async workload runs on: (child suffix, what the table says).
const RUNTIMES: [(&str, &str); 2] = [("mt", "multi-thread, 2 workers"), ("ct", "current-thread")];

/// (c), (d), (e), (f) with the async clients, on both runtimes; prints their tables, the
/// TCP_NODELAY effect, CPU per op, peak RSS and the targets.
fn async_workloads(sizes: &Sizes, srv: Target) {
    // Child names: CLIENT-WORKLOAD@RUNTIME; table names: CLIENT@RUNTIME. Within a run the
    // clients alternate (ours, redis-rs, fred, ours' variants), runtimes too.
    let set = |workload: &str, clients: &[&str]| -> Vec<(String, String)> {
        let mut v = Vec::new();
        for (rt, _) in RUNTIMES {
            for c in clients {
                v.push((format!("{c}@{rt}"), format!("{c}-{workload}@{rt}")));
            }
        }
        v
    };
    let run = |label: &str, list: Vec<(String, String)>, n: usize| -> Measured {
        let refs: Vec<(&str, &str)> = list.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        measure(label, sizes.runs, srv, &refs, n, || None)
    };
    let c = run(
        "c mux64",
        set("c", &["ours", "redis-rs", "fred", "ours-nodelay-off"]),
        sizes.mux_ops,
    );
    // (d) is also compared with our blocking client, so that client's (a) run is
    // interleaved with the (d) runs: on this VM a single connection's round trip moves 3-5x
    // with how idle the vCPUs are (wake-up from idle dominates it), so an (a) figure taken
    // minutes earlier, in the blocking section, is no fair reference.
    let mut d_list = set("d", &["ours", "redis-rs", "fred", "ours-dedicated"]);
    d_list.push(("ours-blocking".into(), "ours-a".into()));
    let d = run("d seq_async", d_list, sizes.seq_async_ops);
    let e = run(
        "e large async",
        set("e", &["ours", "redis-rs", "fred", "ours-dedicated"]),
        sizes.large_iters,
    );
    let f = run(
        "f pipe_async",
        set("f", &["ours", "redis-rs", "fred", "ours-nodelay-off"]),
        sizes.pipe_async_ops,
    );

    println!(
        "{:<26} {:<15} {:>22} {:>22} {:>22}   {:<17} {:<17}",
        "async: median [min-max]",
        "runtime",
        "ours",
        "redis-rs",
        "fred",
        "ours/rs (CPU/op)",
        "ours/fred (CPU/op)"
    );
    let rows: [(&str, &Measured, &str); 8] = [
        ("(c) mux64 ops/s", &c, "ours"),
        ("(c) ours TCP_NODELAY off", &c, "ours-nodelay-off"),
        ("(d) seq_async ops/s", &d, "ours"),
        ("(d) ours dedicated", &d, "ours-dedicated"),
        ("(e) large async MB/s", &e, "ours"),
        ("(e) ours dedicated", &e, "ours-dedicated"),
        ("(f) pipe_async ops/s", &f, "ours"),
        ("(f) ours TCP_NODELAY off", &f, "ours-nodelay-off"),
    ];
    for (what, m, ours) in rows {
        for (rt, _) in RUNTIMES {
            let name = |c: &str| format!("{c}@{rt}");
            let ratio = |peer: &str| {
                format!(
                    "{:.2} ({:.2})",
                    m.get(&name(ours)) / m.get(&name(peer)),
                    m.cpu(&name(ours)) / m.cpu(&name(peer))
                )
            };
            println!(
                "{what:<26} {:<15} {:>22} {:>22} {:>22}   {:<17} {:<17}",
                if rt == "mt" {
                    "multi-thread"
                } else {
                    "current-thread"
                },
                m.spread(&name(ours)),
                m.spread(&name("redis-rs")),
                m.spread(&name("fred")),
                ratio("redis-rs"),
                ratio("fred"),
            );
        }
    }
    println!(
        "  (multi-thread: 2 workers; CPU/op: the same ratio of CPU time per op over all the \
         client's threads, lower is better; * marks a figure with a run kept although other \
         processes were busy)"
    );
    println!();
    let a = d.get("ours-blocking");
    println!(
        "(d) against our blocking client's (a), run interleaved with the (d) runs ({} ops/s):",
        fmt(a)
    );
    for (rt, rt_name) in RUNTIMES {
        let cpu_a = d.cpu("ours-blocking");
        println!(
            "  {rt_name:<24} multiplexed {:.2}x (CPU/op {:.2}x), dedicated {:.2}x (CPU/op {:.2}x)",
            d.get(&format!("ours@{rt}")) / a,
            d.cpu(&format!("ours@{rt}")) / cpu_a,
            d.get(&format!("ours-dedicated@{rt}")) / a,
            d.cpu(&format!("ours-dedicated@{rt}")) / cpu_a,
        );
    }
    println!("TCP_NODELAY, ours (on is the default): figure with it on / with it off");
    for (rt, rt_name) in RUNTIMES {
        let ratio = |m: &Measured| {
            format!(
                "{:.2}x (CPU/op {:.2}x)",
                m.get(&format!("ours@{rt}")) / m.get(&format!("ours-nodelay-off@{rt}")),
                m.cpu(&format!("ours@{rt}")) / m.cpu(&format!("ours-nodelay-off@{rt}"))
            )
        };
        println!("  {rt_name:<24} (c) {}   (f) {}", ratio(&c), ratio(&f));
    }
    println!();
    println!(
        "client CPU per op, all threads (user+kernel, median)   ours   redis-rs       fred   ours/rs"
    );
    for (what, m) in [("(c)", &c), ("(d)", &d), ("(e)", &e), ("(f)", &f)] {
        for (rt, rt_name) in RUNTIMES {
            let at = |cl: &str| m.cpu(&format!("{cl}@{rt}"));
            println!(
                "  {:<44} {:>10} {:>10} {:>10} {:>9.2}",
                format!("{what} {rt_name}"),
                fmt_ns(at("ours")),
                fmt_ns(at("redis-rs")),
                fmt_ns(at("fred")),
                at("ours") / at("redis-rs"),
            );
        }
    }
    println!();
    println!("peak RSS of the async client process (VmHWM, KiB; median of runs)");
    for (what, m) in [("(c)", &c), ("(d)", &d), ("(f)", &f), ("(e) 1 MiB", &e)] {
        for (rt, rt_name) in RUNTIMES {
            let at = |cl: &str| m.rss(&format!("{cl}@{rt}"));
            println!(
                "  {:<34} ours {:>7}  redis-rs {:>7}  fred {:>7}  ours/rs {:.3}",
                format!("{what} {rt_name}"),
                at("ours"),
                at("redis-rs"),
                at("fred"),
                at("ours") as f64 / at("redis-rs") as f64
            );
        }
    }
    println!();
    println!("async targets (same-run medians):");
    for (rt, rt_name) in RUNTIMES {
        let ratio = |m: &Measured, ours: &str, peer: &str| {
            m.get(&format!("{ours}@{rt}")) / m.get(&format!("{peer}@{rt}"))
        };
        let cpu = |m: &Measured, ours: &str, peer: &str| {
            m.cpu(&format!("{ours}@{rt}")) / m.cpu(&format!("{peer}@{rt}"))
        };
        println!("  {rt_name}:");
        for (what, m, want) in [
            ("(c) ours / redis-rs", &c, 1.5),
            ("(d) ours / redis-rs", &d, 1.1),
            ("(e) ours / redis-rs MB/s", &e, 2.0),
            ("(f) ours / redis-rs", &f, 1.2),
        ] {
            target(
                what,
                ratio(m, "ours", "redis-rs"),
                cpu(m, "ours", "redis-rs"),
                want,
            );
        }
        target(
            "(d) ours / our blocking (a)",
            d.get(&format!("ours@{rt}")) / a,
            d.cpu(&format!("ours@{rt}")) / d.cpu("ours-blocking"),
            0.9,
        );
        for (what, m) in [("(c)", &c), ("(d)", &d), ("(f)", &f)] {
            let r = m.rss(&format!("ours@{rt}")) as f64 / m.rss(&format!("redis-rs@{rt}")) as f64;
            println!(
                "  {:<34} {:>6.3}  (want <= 1.00)  {}",
                format!("RSS {what} ours / redis-rs"),
                r,
                if r <= 1.0 { "MET" } else { "MISSED" }
            );
        }
    }
    println!();
}

/// Every kept run of one client on one workload.
struct Runs {
    name: String,
    figures: Vec<f64>,
    rss: Vec<f64>,
    cpu: Vec<f64>,
    /// Kept runs during which other processes were busy (see `measure::NOISY_SHARE`).
    noisy: usize,
}

impl Runs {
    fn new(name: &str) -> Runs {
        Runs {
            name: name.to_string(),
            figures: Vec::new(),
            rss: Vec::new(),
            cpu: Vec::new(),
            noisy: 0,
        }
    }
}

/// One workload: every client's runs, and the redis-benchmark peer's (figure, CPU ns per op).
struct Measured {
    clients: Vec<Runs>,
    peer: Runs,
}

impl Measured {
    fn runs(&self, name: &str) -> &Runs {
        self.clients
            .iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("unknown client name {name}"))
    }
    /// Median figure.
    fn get(&self, name: &str) -> f64 {
        median(&self.runs(name).figures)
    }
    /// Median peak RSS, KiB.
    fn rss(&self, name: &str) -> u64 {
        median(&self.runs(name).rss) as u64
    }
    /// Median CPU ns per op.
    fn cpu(&self, name: &str) -> f64 {
        median(&self.runs(name).cpu)
    }
    /// `median [min-max]` of the figures, `*` if a kept run was noisy.
    fn spread(&self, name: &str) -> String {
        spread_of(self.runs(name))
    }
    fn peer(&self) -> f64 {
        median(&self.peer.figures)
    }
    fn peer_cpu(&self) -> f64 {
        median(&self.peer.cpu)
    }
}

fn spread_of(r: &Runs) -> String {
    let mark = if r.noisy > 0 { "*" } else { "" };
    format!("{}{mark}", spread(&r.figures, fmt))
}

/// Runs each client (as a child process) and the redis-benchmark peer (`peer` returns its
/// figure and its ops, or None for no peer) `runs` times, interleaved: ours, redis-rs, ...,
/// the peer, then again. Every run is under the quietness check: re-run in its own slot
/// while other processes are busy, kept and flagged if they stay busy.
fn measure(
    label: &str,
    runs: usize,
    target: Target,
    clients: &[(&str, &str)],
    n: usize,
    peer: impl Fn() -> Option<(f64, usize)>,
) -> Measured {
    eprint!("  ({label}) runs:");
    let mut m = Measured {
        clients: clients.iter().map(|(name, _)| Runs::new(name)).collect(),
        peer: Runs::new("redis-benchmark"),
    };
    for _ in 0..runs {
        for (i, (_, child)) in clients.iter().enumerate() {
            let (run, q) =
                measure::spawn_child_quiet(&child_args(child, target.port, n), &[target.pid]);
            let r = &mut m.clients[i];
            r.figures.push(run.figure);
            r.rss.push(run.hwm as f64);
            r.cpu.push(run.cpu);
            r.noisy += usize::from(q.noisy());
            progress(&q);
        }
        let (figure, q) = measure::quiet_run(&[target.pid], &peer);
        if let Some((figure, ops)) = figure {
            m.peer.figures.push(figure);
            m.peer.cpu.push(q.child_cpu_secs * 1e9 / ops as f64);
            m.peer.noisy += usize::from(q.noisy());
            progress(&q);
        }
        eprint!(" |");
    }
    eprintln!();
    m
}

/// One mark per kept run on stderr: the share of a core other processes used during it,
/// `rN:` before it if it took N tries, `!` if it is kept noisy.
fn progress(q: &measure::Quietness) {
    let tries = if q.tries > 1 {
        format!("r{}:", q.tries)
    } else {
        String::new()
    };
    let mark = if q.noisy() { "!" } else { "" };
    eprint!(" {mark}{tries}{:.0}%", q.others * 100.0);
}

/// One row of the blocking table: every figure with its spread, then each ratio with the
/// ratio of CPU per op beside it.
fn row(what: &str, m: &Measured, ours: &str, theirs: &str) {
    let peer = if m.peer.figures.is_empty() {
        "-".to_string()
    } else {
        spread_of(&m.peer)
    };
    println!(
        "{what:<30} {:>22} {:>22} {:>22}   {:<17} {:<17}",
        m.spread(ours),
        m.spread(theirs),
        peer,
        format!(
            "{:.2} ({:.2})",
            m.get(ours) / m.get(theirs),
            m.cpu(ours) / m.cpu(theirs)
        ),
        format!(
            "{:.2} ({:.2})",
            m.get(ours) / m.peer(),
            m.cpu(ours) / m.peer_cpu()
        ),
    );
}

/// One target line: the wall-clock ratio against its goal, and the ratio of CPU time per
/// op beside it (lower is better), which these shared machines move far less.
fn target(what: &str, ratio: f64, cpu: f64, want: f64) {
    println!(
        "  {what:<34} {ratio:>6.2}  (want >= {want:.2})  {:<6}  CPU/op {cpu:.2}x",
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

/// The arguments that re-execute this binary for one timed run of `name`.
fn child_args(name: &str, port: u16, n: usize) -> Vec<String> {
    [
        "--child",
        name,
        "--port",
        &port.to_string(),
        "--n",
        &n.to_string(),
    ]
    .map(str::to_owned)
    .to_vec()
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
    if let Some((base, runtime)) = name.split_once('@') {
        let (figure, cpu_ns_per_op) = asynch::run_child(base, runtime, &url, n);
        measure::print_result(figure, cpu_ns_per_op);
        return;
    }
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
    measure::print_result(figure, cpu_ns_per_op);
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
        assert!(matches!(&set, Value::Okay), "ours: SET answered {set:?}");
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
        assert!(matches!(&set, Value::Okay), "ours: SET answered {set:?}");
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

// ---------------------------------------------------------------------------------------
// The async workloads (c), (d), (e), (f): every client behind one small trait, so that all
// of them run exactly the same loops, on the runtime the child was asked for.

mod asynch {
    use std::future::Future;
    use std::hint::black_box;
    use std::sync::Arc;

    use redis_async::{commands, pipe, Commands, Query, Value};

    use super::{
        keys, large_value, mark, mb_per_sec, per_sec, values, Timer, KEYS, LARGE_KEY, PIPE,
        WARMUP_LARGE, WARMUP_OPS,
    };

    /// Tasks sharing the one connection in (c).
    pub const TASKS: usize = 64;

    /// One child run: `base` is `CLIENT-WORKLOAD` (e.g. `ours-c`, `redis-rs-f`), `runtime`
    /// is `mt` (multi-thread, 2 workers) or `ct` (current-thread). The workload runs in a
    /// spawned task, as a server's request handler would, not in `block_on` itself.
    pub fn run_child(base: &str, runtime: &str, url: &str, n: usize) -> (f64, f64) {
        let rt = match runtime {
            "mt" => tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build(),
            "ct" => tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build(),
            other => panic!("unknown runtime {other} (mt or ct)"),
        }
        .expect("building the tokio runtime");
        let (client, workload) = base
            .rsplit_once('-')
            .unwrap_or_else(|| panic!("bad child name {base}"));
        let (client, workload, url) = (client.to_string(), workload.to_string(), url.to_string());
        let figures = rt.block_on(async move {
            tokio::spawn(async move {
                match client.as_str() {
                    "ours" => on(OursMux::open(&url, true).await, &workload, n).await,
                    "ours-nodelay-off" => on(OursMux::open(&url, false).await, &workload, n).await,
                    "ours-dedicated" => on(OursDedicated::open(&url).await, &workload, n).await,
                    "redis-rs" => on(RedisRs::open(&url).await, &workload, n).await,
                    "fred" => on(Fred::open(&url).await, &workload, n).await,
                    other => panic!("unknown async client {other}"),
                }
            })
            .await
            .expect("the workload task panicked")
        });
        rt.shutdown_background();
        figures
    }

    async fn on<B: AsyncBench>(con: B, workload: &str, n: usize) -> (f64, f64) {
        match workload {
            "c" => mux(con, n).await,
            "d" => seq(con, n).await,
            "e" => large(con, n).await,
            "f" => pipelined(con, n).await,
            other => panic!("unknown async workload {other}"),
        }
    }

    /// One async client under test. Every method checks its reply and panics on a wrong
    /// one, so a client that lost step fails loudly instead of looking fast.
    pub trait AsyncBench: Send + Sized + 'static {
        /// Another handle on the same connection (the same socket), for another task.
        fn handle(&self) -> Self;
        /// SET, checked to answer OK. Ours uses its typed method (`Commands::set`), the
        /// idiomatic call, which hands the command's bytes to the driver without a copy;
        /// redis-rs's typed method builds the same `cmd("SET")` as used here.
        fn set(&mut self, key: &str, value: &[u8]) -> impl Future<Output = ()> + Send;
        /// GET, read as `Vec<u8>` (the type every client returns alike).
        fn get(&mut self, key: &str) -> impl Future<Output = Vec<u8>> + Send;
        /// One pipeline of PIPE SETs of keys `first..first + PIPE` (mod KEYS), a new
        /// pipeline per batch as application code builds one; every reply checked.
        fn set_pipeline(
            &mut self,
            keys: &[String],
            values: &[Vec<u8>],
            first: usize,
        ) -> impl Future<Output = ()> + Send;
    }

    /// Ours, multiplexed (`Client::get_connection`); `nodelay` sets `Config::tcp_nodelay`
    /// (on by default).
    struct OursMux(redis_async::Connection);

    impl OursMux {
        async fn open(url: &str, nodelay: bool) -> OursMux {
            let mut config = redis_core::Config::from_url(url).expect("ours: bad URL");
            config.tcp_nodelay = nodelay;
            let client = redis_async::Client::open(config).expect("ours: bad config");
            OursMux(
                client
                    .get_connection()
                    .await
                    .expect("connecting with our async client"),
            )
        }
    }

    impl AsyncBench for OursMux {
        fn handle(&self) -> Self {
            OursMux(self.0.clone())
        }
        async fn set(&mut self, key: &str, value: &[u8]) {
            let set: Value = self
                .0
                .set(key, value)
                .await
                .expect("ours async: SET failed");
            assert!(
                matches!(set, Value::Okay),
                "ours async: SET answered {set:?}"
            );
        }
        async fn get(&mut self, key: &str) -> Vec<u8> {
            self.0.get(key).await.expect("ours async: GET failed")
        }
        async fn set_pipeline(&mut self, keys: &[String], values: &[Vec<u8>], first: usize) {
            let mut p = pipe();
            for j in 0..PIPE {
                let k = (first + j) % KEYS;
                p.add(commands::set(&keys[k], &values[k][..]));
            }
            let replies: Vec<Value> = p
                .query(&mut self.0)
                .await
                .expect("ours async: pipeline failed");
            check_pipeline(
                "ours async",
                replies.len(),
                replies.iter().all(|r| matches!(r, Value::Okay)),
            );
        }
    }

    /// Ours, one caller at a time (`Client::get_dedicated_connection`): no driver task.
    struct OursDedicated(redis_async::DedicatedConnection);

    impl OursDedicated {
        async fn open(url: &str) -> OursDedicated {
            let client = redis_async::Client::open(url).expect("ours: bad URL");
            OursDedicated(
                client
                    .get_dedicated_connection()
                    .await
                    .expect("connecting with our async client (dedicated)"),
            )
        }
    }

    impl AsyncBench for OursDedicated {
        fn handle(&self) -> Self {
            panic!("a dedicated connection is not shared between tasks")
        }
        async fn set(&mut self, key: &str, value: &[u8]) {
            let set: Value = self
                .0
                .set(key, value)
                .await
                .expect("ours dedicated: SET failed");
            assert!(
                matches!(set, Value::Okay),
                "ours dedicated: SET answered {set:?}"
            );
        }
        async fn get(&mut self, key: &str) -> Vec<u8> {
            self.0.get(key).await.expect("ours dedicated: GET failed")
        }
        async fn set_pipeline(&mut self, keys: &[String], values: &[Vec<u8>], first: usize) {
            let mut p = pipe();
            for j in 0..PIPE {
                let k = (first + j) % KEYS;
                p.add(commands::set(&keys[k], &values[k][..]));
            }
            let replies: Vec<Value> = p
                .query(&mut self.0)
                .await
                .expect("ours dedicated: pipeline failed");
            check_pipeline(
                "ours dedicated",
                replies.len(),
                replies.iter().all(|r| matches!(r, Value::Okay)),
            );
        }
    }

    /// redis-rs 1.8.1 `MultiplexedConnection` (tokio), at its defaults.
    struct RedisRs(redis::aio::MultiplexedConnection);

    impl RedisRs {
        async fn open(url: &str) -> RedisRs {
            let client = redis::Client::open(url).expect("redis-rs: bad URL");
            RedisRs(
                client
                    .get_multiplexed_async_connection()
                    .await
                    .expect("connecting with redis-rs (multiplexed)"),
            )
        }
    }

    impl AsyncBench for RedisRs {
        fn handle(&self) -> Self {
            RedisRs(self.0.clone())
        }
        async fn set(&mut self, key: &str, value: &[u8]) {
            let set: redis::Value = redis::cmd("SET")
                .arg(key)
                .arg(value)
                .query_async(&mut self.0)
                .await
                .expect("redis-rs async: SET failed");
            assert_eq!(
                set,
                redis::Value::Okay,
                "redis-rs async: SET answered {set:?}"
            );
        }
        async fn get(&mut self, key: &str) -> Vec<u8> {
            redis::cmd("GET")
                .arg(key)
                .query_async(&mut self.0)
                .await
                .expect("redis-rs async: GET failed")
        }
        async fn set_pipeline(&mut self, keys: &[String], values: &[Vec<u8>], first: usize) {
            let mut p = redis::pipe();
            for j in 0..PIPE {
                let k = (first + j) % KEYS;
                p.cmd("SET").arg(&keys[k]).arg(&values[k][..]);
            }
            let replies: Vec<redis::Value> = p
                .query_async(&mut self.0)
                .await
                .expect("redis-rs async: pipeline failed");
            check_pipeline(
                "redis-rs async",
                replies.len(),
                replies.iter().all(|r| *r == redis::Value::Okay),
            );
        }
    }

    /// fred 10.1.0 `Client` (one connection, its default auto-pipelining), at its defaults.
    struct Fred(fred::prelude::Client);

    impl Fred {
        async fn open(url: &str) -> Fred {
            use fred::prelude::*;
            let config = Config::from_url(url).expect("fred: bad URL");
            let client = Builder::from_config(config)
                .build()
                .expect("fred: building the client");
            client.init().await.expect("connecting with fred");
            Fred(client)
        }
    }

    fn fred_ok(v: &fred::prelude::Value) -> bool {
        v.as_str().is_some_and(|s| s == "OK")
    }

    impl AsyncBench for Fred {
        fn handle(&self) -> Self {
            Fred(self.0.clone())
        }
        async fn set(&mut self, key: &str, value: &[u8]) {
            use fred::prelude::*;
            let set: Value = self
                .0
                .set(key, value, None, None, false)
                .await
                .expect("fred: SET failed");
            assert!(fred_ok(&set), "fred: SET answered {set:?}");
        }
        async fn get(&mut self, key: &str) -> Vec<u8> {
            use fred::prelude::*;
            self.0.get(key).await.expect("fred: GET failed")
        }
        async fn set_pipeline(&mut self, keys: &[String], values: &[Vec<u8>], first: usize) {
            use fred::prelude::*;
            let p = self.0.pipeline();
            for j in 0..PIPE {
                let k = (first + j) % KEYS;
                let () = p
                    .set(&keys[k], &values[k][..], None, None, false)
                    .await
                    .expect("fred: queueing a SET failed");
            }
            let replies: Vec<Value> = p.all().await.expect("fred: pipeline failed");
            check_pipeline("fred", replies.len(), replies.iter().all(fred_ok));
        }
    }

    fn check_pipeline(who: &str, len: usize, all_ok: bool) {
        assert_eq!(len, PIPE, "{who}: wrong number of pipeline replies");
        assert!(all_ok, "{who}: a SET in a pipeline did not answer OK");
    }

    /// SET then GET of key `i % KEYS`, the GET checked against the value SET. Values are
    /// per key, so a GET that races another task's SET of the same key still must match.
    async fn pair<B: AsyncBench>(con: &mut B, keys: &[String], values: &[Vec<u8>], i: usize) {
        let k = i % KEYS;
        con.set(&keys[k], &values[k]).await;
        let got = con.get(&keys[k]).await;
        assert_eq!(got, values[k], "GET returned another value");
    }

    /// (c) mux64: TASKS tasks on handles of ONE connection, each alternating SET and GET;
    /// `n` ops in all. Task t does pairs t, t + TASKS, t + 2 TASKS, ...
    async fn mux<B: AsyncBench>(con: B, n: usize) -> (f64, f64) {
        let keys = Arc::new(keys());
        let values = Arc::new(values());
        let round = |pairs: usize| {
            let tasks: Vec<_> = (0..TASKS)
                .map(|t| {
                    let mut c = con.handle();
                    let (keys, values) = (keys.clone(), values.clone());
                    tokio::spawn(async move {
                        for i in (t..pairs).step_by(TASKS) {
                            pair(&mut c, &keys, &values, i).await;
                        }
                    })
                })
                .collect();
            async move {
                for t in tasks {
                    t.await.expect("a mux64 task panicked");
                }
            }
        };
        round(WARMUP_OPS / 2).await;
        let t = Timer::start();
        round(n / 2).await;
        per_sec(n / 2 * 2, t)
    }

    /// (d) seq_async: one task, SET then GET, one round trip each; `n` ops in all.
    async fn seq<B: AsyncBench>(mut con: B, n: usize) -> (f64, f64) {
        let (keys, values) = (keys(), values());
        for i in 0..WARMUP_OPS / 2 {
            pair(&mut con, &keys, &values, i).await;
        }
        let t = Timer::start();
        for i in 0..n / 2 {
            pair(&mut con, &keys, &values, i).await;
        }
        per_sec(n / 2 * 2, t)
    }

    /// (e) large: SET then GET of 1 MiB, `iters` times, each GET checked against the
    /// value of its own iteration.
    async fn large<B: AsyncBench>(mut con: B, iters: usize) -> (f64, f64) {
        let mut value = large_value();
        for i in 0..WARMUP_LARGE {
            large_step(&mut con, &mut value, i).await;
        }
        let t = Timer::start();
        for i in WARMUP_LARGE..WARMUP_LARGE + iters {
            large_step(&mut con, &mut value, i).await;
        }
        mb_per_sec(iters, t)
    }

    async fn large_step<B: AsyncBench>(con: &mut B, value: &mut [u8], i: usize) {
        mark(value, i);
        con.set(LARGE_KEY, value).await;
        let got = con.get(LARGE_KEY).await;
        assert!(got[..] == value[..], "GET returned another 1 MiB value");
        black_box(got);
    }

    /// (f) pipe_async: pipelines of PIPE SETs from one task; `n` ops in all.
    async fn pipelined<B: AsyncBench>(mut con: B, n: usize) -> (f64, f64) {
        let (keys, values) = (keys(), values());
        for b in 0..WARMUP_OPS / PIPE {
            con.set_pipeline(&keys, &values, b * PIPE).await;
        }
        let t = Timer::start();
        for b in 0..n / PIPE {
            con.set_pipeline(&keys, &values, b * PIPE).await;
        }
        per_sec(n / PIPE * PIPE, t)
    }
}
