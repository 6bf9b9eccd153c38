//! The async Sentinel client (`redis_sentinel::aio`, issue 8) against real sentinels: a
//! primary + 2 replicas + 3 sentinels, `down-after-milliseconds` 1000.
//!
//! Failover tests print their figures (time from the switch to the first write that
//! succeeds on the new primary, acknowledged writes lost) and assert only correctness:
//! nothing acknowledged is lost, errors are typed, nothing hangs past its limits.
//! Several checks share one topology to keep the file's runtime modest.

// A failing test should panic, with the error in the message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use redis_async::prelude::*;
use redis_async::{Addr, Config, Error};
use redis_sentinel::aio::Sentinel;
use redis_sentinel::SentinelErrorKind;
use redis_tests::SentinelSetup;

/// The limit of one exchange with one sentinel in these tests.
const PER_SENTINEL: Duration = Duration::from_secs(1);

/// Runs a blocking harness call from a multi-thread runtime.
fn blocking<R>(f: impl FnOnce() -> R) -> R {
    tokio::task::block_in_place(f)
}

/// A sentinel config with `password` (if any) and a short per-sentinel limit.
fn sentinel_config(password: Option<&str>) -> Config {
    let mut config = Config::new(Addr::tcp("127.0.0.1", 26379));
    if let Some(pw) = password {
        config = config.with_password(None, pw);
    }
    config.connect_timeout = PER_SENTINEL;
    config
}

/// The error of `master_for(service)`'s first connection, and how long it took.
async fn first_error(sentinel: &Sentinel, service: &str, data: &Config) -> (Error, Duration) {
    let started = Instant::now();
    let client = sentinel.master_for(service, data.clone());
    let err = client
        .get_connection()
        .await
        .expect_err("no primary should be reachable");
    (err, started.elapsed())
}

/// Unknown service, wrong sentinel password, one sentinel frozen then another down, then
/// all: each
/// gives its typed error (or still works while one sentinel answers), within the
/// per-sentinel limit times the sentinels asked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_errors_are_typed_and_bounded() {
    let mut setup = blocking(|| {
        SentinelSetup::builder()
            .password("data-pw")
            .sentinel_password("sentinel-pw")
            .start()
    });
    let addrs = setup.sentinel_addrs();
    let data = setup.data_config();
    let bound = PER_SENTINEL * 3 + Duration::from_secs(2);

    // Works with the right passwords; the data password is not the sentinels'.
    let sentinel = Sentinel::new(addrs.clone(), sentinel_config(Some("sentinel-pw")));
    let client = sentinel.master_for("mymaster", data.clone());
    let mut con = client.get_connection().await.unwrap();
    let _: () = con.set("k", "v").await.unwrap();
    assert_eq!(con.addr(), &setup.data_config().addr);

    // Unknown service.
    let (err, took) = first_error(&sentinel, "nosuch", &data).await;
    println!("unknown service: {err} after {took:?}");
    assert!(
        matches!(&err, Error::Sentinel(SentinelErrorKind::UnknownService { service }) if service == "nosuch"),
        "{err:?}"
    );
    assert!(took < bound, "{took:?}");

    // Wrong sentinel password, and none at all; the password never shows.
    for password in [Some("wrong-pw"), None] {
        let bad = Sentinel::new(addrs.clone(), sentinel_config(password));
        let (err, took) = first_error(&bad, "mymaster", &data).await;
        println!("sentinel password {password:?}: {err} after {took:?}");
        match &err {
            Error::Sentinel(SentinelErrorKind::AuthFailed { tried, .. }) => {
                assert_eq!(tried.len(), 3, "{err}")
            }
            other => panic!("expected AuthFailed, got {other:?}"),
        }
        assert!(!err.to_string().contains("wrong-pw"), "{err}");
        assert!(took < bound, "{took:?}");
    }

    // One sentinel frozen (SIGSTOP: it costs the per-sentinel limit), then another one
    // down: the last one still answers.
    for down in 0..2 {
        if down == 0 {
            blocking(|| setup.sentinel_mut(down).pause());
        } else {
            blocking(|| setup.sentinel_mut(down).stop());
        }
        let fresh = Sentinel::new(addrs.clone(), sentinel_config(Some("sentinel-pw")));
        let started = Instant::now();
        let client = fresh.master_for("mymaster", data.clone());
        let mut con = client.get_connection().await.unwrap();
        let v: String = con.get("k").await.unwrap();
        assert_eq!(v, "v");
        println!(
            "{} sentinel(s) down: connected in {:?}",
            down + 1,
            started.elapsed()
        );
        assert!(started.elapsed() < bound);
    }

    // All three down: no sentinel reachable, each one listed with why.
    blocking(|| setup.sentinel_mut(2).stop());
    let fresh = Sentinel::new(addrs.clone(), sentinel_config(Some("sentinel-pw")));
    let (err, took) = first_error(&fresh, "mymaster", &data).await;
    println!("all sentinels down: {err} after {took:?}");
    match &err {
        Error::Sentinel(SentinelErrorKind::NoSentinelReachable { tried, .. }) => {
            assert_eq!(tried.len(), 3, "{err}");
            assert!(tried[0].reason.contains("timed out"), "{err}");
            for a in &addrs {
                assert!(err.to_string().contains(&a.to_string()), "{err}");
            }
        }
        other => panic!("expected NoSentinelReachable, got {other:?}"),
    }
    assert!(took < bound, "{took:?}");
}
