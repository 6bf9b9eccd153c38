//! Test harness: real `redis-server` processes, a scripted fake peer and a faulty TCP proxy.
//!
//! The client is tested against the server it will meet in production, not against a mock
//! of our own understanding of it: every integration test starts its own `redis-server`
//! on a free loopback port, in its own temp dir, and stops it (by PID) when the handle is
//! dropped. A test never relies on a server somebody else started, so tests can run in
//! parallel (threads under `cargo test`, processes under nextest) and on any machine that
//! has the Debian packages `redis-server`, `redis-sentinel` and `redis-tools`. A missing
//! binary is a test *failure* that says how to install it, never a silent skip.
//!
//! Faults are injected for real: a server can be stopped, killed, paused with SIGSTOP and
//! restarted on the same port ([`RedisServer`]); a [`Proxy`] between client and server can
//! delay, cut or black-hole a link; and a [`FakePeer`] plays a fixed script of bytes for the
//! protocol faults a real server never produces (a truncated reply, garbage, a close in the
//! middle of a frame).
//!
//! ```no_run
//! use redis_tests::RedisServer;
//!
//! let server = RedisServer::builder().password("pw").start();
//! assert_eq!(server.cli(&["PING"]), "PONG");
//! let config = server.config(); // redis_core::Config with address and credentials
//! # let _ = config;
//! ```
//!
//! When a test panics while a [`RedisServer`] is alive, its drop prints the path and the
//! last lines of the server log and keeps the temp dir for inspection.

// In a test harness, panicking with a clear message is the right way to fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cluster;
mod fake;
mod process;
mod proxy;
pub mod rotation;
mod sentinel;
mod server;
mod tls;

pub use cluster::{RedisCluster, RedisClusterBuilder};
pub use fake::{FakePeer, FakeStep};
pub use proxy::Proxy;
pub use sentinel::{SentinelSetup, SentinelSetupBuilder};
pub use server::{redis_server_version, RedisServer, RedisServerBuilder};
pub use tls::TlsFiles;

/// The message a test fails with when `redis-server` (or `redis-cli`) cannot be run.
pub const INSTALL_HINT: &str =
    "install it with `apt-get install -y redis-server redis-sentinel redis-tools`";

/// A key that no other test uses: `prefix`, a colon and 16 random hex digits.
///
/// Tests that share a server (or run against one started by a fixture) use it to stay out
/// of each other's way.
pub fn unique_key(prefix: &str) -> String {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::SmallRng::from_os_rng();
    format!("{prefix}:{:016x}", rng.random::<u64>())
}

/// A loopback port that was free a moment ago: binds `127.0.0.1:0`, reads the port the
/// kernel chose and closes the listener.
///
/// Someone else may take the port before it is used; [`RedisServer`] retries with a new
/// one when that happens. Ports handed out by this process are not handed out again.
pub fn free_port() -> u16 {
    use std::collections::HashSet;
    use std::sync::{Mutex, OnceLock};
    static GIVEN: OnceLock<Mutex<HashSet<u16>>> = OnceLock::new();
    let given = GIVEN.get_or_init(|| Mutex::new(HashSet::new()));
    for _ in 0..100 {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap_or_else(|e| panic!("cannot bind a loopback port: {e}"));
        let port = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("cannot read the bound port: {e}"))
            .port();
        let mut given = given.lock().unwrap_or_else(|e| e.into_inner());
        if given.insert(port) {
            return port;
        }
    }
    panic!("no free loopback port found after 100 tries")
}

/// Peak resident set size of this process so far (`VmHWM` of `/proc/self/status`), in
/// bytes. Per process: a test that measures it needs a test binary (or a process) of its own.
pub fn peak_rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status")
        .unwrap_or_else(|e| panic!("cannot read /proc/self/status: {e}"));
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no VmHWM in /proc/self/status"));
    kib * 1024
}

/// The code of `docs/credentials.md`, compiled (and run where it needs no server) as
/// doctests of this crate, which sees both clients.
#[cfg(doctest)]
#[doc = include_str!("../../docs/credentials.md")]
pub struct CredentialsGuide;
