//! Rotating credentials (issue 9): live connections re-authenticate at their next safe
//! point, so callers never see NOAUTH/WRONGPASS and subscribers miss no message while an
//! ACL user's password is rotated under load, or short-lived tokens expire; and every
//! connection event the shells emit, provoked.
//!
//! The rotation (`redis_tests::rotation`): every second, the admin adds the next password
//! to the ACL user, the provider publishes it, and a moment later removes the previous one.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use redis_core::credentials::{
    CredentialsProvider, RotatingCredentials, Token, TokenOptions, TokenProvider,
};
use redis_core::{Backoff, ConnectionEvent, Protocol};
use redis_tests::rotation::{creds, rotate, Figures, Order, Tally, ROTATIONS, USER, WRITERS};
use redis_tests::{unique_key, RedisServer};

fn server() -> RedisServer {
    RedisServer::builder()
        .acl_user(USER, "pw0", "~* &* +@all")
        .start()
}

/// Runs `args` as the `default` user (nopass), which administers the ACL.
fn admin(server: &RedisServer, args: &[&str]) {
    let client = redis_sync::Client::open(server.config_no_auth()).unwrap();
    let mut con = client.get_connection().unwrap();
    let mut c = redis_core::cmd(args[0]);
    for a in &args[1..] {
        c.arg(*a);
    }
    let _: redis_core::Value = redis_sync::Query::query(&c, &mut con).unwrap();
}

// ---------------------------------------------------------------------------------------
// Password rotation under load
// ---------------------------------------------------------------------------------------

/// The blocking pool (RESP3 handshake, 16 writers, 4 more connections idle in the pool)
/// and two subscribers, RESP2 (which moves to a new connection at each rotation) and
/// RESP3 (which sends AUTH on its subscribed link), while the password rotates: no error
/// reaches a caller, no message is missed.
#[test]
fn blocking_pool_and_subscriber_ride_out_password_rotation() {
    let server = server();
    let provider = Arc::new(RotatingCredentials::new(creds(USER, "pw0")));
    let base = server.config_no_auth().with_credentials(provider.clone());
    let tally = Arc::new(Tally::default());
    let client = redis_sync::Client::open(base.clone().with_protocol(Protocol::Resp3)).unwrap();
    let resp2 = redis_sync::Client::open(base.with_protocol(Protocol::Resp2)).unwrap();
    for c in [&client, &resp2] {
        let t = tally.clone();
        c.on_event(move |e| t.note(e));
    }
    let pool = client.pool(WRITERS as u32 + 4).unwrap();
    let figures = Figures::new();
    let stop = Arc::new(AtomicBool::new(false));
    let channel = unique_key("rot-sync");

    let sub_stop = Arc::new(AtomicBool::new(false));
    let subscribers: Vec<_> = [(&resp2, "RESP2"), (&client, "RESP3")]
        .into_iter()
        .map(|(c, name)| {
            let mut sub = c.get_pubsub().unwrap();
            sub.subscribe(&channel).unwrap();
            let (figures, sub_stop) = (figures.clone(), sub_stop.clone());
            let t = std::thread::spawn(move || {
                let mut got = Vec::new();
                while !sub_stop.load(Ordering::SeqCst) {
                    match sub.get_message(Duration::from_millis(100)) {
                        Ok(Some(m)) if m.is_message() => got.push(m.payload::<String>().unwrap()),
                        Ok(_) => {}
                        Err(e) => figures.error(format!("subscriber: {e}")),
                    }
                }
                got
            });
            (name, t)
        })
        .collect();
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (pool, figures, stop, channel) =
                (pool.clone(), figures.clone(), stop.clone(), channel.clone());
            std::thread::spawn(move || {
                let key = unique_key("rot-key");
                let mut n = 0u64;
                while !stop.load(Ordering::SeqCst) {
                    let r = pool.get().and_then(|mut con| {
                        redis_sync::Commands::set::<_, _, ()>(&mut *con, &key, n)?;
                        let _: i64 = redis_sync::Commands::publish(
                            &mut *con,
                            &channel,
                            format!("w{w}:{n}"),
                        )?;
                        Ok(())
                    });
                    figures.requests.fetch_add(2, Ordering::SeqCst);
                    match r {
                        Ok(()) => {
                            n += 1;
                            figures.published[w].store(n, Ordering::SeqCst);
                        }
                        Err(e) => {
                            figures.error(format!("writer {w}: {e}"));
                            // A PUBLISH that failed may not have run: stop counting here.
                            return;
                        }
                    }
                    std::thread::sleep(Duration::from_millis(2));
                }
            })
        })
        .collect();

    rotate(&|args| admin(&server, args), &provider);
    stop.store(true, Ordering::SeqCst);
    for w in writers {
        w.join().unwrap();
    }
    // Let the subscriber read what is still on its way.
    std::thread::sleep(Duration::from_millis(500));
    sub_stop.store(true, Ordering::SeqCst);
    let received: Vec<_> = subscribers
        .into_iter()
        .map(|(name, t)| (name, t.join().unwrap()))
        .collect();
    // A connection opened now uses the newest password.
    let mut fresh = client.get_connection().unwrap();
    let who: String =
        redis_sync::Query::query(&redis_core::cmd("ACL").with("WHOAMI"), &mut fresh).unwrap();
    assert_eq!(who, USER);

    for (name, received) in &received {
        let what = format!("blocking pool + {name} subscriber");
        let missed = figures.report(&what, received, &tally, Order::PerWriter);
        assert_eq!(missed, 0, "the {name} subscriber missed messages");
    }
    assert!(
        tally.get("reauthenticated") >= 2 * ROTATIONS as u64,
        "{}",
        tally.show()
    );
    assert!(
        tally.get("pubsub_resubscribed") >= ROTATIONS as u64,
        "{}",
        tally.show()
    );
    assert!(tally.get("handshake_done") > 0 && tally.get("connected") > 0);
    assert_eq!(tally.get("reauth_failed"), 0, "{}", tally.show());
}

/// The async multiplexed connection (RESP2, 16 writer tasks) and two subscribers, RESP3
/// (which re-authenticates on its subscribed link) and RESP2 (which moves to a new
/// connection), while the password rotates.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_multiplexed_and_subscriber_ride_out_password_rotation() {
    let server = server();
    let provider = Arc::new(RotatingCredentials::new(creds(USER, "pw0")));
    let base = server.config_no_auth().with_credentials(provider.clone());
    let client = redis_async::Client::open(base.clone()).unwrap();
    let resp3 = redis_async::Client::open(base.with_protocol(Protocol::Resp3)).unwrap();
    let tally = Arc::new(Tally::default());
    for c in [&client, &resp3] {
        let mut events = c.events();
        let t = tally.clone();
        tokio::spawn(async move {
            while let Ok(e) = events.recv().await {
                t.note(&e);
            }
        });
    }
    let con = client.get_connection().await.unwrap();
    let figures = Figures::new();
    let stop = Arc::new(AtomicBool::new(false));
    let channel = unique_key("rot-async");

    let sub_stop = Arc::new(AtomicBool::new(false));
    let mut subscribers = Vec::new();
    for (c, name) in [(&resp3, "RESP3"), (&client, "RESP2")] {
        let mut sub = c.get_pubsub().await.unwrap();
        sub.subscribe(&channel).await.unwrap();
        let (figures, sub_stop) = (figures.clone(), sub_stop.clone());
        let t = tokio::spawn(async move {
            let mut got = Vec::new();
            while !sub_stop.load(Ordering::SeqCst) {
                match tokio::time::timeout(Duration::from_millis(100), sub.next_message()).await {
                    Ok(Some(Ok(m))) if m.is_message() => got.push(m.payload::<String>().unwrap()),
                    Ok(Some(Err(e))) => figures.error(format!("subscriber: {e}")),
                    Ok(None) => {
                        figures.error("subscriber: stream ended");
                        break;
                    }
                    _ => {}
                }
            }
            got
        });
        subscribers.push((name, t));
    }
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (mut con, figures, stop, channel) =
                (con.clone(), figures.clone(), stop.clone(), channel.clone());
            tokio::spawn(async move {
                use redis_async::Commands;
                let key = unique_key("rot-key");
                let mut n = 0u64;
                while !stop.load(Ordering::SeqCst) {
                    let r = async {
                        con.set::<_, _, ()>(&key, n).await?;
                        con.publish::<_, _, i64>(&channel, format!("w{w}:{n}"))
                            .await?;
                        Ok::<_, redis_async::Error>(())
                    }
                    .await;
                    figures.requests.fetch_add(2, Ordering::SeqCst);
                    match r {
                        Ok(()) => {
                            n += 1;
                            figures.published[w].store(n, Ordering::SeqCst);
                        }
                        Err(e) => {
                            figures.error(format!("writer {w}: {e}"));
                            return;
                        }
                    }
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
            })
        })
        .collect();

    let rotator = {
        let provider = provider.clone();
        tokio::task::spawn_blocking(move || {
            rotate(&|args| admin(&server, args), &provider);
            server
        })
    };
    let server = rotator.await.unwrap();
    stop.store(true, Ordering::SeqCst);
    for w in writers {
        w.await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    sub_stop.store(true, Ordering::SeqCst);
    let mut received = Vec::new();
    for (name, t) in subscribers {
        received.push((name, t.await.unwrap()));
    }
    let mut fresh = client.get_dedicated_connection().await.unwrap();
    let who: String = redis_async::Query::query(&redis_core::cmd("ACL").with("WHOAMI"), &mut fresh)
        .await
        .unwrap();
    assert_eq!(who, USER);
    drop(server);

    for (name, received) in &received {
        let what = format!("async multiplexed + {name} subscriber");
        let missed = figures.report(&what, received, &tally, Order::PerWriter);
        assert_eq!(missed, 0, "the {name} subscriber missed messages");
    }
    // The multiplexed connection and the RESP3 subscriber re-authenticate every rotation,
    // the RESP2 subscriber moves to a new connection.
    assert!(
        tally.get("reauthenticated") >= 2 * ROTATIONS as u64,
        "{}",
        tally.show()
    );
    assert!(
        tally.get("pubsub_resubscribed") >= ROTATIONS as u64,
        "{}",
        tally.show()
    );
    assert_eq!(tally.get("reauth_failed"), 0, "{}", tally.show());
}

// ---------------------------------------------------------------------------------------
// Tokens
// ---------------------------------------------------------------------------------------

/// A token service over the ACL: token `n` is the password of its own user `tok<n>`,
/// which the server accepts for `lifetime`; then a reaper deletes the user, and with it
/// every connection still authenticated as it (`ACL DELUSER` disconnects them), as a
/// cloud service drops connections whose token expired.
struct TokenService {
    server: Arc<RedisServer>,
    issued: Arc<Mutex<Vec<(String, Instant)>>>,
}

impl TokenService {
    fn fetch(&self, n: u64, lifetime: Duration) -> Token {
        let user = format!("tok{n}");
        let token = unique_key("secret");
        let password = format!(">{token}");
        admin(
            &self.server,
            &[
                "ACL", "SETUSER", &user, "on", &password, "~*", "&*", "+@all",
            ],
        );
        let t = Token::valid_for(creds(&user, &token).unwrap(), lifetime);
        self.issued.lock().unwrap().push((user, t.expires_at));
        t
    }

    /// Removes expired tokens from the server until `stop`, counting them in `expired`.
    fn reaper(
        &self,
        stop: Arc<AtomicBool>,
        expired: Arc<AtomicU64>,
    ) -> std::thread::JoinHandle<()> {
        let (server, issued) = (self.server.clone(), self.issued.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                let now = Instant::now();
                let gone: Vec<String> = {
                    let mut issued = issued.lock().unwrap();
                    let (gone, keep) = issued.drain(..).partition(|(_, at)| *at <= now);
                    *issued = keep;
                    gone.into_iter().map(|(t, _)| t).collect()
                };
                for user in gone {
                    admin(&server, &["ACL", "DELUSER", &user]);
                    expired.fetch_add(1, Ordering::SeqCst);
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    }
}

/// Tokens that expire after 2 s (the server then drops every connection still using one),
/// refreshed at 75 % of their life: across 10 expiries no request fails, on pooled connections, on
/// connections opened all along, and on the async multiplexed connection.
#[test]
fn expiring_tokens_never_fail_a_request() {
    const LIFETIME: Duration = Duration::from_secs(2);
    const EXPIRIES: u64 = 10;
    let server = Arc::new(RedisServer::start());
    let service = Arc::new(TokenService {
        server: server.clone(),
        issued: Arc::default(),
    });
    let fetched = Arc::new(AtomicU64::new(0));
    let provider = {
        let (service, fetched) = (service.clone(), fetched.clone());
        Arc::new(
            TokenProvider::start(TokenOptions::default(), move || {
                let n = fetched.fetch_add(1, Ordering::SeqCst) + 1;
                Ok(service.fetch(n, LIFETIME))
            })
            .unwrap(),
        )
    };
    let stop = Arc::new(AtomicBool::new(false));
    let expired = Arc::new(AtomicU64::new(0));
    let reaper = service.reaper(stop.clone(), expired.clone());
    let config = server.config_no_auth().with_credentials(provider.clone());
    let client = redis_sync::Client::open(config.clone()).unwrap();
    let tally = Arc::new(Tally::default());
    {
        let t = tally.clone();
        client.on_event(move |e| t.note(e));
    }
    let pool = client.pool(4).unwrap();
    let figures = Figures::new();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let async_con = rt
        .block_on(redis_async::Client::open(config).unwrap().get_connection())
        .unwrap();

    let workers: Vec<_> = (0..4)
        .map(|i| {
            let (pool, client, figures, stop) =
                (pool.clone(), client.clone(), figures.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut round = 0u64;
                while !stop.load(Ordering::SeqCst) {
                    round += 1;
                    // Worker 0 opens a new connection every round: the handshake must
                    // always have a valid token.
                    let r = if i == 0 {
                        client.get_connection().and_then(|mut c| {
                            redis_sync::Commands::ping::<String>(&mut c).map(drop)
                        })
                    } else {
                        pool.get().and_then(|mut c| {
                            redis_sync::Commands::incr::<_, i64>(&mut *c, "tok-n", 1).map(drop)
                        })
                    };
                    figures.requests.fetch_add(1, Ordering::SeqCst);
                    if let Err(e) = r {
                        figures.error(format!("worker {i} round {round}: {e}"));
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
            })
        })
        .collect();
    let async_worker = {
        let (figures, stop) = (figures.clone(), stop.clone());
        let mut con = async_con.clone();
        rt.spawn(async move {
            use redis_async::Commands;
            while !stop.load(Ordering::SeqCst) {
                let r = con.incr::<_, i64>("tok-async", 1).await;
                figures.requests.fetch_add(1, Ordering::SeqCst);
                if let Err(e) = r {
                    figures.error(format!("async: {e}"));
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };

    // Wait until 10 tokens have expired (and been removed from the server), and a while
    // longer so requests run after the last removal too.
    let deadline = Instant::now() + LIFETIME * (EXPIRIES as u32 + 8);
    while expired.load(Ordering::SeqCst) < EXPIRIES {
        assert!(Instant::now() < deadline, "the provider stopped fetching");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::SeqCst);
    for w in workers {
        w.join().unwrap();
    }
    rt.block_on(async_worker).unwrap();
    reaper.join().unwrap();
    let expired = expired.load(Ordering::SeqCst);
    println!(
        "tokens: fetched {}, expired and removed {expired}, requests {}, errors {}; events {}",
        fetched.load(Ordering::SeqCst),
        figures.requests.load(Ordering::SeqCst),
        figures.errors.lock().unwrap().len(),
        tally.show()
    );
    assert!(expired >= EXPIRIES, "only {expired} tokens expired");
    let errors = figures.errors.lock().unwrap();
    assert!(errors.is_empty(), "requests failed: {errors:?}");
    assert!(tally.get("reauthenticated") >= EXPIRIES, "{}", tally.show());
}

/// A token provider whose refresh fails twice, then recovers: each failure is a typed
/// `CredentialsFailed` event (once per client, in both shells), the connections keep the
/// still-valid old token and no request fails, and the recovery re-authenticates them.
#[test]
fn a_provider_that_fails_twice_then_recovers_fails_no_request() {
    let server = Arc::new(RedisServer::start());
    let service = Arc::new(TokenService {
        server: server.clone(),
        issued: Arc::default(),
    });
    let calls = Arc::new(AtomicU64::new(0));
    let options = TokenOptions {
        refresh_at: 0.2,
        backoff: Backoff {
            base: Duration::from_millis(200),
            cap: Duration::from_millis(400),
            max_retries: 0,
        },
    };
    let provider = {
        let (service, calls) = (service.clone(), calls.clone());
        Arc::new(
            TokenProvider::start(options, move || {
                let n = calls.fetch_add(1, Ordering::SeqCst) + 1;
                if n == 2 || n == 3 {
                    return Err(format!("identity service unavailable (call {n})"));
                }
                Ok(service.fetch(n, Duration::from_secs(6)))
            })
            .unwrap(),
        )
    };
    let rotation = provider.rotation().unwrap();
    let config = server.config_no_auth().with_credentials(provider.clone());
    let client = redis_sync::Client::open(config.clone()).unwrap();
    let events = Arc::new(Mutex::new(Vec::new()));
    {
        let events = events.clone();
        client.on_event(move |e| events.lock().unwrap().push(e.clone()));
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let async_client = redis_async::Client::open(config).unwrap();
    let mut async_events = async_client.events();
    let mut async_con = rt.block_on(async_client.get_connection()).unwrap();
    let mut con = client.get_connection().unwrap();

    let deadline = Instant::now() + Duration::from_secs(20);
    let mut requests = 0;
    while rotation.state().generation == 0 {
        assert!(Instant::now() < deadline, "the provider never recovered");
        // The old token is still valid: nothing fails meanwhile.
        let _: i64 = redis_sync::Commands::incr(&mut con, "n", 1).unwrap();
        let _: i64 = rt
            .block_on(redis_async::Commands::incr(&mut async_con, "n", 1))
            .unwrap();
        requests += 2;
        std::thread::sleep(Duration::from_millis(20));
    }
    // One more request on each: the blocking connection re-authenticates at it.
    let _: i64 = redis_sync::Commands::incr(&mut con, "n", 1).unwrap();
    let _: i64 = rt
        .block_on(redis_async::Commands::incr(&mut async_con, "n", 1))
        .unwrap();
    assert_eq!(rotation.state().failures, 2);

    let failures = |events: &[ConnectionEvent]| -> Vec<u64> {
        events
            .iter()
            .filter_map(|e| match e {
                ConnectionEvent::CredentialsFailed {
                    failures, error, ..
                } => {
                    assert!(error.contains("identity service unavailable"), "{error}");
                    Some(*failures)
                }
                _ => None,
            })
            .collect()
    };
    let sync_events = events.lock().unwrap().clone();
    let sync_failures = failures(&sync_events);
    // The blocking connection only looks at its next request: it may see both failures at
    // once (reported as the count so far), or one by one.
    assert_eq!(sync_failures.last(), Some(&2), "{sync_events:?}");
    assert!(sync_events
        .iter()
        .any(|e| matches!(e, ConnectionEvent::Reauthenticated { .. })));
    let mut async_seen = Vec::new();
    rt.block_on(async {
        while !async_seen
            .iter()
            .any(|e| matches!(e, ConnectionEvent::Reauthenticated { .. }))
        {
            let e = tokio::time::timeout(Duration::from_secs(10), async_events.recv())
                .await
                .expect("no Reauthenticated event")
                .unwrap();
            async_seen.push(e);
        }
    });
    assert_eq!(failures(&async_seen), [1, 2], "{async_seen:?}");
    println!(
        "failing provider: {requests} requests, 0 failed; blocking events {sync_events:?}; async events {async_seen:?}"
    );
}

// ---------------------------------------------------------------------------------------
// Events
// ---------------------------------------------------------------------------------------

/// New credentials the server refuses: a typed `ReauthFailed` event, and the connection
/// goes on as the identity it had (no request fails), in both shells.
#[test]
fn refused_new_credentials_are_an_event_and_the_old_identity_stays() {
    let server = server();
    let provider = Arc::new(RotatingCredentials::new(creds(USER, "pw0")));
    let config = server.config_no_auth().with_credentials(provider.clone());
    let client = redis_sync::Client::open(config.clone()).unwrap();
    let events = Arc::new(Mutex::new(Vec::new()));
    {
        let events = events.clone();
        client.on_event(move |e| events.lock().unwrap().push(e.clone()));
    }
    let mut con = client.get_connection().unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let async_client = redis_async::Client::open(config).unwrap();
    let mut async_events = async_client.events();
    let mut async_con = rt.block_on(async_client.get_connection()).unwrap();
    let mut dedicated = rt
        .block_on(async_client.get_dedicated_connection())
        .unwrap();

    provider.set_password("not-a-password-the-server-knows");
    let who: String =
        redis_sync::Query::query(&redis_core::cmd("ACL").with("WHOAMI"), &mut con).unwrap();
    assert_eq!(who, USER);
    let refused = |e: &ConnectionEvent| matches!(e, ConnectionEvent::ReauthFailed { error, .. } if error.contains("WRONGPASS") && !error.contains("not-a-password"));
    assert!(
        events.lock().unwrap().iter().any(refused),
        "{:?}",
        events.lock().unwrap()
    );
    rt.block_on(async {
        let who: String =
            redis_async::Query::query(&redis_core::cmd("ACL").with("WHOAMI"), &mut async_con)
                .await
                .unwrap();
        assert_eq!(who, USER);
        let who: String =
            redis_async::Query::query(&redis_core::cmd("ACL").with("WHOAMI"), &mut dedicated)
                .await
                .unwrap();
        assert_eq!(who, USER);
        let mut failed = 0;
        while failed < 2 {
            let e = tokio::time::timeout(Duration::from_secs(10), async_events.recv())
                .await
                .expect("no ReauthFailed event")
                .unwrap();
            if refused(&e) {
                failed += 1;
            }
        }
    });
}

/// The blocking client reports a connection's handshake, its start and its end (with the
/// cause) to `on_event` callbacks.
#[test]
fn blocking_connections_report_handshake_connect_and_disconnect() {
    let server = RedisServer::start();
    let client = redis_sync::Client::open(server.config()).unwrap();
    let events = Arc::new(Mutex::new(Vec::new()));
    {
        let events = events.clone();
        client.on_event(move |e| events.lock().unwrap().push(e.clone()));
    }
    let mut con = client.get_connection().unwrap();
    let id: i64 =
        redis_sync::Query::query(&redis_core::cmd("CLIENT").with("ID"), &mut con).unwrap();
    let mut admin = redis_sync::Client::open(server.config())
        .unwrap()
        .get_connection()
        .unwrap();
    let _: i64 = redis_sync::Query::query(
        &redis_core::cmd("CLIENT").with("KILL").with("ID").with(id),
        &mut admin,
    )
    .unwrap();
    assert!(redis_sync::Commands::ping::<String>(&mut con).is_err());
    let events = events.lock().unwrap().clone();
    let addr = server.config().addr;
    assert_eq!(
        events[..2],
        [
            ConnectionEvent::HandshakeDone {
                addr: addr.clone(),
                protocol: Protocol::Resp2
            },
            ConnectionEvent::Connected { addr: addr.clone() },
        ]
    );
    assert!(
        matches!(&events[2..], [ConnectionEvent::Disconnected { addr: a, cause }] if *a == addr && !cause.is_empty()),
        "{events:?}"
    );
}

/// A subscriber that falls behind: the lag is reported in its stream and as a
/// `MessagesLagged` event with the count.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lagging_subscriber_is_a_messages_lagged_event() {
    let server = RedisServer::start();
    let client = redis_async::Client::open(server.config()).unwrap();
    let mut events = client.events();
    let options = redis_async::PubSubOptions {
        buffer: 2,
        ..Default::default()
    };
    let mut sub = client.get_pubsub_with(options).await.unwrap();
    let channel = unique_key("lag");
    sub.subscribe(&channel).await.unwrap();
    let mut con = client.get_connection().await.unwrap();
    for i in 0..10 {
        let _: i64 = redis_async::Commands::publish(&mut con, &channel, i)
            .await
            .unwrap();
    }
    // The reader was away: 2 messages buffered, then the lag report.
    let mut lagged = None;
    while lagged.is_none() {
        match tokio::time::timeout(Duration::from_secs(10), sub.next_message())
            .await
            .expect("no lag report")
        {
            Some(Err(redis_async::Error::Lagged { dropped })) => lagged = Some(dropped),
            Some(_) => {}
            None => panic!("stream ended"),
        }
    }
    loop {
        let e = tokio::time::timeout(Duration::from_secs(10), events.recv())
            .await
            .expect("no MessagesLagged event")
            .unwrap();
        if let ConnectionEvent::MessagesLagged { dropped, .. } = e {
            assert_eq!(Some(dropped), lagged);
            break;
        }
    }
}

/// RESP2 pub/sub with nothing subscribed yet when the credentials rotate: it moves to a
/// new connection (nothing to carry over), and subscribing afterwards works.
#[test]
fn a_resp2_pubsub_with_no_subscription_rotates_too() {
    let server = server();
    let provider = Arc::new(RotatingCredentials::new(creds(USER, "pw0")));
    let config = server
        .config_no_auth()
        .with_credentials(provider.clone())
        .with_protocol(Protocol::Resp2);
    let client = redis_sync::Client::open(config).unwrap();
    let mut sub = client.get_pubsub().unwrap();
    admin(&server, &["ACL", "SETUSER", USER, ">pw1"]);
    provider.set_password("pw1");
    assert!(sub
        .get_message(Duration::from_millis(50))
        .unwrap()
        .is_none());
    let channel = unique_key("late");
    sub.subscribe(&channel).unwrap();
    let mut con = client.get_connection().unwrap();
    let _: i64 = redis_sync::Commands::publish(&mut con, &channel, "hello").unwrap();
    let m = sub.get_message(Duration::from_secs(10)).unwrap().unwrap();
    assert_eq!(m.payload::<String>().unwrap(), "hello");
}

/// A rotation between `MULTI` and `EXEC` waits for the end of the transaction: the
/// `AUTH` is never queued into it (EXEC returns the replies of the queued commands
/// only), and goes out right after, on both clients' exclusive connections. Clients
/// that share one event channel (`with_events_of`) report to the same place.
#[test]
fn no_auth_lands_inside_a_transaction() {
    let server = server();
    let provider = Arc::new(RotatingCredentials::new(creds(USER, "pw0")));
    let config = server.config_no_auth().with_credentials(provider.clone());
    let watcher = redis_sync::Client::open(config.clone()).unwrap();
    let client = redis_sync::Client::open(config.clone())
        .unwrap()
        .with_events_of(&watcher);
    let events = Arc::new(Mutex::new(Vec::new()));
    {
        let events = events.clone();
        watcher.on_event(move |e| events.lock().unwrap().push(e.clone()));
    }
    let mut con = client.get_connection().unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let async_watcher = redis_async::Client::open(config.clone()).unwrap();
    let async_client = redis_async::Client::open(config)
        .unwrap()
        .with_events_of(&async_watcher);
    let mut async_events = async_watcher.events();
    let mut dedicated = rt
        .block_on(async_client.get_dedicated_connection())
        .unwrap();
    let q = |name: &str| redis_core::cmd(name);

    let _: String = redis_sync::Query::query(&q("MULTI"), &mut con).unwrap();
    rt.block_on(redis_async::Query::query::<String>(
        &q("MULTI"),
        &mut dedicated,
    ))
    .unwrap();
    admin(&server, &["ACL", "SETUSER", USER, ">pw1"]);
    provider.set_password("pw1");
    let set = redis_core::cmd("SET").with("k").with("v");
    let queued: String = redis_sync::Query::query(&set, &mut con).unwrap();
    assert_eq!(queued, "QUEUED");
    let replies: Vec<redis_core::Value> = redis_sync::Query::query(&q("EXEC"), &mut con).unwrap();
    assert_eq!(replies.len(), 1, "{replies:?}");
    rt.block_on(async {
        let queued: String = redis_async::Query::query(&set, &mut dedicated)
            .await
            .unwrap();
        assert_eq!(queued, "QUEUED");
        let replies: Vec<redis_core::Value> = redis_async::Query::query(&q("EXEC"), &mut dedicated)
            .await
            .unwrap();
        assert_eq!(replies.len(), 1, "{replies:?}");
    });
    assert!(!events
        .lock()
        .unwrap()
        .iter()
        .any(|e| matches!(e, ConnectionEvent::Reauthenticated { .. })));
    // The next request, outside the transaction, re-authenticates first.
    let _: String = redis_sync::Commands::ping(&mut con).unwrap();
    assert!(events
        .lock()
        .unwrap()
        .iter()
        .any(|e| matches!(e, ConnectionEvent::Reauthenticated { .. })));
    rt.block_on(async {
        let _: String = redis_async::Commands::ping(&mut dedicated).await.unwrap();
        loop {
            let e = tokio::time::timeout(Duration::from_secs(10), async_events.recv())
                .await
                .expect("no Reauthenticated event")
                .unwrap();
            if matches!(e, ConnectionEvent::Reauthenticated { .. }) {
                break;
            }
        }
    });
}

/// A source that resolves every connection to a checked primary, as the Sentinel client
/// does (`Target::resolved`: `ROLE` after the handshake).
#[derive(Debug)]
struct ResolvedPrimary(redis_core::Config);

impl redis_sync::ConnectionSource for ResolvedPrimary {
    fn target(&self) -> redis_core::Result<redis_core::Target> {
        let addr = self.0.addr.clone();
        Ok(redis_core::Target::resolved(
            &self.0,
            addr,
            redis_core::Role::Primary,
        ))
    }
}

impl redis_async::ConnectionSource for ResolvedPrimary {
    fn target(&self) -> redis_async::TargetFuture<'_> {
        let addr = self.0.addr.clone();
        let t = redis_core::Target::resolved(&self.0, addr, redis_core::Role::Primary);
        Box::pin(async move { Ok(t) })
    }
}

/// Connections opened through any connection source (here one that resolves and checks a
/// primary, as Sentinel does; cluster nodes are the same `Target` with another address)
/// re-authenticate too, in both shells, with nothing done by the source.
#[test]
fn connections_from_any_source_reauthenticate() {
    let server = server();
    let provider = Arc::new(RotatingCredentials::new(creds(USER, "pw0")));
    let config = server.config_no_auth().with_credentials(provider.clone());
    let source = Arc::new(ResolvedPrimary(config.clone()));
    let client = redis_sync::Client::with_source(config.clone(), source.clone());
    let events = Arc::new(Mutex::new(Vec::new()));
    {
        let events = events.clone();
        client.on_event(move |e| events.lock().unwrap().push(e.clone()));
    }
    let pool = client.pool(2).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let async_client = redis_async::Client::with_source(config, source);
    let mut async_events = async_client.events();
    let mut con = rt.block_on(async_client.get_connection()).unwrap();
    for i in 1..=3 {
        admin(&server, &["ACL", "SETUSER", USER, &format!(">pw{i}")]);
        provider.set_password(&format!("pw{i}"));
        admin(&server, &["ACL", "SETUSER", USER, &format!("<pw{}", i - 1)]);
        let _: String = redis_sync::Commands::ping(&mut *pool.get().unwrap()).unwrap();
        let _: String = rt.block_on(redis_async::Commands::ping(&mut con)).unwrap();
    }
    let reauths = events
        .lock()
        .unwrap()
        .iter()
        .filter(|e| matches!(e, ConnectionEvent::Reauthenticated { .. }))
        .count();
    assert!(reauths >= 3, "{:?}", events.lock().unwrap());
    rt.block_on(async {
        let mut n = 0;
        while n < 3 {
            let e = tokio::time::timeout(Duration::from_secs(10), async_events.recv())
                .await
                .expect("no Reauthenticated event")
                .unwrap();
            if matches!(e, ConnectionEvent::Reauthenticated { .. }) {
                n += 1;
            }
        }
    });
}
