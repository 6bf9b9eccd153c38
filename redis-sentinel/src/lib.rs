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
//! - [`follow`]: following a service after discovery (switches, replica changes, when to
//!   check again), the decisions both clients act on.
//! - `sync` (feature `sync`, on by default): the blocking Sentinel client.
//! - `aio` (feature `async`): the tokio Sentinel client, same names.
//!
//! A shell drives discovery with a short loop; here the sentinels' replies are scripted:
//!
//! ```
//! use redis_core::{Addr, Config, Error, Role, Value};
//! use redis_sentinel::{Discovery, SentinelList, Step};
//!
//! let sentinels = SentinelList::new([Addr::tcp("10.0.0.1", 26379), Addr::tcp("10.0.0.2", 26379)]);
//! let base = Config::new(Addr::tcp("unused", 6379));
//! let mut discovery = Discovery::primary("mymaster", &base, sentinels).with_learning(false);
//! let mut replies = vec![
//!     // The first sentinel is down; the second names the primary.
//!     Err(Error::Io(std::io::ErrorKind::ConnectionRefused.into())),
//!     Ok(Value::Array(vec![Value::SimpleString("10.0.0.5".into()), Value::Int(6379)])),
//! ]
//! .into_iter();
//! let mut step = discovery.start();
//! let target = loop {
//!     step = match step {
//!         // A shell connects to `sentinel` and sends `cmd` here.
//!         Step::Send { sentinel: _, cmd: _ } => discovery.reply(replies.next().unwrap()),
//!         Step::Done(target) => break target,
//!         Step::Failed(e) => panic!("{e}"),
//!     };
//! };
//! assert_eq!(target.addr(), &Addr::tcp("10.0.0.5", 6379));
//! assert_eq!(target.expect_role, Some(Role::Primary)); // ROLE is checked before use
//! assert_eq!(discovery.sentinels().order()[0], Addr::tcp("10.0.0.2", 26379));
//! ```
//!
//! Errors are kinds of the one `redis_core::Error`: [`SentinelErrorKind`] (unknown service,
//! no sentinel reachable, sentinel auth failure, no usable replica) and
//! `Error::RoleMismatch` for a node that is not what the sentinels named. Read routing
//! ([`ReadFrom`]) is the type redis-cluster uses, from `redis_core::routing`.

pub mod discovery;
pub mod follow;
#[cfg(any(feature = "sync", feature = "async"))]
mod registry;
pub mod replicas;
pub mod replies;
pub mod sentinels;

#[cfg(feature = "async")]
pub mod aio;
#[cfg(feature = "sync")]
pub mod sync;

pub use discovery::{Discovery, ReplicaChoice, Step};
pub use follow::{sentinels_to_follow, Decision, Follower, Reason, ReplicaSet};
pub use redis_core::routing::{Choice, NodeStats, ReadFrom, ReadPolicy};
pub use redis_core::{SentinelAttempt, SentinelErrorKind};
pub use replicas::{is_usable, usable_replicas};
pub use replies::{parse_message, Event, Instance, InstanceEvent, MasterRef, SwitchMaster};
pub use sentinels::SentinelList;
