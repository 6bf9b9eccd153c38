//! Async-client regressions from the core-hardening issue: the WATCH loop's limit and
//! cleanup, and lock fairness, against a real server.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use redis_async::prelude::*;
use redis_async::{commands, transaction, Error, Lock, DEFAULT_MAX_ATTEMPTS};
use redis_tests::{unique_key, RedisServer};

/// Defect 13: a body that returns without EXEC leaves no key watched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transaction_body_that_skips_exec_leaves_nothing_watched() {
    let server = RedisServer::start();
    let client = Client::open(server.config()).unwrap();
    let mut con = client.get_dedicated_connection().await.unwrap();
    let mut other = client.get_connection().await.unwrap();
    let key = unique_key("watched");
    for early_error in [false, true] {
        let r: redis_async::Result<Option<i64>> =
            transaction(&mut con, &key, async |con, _pipe| {
                let v: Option<i64> = con.get(&key).await?;
                if early_error {
                    let _: i64 = cmd("INCR").arg(&key).arg("x").query(con).await?;
                }
                Ok(Some(v)) // returns without EXEC
            })
            .await;
        assert_eq!(r.is_err(), early_error, "{r:?}");
        let _: () = other.set(&key, 1).await.unwrap();
        let mut p = pipe();
        p.atomic().add(commands::set(&key, 2)).ignore();
        let committed: Option<()> = p.query(&mut con).await.unwrap();
        assert_eq!(
            committed,
            Some(()),
            "EXEC was aborted: the key was still watched"
        );
    }
}

/// Defect 13: a key that changes under every attempt ends the loop with a typed error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transaction_that_always_conflicts_gives_up_with_a_typed_error() {
    let server = RedisServer::start();
    let client = Client::open(server.config()).unwrap();
    let mut con = client.get_dedicated_connection().await.unwrap();
    let mut other = client.get_connection().await.unwrap();
    let key = unique_key("hot");
    let mut runs = 0;
    let r: redis_async::Result<()> = transaction(&mut con, &key, async |con, pipe| {
        runs += 1;
        if runs > 1000 {
            return Err(Error::InvalidRequest("no retry limit".into()));
        }
        let _: () = other.incr(&key, 1).await?;
        pipe.add(commands::set(&key, 0)).ignore();
        pipe.query(con).await
    })
    .await;
    let err = r.unwrap_err();
    assert!(
        matches!(err, Error::WatchConflicts { attempts } if attempts == DEFAULT_MAX_ATTEMPTS),
        "{err}"
    );
    assert_eq!(runs, DEFAULT_MAX_ATTEMPTS);
}

/// Defect 14: 16 tasks contend 50 times each for one lock held ~1 ms at a time: every
/// acquire succeeds within 5 s and the longest wait stays within a generous multiple of
/// the mean (a fairness bound, not a speed check).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixteen_contenders_share_the_lock_fairly() {
    const TASKS: usize = 16;
    const ROUNDS: usize = 50;
    let server = RedisServer::start();
    let client = Client::open(server.config()).unwrap();
    let lock = Lock::new(unique_key("fair"), Duration::from_secs(10));
    let barrier = Arc::new(tokio::sync::Barrier::new(TASKS));
    let mut tasks = Vec::new();
    for _ in 0..TASKS {
        let (client, lock, barrier) = (client.clone(), lock.clone(), barrier.clone());
        tasks.push(tokio::spawn(async move {
            let con = client.get_connection().await.unwrap();
            barrier.wait().await;
            let mut waits = Vec::with_capacity(ROUNDS);
            for _ in 0..ROUNDS {
                let asked = Instant::now();
                let guard = lock.acquire(con.clone(), Duration::from_secs(5)).await;
                let waited = asked.elapsed();
                let guard = match guard {
                    Ok(g) => g,
                    Err(e) => return Err(format!("{e} after {waited:?}")),
                };
                waits.push(waited);
                tokio::time::sleep(Duration::from_millis(1)).await; // the critical section
                guard.release().await.unwrap();
            }
            Ok(waits)
        }));
    }
    let mut waits = Vec::new();
    for t in tasks {
        waits.extend(t.await.unwrap().unwrap());
    }
    let mean = waits.iter().sum::<Duration>() / waits.len() as u32;
    let max = waits.iter().copied().max().unwrap();
    println!(
        "async lock: {} acquires, mean wait {mean:?}, max wait {max:?}",
        waits.len()
    );
    assert!(
        max <= mean * 10 + Duration::from_millis(200),
        "a waiter was starved: max wait {max:?}, mean {mean:?}"
    );
}

/// The async SCAN stream, now driven by the core cursor machine, yields every key and
/// every hash field over many batches.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scan_streams_follow_the_cursor_to_the_end() {
    let server = RedisServer::start();
    let client = Client::open(server.config()).unwrap();
    let mut con = client.get_connection().await.unwrap();
    let prefix = unique_key("scan");
    let mut p = pipe();
    for i in 0..1000 {
        p.add(commands::set(format!("{prefix}:{i}"), i)).ignore();
    }
    let _: () = p.query(&mut con).await.unwrap();
    let keys: Vec<String> = con
        .scan_options_iter(("MATCH", format!("{prefix}:*"), "COUNT", 50))
        .collect_all()
        .await
        .unwrap();
    let unique: std::collections::HashSet<_> = keys.into_iter().collect();
    assert_eq!(unique.len(), 1000);
    let h = unique_key("hash");
    for i in 0..300 {
        let _: () = con.hset(&h, format!("f{i}"), i).await.unwrap();
    }
    let fields: Vec<(String, i64)> = con.hscan_iter(&h).collect_all().await.unwrap();
    let unique: std::collections::HashSet<_> = fields.into_iter().collect();
    assert_eq!(unique.len(), 300);
}
