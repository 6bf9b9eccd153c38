//! How every benchmark binary measures a run: medians and spreads, CPU time per op, peak
//! RSS, one timed run per child process (so each client's peak RSS is its own), and the
//! quietness check (what OTHER processes used of the CPU while a run was timed).

use std::fs;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
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

/// Nanoseconds this whole process has spent on a CPU, user and kernel time together, over
/// all its threads, including threads that already exited (the process CPU clock,
/// `CLOCK_PROCESS_CPUTIME_ID`: the kernel folds an exiting thread's time into its process).
/// So the tokio workers of the async runs and any short-lived helper thread count; summing
/// `/proc/self/task/*` would miss the threads gone by the time the run ends. Unlike wall time
/// it hardly moves when other work shares the machine's cores, so it shows the client's own
/// cost per op even when the ops/s figures are noisy.
pub fn cpu_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is a constant Linux knows.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_PROCESS_CPUTIME_ID) failed");
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
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
        cpu_ns().saturating_sub(self.cpu) as f64 / ops as f64
    }
}

/// `VmHWM` of this process: the peak resident set size, in KiB.
pub fn peak_rss_kib() -> u64 {
    status_kib("VmHWM:")
}

/// A `kB` line of `/proc/self/status`, such as `VmHWM:`.
fn status_kib(field: &str) -> u64 {
    let status = fs::read_to_string("/proc/self/status").expect("reading /proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} line in /proc/self/status"))
}

/// `RssAnon` of this process: its resident anonymous memory (heap, stacks), in KiB.
///
/// Peak RSS also counts the pages of this binary's code that were read in, and the bench
/// binary holds every client's code: how many of its pages a run touches moves with the
/// code's layout (the kernel maps 64 KiB around each page fault). Two builds of the same
/// client with the same heap peak (massif: 657 KB and 651 KB) showed peak RSS 550 KiB
/// apart, all of it file-backed pages of the binary. The anonymous memory at the end of a
/// run is the client's own: its buffers, maps and threads' stacks ([`sample_anon_peak`]
/// keeps its peak).
pub fn anon_rss_kib() -> u64 {
    status_kib("RssAnon:")
}

/// The highest [`anon_rss_kib`] the sampler saw (0: not started).
static ANON_PEAK: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Samples [`anon_rss_kib`] every 10 ms from a thread of its own until the process ends:
/// the kernel keeps a peak of the whole RSS only (`VmHWM`), and the anonymous memory at
/// the end of a run says little (a client dropped before it may have handed its memory
/// back already, another not). Costs both clients alike: a read of `/proc` per 10 ms.
pub fn sample_anon_peak() {
    let _ = std::thread::Builder::new()
        .name("anon-peak".into())
        .spawn(|| loop {
            ANON_PEAK.fetch_max(anon_rss_kib(), std::sync::atomic::Ordering::Relaxed);
            std::thread::sleep(std::time::Duration::from_millis(10));
        });
}

/// Prints the line [`spawn_child`] reads: the run's figure, this process's peak RSS, the
/// CPU time per op and its anonymous memory (the sampled peak when
/// [`sample_anon_peak`] runs, else now).
pub fn print_result(figure: f64, cpu_ns_per_op: f64) {
    let now = anon_rss_kib();
    let anon = ANON_PEAK
        .load(std::sync::atomic::Ordering::Relaxed)
        .max(now);
    println!("RESULT {figure} {} {cpu_ns_per_op} {anon}", peak_rss_kib());
}

/// One timed run of a child: its figure (ops/s or what the workload measures), peak RSS
/// and anonymous memory in KiB ([`anon_rss_kib`]), CPU ns per op.
#[derive(Debug, Clone, Copy)]
pub struct ChildRun {
    /// The run's figure.
    pub figure: f64,
    /// `VmHWM`, KiB.
    pub hwm: u64,
    /// CPU ns per op.
    pub cpu: f64,
    /// `RssAnon` at the end of the run, KiB.
    pub anon: u64,
}

/// Re-executes this binary with `args` for one timed run (the child ends with
/// [`print_result`]).
pub fn spawn_child(args: &[String]) -> ChildRun {
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
    let anon = parts.next().and_then(|s| s.parse().ok());
    match (figure, hwm, cpu, anon) {
        (Some(figure), Some(hwm), Some(cpu), Some(anon)) => ChildRun {
            figure,
            hwm,
            cpu,
            anon,
        },
        _ => panic!("child run {args:?} printed a bad RESULT line: {line}"),
    }
}

/// The median of `xs` and its min-max spread, as `766k [741k-790k]`, each number through
/// `fmt`; a single run prints only its figure.
pub fn spread(xs: &[f64], fmt: impl Fn(f64) -> String) -> String {
    let lo = xs.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    match xs.len() {
        0 => "-".into(),
        1 => fmt(xs[0]),
        _ => format!("{} [{}-{}]", fmt(median(xs)), fmt(lo), fmt(hi)),
    }
}

// ---------------------------------------------------------------------------------------
// The quietness check.

/// A run during which processes OTHER than the bench's own (this process, the child under
/// test, the redis-server(s) it talks to) used more than this share of one core, averaged
/// over the run, is noisy: it is re-run, and if every try is noisy it is kept and flagged.
///
/// Why 5%: on these 2-core VMs a run's wall clock moves with how much of the second core the
/// client or the server can have, and with how idle the vCPUs are; an idle box shows 0-2%
/// of a core from the kernel's own housekeeping and this check's 10 ms tick resolution,
/// while one `cargo` or CI job takes 50-100%. 5% sits well above the first and far below
/// the second.
pub const NOISY_SHARE: f64 = 0.05;

/// Tries of one run before a noisy one is kept (and flagged), unless [`set_tries`] says
/// otherwise.
pub const TRIES: usize = 3;

static TRIES_NOW: AtomicUsize = AtomicUsize::new(TRIES);

/// Sets the tries of one run (at least 1; 1 keeps every run at once, flagging noisy ones):
/// on a machine known to be busy, re-running only multiplies the bench's run time.
pub fn set_tries(tries: usize) {
    TRIES_NOW.store(tries.max(1), Ordering::Relaxed);
}

/// Seconds of CPU time as `/proc` counts it: `sysconf(_SC_CLK_TCK)` ticks.
fn ticks_to_secs(ticks: u64) -> f64 {
    // SAFETY: sysconf only reads a system constant.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    ticks as f64 / if hz > 0 { hz as f64 } else { 100.0 }
}

/// Busy CPU seconds of the whole machine (all cores) since boot: the `cpu` line of
/// `/proc/stat`, user + nice + system + irq + softirq (not idle, iowait, or steal, which is
/// time the hypervisor gave to another VM; guest time is already inside user).
fn machine_busy_secs() -> f64 {
    let stat = fs::read_to_string("/proc/stat").unwrap_or_default();
    let fields: Vec<u64> = stat
        .lines()
        .find(|l| l.starts_with("cpu "))
        .map(|l| {
            l.split_whitespace()
                .skip(1)
                .filter_map(|v| v.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    let at = |i: usize| fields.get(i).copied().unwrap_or(0);
    ticks_to_secs(at(0) + at(1) + at(2) + at(5) + at(6))
}

/// CPU seconds (user + system, all threads, and reaped children) of process `pid`, from
/// `/proc/PID/stat`; 0 once it is gone.
fn pid_cpu_secs(pid: u32) -> f64 {
    let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    // The command name, field 2, is in parentheses and may hold spaces: count after it.
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return 0.0;
    };
    let fields: Vec<u64> = rest
        .split_whitespace()
        .map(|v| v.parse().unwrap_or(0))
        .collect();
    // rest starts at field 3 (state); utime, stime, cutime, cstime are fields 14-17.
    let ticks: u64 = (11..15).filter_map(|i| fields.get(i)).sum();
    ticks_to_secs(ticks)
}

/// CPU seconds of this process (all threads) and of its children reaped so far.
fn self_and_children_secs() -> (f64, f64) {
    let secs = |who| {
        // SAFETY: getrusage writes into the zeroed struct we own.
        let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: as above; `who` is RUSAGE_SELF or RUSAGE_CHILDREN.
        unsafe { libc::getrusage(who, &mut ru) };
        let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
        tv(ru.ru_utime) + tv(ru.ru_stime)
    };
    (secs(libc::RUSAGE_SELF), secs(libc::RUSAGE_CHILDREN))
}

/// What the machine and the bench's own processes have used up to now.
struct Sample {
    at: Instant,
    machine: f64,
    this: f64,
    children: f64,
    watched: f64,
}

fn sample(pids: &[u32]) -> Sample {
    let (this, children) = self_and_children_secs();
    Sample {
        at: Instant::now(),
        machine: machine_busy_secs(),
        this,
        children,
        watched: pids.iter().map(|p| pid_cpu_secs(*p)).sum(),
    }
}

/// One run under the quietness check: how much of one core other processes used during it.
#[derive(Clone, Copy, Debug)]
pub struct Quietness {
    /// Share of one core the other processes used, averaged over the run (0.03 = 3%).
    pub others: f64,
    /// CPU seconds of this process's children that ended during the run (the child under
    /// test, or redis-benchmark): their own CPU time, for a CPU-per-op figure of a peer.
    pub child_cpu_secs: f64,
    /// Tries it took (1 unless earlier tries were noisy).
    pub tries: usize,
}

impl Quietness {
    /// Whether other processes used more than [`NOISY_SHARE`] of a core during the run.
    pub fn noisy(&self) -> bool {
        self.others > NOISY_SHARE
    }
}

/// Runs `run` (which starts a child process and waits for it) and measures what other
/// processes used meanwhile: machine busy time (`/proc/stat`) minus this process, its
/// children that ended during the run (getrusage), and the processes `pids` (the
/// redis-server(s) under test, `/proc/PID/stat`), over the wall time of the run.
pub fn watched<T>(pids: &[u32], run: impl FnOnce() -> T) -> (T, Quietness) {
    let before = sample(pids);
    let value = run();
    let after = sample(pids);
    let own = (after.this - before.this)
        + (after.children - before.children)
        + (after.watched - before.watched);
    let wall = after.at.duration_since(before.at).as_secs_f64();
    let others = ((after.machine - before.machine) - own).max(0.0) / wall.max(1e-3);
    let q = Quietness {
        others,
        child_cpu_secs: after.children - before.children,
        tries: 1,
    };
    (value, q)
}

/// [`watched`], re-run up to [`TRIES`] (or [`set_tries`]) times while other processes were
/// busy; the last
/// try is kept (flagged noisy if it still was). Every kept run goes into the tally that
/// [`quiet_summary`] prints.
pub fn quiet_run<T>(pids: &[u32], mut run: impl FnMut() -> T) -> (T, Quietness) {
    let mut tries = 0;
    loop {
        tries += 1;
        let (value, mut q) = watched(pids, &mut run);
        q.tries = tries;
        if !q.noisy() || tries >= TRIES_NOW.load(Ordering::Relaxed) {
            record(&q);
            return (value, q);
        }
    }
}

/// [`spawn_child`] under [`quiet_run`]: the run and the check.
pub fn spawn_child_quiet(args: &[String], pids: &[u32]) -> (ChildRun, Quietness) {
    quiet_run(pids, || spawn_child(args))
}

/// Kept runs so far: (runs, noisy runs kept, re-runs, most of a core others used in one).
static TALLY: Mutex<(usize, usize, usize, f64)> = Mutex::new((0, 0, 0, 0.0));

fn record(q: &Quietness) {
    let mut t = TALLY.lock().unwrap_or_else(|e| e.into_inner());
    t.0 += 1;
    t.1 += usize::from(q.noisy());
    t.2 += q.tries - 1;
    t.3 = t.3.max(q.others);
}

/// One line on every run kept so far: whether the whole bench passed the quietness check.
pub fn quiet_summary() -> String {
    let (runs, noisy, reruns, max) = *TALLY.lock().unwrap_or_else(|e| e.into_inner());
    format!(
        "quiet: {} ({runs} kept runs, {noisy} of them noisy, {reruns} re-runs; other processes \
         used at most {:.1}% of a core in a kept run; the limit is {:.0}%)",
        if noisy == 0 { "yes" } else { "NO" },
        max * 100.0,
        NOISY_SHARE * 100.0
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Spins until the calling thread has used `ns` of CPU time (its own thread clock).
    fn burn_thread_cpu(ns: u64) {
        let own = || {
            let mut ts = libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            };
            // SAFETY: a valid, writable timespec.
            unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
            ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
        };
        let start = own();
        while own() - start < ns {
            std::hint::black_box(0u64);
        }
    }

    #[test]
    fn cpu_time_of_a_thread_that_already_exited_counts() {
        let before = cpu_ns();
        std::thread::spawn(|| burn_thread_cpu(100_000_000))
            .join()
            .expect("the burning thread panicked");
        let used = cpu_ns().saturating_sub(before);
        assert!(
            used >= 100_000_000,
            "only {used} ns counted of the exited thread's 100 ms"
        );
    }

    #[test]
    fn this_process_cpu_from_proc_pid_stat_grows() {
        let before = pid_cpu_secs(std::process::id());
        burn_thread_cpu(200_000_000);
        let after = pid_cpu_secs(std::process::id());
        // /proc counts in 10 ms ticks: allow two of them.
        assert!(after - before >= 0.18, "{before} -> {after}");
        assert!(machine_busy_secs() >= after - before);
    }
}
