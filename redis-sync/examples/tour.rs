//! A tour of everyday uses: run it with `bash scripts/tour.sh` (which starts a throwaway
//! redis-server) or `REDIS_URL=redis://... cargo run -p redis-sync --example tour`.

use std::collections::HashMap;
use std::thread;
use std::time::Duration;

use redis_sync::commands;
use redis_sync::prelude::*;
use redis_sync::{transaction, Lock, Result};

fn main() -> Result<()> {
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/".into());
    let client = Client::open(url.as_str())?;
    let mut con = client.get_connection()?;
    let _: () = con.del((
        "tour:page",
        "tour:visits",
        "tour:session",
        "tour:board",
        "tour:q",
    ))?;

    // Cache with expiry: read-through, 300 s TTL.
    let page: Option<String> = con.get("tour:page")?;
    if page.is_none() {
        let rendered = r#"{"title":"home"}"#;
        let _: () = con.set_ex("tour:page", rendered, 300)?;
    }
    let ttl: i64 = cmd("TTL").arg("tour:page").query(&mut con)?;
    println!("cache: tour:page cached with {ttl}s to live");

    // Counters.
    let visits: i64 = con.incr("tour:visits", 1)?;
    println!("counter: {visits} visit(s)");

    // Hash as a session.
    let _: () = cmd("HSET")
        .arg("tour:session")
        .arg(&[("user", "ada"), ("theme", "dark")][..])
        .query(&mut con)?;
    let session: HashMap<String, String> = cmd("HGETALL").arg("tour:session").query(&mut con)?;
    println!("session: {session:?}");

    // Leaderboard with a sorted set.
    let _: () = cmd("ZADD")
        .arg("tour:board")
        .arg((10, "ada", 7, "bob", 12, "cy"))
        .query(&mut con)?;
    let top: Vec<(String, f64)> = con.zrange_withscores("tour:board", 0, -1)?;
    println!("leaderboard: {top:?}");

    // Pipeline: many commands, one round trip.
    let mut p = pipe();
    for i in 0..5 {
        p.add(commands::incr("tour:visits", i)).ignore();
    }
    p.add(commands::get("tour:visits"));
    let (total,): (i64,) = p.query(&mut con)?;
    println!("pipeline: visits now {total}");

    // Transaction with WATCH: optimistic check-and-set.
    let doubled: (i64,) = transaction(&mut con, "tour:visits", |con, pipe| {
        let v: i64 = con.get("tour:visits")?;
        pipe.add(commands::set("tour:visits", v * 2))
            .ignore()
            .add(commands::get("tour:visits"));
        pipe.query(con)
    })?;
    println!("transaction: doubled to {}", doubled.0);

    // Lua: create the counter if missing, else increment, atomically on the server.
    let script = Script::new(
        "return redis.call('EXISTS', KEYS[1]) == 1 and redis.call('INCR', KEYS[1]) \
         or redis.call('SET', KEYS[1], ARGV[1]) and tonumber(ARGV[1])",
    );
    let n: i64 = script.key("tour:lua").arg(100).query(&mut con)?;
    let m: i64 = script.key("tour:lua").arg(100).query(&mut con)?;
    println!("lua counter: {n} then {m}");
    let _: () = con.del("tour:lua")?;

    // Distributed lock: held by one holder at a time, released on drop.
    let lock = Lock::new("tour:lock", Duration::from_secs(5));
    {
        let mut guard = lock.acquire(client.get_connection()?, Duration::from_secs(2))?;
        let _: () = guard.connection().set("tour:protected", "mine")?;
        let second = lock.try_acquire(client.get_connection()?);
        println!(
            "lock: held; a second try says {:?}",
            second.err().map(|e| e.to_string())
        );
        guard.release()?;
    }

    // Pub/sub across two connections.
    let mut sub = client.get_pubsub()?;
    sub.subscribe("tour:news")?;
    let publisher = client.clone();
    let t = thread::spawn(move || -> Result<i64> {
        let mut con = publisher.get_connection()?;
        cmd("PUBLISH").arg("tour:news").arg("hello").query(&mut con)
    });
    let msg = sub.get_message(Duration::from_secs(5))?;
    let receivers = t
        .join()
        .map_err(|_| redis_sync::Error::InvalidRequest("publisher panicked".into()))??;
    if let Some(msg) = msg {
        println!(
            "pubsub: {} got {:?} ({receivers} receiver)",
            msg.channel_name(),
            msg.payload::<String>()?
        );
    }

    // Queue: LPUSH + BLPOP worker.
    let _: () = cmd("LPUSH").arg("tour:q").arg("job-1").query(&mut con)?;
    let job: Option<(String, String)> = con.blpop("tour:q", 1.0)?;
    println!("queue: popped {job:?}");

    // SCAN iterator.
    let keys: Vec<String> = con
        .scan_match_iter("tour:*")
        .collect::<Result<Vec<String>>>()?;
    println!("scan: {} tour keys", keys.len());
    let _: () = con.del(keys)?;
    Ok(())
}
