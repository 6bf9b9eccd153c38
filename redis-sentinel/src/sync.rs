//! The blocking Sentinel client (feature `sync`, on by default).
