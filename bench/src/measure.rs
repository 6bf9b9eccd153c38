//! How every benchmark binary measures a run: medians, CPU time per op, peak RSS, and one
//! timed run per child process (so each client's peak RSS is its own).

use std::fs;
use std::process::{Command, Stdio};
use std::time::Instant;

/// The median of `xs` (NaN for none).
pub fn median(xs: &[f64]) -> f64 {
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

/// Nanoseconds this process's threads have spent on a CPU, user and kernel time together
/// (the sum of `/proc/self/task/*/schedstat`, so the tokio workers of the async runs count
/// too; a blocking run has one thread). Unlike wall time it hardly moves when other work
/// shares the machine's cores, so it shows the client's own cost per op even when the
/// ops/s figures are noisy.
pub fn cpu_ns() -> u64 {
    let tasks = fs::read_dir("/proc/self/task").expect("listing /proc/self/task");
    tasks
        .filter_map(|t| t.ok())
        .filter_map(|t| fs::read_to_string(t.path().join("schedstat")).ok())
        .filter_map(|s| {
            s.split_whitespace()
                .next()
                .and_then(|v| v.parse::<u64>().ok())
        })
        .sum()
}

/// A timed section: wall clock and CPU time from its start.
pub struct Timer {
    wall: Instant,
    cpu: u64,
}

impl Timer {
    /// Starts timing now.
    pub fn start() -> Timer {
        Timer {
            cpu: cpu_ns(),
            wall: Instant::now(),
        }
    }

    /// Wall-clock seconds since the start.
    pub fn secs(&self) -> f64 {
        self.wall.elapsed().as_secs_f64()
    }

    /// CPU nanoseconds per op since the start.
    pub fn cpu_ns_per(&self, ops: usize) -> f64 {
        // saturating: a thread that exits during the run takes its CPU time with it
        cpu_ns().saturating_sub(self.cpu) as f64 / ops as f64
    }
}

/// `VmHWM` of this process: the peak resident set size, in KiB.
pub fn peak_rss_kib() -> u64 {
    let status = fs::read_to_string("/proc/self/status").expect("reading /proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("no VmHWM line in /proc/self/status")
}

/// Prints the line [`spawn_child`] reads: the run's figure, this process's peak RSS and
/// the CPU time per op.
pub fn print_result(figure: f64, cpu_ns_per_op: f64) {
    println!("RESULT {figure} {} {cpu_ns_per_op}", peak_rss_kib());
}

/// Re-executes this binary with `args` for one timed run (the child ends with
/// [`print_result`]); returns (figure, VmHWM KiB, CPU ns per op).
pub fn spawn_child(args: &[String]) -> (f64, u64, f64) {
    let exe = std::env::current_exe().expect("finding this binary's path");
    let out = Command::new(exe)
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .expect("starting a child run");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "child run {args:?} failed: {text}");
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix("RESULT "))
        .unwrap_or_else(|| panic!("child run {args:?} printed no RESULT line: {text}"));
    let mut parts = line.split_whitespace();
    let figure = parts.next().and_then(|s| s.parse().ok());
    let hwm = parts.next().and_then(|s| s.parse().ok());
    let cpu = parts.next().and_then(|s| s.parse().ok());
    match (figure, hwm, cpu) {
        (Some(f), Some(h), Some(c)) => (f, h, c),
        _ => panic!("child run {args:?} printed a bad RESULT line: {line}"),
    }
}
