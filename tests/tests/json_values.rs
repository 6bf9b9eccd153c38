//! The optional `json` feature against a real server: a serde struct written with
//! `Json(&v)` is stored as JSON text (readable by any other client) and read back with
//! `Json<T>`, from both clients; a value that is not JSON of that shape is a conversion
//! error, and a missing key is `None`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use redis_tests::{unique_key, RedisServer};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct User {
    id: u64,
    name: String,
    tags: Vec<String>,
    score: Option<f64>,
}

fn alice() -> User {
    User {
        id: 7,
        name: "Alice \"Ali\" Ünal".into(),
        tags: vec!["admin".into(), "ops".into()],
        score: Some(1.5),
    }
}

#[test]
fn sync_json_round_trip_and_errors() {
    use redis_sync::prelude::*;
    use redis_sync::Json;

    let server = RedisServer::start();
    let mut con = Client::open(server.config())
        .unwrap()
        .get_connection()
        .unwrap();
    let key = unique_key("json");
    let _: () = con.set(&key, Json(&alice())).unwrap();

    // Stored as plain JSON text, as any other client would read it.
    let raw: String = con.get(&key).unwrap();
    let parsed: User = serde_json::from_str(&raw).unwrap();
    assert_eq!(parsed, alice());

    let Json(back): Json<User> = con.get(&key).unwrap();
    assert_eq!(back, alice());

    let missing: Option<Json<User>> = con.get(unique_key("absent")).unwrap();
    assert_eq!(missing, None);

    let _: () = con.set(&key, "not json").unwrap();
    let e = con.get::<_, Json<User>>(&key).unwrap_err();
    assert!(matches!(e, Error::Conversion { .. }), "{e:?}");
    assert!(!e.to_string().contains("not json"), "{e}");

    // A list of JSON values.
    let list = unique_key("json-list");
    let _: () = con.rpush(&list, Json(&alice())).unwrap();
    let _: () = con.rpush(&list, Json(User { id: 8, ..alice() })).unwrap();
    let users: Vec<Json<User>> = con.lrange(&list, 0, -1).unwrap();
    assert_eq!(users.iter().map(|u| u.0.id).collect::<Vec<_>>(), [7, 8]);
}

#[tokio::test]
async fn async_json_round_trip() {
    use redis_async::prelude::*;
    use redis_async::Json;

    let server = RedisServer::start();
    let con = Client::open(server.config())
        .unwrap()
        .get_connection()
        .await
        .unwrap();
    let key = unique_key("json");
    let mut c = con.clone();
    let _: () = c.set(&key, Json(alice())).await.unwrap();
    let Json(back): Json<User> = c.get(&key).await.unwrap();
    assert_eq!(back, alice());
    let _: () = c.set(&key, "[1, 2").await.unwrap();
    let e = c.get::<_, Json<User>>(&key).await.unwrap_err();
    assert!(matches!(e, Error::Conversion { .. }), "{e:?}");
}
