//! What an error reply from a cluster node asks the client to do next.
//!
//! Some error replies are not the caller's business but the cluster's way of steering the
//! client: the slot moved (`MOVED`), is being migrated (`ASK`), or the cluster is briefly
//! unable to serve it (`TRYAGAIN`, `CLUSTERDOWN`, `LOADING`, `MASTERDOWN`), or a node the
//! client believed primary was demoted (`READONLY`). Each of these proves the command did
//! not run, so the command may be re-sent whatever it is. [`decide`] turns the error into
//! one [`Redirect`]; the shells carry it out (and count redirects against their limit).
//! Redirect addresses are read relative to the node that answered (an empty host means
//! that node's host) and go through the same remap hook as the slot map's.

use redis_core::{cmd, Addr, Cmd, Error, ServerErrorKind};

use crate::slot_map::AddrContext;

/// The next step after an error reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Redirect {
    /// `MOVED`: the slot is served by `addr` for good. Update the map
    /// ([`SlotMap::apply_moved`](crate::SlotMap::apply_moved)), ask for a topology refresh
    /// (others slots probably moved too), and re-send at once to `addr`.
    Moved {
        /// The slot.
        slot: u16,
        /// Where it is now.
        addr: Addr,
    },
    /// `ASK`: the slot is being migrated and this key may already be at `addr`. Send
    /// [`asking`] and then the command to `addr`, on one connection, once; the map is
    /// not changed.
    Ask {
        /// The slot.
        slot: u16,
        /// The importing node.
        addr: Addr,
    },
    /// A brief refusal (`TRYAGAIN` during resharding, `CLUSTERDOWN`, `LOADING`,
    /// `MASTERDOWN`): wait with backoff and jitter, then re-send, within the request's
    /// deadline.
    RetryLater {
        /// Also refresh the topology (`CLUSTERDOWN`, `MASTERDOWN`: a failover may be under
        /// way; `TRYAGAIN` and `LOADING` leave the map as it is).
        refresh: bool,
    },
    /// The map is wrong about this node: refresh the topology, then re-send by the new
    /// map. For `READONLY` from a node believed primary (it was demoted), and for a
    /// redirect to a node whose address the server does not know yet (`?`).
    RefreshAndRetry,
    /// Not a cluster condition (or not one this node should have sent): return the error
    /// to the caller.
    Return,
}

/// The `ASKING` command sent before the command an [`Redirect::Ask`] re-sends.
pub fn asking() -> Cmd {
    cmd("ASKING")
}

/// Decides what `err`, answered by the node `from.asked`, asks for. `believed_primary`
/// says whether the client's map has that node as a primary (only then is `READONLY` a
/// sign of a stale map). A redirect whose address cannot be read is [`Redirect::Return`]:
/// the caller gets the server's error as it is.
pub fn decide(err: &Error, from: &AddrContext<'_>, believed_primary: bool) -> Redirect {
    let Some(kind) = err.server_kind() else {
        return Redirect::Return;
    };
    match kind {
        ServerErrorKind::Moved { slot, addr } | ServerErrorKind::Ask { slot, addr } => {
            let endpoint = match Addr::parse_node(addr, from.tls) {
                Ok(e) => e,
                Err(_) => return Redirect::Return,
            };
            match from.resolve(endpoint) {
                None => Redirect::RefreshAndRetry,
                Some(addr) if matches!(kind, ServerErrorKind::Moved { .. }) => {
                    Redirect::Moved { slot: *slot, addr }
                }
                Some(addr) => Redirect::Ask { slot: *slot, addr },
            }
        }
        ServerErrorKind::TryAgain | ServerErrorKind::Loading => {
            Redirect::RetryLater { refresh: false }
        }
        ServerErrorKind::ClusterDown | ServerErrorKind::MasterDown => {
            Redirect::RetryLater { refresh: true }
        }
        ServerErrorKind::ReadOnly if believed_primary => Redirect::RefreshAndRetry,
        _ => Redirect::Return,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use redis_core::ServerError;

    fn server(line: &str) -> Error {
        Error::Server(ServerError::parse(line))
    }

    fn tcp(host: &str, port: u16) -> Addr {
        Addr::tcp(host, port)
    }

    #[test]
    fn moved_and_ask() {
        let asked = tcp("10.0.0.1", 7000);
        let ctx = AddrContext::new(&asked, false);
        let d = |line| decide(&server(line), &ctx, true);
        assert_eq!(
            d("MOVED 3999 127.0.0.1:6381"),
            Redirect::Moved {
                slot: 3999,
                addr: tcp("127.0.0.1", 6381)
            }
        );
        assert_eq!(
            d("ASK 3999 [::1]:6381"),
            Redirect::Ask {
                slot: 3999,
                addr: tcp("::1", 6381)
            }
        );
        assert_eq!(
            d("MOVED 1 node-2.example:7001"),
            Redirect::Moved {
                slot: 1,
                addr: tcp("node-2.example", 7001)
            }
        );
        // Empty host: the node that answered; `?`: unknown yet.
        assert_eq!(
            d("MOVED 1 :7001"),
            Redirect::Moved {
                slot: 1,
                addr: tcp("10.0.0.1", 7001)
            }
        );
        assert_eq!(d("MOVED 1 ?:7001"), Redirect::RefreshAndRetry);
        // Unreadable: returned as it is.
        assert_eq!(d("MOVED 1 host"), Redirect::Return);
        assert_eq!(d("MOVED 1 bad host:1"), Redirect::Return);
        assert_eq!(asking(), cmd("ASKING"));
    }

    #[test]
    fn tls_and_remap_apply_to_redirects() {
        let asked = Addr::Tls {
            host: "10.0.0.1".into(),
            port: 7000,
        };
        let remap = |a: Addr| match a {
            Addr::Tls { port, .. } => Addr::Tls {
                host: "proxy".into(),
                port: port + 1,
            },
            other => other,
        };
        let ctx = AddrContext::new(&asked, true).with_remap(&remap);
        assert_eq!(
            decide(&server("ASK 5 10.0.0.2:7001"), &ctx, true),
            Redirect::Ask {
                slot: 5,
                addr: Addr::Tls {
                    host: "proxy".into(),
                    port: 7002
                }
            }
        );
    }

    #[test]
    fn refusals_and_other_errors() {
        let asked = tcp("h", 1);
        let ctx = AddrContext::new(&asked, false);
        let d = |e: Error, primary| decide(&e, &ctx, primary);
        let later = |refresh| Redirect::RetryLater { refresh };
        assert_eq!(d(server("TRYAGAIN Multiple keys"), true), later(false));
        assert_eq!(d(server("LOADING loading"), true), later(false));
        assert_eq!(
            d(server("CLUSTERDOWN The cluster is down"), true),
            later(true)
        );
        assert_eq!(d(server("MASTERDOWN link down"), false), later(true));
        assert_eq!(
            d(server("READONLY You can't write"), true),
            Redirect::RefreshAndRetry
        );
        assert_eq!(
            d(server("READONLY You can't write"), false),
            Redirect::Return
        );
        assert_eq!(d(server("WRONGTYPE x"), true), Redirect::Return);
        assert_eq!(d(server("ERR x"), true), Redirect::Return);
        assert_eq!(d(server("CROSSSLOT Keys"), true), Redirect::Return);
        assert_eq!(d(Error::protocol("x"), true), Redirect::Return);
    }
}
