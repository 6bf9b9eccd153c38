//! A pool of blocking connections on r2d2, where a [`Client`] is the connection manager.
//!
//! [`Pool`] wraps `r2d2::Pool` so that [`Pool::get`] returns this crate's [`Error`] and
//! `pool.get()?` works in a function returning [`crate::Result`] (r2d2's own error cannot
//! be converted from outside: both types are foreign to this crate).
//!
//! A connection is handed out again only if it is not broken (see
//! [`Connection::is_broken`]); r2d2 runs `PING` on checkout when `test_on_check_out` is set.

use std::time::Duration;

use redis_core::{cmd, Cmd, Error, Pipeline, Result, Value};

use crate::client::Client;
use crate::connection::{Connection, ConnectionLike};

/// A pool of blocking connections; clone it freely (clones share the connections).
#[derive(Clone, Debug)]
pub struct Pool {
    inner: r2d2::Pool<Client>,
}

/// A connection checked out of a [`Pool`]; returned to it on drop.
pub type PooledConnection = r2d2::PooledConnection<Client>;

impl Pool {
    /// Checks a connection out, waiting up to the pool's checkout timeout (by default
    /// the client's `connect_timeout`). Fails with [`Error::Pool`] (carrying the last
    /// connection error, if any) when none became free in time.
    pub fn get(&self) -> Result<PooledConnection> {
        self.inner.get().map_err(|e| Error::Pool(e.to_string()))
    }

    /// Checks a connection out only if one is idle right now.
    pub fn try_get(&self) -> Option<PooledConnection> {
        self.inner.try_get()
    }

    /// Connections open and idle now.
    pub fn state(&self) -> r2d2::State {
        self.inner.state()
    }

    /// The most connections the pool keeps.
    pub fn max_size(&self) -> u32 {
        self.inner.max_size()
    }

    /// How long [`get`](Self::get) waits for a free connection.
    pub fn connection_timeout(&self) -> Duration {
        self.inner.connection_timeout()
    }

    /// The r2d2 pool underneath.
    pub fn r2d2(&self) -> &r2d2::Pool<Client> {
        &self.inner
    }
}

impl From<r2d2::Pool<Client>> for Pool {
    /// Wraps a pool built with [`Client::pool_builder`].
    fn from(inner: r2d2::Pool<Client>) -> Pool {
        Pool { inner }
    }
}

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
