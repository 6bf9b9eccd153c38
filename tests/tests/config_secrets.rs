//! Configuration as both clients see it: one validation in core (so the blocking and the
//! async `Client::open` refuse the same configs), no panic on absurd URL values, no secret
//! in any error about a URL, and URL user info with reserved characters that really
//! authenticates against a real server.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use redis_core::{Config, Error};
use redis_sync::Query;
use redis_tests::RedisServer;

const SECRET: &str = "s3cr3t";

/// URLs that must be refused, each with the secret somewhere a hand-written parser or a
/// redactor used to echo it.
const LEAKY_URLS: &[&str] = &[
    "u:s3cr3t@127.0.0.1:6379",
    "redis://u:s3cr3t/?x@127.0.0.1:6379",
    "redis://:s3cr3t?x@127.0.0.1/0",
    "redis://127.0.0.1?password=a&password=s3cr3t&db=x",
    "redis://127.0.0.1?PASSWORD=s3cr3t&db=x",
    "redis://127.0.0.1?s3cr3t",
    "redis://u:s3cr3t@127.0.0.1/notadb",
];

fn assert_clean(what: &str, e: &Error) {
    let (display, debug) = (e.to_string(), format!("{e:?}"));
    assert!(!display.contains(SECRET), "{what} -> {display}");
    assert!(!debug.contains(SECRET), "{what} -> {debug}");
    assert!(matches!(e, Error::InvalidConfig(_)), "{what} -> {debug}");
}

/// Configs built in code that both clients must refuse, naming the setting.
fn bad_configs() -> Vec<(&'static str, Config)> {
    let base = Config::from_url("redis://127.0.0.1:1").unwrap();
    let mut zero_connect = base.clone();
    zero_connect.connect_timeout = Duration::ZERO;
    let mut zero_response = base.clone();
    zero_response.response_timeout = Duration::ZERO;
    let mut zero_write = base.clone();
    zero_write.write_timeout = Duration::ZERO;
    let mut huge_response = base;
    huge_response.response_timeout = Duration::from_secs(u64::MAX);
    vec![
        ("connect_timeout", zero_connect),
        ("response_timeout", zero_response),
        ("write_timeout", zero_write),
        ("response_timeout", huge_response),
    ]
}

#[test]
fn sync_open_refuses_zero_and_absurd_timeouts() {
    for (setting, config) in bad_configs() {
        let e = redis_sync::Client::open(config).unwrap_err();
        assert!(matches!(e, Error::InvalidConfig(_)), "{e:?}");
        assert!(e.to_string().contains(setting), "{setting}: {e}");
    }
}

#[test]
fn async_open_refuses_zero_and_absurd_timeouts() {
    for (setting, config) in bad_configs() {
        let e = redis_async::Client::open(config).unwrap_err();
        assert!(matches!(e, Error::InvalidConfig(_)), "{e:?}");
        assert!(e.to_string().contains(setting), "{setting}: {e}");
    }
}

#[test]
fn absurd_url_timeout_is_an_error_not_a_panic() {
    for url in [
        "redis://127.0.0.1?response_timeout=1e20",
        "redis://127.0.0.1?connect_timeout=1e300",
        "redis://127.0.0.1?response_timeout=0",
    ] {
        let sync = std::panic::catch_unwind(|| redis_sync::Client::open(url).map(|_| ()));
        let e = sync.expect("sync Client::open panicked").unwrap_err();
        assert!(matches!(e, Error::InvalidConfig(_)), "{url}: {e:?}");
        let asy = std::panic::catch_unwind(|| redis_async::Client::open(url).map(|_| ()));
        let e = asy.expect("async Client::open panicked").unwrap_err();
        assert!(matches!(e, Error::InvalidConfig(_)), "{url}: {e:?}");
    }
}

#[test]
fn url_errors_from_either_client_never_echo_the_password() {
    for url in LEAKY_URLS {
        assert_clean(url, &redis_sync::Client::open(*url).unwrap_err());
        assert_clean(url, &redis_async::Client::open(*url).unwrap_err());
    }
}

/// A password with every character that breaks a naive URL split, percent-encoded in the
/// user info (and, separately, in the query), logs in on a real server.
#[test]
fn percent_encoded_password_with_reserved_characters_authenticates() {
    let password = "p/?#@:%+w";
    let encoded = "p%2F%3F%23%40%3A%25+w";
    let server = RedisServer::builder()
        .acl_user("al@ice", password, "~* +@all")
        .start();
    let port = server.port();
    for url in [
        format!("redis://al%40ice:{encoded}@127.0.0.1:{port}/0"),
        format!("redis://127.0.0.1:{port}?user=al%40ice&password={encoded}"),
    ] {
        let client = redis_sync::Client::open(url.as_str()).unwrap();
        let mut con = client.get_connection().unwrap();
        let me: String = redis_core::cmd("ACL")
            .with("WHOAMI")
            .query(&mut con)
            .unwrap();
        assert_eq!(me, "al@ice", "{url}");
    }
}
