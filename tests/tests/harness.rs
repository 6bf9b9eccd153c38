//! Tests of the test harness itself: servers of every kind start, answer, stop, pause and
//! restart; the proxy and the fake peer do what they say.

// A failing test should panic, with the error in the message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

use redis_core::Addr;
use redis_tests::{unique_key, FakePeer, FakeStep, Proxy, RedisServer};

const PING: &[u8] = b"*1\r\n$4\r\nPING\r\n";

/// Connects, sends PING and reads the first reply line with `timeout`.
fn raw_ping(addr: &str, timeout: Duration) -> std::io::Result<String> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(timeout))?;
    s.write_all(PING)?;
    read_line(&mut s)
}

fn read_line(s: &mut TcpStream) -> std::io::Result<String> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 64];
    while !buf.ends_with(b"\r\n") {
        let n = s.read(&mut chunk)?;
        if n == 0 {
            return Err(ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

fn is_timeout(e: &std::io::Error) -> bool {
    matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
}

#[test]
fn every_kind_of_server_answers_in_parallel() {
    type Start = fn() -> RedisServer;
    let kinds: Vec<(&str, Start)> = vec![
        ("plain", RedisServer::start),
        ("password", || RedisServer::builder().password("pw").start()),
        ("acl", || {
            RedisServer::builder()
                .password("pw")
                .acl_user("alice", "secret", "~* &* +@all")
                .start()
        }),
        ("tls", || RedisServer::builder().tls().start()),
        ("unix", || RedisServer::builder().unix_socket().start()),
    ];
    let handles: Vec<_> = kinds
        .into_iter()
        .map(|(name, start)| {
            thread::spawn(move || {
                let server = start();
                assert_eq!(server.cli(&["PING"]), "PONG", "{name}");
                server
            })
        })
        .collect();
    let servers: Vec<RedisServer> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let [plain, password, acl, tls, unix] = <[RedisServer; 5]>::try_from(servers).unwrap();

    assert_eq!(plain.url(), format!("redis://127.0.0.1:{}", plain.port()));
    assert_eq!(plain.addr(), format!("127.0.0.1:{}", plain.port()));
    assert_eq!(
        raw_ping(&plain.addr(), Duration::from_secs(5)).unwrap(),
        "+PONG\r\n"
    );
    assert!(
        matches!(plain.config().addr, Addr::Tcp { ref host, port } if host == "127.0.0.1" && port == plain.port())
    );

    assert!(raw_ping(&password.addr(), Duration::from_secs(5))
        .unwrap()
        .starts_with("-NOAUTH"));
    assert!(password.cli_as(None, None, &["PING"]).starts_with("NOAUTH"));
    assert_eq!(
        password.url(),
        format!("redis://:pw@127.0.0.1:{}", password.port())
    );

    assert_eq!(acl.cli(&["ACL", "WHOAMI"]), "alice");
    assert_eq!(acl.cli_as(None, Some("pw"), &["ACL", "WHOAMI"]), "default");
    assert_eq!(
        acl.url(),
        format!("redis://alice:secret@127.0.0.1:{}", acl.port())
    );

    let files = tls.tls_files().expect("a TLS server has TLS files");
    assert!(files
        .ca_cert_pem
        .starts_with(b"-----BEGIN CERTIFICATE-----"));
    assert!(files
        .client_key_pem
        .starts_with(b"-----BEGIN PRIVATE KEY-----"));
    assert_ne!(files.ca_cert_pem, files.other_ca_cert_pem);
    assert!(files.server_cert.starts_with(tls.dir()));
    assert_eq!(tls.url(), format!("rediss://localhost:{}", tls.port()));
    let config = tls.config();
    assert!(matches!(config.addr, Addr::Tls { ref host, .. } if host == "localhost"));
    assert_eq!(
        config.tls.ca_cert_pem.as_deref(),
        Some(&files.ca_cert_pem[..])
    );
    // The TLS port does not speak plain RESP.
    assert!(!matches!(
        raw_ping(&tls.addr(), Duration::from_secs(2)).as_deref(),
        Ok("+PONG\r\n")
    ));

    let sock = unix.unix_socket_path().expect("a unix server has a socket");
    assert!(sock.exists());
    assert_eq!(unix.url(), format!("unix://{}", sock.display()));
    assert!(matches!(unix.config().addr, Addr::Unix(ref p) if *p == sock));

    let key = unique_key("harness");
    assert!(key.starts_with("harness:") && key.len() == "harness:".len() + 16);
    assert_eq!(plain.cli(&["SET", &key, "v"]), "OK");
    assert_eq!(plain.cli(&["GET", &key]), "v");
    assert!(plain.log().contains("eady to accept connections"));
    assert!(!redis_tests::redis_server_version().is_empty());
}

#[test]
fn mutual_tls_server_requires_a_client_certificate() {
    let server = RedisServer::builder().require_client_cert().start();
    // cli presents the client certificate signed by the test CA.
    assert_eq!(server.cli(&["PING"]), "PONG");
    let files = server.tls_files().unwrap();
    let port = server.port().to_string();
    let cli = |extra: &[&std::ffi::OsStr]| {
        let out = std::process::Command::new("redis-cli")
            .args(["-h", "127.0.0.1", "-p", &port, "--tls"])
            .args(extra)
            .arg("PING")
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim_end().to_owned()
    };
    let ca = files.ca_cert.as_os_str();
    let other_ca = files.other_ca_cert.as_os_str();
    let (cert, key) = (files.client_cert.as_os_str(), files.client_key.as_os_str());
    let (other_cert, other_key) = (
        files.other_client_cert.as_os_str(),
        files.other_client_key.as_os_str(),
    );
    let flag = |f: &'static str| std::ffi::OsStr::new(f);
    assert_eq!(
        cli(&[
            flag("--cacert"),
            ca,
            flag("--cert"),
            cert,
            flag("--key"),
            key
        ]),
        "PONG"
    );
    // No client certificate, one from the wrong CA, or the wrong CA trusted: no PONG.
    assert_ne!(cli(&[flag("--cacert"), ca]), "PONG");
    assert_ne!(
        cli(&[
            flag("--cacert"),
            ca,
            flag("--cert"),
            other_cert,
            flag("--key"),
            other_key
        ]),
        "PONG"
    );
    assert_ne!(
        cli(&[
            flag("--cacert"),
            other_ca,
            flag("--cert"),
            cert,
            flag("--key"),
            key
        ]),
        "PONG"
    );
}

#[test]
fn restart_keeps_the_port() {
    let mut server = RedisServer::builder().password("pw").start();
    let (port, pid) = (server.port(), server.pid());
    server.cli(&["SET", "k", "v"]);
    server.restart();
    assert_eq!(server.port(), port);
    assert_ne!(server.pid(), pid);
    assert_eq!(server.cli(&["PING"]), "PONG");
    // No persistence: the data is gone.
    assert_eq!(server.cli(&["EXISTS", "k"]), "0");
}

#[test]
fn stop_then_restart_and_kill() {
    let mut server = RedisServer::start();
    server.stop();
    assert!(!server.is_running());
    assert!(TcpStream::connect(server.addr()).is_err());
    server.restart();
    assert_eq!(server.cli(&["PING"]), "PONG");
    let pid = server.pid();
    server.kill();
    assert!(!Path::new(&format!("/proc/{pid}")).exists());
}

#[test]
fn pause_and_resume() {
    let mut server = RedisServer::start();
    let mut before = TcpStream::connect(server.addr()).unwrap();
    server.pause();
    before
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    before.write_all(PING).unwrap();
    let err = read_line(&mut before).unwrap_err();
    assert!(is_timeout(&err), "{err}");
    // A new connection is accepted by the kernel but not answered either.
    let err = raw_ping(&server.addr(), Duration::from_millis(300)).unwrap_err();
    assert!(is_timeout(&err), "{err}");
    server.resume();
    before
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    assert_eq!(read_line(&mut before).unwrap(), "+PONG\r\n");
    assert_eq!(
        raw_ping(&server.addr(), Duration::from_secs(5)).unwrap(),
        "+PONG\r\n"
    );
}

#[test]
fn dropping_a_paused_server_stops_it() {
    let mut server = RedisServer::start();
    server.pause();
    let pid = server.pid();
    let dir = server.dir().to_owned();
    drop(server);
    thread::sleep(Duration::from_millis(100));
    assert!(!Path::new(&format!("/proc/{pid}")).exists());
    assert!(!dir.exists(), "the temp dir is deleted");
}

#[test]
fn process_is_gone_after_drop() {
    let server = RedisServer::builder().unix_socket().start();
    let pid = server.pid();
    assert!(Path::new(&format!("/proc/{pid}")).exists());
    drop(server);
    thread::sleep(Duration::from_millis(100));
    assert!(!Path::new(&format!("/proc/{pid}")).exists());
}

#[test]
#[should_panic(
    expected = "redis-server not found: install it with `apt-get install -y redis-server redis-sentinel redis-tools`"
)]
fn missing_binary_fails_with_install_hint() {
    let _server = RedisServer::builder()
        .binary("/nonexistent/redis-server")
        .start();
}

#[test]
fn bad_option_fails_loudly_and_keeps_the_files() {
    let panic = std::panic::catch_unwind(|| {
        RedisServer::builder()
            .extra_arg("--no-such-option")
            .extra_arg("1")
            .start()
    })
    .unwrap_err();
    let message = panic
        .downcast_ref::<String>()
        .expect("a formatted panic message");
    assert!(message.contains("failed to start"), "{message}");
    assert!(message.contains("no-such-option"), "{message}");
    // The files are kept for a look; this test cleans up after itself.
    let kept = message
        .lines()
        .find_map(|l| l.strip_prefix("files kept in "))
        .expect("the message says where the files are");
    assert!(Path::new(kept).join("redis.conf").exists());
    std::fs::remove_dir_all(kept).unwrap();
}

#[test]
fn extra_args_reach_the_server() {
    let server = RedisServer::builder()
        .extra_arg("--maxmemory")
        .extra_arg("10mb")
        .start();
    assert_eq!(
        server.cli(&["CONFIG", "GET", "maxmemory"]),
        "maxmemory\n10485760"
    );
    // DEBUG is enabled for fault injection.
    assert_eq!(server.cli(&["DEBUG", "SLEEP", "0"]), "OK");
}

#[test]
fn proxy_forwards_and_cuts() {
    let server = RedisServer::start();
    let proxy = Proxy::start(&server.addr());
    let mut s = TcpStream::connect(proxy.addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(PING).unwrap();
    assert_eq!(read_line(&mut s).unwrap(), "+PONG\r\n");
    assert_eq!(proxy.links(), 1);

    proxy.cut();
    let mut buf = [0u8; 16];
    // EOF (or a reset), not a timeout.
    match s.read(&mut buf) {
        Ok(n) => assert_eq!(n, 0),
        Err(e) => assert!(!is_timeout(&e), "{e}"),
    }
    // New connections still work.
    assert_eq!(
        raw_ping(&proxy.addr(), Duration::from_secs(5)).unwrap(),
        "+PONG\r\n"
    );
}

#[test]
fn proxy_blackhole_delay_and_refuse() {
    let server = RedisServer::start();
    let proxy = Proxy::start(&server.addr());
    let mut s = TcpStream::connect(proxy.addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(PING).unwrap();
    assert_eq!(read_line(&mut s).unwrap(), "+PONG\r\n");

    proxy.blackhole(true);
    s.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    s.write_all(PING).unwrap();
    let err = read_line(&mut s).unwrap_err();
    assert!(is_timeout(&err), "{err}");
    proxy.blackhole(false);
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    assert_eq!(read_line(&mut s).unwrap(), "+PONG\r\n");

    let delay = Duration::from_millis(200);
    proxy.set_delay(delay);
    let start = Instant::now();
    s.write_all(PING).unwrap();
    assert_eq!(read_line(&mut s).unwrap(), "+PONG\r\n");
    assert!(start.elapsed() >= delay);
    proxy.set_delay(Duration::ZERO);

    proxy.set_refuse(true);
    assert!(raw_ping(&proxy.addr(), Duration::from_secs(5)).is_err());
    proxy.set_refuse(false);
    assert_eq!(
        raw_ping(&proxy.addr(), Duration::from_secs(5)).unwrap(),
        "+PONG\r\n"
    );
}

#[test]
fn fake_peer_plays_its_script() {
    let peer = FakePeer::start(vec![
        FakeStep::expect_command(&["PING"]),
        FakeStep::send("+PO"),
        FakeStep::Sleep(Duration::from_millis(50)),
        FakeStep::send("NG\r\n"),
        FakeStep::ReadLine,
        FakeStep::send("-ERR nope\r\n"),
        FakeStep::Close,
        FakeStep::Accept,
        FakeStep::ReadCommand,
        FakeStep::send("$-1\r\n"),
        FakeStep::ReadUntilClosed,
    ]);
    let mut s = TcpStream::connect(peer.addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(b"*1\r\n$4\r\nping\r\n").unwrap();
    assert_eq!(read_line(&mut s).unwrap(), "+PONG\r\n");
    s.write_all(b"PING\r\n").unwrap();
    assert_eq!(read_line(&mut s).unwrap(), "-ERR nope\r\n");
    let mut buf = [0u8; 8];
    assert_eq!(s.read(&mut buf).unwrap(), 0);

    let mut s = TcpStream::connect(peer.addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n").unwrap();
    assert_eq!(read_line(&mut s).unwrap(), "$-1\r\n");
    drop(s);
    peer.wait_done().unwrap();
    assert_eq!(peer.connections(), 2);
    assert!(peer.received().ends_with(b"$3\r\nGET\r\n$1\r\nk\r\n"));
}

#[test]
fn fake_peer_reports_a_mismatch() {
    let peer = FakePeer::start(vec![FakeStep::expect_command(&["PING"])]);
    let mut s = TcpStream::connect(peer.addr()).unwrap();
    s.write_all(b"*1\r\n$4\r\nQUIT\r\n").unwrap();
    let err = peer.wait_done().unwrap_err();
    assert!(err.contains("QUIT"), "{err}");
}

#[test]
fn a_briefly_busy_port_is_retried() {
    let squatter = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = squatter.local_addr().unwrap().port();
    let freer = thread::spawn(move || {
        thread::sleep(Duration::from_millis(300));
        drop(squatter);
    });
    let server = RedisServer::builder().port(port).start();
    freer.join().unwrap();
    assert_eq!(server.port(), port);
    assert_eq!(server.cli(&["PING"]), "PONG");
    assert!(server.log().contains("Address already in use"));
}
