//! r2d2 integration: a [`Client`] is the pool's connection manager.
//!
//! A connection is handed out again only if it is not broken (see
//! [`Connection::is_broken`]); r2d2 runs `PING` on checkout when `test_on_check_out` is set.

use redis_core::{cmd, Cmd, Error, Pipeline, Result, Value};

use crate::client::Client;
use crate::connection::{Connection, ConnectionLike};

/// A pool of blocking connections.
pub type Pool = r2d2::Pool<Client>;

/// A connection checked out of a [`Pool`]; returned to it on drop.
pub type PooledConnection = r2d2::PooledConnection<Client>;

impl r2d2::ManageConnection for Client {
    type Connection = Connection;
    type Error = Error;

    fn connect(&self) -> Result<Connection> {
        self.get_connection()
    }

    fn is_valid(&self, con: &mut Connection) -> Result<()> {
        if !self.source().is_current(con.addr()) {
            return Err(Error::Broken(format!(
                "{} is no longer where this pool's source points",
                con.addr()
            )));
        }
        match con.req(&cmd("PING"))? {
            Value::SimpleString(s) if s == "PONG" => Ok(()),
            other => Err(Error::conversion("PONG", other.describe())),
        }
    }

    /// Broken connections, and connections to a node the source no longer names (a
    /// demoted primary), are dropped instead of going back into the pool.
    fn has_broken(&self, con: &mut Connection) -> bool {
        con.is_broken() || !self.source().is_current(con.addr())
    }
}

impl ConnectionLike for PooledConnection {
    fn req(&mut self, cmd: &Cmd) -> Result<Value> {
        (**self).req(cmd)
    }

    fn req_pipeline(&mut self, pipe: &Pipeline) -> Result<Vec<Value>> {
        (**self).req_pipeline(pipe)
    }
}
