//! Redis Sentinel support: the pure part, shared by the blocking and async clients.
//!
//! A Sentinel client asks a set of sentinels where a service's primary (and its replicas)
//! are, checks with `ROLE` that the node it reaches is what they said, and follows the
//! failovers they announce. The decisions are the same whatever the I/O style: which
//! sentinel to ask next, how to read what it answered, which replicas may serve reads,
//! and what error to give when nobody could answer. They live here, without sockets or a
//! runtime, and are unit tested on replies recorded from real sentinels.
//!
//! - [`replies`]: the `SENTINEL` commands, their replies, and the pub/sub events.
//! - [`replicas`]: which replicas the sentinels report fit to serve reads.
//! - [`sentinels`]: the sentinel list and the order they are asked in.
//! - [`discovery`]: primary and replica discovery as a sans-IO step machine.
//!
//! Errors are kinds of the one `redis_core::Error`: [`SentinelErrorKind`] (unknown service,
//! no sentinel reachable, sentinel auth failure, no usable replica) and
//! `Error::RoleMismatch` for a node that is not what the sentinels named. Read routing
//! ([`ReadFrom`]) is the type redis-cluster uses, from `redis_core::routing`.

pub mod discovery;
pub mod replicas;
pub mod replies;
pub mod sentinels;

pub use discovery::{Discovery, ReplicaChoice, Step};
pub use redis_core::routing::{Choice, NodeStats, ReadFrom, ReadPolicy};
pub use redis_core::{SentinelAttempt, SentinelErrorKind};
pub use replicas::{is_usable, usable_replicas};
pub use replies::{parse_message, Event, Instance, InstanceEvent, MasterRef, SwitchMaster};
pub use sentinels::SentinelList;
