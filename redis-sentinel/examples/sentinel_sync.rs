//! The blocking Sentinel client: writes through a pool that follows failovers, reads from
//! replicas, and a subscriber that subscribes again after a switch.
//!
//! ```text
//! cargo run -p redis-sentinel --example sentinel_sync -- mymaster 127.0.0.1:26379 127.0.0.1:26380
//! ```
//!
//! Set `SENTINEL_PASSWORD` / `REDIS_PASSWORD` if the sentinels / data nodes need one.

use std::time::Duration;

use redis_sentinel::sync::Sentinel;
use redis_sentinel::{ReadFrom, SentinelErrorKind};
use redis_sync::{Addr, Commands, Config, Error};

fn main() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let service = args.next().unwrap_or_else(|| "mymaster".to_owned());
    let mut addrs: Vec<Addr> = args
        .filter_map(|a| {
            let (host, port) = a.rsplit_once(':')?;
            Some(Addr::tcp(host, port.parse().ok()?))
        })
        .collect();
    if addrs.is_empty() {
        addrs.push(Addr::tcp("127.0.0.1", 26379));
    }

    // The sentinels' own settings (password, TLS); their address is replaced by each
    // sentinel's, and each is given 1 s before the next is asked.
    let mut sentinels = Config::new(Addr::tcp("unused", 26379));
    if let Ok(pw) = std::env::var("SENTINEL_PASSWORD") {
        sentinels = sentinels.with_password(None, &pw);
    }
    let sentinel = Sentinel::new(addrs, sentinels).with_timeout(Duration::from_secs(1));

    // The data nodes' settings; the address is replaced by the primary's (or a replica's).
    let mut data = Config::new(Addr::tcp("unused", 6379));
    if let Ok(pw) = std::env::var("REDIS_PASSWORD") {
        data = data.with_password(None, &pw);
    }

    // Writes: connections that always reach the current primary. The primary is asked for
    // on first use, and a Sentinel problem is a typed error.
    let primary = sentinel.master_for(&service, data.clone())?;
    match primary.get_connection() {
        Ok(mut con) => println!("visits: {}", con.incr::<_, i64>("visits", 1)?),
        Err(Error::Sentinel(SentinelErrorKind::UnknownService { service })) => {
            eprintln!("no sentinel monitors {service:?}");
            return Ok(());
        }
        Err(e) => return Err(e),
    }
    // A pool of them: connections to a node that is no longer the primary are dropped.
    let pool = primary.pool(8)?;
    pool.get()?.set::<_, _, ()>("greeting", "hello")?;

    // Reads: usable replicas only, round robin; never the primary.
    let replicas = sentinel.replica_for(&service, data, ReadFrom::RoundRobinReplicas)?;
    match replicas.get_connection() {
        Ok(mut con) => println!("from a replica: {:?}", con.get::<_, Option<i64>>("visits")?),
        Err(e) => println!("no replica to read from: {e}"),
    }

    // Pub/sub: a switch ends the subscriber's connection; subscribe again through the same
    // client, which then reaches the new primary.
    let mut sub = primary.get_pubsub()?;
    sub.subscribe("news")?;
    for _ in 0..3 {
        match sub.get_message(Duration::from_secs(1)) {
            Ok(Some(msg)) => println!("news: {:?}", msg.payload::<String>()?),
            Ok(None) => {}
            Err(e) => {
                println!("subscriber moved ({e}); subscribing again");
                sub = primary.get_pubsub()?;
                sub.subscribe("news")?;
            }
        }
    }
    Ok(())
}
