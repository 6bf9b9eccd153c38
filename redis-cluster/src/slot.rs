//! Hash slots: which of the 16384 slots a key belongs to.
//!
//! Redis Cluster hashes a key with CRC16/XMODEM and keeps the low 14 bits. A *hash tag*
//! lets callers put related keys in one slot: when the key holds `{`, then a `}` after it,
//! with at least one byte between them, only those bytes are hashed (`{user1}.a` and
//! `{user1}.b` share a slot). This must match the server bit for bit, or every command
//! would be redirected; the tests pin the server's own examples.

/// Number of hash slots in a Redis Cluster.
pub const SLOT_COUNT: u16 = 16384;

/// The hash slot of `key` (0..16384).
pub fn slot(key: &[u8]) -> u16 {
    crc16::State::<crc16::XMODEM>::calculate(hash_tag(key)) % SLOT_COUNT
}

/// The part of `key` that is hashed: the bytes between the first `{` and the first `}`
/// after it when there is at least one, else the whole key.
pub fn hash_tag(key: &[u8]) -> &[u8] {
    if !has_open_brace(key) {
        return key;
    }
    let Some(open) = key.iter().position(|&b| b == b'{') else {
        return key;
    };
    let after = &key[open + 1..];
    match after.iter().position(|&b| b == b'}') {
        Some(close) if close > 0 => &after[..close],
        _ => key,
    }
}

/// Whether `key` holds a `{`. Most keys have none, and a pipeline routes every key: eight
/// bytes are checked at once (a byte of `word ^ "{{{{{{{{"` is zero where `word` has a
/// `{`, and `(x - 0x01..01) & !x & 0x80..80` is non-zero exactly when `x` has a zero byte).
fn has_open_brace(key: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const BRACES: u64 = ONES * b'{' as u64;
    let mut words = key.chunks_exact(8);
    for w in &mut words {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(w);
        let x = u64::from_le_bytes(bytes) ^ BRACES;
        if x.wrapping_sub(ONES) & !x & (ONES << 7) != 0 {
            return true;
        }
    }
    words.remainder().contains(&b'{')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc16_check_value() {
        // The standard check value of CRC16/XMODEM.
        assert_eq!(
            crc16::State::<crc16::XMODEM>::calculate(b"123456789"),
            0x31C3
        );
        assert_eq!(slot(b"123456789"), 0x31C3 % SLOT_COUNT);
    }

    #[test]
    fn known_slots() {
        // Values from `CLUSTER KEYSLOT` on a real server.
        assert_eq!(slot(b"foo"), 12182);
        assert_eq!(slot(b"bar"), 5061);
        assert_eq!(slot(b"hello"), 866);
        assert_eq!(slot(b""), 0);
        assert_eq!(slot(b"user1000"), slot(b"{user1000}"));
    }

    #[test]
    fn hash_tags() {
        assert_eq!(slot(b"{user1000}.following"), slot(b"{user1000}.followers"));
        assert_eq!(hash_tag(b"{user1000}.following"), b"user1000");
        // Empty tag: the whole key is hashed.
        assert_eq!(hash_tag(b"foo{}{bar}"), b"foo{}{bar}");
        // First `{`, then the first `}` after it.
        assert_eq!(hash_tag(b"foo{{bar}}zap"), b"{bar");
        assert_eq!(hash_tag(b"foo{bar}{zap}"), b"bar");
        // No closing brace, or only one before the opening: whole key.
        assert_eq!(hash_tag(b"foo{bar"), b"foo{bar");
        assert_eq!(hash_tag(b"}foo{bar"), b"}foo{bar");
        assert_eq!(hash_tag(b"{}"), b"{}");
        assert_eq!(hash_tag(b"a{b}"), b"b");
    }

    #[test]
    fn an_open_brace_is_found_anywhere() {
        // Every length up to three words, a `{` at every place, and bytes that differ
        // from `{` by one bit or by the borrow of the word test around it.
        for len in 0..=24 {
            for fill in [
                b'a',
                b'z',
                b'{' ^ 1,
                b'{' - 1,
                b'{' + 1,
                0x80,
                0xfb,
                0xff,
                0,
            ] {
                let mut key = vec![fill; len];
                assert!(!has_open_brace(&key), "len {len} fill {fill}");
                for at in 0..len {
                    key[at] = b'{';
                    assert!(has_open_brace(&key), "len {len} fill {fill} at {at}");
                    key[at] = fill;
                }
            }
        }
    }

    #[test]
    fn every_slot_is_in_range() {
        for i in 0..100_000u32 {
            assert!(slot(i.to_string().as_bytes()) < SLOT_COUNT);
        }
    }
}
