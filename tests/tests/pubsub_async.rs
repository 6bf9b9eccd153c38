//! Regression tests of the async pub/sub connection (issue 6, defect 12), each against its
//! own real server: a burst into a small buffer followed by silence is fully accounted for,
//! `subscribe` is bounded by the response timeout (server SIGSTOPped) and by the reconnect
//! budget (server down, `reconnect: true`), `unsubscribe` returns only once the server has
//! confirmed, and a resubscription after `CLIENT KILL` shows up in the stream.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use redis_async::prelude::*;
use redis_async::{commands, Addr, Error, Msg, MsgKind, Overflow, Protocol, PubSub, PubSubOptions};
use redis_tests::{unique_key, Proxy, RedisServer};

/// Only a hang guard: every wait below is expected to end long before it.
const HANG_GUARD: Duration = Duration::from_secs(30);

fn blocking<R>(f: impl FnOnce() -> R) -> R {
    tokio::task::block_in_place(f)
}

async fn next_within(sub: &mut PubSub, within: Duration) -> Option<redis_async::Result<Msg>> {
    tokio::time::timeout(within, sub.next_message())
        .await
        .ok()
        .flatten()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_then_silence_is_delivered_or_reported_as_lag_exactly() {
    const BURST: u64 = 5_000;
    let server = RedisServer::start();
    for protocol in [Protocol::Resp2, Protocol::Resp3] {
        let client = Client::open(server.config().with_protocol(protocol)).unwrap();
        let mut sub = client
            .get_pubsub_with(PubSubOptions {
                buffer: 16,
                overflow: Overflow::Lag,
                reconnect: false,
            })
            .await
            .unwrap();
        let channel = unique_key("burst");
        sub.subscribe(&channel).await.unwrap();
        let mut publisher = client.get_connection().await.unwrap();
        let mut p = pipe();
        for seq in 0..BURST {
            p.add(commands::publish(&channel, seq));
        }
        let receivers: Vec<i64> = p.query(&mut publisher).await.unwrap();
        assert!(receivers.iter().all(|&n| n == 1));
        // Then silence: nothing more is ever published on this channel. The sleep only
        // makes it likely that the subscriber task has read (and mostly dropped) the
        // whole burst before we start reading; the count must hold either way.
        tokio::time::sleep(Duration::from_millis(300)).await;

        let (mut received, mut lagged, mut reports) = (0u64, 0u64, 0u64);
        while let Some(item) = next_within(&mut sub, Duration::from_secs(2)).await {
            match item {
                Ok(msg) if msg.is_message() => received += 1,
                Ok(other) => panic!("{protocol:?}: unexpected {other:?}"),
                Err(Error::Lagged { dropped }) => {
                    lagged += dropped;
                    reports += 1;
                }
                Err(e) => panic!("{protocol:?}: {e}"),
            }
            if received + lagged == BURST {
                break;
            }
        }
        eprintln!("{protocol:?}: published {BURST}, received {received}, reported lagged {lagged} in {reports} report(s)");
        assert!(
            lagged > 0,
            "{protocol:?}: a 16-message buffer held a 5,000 burst?"
        );
        assert_eq!(
            received + lagged,
            BURST,
            "{protocol:?}: received {received} + lagged {lagged} != published"
        );
        // Nothing more arrives: the accounting did not over-report.
        assert!(next_within(&mut sub, Duration::from_millis(200))
            .await
            .is_none());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribe_to_a_paused_server_times_out_within_the_response_timeout() {
    let mut server = RedisServer::start();
    let mut config = server.config();
    config.response_timeout = Duration::from_millis(500);
    let client = Client::open(config).unwrap();
    let mut sub = client.get_pubsub().await.unwrap();
    sub.subscribe(unique_key("first")).await.unwrap();

    blocking(|| server.pause());
    let started = Instant::now();
    let outcome = tokio::time::timeout(HANG_GUARD, sub.subscribe(unique_key("paused"))).await;
    let waited = started.elapsed();
    blocking(|| server.resume());
    let result = outcome.expect("subscribe() to a paused server never returned");
    assert!(
        matches!(result, Err(Error::Timeout { .. })),
        "expected a Timeout, got {result:?} after {waited:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribe_while_the_server_is_down_with_reconnect_fails_within_the_budget() {
    let mut server = RedisServer::start();
    let mut config = server.config();
    config.response_timeout = Duration::from_millis(500);
    config.connect_timeout = Duration::from_millis(500);
    let client = Client::open(config).unwrap();
    let mut sub = client
        .get_pubsub_with(PubSubOptions {
            reconnect: true,
            ..PubSubOptions::default()
        })
        .await
        .unwrap();
    sub.subscribe(unique_key("before")).await.unwrap();

    blocking(|| server.stop());
    let outcome = tokio::time::timeout(HANG_GUARD, sub.subscribe(unique_key("down"))).await;
    let result = outcome.expect("subscribe() with the server down never returned");
    assert!(
        matches!(result, Err(Error::Timeout { .. })),
        "expected a Timeout after the reconnect budget, got {result:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsubscribe_returns_after_the_server_confirmed_it() {
    let server = RedisServer::start();
    let proxy = Proxy::start(&server.addr());
    for protocol in [Protocol::Resp2, Protocol::Resp3] {
        let direct = Client::open(server.config().with_protocol(protocol)).unwrap();
        let mut config = server.config().with_protocol(protocol);
        config.addr = Addr::tcp("127.0.0.1", proxy.port());
        let via_proxy = Client::open(config).unwrap();
        let mut sub = via_proxy.get_pubsub().await.unwrap();
        let mut publisher = direct.get_connection().await.unwrap();
        let ch = unique_key("unsub");
        let pat = unique_key("unsub-pat");
        sub.subscribe(&ch).await.unwrap();
        sub.psubscribe(format!("{pat}.*")).await.unwrap();

        // A slow link between the subscriber and the server: an UNSUBSCRIBE that is only
        // written, not confirmed, has not reached the server yet.
        proxy.set_delay(Duration::from_millis(300));
        sub.unsubscribe(&ch).await.unwrap();
        let n: i64 = commands::publish(&ch, "after")
            .query(&mut publisher)
            .await
            .unwrap();
        assert_eq!(
            n, 0,
            "{protocol:?}: PUBLISH reached a channel unsubscribed from"
        );
        sub.punsubscribe(()).await.unwrap();
        let n: i64 = commands::publish(format!("{pat}.x"), "after")
            .query(&mut publisher)
            .await
            .unwrap();
        assert_eq!(
            n, 0,
            "{protocol:?}: PUBLISH reached a pattern unsubscribed from"
        );
        // Unsubscribing from everything when nothing is left still gets its one reply.
        sub.unsubscribe(()).await.unwrap();
        proxy.set_delay(Duration::ZERO);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resubscription_after_client_kill_shows_in_the_stream() {
    let server = RedisServer::start();
    for protocol in [Protocol::Resp2, Protocol::Resp3] {
        let client = Client::open(server.config().with_protocol(protocol)).unwrap();
        let mut sub = client
            .get_pubsub_with(PubSubOptions {
                reconnect: true,
                ..PubSubOptions::default()
            })
            .await
            .unwrap();
        let ch = unique_key("killed");
        let pat = unique_key("killed-pat");
        sub.subscribe(&ch).await.unwrap();
        sub.psubscribe(format!("{pat}.*")).await.unwrap();
        let mut admin = client.get_connection().await.unwrap();
        let killed: i64 = cmd("CLIENT")
            .arg("KILL")
            .arg("TYPE")
            .arg("pubsub")
            .query(&mut admin)
            .await
            .unwrap();
        assert_eq!(killed, 1, "{protocol:?}");

        let item = next_within(&mut sub, HANG_GUARD)
            .await
            .expect("no resubscription notice after CLIENT KILL")
            .unwrap();
        assert_eq!(
            item.kind(),
            &MsgKind::Resubscribed,
            "{protocol:?}: {item:?}"
        );
        assert!(!item.is_message());
        assert_eq!(
            item.payload::<i64>().unwrap(),
            2,
            "{protocol:?}: restored count"
        );

        // The notice comes once the server has confirmed: a PUBLISH now reaches it.
        let n: i64 = commands::publish(&ch, "back")
            .query(&mut admin)
            .await
            .unwrap();
        assert_eq!(n, 1, "{protocol:?}");
        let msg = next_within(&mut sub, HANG_GUARD).await.unwrap().unwrap();
        assert_eq!(msg.payload::<String>().unwrap(), "back");
    }
}
