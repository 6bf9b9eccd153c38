//! Decoder micro-benchmark: our sans-IO `redis_core::resp::Decoder` against redis-rs's public
//! parser (`redis::Parser::parse_value`), on the same bytes.
//!
//! Fairness: each of our iterations copies the input into a fresh `BytesMut` (our decoder
//! consumes an owned buffer, as the connection's read buffer is) and decodes it; the copy is
//! timed. redis-rs reads from a borrowed `&[u8]` through `Read`, copying into its internal
//! buffer and copying each bulk payload into a `Vec<u8>`; nothing extra is added for it.
//! Both parsers are reused across iterations, as their connections reuse them. The inputs
//! are the same functions `compare --decoder` uses (see `src/lib.rs`).
//!
//! Run: `CARGO_TARGET_DIR=... cargo bench --manifest-path bench/Cargo.toml --bench decoder`.
//! `compare --decoder` prints the ours/redis-rs ratio from a plain timing loop.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use redis_bench::{
    decode_ours, decode_redis_rs, large_bulk_reply, mixed_reply, shape_ours, shape_redis_rs,
};
use redis_core::resp::Decoder;

fn decoders(c: &mut Criterion) {
    for (name, input) in [
        ("mixed_array_100", mixed_reply()),
        ("bulk_1MiB", large_bulk_reply()),
    ] {
        // Check once that both read the same reply, so the timings compare like with like.
        assert_eq!(
            shape_ours(&decode_ours(&mut Decoder::default(), &input)),
            shape_redis_rs(&decode_redis_rs(&mut redis::Parser::new(), &input)),
            "the decoders disagree on {name}"
        );
        let mut group = c.benchmark_group(format!("decode/{name}"));
        group.throughput(Throughput::Bytes(input.len() as u64));
        let mut ours = Decoder::default();
        group.bench_function("ours", |b| {
            b.iter(|| black_box(decode_ours(&mut ours, black_box(&input))))
        });
        let mut parser = redis::Parser::new();
        group.bench_function("redis-rs", |b| {
            b.iter(|| black_box(decode_redis_rs(&mut parser, black_box(&input))))
        });
        group.finish();
    }
}

criterion_group!(benches, decoders);
criterion_main!(benches);
