//! Property tests of the sans-IO decoder: round trips, arbitrary splits of the input,
//! and hostile inputs that must give errors (never a panic or unbounded memory).

use bytes::{Bytes, BytesMut};
use proptest::prelude::*;
use redis_core::resp::{encode_value, Decoder, DecoderLimits};
use redis_core::{ServerError, Value};

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Nil),
        any::<i64>().prop_map(Value::Int),
        proptest::collection::vec(any::<u8>(), 0..64)
            .prop_map(|b| Value::BulkString(Bytes::from(b))),
        "[a-zA-Z0-9 ]{0,20}".prop_map(|s| if s == "OK" {
            Value::Okay
        } else {
            Value::SimpleString(s)
        }),
        Just(Value::Okay),
        any::<bool>().prop_map(Value::Boolean),
        any::<f64>()
            .prop_filter("NaN never equals itself", |d| !d.is_nan())
            .prop_map(Value::Double),
        "-?[1-9][0-9]{0,40}".prop_map(Value::BigNumber),
        ("[a-z]{3}", proptest::collection::vec(any::<u8>(), 0..32)).prop_map(|(format, t)| {
            Value::VerbatimString {
                format,
                text: Bytes::from(t),
            }
        }),
        ("[A-Z]{1,10}", "[a-z0-9 :.]{0,20}").prop_map(|(code, msg)| {
            let line = if msg.is_empty() {
                code
            } else {
                format!("{code} {msg}")
            };
            Value::ServerError(ServerError::parse(&line))
        }),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            proptest::collection::vec(inner.clone(), 0..8).prop_map(Value::Set),
            proptest::collection::vec(inner.clone(), 1..8).prop_map(Value::Push),
            proptest::collection::vec((inner.clone(), inner.clone()), 0..6).prop_map(Value::Map),
            (
                inner.clone(),
                proptest::collection::vec((inner.clone(), inner), 1..3)
            )
                .prop_map(|(data, attributes)| Value::Attribute {
                    data: Box::new(data),
                    attributes
                }),
        ]
    })
}

fn decode_all(dec: &mut Decoder, buf: &mut BytesMut) -> Result<Vec<Value>, redis_core::Error> {
    let mut out = Vec::new();
    while let Some(v) = dec.decode(buf)? {
        out.push(v);
    }
    Ok(out)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn round_trip(values in proptest::collection::vec(value(), 1..6)) {
        let mut wire = Vec::new();
        for v in &values {
            encode_value(v, &mut wire);
        }
        let mut buf = BytesMut::from(&wire[..]);
        let got = decode_all(&mut Decoder::default(), &mut buf).unwrap();
        prop_assert_eq!(got, values);
        prop_assert!(buf.is_empty());
    }

    #[test]
    fn any_split_gives_the_same_values(
        values in proptest::collection::vec(value(), 1..6),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..12),
    ) {
        let mut wire = Vec::new();
        for v in &values {
            encode_value(v, &mut wire);
        }
        let mut points: Vec<usize> = cuts.iter().map(|i| i.index(wire.len() + 1)).collect();
        points.push(wire.len());
        points.sort_unstable();
        let mut dec = Decoder::default();
        let mut buf = BytesMut::new();
        let mut got = Vec::new();
        let mut from = 0;
        for p in points {
            buf.extend_from_slice(&wire[from..p]);
            from = p;
            got.extend(decode_all(&mut dec, &mut buf).unwrap());
        }
        prop_assert_eq!(got, values);
    }

    #[test]
    fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let mut buf = BytesMut::from(&bytes[..]);
        let _ = decode_all(&mut Decoder::default(), &mut buf);
    }

    #[test]
    fn prefixed_garbage_never_panics(
        prefix in prop::sample::select(vec!["*", "$", "%", "~", ">", "|", "=", "!", ",", "(", "#", ":", "_", "+", "-"]),
        rest in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let mut bytes = prefix.as_bytes().to_vec();
        bytes.extend(rest);
        let mut buf = BytesMut::from(&bytes[..]);
        let _ = decode_all(&mut Decoder::default(), &mut buf);
    }
}

fn must_fail(input: &[u8]) {
    let mut buf = BytesMut::from(input);
    let r = decode_all(&mut Decoder::default(), &mut buf);
    assert!(
        r.is_err(),
        "{:?} was accepted",
        String::from_utf8_lossy(&input[..input.len().min(40)])
    );
}

#[test]
fn hostile_lengths_and_framing_are_errors() {
    must_fail(b"$9999999999\r\n");
    must_fail(b"$-5\r\n");
    must_fail(b"*-7\r\n");
    must_fail(b"*99999999999\r\n");
    must_fail(b"%-1\r\n");
    must_fail(b"+OK\rX\n");
    must_fail(b"+OK\n");
    must_fail(b"$3\r\nabcde\r\n");
    must_fail(b":--1\r\n");
    must_fail(b"\x00\x01\x02\r\n");
    must_fail(&b"*1\r\n".repeat(100_000));
}

#[test]
fn endless_aggregate_hits_the_memory_cap() {
    let limits = DecoderLimits {
        max_reply_bytes: 8 << 20,
        ..DecoderLimits::default()
    };
    let mut dec = Decoder::new(limits);
    let mut buf = BytesMut::from(&b"*2147483647\r\n"[..]);
    let chunk = b":1\r\n".repeat(4096);
    let mut fed = 0usize;
    let err = loop {
        buf.extend_from_slice(&chunk);
        fed += chunk.len();
        match dec.decode(&mut buf) {
            Ok(None) => {}
            Ok(Some(_)) => panic!("an endless array cannot complete"),
            Err(e) => break e,
        }
        assert!(fed < 64 << 20, "fed 64 MiB without hitting an 8 MiB cap");
    };
    assert!(err.to_string().contains("limit"), "{err}");
}

#[test]
fn huge_declared_aggregate_does_not_preallocate() {
    // A peer that declares 2^31 elements and sends none must not make us reserve memory
    // for them: decoding the header alone stays within the default cap.
    let mut buf = BytesMut::from(&b"*2147483647\r\n"[..]);
    let mut dec = Decoder::default();
    assert!(dec.decode(&mut buf).unwrap().is_none());
    let mut buf = BytesMut::from(&b"%2147483647\r\n"[..]);
    let mut dec = Decoder::default();
    assert!(dec.decode(&mut buf).unwrap().is_none());
}
