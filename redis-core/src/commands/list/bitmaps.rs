//! Bitmaps and bit fields.
//!
//! One group of the typed command list; see the parent module for the entry format and how the
//! groups are chained.

/// Appends this group's entries and hands over to the next group.
#[doc(hidden)]
#[macro_export]
macro_rules! __command_list_bitmaps {
    ([$next:path $(, $rest:path)*] $head:tt $($acc:tt)*) => {
        $next! { [$($rest),*] $head $($acc)*

        /// Set or clear the bit at `offset`; returns the old bit.
        "setbit" fn setbit<K: ToArgs>(key: K, offset: u64, value: bool) {
            cmd("SETBIT").with(key).with(offset).with(value)
        }

        /// The bit at `offset` (0 when out of range).
        "getbit" fn getbit<K: ToArgs>(key: K, offset: u64) { cmd("GETBIT").with(key).with(offset) }

        /// Number of set bits.
        "bitcount" fn bitcount<K: ToArgs>(key: K) { cmd("BITCOUNT").with(key) }

        /// Number of set bits between two byte offsets (inclusive, negative from the end).
        "bitcount" fn bitcount_range<K: ToArgs>(key: K, start: i64, end: i64) {
            cmd("BITCOUNT").with(key).with(start).with(end)
        }

        /// Number of set bits between two bit offsets (`BIT` unit).
        "bitcount" fn bitcount_range_bits<K: ToArgs>(key: K, start: i64, end: i64) {
            cmd("BITCOUNT").with(key).with(start).with(end).with("BIT")
        }

        /// Bitwise operation between keys, stored in `destination`; returns its length.
        "bitop" fn bitop<D: ToArgs, K: ToArgs>(op: BitOp, destination: D, keys: K) {
            cmd("BITOP").with(op).with(destination).with(keys)
        }

        /// Position of the first bit set to `bit` (-1 when none).
        "bitpos" fn bitpos<K: ToArgs>(key: K, bit: bool) { cmd("BITPOS").with(key).with(bit) }

        /// `bitpos` between two byte offsets (inclusive; `end` -1 = the last byte).
        "bitpos" fn bitpos_range<K: ToArgs>(key: K, bit: bool, start: i64, end: i64) {
            cmd("BITPOS").with(key).with(bit).with(start).with(end)
        }

        /// `bitpos` between two bit offsets (`BIT` unit).
        "bitpos" fn bitpos_range_bits<K: ToArgs>(key: K, bit: bool, start: i64, end: i64) {
            cmd("BITPOS").with(key).with(bit).with(start).with(end).with("BIT")
        }

        /// Run GET/SET/INCRBY/OVERFLOW operations on integer fields; returns one reply per
        /// GET/SET/INCRBY.
        "bitfield" fn bitfield<K: ToArgs>(key: K, ops: BitFieldOps) { cmd("BITFIELD").with(key).with(ops) }

        /// Read-only `BITFIELD` (GET operations only), safe on replicas.
        "bitfield_ro" fn bitfield_ro<K: ToArgs>(key: K, ops: BitFieldOps) {
            cmd("BITFIELD_RO").with(key).with(ops)
        }
        }
    };
}
