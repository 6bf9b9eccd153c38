//! A cluster-wide `SCAN`: every primary in turn, each to the end of its cursor.

use std::collections::VecDeque;
use std::marker::PhantomData;

use redis_core::scan::ScanCursor;
use redis_core::{cmd, FromValue, Result, ToArgs};

use super::exec::{self, Nodes};
use crate::request::RequestTarget;

/// Iterator over the keys of every primary (see
/// [`ClusterConnection::scan_iter`](super::ClusterConnection::scan_iter)). The primaries are those of the map when the
/// scan starts; a cursor belongs to one node, so each node is scanned to its end on its
/// own connection, with refusals (`LOADING`, ...) and connection failures retried as for
/// any read. An error ends the iteration after it is returned. Keys may repeat (the
/// server's "at least once"), and a slot migrated during the scan may be seen twice or
/// not at all, as with `SCAN` on one server whose keys change.
pub struct ClusterScanIter<'a, T> {
    nodes: &'a mut dyn Nodes,
    template: ScanCursor,
    pending: VecDeque<u16>,
    current: Option<(u16, ScanCursor)>,
    batch: std::vec::IntoIter<T>,
    _t: PhantomData<T>,
}

impl<T> std::fmt::Debug for ClusterScanIter<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterScanIter")
            .field("pending", &self.pending)
            .finish_non_exhaustive()
    }
}

impl<'a, T> ClusterScanIter<'a, T> {
    pub(crate) fn new<O: ToArgs>(nodes: &'a mut dyn Nodes, options: O) -> ClusterScanIter<'a, T> {
        let map = nodes.shared().snapshot();
        ClusterScanIter {
            pending: map.one_slot_per_primary().into(),
            nodes,
            template: ScanCursor::new(cmd("SCAN"), options),
            current: None,
            batch: Vec::new().into_iter(),
            _t: PhantomData,
        }
    }
}

impl<T: FromValue> Iterator for ClusterScanIter<'_, T> {
    type Item = Result<T>;

    fn next(&mut self) -> Option<Result<T>> {
        loop {
            if let Some(item) = self.batch.next() {
                return Some(Ok(item));
            }
            let (slot, cursor) = match &mut self.current {
                Some((slot, cursor)) if !cursor.is_done() => (*slot, cursor),
                _ => {
                    let slot = self.pending.pop_front()?;
                    self.current = Some((slot, self.template.clone()));
                    continue;
                }
            };
            let c = cursor.next_cmd()?;
            // "Write": the slot's primary, whatever the read policy (a cursor must not
            // wander between a primary and its replicas).
            let writes = self.nodes.shared().config.retry_idempotent_writes;
            let safe = redis_core::command_table::is_retry_safe(&c, writes);
            let reply = exec::run(&mut *self.nodes, &c, RequestTarget::Slot(slot), true, safe);
            match cursor.on_reply(reply) {
                Ok(items) => self.batch = items.into_iter(),
                Err(e) => {
                    self.pending.clear();
                    return Some(Err(e));
                }
            }
        }
    }
}
