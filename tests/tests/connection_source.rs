//! The connection-source seam: every way the blocking and async clients open a connection
//! (single connection, pool, managed handle, dedicated, pub/sub) asks one source where to
//! go, tells it about failures, drops connections to a place it no longer names, and runs
//! the target's checks (`ROLE`, `READONLY`) before handing a connection out.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use redis_core::{Addr, Backoff, Config, Error, Result, Role, Target};
use redis_tests::RedisServer;

/// A source that points at one of two servers and can be switched, like a Sentinel
/// source after a failover.
#[derive(Debug)]
struct Switchable {
    base: Config,
    now: Mutex<Addr>,
    role: Option<Role>,
    failures: AtomicUsize,
}

impl Switchable {
    fn new(base: Config, at: Addr, role: Option<Role>) -> Arc<Switchable> {
        Arc::new(Switchable {
            base,
            now: Mutex::new(at),
            role,
            failures: AtomicUsize::new(0),
        })
    }

    fn switch_to(&self, addr: Addr) {
        *self.now.lock().unwrap() = addr;
    }

    fn resolve(&self) -> Target {
        let addr = self.now.lock().unwrap().clone();
        match self.role {
            Some(role) => Target::resolved(&self.base, addr, role),
            None => {
                let mut config = self.base.clone();
                config.addr = addr;
                Target::fixed(config)
            }
        }
    }

    fn current(&self, addr: &Addr) -> bool {
        *self.now.lock().unwrap() == *addr
    }
}

impl redis_sync::ConnectionSource for Switchable {
    fn target(&self) -> Result<Target> {
        Ok(self.resolve())
    }
    fn is_current(&self, addr: &Addr) -> bool {
        self.current(addr)
    }
    fn failed(&self, _: &Addr, _: &Error) {
        self.failures.fetch_add(1, Ordering::SeqCst);
    }
}

impl redis_async::ConnectionSource for Switchable {
    fn target(&self) -> redis_async::TargetFuture<'_> {
        let t = self.resolve();
        Box::pin(async move { Ok(t) })
    }
    fn is_current(&self, addr: &Addr) -> bool {
        self.current(addr)
    }
    fn failed(&self, _: &Addr, _: &Error) {
        self.failures.fetch_add(1, Ordering::SeqCst);
    }
}

/// Two servers that say who they are.
fn two_servers() -> (RedisServer, RedisServer) {
    let a = RedisServer::start();
    let b = RedisServer::start();
    a.cli(&["SET", "who", "a"]);
    b.cli(&["SET", "who", "b"]);
    (a, b)
}

fn quick_backoff(config: Config) -> Config {
    let mut config = config;
    config.connect_backoff = Backoff {
        base: Duration::from_millis(5),
        cap: Duration::from_millis(20),
        max_retries: 2,
    };
    config
}

#[test]
fn sync_pool_drops_connections_to_a_place_the_source_no_longer_names() {
    use redis_sync::Commands;
    let (a, b) = two_servers();
    let source = Switchable::new(a.config(), a.config().addr.clone(), None);
    let client = redis_sync::Client::with_source(a.config(), source.clone());
    let pool = client.pool(2).unwrap();
    {
        let mut c1 = pool.get().unwrap();
        let mut c2 = pool.get().unwrap();
        let w1: String = c1.get("who").unwrap();
        let w2: String = c2.get("who").unwrap();
        assert_eq!((w1.as_str(), w2.as_str()), ("a", "a"));
    }
    // Both connections to `a` sit idle in the pool; then the source moves to `b`.
    source.switch_to(b.config().addr.clone());
    for _ in 0..4 {
        let mut c = pool.get().unwrap();
        let who: String = c.get("who").unwrap();
        assert_eq!(
            who, "b",
            "a pooled connection to the old node was handed out"
        );
        assert_eq!(c.addr(), &b.config().addr);
    }
    // A connection checked out before the switch is not returned to the pool either.
    source.switch_to(a.config().addr.clone());
    let held = pool.get().unwrap();
    source.switch_to(b.config().addr.clone());
    drop(held);
    let mut c = pool.get().unwrap();
    let who: String = c.get("who").unwrap();
    assert_eq!(who, "b");
}

#[test]
fn sync_connection_to_a_node_in_the_wrong_role_is_refused_and_reported() {
    let primary = RedisServer::start();
    let port = primary.port().to_string();
    let replica = RedisServer::builder()
        .extra_args(["--replicaof", "127.0.0.1", port.as_str()])
        .start();
    let base = quick_backoff(primary.config());
    // Named as primary, but it is a replica: refused with a typed error, every attempt
    // reported to the source so it can re-resolve.
    let source = Switchable::new(base.clone(), replica.config().addr, Some(Role::Primary));
    let client = redis_sync::Client::with_source(base.clone(), source.clone());
    match client.get_connection() {
        Err(Error::RoleMismatch {
            expected, actual, ..
        }) => {
            assert_eq!(expected, Role::Primary);
            assert_eq!(actual, "slave");
        }
        other => panic!("expected a role mismatch, got {other:?}"),
    }
    assert_eq!(
        source.failures.load(Ordering::SeqCst),
        3,
        "1 try + 2 retries"
    );
    // Once the source names the real primary, connections go through.
    source.switch_to(primary.config().addr.clone());
    let mut con = client.get_connection().unwrap();
    let role: Vec<redis_core::Value> =
        redis_sync::Query::query(&redis_core::cmd("ROLE"), &mut con).unwrap();
    assert_eq!(role[0], redis_core::Value::BulkString("master".into()));
}

#[test]
fn sync_cluster_replica_target_sends_readonly() {
    // A standalone server refuses READONLY: the connection is not handed out, and the
    // refusal is the server's own typed error.
    let server = RedisServer::start();
    #[derive(Debug)]
    struct ClusterReplica(Config);
    impl redis_sync::ConnectionSource for ClusterReplica {
        fn target(&self) -> Result<Target> {
            Ok(Target::cluster_node(&self.0, self.0.addr.clone(), true))
        }
    }
    let client = redis_sync::Client::with_source(
        server.config(),
        Arc::new(ClusterReplica(server.config().with_db(5))),
    );
    let err = client.get_connection().unwrap_err();
    assert!(
        matches!(&err, Error::Server(e) if e.message().contains("cluster support disabled")),
        "{err:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_managed_connection_follows_the_source() {
    use redis_async::Commands;
    let (a, b) = two_servers();
    let source = Switchable::new(a.config(), a.config().addr.clone(), None);
    let client = redis_async::Client::with_source(a.config(), source.clone());
    let mut managed = client.get_managed_connection().await.unwrap();
    let who: String = managed.get("who").await.unwrap();
    assert_eq!(who, "a");
    let first = managed.generation();
    source.switch_to(b.config().addr.clone());
    let who: String = managed.get("who").await.unwrap();
    assert_eq!(who, "b", "the managed handle kept a socket to the old node");
    assert!(managed.generation() > first);
    // Dedicated connections and pub/sub come from the same source.
    let mut dedicated = client.get_dedicated_connection().await.unwrap();
    let who: String = dedicated.get("who").await.unwrap();
    assert_eq!(who, "b");
    assert_eq!(dedicated.addr(), &b.config().addr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_connection_to_a_node_in_the_wrong_role_is_refused() {
    let primary = RedisServer::start();
    let port = primary.port().to_string();
    let replica = RedisServer::builder()
        .extra_args(["--replicaof", "127.0.0.1", port.as_str()])
        .start();
    let base = quick_backoff(primary.config());
    let source = Switchable::new(base.clone(), primary.config().addr, Some(Role::Replica));
    let client = redis_async::Client::with_source(base, source.clone());
    let err = client.get_connection().await.unwrap_err();
    assert!(
        matches!(&err, Error::RoleMismatch { expected: Role::Replica, actual, .. } if actual == "master"),
        "{err:?}"
    );
    assert_eq!(source.failures.load(Ordering::SeqCst), 3);
    source.switch_to(replica.config().addr.clone());
    let con = client.get_connection().await.unwrap();
    assert_eq!(con.addr(), &replica.config().addr);
}
