//! The protocol core shared by every client crate: no sockets, no runtime.
//!
//! Everything that is logic rather than I/O lives here once, so the blocking and async
//! clients (and cluster and sentinel routing on top of them) agree on every byte and every
//! decision: the RESP codec, values and conversions, command building, errors, config and
//! URLs, the command table, backoff, and the multi-step flows written as templates that
//! each client expands in its own I/O style.

#[cfg(feature = "socket")]
pub mod abort;
pub mod backoff;
pub mod cmd;
pub mod command_table;
pub mod commands;
pub mod config;
pub mod connect;
pub mod credentials;
pub mod error;
pub mod events;
pub mod handshake;
pub mod lock;
pub mod pipeline;
pub mod pubsub;
mod query;
pub mod resp;
pub mod routing;
pub mod scan;
pub mod script;
pub mod source;
pub mod timing;
#[cfg(feature = "tls")]
pub mod tls;
pub mod transaction;
pub mod types;
pub mod value;

pub use backoff::Backoff;
pub use bytes::Bytes;
pub use cmd::{cmd, Cmd};
pub use config::{Addr, Config, IntoConfig, NodeEndpoint, Protocol, TlsConfig};
pub use credentials::{
    Credentials, CredentialsProvider, RotatingCredentials, Rotation, Secret, StaticCredentials,
    Token, TokenOptions, TokenProvider,
};
pub use error::{
    ClusterErrorKind, Error, LockErrorKind, Result, SentinelAttempt, SentinelErrorKind,
    ServerError, ServerErrorKind,
};
pub use events::ConnectionEvent;
pub use pipeline::{pipe, Pipeline};
pub use pubsub::{Msg, MsgKind};
pub use script::{Script, ScriptInvocation};
pub use source::{Role, Target};
#[cfg(feature = "json")]
pub use types::Json;
pub use types::{ArgSink, FromValue, ToArgs};
pub use value::Value;
