//! Regression tests of the handshake fallback (issue 6, defect 16): a server that refuses
//! `HELLO` (before Redis 6, or a proxy) gets AUTH + RESP2 and the rest of the handshake,
//! and every connection type reports the protocol actually negotiated. A wrong password
//! on `HELLO 3 AUTH` is not a reason to fall back. `FakePeer` plays the old server: a real
//! Redis 7 always knows HELLO.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use redis_core::{Config, Protocol, ServerErrorKind};
use redis_tests::{FakePeer, FakeStep, RedisServer};

const UNKNOWN_HELLO: &str =
    "-ERR unknown command 'HELLO', with args beginning with: '3' 'AUTH' \r\n";
const UNKNOWN_CLIENT: &str =
    "-ERR unknown command 'CLIENT', with args beginning with: 'SETINFO' \r\n";

/// An old server: refuses HELLO (and CLIENT SETINFO), accepts AUTH, SELECT and PING.
fn old_server(first_error: &str) -> FakePeer {
    FakePeer::start(vec![
        FakeStep::expect_command(&["HELLO", "3", "AUTH", "default", "pw"]),
        FakeStep::expect_command(&["SELECT", "2"]),
        FakeStep::ReadCommand, // CLIENT SETINFO LIB-NAME
        FakeStep::ReadCommand, // CLIENT SETINFO LIB-VER
        FakeStep::send(format!(
            "{first_error}-NOAUTH Authentication required.\r\n{UNKNOWN_CLIENT}{UNKNOWN_CLIENT}"
        )),
        FakeStep::expect_command(&["AUTH", "pw"]),
        FakeStep::expect_command(&["SELECT", "2"]),
        FakeStep::ReadCommand,
        FakeStep::ReadCommand,
        FakeStep::send(format!("+OK\r\n+OK\r\n{UNKNOWN_CLIENT}{UNKNOWN_CLIENT}")),
        FakeStep::expect_command(&["PING"]),
        FakeStep::send("+PONG\r\n"),
    ])
}

fn config(peer: &FakePeer) -> Config {
    peer.config()
        .with_password(None, "pw")
        .with_db(2)
        .with_protocol(Protocol::Resp3)
}

#[test]
fn sync_connection_falls_back_to_resp2_when_hello_is_unknown() {
    use redis_sync::prelude::*;
    for refusal in [
        UNKNOWN_HELLO,
        "-NOPROTO sorry, this protocol version is not supported\r\n",
    ] {
        let peer = old_server(refusal);
        let client = redis_sync::Client::open(config(&peer)).unwrap();
        let mut con = client.get_connection().unwrap();
        assert_eq!(con.protocol(), Protocol::Resp2, "after {refusal:?}");
        let pong: String = cmd("PING").query(&mut con).unwrap();
        assert_eq!(pong, "PONG");
        peer.wait_done().unwrap();
        assert_eq!(peer.connections(), 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_dedicated_and_multiplexed_connections_fall_back_to_resp2() {
    use redis_async::prelude::*;
    let peer = old_server(UNKNOWN_HELLO);
    let client = redis_async::Client::open(config(&peer)).unwrap();
    let mut con = client.get_dedicated_connection().await.unwrap();
    assert_eq!(con.protocol(), Protocol::Resp2);
    let pong: String = cmd("PING").query(&mut con).await.unwrap();
    assert_eq!(pong, "PONG");
    tokio::task::block_in_place(|| peer.wait_done()).unwrap();

    let peer = old_server(UNKNOWN_HELLO);
    let client = redis_async::Client::open(config(&peer)).unwrap();
    let mut con = client.get_connection().await.unwrap();
    assert_eq!(con.protocol(), Protocol::Resp2);
    let pong: String = cmd("PING").query(&mut con).await.unwrap();
    assert_eq!(pong, "PONG");
    tokio::task::block_in_place(|| peer.wait_done()).unwrap();
}

#[test]
fn a_wrong_password_on_hello_is_an_error_not_a_fallback() {
    let peer = FakePeer::start(vec![
        FakeStep::expect_command(&["HELLO", "3", "AUTH", "default", "pw"]),
        FakeStep::ReadCommand,
        FakeStep::ReadCommand,
        FakeStep::ReadCommand,
        FakeStep::send(
            "-WRONGPASS invalid username-password pair or user is disabled.\r\n\
             -NOAUTH Authentication required.\r\n-NOAUTH x\r\n-NOAUTH x\r\n",
        ),
        FakeStep::ReadUntilClosed,
    ]);
    let client = redis_sync::Client::open(config(&peer)).unwrap();
    let e = client.get_connection().unwrap_err();
    assert_eq!(e.server_kind(), Some(&ServerErrorKind::WrongPass), "{e}");
    peer.wait_done().unwrap();
    let sent = String::from_utf8_lossy(&peer.received()).into_owned();
    assert!(
        !sent.contains("$4\r\nAUTH\r\n$2\r\npw"),
        "fell back to AUTH: {sent:?}"
    );
    assert!(!format!("{e}").contains("pw"));
}

#[test]
fn a_real_server_negotiates_what_was_asked() {
    let server = RedisServer::start();
    for protocol in [Protocol::Resp2, Protocol::Resp3] {
        let client = redis_sync::Client::open(server.config().with_protocol(protocol)).unwrap();
        assert_eq!(client.get_connection().unwrap().protocol(), protocol);
    }
}
