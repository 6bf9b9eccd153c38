//! Behaviour of the blocking client that the foundation issue requires, each against a
//! real server: transactions, scripts, pub/sub, scan, pool accounting, the lock, auth
//! errors, TLS, timeouts that break a connection, and secrets kept out of every string.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use redis_sync::prelude::*;
use redis_sync::{
    commands, transaction, Config, Error, Lock, LockErrorKind, Protocol, ServerErrorKind, Value,
};
use redis_tests::{unique_key, FakePeer, FakeStep, RedisServer};

fn both_protocols() -> [Protocol; 2] {
    [Protocol::Resp2, Protocol::Resp3]
}

fn connect(server: &RedisServer, protocol: Protocol) -> Connection {
    Client::open(server.config().with_protocol(protocol))
        .unwrap()
        .get_connection()
        .unwrap()
}

#[test]
fn watch_conflict_from_a_second_connection_makes_the_transaction_retry() {
    let server = RedisServer::start();
    for protocol in both_protocols() {
        let mut con = connect(&server, protocol);
        let mut other = connect(&server, protocol);
        let key = unique_key("balance");
        let _: () = con.set(&key, 100).unwrap();
        let mut runs = 0;
        let (balance,): (i64,) = transaction(&mut con, &key, |con, pipe| {
            runs += 1;
            let b: i64 = con.get(&key)?;
            if runs == 1 {
                // Somebody else writes between our WATCH and our EXEC.
                let _: () = other.set(&key, 500)?;
            }
            pipe.add(commands::set(&key, b - 10))
                .ignore()
                .add(commands::get(&key));
            pipe.query(con)
        })
        .unwrap();
        assert_eq!(
            runs, 2,
            "{protocol:?}: the first EXEC must have been aborted"
        );
        assert_eq!(
            balance, 490,
            "{protocol:?}: the retry must see the other write"
        );
        let stored: i64 = con.get(&key).unwrap();
        assert_eq!(stored, 490);
    }
}

#[test]
fn script_still_works_after_script_flush() {
    let server = RedisServer::start();
    for protocol in both_protocols() {
        let mut con = connect(&server, protocol);
        let key = unique_key("lua");
        let script = Script::new(
            "if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('INCR', KEYS[1]) \
             else redis.call('SET', KEYS[1], ARGV[1]) return tonumber(ARGV[1]) end",
        );
        let first: i64 = script.key(&key).arg(10).query(&mut con).unwrap();
        assert_eq!(first, 10);
        let loaded: Vec<bool> = cmd("SCRIPT")
            .arg("EXISTS")
            .arg(script.hash())
            .query(&mut con)
            .unwrap();
        assert_eq!(loaded, [true], "EVAL fallback must have cached the script");
        let _: () = cmd("SCRIPT").arg("FLUSH").query(&mut con).unwrap();
        let second: i64 = script.key(&key).arg(10).query(&mut con).unwrap();
        assert_eq!(second, 11, "{protocol:?}");
    }
}

#[test]
fn pubsub_across_two_connections() {
    let server = RedisServer::start();
    for protocol in both_protocols() {
        let client = Client::open(server.config().with_protocol(protocol)).unwrap();
        let mut sub = client.get_pubsub().unwrap();
        let chan = unique_key("chan");
        sub.subscribe(&chan).unwrap();
        sub.psubscribe(format!("{chan}.*")).unwrap();
        let mut publisher = client.get_connection().unwrap();
        let receivers: i64 = cmd("PUBLISH")
            .arg(&chan)
            .arg("hello")
            .query(&mut publisher)
            .unwrap();
        assert_eq!(receivers, 1);
        let _: i64 = cmd("PUBLISH")
            .arg(format!("{chan}.x"))
            .arg("by pattern")
            .query(&mut publisher)
            .unwrap();
        let m = sub.get_message(Duration::from_secs(5)).unwrap().unwrap();
        assert_eq!(m.channel_name(), chan);
        assert_eq!(m.payload::<String>().unwrap(), "hello");
        let m = sub.get_message(Duration::from_secs(5)).unwrap().unwrap();
        assert_eq!(m.kind(), &redis_sync::MsgKind::PMessage);
        assert_eq!(m.pattern(), Some(format!("{chan}.*").as_bytes()));
        assert_eq!(m.payload::<String>().unwrap(), "by pattern");
        // Nothing else is pending: a short wait returns None and the connection lives.
        assert!(sub
            .get_message(Duration::from_millis(50))
            .unwrap()
            .is_none());
        let _: i64 = cmd("PUBLISH")
            .arg(&chan)
            .arg("again")
            .query(&mut publisher)
            .unwrap();
        let m = sub.get_message(Duration::from_secs(5)).unwrap().unwrap();
        assert_eq!(m.payload::<String>().unwrap(), "again");
    }
}

#[test]
fn scan_over_10k_keys_yields_every_key() {
    let server = RedisServer::start();
    let mut con = connect(&server, Protocol::Resp3);
    let prefix = unique_key("scan");
    let mut p = pipe();
    let mut want = HashSet::new();
    for i in 0..10_000 {
        let k = format!("{prefix}:{i}");
        p.add(commands::set(&k, i)).ignore();
        want.insert(k);
    }
    let _: () = p.query(&mut con).unwrap();
    let _: () = con.set("not-matching", 1).unwrap();
    let got: HashSet<String> = con
        .scan_match_iter(format!("{prefix}:*"))
        .collect::<redis_sync::Result<_>>()
        .unwrap();
    assert_eq!(got.len(), 10_000);
    assert_eq!(got, want);
    let all: HashSet<String> = con.scan_iter().collect::<redis_sync::Result<_>>().unwrap();
    assert_eq!(all.len(), 10_001);
}

#[test]
fn pool_of_8_under_64_threads_keeps_its_count() {
    let server = RedisServer::start();
    let client = Client::open(server.config()).unwrap();
    let pool = client.pool(8).unwrap();
    let start = Arc::new(Barrier::new(64));
    let threads: Vec<_> = (0..64)
        .map(|t| {
            let pool = pool.clone();
            let start = start.clone();
            thread::spawn(move || {
                start.wait();
                for i in 0..200 {
                    let mut con = pool.get().unwrap();
                    let key = format!("pool:{t}");
                    let n: i64 = con.incr(&key, 1).unwrap();
                    assert_eq!(n, i + 1);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let state = pool.state();
    assert_eq!(state.connections - state.idle_connections, 0, "checked out");
    assert!(state.connections <= 8);
    let mut checker = client.get_connection().unwrap();
    let list: String = cmd("CLIENT").arg("LIST").query(&mut checker).unwrap();
    let clients = list.lines().count() - 1; // minus the checker itself
    assert!(
        clients <= 8,
        "{clients} clients besides the checker:\n{list}"
    );
    assert_eq!(clients, state.connections as usize);
}

#[test]
fn eight_threads_under_the_lock_count_exactly() {
    let server = RedisServer::start();
    let client = Client::open(server.config()).unwrap();
    let pool = client.pool(8).unwrap();
    let counter = unique_key("counter");
    let lock = Lock::new(unique_key("lock"), Duration::from_secs(10));
    const LOOPS: i64 = 100;
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let (pool, lock, counter) = (pool.clone(), lock.clone(), counter.clone());
            thread::spawn(move || {
                for _ in 0..LOOPS {
                    let con = pool.get().unwrap();
                    let mut guard = lock.acquire(con, Duration::from_secs(30)).unwrap();
                    // A plain read-modify-write: only the lock keeps it correct.
                    let v: Option<i64> = guard.connection().get(&counter).unwrap();
                    let _: () = guard
                        .connection()
                        .set(&counter, v.unwrap_or(0) + 1)
                        .unwrap();
                    guard.release().unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let mut con = client.get_connection().unwrap();
    let total: i64 = con.get(&counter).unwrap();
    assert_eq!(total, 8 * LOOPS);
}

#[test]
fn a_lock_released_after_its_ttl_keeps_the_new_holders_key() {
    let server = RedisServer::start();
    let client = Client::open(server.config()).unwrap();
    let name = unique_key("lock");
    let lock = Lock::new(&name, Duration::from_millis(100));
    let old = lock.try_acquire(client.get_connection().unwrap()).unwrap();
    thread::sleep(Duration::from_millis(250)); // expired
    let mut new = lock.try_acquire(client.get_connection().unwrap()).unwrap();
    assert_ne!(old.token(), new.token());
    let new_token = new.token().to_string();
    let err = old.release().unwrap_err();
    assert!(matches!(err, Error::Lock(LockErrorKind::NotOwned)), "{err}");
    let stored: String = new.connection().get(&name).unwrap();
    assert_eq!(
        stored, new_token,
        "the old holder must not delete the new holder's key"
    );
    // While it is held, a second try fails with NotAcquired.
    let second = lock.try_acquire(client.get_connection().unwrap());
    assert!(matches!(
        second,
        Err(Error::Lock(LockErrorKind::NotAcquired))
    ));
    new.extend(Duration::from_secs(5)).unwrap();
    let ttl: i64 = cmd("PTTL").arg(&name).query(new.connection()).unwrap();
    assert!(ttl > 1000, "extend must reset the TTL, got {ttl}");
    new.release().unwrap();
    let mut con = client.get_connection().unwrap();
    let gone: Option<String> = con.get(&name).unwrap();
    assert_eq!(gone, None);
}

#[test]
fn wrong_password_and_wrong_acl_give_typed_errors() {
    let server = RedisServer::builder()
        .password("right-pw")
        .acl_user("alice", "alice-pw", "~* &* +@all")
        .start();
    for protocol in both_protocols() {
        let config = server
            .config_no_auth()
            .with_protocol(protocol)
            .with_password(None, "wrong-pw");
        let err = Client::open(config.clone())
            .unwrap()
            .get_connection()
            .unwrap_err();
        assert_eq!(
            err.server_kind(),
            Some(&ServerErrorKind::WrongPass),
            "{err}"
        );
        // A pool says so too, typed and at once (it once waited out its connect timeout
        // and gave the error as text).
        let started = Instant::now();
        let err = Client::open(config).unwrap().pool(4).unwrap_err();
        assert_eq!(
            err.server_kind(),
            Some(&ServerErrorKind::WrongPass),
            "{err}"
        );
        println!(
            "pool with a wrong password: typed error after {:?}",
            started.elapsed()
        );

        let config = server
            .config_no_auth()
            .with_protocol(protocol)
            .with_password(Some("alice"), "nope");
        let err = Client::open(config).unwrap().get_connection().unwrap_err();
        assert_eq!(
            err.server_kind(),
            Some(&ServerErrorKind::WrongPass),
            "{err}"
        );

        // No credentials at all: the first command says NOAUTH.
        let mut con = Client::open(server.config_no_auth().with_protocol(Protocol::Resp2))
            .unwrap()
            .get_connection()
            .unwrap();
        let err = con.get::<_, Option<String>>("k").unwrap_err();
        assert_eq!(err.server_kind(), Some(&ServerErrorKind::NoAuth), "{err}");

        // A user with limited permissions gets NOPERM.
        let mut admin = connect(&server, protocol);
        let _: () = cmd("ACL")
            .arg((
                "SETUSER",
                "reader",
                "on",
                ">reader-pw",
                "~*",
                "+get",
                "+acl|whoami",
            ))
            .query(&mut admin)
            .unwrap();
        let mut reader = Client::open(
            server
                .config_no_auth()
                .with_protocol(protocol)
                .with_password(Some("reader"), "reader-pw"),
        )
        .unwrap()
        .get_connection()
        .unwrap();
        let err = reader.set::<_, _, ()>("k", 1).unwrap_err();
        assert_eq!(err.server_kind(), Some(&ServerErrorKind::NoPerm), "{err}");
        let who: String = cmd("ACL").arg("WHOAMI").query(&mut reader).unwrap();
        assert_eq!(who, "reader");
    }
}

#[test]
fn tls_verifies_the_ca_and_the_host_name() {
    let server = RedisServer::builder().tls().start();
    let files = server.tls_files().unwrap();
    let mut con = Client::open(server.config())
        .unwrap()
        .get_connection()
        .unwrap();
    let pong: String = con.ping().unwrap();
    assert_eq!(pong, "PONG");

    let mut wrong_ca = server.config();
    wrong_ca.tls.ca_cert_pem = Some(files.other_ca_cert_pem.clone());
    wrong_ca.connect_backoff = redis_sync::Backoff::none();
    let err = Client::open(wrong_ca)
        .unwrap()
        .get_connection()
        .unwrap_err();
    assert!(
        matches!(err, Error::Tls(_)),
        "wrong CA must fail TLS: {err}"
    );

    let mut wrong_name = server.config();
    wrong_name.tls.server_name = Some("not-this-server.example".into());
    let err = Client::open(wrong_name)
        .unwrap()
        .get_connection()
        .unwrap_err();
    assert!(
        matches!(err, Error::Tls(_)),
        "wrong host name must fail TLS: {err}"
    );

    // No CA at all: the system roots do not know the test CA.
    let mut no_ca = server.config();
    no_ca.tls.ca_cert_pem = None;
    assert!(Client::open(no_ca).unwrap().get_connection().is_err());

    // Client certificate accepted by a server that asks for one.
    let mut with_cert = server.config();
    with_cert.tls.client_cert_pem =
        Some((files.client_cert_pem.clone(), files.client_key_pem.clone()));
    let mut con = Client::open(with_cert).unwrap().get_connection().unwrap();
    let v: String = con.echo("over tls").unwrap();
    assert_eq!(v, "over tls");
}

#[test]
fn unix_socket_connection() {
    let server = RedisServer::builder().unix_socket().start();
    let mut con = Client::open(server.url())
        .unwrap()
        .get_connection()
        .unwrap();
    let _: () = con.set("u", "x").unwrap();
    let v: String = con.get("u").unwrap();
    assert_eq!(v, "x");
}

#[test]
fn debug_sleep_past_the_timeout_breaks_the_connection_for_good() {
    let server = RedisServer::builder()
        .extra_arg("--enable-debug-command")
        .extra_arg("yes")
        .start();
    for protocol in both_protocols() {
        let mut config = server.config().with_protocol(protocol);
        config.response_timeout = Duration::from_millis(200);
        let mut con = Client::open(config).unwrap().get_connection().unwrap();
        let _: () = con.set("late", "the late reply").unwrap();
        let err = cmd("DEBUG")
            .arg("SLEEP")
            .arg(1)
            .query::<Value>(&mut con)
            .unwrap_err();
        assert!(matches!(err, Error::Timeout { .. }), "{err}");
        assert!(con.is_broken());
        // Wait until the late "+OK" would have arrived; the next command must not see it.
        thread::sleep(Duration::from_millis(1200));
        let next = con.get::<_, String>("late");
        assert!(matches!(next, Err(Error::Broken(_))), "{next:?}");
        assert!(next.unwrap_err().is_connection_dropped());
    }
}

#[test]
fn blocking_commands_wait_past_the_response_timeout() {
    let server = RedisServer::start();
    let mut config = server.config();
    config.response_timeout = Duration::from_millis(200);
    let mut con = Client::open(config).unwrap().get_connection().unwrap();
    let key = unique_key("queue");
    let started = Instant::now();
    let popped: Option<(String, String)> = con.blpop(&key, 0.6).unwrap();
    assert_eq!(popped, None);
    assert!(started.elapsed() >= Duration::from_millis(500));
    assert!(!con.is_broken());
    let pong: String = con.ping().unwrap();
    assert_eq!(pong, "PONG");
    // And a real wake-up by another connection.
    let client = Client::open(server.config()).unwrap();
    let k2 = key.clone();
    let pusher = thread::spawn(move || {
        thread::sleep(Duration::from_millis(300));
        let mut c = client.get_connection().unwrap();
        let _: i64 = cmd("RPUSH").arg(&k2).arg("job").query(&mut c).unwrap();
    });
    let popped: Option<(String, String)> = con.blpop(&key, 0.0).unwrap();
    pusher.join().unwrap();
    assert_eq!(popped, Some((key, "job".to_string())));
}

#[test]
fn canary_password_never_appears_in_any_string() {
    const CANARY: &str = "CANARY-s3cr3t-pw";
    let server = RedisServer::builder().password("real-password").start();
    let url = format!("redis://user:{CANARY}@{}/0", server.addr());
    let client = Client::open(url.as_str()).unwrap();
    let err = client.get_connection().unwrap_err();
    let config = Config::from_url(&url).unwrap();
    let bad_url =
        Config::from_url(&format!("redis://user:{CANARY}@{}/notadb", server.addr())).unwrap_err();
    let auth_cmd = cmd("AUTH").with(CANARY);
    let strings = [
        format!("{client:?}"),
        format!("{config:?}"),
        format!("{err}"),
        format!("{err:?}"),
        format!("{bad_url}"),
        format!("{bad_url:?}"),
        format!("{auth_cmd:?}"),
        format!("{:?}", config.credentials),
        format!("{:?}", config.credentials.credentials().unwrap()),
    ];
    for s in &strings {
        assert!(!s.contains(CANARY), "secret leaked: {s}");
    }
    let mut con = Client::open(server.config())
        .unwrap()
        .get_connection()
        .unwrap();
    assert!(!format!("{con:?}").contains("real-password"));
    let _: String = con.ping().unwrap();
}

#[test]
fn a_truncated_or_garbled_reply_breaks_the_connection() {
    let peer = FakePeer::start(vec![
        FakeStep::expect_command(&["PING"]),
        FakeStep::send("$10\r\nabc"),
        FakeStep::Close,
    ]);
    let mut config = peer.config();
    config.set_lib_info = false;
    let mut con = Client::open(config).unwrap().get_connection().unwrap();
    let err = con.ping::<String>().unwrap_err();
    assert!(err.is_connection_dropped(), "{err}");
    assert!(con.is_broken());

    let peer = FakePeer::start(vec![
        FakeStep::expect_command(&["PING"]),
        FakeStep::send("?what\r\n"),
    ]);
    let mut config = peer.config();
    config.set_lib_info = false;
    let mut con = Client::open(config).unwrap().get_connection().unwrap();
    let err = con.ping::<String>().unwrap_err();
    assert!(matches!(err, Error::Protocol(_)), "{err}");
    assert!(matches!(con.ping::<String>(), Err(Error::Broken(_))));
}

#[test]
fn error_replies_leave_the_connection_usable() {
    let server = RedisServer::start();
    for protocol in both_protocols() {
        let mut con = connect(&server, protocol);
        let key = unique_key("list");
        let _: i64 = cmd("LPUSH").arg(&key).arg("x").query(&mut con).unwrap();
        let err = con.get::<_, String>(&key).unwrap_err();
        assert_eq!(err.server_kind(), Some(&ServerErrorKind::WrongType));
        assert!(!con.is_broken());
        let err = con.incr::<_, i64>("nonnumeric-key-but-fine", 1);
        assert!(err.is_ok());
        let err = cmd("NOSUCHCOMMAND").query::<Value>(&mut con).unwrap_err();
        assert_eq!(err.server_kind(), Some(&ServerErrorKind::Err));
        let conv = con.get::<_, i64>(&unique_key("missing"));
        assert!(matches!(conv, Err(Error::Conversion { .. })), "{conv:?}");
        let pong: String = con.ping().unwrap();
        assert_eq!(pong, "PONG");
    }
}

/// `write_pipeline` then `read_pipeline` (what a cluster pipeline across nodes does on each
/// node's connection): the replies come back in order, and a request sent before they were
/// read fails and breaks the connection instead of reading the pipeline's replies as its own.
#[test]
fn a_written_pipeline_owes_its_replies_before_anything_else() {
    let server = RedisServer::start();
    for protocol in both_protocols() {
        let mut con = connect(&server, protocol);
        let key = unique_key("split");
        let cmds = [
            cmd("SET").with(&key).with("v1"),
            cmd("GET").with(&key),
            cmd("INCR").with(&key),
        ];
        con.write_pipeline(&cmds).unwrap();
        let replies = con.read_pipeline().unwrap();
        assert_eq!(replies.len(), 3);
        assert_eq!(replies[0], Value::Okay);
        assert_eq!(String::from_value(replies[1].clone()).unwrap(), "v1");
        assert!(matches!(replies[2], Value::ServerError(_)), "{replies:?}");
        assert!(con.read_pipeline().unwrap().is_empty(), "nothing owed");

        con.write_pipeline(&cmds[1..2]).unwrap();
        let err = con.get::<_, String>(&key).unwrap_err();
        assert!(matches!(err, Error::Broken(_)), "{err:?}");
        assert!(con.is_broken());
        assert!(con.read_pipeline().is_err(), "the connection stays broken");
    }
}
