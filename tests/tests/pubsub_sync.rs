//! Regression test of the blocking pub/sub connection (issue 6): `unsubscribe` returns only
//! once the server has confirmed, as it does in the async client (both count confirmations
//! with `redis_core::pubsub::Subscriptions`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use redis_sync::prelude::*;
use redis_sync::{commands, Addr, Protocol};
use redis_tests::{unique_key, Proxy, RedisServer};

#[test]
fn unsubscribe_returns_after_the_server_confirmed_it() {
    let server = RedisServer::start();
    let proxy = Proxy::start(&server.addr());
    for protocol in [Protocol::Resp2, Protocol::Resp3] {
        let direct = Client::open(server.config().with_protocol(protocol)).unwrap();
        let mut config = server.config().with_protocol(protocol);
        config.addr = Addr::tcp("127.0.0.1", proxy.port());
        let via_proxy = Client::open(config).unwrap();
        let mut sub = via_proxy.get_pubsub().unwrap();
        let mut publisher = direct.get_connection().unwrap();
        let ch = unique_key("unsub");
        let pat = unique_key("unsub-pat");
        sub.subscribe(&ch).unwrap();
        sub.psubscribe(format!("{pat}.*")).unwrap();
        let n: i64 = commands::publish(&ch, "before")
            .query(&mut publisher)
            .unwrap();
        assert_eq!(n, 1);

        // A slow link between the subscriber and the server: an UNSUBSCRIBE that is only
        // written, not confirmed, has not reached the server yet.
        proxy.set_delay(Duration::from_millis(300));
        sub.unsubscribe(&ch).unwrap();
        let n: i64 = commands::publish(&ch, "after")
            .query(&mut publisher)
            .unwrap();
        assert_eq!(
            n, 0,
            "{protocol:?}: PUBLISH reached a channel unsubscribed from"
        );
        sub.punsubscribe(()).unwrap();
        let n: i64 = commands::publish(format!("{pat}.x"), "after")
            .query(&mut publisher)
            .unwrap();
        assert_eq!(
            n, 0,
            "{protocol:?}: PUBLISH reached a pattern unsubscribed from"
        );
        sub.unsubscribe(()).unwrap();
        proxy.set_delay(Duration::ZERO);
        // The message published before is still there, queued while waiting.
        let msg = sub.get_message(Duration::from_secs(5)).unwrap().unwrap();
        assert_eq!(msg.payload::<String>().unwrap(), "before");
    }
}
