//! One test body per command group, written once in async syntax.
//!
//! `group_bodies!(maybe_async::must_be_sync)` expands them as blocking functions,
//! `group_bodies!(maybe_async::must_be_async)` as async ones. The expansion site brings the
//! client's names into scope (`ConnectionLike`, `Commands`, `Query`, `cmd`, `pipe`,
//! `commands`, `Value`, `PubSub`, the option types...) and a `next_msg(&mut PubSub) -> Msg`
//! adapter, so the same text calls redis-sync in one binary and redis-async in the other.
//!
//! Every body takes the connection under test (`con`: the blocking `Connection`, or the
//! async multiplexed one), a second connection for blocking commands and WATCH (`blk`:
//! another `Connection`, or a `DedicatedConnection`, opened with a 500 ms response timeout
//! so that blocking for 1 s checks that a command's own block time extends it), and the
//! protocol the connections speak, so that RESP2/RESP3 shape differences can be checked on
//! raw replies while the typed results are asserted identical. Every key comes from
//! `unique_key`.
//!
//! maybe-async rewrites the function bodies but cannot see inside macro invocations, so
//! no `.await` may appear inside `assert!`, `format!` and the like: awaited values are
//! bound first (`let got = con.get(..).await.unwrap(); assert_eq!(got, ..);`).

/// Expands the group bodies with `$attr` (`maybe_async::must_be_sync` or `must_be_async`).
macro_rules! group_bodies {
    ($attr:meta) => {
        fn uk(prefix: &str) -> String {
            ::redis_tests::unique_key(prefix)
        }

        /// A unique name made of letters, digits and `_` (library and function names).
        fn ident(prefix: &str) -> String {
            ::redis_tests::unique_key(prefix).replace(':', "_")
        }

        fn close(a: f64, b: f64, eps: f64) -> bool {
            (a - b).abs() <= eps
        }

        fn now_secs() -> i64 {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs() as i64
        }

        /// The raw shape of a map-like reply: RESP3 sends a map, RESP2 a flat array.
        fn assert_map_shape(v: &Value, proto: Protocol, what: &str) {
            match proto {
                Protocol::Resp3 => assert!(
                    matches!(v, Value::Map(_)),
                    "{what}: RESP3 map expected, got {v:?}"
                ),
                Protocol::Resp2 => assert!(
                    matches!(v, Value::Array(_)),
                    "{what}: RESP2 array expected, got {v:?}"
                ),
            }
        }

        fn field<'a>(m: &'a HashMap<String, Value>, name: &str) -> &'a Value {
            m.get(name)
                .unwrap_or_else(|| panic!("no field {name:?} in {m:?}"))
        }

        fn int_field(m: &HashMap<String, Value>, name: &str) -> i64 {
            i64::from_value(field(m, name).clone()).unwrap()
        }

        fn str_field(m: &HashMap<String, Value>, name: &str) -> String {
            String::from_value(field(m, name).clone()).unwrap()
        }

        type Entry = (String, HashMap<String, String>);
        type StreamReply = HashMap<String, Vec<Entry>>;

        // ---- strings -------------------------------------------------------------------

        #[$attr]
        pub async fn strings<C: ConnectionLike, B: ConnectionLike>(
            con: &mut C,
            _blk: &mut B,
            proto: Protocol,
        ) {
            let k = uk("str");
            let missing = uk("str-missing");

            // SET / GET and conversions to several Rust types.
            con.set::<_, _, ()>(&k, 42).await.unwrap();
            let got = con.get::<_, i64>(&k).await.unwrap();
            assert_eq!(got, 42);
            let got = con.get::<_, u16>(&k).await.unwrap();
            assert_eq!(got, 42);
            let got = con.get::<_, String>(&k).await.unwrap();
            assert_eq!(got, "42");
            let got = con.get::<_, Vec<u8>>(&k).await.unwrap();
            assert_eq!(got, b"42".to_vec());
            let got = con.get::<_, Option<i64>>(&k).await.unwrap();
            assert_eq!(got, Some(42));
            let got = con.get::<_, f64>(&k).await.unwrap();
            assert_eq!(got, 42.0);
            let got = con.get::<_, Option<String>>(&missing).await.unwrap();
            assert_eq!(got, None);
            let got = con.get::<_, Value>(&missing).await.unwrap();
            assert_eq!(got, Value::Nil);
            let e = con.get::<_, String>(&missing).await.unwrap_err();
            assert!(
                matches!(e, Error::Conversion { .. }),
                "{proto:?}: nil into String: {e}"
            );
            con.set::<_, _, ()>(&k, "not a number").await.unwrap();
            let e = con.get::<_, i64>(&k).await.unwrap_err();
            assert!(matches!(e, Error::Conversion { .. }), "{proto:?}: {e}");
            // Binary-safe values.
            let bin: Vec<u8> = vec![0, 1, 2, 255, b'\r', b'\n'];
            con.set::<_, _, ()>(&k, &bin).await.unwrap();
            let got = con.get::<_, Vec<u8>>(&k).await.unwrap();
            assert_eq!(got, bin);

            // SET options: NX / XX / GET / EX / PX / KEEPTTL.
            let k2 = uk("str-set");
            let set: bool = con
                .set_options(&k2, "v1", SetOptions::new().existence(Existence::Nx))
                .await
                .unwrap();
            assert!(set, "{proto:?}: NX on a missing key sets");
            let r: Option<String> = con
                .set_options(&k2, "v2", SetOptions::new().existence(Existence::Nx))
                .await
                .unwrap();
            assert_eq!(r, None, "{proto:?}: NX on an existing key is nil");
            let set: bool = con
                .set_options(&k2, "v2", SetOptions::new().existence(Existence::Nx))
                .await
                .unwrap();
            assert!(!set);
            let r: Option<String> = con
                .set_options(&missing, "v", SetOptions::new().existence(Existence::Xx))
                .await
                .unwrap();
            assert_eq!(r, None, "{proto:?}: XX on a missing key is nil");
            let got = con.exists::<_, i64>(&missing).await.unwrap();
            assert_eq!(got, 0);
            let old: Option<String> = con
                .set_options(
                    &k2,
                    "v3",
                    SetOptions::new().existence(Existence::Xx).get(true),
                )
                .await
                .unwrap();
            assert_eq!(
                old.as_deref(),
                Some("v1"),
                "{proto:?}: SET XX GET returns the old value"
            );
            let old: Option<String> = con
                .set_options(&missing, "x", SetOptions::new().get(true))
                .await
                .unwrap();
            assert_eq!(old, None);
            con.del::<_, ()>(&missing).await.unwrap();
            let ok: String = con
                .set_options(&k2, "v4", SetOptions::new().expiry(Expiry::Ex(100)))
                .await
                .unwrap();
            assert_eq!(ok, "OK");
            let ttl: i64 = con.ttl(&k2).await.unwrap();
            assert!(
                (95..=100).contains(&ttl),
                "{proto:?}: EX 100 gave ttl {ttl}"
            );
            con.set_options::<_, _, ()>(&k2, "v5", SetOptions::new().expiry(Expiry::Keep))
                .await
                .unwrap();
            let ttl: i64 = con.ttl(&k2).await.unwrap();
            assert!(
                (95..=100).contains(&ttl),
                "{proto:?}: KEEPTTL kept ttl, got {ttl}"
            );
            let got = con.get::<_, String>(&k2).await.unwrap();
            assert_eq!(got, "v5");
            con.set::<_, _, ()>(&k2, "v6").await.unwrap();
            let got = con.ttl::<_, i64>(&k2).await.unwrap();
            assert_eq!(got, -1, "plain SET clears the ttl");
            con.set_options::<_, _, ()>(&k2, "v7", SetOptions::new().expiry(Expiry::Px(50_000)))
                .await
                .unwrap();
            let pttl: i64 = con.pttl(&k2).await.unwrap();
            assert!(
                (45_000..=50_000).contains(&pttl),
                "{proto:?}: PX gave pttl {pttl}"
            );
            let at = now_secs() as u64 + 500;
            con.set_options::<_, _, ()>(&k2, "v8", SetOptions::new().expiry(Expiry::ExAt(at)))
                .await
                .unwrap();
            let got = con.expiretime::<_, u64>(&k2).await.unwrap();
            assert_eq!(got, at);

            // SETEX / PSETEX / SETNX / GETSET.
            con.set_ex::<_, _, ()>(&k2, "e", 60).await.unwrap();
            let got = con.ttl::<_, i64>(&k2).await.unwrap();
            assert!((55..=60).contains(&got));
            con.pset_ex::<_, _, ()>(&k2, "p", 60_000).await.unwrap();
            let got = con.pttl::<_, i64>(&k2).await.unwrap();
            assert!(got > 55_000);
            let got = con.set_nx::<_, _, bool>(&k2, "n").await.unwrap();
            assert!(!got);
            let got = con.getset::<_, _, Option<String>>(&k2, "g").await.unwrap();
            assert_eq!(got.as_deref(), Some("p"));

            // GETEX / GETDEL.
            let v: Option<String> = con.getex(&k2, Expiry::Ex(200)).await.unwrap();
            assert_eq!(v.as_deref(), Some("g"));
            let ttl: i64 = con.ttl(&k2).await.unwrap();
            assert!(
                (195..=200).contains(&ttl),
                "{proto:?}: GETEX EX gave ttl {ttl}"
            );
            let v: String = con.getex(&k2, Expiry::Keep).await.unwrap();
            assert_eq!(v, "g");
            let got = con.ttl::<_, i64>(&k2).await.unwrap();
            assert_eq!(got, -1, "GETEX PERSIST");
            let got = con
                .getex::<_, Option<String>>(&missing, Expiry::Px(10))
                .await
                .unwrap();
            assert_eq!(got, None);
            let got = con.getdel::<_, Option<String>>(&k2).await.unwrap();
            assert_eq!(got.as_deref(), Some("g"));
            let got = con.exists::<_, bool>(&k2).await.unwrap();
            assert!(!got);
            let got = con.getdel::<_, Option<String>>(&k2).await.unwrap();
            assert_eq!(got, None);

            // SETRANGE / GETRANGE / SUBSTR.
            let r = uk("str-range");
            con.set::<_, _, ()>(&r, "Hello World").await.unwrap();
            let got = con.setrange::<_, _, i64>(&r, 6, "Redis").await.unwrap();
            assert_eq!(got, 11);
            let got = con.get::<_, String>(&r).await.unwrap();
            assert_eq!(got, "Hello Redis");
            let got = con.getrange::<_, String>(&r, 0, 4).await.unwrap();
            assert_eq!(got, "Hello");
            let got = con.getrange::<_, String>(&r, -5, -1).await.unwrap();
            assert_eq!(got, "Redis");
            let got = con.getrange::<_, String>(&r, 20, 30).await.unwrap();
            assert_eq!(got, "");
            let got = con.substr::<_, String>(&r, 0, 0).await.unwrap();
            assert_eq!(got, "H");
            let pad = uk("str-pad");
            let got = con.setrange::<_, _, u64>(&pad, 3, "ab").await.unwrap();
            assert_eq!(got, 5);
            let got = con.get::<_, Vec<u8>>(&pad).await.unwrap();
            assert_eq!(got, vec![0, 0, 0, b'a', b'b']);

            // INCR family.
            let n = uk("str-num");
            let got = con.incr::<_, i64>(&n, 5).await.unwrap();
            assert_eq!(got, 5);
            let got = con.decr::<_, i64>(&n, 7).await.unwrap();
            assert_eq!(got, -2);
            con.set::<_, _, ()>(&n, "10.5").await.unwrap();
            let f: f64 = con.incrbyfloat(&n, 0.1).await.unwrap();
            assert!(close(f, 10.6, 1e-9), "{proto:?}: INCRBYFLOAT gave {f}");
            let got = con.get::<_, String>(&n).await.unwrap();
            assert_eq!(got, "10.6");
            let f: String = con.incrbyfloat(&n, -0.6).await.unwrap();
            assert_eq!(f, "10");
            let e = con.incr::<_, i64>(&r, 1).await.unwrap_err();
            assert_eq!(
                e.server_kind(),
                Some(&ServerErrorKind::Err),
                "{proto:?}: {e}"
            );

            // MSET / MGET / MSETNX.
            let (a, b, c) = (uk("str-m"), uk("str-m"), uk("str-m"));
            con.mset::<_, ()>(&[(&a, "1"), (&b, "2")]).await.unwrap();
            let vals: Vec<Option<String>> = con.mget(&[&a, &b, &missing]).await.unwrap();
            assert_eq!(
                vals,
                vec![Some("1".to_string()), Some("2".to_string()), None]
            );
            let vals: Vec<Option<i64>> = con.mget(&[&a, &missing, &b]).await.unwrap();
            assert_eq!(vals, vec![Some(1), None, Some(2)]);
            let (x, y, z): (i64, String, Option<String>) =
                con.mget(&[&a, &b, &missing]).await.unwrap();
            assert_eq!((x, y.as_str(), z), (1, "2", None));
            // A single key still comes back as a list.
            let one: Vec<String> = con.mget(&a).await.unwrap();
            assert_eq!(one, ["1"]);
            let map: BTreeMap<String, i64> =
                [(a.clone(), 10), (b.clone(), 20)].into_iter().collect();
            con.mset::<_, ()>(&map).await.unwrap();
            let got = con.get::<_, i64>(&b).await.unwrap();
            assert_eq!(got, 20);
            let got = con
                .msetnx::<_, bool>(&[(&a, "x"), (&c, "y")])
                .await
                .unwrap();
            assert!(!got);
            let got = con.exists::<_, i64>(&c).await.unwrap();
            assert_eq!(got, 0, "MSETNX sets nothing if one exists");
            let got = con
                .msetnx::<_, bool>(&[(&c, "y"), (&missing, "z")])
                .await
                .unwrap();
            assert!(got);
            let got = con.get::<_, String>(&c).await.unwrap();
            assert_eq!(got, "y");
            con.del::<_, ()>(&missing).await.unwrap();

            // LCS.
            let (l1, l2) = (uk("str-lcs"), uk("str-lcs"));
            con.mset::<_, ()>(&[(&l1, "ohmytext"), (&l2, "mynewtext")])
                .await
                .unwrap();
            let got = con.lcs::<_, _, String>(&l1, &l2).await.unwrap();
            assert_eq!(got, "mytext");
            let got = con.lcs_len::<_, _, i64>(&l1, &l2).await.unwrap();
            assert_eq!(got, 6);
            let raw: Value = con.lcs_idx(&l1, &l2, Some(4), true).await.unwrap();
            assert_map_shape(&raw, proto, "LCS IDX");
            let idx: HashMap<String, Value> = con.lcs_idx(&l1, &l2, Some(4), true).await.unwrap();
            assert_eq!(int_field(&idx, "len"), 6);
            let matches: Vec<Value> = Vec::from_value(field(&idx, "matches").clone()).unwrap();
            assert_eq!(
                matches.len(),
                1,
                "{proto:?}: one match of at least 4: {matches:?}"
            );
            let (m1, m2, len): ((i64, i64), (i64, i64), i64) =
                FromValue::from_value(matches[0].clone()).unwrap();
            assert_eq!((m1, m2, len), ((4, 7), (5, 8), 4));

            // APPEND / STRLEN.
            let ap = uk("str-append");
            let got = con.append::<_, _, i64>(&ap, "Hello").await.unwrap();
            assert_eq!(got, 5);
            let got = con.append::<_, _, i64>(&ap, " World").await.unwrap();
            assert_eq!(got, 11);
            let got = con.strlen::<_, i64>(&ap).await.unwrap();
            assert_eq!(got, 11);
            let got = con.strlen::<_, i64>(&missing).await.unwrap();
            assert_eq!(got, 0);

            // Raw commands.
            let ok: String = cmd("SET")
                .arg(&k)
                .arg("raw")
                .arg("EX")
                .arg(30)
                .query(con)
                .await
                .unwrap();
            assert_eq!(ok, "OK");
            let v: Option<String> = cmd("GET").arg(&k).query(con).await.unwrap();
            assert_eq!(v.as_deref(), Some("raw"));
            let status: Value = cmd("SET").arg(&k).arg("raw2").query(con).await.unwrap();
            assert!(status.is_ok_status(), "{proto:?}: {status:?}");
            cmd("DEL").arg(&k).execute(con).await.unwrap();
            let e = cmd("SET").arg(&k).query::<()>(con).await.unwrap_err();
            assert_eq!(
                e.server_kind(),
                Some(&ServerErrorKind::Err),
                "{proto:?}: arity error: {e}"
            );
        }

        // ---- keys & expiry -------------------------------------------------------------

        #[$attr]
        pub async fn keys<C: ConnectionLike, B: ConnectionLike>(
            con: &mut C,
            _blk: &mut B,
            proto: Protocol,
        ) {
            let a = uk("key");
            let missing = uk("key-missing");
            con.set::<_, _, ()>(&a, "v").await.unwrap();

            // EXPIRE with NX / XX / GT / LT, TTL / PTTL / EXPIRETIME.
            let got = con
                .expire_options::<_, bool>(&a, 100, ExpireOption::Xx)
                .await
                .unwrap();
            assert!(!got, "XX without a ttl");
            let got = con
                .expire_options::<_, bool>(&a, 100, ExpireOption::Nx)
                .await
                .unwrap();
            assert!(got);
            let got = con
                .expire_options::<_, bool>(&a, 200, ExpireOption::Nx)
                .await
                .unwrap();
            assert!(!got, "NX with a ttl");
            let got = con
                .expire_options::<_, i64>(&a, 50, ExpireOption::Gt)
                .await
                .unwrap();
            assert_eq!(got, 0);
            let got = con
                .expire_options::<_, bool>(&a, 200, ExpireOption::Gt)
                .await
                .unwrap();
            assert!(got);
            let got = con
                .expire_options::<_, bool>(&a, 300, ExpireOption::Lt)
                .await
                .unwrap();
            assert!(!got);
            let got = con
                .expire_options::<_, bool>(&a, 150, ExpireOption::Lt)
                .await
                .unwrap();
            assert!(got);
            let got = con
                .expire_options::<_, bool>(&a, 150, ExpireOption::Xx)
                .await
                .unwrap();
            assert!(got);
            let ttl: i64 = con.ttl(&a).await.unwrap();
            assert!((145..=150).contains(&ttl), "{proto:?}: ttl {ttl}");
            let pttl: u64 = con.pttl(&a).await.unwrap();
            assert!(
                (140_000..=150_000).contains(&pttl),
                "{proto:?}: pttl {pttl}"
            );
            let (server_now, _): (i64, i64) = con.time().await.unwrap();
            let at: i64 = con.expiretime(&a).await.unwrap();
            assert!(
                (at - (server_now + 150)).abs() <= 2,
                "{proto:?}: expiretime {at} vs now {server_now}"
            );
            let got = con.pexpire::<_, bool>(&a, 100_000).await.unwrap();
            assert!(got);
            let got = con.pttl::<_, i64>(&a).await.unwrap();
            assert!(got <= 100_000);
            let got = con
                .pexpire_options::<_, bool>(&a, 200_000, ExpireOption::Lt)
                .await
                .unwrap();
            assert!(!got);
            let got = con
                .expireat::<_, bool>(&a, server_now + 1000)
                .await
                .unwrap();
            assert!(got);
            let got = con.expiretime::<_, i64>(&a).await.unwrap();
            assert_eq!(got, server_now + 1000);
            let got = con
                .expireat_options::<_, bool>(&a, server_now + 10, ExpireOption::Gt)
                .await
                .unwrap();
            assert!(!got);
            let got = con
                .pexpireat::<_, bool>(&a, (server_now + 2000) * 1000 + 5)
                .await
                .unwrap();
            assert!(got);
            let got = con.pexpiretime::<_, i64>(&a).await.unwrap();
            assert_eq!(got, (server_now + 2000) * 1000 + 5);
            let got = con
                .pexpireat_options::<_, bool>(&a, (server_now + 3000) * 1000, ExpireOption::Gt)
                .await
                .unwrap();
            assert!(got);
            let got = con.persist::<_, bool>(&a).await.unwrap();
            assert!(got);
            let got = con.persist::<_, bool>(&a).await.unwrap();
            assert!(!got);
            let got = con.ttl::<_, i64>(&a).await.unwrap();
            assert_eq!(got, -1);
            let got = con.pttl::<_, i64>(&a).await.unwrap();
            assert_eq!(got, -1);
            let got = con.expiretime::<_, i64>(&a).await.unwrap();
            assert_eq!(got, -1);
            let got = con.ttl::<_, i64>(&missing).await.unwrap();
            assert_eq!(got, -2);
            let got = con.pexpiretime::<_, i64>(&missing).await.unwrap();
            assert_eq!(got, -2);
            let got = con.expire::<_, bool>(&missing, 10).await.unwrap();
            assert!(!got);
            // A ttl in the past deletes the key.
            let gone = uk("key-gone");
            con.set::<_, _, ()>(&gone, 1).await.unwrap();
            let got = con.expire::<_, bool>(&gone, -1).await.unwrap();
            assert!(got);
            let got = con.exists::<_, i64>(&gone).await.unwrap();
            assert_eq!(got, 0);

            // TYPE.
            let (l, s, z, h, x) = (
                uk("key-l"),
                uk("key-s"),
                uk("key-z"),
                uk("key-h"),
                uk("key-x"),
            );
            con.rpush::<_, _, ()>(&l, &[3, 1, 2]).await.unwrap();
            con.sadd::<_, _, ()>(&s, &[5, 6, 7]).await.unwrap();
            con.zadd::<_, _, _, ()>(&z, 1, "m").await.unwrap();
            con.hset::<_, _, _, ()>(&h, "f", "v").await.unwrap();
            con.xadd::<_, _, _, ()>(&x, "*", &[("f", "v")])
                .await
                .unwrap();
            for (key, ty) in [
                (&a, "string"),
                (&l, "list"),
                (&s, "set"),
                (&z, "zset"),
                (&h, "hash"),
                (&x, "stream"),
                (&missing, "none"),
            ] {
                let got = con.key_type::<_, String>(key).await.unwrap();
                assert_eq!(got, ty, "{proto:?}");
            }

            // RENAME / RENAMENX.
            let b = uk("key-b");
            con.rename::<_, _, ()>(&a, &b).await.unwrap();
            let got = con.exists::<_, i64>(&a).await.unwrap();
            assert_eq!(got, 0);
            let got = con.get::<_, String>(&b).await.unwrap();
            assert_eq!(got, "v");
            let e = con.rename::<_, _, ()>(&missing, &a).await.unwrap_err();
            assert_eq!(
                e.server_kind(),
                Some(&ServerErrorKind::Err),
                "{proto:?}: {e}"
            );
            let got = con.renamenx::<_, _, bool>(&b, &l).await.unwrap();
            assert!(!got);
            let got = con.renamenx::<_, _, bool>(&b, &a).await.unwrap();
            assert!(got);
            con.rename::<_, _, ()>(&a, &b).await.unwrap();

            // COPY (same db, REPLACE, other db).
            let d = uk("key-d");
            let got = con.copy::<_, _, bool>(&b, &d).await.unwrap();
            assert!(got);
            let got = con.copy::<_, _, bool>(&b, &d).await.unwrap();
            assert!(!got);
            con.set::<_, _, ()>(&b, "v2").await.unwrap();
            let got = con
                .copy_options::<_, _, bool>(&b, &d, None, true)
                .await
                .unwrap();
            assert!(got);
            let got = con.get::<_, String>(&d).await.unwrap();
            assert_eq!(got, "v2");
            let got = con
                .copy_options::<_, _, bool>(&b, &d, Some(2), false)
                .await
                .unwrap();
            assert!(got);
            con.select::<()>(2).await.unwrap();
            let got = con.get::<_, Option<String>>(&d).await.unwrap();
            assert_eq!(got.as_deref(), Some("v2"));
            con.del::<_, ()>(&d).await.unwrap();
            con.select::<()>(0).await.unwrap();
            let got = con.exists::<_, bool>(&d).await.unwrap();
            assert!(got, "back in db 0");
            // MOVE.
            let got = con.move_key::<_, bool>(&d, 3).await.unwrap();
            assert!(got);
            let got = con.exists::<_, i64>(&d).await.unwrap();
            assert_eq!(got, 0);
            con.select::<()>(3).await.unwrap();
            let got = con.del::<_, i64>(&d).await.unwrap();
            assert_eq!(got, 1);
            con.select::<()>(0).await.unwrap();

            // EXISTS with several keys (duplicates count twice).
            con.set::<_, _, ()>(&d, "v").await.unwrap();
            let got = con.exists::<_, i64>(&[&b, &b, &missing, &d]).await.unwrap();
            assert_eq!(got, 3);

            // DUMP / RESTORE.
            let payload: Vec<u8> = con.dump::<_, Option<Vec<u8>>>(&b).await.unwrap().unwrap();
            assert!(!payload.is_empty());
            let got = con.dump::<_, Option<Vec<u8>>>(&missing).await.unwrap();
            assert_eq!(got, None);
            let f = uk("key-f");
            con.restore::<_, _, ()>(&f, 0, &payload).await.unwrap();
            let got = con.get::<_, String>(&f).await.unwrap();
            assert_eq!(got, "v2");
            let got = con.ttl::<_, i64>(&f).await.unwrap();
            assert_eq!(got, -1);
            let e = con.restore::<_, _, ()>(&f, 0, &payload).await.unwrap_err();
            match &e {
                Error::Server(se) => assert_eq!(se.code(), "BUSYKEY", "{proto:?}: {e}"),
                other => panic!("{proto:?}: expected BUSYKEY, got {other}"),
            }
            con.restore_options::<_, _, ()>(
                &f,
                5000,
                &payload,
                RestoreOptions::new().replace(true),
            )
            .await
            .unwrap();
            let pttl: i64 = con.pttl(&f).await.unwrap();
            assert!(
                pttl > 0 && pttl <= 5000,
                "{proto:?}: RESTORE ttl gave pttl {pttl}"
            );
            // The list survives a round trip too.
            let lp: Vec<u8> = con.dump::<_, Option<Vec<u8>>>(&l).await.unwrap().unwrap();
            let l2 = uk("key-l2");
            con.restore::<_, _, ()>(&l2, 0, &lp).await.unwrap();
            let got = con.lrange::<_, Vec<i64>>(&l2, 0, -1).await.unwrap();
            assert_eq!(got, [3, 1, 2]);

            // OBJECT ENCODING / REFCOUNT / IDLETIME / FREQ.
            let (ni, ne, nr, ns, nh) = (uk("enc"), uk("enc"), uk("enc"), uk("enc"), uk("enc"));
            con.set::<_, _, ()>(&ni, 12345).await.unwrap();
            con.set::<_, _, ()>(&ne, "short").await.unwrap();
            con.set::<_, _, ()>(&nr, "x".repeat(100)).await.unwrap();
            con.sadd::<_, _, ()>(&ns, &[1, 2, 3]).await.unwrap();
            con.hset::<_, _, _, ()>(&nh, "f", "v").await.unwrap();
            for (key, enc) in [
                (&ni, "int"),
                (&ne, "embstr"),
                (&nr, "raw"),
                (&ns, "intset"),
                (&nh, "listpack"),
            ] {
                let got = con.object_encoding::<_, String>(key).await.unwrap();
                assert_eq!(got, enc, "{proto:?}");
            }
            let got = con
                .object_encoding::<_, Option<String>>(&missing)
                .await
                .unwrap();
            assert_eq!(got, None);
            let got = con.object_refcount::<_, i64>(&nr).await.unwrap();
            assert!(got >= 1);
            let got = con.object_idletime::<_, i64>(&nr).await.unwrap();
            assert!(got >= 0);

            // SORT / SORT_RO.
            let got = con.sort::<_, Vec<i64>>(&l).await.unwrap();
            assert_eq!(got, [1, 2, 3]);
            let top2: Vec<i64> = con
                .sort_options(&l, SortOptions::new().order(SortOrder::Desc).limit(0, 2))
                .await
                .unwrap();
            assert_eq!(top2, [3, 2]);
            let words = uk("key-words");
            con.rpush::<_, _, ()>(&words, &["pear", "apple", "fig"])
                .await
                .unwrap();
            let e = con.sort::<_, Vec<String>>(&words).await.unwrap_err();
            assert_eq!(
                e.server_kind(),
                Some(&ServerErrorKind::Err),
                "{proto:?}: numeric sort of words: {e}"
            );
            let sorted: Vec<String> = con
                .sort_options(&words, SortOptions::new().alpha(true))
                .await
                .unwrap();
            assert_eq!(sorted, ["apple", "fig", "pear"]);
            let dst = uk("key-sorted");
            let n: i64 = con
                .sort_options(&l, SortOptions::new().store(dst.as_bytes()))
                .await
                .unwrap();
            assert_eq!(n, 3);
            let got = con.lrange::<_, Vec<String>>(&dst, 0, -1).await.unwrap();
            assert_eq!(got, ["1", "2", "3"]);
            let ro: Vec<i64> = con
                .sort_ro(&l, SortOptions::new().order(SortOrder::Desc))
                .await
                .unwrap();
            assert_eq!(ro, [3, 2, 1]);
            // BY and GET patterns.
            let (w, o) = (uk("key-w"), uk("key-o"));
            con.mset::<_, ()>(&[
                (format!("{w}_1"), "30"),
                (format!("{w}_2"), "10"),
                (format!("{w}_3"), "20"),
                (format!("{o}_1"), "one"),
                (format!("{o}_2"), "two"),
                (format!("{o}_3"), "three"),
            ])
            .await
            .unwrap();
            let by: Vec<i64> = con
                .sort_options(&l, SortOptions::new().by(format!("{w}_*")))
                .await
                .unwrap();
            assert_eq!(by, [2, 3, 1]);
            let got: Vec<(String, String)> = con
                .sort_options(
                    &l,
                    SortOptions::new()
                        .by(format!("{w}_*"))
                        .get("#")
                        .get(format!("{o}_*")),
                )
                .await
                .unwrap();
            assert_eq!(
                got,
                [
                    ("2".into(), "two".into()),
                    ("3".into(), "three".into()),
                    ("1".into(), "one".into())
                ]
            );

            // TOUCH / UNLINK / DEL.
            let got = con.touch::<_, i64>(&[&b, &d, &missing]).await.unwrap();
            assert_eq!(got, 2);
            let got = con.unlink::<_, i64>(&[&d, &missing]).await.unwrap();
            assert_eq!(got, 1);
            let got = con.del::<_, i64>(&[&f, &l2, &missing]).await.unwrap();
            assert_eq!(got, 2);

            // RANDOMKEY in db 0 (has keys) and in an empty private db.
            let rk: Option<String> = con.randomkey().await.unwrap();
            assert!(rk.is_some(), "{proto:?}");
            con.select::<()>(4).await.unwrap();
            con.flushdb::<()>().await.unwrap();
            let got = con.randomkey::<Option<String>>().await.unwrap();
            assert_eq!(got, None);
            con.select::<()>(0).await.unwrap();

            // KEYS and SCAN (typed, following the cursor by hand).
            let p = uk("scan");
            let mut want = HashSet::new();
            for i in 0..25 {
                let key = format!("{p}:{i}");
                con.set::<_, _, ()>(&key, i).await.unwrap();
                want.insert(key);
            }
            let hk = format!("{p}:hash");
            con.hset::<_, _, _, ()>(&hk, "f", 1).await.unwrap();
            let listed: HashSet<String> = con.keys(format!("{p}:*")).await.unwrap();
            assert_eq!(listed.len(), 26);
            let mut seen = HashSet::new();
            let mut cursor = 0u64;
            let mut rounds = 0;
            loop {
                let (next, batch): (u64, Vec<String>) = con
                    .scan_options(
                        cursor,
                        ScanOptions::new()
                            .pattern(format!("{p}:*"))
                            .count(10)
                            .key_type("string"),
                    )
                    .await
                    .unwrap();
                seen.extend(batch);
                rounds += 1;
                if next == 0 {
                    break;
                }
                cursor = next;
                assert!(rounds < 10_000, "SCAN never finished");
            }
            assert_eq!(seen, want, "{proto:?}: SCAN MATCH TYPE string");
            let mut hashes = Vec::new();
            let mut cursor = 0u64;
            loop {
                let (next, batch): (String, Vec<String>) = con
                    .scan_options(
                        cursor,
                        ScanOptions::new()
                            .pattern(format!("{p}:*"))
                            .key_type("hash"),
                    )
                    .await
                    .unwrap();
                hashes.extend(batch);
                cursor = next.parse().unwrap();
                if cursor == 0 {
                    break;
                }
            }
            assert_eq!(hashes, std::slice::from_ref(&hk));
            let (_, first): (u64, Vec<String>) = con.scan(0).await.unwrap();
            assert!(first.len() <= 100);
            // Raw SCAN.
            let raw: (String, Vec<String>) = cmd("SCAN")
                .arg(0)
                .arg("MATCH")
                .arg(&hk)
                .arg("COUNT")
                .arg(1000)
                .query(con)
                .await
                .unwrap();
            assert!(raw.1.is_empty() || raw.1 == [hk.clone()]);
            let n: i64 = cmd("EXISTS")
                .arg(&hk)
                .arg(&missing)
                .query(con)
                .await
                .unwrap();
            assert_eq!(n, 1);
        }

        // ---- lists ---------------------------------------------------------------------

        #[$attr]
        pub async fn lists<C: ConnectionLike, B: ConnectionLike>(
            con: &mut C,
            blk: &mut B,
            proto: Protocol,
        ) {
            let l = uk("list");
            let missing = uk("list-missing");
            let got = con.rpush::<_, _, i64>(&l, &["a", "b", "c"]).await.unwrap();
            assert_eq!(got, 3);
            let got = con.lpush::<_, _, i64>(&l, "z").await.unwrap();
            assert_eq!(got, 4);
            let got = con.lrange::<_, Vec<String>>(&l, 0, -1).await.unwrap();
            assert_eq!(got, ["z", "a", "b", "c"]);
            let t: (String, String) = con.lrange(&l, 0, 1).await.unwrap();
            assert_eq!(t, ("z".to_string(), "a".to_string()));
            let got = con.llen::<_, usize>(&l).await.unwrap();
            assert_eq!(got, 4);
            let got = con.lindex::<_, Option<String>>(&l, 1).await.unwrap();
            assert_eq!(got.as_deref(), Some("a"));
            let got = con.lindex::<_, Option<String>>(&l, -1).await.unwrap();
            assert_eq!(got.as_deref(), Some("c"));
            let got = con.lindex::<_, Option<String>>(&l, 100).await.unwrap();
            assert_eq!(got, None);
            con.lset::<_, _, ()>(&l, 0, "y").await.unwrap();
            let e = con.lset::<_, _, ()>(&l, 99, "y").await.unwrap_err();
            assert_eq!(
                e.server_kind(),
                Some(&ServerErrorKind::Err),
                "{proto:?}: {e}"
            );
            let got = con.lpushx::<_, _, i64>(&missing, "x").await.unwrap();
            assert_eq!(got, 0);
            let got = con.exists::<_, i64>(&missing).await.unwrap();
            assert_eq!(got, 0);
            let got = con.rpushx::<_, _, i64>(&l, "d").await.unwrap();
            assert_eq!(got, 5);
            let got = con.lpop::<_, Option<String>>(&l).await.unwrap();
            assert_eq!(got.as_deref(), Some("y"));
            let got = con.rpop::<_, String>(&l).await.unwrap();
            assert_eq!(got, "d");
            let got = con.lpop_count::<_, Vec<String>>(&l, 2).await.unwrap();
            assert_eq!(got, ["a", "b"]);
            let got = con.rpop_count::<_, Vec<String>>(&l, 5).await.unwrap();
            assert_eq!(got, ["c"]);
            let got = con.lpop::<_, Option<String>>(&l).await.unwrap();
            assert_eq!(got, None);
            let got = con
                .lpop_count::<_, Option<Vec<String>>>(&missing, 2)
                .await
                .unwrap();
            assert_eq!(got, None);
            let got = con.lrange::<_, Vec<String>>(&missing, 0, -1).await.unwrap();
            assert_eq!(got, Vec::<String>::new());

            // LPOS.
            let m = uk("list-pos");
            con.rpush::<_, _, ()>(&m, &["a", "b", "c", "b", "a", "b"])
                .await
                .unwrap();
            let got = con.lpos::<_, _, Option<i64>>(&m, "b").await.unwrap();
            assert_eq!(got, Some(1));
            let got = con.lpos::<_, _, Option<i64>>(&m, "x").await.unwrap();
            assert_eq!(got, None);
            let all: Vec<i64> = con
                .lpos_options(&m, "b", LposOptions::new().count(0))
                .await
                .unwrap();
            assert_eq!(all, [1, 3, 5]);
            let last: Option<usize> = con
                .lpos_options(&m, "b", LposOptions::new().rank(-1))
                .await
                .unwrap();
            assert_eq!(last, Some(5));
            let two: Vec<i64> = con
                .lpos_options(&m, "b", LposOptions::new().rank(2).count(2))
                .await
                .unwrap();
            assert_eq!(two, [3, 5]);
            let bounded: Vec<i64> = con
                .lpos_options(&m, "b", LposOptions::new().count(0).maxlen(3))
                .await
                .unwrap();
            assert_eq!(bounded, [1]);
            let none: Vec<i64> = con
                .lpos_options(&m, "x", LposOptions::new().count(0))
                .await
                .unwrap();
            assert!(none.is_empty());

            // LINSERT / LREM / LTRIM.
            let got = con
                .linsert_before::<_, _, _, i64>(&m, "c", "C")
                .await
                .unwrap();
            assert_eq!(got, 7);
            let got = con
                .linsert_after::<_, _, _, i64>(&m, "c", "D")
                .await
                .unwrap();
            assert_eq!(got, 8);
            let got = con
                .linsert_after::<_, _, _, i64>(&m, "nope", "D")
                .await
                .unwrap();
            assert_eq!(got, -1);
            let got = con
                .linsert_after::<_, _, _, i64>(&missing, "a", "D")
                .await
                .unwrap();
            assert_eq!(got, 0);
            let got = con.lrange::<_, Vec<String>>(&m, 0, -1).await.unwrap();
            assert_eq!(got, ["a", "b", "C", "c", "D", "b", "a", "b"]);
            let got = con.lrem::<_, _, i64>(&m, 0, "b").await.unwrap();
            assert_eq!(got, 3);
            let got = con.lrem::<_, _, i64>(&m, -1, "a").await.unwrap();
            assert_eq!(got, 1);
            let got = con.lrange::<_, Vec<String>>(&m, 0, -1).await.unwrap();
            assert_eq!(got, ["a", "C", "c", "D"]);
            con.ltrim::<_, ()>(&m, 1, 2).await.unwrap();
            let got = con.lrange::<_, Vec<String>>(&m, 0, -1).await.unwrap();
            assert_eq!(got, ["C", "c"]);
            con.ltrim::<_, ()>(&m, 5, 10).await.unwrap();
            let got = con.exists::<_, i64>(&m).await.unwrap();
            assert_eq!(got, 0, "an empty list is removed");

            // LMOVE / RPOPLPUSH / LMPOP.
            let (src, dst) = (uk("list-src"), uk("list-dst"));
            con.rpush::<_, _, ()>(&src, &["1", "2", "3", "4"])
                .await
                .unwrap();
            let got = con
                .lmove::<_, _, Option<String>>(&src, &dst, Direction::Left, Direction::Right)
                .await
                .unwrap();
            assert_eq!(got.as_deref(), Some("1"));
            let got = con
                .lmove::<_, _, String>(&src, &dst, Direction::Right, Direction::Left)
                .await
                .unwrap();
            assert_eq!(got, "4");
            let got = con.rpoplpush::<_, _, String>(&src, &dst).await.unwrap();
            assert_eq!(got, "3");
            let got = con.lrange::<_, Vec<i64>>(&dst, 0, -1).await.unwrap();
            assert_eq!(got, [3, 4, 1]);
            let got = con
                .lmove::<_, _, Option<String>>(&missing, &dst, Direction::Left, Direction::Left)
                .await
                .unwrap();
            assert_eq!(got, None);
            let popped: Option<(String, Vec<String>)> =
                con.lmpop(&[&missing, &src], Direction::Left).await.unwrap();
            assert_eq!(popped, Some((src.clone(), vec!["2".to_string()])));
            let popped: Option<(String, Vec<i64>)> = con
                .lmpop_count(&[&missing, &dst], Direction::Right, 2)
                .await
                .unwrap();
            assert_eq!(popped, Some((dst.clone(), vec![1, 4])));
            let popped: Option<(String, Vec<String>)> =
                con.lmpop(&[&missing, &src], Direction::Left).await.unwrap();
            assert_eq!(popped, None);

            // Blocking commands on the second connection: a short timeout gives nil, data
            // already present comes back at once.
            let (e1, e2, full) = (uk("list-empty"), uk("list-empty"), uk("list-full"));
            let r: Option<(String, String)> = blk.blpop(&[&e1, &e2], 0.1).await.unwrap();
            assert_eq!(r, None, "{proto:?}: BLPOP timeout");
            let r: Value = blk.brpop(&e1, 0.05).await.unwrap();
            assert_eq!(
                r,
                Value::Nil,
                "{proto:?}: BRPOP timeout is nil in both protocols"
            );
            con.rpush::<_, _, ()>(&full, &["x", "y", "z", "w", "v", "u"])
                .await
                .unwrap();
            let r: Option<(String, String)> = blk.blpop(&[&e1, &full], 1.0).await.unwrap();
            assert_eq!(r, Some((full.clone(), "x".to_string())));
            let (key, val): (String, String) = blk.brpop(&[&full, &e1], 1.0).await.unwrap();
            assert_eq!((key.as_str(), val.as_str()), (full.as_str(), "u"));
            let r: Option<String> = blk
                .blmove(&e1, &e2, Direction::Left, Direction::Left, 0.1)
                .await
                .unwrap();
            assert_eq!(r, None);
            let r: Option<String> = blk
                .blmove(&full, &e2, Direction::Left, Direction::Right, 1.0)
                .await
                .unwrap();
            assert_eq!(r.as_deref(), Some("y"));
            let got = con.lrange::<_, Vec<String>>(&e2, 0, -1).await.unwrap();
            assert_eq!(got, ["y"]);
            let r: Option<(String, Vec<String>)> = blk
                .blmpop(&[&e1, &missing], Direction::Left, 0.1)
                .await
                .unwrap();
            assert_eq!(r, None);
            let r: Option<(String, Vec<String>)> = blk
                .blmpop(&[&e1, &full], Direction::Right, 1.0)
                .await
                .unwrap();
            assert_eq!(r, Some((full.clone(), vec!["v".to_string()])));
            let r: (String, Vec<String>) = blk
                .blmpop_count(&[&full], Direction::Left, 5, 1.0)
                .await
                .unwrap();
            assert_eq!(r, (full.clone(), vec!["z".to_string(), "w".to_string()]));
            let r: Option<String> = blk.brpoplpush(&full, &e2, 0.1).await.unwrap();
            assert_eq!(r, None);
            // Blocking longer than `blk`'s response timeout (500 ms, set by the test): the
            // command's own timeout extends the wait instead of breaking the connection.
            let r: Option<(String, String)> = blk.blpop(&e1, 1.0).await.unwrap();
            assert_eq!(
                r, None,
                "{proto:?}: BLPOP 1 s on a connection with a 500 ms response timeout"
            );
            let raw: Value = cmd("BLPOP").arg(&e1).arg(0.05).query(blk).await.unwrap();
            assert_eq!(raw, Value::Nil);
            // The blocking connection is still in step afterwards.
            let got = blk.ping::<String>().await.unwrap();
            assert_eq!(got, "PONG");

            // Raw command into a list type.
            let n: i64 = cmd("RPUSH")
                .arg(&l)
                .arg(&["p", "q"])
                .query(con)
                .await
                .unwrap();
            assert_eq!(n, 2);
            let v: Vec<String> = cmd("LRANGE")
                .arg(&l)
                .arg(0)
                .arg(-1)
                .query(con)
                .await
                .unwrap();
            assert_eq!(v, ["p", "q"]);
            con.lpush::<_, _, ()>(&full, "x").await.unwrap();
            con.set::<_, _, ()>(&full, "s").await.unwrap();
            let e = con.lpush::<_, _, ()>(&full, "x").await.unwrap_err();
            assert_eq!(
                e.server_kind(),
                Some(&ServerErrorKind::WrongType),
                "{proto:?}: {e}"
            );
        }

        // ---- sets ----------------------------------------------------------------------

        #[$attr]
        pub async fn sets<C: ConnectionLike, B: ConnectionLike>(
            con: &mut C,
            _blk: &mut B,
            proto: Protocol,
        ) {
            let (s1, s2, s3) = (uk("set"), uk("set"), uk("set"));
            let missing = uk("set-missing");
            let got = con
                .sadd::<_, _, i64>(&s1, &["a", "b", "c", "d"])
                .await
                .unwrap();
            assert_eq!(got, 4);
            let got = con.sadd::<_, _, i64>(&s1, "a").await.unwrap();
            assert_eq!(got, 0);
            con.sadd::<_, _, ()>(&s2, &["c", "d", "e"]).await.unwrap();
            con.sadd::<_, _, ()>(&s3, &["d", "x"]).await.unwrap();

            let hs: HashSet<String> = con.smembers(&s1).await.unwrap();
            assert_eq!(
                hs,
                ["a", "b", "c", "d"].iter().map(|s| s.to_string()).collect()
            );
            let bs: BTreeSet<String> = con.smembers(&s1).await.unwrap();
            assert_eq!(bs.into_iter().collect::<Vec<_>>(), ["a", "b", "c", "d"]);
            let mut v: Vec<String> = con.smembers(&s1).await.unwrap();
            v.sort();
            assert_eq!(v, ["a", "b", "c", "d"]);
            let raw: Value = cmd("SMEMBERS").arg(&s1).query(con).await.unwrap();
            match proto {
                Protocol::Resp3 => {
                    assert!(matches!(raw, Value::Set(ref m) if m.len() == 4), "{raw:?}")
                }
                Protocol::Resp2 => assert!(
                    matches!(raw, Value::Array(ref m) if m.len() == 4),
                    "{raw:?}"
                ),
            }
            let got = con.smembers::<_, HashSet<String>>(&missing).await.unwrap();
            assert!(got.is_empty());

            let got = con.sismember::<_, _, bool>(&s1, "a").await.unwrap();
            assert!(got);
            let got = con.sismember::<_, _, bool>(&s1, "z").await.unwrap();
            assert!(!got);
            let got = con
                .smismember::<_, _, Vec<bool>>(&s1, &["a", "z", "c"])
                .await
                .unwrap();
            assert_eq!(got, [true, false, true]);
            let got = con
                .smismember::<_, _, Vec<i64>>(&s1, &["a", "z"])
                .await
                .unwrap();
            assert_eq!(got, [1, 0]);
            let got = con.scard::<_, u64>(&s1).await.unwrap();
            assert_eq!(got, 4);

            let inter: BTreeSet<String> = con.sinter(&[&s1, &s2]).await.unwrap();
            assert_eq!(inter.into_iter().collect::<Vec<_>>(), ["c", "d"]);
            let inter3: Vec<String> = con.sinter(&[&s1, &s2, &s3]).await.unwrap();
            assert_eq!(inter3, ["d"]);
            let union: BTreeSet<String> = con.sunion(&[&s1, &s2]).await.unwrap();
            assert_eq!(
                union.into_iter().collect::<Vec<_>>(),
                ["a", "b", "c", "d", "e"]
            );
            let diff: BTreeSet<String> = con.sdiff(&[&s1, &s2]).await.unwrap();
            assert_eq!(diff.into_iter().collect::<Vec<_>>(), ["a", "b"]);
            let got = con
                .sinter::<_, HashSet<String>>(&[&s1, &missing])
                .await
                .unwrap();
            assert!(got.is_empty());

            let d = uk("set-dst");
            let got = con.sinterstore::<_, _, i64>(&d, &[&s1, &s2]).await.unwrap();
            assert_eq!(got, 2);
            let got = con.smembers::<_, BTreeSet<String>>(&d).await.unwrap();
            assert_eq!(got.into_iter().collect::<Vec<_>>(), ["c", "d"]);
            let got = con
                .sunionstore::<_, _, i64>(&d, &[&s1, &s2, &s3])
                .await
                .unwrap();
            assert_eq!(got, 6);
            let got = con.sdiffstore::<_, _, i64>(&d, &[&s1, &s2]).await.unwrap();
            assert_eq!(got, 2);
            let got = con.smembers::<_, BTreeSet<String>>(&d).await.unwrap();
            assert_eq!(got.into_iter().collect::<Vec<_>>(), ["a", "b"]);
            let got = con.sintercard::<_, i64>(&[&s1, &s2]).await.unwrap();
            assert_eq!(got, 2);
            let got = con
                .sintercard_limit::<_, i64>(&[&s1, &s2], 1)
                .await
                .unwrap();
            assert_eq!(got, 1);
            let got = con
                .sintercard_limit::<_, i64>(&[&s1, &s2], 0)
                .await
                .unwrap();
            assert_eq!(got, 2);

            // SPOP / SRANDMEMBER with counts.
            let p = uk("set-pop");
            let all: HashSet<String> = (0..5).map(|i| format!("m{i}")).collect();
            con.sadd::<_, _, ()>(&p, &all).await.unwrap();
            let popped: HashSet<String> = con.spop_count(&p, 2).await.unwrap();
            assert_eq!(popped.len(), 2);
            assert!(popped.is_subset(&all));
            let got = con.scard::<_, i64>(&p).await.unwrap();
            assert_eq!(got, 3);
            let one: Option<String> = con.spop(&p).await.unwrap();
            assert!(all.contains(&one.unwrap()));
            let rest: Vec<String> = con.spop_count(&p, 10).await.unwrap();
            assert_eq!(rest.len(), 2);
            let got = con.exists::<_, i64>(&p).await.unwrap();
            assert_eq!(got, 0);
            let got = con.spop::<_, Option<String>>(&p).await.unwrap();
            assert_eq!(got, None);
            let got = con.spop_count::<_, Vec<String>>(&missing, 3).await.unwrap();
            assert!(got.is_empty());
            let r: Vec<String> = con.srandmember_count(&s1, 3).await.unwrap();
            assert_eq!(r.len(), 3);
            assert_eq!(
                r.iter().collect::<HashSet<_>>().len(),
                3,
                "positive count: distinct"
            );
            let r: Vec<String> = con.srandmember_count(&s1, -10).await.unwrap();
            assert_eq!(r.len(), 10, "negative count: repeats allowed");
            assert!(r.iter().all(|m| ["a", "b", "c", "d"].contains(&m.as_str())));
            let r: Vec<String> = con.srandmember_count(&s1, 10).await.unwrap();
            assert_eq!(r.len(), 4);
            let r: Option<String> = con.srandmember(&s1).await.unwrap();
            assert!(["a", "b", "c", "d"].contains(&r.unwrap().as_str()));
            let got = con
                .srandmember::<_, Option<String>>(&missing)
                .await
                .unwrap();
            assert_eq!(got, None);

            // SMOVE / SREM.
            let got = con.smove::<_, _, _, bool>(&s1, &s3, "a").await.unwrap();
            assert!(got);
            let got = con.smove::<_, _, _, bool>(&s1, &s3, "a").await.unwrap();
            assert!(!got);
            let got = con.sismember::<_, _, bool>(&s3, "a").await.unwrap();
            assert!(got);
            let got = con.srem::<_, _, i64>(&s1, &["b", "zz"]).await.unwrap();
            assert_eq!(got, 1);
            let got = con.smembers::<_, BTreeSet<String>>(&s1).await.unwrap();
            assert_eq!(got.into_iter().collect::<Vec<_>>(), ["c", "d"]);

            // SSCAN, typed, following the cursor.
            let big = uk("set-big");
            let members: Vec<i64> = (0..300).collect();
            con.sadd::<_, _, ()>(&big, &members).await.unwrap();
            let mut seen = HashSet::new();
            let mut cursor = 0u64;
            loop {
                let (next, batch): (u64, Vec<i64>) = con
                    .sscan_options(&big, cursor, ScanOptions::new().count(50))
                    .await
                    .unwrap();
                seen.extend(batch);
                if next == 0 {
                    break;
                }
                cursor = next;
            }
            assert_eq!(seen.len(), 300);
            let (_, small): (u64, Vec<String>) = con.sscan(&s1, 0).await.unwrap();
            assert_eq!(small.len(), 2);

            // Raw.
            let n: i64 = cmd("SADD").arg(&missing).arg("q").query(con).await.unwrap();
            assert_eq!(n, 1);
            con.set::<_, _, ()>(&missing, "s").await.unwrap();
            let e = con.sadd::<_, _, ()>(&missing, "x").await.unwrap_err();
            assert_eq!(
                e.server_kind(),
                Some(&ServerErrorKind::WrongType),
                "{proto:?}: {e}"
            );
        }

        // ---- sorted sets ---------------------------------------------------------------

        #[$attr]
        pub async fn sorted_sets<C: ConnectionLike, B: ConnectionLike>(
            con: &mut C,
            blk: &mut B,
            proto: Protocol,
        ) {
            let z = uk("zset");
            let missing = uk("zset-missing");
            let got = con.zadd::<_, _, _, i64>(&z, 1, "a").await.unwrap();
            assert_eq!(got, 1);
            let got = con
                .zadd_multiple::<_, _, i64>(&z, &[(2, "b"), (3, "c"), (4, "d")])
                .await
                .unwrap();
            assert_eq!(got, 3);

            // ZADD options.
            let n: i64 = con
                .zadd_options(
                    &z,
                    &[(10, "a")],
                    ZAddOptions::new().existence(Existence::Nx),
                )
                .await
                .unwrap();
            assert_eq!(n, 0);
            let got = con.zscore::<_, _, f64>(&z, "a").await.unwrap();
            assert_eq!(got, 1.0, "NX does not update");
            let n: i64 = con
                .zadd_options(
                    &z,
                    &[(10, "new")],
                    ZAddOptions::new().existence(Existence::Xx),
                )
                .await
                .unwrap();
            assert_eq!(n, 0);
            let got = con.zscore::<_, _, Option<f64>>(&z, "new").await.unwrap();
            assert_eq!(got, None, "XX does not add");
            let n: i64 = con
                .zadd_options(
                    &z,
                    &[(0.5, "a")],
                    ZAddOptions::new().comparison(Comparison::Gt).ch(true),
                )
                .await
                .unwrap();
            assert_eq!(n, 0, "GT with a lower score changes nothing");
            let n: i64 = con
                .zadd_options(
                    &z,
                    &[(5.0, "a")],
                    ZAddOptions::new().comparison(Comparison::Gt).ch(true),
                )
                .await
                .unwrap();
            assert_eq!(n, 1, "GT CH counts the update");
            let n: i64 = con
                .zadd_options(
                    &z,
                    &[(1.0, "a"), (9.0, "b")],
                    ZAddOptions::new().comparison(Comparison::Lt).ch(true),
                )
                .await
                .unwrap();
            assert_eq!(n, 1, "LT: only a moves down");
            let s: Option<f64> = con
                .zadd_options(&z, &[(2.5, "a")], ZAddOptions::new().incr(true))
                .await
                .unwrap();
            assert_eq!(s, Some(3.5));
            let s: Option<f64> = con
                .zadd_options(
                    &z,
                    &[(1, "a")],
                    ZAddOptions::new().incr(true).existence(Existence::Nx),
                )
                .await
                .unwrap();
            assert_eq!(s, None, "{proto:?}: INCR NX on an existing member is nil");
            let got = con.zincrby::<_, _, f64>(&z, -2.5, "a").await.unwrap();
            assert_eq!(got, 1.0);

            // ZRANGE by rank / score / lex, LIMIT, REV, WITHSCORES.
            let got = con.zrange::<_, Vec<String>>(&z, 0, -1).await.unwrap();
            assert_eq!(got, ["a", "b", "c", "d"]);
            let ws: Vec<(String, f64)> = con.zrange_withscores(&z, 0, 1).await.unwrap();
            assert_eq!(ws, [("a".to_string(), 1.0), ("b".to_string(), 2.0)]);
            let ws: HashMap<String, f64> = con.zrange_withscores(&z, 0, -1).await.unwrap();
            assert_eq!(ws.len(), 4);
            assert_eq!(ws["d"], 4.0);
            let ws: Vec<(String, i64)> = con.zrange_withscores(&z, -1, -1).await.unwrap();
            assert_eq!(ws, [("d".to_string(), 4)]);
            let raw: Value = cmd("ZRANGE")
                .arg(&z)
                .arg(0)
                .arg(-1)
                .arg("WITHSCORES")
                .query(con)
                .await
                .unwrap();
            match (proto, &raw) {
                (Protocol::Resp3, Value::Array(items)) => {
                    assert_eq!(items.len(), 4);
                    let pair = matches!(&items[0], Value::Array(p) if p.len() == 2);
                    assert!(pair, "{raw:?}");
                    let first: Vec<Value> = FromValue::from_value(items[0].clone()).unwrap();
                    assert!(matches!(first[1], Value::Double(_)), "{raw:?}");
                }
                (Protocol::Resp2, Value::Array(items)) => {
                    assert_eq!(items.len(), 8);
                    assert!(matches!(items[1], Value::BulkString(_)), "{raw:?}");
                }
                _ => panic!("{proto:?}: unexpected ZRANGE WITHSCORES shape {raw:?}"),
            }
            let same: Vec<(String, f64)> = FromValue::from_value(raw).unwrap();
            assert_eq!(same.len(), 4);
            assert_eq!(same[3], ("d".to_string(), 4.0));
            let got = con
                .zrange_byscore::<_, _, _, Vec<String>>(&z, "(1", 3)
                .await
                .unwrap();
            assert_eq!(got, ["b", "c"]);
            let got = con
                .zrange_byscore::<_, _, _, Vec<String>>(&z, "-inf", "+inf")
                .await
                .unwrap();
            assert_eq!(got.len(), 4);
            let rev: Vec<String> = con
                .zrange_options(
                    &z,
                    "+inf",
                    "-inf",
                    ZRangeOptions::new().by_score().rev(true).limit(1, 2),
                )
                .await
                .unwrap();
            assert_eq!(rev, ["c", "b"]);
            let rev: Vec<(String, f64)> = con
                .zrange_options(&z, 0, 1, ZRangeOptions::new().rev(true).withscores(true))
                .await
                .unwrap();
            assert_eq!(rev, [("d".to_string(), 4.0), ("c".to_string(), 3.0)]);
            let lex = uk("zset-lex");
            con.zadd_multiple::<_, _, ()>(
                &lex,
                &[(0, "a"), (0, "b"), (0, "c"), (0, "d"), (0, "e")],
            )
            .await
            .unwrap();
            let got = con
                .zrange_bylex::<_, _, _, Vec<String>>(&lex, "[b", "(d")
                .await
                .unwrap();
            assert_eq!(got, ["b", "c"]);
            let lexrev: Vec<String> = con
                .zrange_options(
                    &lex,
                    "[e",
                    "-",
                    ZRangeOptions::new().by_lex().rev(true).limit(0, 2),
                )
                .await
                .unwrap();
            assert_eq!(lexrev, ["e", "d"]);
            let got = con
                .zrangebylex::<_, _, _, Vec<String>>(&lex, "-", "[b")
                .await
                .unwrap();
            assert_eq!(got, ["a", "b"]);
            let got = con
                .zrangebylex_limit::<_, _, _, Vec<String>>(&lex, "-", "+", 1, 1)
                .await
                .unwrap();
            assert_eq!(got, ["b"]);
            let got = con
                .zrevrangebylex::<_, _, _, Vec<String>>(&lex, "+", "[d")
                .await
                .unwrap();
            assert_eq!(got, ["e", "d"]);
            let got = con.zlexcount::<_, _, _, i64>(&lex, "-", "+").await.unwrap();
            assert_eq!(got, 5);
            let got = con.zrevrange::<_, Vec<String>>(&z, 0, 0).await.unwrap();
            assert_eq!(got, ["d"]);
            let rws: Vec<(String, f64)> = con.zrevrange_withscores(&z, 0, 0).await.unwrap();
            assert_eq!(rws, [("d".to_string(), 4.0)]);
            let got = con
                .zrangebyscore::<_, _, _, Vec<String>>(&z, 2, 3)
                .await
                .unwrap();
            assert_eq!(got, ["b", "c"]);
            let bs: Vec<(String, f64)> = con.zrangebyscore_withscores(&z, 2, "(3").await.unwrap();
            assert_eq!(bs, [("b".to_string(), 2.0)]);
            let bl: Vec<(String, f64)> = con
                .zrangebyscore_limit_withscores(&z, "-inf", "+inf", 1, 2)
                .await
                .unwrap();
            assert_eq!(bl, [("b".to_string(), 2.0), ("c".to_string(), 3.0)]);
            let got = con
                .zrevrangebyscore::<_, _, _, Vec<String>>(&z, 3, 2)
                .await
                .unwrap();
            assert_eq!(got, ["c", "b"]);
            let got = con
                .zrevrangebyscore_limit::<_, _, _, Vec<String>>(&z, "+inf", "-inf", 0, 1)
                .await
                .unwrap();
            assert_eq!(got, ["d"]);

            // ZRANGESTORE.
            let d = uk("zset-dst");
            let got = con
                .zrangestore::<_, _, _, _, i64>(&d, &z, 1, 2, ZRangeOptions::new())
                .await
                .unwrap();
            assert_eq!(got, 2);
            let got = con.zrange::<_, Vec<String>>(&d, 0, -1).await.unwrap();
            assert_eq!(got, ["b", "c"]);
            let n: i64 = con
                .zrangestore(
                    &d,
                    &z,
                    "(1",
                    "+inf",
                    ZRangeOptions::new().by_score().limit(0, 1),
                )
                .await
                .unwrap();
            assert_eq!(n, 1);
            let got = con
                .zrange_withscores::<_, Vec<(String, f64)>>(&d, 0, -1)
                .await
                .unwrap();
            assert_eq!(got, [("b".to_string(), 2.0)]);

            // ZCARD / ZCOUNT / ZRANK / ZREVRANK / ZSCORE / ZMSCORE.
            let got = con.zcard::<_, i64>(&z).await.unwrap();
            assert_eq!(got, 4);
            let got = con.zcard::<_, i64>(&missing).await.unwrap();
            assert_eq!(got, 0);
            let got = con.zcount::<_, _, _, i64>(&z, 2, "+inf").await.unwrap();
            assert_eq!(got, 3);
            let got = con.zrank::<_, _, Option<i64>>(&z, "c").await.unwrap();
            assert_eq!(got, Some(2));
            let got = con.zrank::<_, _, Option<i64>>(&z, "zz").await.unwrap();
            assert_eq!(got, None);
            let got = con.zrevrank::<_, _, usize>(&z, "c").await.unwrap();
            assert_eq!(got, 1);
            let got = con.zscore::<_, _, Option<f64>>(&z, "c").await.unwrap();
            assert_eq!(got, Some(3.0));
            let got = con.zscore::<_, _, String>(&z, "c").await.unwrap();
            assert_eq!(got, "3");
            let ms: Vec<Option<f64>> = con.zmscore(&z, &["a", "zz", "d"]).await.unwrap();
            assert_eq!(ms, [Some(1.0), None, Some(4.0)]);

            // ZPOPMIN / ZPOPMAX / BZPOPMIN / BZPOPMAX / ZMPOP / BZMPOP.
            let p = uk("zset-pop");
            con.zadd_multiple::<_, _, ()>(
                &p,
                &[(1, "a"), (2, "b"), (3, "c"), (4, "d"), (5, "e"), (6, "f")],
            )
            .await
            .unwrap();
            let one: Vec<(String, f64)> = con.zpopmin(&p).await.unwrap();
            assert_eq!(one, [("a".to_string(), 1.0)]);
            let one: (String, f64) = con.zpopmax(&p).await.unwrap();
            assert_eq!(one, ("f".to_string(), 6.0));
            let two: Vec<(String, f64)> = con.zpopmax_count(&p, 2).await.unwrap();
            assert_eq!(two, [("e".to_string(), 5.0), ("d".to_string(), 4.0)]);
            let none: Vec<(String, f64)> = con.zpopmin_count(&missing, 2).await.unwrap();
            assert!(none.is_empty());
            let r: Option<(String, String, f64)> =
                blk.bzpopmin(&[&missing, &p], 1.0).await.unwrap();
            assert_eq!(r, Some((p.clone(), "b".to_string(), 2.0)));
            let r: Option<(String, String, f64)> = blk.bzpopmin(&missing, 0.1).await.unwrap();
            assert_eq!(r, None, "{proto:?}: BZPOPMIN timeout");
            let r: (String, String, f64) = blk.bzpopmax(&p, 1.0).await.unwrap();
            assert_eq!(r, (p.clone(), "c".to_string(), 3.0));
            let mp = uk("zset-mpop");
            con.zadd_multiple::<_, _, ()>(&mp, &[(1, "a"), (2, "b"), (3, "c")])
                .await
                .unwrap();
            let r: Option<(String, Vec<(String, f64)>)> =
                con.zmpop(&[&missing, &mp], MinMax::Min).await.unwrap();
            assert_eq!(r, Some((mp.clone(), vec![("a".to_string(), 1.0)])));
            let r: (String, Vec<(String, f64)>) =
                con.zmpop_count(&[&mp], MinMax::Max, 5).await.unwrap();
            assert_eq!(
                r,
                (
                    mp.clone(),
                    vec![("c".to_string(), 3.0), ("b".to_string(), 2.0)]
                )
            );
            let r: Option<(String, Vec<(String, f64)>)> =
                con.zmpop(&[&missing, &mp], MinMax::Min).await.unwrap();
            assert_eq!(r, None);
            let r: Option<(String, Vec<(String, f64)>)> =
                blk.bzmpop(&[&missing], MinMax::Min, 0.1).await.unwrap();
            assert_eq!(r, None);
            con.zadd::<_, _, _, ()>(&mp, 7, "g").await.unwrap();
            let r: Option<(String, Vec<(String, f64)>)> = blk
                .bzmpop_count(&[&missing, &mp], MinMax::Max, 3, 1.0)
                .await
                .unwrap();
            assert_eq!(r, Some((mp.clone(), vec![("g".to_string(), 7.0)])));

            // ZRANDMEMBER.
            let r: Option<String> = con.zrandmember(&z).await.unwrap();
            assert!(["a", "b", "c", "d"].contains(&r.unwrap().as_str()));
            let got = con
                .zrandmember::<_, Option<String>>(&missing)
                .await
                .unwrap();
            assert_eq!(got, None);
            let r: Vec<String> = con.zrandmember_count(&z, 2).await.unwrap();
            assert_eq!(r.iter().collect::<HashSet<_>>().len(), 2);
            let r: Vec<String> = con.zrandmember_count(&z, -7).await.unwrap();
            assert_eq!(r.len(), 7);
            let r: Vec<(String, f64)> = con.zrandmember_withscores(&z, 3).await.unwrap();
            assert_eq!(r.len(), 3);
            for (m, s) in &r {
                let got = con.zscore::<_, _, f64>(&z, m).await.unwrap();
                assert_eq!(got, *s, "{proto:?}");
            }
            let r: HashMap<String, f64> = con.zrandmember_withscores(&z, 10).await.unwrap();
            assert_eq!(r.len(), 4);

            // ZREMRANGEBY* / ZREM.
            let rr = uk("zset-rem");
            con.zadd_multiple::<_, _, ()>(
                &rr,
                &[(1, "a"), (2, "b"), (3, "c"), (4, "d"), (5, "e"), (6, "f")],
            )
            .await
            .unwrap();
            let got = con.zremrangebyrank::<_, i64>(&rr, 0, 1).await.unwrap();
            assert_eq!(got, 2);
            let got = con
                .zremrangebyscore::<_, _, _, i64>(&rr, "(4", "+inf")
                .await
                .unwrap();
            assert_eq!(got, 2);
            let got = con.zrange::<_, Vec<String>>(&rr, 0, -1).await.unwrap();
            assert_eq!(got, ["c", "d"]);
            let got = con
                .zremrangebylex::<_, _, _, i64>(&lex, "[a", "[b")
                .await
                .unwrap();
            assert_eq!(got, 2);
            let got = con.zrange::<_, Vec<String>>(&lex, 0, -1).await.unwrap();
            assert_eq!(got, ["c", "d", "e"]);
            let got = con.zrem::<_, _, i64>(&rr, &["c", "zz"]).await.unwrap();
            assert_eq!(got, 1);

            // ZUNION / ZINTER / ZDIFF (+STORE, WEIGHTS, AGGREGATE), ZINTERCARD.
            let (za, zb) = (uk("zset-a"), uk("zset-b"));
            con.zadd_multiple::<_, _, ()>(&za, &[(1, "a"), (2, "b"), (3, "c")])
                .await
                .unwrap();
            con.zadd_multiple::<_, _, ()>(&zb, &[(10, "b"), (20, "c"), (30, "d")])
                .await
                .unwrap();
            let keys = [&za, &zb];
            let got = con.zunion::<_, Vec<String>>(&keys).await.unwrap();
            assert_eq!(got, ["a", "b", "c", "d"]);
            let u: Vec<(String, f64)> = con.zunion_withscores(&keys).await.unwrap();
            assert_eq!(
                u,
                [
                    ("a".into(), 1.0),
                    ("b".into(), 12.0),
                    ("c".into(), 23.0),
                    ("d".into(), 30.0)
                ]
            );
            let u: Vec<(String, f64)> = con
                .zunion_options(
                    &keys,
                    ZAggregateOptions::new()
                        .weights(vec![2.0, 1.0])
                        .aggregate(Aggregate::Max)
                        .withscores(true),
                )
                .await
                .unwrap();
            assert_eq!(
                u,
                [
                    ("a".into(), 2.0),
                    ("b".into(), 10.0),
                    ("c".into(), 20.0),
                    ("d".into(), 30.0)
                ]
            );
            let dst = uk("zset-store");
            let got = con.zunionstore::<_, _, i64>(&dst, &keys).await.unwrap();
            assert_eq!(got, 4);
            let got = con
                .zunionstore_options::<_, _, i64>(
                    &dst,
                    &keys,
                    ZAggregateOptions::new().aggregate(Aggregate::Min),
                )
                .await
                .unwrap();
            assert_eq!(got, 4);
            let stored: BTreeMap<String, f64> = con.zrange_withscores(&dst, 0, -1).await.unwrap();
            assert_eq!(
                stored.into_iter().collect::<Vec<_>>(),
                [
                    ("a".into(), 1.0),
                    ("b".into(), 2.0),
                    ("c".into(), 3.0),
                    ("d".into(), 30.0)
                ]
            );
            let got = con.zinter::<_, Vec<String>>(&keys).await.unwrap();
            assert_eq!(got, ["b", "c"]);
            let i: Vec<(String, f64)> = con.zinter_withscores(&keys).await.unwrap();
            assert_eq!(i, [("b".into(), 12.0), ("c".into(), 23.0)]);
            let i: Vec<(String, f64)> = con
                .zinter_options(
                    &keys,
                    ZAggregateOptions::new()
                        .weights(vec![1.0, 0.0])
                        .aggregate(Aggregate::Sum)
                        .withscores(true),
                )
                .await
                .unwrap();
            assert_eq!(i, [("b".into(), 2.0), ("c".into(), 3.0)]);
            let got = con.zinterstore::<_, _, i64>(&dst, &keys).await.unwrap();
            assert_eq!(got, 2);
            let got = con
                .zinterstore_options::<_, _, i64>(
                    &dst,
                    &keys,
                    ZAggregateOptions::new()
                        .weights(vec![3.0, 1.0])
                        .aggregate(Aggregate::Max),
                )
                .await
                .unwrap();
            assert_eq!(got, 2);
            let got = con.zscore::<_, _, f64>(&dst, "c").await.unwrap();
            assert_eq!(got, 20.0);
            let got = con.zintercard::<_, i64>(&keys).await.unwrap();
            assert_eq!(got, 2);
            let got = con.zintercard_limit::<_, i64>(&keys, 1).await.unwrap();
            assert_eq!(got, 1);
            let got = con.zdiff::<_, Vec<String>>(&keys).await.unwrap();
            assert_eq!(got, ["a"]);
            let df: Vec<(String, f64)> = con.zdiff_withscores(&keys).await.unwrap();
            assert_eq!(df, [("a".into(), 1.0)]);
            let got = con
                .zdiffstore::<_, _, i64>(&dst, &[&zb, &za])
                .await
                .unwrap();
            assert_eq!(got, 1);
            let got = con.zrange::<_, Vec<String>>(&dst, 0, -1).await.unwrap();
            assert_eq!(got, ["d"]);

            // ZSCAN.
            let (_, items): (u64, Vec<(String, f64)>) = con.zscan(&za, 0).await.unwrap();
            assert_eq!(items.len(), 3);
            assert!(items.contains(&("b".to_string(), 2.0)));
            let (_, items): (String, HashMap<String, f64>) = con
                .zscan_options(&za, 0, ScanOptions::new().pattern("a"))
                .await
                .unwrap();
            assert_eq!(items.get("a"), Some(&1.0));
            assert_eq!(items.len(), 1);

            // Infinite scores.
            con.zadd::<_, _, _, ()>(&za, "+inf", "top").await.unwrap();
            let got = con.zscore::<_, _, f64>(&za, "top").await.unwrap();
            assert_eq!(got, f64::INFINITY);
            con.zadd::<_, _, _, ()>(&za, f64::NEG_INFINITY, "bottom")
                .await
                .unwrap();
            let ends: Vec<(String, f64)> = con.zrange_withscores(&za, 0, 0).await.unwrap();
            assert_eq!(ends, [("bottom".to_string(), f64::NEG_INFINITY)]);
        }

        // ---- hashes --------------------------------------------------------------------

        #[$attr]
        pub async fn hashes<C: ConnectionLike, B: ConnectionLike>(
            con: &mut C,
            _blk: &mut B,
            proto: Protocol,
        ) {
            let h = uk("hash");
            let missing = uk("hash-missing");
            let got = con.hset::<_, _, _, i64>(&h, "f1", "v1").await.unwrap();
            assert_eq!(got, 1);
            let got = con.hset::<_, _, _, i64>(&h, "f1", "v1b").await.unwrap();
            assert_eq!(got, 0);
            let got = con
                .hset_multiple::<_, _, i64>(&h, &[("f2", "v2"), ("f3", "3")])
                .await
                .unwrap();
            assert_eq!(got, 2);
            con.hmset::<_, _, ()>(&h, &[("f4", "4")]).await.unwrap();
            let more: HashMap<&str, i64> = [("n1", 1), ("n2", 2)].into_iter().collect();
            let got = con.hset_multiple::<_, _, i64>(&h, &more).await.unwrap();
            assert_eq!(got, 2);
            let got = con.hget::<_, _, Option<String>>(&h, "f1").await.unwrap();
            assert_eq!(got.as_deref(), Some("v1b"));
            let got = con.hget::<_, _, i64>(&h, "f3").await.unwrap();
            assert_eq!(got, 3);
            let got = con.hget::<_, _, Option<String>>(&h, "nope").await.unwrap();
            assert_eq!(got, None);
            let got = con
                .hget::<_, _, Option<String>>(&missing, "f1")
                .await
                .unwrap();
            assert_eq!(got, None);

            // HGETALL into maps and pairs; the raw shape differs by protocol.
            let all: HashMap<String, String> = con.hgetall(&h).await.unwrap();
            assert_eq!(all.len(), 6);
            assert_eq!(all["f2"], "v2");
            let sorted: BTreeMap<String, String> = con.hgetall(&h).await.unwrap();
            assert_eq!(
                sorted.keys().map(String::as_str).collect::<Vec<_>>(),
                ["f1", "f2", "f3", "f4", "n1", "n2"]
            );
            let pairs: Vec<(String, String)> = con.hgetall(&h).await.unwrap();
            assert_eq!(pairs.len(), 6);
            assert!(pairs.contains(&("f4".to_string(), "4".to_string())));
            let raw: Value = cmd("HGETALL").arg(&h).query(con).await.unwrap();
            assert_map_shape(&raw, proto, "HGETALL");
            let from_raw: HashMap<String, String> = FromValue::from_value(raw).unwrap();
            assert_eq!(from_raw, all);
            let got = con
                .hgetall::<_, HashMap<String, String>>(&missing)
                .await
                .unwrap();
            assert!(got.is_empty());

            // HMGET with missing fields.
            let got: Vec<Option<String>> = con.hmget(&h, &["f1", "nope", "f3"]).await.unwrap();
            assert_eq!(got, [Some("v1b".to_string()), None, Some("3".to_string())]);
            let (a, b, c): (Option<String>, Option<String>, Option<i64>) =
                con.hmget(&h, &["f2", "nope", "n2"]).await.unwrap();
            assert_eq!((a.as_deref(), b, c), (Some("v2"), None, Some(2)));
            let got: Vec<Option<String>> = con.hmget(&missing, &["a", "b"]).await.unwrap();
            assert_eq!(got, [None, None]);

            // HINCRBY / HINCRBYFLOAT.
            let got = con.hincrby::<_, _, i64>(&h, "f3", 5).await.unwrap();
            assert_eq!(got, 8);
            let got = con.hincrby::<_, _, i64>(&h, "fresh", -2).await.unwrap();
            assert_eq!(got, -2);
            let f: f64 = con.hincrbyfloat(&h, "f3", 0.5).await.unwrap();
            assert_eq!(f, 8.5);
            let got = con.hget::<_, _, String>(&h, "f3").await.unwrap();
            assert_eq!(got, "8.5");
            let e = con.hincrby::<_, _, i64>(&h, "f1", 1).await.unwrap_err();
            assert_eq!(
                e.server_kind(),
                Some(&ServerErrorKind::Err),
                "{proto:?}: {e}"
            );

            // HSETNX / HSTRLEN / HEXISTS / HDEL / HKEYS / HVALS / HLEN.
            let got = con.hsetnx::<_, _, _, bool>(&h, "f1", "x").await.unwrap();
            assert!(!got);
            let got = con.hsetnx::<_, _, _, bool>(&h, "f9", "xyz").await.unwrap();
            assert!(got);
            let got = con.hstrlen::<_, _, i64>(&h, "f9").await.unwrap();
            assert_eq!(got, 3);
            let got = con.hstrlen::<_, _, i64>(&h, "nope").await.unwrap();
            assert_eq!(got, 0);
            let got = con.hexists::<_, _, bool>(&h, "f9").await.unwrap();
            assert!(got);
            let got = con.hexists::<_, _, bool>(&h, "nope").await.unwrap();
            assert!(!got);
            let got = con
                .hdel::<_, _, i64>(&h, &["f9", "fresh", "zz"])
                .await
                .unwrap();
            assert_eq!(got, 2);
            let keys: BTreeSet<String> = con.hkeys(&h).await.unwrap();
            assert_eq!(keys.len(), 6);
            assert!(keys.contains("n1"));
            let vals: Vec<String> = con.hvals(&h).await.unwrap();
            assert!(vals.contains(&"v2".to_string()));
            let got = con.hlen::<_, usize>(&h).await.unwrap();
            assert_eq!(got, 6);

            // HRANDFIELD.
            let all: HashMap<String, String> = con.hgetall(&h).await.unwrap();
            let f: Option<String> = con.hrandfield(&h).await.unwrap();
            assert!(all.contains_key(&f.unwrap()));
            let got = con.hrandfield::<_, Option<String>>(&missing).await.unwrap();
            assert_eq!(got, None);
            let fs: Vec<String> = con.hrandfield_count(&h, 3).await.unwrap();
            assert_eq!(fs.iter().collect::<HashSet<_>>().len(), 3);
            let fs: Vec<String> = con.hrandfield_count(&h, -10).await.unwrap();
            assert_eq!(fs.len(), 10);
            let fv: Vec<(String, String)> = con.hrandfield_withvalues(&h, 2).await.unwrap();
            assert_eq!(fv.len(), 2);
            for (k, v) in &fv {
                assert_eq!(&all[k], v, "{proto:?}: HRANDFIELD WITHVALUES pairs");
            }
            let fv: HashMap<String, String> = con.hrandfield_withvalues(&h, 100).await.unwrap();
            assert_eq!(fv, all);

            // HSCAN.
            let (_, items): (u64, Vec<(String, String)>) = con.hscan(&h, 0).await.unwrap();
            assert_eq!(items.len(), 6);
            let (_, items): (u64, HashMap<String, String>) = con
                .hscan_options(&h, 0, ScanOptions::new().pattern("n*"))
                .await
                .unwrap();
            assert_eq!(items.len(), 2);
            assert_eq!(items["n2"], "2");

            // Raw.
            let n: i64 = cmd("HSET")
                .arg(&missing)
                .arg("a")
                .arg(1)
                .arg("b")
                .arg(2)
                .query(con)
                .await
                .unwrap();
            assert_eq!(n, 2);
            let m: BTreeMap<String, i64> = cmd("HGETALL").arg(&missing).query(con).await.unwrap();
            assert_eq!(
                m.into_iter().collect::<Vec<_>>(),
                [("a".to_string(), 1), ("b".to_string(), 2)]
            );
        }

        // ---- bitmaps -------------------------------------------------------------------

        #[$attr]
        pub async fn bitmaps<C: ConnectionLike, B: ConnectionLike>(
            con: &mut C,
            _blk: &mut B,
            proto: Protocol,
        ) {
            let b = uk("bits");
            let got = con.setbit::<_, i64>(&b, 7, true).await.unwrap();
            assert_eq!(got, 0);
            let got = con.setbit::<_, i64>(&b, 7, true).await.unwrap();
            assert_eq!(got, 1);
            let got = con.getbit::<_, bool>(&b, 7).await.unwrap();
            assert!(got);
            let got = con.getbit::<_, i64>(&b, 6).await.unwrap();
            assert_eq!(got, 0);
            let got = con.getbit::<_, i64>(&b, 1000).await.unwrap();
            assert_eq!(got, 0);
            let got = con.get::<_, Vec<u8>>(&b).await.unwrap();
            assert_eq!(got, [1u8]);
            let got = con.setbit::<_, bool>(&b, 7, false).await.unwrap();
            assert!(got, "SETBIT returns the old bit");
            con.setbit::<_, ()>(&b, 7, true).await.unwrap();

            // BITCOUNT with byte and bit ranges.
            let s = uk("bits-s");
            con.set::<_, _, ()>(&s, "foobar").await.unwrap();
            let got = con.bitcount::<_, i64>(&s).await.unwrap();
            assert_eq!(got, 26);
            let got = con.bitcount_range::<_, i64>(&s, 0, 0).await.unwrap();
            assert_eq!(got, 4);
            let got = con.bitcount_range::<_, i64>(&s, 1, 1).await.unwrap();
            assert_eq!(got, 6);
            let got = con.bitcount_range::<_, i64>(&s, -2, -1).await.unwrap();
            assert_eq!(got, 7);
            let got = con.bitcount_range_bits::<_, i64>(&s, 5, 30).await.unwrap();
            assert_eq!(got, 17);
            let got = con.bitcount::<_, i64>(&uk("bits-missing")).await.unwrap();
            assert_eq!(got, 0);

            // BITOP AND / OR / XOR / NOT.
            let (x, y, d) = (uk("bits-x"), uk("bits-y"), uk("bits-d"));
            con.set::<_, _, ()>(&x, &[0xF0u8, 0x0F][..]).await.unwrap();
            con.set::<_, _, ()>(&y, &[0xFFu8, 0x00][..]).await.unwrap();
            let got = con
                .bitop::<_, _, i64>(BitOp::And, &d, &[&x, &y])
                .await
                .unwrap();
            assert_eq!(got, 2);
            let got = con.get::<_, Vec<u8>>(&d).await.unwrap();
            assert_eq!(got, [0xF0, 0x00]);
            con.bitop::<_, _, ()>(BitOp::Or, &d, &[&x, &y])
                .await
                .unwrap();
            let got = con.get::<_, Vec<u8>>(&d).await.unwrap();
            assert_eq!(got, [0xFF, 0x0F]);
            con.bitop::<_, _, ()>(BitOp::Xor, &d, &[&x, &y])
                .await
                .unwrap();
            let got = con.get::<_, Vec<u8>>(&d).await.unwrap();
            assert_eq!(got, [0x0F, 0x0F]);
            con.bitop::<_, _, ()>(BitOp::Not, &d, &x).await.unwrap();
            let got = con.get::<_, Vec<u8>>(&d).await.unwrap();
            assert_eq!(got, [0x0F, 0xF0]);

            // BITPOS.
            let p = uk("bits-pos");
            con.set::<_, _, ()>(&p, &[0xFFu8, 0xF0, 0x00][..])
                .await
                .unwrap();
            let got = con.bitpos::<_, i64>(&p, false).await.unwrap();
            assert_eq!(got, 12);
            let got = con.bitpos::<_, i64>(&p, true).await.unwrap();
            assert_eq!(got, 0);
            let got = con.bitpos_range::<_, i64>(&p, true, 2, -1).await.unwrap();
            assert_eq!(got, -1);
            let got = con.bitpos_range::<_, i64>(&p, true, 1, 2).await.unwrap();
            assert_eq!(got, 8);
            let got = con
                .bitpos_range_bits::<_, i64>(&p, false, 0, 7)
                .await
                .unwrap();
            assert_eq!(got, -1);
            let got = con
                .bitpos_range_bits::<_, i64>(&p, true, 9, 20)
                .await
                .unwrap();
            assert_eq!(got, 9);

            // BITFIELD, with WRAP / SAT / FAIL overflow, and BITFIELD_RO.
            let f = uk("bits-field");
            let r: Vec<i64> = con
                .bitfield(&f, BitFieldOps::new().set("u8", 0, 200).get("u8", 0))
                .await
                .unwrap();
            assert_eq!(r, [0, 200]);
            let r: Vec<i64> = con
                .bitfield(
                    &f,
                    BitFieldOps::new()
                        .overflow(Overflow::Wrap)
                        .incrby("u8", 0, 100),
                )
                .await
                .unwrap();
            assert_eq!(r, [44], "{proto:?}: 300 wraps to 44");
            let r: (i64,) = con
                .bitfield(
                    &f,
                    BitFieldOps::new()
                        .overflow(Overflow::Sat)
                        .incrby("u8", 0, 500),
                )
                .await
                .unwrap();
            assert_eq!(r, (255,));
            let r: Vec<Option<i64>> = con
                .bitfield(
                    &f,
                    BitFieldOps::new()
                        .overflow(Overflow::Fail)
                        .incrby("u8", 0, 1)
                        .get("u8", 0),
                )
                .await
                .unwrap();
            assert_eq!(
                r,
                [None, Some(255)],
                "{proto:?}: FAIL gives nil and leaves the value"
            );
            let r: Vec<i64> = con
                .bitfield(&f, BitFieldOps::new().set("i8", "#1", -5).get("i8", 8))
                .await
                .unwrap();
            assert_eq!(r, [0, -5]);
            let r: (u8, i8) = con
                .bitfield_ro(&f, BitFieldOps::new().get("u8", 0).get("i8", "#1"))
                .await
                .unwrap();
            assert_eq!(r, (255, -5));
            let e = con
                .bitfield_ro::<_, Vec<i64>>(&f, BitFieldOps::new().set("u8", 0, 1))
                .await
                .unwrap_err();
            assert!(
                e.server_kind().is_some(),
                "{proto:?}: BITFIELD_RO refuses SET: {e}"
            );

            // Raw.
            let n: i64 = cmd("SETBIT")
                .arg(&d)
                .arg(0)
                .arg(1)
                .query(con)
                .await
                .unwrap();
            assert_eq!(n, 0);
            let n: i64 = cmd("BITCOUNT").arg(&d).query(con).await.unwrap();
            assert_eq!(n, 9);
        }

        // ---- hyperloglog ---------------------------------------------------------------

        #[$attr]
        pub async fn hyperloglog<C: ConnectionLike, B: ConnectionLike>(
            con: &mut C,
            _blk: &mut B,
            proto: Protocol,
        ) {
            let (h1, h2, m) = (uk("hll"), uk("hll"), uk("hll-merged"));
            let first: Vec<String> = (0..10_000).map(|i| format!("item-{i}")).collect();
            let second: Vec<String> = (5_000..15_000).map(|i| format!("item-{i}")).collect();
            let got = con.pfadd::<_, _, bool>(&h1, &first).await.unwrap();
            assert!(got);
            let got = con.pfadd::<_, _, bool>(&h1, "item-0").await.unwrap();
            assert!(!got, "already counted");
            let got = con.pfadd::<_, _, i64>(&h2, &second).await.unwrap();
            assert_eq!(got, 1);
            let within = |got: i64, want: i64| ((got - want).abs() as f64) <= want as f64 * 0.02;
            let c1: i64 = con.pfcount(&h1).await.unwrap();
            assert!(
                within(c1, 10_000),
                "{proto:?}: PFCOUNT {c1} not within 2% of 10000"
            );
            let c2: u64 = con.pfcount(&h2).await.unwrap();
            assert!(within(c2 as i64, 10_000), "{proto:?}: PFCOUNT {c2}");
            let union: i64 = con.pfcount(&[&h1, &h2]).await.unwrap();
            assert!(within(union, 15_000), "{proto:?}: PFCOUNT of two {union}");
            con.pfmerge::<_, _, ()>(&m, &[&h1, &h2]).await.unwrap();
            let merged: i64 = con.pfcount(&m).await.unwrap();
            assert!(within(merged, 15_000), "{proto:?}: merged {merged}");
            assert_eq!(merged, union);
            let got = con.pfcount::<_, i64>(&uk("hll-missing")).await.unwrap();
            assert_eq!(got, 0);
            let n: i64 = cmd("PFCOUNT").arg(&m).arg(&h1).query(con).await.unwrap();
            assert_eq!(n, union);
            // A non-HLL string is refused.
            let s = uk("hll-str");
            con.set::<_, _, ()>(&s, "plain").await.unwrap();
            let e = con.pfcount::<_, i64>(&s).await.unwrap_err();
            assert!(e.server_kind().is_some(), "{proto:?}: {e}");
        }

        // ---- geo -----------------------------------------------------------------------

        #[$attr]
        pub async fn geo<C: ConnectionLike, B: ConnectionLike>(
            con: &mut C,
            _blk: &mut B,
            proto: Protocol,
        ) {
            let g = uk("geo");
            let n: i64 = con
                .geoadd(
                    &g,
                    &[
                        (13.361389, 38.115556, "Palermo"),
                        (15.087269, 37.502669, "Catania"),
                    ],
                )
                .await
                .unwrap();
            assert_eq!(n, 2);
            // GEOADD options.
            let n: i64 = con
                .geoadd_options(
                    &g,
                    &[(13.5, 38.0, "Palermo")],
                    GeoAddOptions::new().existence(Existence::Nx),
                )
                .await
                .unwrap();
            assert_eq!(n, 0);
            let n: i64 = con
                .geoadd_options(
                    &g,
                    &[(13.583333, 37.316667, "Agrigento")],
                    GeoAddOptions::new().existence(Existence::Xx),
                )
                .await
                .unwrap();
            assert_eq!(n, 0);
            let n: i64 = con
                .geoadd_options(
                    &g,
                    &[
                        (13.361389, 38.115556, "Palermo"),
                        (12.758489, 38.788135, "Edge"),
                    ],
                    GeoAddOptions::new().ch(true),
                )
                .await
                .unwrap();
            assert_eq!(n, 1, "CH counts the one new member, Palermo did not move");
            let n: i64 = con
                .geoadd_options(
                    &g,
                    &[(12.7, 38.7, "Edge")],
                    GeoAddOptions::new().existence(Existence::Xx).ch(true),
                )
                .await
                .unwrap();
            assert_eq!(n, 1, "XX CH counts the moved member");

            // GEODIST in units.
            let m: Option<f64> = con.geodist(&g, "Palermo", "Catania").await.unwrap();
            assert!(close(m.unwrap(), 166_274.1516, 0.5), "{proto:?}: {m:?}");
            let km: f64 = con
                .geodist_unit(&g, "Palermo", "Catania", GeoUnit::Kilometers)
                .await
                .unwrap();
            assert!(close(km, 166.2742, 0.001), "{km}");
            let mi: f64 = con
                .geodist_unit(&g, "Palermo", "Catania", GeoUnit::Miles)
                .await
                .unwrap();
            assert!(close(mi, 103.3182, 0.001), "{mi}");
            let ft: f64 = con
                .geodist_unit(&g, "Palermo", "Catania", GeoUnit::Feet)
                .await
                .unwrap();
            assert!(close(ft, 545_518.8700, 1.0), "{ft}");
            let got = con
                .geodist::<_, _, _, Option<f64>>(&g, "Palermo", "Nowhere")
                .await
                .unwrap();
            assert_eq!(got, None);

            // GEOHASH / GEOPOS.
            let hashes: Vec<Option<String>> = con
                .geohash(&g, &["Palermo", "Catania", "Nowhere"])
                .await
                .unwrap();
            assert_eq!(
                hashes,
                [
                    Some("sqc8b49rny0".to_string()),
                    Some("sqdtr74hyu0".to_string()),
                    None
                ]
            );
            let pos: Vec<Option<(f64, f64)>> =
                con.geopos(&g, &["Palermo", "Nowhere"]).await.unwrap();
            let (lon, lat) = pos[0].unwrap();
            assert!(
                close(lon, 13.361389, 1e-5) && close(lat, 38.115556, 1e-5),
                "{proto:?}: {pos:?}"
            );
            assert_eq!(pos[1], None);

            // GEOSEARCH by radius and box, WITHCOORD / WITHDIST / COUNT / ASC.
            let near: Vec<String> = con
                .geosearch(
                    &g,
                    GeoSearch::from_lonlat(15.0, 37.0, GeoBy::Radius(200.0, GeoUnit::Kilometers))
                        .order(SortOrder::Asc),
                )
                .await
                .unwrap();
            assert_eq!(near, ["Catania", "Palermo"]);
            let full: Vec<(String, f64, (f64, f64))> = con
                .geosearch(
                    &g,
                    GeoSearch::from_lonlat(15.0, 37.0, GeoBy::Radius(200.0, GeoUnit::Kilometers))
                        .order(SortOrder::Asc)
                        .withdist(true)
                        .withcoord(true),
                )
                .await
                .unwrap();
            assert_eq!(full.len(), 2);
            assert_eq!(full[0].0, "Catania");
            assert!(close(full[0].1, 56.4413, 0.001), "{proto:?}: {full:?}");
            assert!(close(full[0].2 .0, 15.087269, 1e-5) && close(full[0].2 .1, 37.502669, 1e-5));
            assert!(close(full[1].1, 190.4424, 0.001));
            let dists: Vec<(String, f64)> = con
                .geosearch(
                    &g,
                    GeoSearch::from_member("Palermo", GeoBy::Radius(200.0, GeoUnit::Kilometers))
                        .withdist(true)
                        .order(SortOrder::Desc),
                )
                .await
                .unwrap();
            assert_eq!(dists.len(), 3);
            assert_eq!(dists[0].0, "Catania");
            assert_eq!(dists[2], ("Palermo".to_string(), 0.0));
            let boxed: Vec<String> = con
                .geosearch(
                    &g,
                    GeoSearch::from_member(
                        "Palermo",
                        GeoBy::Box(400.0, 400.0, GeoUnit::Kilometers),
                    )
                    .order(SortOrder::Asc),
                )
                .await
                .unwrap();
            assert_eq!(boxed, ["Palermo", "Edge", "Catania"]);
            let first: Vec<String> = con
                .geosearch(
                    &g,
                    GeoSearch::from_member(
                        "Palermo",
                        GeoBy::Box(400.0, 400.0, GeoUnit::Kilometers),
                    )
                    .order(SortOrder::Asc)
                    .count(1),
                )
                .await
                .unwrap();
            assert_eq!(first, ["Palermo"]);
            let none: Vec<String> = con
                .geosearch(
                    &g,
                    GeoSearch::from_lonlat(0.0, 0.0, GeoBy::Radius(1.0, GeoUnit::Meters)),
                )
                .await
                .unwrap();
            assert!(none.is_empty());

            // GEOSEARCHSTORE, with and without STOREDIST.
            let dst = uk("geo-dst");
            let n: i64 = con
                .geosearchstore(
                    &dst,
                    &g,
                    GeoSearch::from_lonlat(15.0, 37.0, GeoBy::Radius(100.0, GeoUnit::Kilometers)),
                )
                .await
                .unwrap();
            assert_eq!(n, 1);
            let got = con.zrange::<_, Vec<String>>(&dst, 0, -1).await.unwrap();
            assert_eq!(got, ["Catania"]);
            let n: i64 = con
                .geosearchstore(
                    &dst,
                    &g,
                    GeoSearch::from_lonlat(15.0, 37.0, GeoBy::Radius(200.0, GeoUnit::Kilometers))
                        .storedist(true),
                )
                .await
                .unwrap();
            assert_eq!(n, 2);
            let d: f64 = con.zscore(&dst, "Catania").await.unwrap();
            assert!(close(d, 56.4413, 0.001), "{proto:?}: STOREDIST {d}");

            // Legacy GEORADIUS and a raw command.
            let r: Vec<String> = con
                .georadius_ro(
                    &g,
                    15.0,
                    37.0,
                    100.0,
                    GeoUnit::Kilometers,
                    GeoOptions::new(),
                )
                .await
                .unwrap();
            assert_eq!(r, ["Catania"]);
            let km: f64 = cmd("GEODIST")
                .arg(&g)
                .arg("Palermo")
                .arg("Catania")
                .arg("km")
                .query(con)
                .await
                .unwrap();
            assert!(close(km, 166.2742, 0.001));
        }

        // ---- streams -------------------------------------------------------------------

        #[$attr]
        pub async fn streams<C: ConnectionLike, B: ConnectionLike>(
            con: &mut C,
            blk: &mut B,
            proto: Protocol,
        ) {
            let s = uk("stream");
            let missing = uk("stream-missing");
            let id1: String = con
                .xadd(&s, "1-1", &[("name", "a"), ("n", "1")])
                .await
                .unwrap();
            assert_eq!(id1, "1-1");
            let id2: String = con
                .xadd(&s, "*", &[("name", "b"), ("n", "2")])
                .await
                .unwrap();
            let fields: BTreeMap<&str, &str> = [("name", "c"), ("n", "3")].into_iter().collect();
            let id3: String = con.xadd_map(&s, "*", &fields).await.unwrap();
            assert_ne!(id2, id3);
            let got = con.xlen::<_, i64>(&s).await.unwrap();
            assert_eq!(got, 3);
            let e = con
                .xadd::<_, _, _, String>(&s, "1-1", &[("f", "v")])
                .await
                .unwrap_err();
            assert_eq!(
                e.server_kind(),
                Some(&ServerErrorKind::Err),
                "{proto:?}: {e}"
            );

            // XRANGE / XREVRANGE with COUNT.
            let all: Vec<Entry> = con.xrange_all(&s).await.unwrap();
            assert_eq!(all.len(), 3);
            assert_eq!(all[0].0, "1-1");
            assert_eq!(all[0].1["name"], "a");
            assert_eq!(all[2].1["n"], "3");
            let two: Vec<Entry> = con.xrange_count(&s, "-", "+", 2).await.unwrap();
            assert_eq!(
                two.iter().map(|e| e.0.clone()).collect::<Vec<_>>(),
                [id1.clone(), id2.clone()]
            );
            let after: Vec<Entry> = con.xrange(&s, "(1-1", "+").await.unwrap();
            assert_eq!(after.len(), 2);
            let rev: Vec<Entry> = con.xrevrange_all(&s).await.unwrap();
            assert_eq!(rev[0].0, id3);
            let rev1: Vec<(String, Vec<(String, String)>)> =
                con.xrevrange_count(&s, "+", "-", 1).await.unwrap();
            // xadd_map wrote the BTreeMap in key order.
            assert_eq!(
                rev1,
                [(
                    id3.clone(),
                    vec![
                        ("n".to_string(), "3".to_string()),
                        ("name".to_string(), "c".to_string())
                    ]
                )]
            );
            let r: Vec<Entry> = con.xrevrange(&s, &id2, "-").await.unwrap();
            assert_eq!(r.len(), 2);
            let got = con.xrange_all::<_, Vec<Entry>>(&missing).await.unwrap();
            assert!(got.is_empty());

            // XADD NOMKSTREAM and MAXLEN.
            let r: Option<String> = con
                .xadd_options(
                    &missing,
                    "*",
                    &[("a", "b")],
                    XAddOptions::new().nomkstream(true),
                )
                .await
                .unwrap();
            assert_eq!(r, None, "{proto:?}: NOMKSTREAM on a missing stream");
            let got = con.exists::<_, i64>(&missing).await.unwrap();
            assert_eq!(got, 0);
            let capped = uk("stream-capped");
            for i in 0..5 {
                con.xadd_options::<_, _, _, String>(
                    &capped,
                    "*",
                    &[("i", i)],
                    XAddOptions::new().trim(StreamTrim::maxlen(2)),
                )
                .await
                .unwrap();
            }
            let got = con.xlen::<_, i64>(&capped).await.unwrap();
            assert_eq!(got, 2);
            let kept: Vec<Entry> = con.xrange_all(&capped).await.unwrap();
            assert_eq!(kept[0].1["i"], "3");

            // XREAD with COUNT; the reply is a map in RESP3, an array in RESP2.
            let r: Option<StreamReply> = con.xread(&[&s], &["0"]).await.unwrap();
            let r = r.unwrap();
            assert_eq!(r[&s].len(), 3);
            let raw: Value = con.xread(&[&s], &["0"]).await.unwrap();
            assert_map_shape(&raw, proto, "XREAD");
            let r: StreamReply = con
                .xread_options(
                    &[&s, &capped],
                    &[id2.as_str(), "0"],
                    StreamReadOptions::new().count(1),
                )
                .await
                .unwrap();
            assert_eq!(r[&s].len(), 1);
            assert_eq!(r[&s][0].0, id3);
            assert_eq!(r[&capped].len(), 1);
            let r: Vec<(String, Vec<Entry>)> = con.xread(&[&s], &[&id1]).await.unwrap();
            assert_eq!(r.len(), 1);
            assert_eq!(r[0].1.len(), 2);
            let r: Option<StreamReply> = con.xread(&[&s], &["$"]).await.unwrap();
            assert!(r.is_none(), "{proto:?}: nothing new");

            // XREAD BLOCK on the dedicated connection.
            let r: Option<StreamReply> = blk
                .xread_options(&[&s], &["$"], StreamReadOptions::new().block(100))
                .await
                .unwrap();
            assert!(r.is_none(), "{proto:?}: XREAD BLOCK timeout");
            // Longer than `blk`'s response timeout (500 ms, set by the test).
            let r: Option<StreamReply> = blk
                .xread_options(&[&s], &["$"], StreamReadOptions::new().count(1).block(1000))
                .await
                .unwrap();
            assert!(
                r.is_none(),
                "{proto:?}: XREAD BLOCK 1000 on a connection with a 500 ms response timeout"
            );
            let r: Option<StreamReply> = blk
                .xread_options(&[&s], &["0"], StreamReadOptions::new().block(100).count(2))
                .await
                .unwrap();
            assert_eq!(r.unwrap()[&s].len(), 2);

            // Consumer groups.
            let g = uk("stream-g");
            con.xgroup_create_mkstream::<_, _, _, ()>(&g, "grp", "$")
                .await
                .unwrap();
            let got = con.xlen::<_, i64>(&g).await.unwrap();
            assert_eq!(got, 0);
            let got = con.key_type::<_, String>(&g).await.unwrap();
            assert_eq!(got, "stream");
            con.xgroup_create::<_, _, _, ()>(&s, "grp", "0")
                .await
                .unwrap();
            let e = con
                .xgroup_create::<_, _, _, ()>(&s, "grp", "0")
                .await
                .unwrap_err();
            match &e {
                Error::Server(se) => assert_eq!(se.code(), "BUSYGROUP", "{proto:?}"),
                other => panic!("{proto:?}: expected BUSYGROUP, got {other}"),
            }
            let got = con
                .xgroup_createconsumer::<_, _, _, bool>(&s, "grp", "idle")
                .await
                .unwrap();
            assert!(got);
            let r: Option<StreamReply> =
                con.xreadgroup("grp", "alice", &[&s], &[">"]).await.unwrap();
            assert_eq!(r.unwrap()[&s].len(), 3);
            let r: Option<StreamReply> = con
                .xreadgroup_options(
                    "grp",
                    "bob",
                    &[&s],
                    &[">"],
                    StreamReadOptions::new().count(1),
                )
                .await
                .unwrap();
            assert!(r.is_none(), "{proto:?}: nothing undelivered");
            let id4: String = con.xadd(&s, "*", &[("name", "d")]).await.unwrap();
            let id5: String = con.xadd(&s, "*", &[("name", "e")]).await.unwrap();
            let r: StreamReply = con
                .xreadgroup_options(
                    "grp",
                    "bob",
                    &[&s],
                    &[">"],
                    StreamReadOptions::new().count(1),
                )
                .await
                .unwrap();
            assert_eq!(r[&s][0].0, id4);
            let r: Option<StreamReply> = blk
                .xreadgroup_options(
                    "grp",
                    "bob",
                    &[&s],
                    &[">"],
                    StreamReadOptions::new().count(10).block(100).noack(true),
                )
                .await
                .unwrap();
            assert_eq!(r.unwrap()[&s][0].0, id5, "NOACK: delivered but not pending");
            let history: StreamReply = con.xreadgroup("grp", "alice", &[&s], &["0"]).await.unwrap();
            assert_eq!(history[&s].len(), 3, "alice's pending entries");

            // XPENDING summary and extended.
            let (count, lo, hi, per): (u64, Option<String>, Option<String>, Vec<(String, u64)>) =
                con.xpending(&s, "grp").await.unwrap();
            assert_eq!(count, 4);
            assert_eq!(lo.as_deref(), Some("1-1"));
            assert_eq!(hi.as_deref(), Some(id4.as_str()));
            assert_eq!(per, [("alice".to_string(), 3), ("bob".to_string(), 1)]);
            let (count, lo, _, per): (u64, Option<String>, Option<String>, Vec<(String, u64)>) =
                con.xpending(&g, "grp").await.unwrap();
            assert_eq!(
                (count, lo, per.len()),
                (0, None, 0),
                "{proto:?}: empty summary"
            );
            let ext: Vec<(String, String, u64, u64)> =
                con.xpending_count(&s, "grp", "-", "+", 10).await.unwrap();
            assert_eq!(ext.len(), 4);
            assert_eq!(
                (ext[0].0.as_str(), ext[0].1.as_str(), ext[0].3),
                ("1-1", "alice", 2),
                "read twice"
            );
            assert_eq!(ext[3].1, "bob");
            let bobs: Vec<(String, String, u64, u64)> = con
                .xpending_options(
                    &s,
                    "grp",
                    XPendingOptions::new("-", "+", 10).consumer("bob"),
                )
                .await
                .unwrap();
            assert_eq!(bobs.len(), 1);
            let idle: Vec<(String, String, u64, u64)> = con
                .xpending_options(
                    &s,
                    "grp",
                    XPendingOptions::new("-", "+", 10).idle(3_600_000),
                )
                .await
                .unwrap();
            assert!(idle.is_empty());

            // XACK.
            let got = con.xack::<_, _, _, i64>(&s, "grp", &["1-1"]).await.unwrap();
            assert_eq!(got, 1);
            let got = con.xack::<_, _, _, i64>(&s, "grp", &["1-1"]).await.unwrap();
            assert_eq!(got, 0);

            // XCLAIM / XAUTOCLAIM.
            let claimed: Vec<Entry> = con.xclaim(&s, "grp", "bob", 0, &[&id2]).await.unwrap();
            assert_eq!(claimed.len(), 1);
            assert_eq!(claimed[0].1["name"], "b");
            let ids: Vec<String> = con
                .xclaim_options(
                    &s,
                    "grp",
                    "bob",
                    0,
                    &[&id3],
                    XClaimOptions::new().justid(true),
                )
                .await
                .unwrap();
            assert_eq!(ids, std::slice::from_ref(&id3));
            let none: Vec<Entry> = con
                .xclaim(&s, "grp", "bob", 3_600_000, &[&id2])
                .await
                .unwrap();
            assert!(none.is_empty(), "not idle long enough");
            let bobs: Vec<(String, String, u64, u64)> = con
                .xpending_options(
                    &s,
                    "grp",
                    XPendingOptions::new("-", "+", 10).consumer("bob"),
                )
                .await
                .unwrap();
            assert_eq!(bobs.len(), 3);
            let (next, entries, deleted): (String, Vec<Entry>, Vec<String>) =
                con.xautoclaim(&s, "grp", "carol", 0, "0-0").await.unwrap();
            assert_eq!(next, "0-0");
            assert_eq!(
                entries.iter().map(|e| e.0.clone()).collect::<Vec<_>>(),
                [id2.clone(), id3.clone(), id4.clone()]
            );
            assert!(deleted.is_empty());
            let (_, ids, _): (String, Vec<String>, Vec<String>) = con
                .xautoclaim_options(
                    &s,
                    "grp",
                    "dave",
                    0,
                    "0-0",
                    XAutoClaimOptions::new().count(1).justid(true),
                )
                .await
                .unwrap();
            assert_eq!(ids, std::slice::from_ref(&id2));

            // XINFO STREAM / GROUPS / CONSUMERS.
            let raw: Value = con.xinfo_stream(&s).await.unwrap();
            assert_map_shape(&raw, proto, "XINFO STREAM");
            let info: HashMap<String, Value> = con.xinfo_stream(&s).await.unwrap();
            assert_eq!(int_field(&info, "length"), 5);
            assert_eq!(int_field(&info, "groups"), 1);
            assert_eq!(str_field(&info, "last-generated-id"), id5);
            let first: (String, HashMap<String, String>) =
                FromValue::from_value(field(&info, "first-entry").clone()).unwrap();
            assert_eq!(first.0, "1-1");
            let full: HashMap<String, Value> = con.xinfo_stream_full(&s, Some(1)).await.unwrap();
            assert_eq!(int_field(&full, "length"), 5);
            let groups: Vec<HashMap<String, Value>> = con.xinfo_groups(&s).await.unwrap();
            assert_eq!(groups.len(), 1);
            assert_eq!(str_field(&groups[0], "name"), "grp");
            assert_eq!(int_field(&groups[0], "consumers"), 5);
            assert_eq!(int_field(&groups[0], "pending"), 3);
            let consumers: Vec<HashMap<String, Value>> =
                con.xinfo_consumers(&s, "grp").await.unwrap();
            let names: BTreeSet<String> = consumers.iter().map(|c| str_field(c, "name")).collect();
            assert_eq!(
                names.into_iter().collect::<Vec<_>>(),
                ["alice", "bob", "carol", "dave", "idle"]
            );
            let dave = consumers
                .iter()
                .find(|c| str_field(c, "name") == "dave")
                .unwrap();
            assert_eq!(int_field(dave, "pending"), 1);
            let got = con
                .xgroup_delconsumer::<_, _, _, i64>(&s, "grp", "idle")
                .await
                .unwrap();
            assert_eq!(got, 0);
            let got = con
                .xgroup_delconsumer::<_, _, _, i64>(&s, "grp", "dave")
                .await
                .unwrap();
            assert_eq!(got, 1);
            con.xgroup_setid::<_, _, _, ()>(&s, "grp", "0")
                .await
                .unwrap();
            let again: StreamReply = con
                .xreadgroup_options(
                    "grp",
                    "erin",
                    &[&s],
                    &[">"],
                    StreamReadOptions::new().count(100),
                )
                .await
                .unwrap();
            assert_eq!(again[&s].len(), 5, "SETID 0 re-delivers everything");
            let got = con.xgroup_destroy::<_, _, bool>(&s, "grp").await.unwrap();
            assert!(got);
            let got = con.xgroup_destroy::<_, _, bool>(&s, "grp").await.unwrap();
            assert!(!got);
            let got = con
                .xinfo_groups::<_, Vec<HashMap<String, Value>>>(&s)
                .await
                .unwrap();
            assert!(got.is_empty());

            // XTRIM / XDEL.
            let got = con
                .xdel::<_, _, i64>(&s, &[id5.as_str(), "9-9"])
                .await
                .unwrap();
            assert_eq!(got, 1);
            let got = con
                .xtrim::<_, i64>(&s, StreamTrim::maxlen(2))
                .await
                .unwrap();
            assert_eq!(got, 2);
            let got = con.xrange_all::<_, Vec<Entry>>(&s).await.unwrap();
            assert_eq!(
                got.iter().map(|e| e.0.clone()).collect::<Vec<_>>(),
                [id3.clone(), id4.clone()]
            );
            let got = con
                .xtrim::<_, i64>(&s, StreamTrim::minid(id4.as_bytes()))
                .await
                .unwrap();
            assert_eq!(got, 1);
            let got = con.xlen::<_, i64>(&s).await.unwrap();
            assert_eq!(got, 1);

            // XSETID.
            let t = uk("stream-setid");
            con.xadd::<_, _, _, ()>(&t, "1-1", &[("f", "v")])
                .await
                .unwrap();
            con.xsetid::<_, _, ()>(&t, "100-0").await.unwrap();
            let info: HashMap<String, Value> = con.xinfo_stream(&t).await.unwrap();
            assert_eq!(str_field(&info, "last-generated-id"), "100-0");
            let e = con
                .xadd::<_, _, _, String>(&t, "50-0", &[("f", "v")])
                .await
                .unwrap_err();
            assert!(e.server_kind().is_some(), "{proto:?}: {e}");
            let next: String = con.xadd(&t, "100-*", &[("f", "v")]).await.unwrap();
            assert_eq!(next, "100-1");
            let e = con.xsetid::<_, _, ()>(&t, "1-0").await.unwrap_err();
            assert!(
                e.server_kind().is_some(),
                "{proto:?}: XSETID below the top entry: {e}"
            );

            // Raw.
            let id: String = cmd("XADD")
                .arg(&t)
                .arg("*")
                .arg("raw")
                .arg(1)
                .query(con)
                .await
                .unwrap();
            assert!(id.contains('-'));
            let n: i64 = cmd("XLEN").arg(&t).query(con).await.unwrap();
            assert_eq!(n, 3);
        }

        // ---- scripting and functions ---------------------------------------------------

        #[$attr]
        pub async fn scripting<C: ConnectionLike, B: ConnectionLike>(
            con: &mut C,
            _blk: &mut B,
            proto: Protocol,
        ) {
            let k = uk("lua");
            // EVAL with conversions.
            let (a, b, c): (i64, i64, String) =
                con.eval("return {1, 2, 'three'}", (), ()).await.unwrap();
            assert_eq!((a, b, c.as_str()), (1, 2, "three"));
            let v: Vec<Value> = con.eval("return {1, 'x'}", (), ()).await.unwrap();
            assert_eq!(v.len(), 2);
            let ok: String = con
                .eval("return redis.call('SET', KEYS[1], ARGV[1])", &k, "v")
                .await
                .unwrap();
            assert_eq!(ok, "OK");
            let got: Option<String> = con
                .eval("return redis.call('GET', KEYS[1])", &k, ())
                .await
                .unwrap();
            assert_eq!(got.as_deref(), Some("v"));
            let sum: i64 = con
                .eval(
                    "return tonumber(ARGV[1]) + tonumber(ARGV[2])",
                    (),
                    &[20, 22],
                )
                .await
                .unwrap();
            assert_eq!(sum, 42);
            let keys: Vec<String> = con
                .eval("return KEYS", &[&k, &uk("lua")], ())
                .await
                .unwrap();
            assert_eq!(keys.len(), 2);
            // Lua booleans: `false` is nil unless the script asks for RESP3 replies; then a
            // RESP3 client gets a boolean and a RESP2 client an integer. `bool` reads all.
            let t: bool = con.eval("return true", (), ()).await.unwrap();
            let f: bool = con.eval("return false", (), ()).await.unwrap();
            assert!(t && !f, "{proto:?}");
            let raw: Value = con.eval("return false", (), ()).await.unwrap();
            assert_eq!(raw, Value::Nil, "{proto:?}");
            let raw: Value = con
                .eval("redis.setresp(3); return false", (), ())
                .await
                .unwrap();
            match proto {
                Protocol::Resp3 => assert_eq!(raw, Value::Boolean(false)),
                Protocol::Resp2 => assert_eq!(raw, Value::Int(0)),
            }
            let f: bool = con
                .eval("redis.setresp(3); return false", (), ())
                .await
                .unwrap();
            let t: bool = con
                .eval("redis.setresp(3); return true", (), ())
                .await
                .unwrap();
            assert!(t && !f, "{proto:?}: RESP3 script booleans");
            let m: HashMap<String, i64> = con
                .eval("redis.setresp(3); return {map={a=1}}", (), ())
                .await
                .unwrap();
            assert_eq!(m.get("a"), Some(&1), "{proto:?}: a Lua map reply");
            let e = con
                .eval::<_, _, _, ()>("return redis.error_reply('MYERR custom')", (), ())
                .await
                .unwrap_err();
            match &e {
                Error::Server(se) => assert_eq!(se.code(), "MYERR", "{proto:?}: {e}"),
                other => panic!("{proto:?}: {other}"),
            }
            let e = con
                .eval::<_, _, _, ()>("return redis.call('INCR', KEYS[1])", &k, ())
                .await
                .unwrap_err();
            assert!(e.server_kind().is_some(), "{proto:?}: {e}");

            // SCRIPT LOAD / EXISTS, EVALSHA, EVAL_RO / EVALSHA_RO.
            let src = "return ARGV[1]";
            let sha: String = con.script_load(src).await.unwrap();
            assert_eq!(sha, Script::new(src).hash());
            let got = con.evalsha::<_, _, _, String>(&sha, (), "x").await.unwrap();
            assert_eq!(got, "x");
            let exists: Vec<bool> = con
                .script_exists(&[sha.as_str(), "0000000000000000000000000000000000000000"])
                .await
                .unwrap();
            assert_eq!(exists, [true, false]);
            let got: Option<String> = con
                .eval_ro("return redis.call('GET', KEYS[1])", &k, ())
                .await
                .unwrap();
            assert_eq!(got.as_deref(), Some("v"));
            let e = con
                .eval_ro::<_, _, _, ()>("return redis.call('SET', KEYS[1], 'w')", &k, ())
                .await
                .unwrap_err();
            assert!(
                e.server_kind().is_some(),
                "{proto:?}: writes refused in EVAL_RO: {e}"
            );
            let got = con.get::<_, String>(&k).await.unwrap();
            assert_eq!(got, "v");
            let got = con
                .evalsha_ro::<_, _, _, String>(&sha, (), "y")
                .await
                .unwrap();
            assert_eq!(got, "y");
            con.script_flush::<()>().await.unwrap();
            let got = con.script_exists::<_, Vec<bool>>(&sha).await.unwrap();
            assert_eq!(got, [false]);
            let e = con
                .evalsha::<_, _, _, String>(&sha, (), "x")
                .await
                .unwrap_err();
            assert_eq!(
                e.server_kind(),
                Some(&ServerErrorKind::NoScript),
                "{proto:?}: {e}"
            );
            con.script_flush_mode::<()>(FlushMode::Sync).await.unwrap();

            // `Script`: EVALSHA, falling back to EVAL on NOSCRIPT.
            let counter = uk("lua-counter");
            let script = Script::new("return redis.call('INCRBY', KEYS[1], ARGV[1])");
            let n: i64 = script.key(&counter).arg(5).query(con).await.unwrap();
            assert_eq!(n, 5);
            let got = con
                .script_exists::<_, Vec<bool>>(script.hash())
                .await
                .unwrap();
            assert_eq!(got, [true], "EVAL cached it");
            let n: i64 = script.key(&counter).arg(10).query(con).await.unwrap();
            assert_eq!(n, 15);
            con.script_flush::<()>().await.unwrap();
            let n: i64 = script.key(&counter).arg(1).query(con).await.unwrap();
            assert_eq!(n, 16, "{proto:?}: invocation survives SCRIPT FLUSH");
            let hello = Script::new("return 'hello'");
            let got = hello.query::<String>(con).await.unwrap();
            assert_eq!(got, "hello");

            // FUNCTION LOAD / LIST / DELETE / FLUSH / DUMP / RESTORE, FCALL / FCALL_RO.
            let lib = ident("lib");
            let code = format!(
                "#!lua name={lib}\n\
                 redis.register_function('{lib}_echo', function(keys, args) return args[1] end)\n\
                 redis.register_function{{function_name='{lib}_get', callback=function(keys, args) \
                 return redis.call('GET', keys[1]) end, flags={{'no-writes'}}}}\n"
            );
            let name: String = con.function_load(&code).await.unwrap();
            assert_eq!(name, lib);
            let e = con.function_load::<_, String>(&code).await.unwrap_err();
            assert!(e.server_kind().is_some(), "{proto:?}: loading twice: {e}");
            let got = con.function_load_replace::<_, String>(&code).await.unwrap();
            assert_eq!(got, lib);
            let echo = format!("{lib}_echo");
            let get = format!("{lib}_get");
            let got = con.fcall::<_, _, _, String>(&echo, (), "hi").await.unwrap();
            assert_eq!(got, "hi");
            let got = con
                .fcall_ro::<_, _, _, Option<String>>(&get, &k, ())
                .await
                .unwrap();
            assert_eq!(got.as_deref(), Some("v"));
            let e = con
                .fcall_ro::<_, _, _, String>(&echo, (), "hi")
                .await
                .unwrap_err();
            assert!(
                e.server_kind().is_some(),
                "{proto:?}: FCALL_RO of a function without no-writes: {e}"
            );
            let libs: Vec<HashMap<String, Value>> = con.function_list().await.unwrap();
            let mine = libs
                .iter()
                .find(|l| str_field(l, "library_name") == lib)
                .unwrap();
            assert_eq!(str_field(mine, "engine"), "LUA");
            let funcs: Vec<HashMap<String, Value>> =
                FromValue::from_value(field(mine, "functions").clone()).unwrap();
            let fnames: BTreeSet<String> = funcs.iter().map(|f| str_field(f, "name")).collect();
            assert_eq!(
                fnames.into_iter().collect::<Vec<_>>(),
                [echo.clone(), get.clone()]
            );
            let with_code: Vec<HashMap<String, Value>> =
                con.function_list_options(&lib, true).await.unwrap();
            assert_eq!(with_code.len(), 1);
            assert_eq!(str_field(&with_code[0], "library_code"), code);
            let dump: Vec<u8> = con.function_dump().await.unwrap();
            con.function_delete::<_, ()>(&lib).await.unwrap();
            let e = con
                .fcall::<_, _, _, String>(&echo, (), "hi")
                .await
                .unwrap_err();
            assert!(e.server_kind().is_some(), "{proto:?}: deleted: {e}");
            con.function_restore::<_, ()>(&dump, None).await.unwrap();
            let got = con
                .fcall::<_, _, _, String>(&echo, (), "back")
                .await
                .unwrap();
            assert_eq!(got, "back");
            con.function_flush::<()>().await.unwrap();
            let got = con.function_list::<Vec<Value>>().await.unwrap();
            assert!(got.is_empty());
            let stats: HashMap<String, Value> = con.function_stats().await.unwrap();
            assert!(stats.contains_key("engines"), "{proto:?}: {stats:?}");

            // Raw.
            let n: i64 = cmd("EVAL")
                .arg("return 42")
                .arg(0)
                .query(con)
                .await
                .unwrap();
            assert_eq!(n, 42);
            let d: f64 = cmd("EVAL")
                .arg("return '1.5'")
                .arg(0)
                .query(con)
                .await
                .unwrap();
            assert_eq!(d, 1.5);
        }

        // ---- pub/sub commands ----------------------------------------------------------

        /// `sub` is a fresh subscriber connection of the same client.
        #[$attr]
        pub async fn pubsub<C: ConnectionLike>(con: &mut C, sub: &mut PubSub, proto: Protocol) {
            let ch = uk("chan");
            let other = uk("chan-nobody");
            let base = uk("pat");
            let pattern = format!("{base}.*");
            sub.subscribe(&ch).await.unwrap();
            sub.psubscribe(&pattern).await.unwrap();

            let got = con.publish::<_, _, i64>(&ch, "hello").await.unwrap();
            assert_eq!(got, 1, "{proto:?}");
            let got = con
                .publish::<_, _, i64>(format!("{base}.x"), "by pattern")
                .await
                .unwrap();
            assert_eq!(got, 1);
            let got = con.publish::<_, _, i64>(&other, "lost").await.unwrap();
            assert_eq!(got, 0);
            let n: i64 = cmd("PUBLISH").arg(&ch).arg(42).query(con).await.unwrap();
            assert_eq!(n, 1);

            let m = next_msg(sub).await;
            assert_eq!(m.kind(), &MsgKind::Message);
            assert_eq!(m.channel_name(), ch);
            assert_eq!(m.payload::<String>().unwrap(), "hello");
            let m = next_msg(sub).await;
            assert_eq!(m.kind(), &MsgKind::PMessage);
            assert_eq!(m.pattern(), Some(pattern.as_bytes()));
            assert_eq!(m.channel_name(), format!("{base}.x"));
            assert_eq!(m.payload::<String>().unwrap(), "by pattern");
            let m = next_msg(sub).await;
            assert_eq!(m.payload::<i64>().unwrap(), 42);

            // PUBSUB CHANNELS / NUMSUB / NUMPAT.
            let chans: Vec<String> = con.pubsub_channels().await.unwrap();
            assert!(chans.contains(&ch), "{proto:?}: {chans:?}");
            let chans: Vec<String> = con.pubsub_channels_pattern(format!("{ch}*")).await.unwrap();
            assert_eq!(chans, std::slice::from_ref(&ch));
            let counts: Vec<(String, i64)> = con.pubsub_numsub(&[&ch, &other]).await.unwrap();
            assert_eq!(counts, [(ch.clone(), 1), (other.clone(), 0)]);
            let counts: HashMap<String, u32> = con.pubsub_numsub(&[&ch, &other]).await.unwrap();
            assert_eq!(counts[&ch], 1);
            let raw: Value = cmd("PUBSUB")
                .arg("NUMSUB")
                .arg(&ch)
                .query(con)
                .await
                .unwrap();
            assert!(matches!(raw, Value::Array(_) | Value::Map(_)), "{raw:?}");
            let numpat: i64 = con.pubsub_numpat().await.unwrap();
            assert!(numpat >= 1, "{proto:?}: NUMPAT {numpat}");
            // Shard channels exist on a standalone server too.
            let got = con.spublish::<_, _, i64>(&other, "s").await.unwrap();
            assert_eq!(got, 0);
            let got = con.pubsub_shardchannels::<Vec<String>>().await.unwrap();
            assert!(got.is_empty());
        }

        // ---- server & connection -------------------------------------------------------

        #[$attr]
        pub async fn server<C: ConnectionLike, B: ConnectionLike>(
            con: &mut C,
            _blk: &mut B,
            proto: Protocol,
        ) {
            // PING / ECHO.
            let got = con.ping::<String>().await.unwrap();
            assert_eq!(got, "PONG");
            let got = con.ping::<Value>().await.unwrap();
            assert!(got == Value::SimpleString("PONG".into()));
            let got = con.ping_message::<_, String>("hi").await.unwrap();
            assert_eq!(got, "hi");
            let got = con.echo::<_, Vec<u8>>(&[0u8, 1, 2][..]).await.unwrap();
            assert_eq!(got, [0, 1, 2]);

            // SELECT into another db and back.
            let k = uk("srv");
            con.set::<_, _, ()>(&k, "db0").await.unwrap();
            con.select::<()>(5).await.unwrap();
            let got = con.get::<_, Option<String>>(&k).await.unwrap();
            assert_eq!(got, None);
            con.set::<_, _, ()>(&k, "db5").await.unwrap();
            con.select::<()>(0).await.unwrap();
            let got = con.get::<_, String>(&k).await.unwrap();
            assert_eq!(got, "db0");
            let e = con.select::<()>(10_000).await.unwrap_err();
            assert!(e.server_kind().is_some(), "{proto:?}: {e}");

            // DBSIZE / FLUSHDB / SWAPDB on private dbs only.
            con.select::<()>(7).await.unwrap();
            con.flushdb::<()>().await.unwrap();
            let got = con.dbsize::<i64>().await.unwrap();
            assert_eq!(got, 0);
            con.mset::<_, ()>(&[("a", 1), ("b", 2), ("c", 3)])
                .await
                .unwrap();
            let got = con.dbsize::<i64>().await.unwrap();
            assert_eq!(got, 3);
            con.flushdb_mode::<()>(FlushMode::Sync).await.unwrap();
            let got = con.dbsize::<u64>().await.unwrap();
            assert_eq!(got, 0);
            con.set::<_, _, ()>("in7", 1).await.unwrap();
            con.swapdb::<()>(7, 8).await.unwrap();
            let got = con.exists::<_, i64>("in7").await.unwrap();
            assert_eq!(got, 0);
            con.select::<()>(8).await.unwrap();
            let got = con.dbsize::<i64>().await.unwrap();
            assert_eq!(got, 1);
            con.flushdb::<()>().await.unwrap();
            con.select::<()>(0).await.unwrap();
            let got = con.dbsize::<i64>().await.unwrap();
            assert!(got >= 1);

            // INFO, parsed; in RESP3 it is a verbatim string, the same text either way.
            let info: String = con.info_section("server").await.unwrap();
            let fields: HashMap<&str, &str> =
                info.lines().filter_map(|l| l.split_once(':')).collect();
            assert!(
                fields["redis_version"].starts_with(|c: char| c.is_ascii_digit()),
                "{info}"
            );
            assert!(fields["tcp_port"].parse::<u16>().is_ok(), "{info}");
            let raw: Value = cmd("INFO").arg("keyspace").query(con).await.unwrap();
            match proto {
                Protocol::Resp3 => assert!(matches!(raw, Value::VerbatimString { .. }), "{raw:?}"),
                Protocol::Resp2 => assert!(matches!(raw, Value::BulkString(_)), "{raw:?}"),
            }
            let keyspace = String::from_value(raw).unwrap();
            assert!(keyspace.contains("db0:keys="), "{keyspace}");
            let all: String = con.info().await.unwrap();
            assert!(all.contains("# Clients") && all.contains("connected_clients:"));

            // TIME.
            let (secs, micros): (i64, u32) = con.time().await.unwrap();
            assert!(
                (secs - now_secs()).abs() <= 5,
                "{proto:?}: server time {secs}"
            );
            assert!(micros < 1_000_000);
            let t: Vec<String> = con.time().await.unwrap();
            assert_eq!(t.len(), 2);

            // CONFIG GET / SET on a harmless parameter.
            let before: HashMap<String, String> =
                con.config_get("maxmemory-samples").await.unwrap();
            let old = before["maxmemory-samples"].clone();
            con.config_set::<_, _, ()>("maxmemory-samples", 7)
                .await
                .unwrap();
            let (name, value): (String, i64) = con.config_get("maxmemory-samples").await.unwrap();
            assert_eq!((name.as_str(), value), ("maxmemory-samples", 7));
            let pairs: Vec<(String, String)> =
                con.config_get(&["maxmemory-samples", "hz"]).await.unwrap();
            assert_eq!(pairs.len(), 2);
            let raw: Value = con.config_get("hz").await.unwrap();
            assert_map_shape(&raw, proto, "CONFIG GET");
            con.config_set::<_, _, ()>("maxmemory-samples", &old)
                .await
                .unwrap();
            let e = con
                .config_set::<_, _, ()>("no-such-parameter", 1)
                .await
                .unwrap_err();
            assert!(e.server_kind().is_some(), "{proto:?}: {e}");

            // CLIENT ID / GETNAME / SETNAME / INFO / LIST.
            let id: i64 = con.client_id().await.unwrap();
            assert!(id > 0);
            let got = con.client_getname::<Option<String>>().await.unwrap();
            assert_eq!(got, None, "{proto:?}");
            let name = ident("groups");
            con.client_setname::<_, ()>(&name).await.unwrap();
            let got = con.client_getname::<Option<String>>().await.unwrap();
            assert_eq!(got, Some(name.clone()));
            let me: String = con.client_info().await.unwrap();
            assert!(me.contains(&format!("id={id} ")), "{me}");
            assert!(me.contains(&format!("name={name} ")), "{me}");
            let resp = if proto == Protocol::Resp3 {
                "resp=3"
            } else {
                "resp=2"
            };
            assert!(me.contains(resp), "{proto:?}: {me}");
            let list: String = con.client_list().await.unwrap();
            assert!(
                list.lines().any(|l| l.contains(&format!("id={id} "))),
                "{list}"
            );
            let mine: String = con.client_list_ids(id).await.unwrap();
            assert_eq!(mine.lines().count(), 1);
            let e = con.client_setname::<_, ()>("has space").await.unwrap_err();
            assert!(e.server_kind().is_some(), "{proto:?}: {e}");

            // COMMAND COUNT / INFO / DOCS / GETKEYS.
            let count: i64 = con.command_count().await.unwrap();
            assert!(count > 200, "{count}");
            let info: Vec<Vec<Value>> = con
                .command_info(&["get", "nosuchcommand"])
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(info.len(), 2);
            assert_eq!(String::from_value(info[0][0].clone()).unwrap(), "get");
            assert_eq!(i64::from_value(info[0][1].clone()).unwrap(), 2);
            assert!(info[1].is_empty(), "unknown command: nil entry");
            let docs: HashMap<String, HashMap<String, Value>> =
                con.command_docs("get").await.unwrap();
            assert!(
                str_field(&docs["get"], "summary")
                    .to_lowercase()
                    .contains("value"),
                "{docs:?}"
            );
            let raw: Value = con.command_docs("get").await.unwrap();
            assert_map_shape(&raw, proto, "COMMAND DOCS");
            let keys: Vec<String> = con.command_getkeys(("SET", &k, "v")).await.unwrap();
            assert_eq!(keys, std::slice::from_ref(&k));
            let keys: Vec<String> = con.command_getkeys(("MSET", "a", 1, "b", 2)).await.unwrap();
            assert_eq!(keys, ["a", "b"]);

            // MEMORY USAGE.
            let used: Option<u64> = con.memory_usage(&k).await.unwrap();
            assert!(used.unwrap() > 0);
            let got = con
                .memory_usage::<_, Option<u64>>(&uk("srv-missing"))
                .await
                .unwrap();
            assert_eq!(got, None);

            // OBJECT FREQ needs an LFU policy: a server error with its code.
            let e = con.object_freq::<_, i64>(&k).await.unwrap_err();
            assert_eq!(
                e.server_kind(),
                Some(&ServerErrorKind::Err),
                "{proto:?}: {e}"
            );
            match &e {
                Error::Server(se) => assert!(se.message().contains("LFU"), "{se}"),
                other => panic!("{other}"),
            }

            // SLOWLOG.
            con.config_set::<_, _, ()>("slowlog-log-slower-than", 0)
                .await
                .unwrap();
            con.slowlog_reset::<()>().await.unwrap();
            con.get::<_, Option<String>>(&k).await.unwrap();
            let len: i64 = con.slowlog_len().await.unwrap();
            assert!(len >= 1, "{proto:?}: slowlog len {len}");
            let entries: Vec<Vec<Value>> = con.slowlog_get_count(10).await.unwrap();
            let logged: Vec<Vec<String>> = entries
                .iter()
                .map(|e| Vec::<String>::from_value(e[3].clone()).unwrap())
                .collect();
            assert!(
                logged
                    .iter()
                    .any(|args| args == &["GET".to_string(), k.clone()]),
                "{logged:?}"
            );
            let (eid, ts, micros, args): (i64, i64, i64, Vec<String>) =
                FromValue::from_value(Value::Array(entries[0][..4].to_vec())).unwrap();
            assert!(eid >= 0 && ts > 0 && micros >= 0 && !args.is_empty());
            con.config_set::<_, _, ()>("slowlog-log-slower-than", 10_000)
                .await
                .unwrap();
            con.slowlog_reset::<()>().await.unwrap();
            let got = con.slowlog_get::<Vec<Value>>().await.unwrap();
            assert!(got.len() <= 1);

            // ACL WHOAMI / CAT, LOLWUT, ROLE, WAIT, LASTSAVE.
            let got = con.acl_whoami::<String>().await.unwrap();
            assert_eq!(got, "default");
            let cats: Vec<String> = con.acl_cat().await.unwrap();
            assert!(
                cats.contains(&"keyspace".to_string()) && cats.contains(&"string".to_string()),
                "{cats:?}"
            );
            let cmds: HashSet<String> = con.acl_cat_category("string").await.unwrap();
            assert!(cmds.contains("get") && cmds.contains("set"));
            let art: String = con.lolwut().await.unwrap();
            assert!(art.contains("Redis ver."), "{art}");
            let art: String = con.lolwut_version(5).await.unwrap();
            assert!(art.contains("Redis ver."));
            let (role, offset, replicas): (String, i64, Vec<Value>) = con.role().await.unwrap();
            assert_eq!(
                (role.as_str(), offset >= 0, replicas.len()),
                ("master", true, 0)
            );
            let got = con.wait::<i64>(0, 0).await.unwrap();
            assert_eq!(got, 0);
            let got = con.lastsave::<i64>().await.unwrap();
            assert!(got > 0);

            // Raw.
            let pong: String = cmd("PING").query(con).await.unwrap();
            assert_eq!(pong, "PONG");
            let e = cmd("NOSUCHCOMMAND").query::<()>(con).await.unwrap_err();
            assert_eq!(
                e.server_kind(),
                Some(&ServerErrorKind::Err),
                "{proto:?}: {e}"
            );
            // The connection still answers after all the errors above.
            let got = con.echo::<_, String>("still here").await.unwrap();
            assert_eq!(got, "still here");
        }

        // ---- pipelines -----------------------------------------------------------------

        #[$attr]
        pub async fn pipelines<C: ConnectionLike, B: ConnectionLike>(
            con: &mut C,
            _blk: &mut B,
            proto: Protocol,
        ) {
            let (k, l, s) = (uk("pipe"), uk("pipe-l"), uk("pipe-s"));
            let mut p = pipe();
            p.add(commands::set(&k, 5))
                .add(commands::incr(&k, 10))
                .add(commands::get(&k))
                .add(commands::get(uk("pipe-missing")))
                .add(commands::rpush(&l, &["a", "b"]))
                .add(commands::lrange(&l, 0, -1));
            let (ok, n, v, none, len, items): (
                String,
                i64,
                String,
                Option<String>,
                usize,
                Vec<String>,
            ) = p.query(con).await.unwrap();
            assert_eq!(
                (ok.as_str(), n, v.as_str(), none, len),
                ("OK", 15, "15", None, 2)
            );
            assert_eq!(items, ["a", "b"]);

            // ignore() drops replies; raw cmd()-style building.
            let mut p = pipe();
            p.cmd("SET")
                .arg(&s)
                .arg("x")
                .ignore()
                .cmd("APPEND")
                .arg(&s)
                .arg("yz")
                .ignore()
                .cmd("GET")
                .arg(&s)
                .cmd("STRLEN")
                .arg(&s);
            let (v, len): (String, i64) = p.query(con).await.unwrap();
            assert_eq!((v.as_str(), len), ("xyz", 3));
            let all_ignored: Vec<Value> = {
                let mut p = pipe();
                p.add(commands::set(&s, "q")).ignore();
                p.query(con).await.unwrap()
            };
            assert!(all_ignored.is_empty());

            // Typed map results from a pipeline (a map reply inside the array in RESP3).
            let h = uk("pipe-h");
            let mut p = pipe();
            p.add(commands::hset_multiple(&h, &[("a", 1), ("b", 2)]))
                .ignore()
                .add(commands::hgetall(&h))
                .add(commands::zadd_multiple(&uk("pipe-z"), &[(1, "m")]));
            let (m, added): (HashMap<String, i64>, i64) = p.query(con).await.unwrap();
            assert_eq!((m["a"], m["b"], added), (1, 2, 1));

            // An error reply in the middle: raw replies keep it in place, the later commands
            // still ran, and the typed query fails with that error.
            let after = uk("pipe-after");
            let mut p = pipe();
            p.add(commands::set(&s, "string"))
                .add(commands::lpush(&s, "x"))
                .add(commands::set(&after, "ran"))
                .add(commands::get(&after));
            let raw: Vec<Value> = con.req_pipeline(&p).await.unwrap();
            assert_eq!(raw.len(), 4);
            assert!(raw[0].is_ok_status());
            match &raw[1] {
                Value::ServerError(e) => assert_eq!(e.kind(), &ServerErrorKind::WrongType),
                other => panic!("{proto:?}: expected an error reply, got {other:?}"),
            }
            assert_eq!(String::from_value(raw[3].clone()).unwrap(), "ran");
            con.del::<_, ()>(&after).await.unwrap();
            let e = p.query::<Vec<Value>>(con).await.unwrap_err();
            assert_eq!(
                e.server_kind(),
                Some(&ServerErrorKind::WrongType),
                "{proto:?}: {e}"
            );
            let got = con.get::<_, String>(&after).await.unwrap();
            assert_eq!(got, "ran", "commands after the error ran");
            // The connection is still in step.
            let got = con.ping::<String>().await.unwrap();
            assert_eq!(got, "PONG");

            // 1000 commands in one batch.
            let c = uk("pipe-counter");
            let mut p = pipe();
            for _ in 0..1000 {
                p.add(commands::incr(&c, 1));
            }
            let counts: Vec<i64> = p.query(con).await.unwrap();
            assert_eq!(counts, (1..=1000).collect::<Vec<i64>>());
            let mut p = pipe();
            for i in 0..1000 {
                p.add(commands::set(format!("{c}:{i}"), i)).ignore();
            }
            p.add(commands::get(format!("{c}:999")));
            let (last,): (i64,) = p.query(con).await.unwrap();
            assert_eq!(last, 999);
            let mut p = pipe();
            for i in 0..1000 {
                p.add(commands::get(format!("{c}:{i}")));
            }
            let vals: Vec<i64> = p.query(con).await.unwrap();
            assert_eq!(vals, (0..1000).collect::<Vec<i64>>());

            // An empty pipeline.
            let nothing: Vec<Value> = pipe().query(con).await.unwrap();
            assert!(nothing.is_empty());
        }

        // ---- transactions --------------------------------------------------------------

        /// `blk` is a connection of its own (a `DedicatedConnection` in async): WATCH state
        /// belongs to a socket.
        #[$attr]
        pub async fn transactions<C: ConnectionLike, B: ConnectionLike>(
            con: &mut C,
            blk: &mut B,
            proto: Protocol,
        ) {
            let k = uk("tx");
            // An atomic pipeline: results of every command, typed.
            let mut p = pipe();
            p.atomic()
                .add(commands::set(&k, 1))
                .ignore()
                .add(commands::incr(&k, 1))
                .add(commands::incr(&k, 1))
                .add(commands::get(&k));
            let (a, b, c): (i64, i64, String) = p.query(con).await.unwrap();
            assert_eq!((a, b, c.as_str()), (2, 3, "3"));
            let raw: Vec<Value> = con.req_pipeline(&p).await.unwrap();
            assert_eq!(raw.len(), 6, "{proto:?}: MULTI, 4 x QUEUED, EXEC");
            assert!(raw[0].is_ok_status());
            assert_eq!(raw[1], Value::SimpleString("QUEUED".into()));
            assert!(matches!(&raw[5], Value::Array(items) if items.len() == 4));

            // A queued syntax error aborts the whole transaction.
            let untouched = uk("tx-untouched");
            let mut p = pipe();
            p.atomic()
                .add(commands::set(&untouched, "x"))
                .cmd("SET")
                .arg(&k)
                .add(commands::incr(&k, 1));
            let e = p.query::<Vec<Value>>(con).await.unwrap_err();
            let kind = e.server_kind().cloned();
            assert!(
                matches!(
                    kind,
                    Some(ServerErrorKind::ExecAbort) | Some(ServerErrorKind::Err)
                ),
                "{proto:?}: EXECABORT or the queued error, got {e}"
            );
            let got = con.exists::<_, i64>(&untouched).await.unwrap();
            assert_eq!(got, 0, "nothing ran");
            let got = con.get::<_, i64>(&k).await.unwrap();
            assert_eq!(got, 3);
            let raw: Vec<Value> = con.req_pipeline(&p).await.unwrap();
            match raw.last() {
                Some(Value::ServerError(se)) => {
                    assert_eq!(se.kind(), &ServerErrorKind::ExecAbort, "{proto:?}")
                }
                other => panic!("{proto:?}: EXEC should answer EXECABORT, got {other:?}"),
            }

            // A runtime error inside EXEC does not stop the other commands.
            let s = uk("tx-s");
            let mut p = pipe();
            p.atomic()
                .add(commands::set(&s, "str"))
                .add(commands::lpush(&s, "x"))
                .add(commands::incr(&k, 10));
            let e = p.query::<Vec<Value>>(con).await.unwrap_err();
            assert_eq!(
                e.server_kind(),
                Some(&ServerErrorKind::WrongType),
                "{proto:?}: {e}"
            );
            let got = con.get::<_, i64>(&k).await.unwrap();
            assert_eq!(got, 13, "the command after the error ran");

            // WATCH: a write from another connection aborts EXEC, which reads as None.
            blk.watch::<_, ()>(&k).await.unwrap();
            let seen: i64 = blk.get(&k).await.unwrap();
            con.set::<_, _, ()>(&k, 100).await.unwrap();
            let mut p = pipe();
            p.atomic()
                .add(commands::set(&k, seen + 1))
                .ignore()
                .add(commands::get(&k));
            let r: Option<(i64,)> = p.query(blk).await.unwrap();
            assert_eq!(r, None, "{proto:?}: WATCHed key changed");
            let got = con.get::<_, i64>(&k).await.unwrap();
            assert_eq!(got, 100);
            // Without interference the same transaction commits.
            blk.watch::<_, ()>(&k).await.unwrap();
            let seen: i64 = blk.get(&k).await.unwrap();
            let mut p = pipe();
            p.atomic()
                .add(commands::set(&k, seen + 1))
                .ignore()
                .add(commands::get(&k));
            let r: Option<(i64,)> = p.query(blk).await.unwrap();
            assert_eq!(r, Some((101,)));
            // UNWATCH forgets the watch.
            blk.watch::<_, ()>(&k).await.unwrap();
            blk.unwatch::<()>().await.unwrap();
            con.set::<_, _, ()>(&k, 7).await.unwrap();
            let mut p = pipe();
            p.atomic().add(commands::incr(&k, 1));
            let r: Option<(i64,)> = p.query(blk).await.unwrap();
            assert_eq!(r, Some((8,)));

            // Raw MULTI / EXEC on the dedicated connection.
            let got = cmd("MULTI").query::<String>(blk).await.unwrap();
            assert_eq!(got, "OK");
            let got = cmd("INCR").arg(&k).query::<String>(blk).await.unwrap();
            assert_eq!(got, "QUEUED");
            let (n,): (i64,) = cmd("EXEC").query(blk).await.unwrap();
            assert_eq!(n, 9);
            cmd("MULTI").execute(blk).await.unwrap();
            cmd("INCR").arg(&k).execute(blk).await.unwrap();
            let got = cmd("DISCARD").query::<String>(blk).await.unwrap();
            assert_eq!(got, "OK");
            let got = con.get::<_, i64>(&k).await.unwrap();
            assert_eq!(got, 9);
        }
    };
}
