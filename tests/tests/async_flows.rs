//! Async-client regressions from the core-hardening issue: the WATCH loop's limit and
//! cleanup, and lock fairness, against a real server.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use redis_async::prelude::*;
use redis_async::{commands, transaction, Error, DEFAULT_MAX_ATTEMPTS};
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
