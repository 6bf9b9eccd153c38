//! The `tracing` feature of the clients: a span per connect and per command that names
//! the command and never shows its arguments, and connection events as tracing events.
//!
//! A binary of its own: `tracing` caches per call site whether anyone listens, and a
//! test that installs its subscriber for one thread while other tests of the same
//! binary already ran those call sites without one could miss them.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use redis_core::credentials::{Credentials, RotatingCredentials, Secret};
use redis_tests::RedisServer;

fn admin(server: &RedisServer, args: &[&str]) {
    let client = redis_sync::Client::open(server.config_no_auth()).unwrap();
    let mut con = client.get_connection().unwrap();
    let mut c = redis_core::cmd(args[0]);
    for a in &args[1..] {
        c.arg(*a);
    }
    let _: redis_core::Value = redis_sync::Query::query(&c, &mut con).unwrap();
}

/// Captures spans (name and fields) and events (level and fields) as text.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<String>>>, Arc<AtomicU64>);

struct Fields(String);

impl tracing::field::Visit for Fields {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0.push_str(&format!("{}={value:?} ", field.name()));
    }
}

impl tracing::Subscriber for Capture {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, span: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        let mut f = Fields(String::new());
        span.record(&mut f);
        let line = format!("span {} {}", span.metadata().name(), f.0);
        self.0.lock().unwrap().push(line);
        tracing::span::Id::from_u64(self.1.fetch_add(1, Ordering::SeqCst) + 1)
    }

    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}

    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}

    fn event(&self, event: &tracing::Event<'_>) {
        let mut f = Fields(String::new());
        event.record(&mut f);
        let line = format!("event {} {}", event.metadata().level(), f.0);
        self.0.lock().unwrap().push(line);
    }

    fn enter(&self, _: &tracing::span::Id) {}

    fn exit(&self, _: &tracing::span::Id) {}
}

/// With the `tracing` feature: a span per connect and per command that names the
/// command and never shows its arguments, and connection events as tracing events
/// (a warning for a disconnect).
#[test]
fn tracing_shows_commands_by_name_only_and_connection_events() {
    let server = RedisServer::builder()
        .acl_user("app", "pw0", "~* &* +@all")
        .start();
    let capture = Capture::default();
    let provider = Arc::new(RotatingCredentials::new(Some(Credentials {
        username: Some("app".into()),
        password: Secret::new("pw0"),
    })));
    let config = server.config_no_auth().with_credentials(provider.clone());
    tracing::subscriber::with_default(capture.clone(), || {
        let client = redis_sync::Client::open(config).unwrap();
        let mut con = client.get_connection().unwrap();
        redis_sync::Commands::set::<_, _, ()>(&mut con, "k", "top-secret-value").unwrap();
        admin(&server, &["ACL", "SETUSER", "app", ">pw1"]);
        provider.set_password("pw1");
        let _: String = redis_sync::Commands::ping(&mut con).unwrap();
        let id: i64 =
            redis_sync::Query::query(&redis_core::cmd("CLIENT").with("ID"), &mut con).unwrap();
        admin(&server, &["CLIENT", "KILL", "ID", &id.to_string()]);
        assert!(redis_sync::Commands::ping::<String>(&mut con).is_err());
    });
    let lines = capture.0.lock().unwrap().clone();
    let has = |needle: &str| lines.iter().any(|l| l.contains(needle));
    assert!(has("span redis.connect addr="), "{lines:#?}");
    assert!(has("span redis.command command=SET"), "{lines:#?}");
    assert!(has("span redis.command command=PING"), "{lines:#?}");
    assert!(has("event INFO") && has("HandshakeDone"), "{lines:#?}");
    assert!(has("Reauthenticated"), "{lines:#?}");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("event WARN") && l.contains("Disconnected")),
        "{lines:#?}"
    );
    for l in &lines {
        assert!(!l.contains("top-secret-value") && !l.contains("pw1"), "{l}");
    }
}
