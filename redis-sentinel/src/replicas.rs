//! Which replicas the sentinels report fit to serve reads.
//!
//! `SENTINEL REPLICAS` lists every replica a sentinel has seen, including ones that are
//! down or cut off from the primary. A replica is skipped when the sentinel flags it
//! subjectively or objectively down (`s_down`, `o_down`) or `disconnected`, or when its
//! link to the primary is not `ok` (it would serve stale data, or refuse with
//! `MASTERDOWN`). One rule, here, so every client skips the same replicas.

use redis_core::routing::ReadFrom;
use redis_core::{Addr, Error, Result};

use crate::replies::Instance;

/// The flags that make a replica unfit for reads.
pub const UNUSABLE_FLAGS: [&str; 3] = ["s_down", "o_down", "disconnected"];

/// True when the sentinel reports this replica fit to serve reads: none of
/// [`UNUSABLE_FLAGS`], and `master-link-status` is `ok` (a missing status counts as not ok).
pub fn is_usable(replica: &Instance) -> bool {
    !UNUSABLE_FLAGS.iter().any(|f| replica.has_flag(f))
        && replica.get("master-link-status") == Some("ok")
}

/// Checks the read policy of a replica client: one that would read from the primary only
/// ([`ReadFrom::Primary`]) is refused with [`Error::InvalidConfig`] (use `master_for`).
pub fn check_replica_policy(read_from: &ReadFrom) -> Result<()> {
    if read_from.uses_replicas() {
        Ok(())
    } else {
        Err(Error::InvalidConfig(
            "replica_for needs a read policy that reads from replicas".to_owned(),
        ))
    }
}

/// The addresses of the usable replicas, in the order the sentinel at `asked` listed them
/// (`tls`: the replicas are reached over TLS). Replicas whose address the sentinel does not
/// know are skipped; a replica entry without a valid address is a protocol error.
pub fn usable_replicas(replicas: &[Instance], asked: &Addr, tls: bool) -> Result<Vec<Addr>> {
    let mut out = Vec::new();
    for r in replicas.iter().filter(|r| is_usable(r)) {
        if let Some(addr) = r.addr(asked, tls)? {
            if !out.contains(&addr) {
                out.push(addr);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replies::tests::{REPLICA_OK, REPLICA_SDOWN};

    fn instance(text: &str) -> Instance {
        let words: Vec<&str> = text.split(' ').collect();
        Instance::from_fields(words.chunks(2).map(|kv| (kv[0], kv[1])))
    }

    fn with(text: &str, field: &str, value: &str) -> Instance {
        let words: Vec<&str> = text.split(' ').collect();
        Instance::from_fields(words.chunks(2).map(|kv| {
            if kv[0] == field {
                (kv[0], value)
            } else {
                (kv[0], kv[1])
            }
        }))
    }

    #[test]
    fn recorded_replicas() {
        let ok = instance(REPLICA_OK);
        let sdown = instance(REPLICA_SDOWN);
        assert!(is_usable(&ok));
        assert!(!is_usable(&sdown));
        let asked = Addr::tcp("127.0.0.1", 27379);
        assert_eq!(
            usable_replicas(&[sdown, ok.clone(), ok], &asked, false).unwrap(),
            [Addr::tcp("127.0.0.1", 17380)]
        );
    }

    #[test]
    fn each_reason_to_skip() {
        for flags in ["slave,o_down", "disconnected,slave", "s_down,o_down,slave"] {
            assert!(!is_usable(&with(REPLICA_OK, "flags", flags)), "{flags}");
        }
        assert!(is_usable(&with(REPLICA_OK, "flags", "slave,promoted")));
        assert!(!is_usable(&with(REPLICA_OK, "master-link-status", "err")));
        let no_status = Instance::from_fields([("ip", "h"), ("port", "1"), ("flags", "slave")]);
        assert!(!is_usable(&no_status));
        let unknown_addr = with(REPLICA_OK, "ip", "?");
        let asked = Addr::tcp("s", 26379);
        assert_eq!(usable_replicas(&[unknown_addr], &asked, false).unwrap(), []);
        let bad_port = with(REPLICA_OK, "port", "none");
        assert!(usable_replicas(&[bad_port], &asked, false).is_err());
    }
}
