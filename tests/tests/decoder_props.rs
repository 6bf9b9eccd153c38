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
        (
            any::<[u8; 3]>(),
            proptest::collection::vec(any::<u8>(), 0..32)
        )
            .prop_map(|(format, t)| {
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

/// What decoding a byte stream gave: the replies, then whether it stopped on an error.
type Outcome = (Vec<Value>, bool);

fn outcome_whole(limits: DecoderLimits, wire: &[u8]) -> Outcome {
    let mut dec = Decoder::new(limits);
    let mut buf = BytesMut::from(wire);
    let mut got = Vec::new();
    loop {
        match dec.decode(&mut buf) {
            Ok(Some(v)) => got.push(v),
            Ok(None) => return (got, false),
            Err(_) => return (got, true),
        }
    }
}

fn outcome_split(limits: DecoderLimits, wire: &[u8], mut points: Vec<usize>) -> Outcome {
    points.push(wire.len());
    points.sort_unstable();
    let mut dec = Decoder::new(limits);
    let mut buf = BytesMut::new();
    let mut got = Vec::new();
    let mut from = 0;
    for p in points {
        buf.extend_from_slice(&wire[from..p]);
        from = p;
        loop {
            match dec.decode(&mut buf) {
                Ok(Some(v)) => got.push(v),
                Ok(None) => break,
                Err(_) => return (got, true),
            }
        }
    }
    (got, false)
}

fn byte_by_byte(limits: DecoderLimits, wire: &[u8]) -> Outcome {
    outcome_split(limits, wire, (0..wire.len()).collect())
}

fn limits() -> impl Strategy<Value = DecoderLimits> {
    prop_oneof![
        Just(DecoderLimits::default()),
        (0usize..48, 0usize..10, 0usize..6, 0usize..1500).prop_map(|(bulk, agg, depth, bytes)| {
            DecoderLimits {
                max_bulk_len: bulk,
                max_aggregate_len: agg,
                max_depth: depth,
                max_reply_bytes: bytes,
            }
        }),
    ]
}

/// Valid replies, then maybe damaged: bytes overwritten, inserted or cut off.
fn wire() -> impl Strategy<Value = Vec<u8>> {
    let valid = proptest::collection::vec(value(), 1..5).prop_map(|values| {
        let mut wire = Vec::new();
        for v in &values {
            encode_value(v, &mut wire);
        }
        wire
    });
    let damage = proptest::collection::vec(
        (
            any::<prop::sample::Index>(),
            prop::sample::select(b"\r\n\xff0*|$+-:(=~%>_#,!19 ".to_vec()),
            0u8..3,
        ),
        0..4,
    );
    prop_oneof![
        3 => (valid, damage).prop_map(|(mut wire, damage)| {
            for (at, byte, how) in damage {
                if wire.is_empty() {
                    break;
                }
                let i = at.index(wire.len());
                match how {
                    0 => wire[i] = byte,
                    1 => wire.insert(i, byte),
                    _ => wire.truncate(i),
                }
            }
            wire
        }),
        1 => proptest::collection::vec(any::<u8>(), 0..128),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    /// The same bytes give the same replies and the same error/ok outcome however they are
    /// split across reads, for valid and damaged input, with default and with tiny limits.
    #[test]
    fn chunking_never_changes_the_outcome(
        limits in limits(),
        wire in wire(),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..16),
    ) {
        let whole = outcome_whole(limits, &wire);
        let points = cuts.iter().map(|i| i.index(wire.len() + 1)).collect();
        prop_assert_eq!(&outcome_split(limits, &wire, points), &whole);
        prop_assert_eq!(&byte_by_byte(limits, &wire), &whole);
    }
}

#[test]
fn reply_budget_is_the_same_whole_or_byte_by_byte() {
    // A 3-element array was rejected whole (charged twice) but accepted byte by byte.
    let wire = b"*3\r\n:1\r\n:2\r\n:3\r\n";
    let cost = 3 * std::mem::size_of::<Value>();
    for budget in [cost - 1, cost, cost * 2] {
        let limits = DecoderLimits {
            max_reply_bytes: budget,
            ..DecoderLimits::default()
        };
        let whole = outcome_whole(limits, wire);
        assert_eq!(whole, byte_by_byte(limits, wire), "budget {budget}");
        assert_eq!(whole.1, budget < cost, "budget {budget}: {whole:?}");
    }
}

#[test]
fn max_bulk_len_bounds_status_and_error_lines_whole_or_split() {
    let limits = DecoderLimits {
        max_bulk_len: 8,
        ..DecoderLimits::default()
    };
    for line in [
        &b"-ERR this error line is long\r\n"[..],
        b"+a status line that is long\r\n",
        b"(123456789012345678901234567890\r\n",
    ] {
        let whole = outcome_whole(limits, line);
        assert!(
            whole.1,
            "{:?} accepted whole",
            String::from_utf8_lossy(line)
        );
        assert_eq!(whole, byte_by_byte(limits, line));
    }
    // At the limit is fine.
    assert_eq!(
        outcome_whole(limits, b"-ERR 1234\r\n").0.len(),
        1,
        "an 8-byte error line is within an 8-byte limit"
    );
}

#[test]
fn server_text_that_is_not_utf8_is_data() {
    let (got, failed) = outcome_whole(
        DecoderLimits::default(),
        b"+bad \xff\r\n-ERR bad \xff\r\n=7\r\n\xfft\xf0:abc\r\n!8\r\nERR \xff\xfe\xfd!\r\n",
    );
    assert!(!failed, "{got:?}");
    assert_eq!(got[0], Value::SimpleString("bad \u{fffd}".into()));
    match &got[1] {
        Value::ServerError(e) => {
            assert_eq!(e.code(), "ERR");
            assert_eq!(e.message(), "bad \u{fffd}");
        }
        other => panic!("{other:?}"),
    }
    match &got[2] {
        Value::VerbatimString { format, text } => {
            assert_eq!(format, b"\xfft\xf0");
            assert_eq!(&text[..], b"abc");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(&got[3], Value::ServerError(e) if e.code() == "ERR"));
    assert_eq!(got.len(), 4);
}

#[test]
fn empty_attributes_count_towards_the_depth_limit() {
    let mut wire = b"|0\r\n".repeat(50_000);
    wire.extend_from_slice(b":1\r\n");
    let (got, failed) = outcome_whole(DecoderLimits::default(), &wire);
    assert!(failed, "an attribute chain 50,000 deep was accepted");
    assert!(got.is_empty());
    // Mixed with arrays and non-empty attributes, the limit counts every level.
    let limits = DecoderLimits {
        max_depth: 4,
        ..DecoderLimits::default()
    };
    assert!(!outcome_whole(limits, b"|0\r\n*1\r\n|1\r\n:1\r\n:2\r\n*1\r\n:3\r\n").1);
    assert!(outcome_whole(limits, b"|0\r\n*1\r\n|1\r\n:1\r\n:2\r\n*1\r\n|0\r\n:3\r\n").1);
}

#[test]
fn the_deepest_value_allowed_drops_on_a_small_stack() {
    // A value as deep as the default limit allows, alternating arrays and attributes, is
    // dropped (recursively) on a 128 KiB stack.
    let depth = DecoderLimits::default().max_depth;
    let mut wire = Vec::new();
    for i in 0..depth {
        wire.extend_from_slice(if i % 2 == 0 { b"*1\r\n" } else { b"|0\r\n" });
    }
    wire.extend_from_slice(b":1\r\n");
    let (mut got, failed) = outcome_whole(DecoderLimits::default(), &wire);
    assert!(!failed);
    let v = got.pop().unwrap();
    std::thread::Builder::new()
        .stack_size(128 * 1024)
        .spawn(move || drop(v))
        .unwrap()
        .join()
        .unwrap();
}
