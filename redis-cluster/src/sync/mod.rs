//! The blocking cluster client (feature `sync`, on by default).
//!
//! Built on the pure modules of this crate ([`request`](crate::request),
//! [`plan`](crate::plan), [`topology`](crate::topology)) and on redis-sync: it only does
//! the I/O they ask for.
//!
//! - [`ClusterClient`]: settings (seeds, one [`Config`](redis_core::Config) for every
//!   node incl. TLS and credentials, read routing, redirects, refresh schedule, address
//!   remap) and the topology manager every connection of the client shares.
//! - [`ClusterConnection`]: one thread, one connection per node.
//! - [`ClusterPool`]: many threads, per-node r2d2 pools.
//!
//! Both implement [`redis_sync::ConnectionLike`], so [`redis_sync::Commands`] works on
//! them as on a single server.

mod client;
mod connection;
mod exec;
mod pool;
mod scan;

pub use client::{ClusterClient, ClusterClientBuilder, Remap};
pub use connection::ClusterConnection;
pub use pool::ClusterPool;
pub use scan::ClusterScanIter;
