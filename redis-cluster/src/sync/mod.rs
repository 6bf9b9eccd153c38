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
//! - [`ClusterPubSub`]: channels and patterns on one node, shard channels on their
//!   slot's primary, following the slot when it moves.
//!
//! Both implement [`redis_sync::ConnectionLike`], so [`redis_sync::Commands`] works on
//! them as on a single server.
//!
//! ```no_run
//! use redis_cluster::sync::ClusterClient;
//! use redis_core::routing::ReadFrom;
//! use redis_sync::{cmd, commands, pipe, Commands, Query};
//!
//! // Any reachable nodes; the first one's settings (password, TLS, timeouts, protocol)
//! // are used for every node.
//! let client = ClusterClient::builder(["redis://127.0.0.1:7000", "redis://127.0.0.1:7001"])?
//!     .read_from(ReadFrom::PreferReplica) // reads on replicas (READONLY is sent for you)
//!     .max_redirects(16)
//!     .build()?;
//!
//! // One thread: one connection per node, opened when first needed.
//! let mut con = client.get_connection()?;
//! con.set::<_, _, ()>("{user1}.name", "Ada")?;
//! con.set::<_, _, ()>("{user1}.email", "ada@example.com")?; // same hash tag: same slot
//! let both: Vec<String> = con.mget(&["{user1}.name", "{user1}.email"])?;
//!
//! // Multi-key commands across slots are split per slot and merged in your key order
//! // (MGET, MSET, DEL, UNLINK, EXISTS, TOUCH). Not atomic across slots.
//! let n: usize = cmd("EXISTS").with("a").with("b").with("c").query(&mut con)?;
//!
//! // Pipelines: grouped per node, written to every node before any reply is read, replies
//! // in your order.
//! let (a, b): (Option<String>, Option<String>) =
//!     pipe().add(commands::get("a")).add(commands::get("b")).query(&mut con)?;
//!
//! // Many threads: per-node r2d2 pools, one topology.
//! let pool = client.get_pool(8)?;
//! let mut p = pool.clone(); // one clone per thread
//! let hits: i64 = p.incr("hits", 1)?;
//! # let _ = (both, n, a, b, hits);
//! # Ok::<(), redis_core::Error>(())
//! ```

mod client;
mod connection;
mod exec;
mod pool;
mod pubsub;
mod scan;

pub use client::{ClusterClient, ClusterClientBuilder, Remap};
pub use connection::ClusterConnection;
pub use pool::ClusterPool;
pub use pubsub::ClusterPubSub;
pub use scan::ClusterScanIter;
