//! Replies that used to kill a connection or blow up memory: server text that is not UTF-8
//! (real server, both clients), a hostile peer's endless array and lone bulk header (peak
//! resident memory of a separate process, both clients), and the largest legitimate reply
//! the default limits must still take (`LRANGE 0 -1` of 10M elements, real server).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

use redis_core::{cmd, Value};
use redis_tests::{unique_key, RedisServer};

/// `EVAL` scripts whose reply text ends in byte 0xFF (Lua's `\255`).
const BAD_ERROR: &str = "return redis.error_reply('ERR bad \\255')";
const BAD_STATUS: &str = "return redis.status_reply('fine \\255')";

fn check_bad_error(r: redis_core::Result<Value>) {
    match r {
        Err(redis_core::Error::Server(e)) => {
            assert_eq!(e.code(), "ERR");
            assert_eq!(e.message(), "bad \u{fffd}");
        }
        other => panic!("expected the error reply, got {other:?}"),
    }
}

fn check_bad_status(r: redis_core::Result<Value>) {
    assert_eq!(r.unwrap(), Value::SimpleString("fine \u{fffd}".into()));
}

#[test]
fn non_utf8_status_and_error_replies_keep_the_sync_connection() {
    use redis_sync::ConnectionLike;
    let server = RedisServer::start();
    let client = redis_sync::Client::open(server.config()).unwrap();
    let mut con = client.get_connection().unwrap();
    check_bad_error(con.req(&cmd("EVAL").with(BAD_ERROR).with(0)));
    check_bad_status(con.req(&cmd("EVAL").with(BAD_STATUS).with(0)));
    assert_eq!(
        con.req(&cmd("PING")).unwrap(),
        Value::SimpleString("PONG".into())
    );
    assert!(!con.is_broken());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_utf8_status_and_error_replies_keep_the_multiplexed_connection() {
    use redis_async::ConnectionLike;
    let server = RedisServer::start();
    let client = redis_async::Client::open(server.config()).unwrap();
    let con = client.get_connection().await.unwrap();
    let key = unique_key("utf8");
    // Another caller keeps using the same socket all along.
    let mut other = con.clone();
    let other_key = key.clone();
    let bystander = tokio::spawn(async move {
        for _ in 0..200 {
            other
                .req(&cmd("INCR").with(other_key.as_str()))
                .await
                .unwrap();
        }
    });
    let mut con = con;
    for _ in 0..20 {
        check_bad_error(con.req(&cmd("EVAL").with(BAD_ERROR).with(0)).await);
        check_bad_status(con.req(&cmd("EVAL").with(BAD_STATUS).with(0)).await);
    }
    bystander.await.unwrap();
    assert_eq!(
        con.req(&cmd("GET").with(key.as_str())).await.unwrap(),
        Value::BulkString("200".into())
    );
    assert_eq!(
        con.req(&cmd("PING")).await.unwrap(),
        Value::SimpleString("PONG".into())
    );
}

/// Peak RSS bounds for `hostile_rss` (see that bin). The reply budget
/// (`DecoderLimits::max_reply_bytes`, 512 MiB by default) bounds the endless array; the
/// lone header may cost one 1 MiB read room, and the process itself a few MiB.
const ENDLESS_ARRAY_MAX_KIB: u64 = 600 * 1024;
const LONE_HEADER_MAX_KIB: u64 = 32 * 1024;

#[test]
fn a_hostile_peer_cannot_make_either_client_allocate_without_bound() {
    let runs: Vec<_> = [
        ("endless-array", "sync"),
        ("endless-array", "async"),
        ("lone-header", "sync"),
        ("lone-header", "async"),
    ]
    .into_iter()
    .map(|(attack, client)| {
        let child = Command::new(env!("CARGO_BIN_EXE_hostile_rss"))
            .args([attack, client])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        (attack, client, child)
    })
    .collect();
    let mut failures = Vec::new();
    for (attack, client, child) in runs {
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{attack} {client}: {out:?}");
        let kib: u64 = stdout
            .trim()
            .strip_prefix("peak_rss_kib=")
            .and_then(|s| s.split(' ').next())
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("{attack} {client}: unexpected output {stdout:?}"));
        let (bound, outcome) = match attack {
            "endless-array" => (ENDLESS_ARRAY_MAX_KIB, "byte limit"),
            _ => (LONE_HEADER_MAX_KIB, "timed out"),
        };
        eprintln!("{attack} {client}: {stdout}");
        assert!(stdout.contains(outcome), "{attack} {client}: {stdout}");
        if kib > bound {
            failures.push(format!(
                "{attack} {client}: peak RSS {} MiB > {} MiB",
                kib / 1024,
                bound / 1024
            ));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn lrange_of_ten_million_elements_fits_the_default_limits() {
    use redis_sync::ConnectionLike;
    const N: i64 = 10_000_000;
    let server = RedisServer::start();
    let mut config = server.config();
    // A hang guard only: filling and reading 10M elements takes seconds.
    config.response_timeout = std::time::Duration::from_secs(120);
    let client = redis_sync::Client::open(config).unwrap();
    let mut con = client.get_connection().unwrap();
    let key = unique_key("big");
    let fill = "local b = {} \
        local base = redis.call('LLEN', KEYS[1]) \
        for i = base + 1, base + tonumber(ARGV[1]) do \
          b[#b + 1] = i \
          if #b == 1000 then redis.call('RPUSH', KEYS[1], unpack(b)) b = {} end \
        end \
        if #b > 0 then redis.call('RPUSH', KEYS[1], unpack(b)) end \
        return 1";
    // In ten scripts of 1M elements each, so that no one script blocks the server long.
    for _ in 0..10 {
        con.req(
            &cmd("EVAL")
                .with(fill)
                .with(1)
                .with(key.as_str())
                .with(N / 10),
        )
        .unwrap();
    }
    let len = con.req(&cmd("LLEN").with(key.as_str())).unwrap();
    assert_eq!(len, Value::Int(N));
    let all = con
        .req(&cmd("LRANGE").with(key.as_str()).with(0).with(-1))
        .unwrap();
    let Value::Array(items) = all else {
        panic!("not an array: {}", all.describe())
    };
    assert_eq!(items.len(), N as usize);
    assert_eq!(items[0], Value::BulkString("1".into()));
    assert_eq!(
        items[N as usize - 1],
        Value::BulkString(N.to_string().into())
    );
}
