//! Every command group against a real server with the blocking client, under RESP2 and
//! RESP3. The bodies live in `common/groups.rs` and are shared with `async_groups.rs`:
//! written once in async syntax, expanded here with `maybe_async::must_be_sync`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;

use std::time::Duration;

use redis_sync::{Client, Connection, Protocol};
use redis_tests::RedisServer;

/// The group bodies, as blocking functions over `redis_sync`.
mod bodies {
    #![allow(clippy::too_many_lines, clippy::type_complexity)]

    use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
    use std::time::Duration;

    use redis_sync::commands::{
        self, Aggregate, BitFieldOps, BitOp, Comparison, Direction, Existence, ExpireOption,
        Expiry, FlushMode, GeoAddOptions, GeoBy, GeoOptions, GeoSearch, GeoUnit, LposOptions,
        MinMax, Overflow, RestoreOptions, ScanOptions, SetOptions, SortOptions, SortOrder,
        StreamReadOptions, StreamTrim, XAddOptions, XAutoClaimOptions, XClaimOptions,
        XPendingOptions, ZAddOptions, ZAggregateOptions, ZRangeOptions,
    };
    use redis_sync::{
        cmd, pipe, Commands, ConnectionLike, Error, FromValue, Msg, MsgKind, Protocol, PubSub,
        Query, Script, ServerErrorKind, Value,
    };

    /// The next pub/sub message, waiting at most 5 s.
    fn next_msg(sub: &mut PubSub) -> Msg {
        sub.get_message(Duration::from_secs(5))
            .unwrap()
            .expect("a message within 5 s")
    }

    group_bodies!(maybe_async::must_be_sync);
}

/// The response timeout of the second connection: shorter than the 1 s the bodies block
/// for, so they also check that a blocking command's own timeout extends it.
const BLOCKING_RESPONSE_TIMEOUT: Duration = Duration::from_millis(500);

fn connect(
    server: &RedisServer,
    protocol: Protocol,
    response_timeout: Option<Duration>,
) -> Connection {
    let mut config = server.config().with_protocol(protocol);
    if let Some(t) = response_timeout {
        config.response_timeout = t;
    }
    Client::open(config).unwrap().get_connection().unwrap()
}

/// One `#[test]` per group: its own server, the body run under RESP2 then RESP3 with a
/// connection under test and a second one for blocking commands and WATCH.
macro_rules! group_tests {
    ($($group:ident),* $(,)?) => {$(
        #[test]
        fn $group() {
            let server = RedisServer::start();
            for protocol in [Protocol::Resp2, Protocol::Resp3] {
                let mut con = connect(&server, protocol, None);
                let mut blk = connect(&server, protocol, Some(BLOCKING_RESPONSE_TIMEOUT));
                bodies::$group(&mut con, &mut blk, protocol);
            }
        }
    )*};
}

group_tests!(
    strings,
    keys,
    lists,
    sets,
    sorted_sets,
    hashes,
    bitmaps,
    hyperloglog,
    geo,
    streams,
    scripting,
    server,
    pipelines,
    transactions,
);

#[test]
fn pubsub() {
    let server = RedisServer::start();
    for protocol in [Protocol::Resp2, Protocol::Resp3] {
        let client = Client::open(server.config().with_protocol(protocol)).unwrap();
        let mut con = client.get_connection().unwrap();
        let mut sub = client.get_pubsub().unwrap();
        bodies::pubsub(&mut con, &mut sub, protocol);
    }
}
