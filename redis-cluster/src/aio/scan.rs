//! `SCAN` over a whole cluster: every primary in turn, each with its own cursor.
//!
//! A `SCAN` cursor belongs to one node, so the cluster scan walks the shards one after
//! the other: for each, the cursor loop of `redis_core::scan::ScanCursor` runs against
//! the primary of one slot that shard serves (the shard is named by that slot, not by an
//! address, so after a failover the scan goes on at the promoted replica, which holds the
//! same keys). Each batch is one request through the request flow (retried after a
//! connection failure, as any read). Keys may repeat, as with `SCAN` on one server; a
//! resharding during the scan may skip or repeat keys of the slots that moved.

use std::collections::VecDeque;

use redis_core::scan::ScanCursor;
use redis_core::{cmd, FromValue, Result, ToArgs};

use super::ClusterConnection;
use crate::RequestTarget;

/// A cluster-wide `SCAN` (see the module docs); from [`ClusterConnection::scan_iter`].
#[derive(Debug)]
pub struct ClusterScan<T> {
    con: ClusterConnection,
    options: Vec<Vec<u8>>,
    /// One slot per shard not scanned yet.
    shards: VecDeque<u16>,
    /// The shard being scanned and its cursor.
    current: Option<(u16, ScanCursor)>,
    items: VecDeque<T>,
    done: bool,
}

impl<T: FromValue> ClusterScan<T> {
    pub(crate) fn new<O: ToArgs>(con: ClusterConnection, options: O) -> ClusterScan<T> {
        let map = con.slot_map();
        let mut shards: Vec<(u16, &redis_core::Addr)> = Vec::new();
        for (range, addr) in map.assignment() {
            if !shards.iter().any(|(_, a)| *a == addr) {
                shards.push((*range.start(), addr));
            }
        }
        ClusterScan {
            shards: shards.into_iter().map(|(slot, _)| slot).collect(),
            options: options.to_arg_vec(),
            con,
            current: None,
            items: VecDeque::new(),
            done: false,
        }
    }

    /// The next key; `None` once every shard was scanned, or after an error was returned.
    pub async fn next_item(&mut self) -> Option<Result<T>> {
        loop {
            if let Some(item) = self.items.pop_front() {
                return Some(Ok(item));
            }
            if self.done {
                return None;
            }
            let (slot, next) = match &self.current {
                Some((slot, cursor)) => (*slot, cursor.next_cmd()),
                None => (0, None),
            };
            let Some(next) = next else {
                match self.shards.pop_front() {
                    Some(slot) => {
                        self.current = Some((slot, ScanCursor::new(cmd("SCAN"), &self.options)));
                    }
                    None => self.done = true,
                }
                continue;
            };
            // A write, so it goes to the primary: the cursor must stay on one node.
            let reply = self
                .con
                .request(&next, RequestTarget::Slot(slot), true)
                .await;
            let Some((_, cursor)) = self.current.as_mut() else {
                continue;
            };
            match cursor.on_reply(reply) {
                Ok(items) => self.items.extend(items),
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            }
        }
    }

    /// Every remaining key, or the first error.
    pub async fn collect_all(mut self) -> Result<Vec<T>> {
        let mut out = Vec::new();
        while let Some(item) = self.next_item().await {
            out.push(item?);
        }
        Ok(out)
    }
}
