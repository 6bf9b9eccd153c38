//! The async `ConnectionLike` trait and the shared templates expanded for it: the typed
//! `Commands` trait and the `Query` helpers, the same definitions redis-sync expands.

use std::future::Future;

use redis_core::{Cmd, Pipeline, Result, Value};

/// Something that sends requests and returns replies: a multiplexed [`crate::Connection`],
/// a [`crate::DedicatedConnection`] or a [`crate::ManagedConnection`]. The typed
/// [`Commands`] and [`Query`] work on anything that implements it.
pub trait ConnectionLike: Send {
    /// Sends one command and reads its reply. An error reply becomes `Err(Error::Server)`.
    fn req(&mut self, cmd: &Cmd) -> impl Future<Output = Result<Value>> + Send;

    /// Like [`req`](Self::req), for a command the caller no longer needs (the typed
    /// methods use it): the multiplexed connection hands its bytes to the driver task
    /// without a copy.
    fn req_owned(&mut self, cmd: Cmd) -> impl Future<Output = Result<Value>> + Send {
        async move { self.req(&cmd).await }
    }

    /// Sends a pipeline in one write and returns its raw replies in order (error replies
    /// stay in the list as [`Value::ServerError`]).
    fn req_pipeline(&mut self, pipe: &Pipeline) -> impl Future<Output = Result<Vec<Value>>> + Send;
}

redis_core::commands_template!(maybe_async::must_be_async(AFIT));
redis_core::query_template!(maybe_async::must_be_async(AFIT));
