//! Shared pieces of the benchmarks: the reply inputs the decoder benchmarks parse, one
//! decode step per decoder, and a check that both decoders read the same thing.
//!
//! Used by `benches/decoder.rs` (criterion) and by `compare --decoder` (a plain timing loop
//! that prints the ratio), so both measure exactly the same work.

pub mod measure;

use bytes::BytesMut;
use redis_core::resp::Decoder;
use redis_core::Value;

/// A mixed RESP2 array reply of 100 elements, shaped like a real multi-key reply:
/// bulk strings of 10 to 100 bytes, integers, nested arrays of 3 items, and one nil.
pub fn mixed_reply() -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(b"*100\r\n");
    for i in 0..100usize {
        if i == 50 {
            out.extend_from_slice(b"$-1\r\n");
            continue;
        }
        match i % 4 {
            0 | 3 => push_bulk(&mut out, 10 + (i * 37) % 91, i),
            1 => {
                let n = (i as i64) * 12_345 - 500_000;
                out.extend_from_slice(format!(":{n}\r\n").as_bytes());
            }
            _ => {
                out.extend_from_slice(b"*3\r\n");
                push_bulk(&mut out, 12, i);
                out.extend_from_slice(format!(":{i}\r\n").as_bytes());
                push_bulk(&mut out, 40, i + 1);
            }
        }
    }
    out
}

/// One 1 MiB bulk string reply.
pub fn large_bulk_reply() -> Vec<u8> {
    let mut out = Vec::with_capacity(LARGE + 32);
    push_bulk(&mut out, LARGE, 7);
    out
}

/// 1 MiB: the value size of the large workloads.
pub const LARGE: usize = 1024 * 1024;

fn push_bulk(out: &mut Vec<u8>, len: usize, seed: usize) {
    out.extend_from_slice(format!("${len}\r\n").as_bytes());
    out.extend((0..len).map(|j| b'a' + ((j + seed) % 26) as u8));
    out.extend_from_slice(b"\r\n");
}

/// Our decoder on one reply. The input is copied into a fresh `BytesMut` first, because our
/// decoder consumes an owned buffer (as the connection's read buffer is); the copy is part
/// of the measured work. Bulk payloads then come out as slices of that buffer, no 2nd copy.
pub fn decode_ours(decoder: &mut Decoder, input: &[u8]) -> Value {
    let mut buf = BytesMut::from(input);
    decoder
        .decode(&mut buf)
        .expect("our decoder rejected a valid reply")
        .expect("our decoder wanted more bytes on a complete reply")
}

/// redis-rs's public parser on one reply. It reads from any `Read`, so it borrows the
/// input; internally it copies what it reads into its own buffer and copies every bulk
/// payload into a `Vec<u8>`, so both sides pay for copying the input once (or more).
/// The parser is reused across iterations, as its `Connection` does.
pub fn decode_redis_rs(parser: &mut redis::Parser, input: &[u8]) -> redis::Value {
    parser
        .parse_value(input)
        .expect("redis-rs rejected a valid reply")
}

/// A plain description of a reply, to check that both decoders read the same thing.
#[derive(Debug, PartialEq, Eq)]
pub enum Shape {
    /// nil
    Nil,
    /// integer
    Int(i64),
    /// bulk string
    Bulk(Vec<u8>),
    /// array
    Array(Vec<Shape>),
    /// anything else (the inputs here have none)
    Other,
}

/// Our value, described.
pub fn shape_ours(v: &Value) -> Shape {
    match v {
        Value::Nil => Shape::Nil,
        Value::Int(i) => Shape::Int(*i),
        Value::BulkString(b) => Shape::Bulk(b.to_vec()),
        Value::Array(items) => Shape::Array(items.iter().map(shape_ours).collect()),
        _ => Shape::Other,
    }
}

/// redis-rs's value, described.
pub fn shape_redis_rs(v: &redis::Value) -> Shape {
    match v {
        redis::Value::Nil => Shape::Nil,
        redis::Value::Int(i) => Shape::Int(*i),
        redis::Value::BulkString(b) => Shape::Bulk(b.clone()),
        redis::Value::Array(items) => Shape::Array(items.iter().map(shape_redis_rs).collect()),
        _ => Shape::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_decoders_agree_on_the_inputs() {
        for input in [mixed_reply(), large_bulk_reply()] {
            let ours = decode_ours(&mut Decoder::default(), &input);
            let theirs = decode_redis_rs(&mut redis::Parser::new(), &input);
            assert_eq!(shape_ours(&ours), shape_redis_rs(&theirs));
        }
        let Shape::Array(items) = shape_ours(&decode_ours(&mut Decoder::default(), &mixed_reply()))
        else {
            panic!("not an array")
        };
        assert_eq!(items.len(), 100);
        assert!(items.contains(&Shape::Nil));
    }
}
