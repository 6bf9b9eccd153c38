//! Peak memory of a client facing a hostile server, for the `hostile_replies` test.
//!
//! `hostile_rss <endless-array|lone-header> <sync|async>` starts a peer on a loopback port
//! that answers the handshake with `+OK` and answers `GET hostile` with either
//!
//! - `endless-array`: `*2147483647\r\n` and then `:1\r\n` for as long as the client reads, or
//! - `lone-header`: `$536870000\r\n` and then nothing,
//!
//! sends that GET from the blocking connection or the async multiplexed connection with the
//! default decoder limits (and a 3 s response timeout for the lone header), and prints the process's peak
//! resident memory (`VmHWM` of `/proc/self/status`) once the client has its error:
//!
//! ```text
//! peak_rss_kib=123456 outcome=protocol error: reply exceeds ...
//! ```
//!
//! It is a separate process so that the peak belongs to this one request alone.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use redis_core::{cmd, Addr, Config, Protocol, Value};

#[derive(Clone, Copy)]
enum Attack {
    EndlessArray,
    LoneHeader,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: hostile_rss <endless-array|lone-header> <sync|async>";
    let attack = match args.first().map(String::as_str) {
        Some("endless-array") => Attack::EndlessArray,
        Some("lone-header") => Attack::LoneHeader,
        _ => panic!("{usage}"),
    };
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        // The client closes the socket once it gives up: the peer then stops.
        let _ = serve(stream, attack);
    });

    let mut config = Config::new(Addr::tcp("127.0.0.1", port));
    config.protocol = Protocol::Resp2;
    config.set_lib_info = false;
    config.response_timeout = match attack {
        // Long enough for the decoder to reach its memory limit (a hang guard only).
        Attack::EndlessArray => Duration::from_secs(120),
        Attack::LoneHeader => Duration::from_secs(3),
    };
    let get = cmd("GET").with("hostile");
    let outcome: redis_core::Result<Value> = match args.get(1).map(String::as_str) {
        Some("sync") => {
            use redis_sync::ConnectionLike;
            let client = redis_sync::Client::open(config).unwrap();
            let mut con = client.get_connection().unwrap();
            con.req(&get)
        }
        Some("async") => {
            use redis_async::ConnectionLike;
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                let client = redis_async::Client::open(config).unwrap();
                let mut con = client.get_connection().await.unwrap();
                con.req(&get).await
            })
        }
        _ => panic!("{usage}"),
    };
    let outcome = match outcome {
        Ok(v) => format!("unexpected reply {}", v.describe()),
        Err(e) => e.to_string(),
    };
    println!("peak_rss_kib={} outcome={outcome}", peak_rss_kib());
}

/// Answers commands with `+OK` until `GET hostile`, then attacks.
fn serve(stream: TcpStream, attack: Attack) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut out = stream;
    loop {
        let args = read_command(&mut reader)?;
        if args.first().is_some_and(|a| a.eq_ignore_ascii_case(b"GET")) {
            break;
        }
        out.write_all(b"+OK\r\n")?;
    }
    match attack {
        Attack::EndlessArray => {
            out.write_all(b"*2147483647\r\n")?;
            let chunk = b":1\r\n".repeat(16 * 1024);
            loop {
                out.write_all(&chunk)?;
            }
        }
        Attack::LoneHeader => {
            out.write_all(b"$536870000\r\n")?;
            // Hold the connection open until the client closes it.
            let mut sink = [0u8; 1024];
            while reader.read(&mut sink)? > 0 {}
            Ok(())
        }
    }
}

/// Reads one RESP array of bulk strings.
fn read_command(r: &mut impl BufRead) -> std::io::Result<Vec<Vec<u8>>> {
    let bad = || std::io::Error::new(std::io::ErrorKind::InvalidData, "not a command");
    let mut line = String::new();
    r.read_line(&mut line)?;
    let n: usize = line
        .trim_end()
        .strip_prefix('*')
        .and_then(|n| n.parse().ok())
        .ok_or_else(bad)?;
    let mut args = Vec::with_capacity(n);
    for _ in 0..n {
        line.clear();
        r.read_line(&mut line)?;
        let len: usize = line
            .trim_end()
            .strip_prefix('$')
            .and_then(|n| n.parse().ok())
            .ok_or_else(bad)?;
        let mut arg = vec![0; len + 2];
        r.read_exact(&mut arg)?;
        arg.truncate(len);
        args.push(arg);
    }
    Ok(args)
}

/// Peak resident set size of this process, in KiB.
fn peak_rss_kib() -> u64 {
    redis_tests::peak_rss_bytes() / 1024
}
