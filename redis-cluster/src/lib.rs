//! Redis Cluster support: the pure part, shared by the blocking and async clients.
//!
//! A cluster client makes the same decisions whatever its I/O style: which slot a key
//! hashes to, which node owns that slot, where a read may go, how to split a multi-key
//! command and merge its replies, and what to do with a `MOVED`/`ASK`/`TRYAGAIN` reply.
//! All of that lives here, without sockets or a runtime, so it is written once and unit
//! tested without a server. The I/O shells come later and only drive these decisions.
//!
//! - [`slot`](mod@slot): CRC16/XMODEM hash slots and hash tags.
//! - [`slot_map`]: the slot -> node map, read from `CLUSTER SHARDS` or `CLUSTER SLOTS`.
//! - [`route`](mod@route): where a command goes, how multi-key commands split, how replies merge.
//! - [`redirect`]: what a `MOVED`, `ASK`, `TRYAGAIN` or `READONLY` reply asks for.
//! - [`refresh`]: when to refresh the slot map (coalesced, rate-limited, periodic) and whom to ask.
//! - [`request`]: one routed request as a sans-IO step machine (redirects, refusals,
//!   uncovered slots, retries after connection failures).
//! - [`plan`]: a pipeline grouped per node, replies merged in the caller's order, each
//!   command's redirect handled on its own.
//! - [`health`]: what the client measured of each node (recent failures, round trips)
//!   as the read policy's node stats.
//! - [`settings`]: a client's settings and the builder both flavours share.
//! - [`topology`]: the topology manager's state (map, refresh gate, seeds), what a refresh
//!   changed, and the failover verdict for a node that stopped answering.
//! - `sync` (feature `sync`, default) and `aio` (feature `async`): the blocking and tokio
//!   clients, which only do the I/O these modules ask for.
//!
//! ```
//! use redis_cluster::{route, slot, Route};
//! use redis_core::cmd;
//!
//! assert_eq!(slot(b"{user1}.following"), slot(b"{user1}.followers"));
//! match route(&cmd("MGET").with("a").with("b")).unwrap() {
//!     Route::Split(split) => assert_eq!(split.key_count, 2), // a and b: two slots
//!     other => panic!("{other:?}"),
//! }
//! ```
//!
//! Read routing ([`ReadFrom`]) lives in `redis_core::routing`, because the Sentinel crate
//! uses the same type and does not depend on this one.

pub mod health;
pub mod plan;
pub mod redirect;
pub mod refresh;
pub mod request;
pub mod route;
pub mod settings;
pub mod slot;
pub mod slot_map;
pub mod topology;

#[cfg(feature = "async")]
pub mod aio;
#[cfg(feature = "sync")]
pub mod sync;

pub use plan::{Batch, Plan, PlanStep};
pub use redirect::{asking, decide, Redirect};
pub use redis_core::routing::{Choice, NodeStats, ReadFrom, ReadPolicy};
pub use refresh::{nodes_to_ask, RefreshConfig, RefreshGate, RefreshStep};
pub use request::{Env, Request, RequestPolicy, RequestTarget, Step};
pub use route::{
    merge, refuse_connection_state, route, route_request, slot_of, ResponsePolicy, Route, Routed,
    SlotSplit, SplitMerge, SplitPart,
};
pub use slot::{slot, SLOT_COUNT};
pub use slot_map::{AddrContext, Node, NodeRole, Shard, SlotMap};
pub use topology::{Applied, Topology};
