//! The pieces of the `SET NX` distributed lock that are not I/O.
//!
//! A lock is a key holding a random token, set with `SET key token NX PX ttl`. Releasing
//! and extending compare the stored token first, in Lua, so a holder whose lock expired and
//! was taken by someone else can never delete or extend the new holder's key.

use std::time::Duration;

use rand::RngCore;

use crate::cmd::{cmd, Cmd};
use crate::script::Script;

/// Deletes the key only if it still holds our token. Returns 1 if deleted, else 0.
pub const RELEASE_SCRIPT: &str = r#"
if redis.call("GET", KEYS[1]) == ARGV[1] then
    return redis.call("DEL", KEYS[1])
end
return 0
"#;

/// Sets a new TTL (ms, ARGV[2]) only if the key still holds our token. Returns 1 or 0.
pub const EXTEND_SCRIPT: &str = r#"
if redis.call("GET", KEYS[1]) == ARGV[1] then
    return redis.call("PEXPIRE", KEYS[1], ARGV[2])
end
return 0
"#;

/// The release script, ready to invoke.
pub fn release_script() -> Script {
    Script::new(RELEASE_SCRIPT)
}

/// The extend script, ready to invoke.
pub fn extend_script() -> Script {
    Script::new(EXTEND_SCRIPT)
}

/// A fresh random token (128 bits, hex).
pub fn new_token() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `SET key token NX PX ttl_ms`: replies OK when acquired, nil when held by another.
pub fn acquire_cmd(key: &str, token: &str, ttl: Duration) -> Cmd {
    cmd("SET")
        .with(key)
        .with(token)
        .with("NX")
        .with("PX")
        .with(ttl_millis(ttl))
}

/// A TTL in whole milliseconds, at least 1.
pub fn ttl_millis(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_differ_and_command_shape() {
        let a = new_token();
        assert_eq!(a.len(), 32);
        assert_ne!(a, new_token());
        let c = acquire_cmd("l", &a, Duration::from_micros(10));
        let args: Vec<&[u8]> = c.args().collect();
        assert_eq!(args[3..], [&b"NX"[..], b"PX", b"1"]);
    }
}
