//! Every command group against a real server with the async client, under RESP2 and
//! RESP3. The bodies live in `common/groups.rs` and are shared with `sync_groups.rs`:
//! written once in async syntax, expanded here with `maybe_async::must_be_async`.
//!
//! `con` is the multiplexed `Connection`; blocking commands and WATCH run on a
//! `DedicatedConnection`. Most tests use the multi-thread runtime; a few groups run on the
//! current-thread runtime as well.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;

use std::time::Duration;

use redis_async::{Client, Connection, DedicatedConnection, Protocol};
use redis_tests::RedisServer;

/// The group bodies, as async functions over `redis_async`.
mod bodies {
    #![allow(clippy::too_many_lines, clippy::type_complexity)]

    use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
    use std::time::Duration;

    use redis_async::commands::{
        self, Aggregate, BitFieldOps, BitOp, Comparison, Direction, Existence, ExpireOption,
        Expiry, FlushMode, GeoAddOptions, GeoBy, GeoOptions, GeoSearch, GeoUnit, LposOptions,
        MinMax, Overflow, RestoreOptions, ScanOptions, SetOptions, SortOptions, SortOrder,
        StreamReadOptions, StreamTrim, XAddOptions, XAutoClaimOptions, XClaimOptions,
        XPendingOptions, ZAddOptions, ZAggregateOptions, ZRangeOptions,
    };
    use redis_async::{
        cmd, pipe, Commands, ConnectionLike, Error, FromValue, Msg, MsgKind, Protocol, PubSub,
        Query, Script, ServerErrorKind, Value,
    };

    /// The next pub/sub message, waiting at most 5 s.
    async fn next_msg(sub: &mut PubSub) -> Msg {
        tokio::time::timeout(Duration::from_secs(5), sub.next_message())
            .await
            .expect("a message within 5 s")
            .expect("the subscriber is still open")
            .unwrap()
    }

    group_bodies!(maybe_async::must_be_async);
}

/// The response timeout of the dedicated connection: shorter than the 1 s the bodies block
/// for, so they also check that a blocking command's own timeout extends it.
const BLOCKING_RESPONSE_TIMEOUT: Duration = Duration::from_millis(500);

async fn connect(server: &RedisServer, protocol: Protocol) -> (Connection, DedicatedConnection) {
    let client = Client::open(server.config().with_protocol(protocol)).unwrap();
    let con = client.get_connection().await.unwrap();
    let mut config = server.config().with_protocol(protocol);
    config.response_timeout = BLOCKING_RESPONSE_TIMEOUT;
    let blk = Client::open(config)
        .unwrap()
        .get_dedicated_connection()
        .await
        .unwrap();
    (con, blk)
}

/// One test per group: its own server, the body run under RESP2 then RESP3.
macro_rules! group_tests {
    ($flavor:tt; $($test:ident => $group:ident),* $(,)?) => {$(
        #[tokio::test $flavor]
        async fn $test() {
            let server = RedisServer::start();
            for protocol in [Protocol::Resp2, Protocol::Resp3] {
                let (mut con, mut blk) = connect(&server, protocol).await;
                bodies::$group(&mut con, &mut blk, protocol).await;
            }
        }
    )*};
}

group_tests!((flavor = "multi_thread", worker_threads = 2);
    strings => strings,
    lists => lists,
    sets => sets,
    sorted_sets => sorted_sets,
    hashes => hashes,
    bitmaps => bitmaps,
    hyperloglog => hyperloglog,
    geo => geo,
    streams => streams,
    scripting => scripting,
    pipelines => pipelines,
    transactions => transactions,
);

/// Groups that SELECT other databases: a shared connection refuses SELECT (its callers
/// would follow each other from db to db), so `con` is a `DedicatedConnection` here.
macro_rules! dedicated_group_tests {
    ($($test:ident => $group:ident),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $test() {
            let server = RedisServer::start();
            for protocol in [Protocol::Resp2, Protocol::Resp3] {
                let client = Client::open(server.config().with_protocol(protocol)).unwrap();
                let mut con = client.get_dedicated_connection().await.unwrap();
                let (_, mut blk) = connect(&server, protocol).await;
                bodies::$group(&mut con, &mut blk, protocol).await;
            }
        }
    )*};
}

dedicated_group_tests!(
    keys => keys,
    server => server,
);

group_tests!((flavor = "current_thread");
    strings_current_thread => strings,
    lists_current_thread => lists,
    streams_current_thread => streams,
    pipelines_current_thread => pipelines,
    transactions_current_thread => transactions,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pubsub() {
    let server = RedisServer::start();
    for protocol in [Protocol::Resp2, Protocol::Resp3] {
        let client = Client::open(server.config().with_protocol(protocol)).unwrap();
        let mut con = client.get_connection().await.unwrap();
        let mut sub = client.get_pubsub().await.unwrap();
        bodies::pubsub(&mut con, &mut sub, protocol).await;
    }
}
