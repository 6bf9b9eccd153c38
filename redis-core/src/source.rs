//! Where a connection goes, and what it must prove before it is handed out.
//!
//! A standalone client always dials the address in its config. A cluster client dials the
//! node that owns a slot, and a replica there only serves reads after `READONLY`; a
//! Sentinel client dials whatever the sentinels name as primary or replica, and must check
//! with `ROLE` that the node still is what they said (a demoted primary keeps accepting
//! connections). The blocking pool, the async managed connection and pub/sub reconnects all
//! open connections the same way, so they all take a [`Target`] from a *connection source*
//! (one trait per shell, since resolving may do I/O) instead of a fixed address.
//!
//! This module holds the pure half: the target, the extra steps a target needs after the
//! handshake, and how their replies are judged.

use crate::cmd::cmd;
use crate::config::{Addr, Config};
use crate::error::{Error, Result};
use crate::pipeline::Pipeline;
use crate::value::Value;

/// The role a node must report to `ROLE` before a connection to it is used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// A primary (`ROLE` says `master`).
    Primary,
    /// A replica (`ROLE` says `slave`).
    Replica,
}

impl Role {
    /// The word `ROLE` answers for this role.
    pub fn as_reply(self) -> &'static str {
        match self {
            Role::Primary => "master",
            Role::Replica => "slave",
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Role::Primary => "primary",
            Role::Replica => "replica",
        })
    }
}

/// One resolved place to connect to: the config (its address included) and what the
/// connection must do or prove after the handshake.
#[derive(Clone, Debug)]
pub struct Target {
    /// Address, credentials, timeouts and the rest, as for any connection.
    pub config: Config,
    /// Send `READONLY` after the handshake (a cluster replica that serves reads).
    pub read_only: bool,
    /// Check `ROLE` after the handshake and refuse the node unless it reports this role.
    pub expect_role: Option<Role>,
}

impl Target {
    /// The config's own address, with no extra step (a standalone server).
    pub fn fixed(config: Config) -> Target {
        Target {
            config,
            read_only: false,
            expect_role: None,
        }
    }

    /// A cluster node: the base config with `addr` swapped in and no `SELECT` (a cluster
    /// has only database 0); a replica gets `READONLY` so it serves reads.
    pub fn cluster_node(base: &Config, addr: Addr, replica: bool) -> Target {
        let mut config = base.clone();
        config.addr = addr;
        config.db = 0;
        Target {
            config,
            read_only: replica,
            expect_role: None,
        }
    }

    /// A node named by the sentinels: the base config with `addr` swapped in, checked with
    /// `ROLE` to be `role` before use.
    pub fn resolved(base: &Config, addr: Addr, role: Role) -> Target {
        let mut config = base.clone();
        config.addr = addr;
        Target {
            config,
            read_only: false,
            expect_role: Some(role),
        }
    }

    /// The address dialled.
    pub fn addr(&self) -> &Addr {
        &self.config.addr
    }

    /// The commands to run after the handshake (empty for a fixed target).
    pub fn checks(&self) -> Pipeline {
        let mut p = Pipeline::new();
        if self.read_only {
            p.add(cmd("READONLY"));
        }
        if self.expect_role.is_some() {
            p.add(cmd("ROLE"));
        }
        p
    }

    /// Judges the replies to [`checks`](Self::checks): an error reply fails the connection,
    /// and so does a `ROLE` that is not the expected one ([`Error::RoleMismatch`]).
    pub fn verify(&self, replies: Vec<Value>) -> Result<()> {
        let mut replies = replies.into_iter();
        if self.read_only {
            replies.next().unwrap_or(Value::Nil).into_result()?;
        }
        if let Some(expected) = self.expect_role {
            let reply = replies.next().unwrap_or(Value::Nil).into_result()?;
            let actual = role_of(&reply)?;
            if actual != expected.as_reply() {
                return Err(Error::RoleMismatch {
                    addr: self.config.addr.to_string(),
                    expected,
                    actual,
                });
            }
        }
        Ok(())
    }
}

/// The first element of a `ROLE` reply: `master`, `slave` or `sentinel`.
fn role_of(reply: &Value) -> Result<String> {
    let first = match reply {
        Value::Array(items) | Value::Push(items) => items.first(),
        _ => None,
    };
    match first {
        Some(Value::BulkString(b)) => Ok(String::from_utf8_lossy(b).into_owned()),
        Some(Value::SimpleString(s)) => Ok(s.clone()),
        _ => Err(Error::conversion("ROLE reply", reply.describe())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn role_reply(role: &'static str) -> Value {
        Value::Array(vec![Value::BulkString(Bytes::from_static(role.as_bytes()))])
    }

    #[test]
    fn fixed_target_has_no_checks() {
        let t = Target::fixed(Config::new(Addr::tcp("h", 1)));
        assert!(t.checks().is_empty());
        assert!(t.verify(Vec::new()).is_ok());
    }

    #[test]
    fn cluster_replica_sends_readonly_and_never_selects() {
        let base = Config::new(Addr::tcp("seed", 1)).with_db(3);
        let t = Target::cluster_node(&base, Addr::tcp("n2", 7001), true);
        assert_eq!(t.config.db, 0);
        assert_eq!(t.addr(), &Addr::tcp("n2", 7001));
        let names: Vec<String> = t.checks().cmds().iter().map(|c| c.name()).collect();
        assert_eq!(names, ["READONLY"]);
        assert!(t.verify(vec![Value::Okay]).is_ok());
        let refused = Value::ServerError(crate::ServerError::parse(
            "ERR This instance has cluster support disabled",
        ));
        assert!(matches!(t.verify(vec![refused]), Err(Error::Server(_))));
        let primary = Target::cluster_node(&base, Addr::tcp("n1", 7000), false);
        assert!(primary.checks().is_empty());
    }

    #[test]
    fn resolved_target_checks_the_role() {
        let base = Config::new(Addr::tcp("seed", 1)).with_db(2);
        let t = Target::resolved(&base, Addr::tcp("p", 6380), Role::Primary);
        assert_eq!(
            t.config.db, 2,
            "a sentinel-resolved node keeps the database"
        );
        let names: Vec<String> = t.checks().cmds().iter().map(|c| c.name()).collect();
        assert_eq!(names, ["ROLE"]);
        assert!(t.verify(vec![role_reply("master")]).is_ok());
        match t.verify(vec![role_reply("slave")]) {
            Err(Error::RoleMismatch {
                expected, actual, ..
            }) => {
                assert_eq!(expected, Role::Primary);
                assert_eq!(actual, "slave");
            }
            other => panic!("expected a role mismatch, got {other:?}"),
        }
        assert!(matches!(
            t.verify(vec![Value::Int(1)]),
            Err(Error::Conversion { .. })
        ));
        assert!(t.verify(Vec::new()).is_err(), "a missing reply is no proof");
    }
}
