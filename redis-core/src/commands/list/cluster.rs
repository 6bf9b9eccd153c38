//! Cluster introspection and administration.
//!
//! One group of the typed command list; see the parent module for the entry format and how the
//! groups are chained.

/// Appends this group's entries and hands over to the next group.
#[doc(hidden)]
#[macro_export]
macro_rules! __command_list_cluster {
    ([$next:path $(, $rest:path)*] $head:tt $($acc:tt)*) => {
        $next! { [$($rest),*] $head $($acc)*

        /// Cluster state and statistics.
        "cluster|info" fn cluster_info() { cmd("CLUSTER").with("INFO") }

        /// The cluster nodes as this node sees them, one per line.
        "cluster|nodes" fn cluster_nodes() { cmd("CLUSTER").with("NODES") }

        /// Slot ranges and their nodes (deprecated in 7.0 for `cluster_shards`).
        "cluster|slots" fn cluster_slots() { cmd("CLUSTER").with("SLOTS") }

        /// The shards, their slots and nodes.
        "cluster|shards" fn cluster_shards() { cmd("CLUSTER").with("SHARDS") }

        /// The hash slot of a key.
        "cluster|keyslot" fn cluster_keyslot<K: ToArgs>(key: K) { cmd("CLUSTER").with("KEYSLOT").with(key) }

        /// Number of keys in a slot (of this node).
        "cluster|countkeysinslot" fn cluster_countkeysinslot(slot: u16) {
            cmd("CLUSTER").with("COUNTKEYSINSLOT").with(slot)
        }

        /// Up to `count` keys of a slot (of this node).
        "cluster|getkeysinslot" fn cluster_getkeysinslot(slot: u16, count: u64) {
            cmd("CLUSTER").with("GETKEYSINSLOT").with(slot).with(count)
        }

        /// This node's id.
        "cluster|myid" fn cluster_myid() { cmd("CLUSTER").with("MYID") }

        /// This node's cluster bus links.
        "cluster|links" fn cluster_links() { cmd("CLUSTER").with("LINKS") }

        /// The replicas of a primary node, in `cluster_nodes` format.
        "cluster|replicas" fn cluster_replicas<N: ToArgs>(node_id: N) { cmd("CLUSTER").with("REPLICAS").with(node_id) }

        /// Help text of `CLUSTER`.
        "cluster|help" fn cluster_help() { cmd("CLUSTER").with("HELP") }

        /// Allow reads from this replica on this connection (cluster).
        "readonly" fn readonly() { cmd("READONLY") }

        /// Stop reads from this replica on this connection (cluster).
        "readwrite" fn readwrite() { cmd("READWRITE") }

        /// Allow the next command on a slot being imported (after an ASK redirect).
        "asking" fn asking() { cmd("ASKING") }
        }
    };
}
