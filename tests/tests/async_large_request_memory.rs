//! Peak memory of one large async request (issue 6, defect 15). `VmHWM` is per process, so
//! this test has a test binary of its own: no other test's allocations can move the peak.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use redis_async::prelude::*;
use redis_tests::RedisServer;

/// A borrowed 100 MiB command reaches the driver without a copy: the peak holds the
/// caller's data and the encoded command (2x the payload, as in the blocking client), not
/// a third copy.
#[tokio::test(flavor = "current_thread")]
async fn a_large_borrowed_command_is_not_copied_to_the_driver() {
    const PAYLOAD: usize = 100 << 20;
    let server = RedisServer::builder()
        .extra_args(["--proto-max-bulk-len", "512mb"])
        .start();
    let mut config = server.config();
    config.response_timeout = Duration::from_secs(60);
    let mut con = Client::open(config)
        .unwrap()
        .get_connection()
        .await
        .unwrap();
    let _: String = con.ping().await.unwrap();
    let before = redis_tests::peak_rss_bytes();
    let data = vec![b'm'; PAYLOAD];
    let mut set = cmd("SET");
    set.arg("big").arg(&data[..]);
    let _: () = set.query(&mut con).await.unwrap();
    let grown = redis_tests::peak_rss_bytes().saturating_sub(before);
    let ratio = grown as f64 / PAYLOAD as f64;
    eprintln!("100 MiB SET through query(&Cmd): peak grew {ratio:.2}x the payload");
    assert!(
        ratio < 2.5,
        "peak grew {ratio:.2}x the payload: a copy was made"
    );
}
