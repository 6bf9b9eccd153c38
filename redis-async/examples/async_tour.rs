//! The async client in a few lines: one multiplexed connection shared by many tasks, a
//! self-healing handle, pub/sub as a stream. Run against a server with
//! `REDIS_URL=redis://127.0.0.1:6379/ cargo run -p redis-async --example async_tour`.

use std::time::Duration;

use redis_async::prelude::*;
use redis_async::{commands, transaction, Result};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/".into());
    let client = Client::open(url.as_str())?;

    // One socket, many tasks: clones share the connection; requests are pipelined.
    let con = client.get_connection().await?;
    let mut tasks = Vec::new();
    for t in 0..8 {
        let mut con = con.clone();
        tasks.push(tokio::spawn(async move {
            let mut total = 0;
            for _ in 0..100 {
                total = con.incr::<_, i64>(format!("atour:{t}"), 1).await?;
            }
            Ok::<i64, redis_async::Error>(total)
        }));
    }
    for t in tasks {
        let n = t
            .await
            .map_err(|e| redis_async::Error::InvalidRequest(e.to_string()))??;
        assert_eq!(n % 100, 0);
    }
    println!("8 tasks x 100 INCR over one connection");

    // A handle that reconnects by itself and retries only what is safe to retry.
    let mut managed = client.get_managed_connection().await?;
    let pong: String = managed.ping().await?;
    println!("managed: {pong}");

    // WATCH needs a connection of its own.
    let mut dedicated = client.get_dedicated_connection().await?;
    let (v,): (i64,) = transaction(&mut dedicated, "atour:0", async |con, pipe| {
        let n: i64 = con.get("atour:0").await?;
        pipe.add(commands::set("atour:0", n * 2))
            .ignore()
            .add(commands::get("atour:0"));
        pipe.query(con).await
    })
    .await?;
    println!("transaction: doubled to {v}");

    // Pub/sub as a stream of messages.
    let mut sub = client.get_pubsub().await?;
    sub.subscribe("atour:news").await?;
    let mut publisher = con.clone();
    let _: i64 = cmd("PUBLISH")
        .arg("atour:news")
        .arg("hi")
        .query(&mut publisher)
        .await?;
    if let Ok(Some(msg)) = tokio::time::timeout(Duration::from_secs(2), sub.next_message()).await {
        println!("pubsub: {:?}", msg?.payload::<String>()?);
    }

    let keys = con
        .scan_match_iter::<_, String>("atour:*")
        .collect_all()
        .await?;
    let mut con = con;
    let _: () = con.del(keys).await?;
    Ok(())
}
