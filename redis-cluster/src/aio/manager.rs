//! The topology manager: one task per client that keeps the slot map fresh.
//!
//! Requests never refresh the map themselves: they send a [`Trigger`] and, when they need
//! the new map before going on, wait for the refresh epoch to move. The task drives the
//! shared [`Topology`](crate::Topology) (its gate coalesces a burst of triggers into one
//! refresh, rate-limited with jitter, plus the periodic one). After each refresh it
//! publishes the new map first, then ends the connections of the nodes a request waited
//! on past the probe interval that the map now shows failed over (the topology's failover
//! verdict: their in-flight reads are re-sent to the new primary, writes fail with
//! `MayHaveExecuted`, as the request flow says), and of nodes that left. A refresh asks a
//! few nodes at once (a slow one last) and never waits long on one that does not answer:
//! a frozen primary is the usual reason to refresh.
//!
//! The task holds only a weak reference to the client's state: it stops once the client
//! and every connection made from it are dropped.

use std::sync::{Arc, Weak};
use std::time::Duration;

use redis_core::{Addr, ConnectionEvent, Error, Result};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::nodes::{lock, Trigger};
use super::Shared;
use crate::settings::ViewStep;
use crate::{RefreshStep, SlotMap};

/// How long a refresh waits for the nodes it asks once one of them has answered: long
/// enough for the others on a healthy cluster to agree or disagree, short enough that a
/// frozen node does not hold the new map back.
const AGREEMENT_WAIT: Duration = Duration::from_millis(200);

/// How often the task looks whether a refresh is due without a trigger (periodic, or one
/// that failed and stays due).
const TICK: Duration = Duration::from_millis(500);

/// Runs until the client's state is gone (see the module docs).
pub(crate) async fn run(weak: Weak<Shared>, mut rx: mpsc::UnboundedReceiver<Trigger>) {
    let mut due: Option<Instant> = None;
    // Nodes a request has waited on past the probe interval: judged after the next refresh.
    let mut suspects: Vec<Addr> = Vec::new();
    loop {
        let wake = due.unwrap_or_else(|| Instant::now() + TICK);
        let trigger = tokio::select! {
            t = rx.recv() => match t {
                Some(t) => Some(t),
                None => return,
            },
            () = tokio::time::sleep_until(wake) => None,
        };
        let Some(shared) = weak.upgrade() else {
            return;
        };
        let now = std::time::Instant::now();
        let step = {
            let mut t = lock(&shared.topology);
            match trigger {
                Some(Trigger::Slow(addr)) => {
                    if !suspects.contains(&addr) {
                        suspects.push(addr);
                    }
                    t.mark_stale();
                }
                // A refresh that ended after the request saw the map is the one it needs.
                Some(Trigger::Stale(since)) if since < shared.epoch() => {}
                Some(Trigger::Failed | Trigger::Stale(_)) => t.mark_stale(),
                None => {}
            }
            if t.is_refreshing() || !t.is_due(now) {
                continue;
            }
            t.trigger(now, rand::random())
        };
        match step {
            RefreshStep::Start => {
                due = None;
                let judged = std::mem::take(&mut suspects);
                if refresh(&shared, &judged).await.is_err() {
                    suspects = judged;
                }
                // Triggers that came in while it ran are handled next, one by one: those
                // of requests that saw the map before it ended are satisfied by it.
            }
            RefreshStep::At(t) => due = Some(Instant::from_std(t)),
            RefreshStep::Join => {}
        }
    }
}

/// One refresh, started by the topology's gate: ask, keep the freshest view, publish it,
/// then end the connections of the nodes in `suspects` that the new map shows failed over
/// (the failover verdict) and of the nodes that left, and tell the waiting requests. `Err`
/// with why each node asked failed when none answered.
pub(crate) async fn refresh(shared: &Arc<Shared>, suspects: &[Addr]) -> Result<(), Vec<String>> {
    let (asked, old) = {
        // Nodes that failed or were slow lately are asked last.
        let mut avoid = shared.nodes.health().suspects(std::time::Instant::now());
        avoid.extend(suspects.iter().cloned());
        let t = lock(&shared.topology);
        (t.to_ask(rand::random(), &avoid), shared.map())
    };
    // The known nodes first (up to `nodes_to_ask`, a slow one last); the seeds only when
    // none of them answered.
    let first = shared
        .settings
        .refresh
        .nodes_to_ask
        .clamp(1, asked.len().max(1));
    let (first, rest) = asked.split_at(first.min(asked.len()));
    let (mut views, mut tried) = ask_all(shared, first).await;
    if views.is_empty() && !rest.is_empty() {
        let (more, failed) = ask_all(shared, rest).await;
        views.extend(more);
        tried.extend(failed);
    }
    let answered = !views.is_empty();
    let (from, views): (Vec<Addr>, Vec<SlotMap>) = views.into_iter().unzip();
    let (applied, failed) = {
        let mut t = lock(&shared.topology);
        let applied = t.apply_refresh(views);
        if applied.changed {
            shared.publish(&t);
        }
        let failed: Vec<Addr> = suspects
            .iter()
            .filter(|a| answered && t.node_failed(a, old.is_primary(a) || shared.nodes.wrote(a)))
            .cloned()
            .collect();
        (applied, failed)
    };
    if applied.moved_slots > 0 {
        if let Some(addr) = applied.from.and_then(|i| from.get(i)) {
            shared
                .nodes
                .hub()
                .emit_event(ConnectionEvent::TopologyChanged {
                    addr: addr.clone(),
                    moved_slots: applied.moved_slots,
                });
        }
    }
    for addr in &failed {
        shared.nodes.abort(addr, "the node was failed over");
    }
    shared
        .nodes
        .close(&applied.left, "the node left the cluster");
    shared.follow(&shared.map());
    shared.bump_epoch();
    if answered {
        Ok(())
    } else {
        Err(tried)
    }
}

/// Asks every node in `asked` for its view at once; returns the views (with the node that
/// gave each) that came in before the others stopped mattering (see [`AGREEMENT_WAIT`]),
/// and `addr: reason` for each node that failed.
async fn ask_all(shared: &Arc<Shared>, asked: &[Addr]) -> (Vec<(Addr, SlotMap)>, Vec<String>) {
    let (tx, mut rx) = mpsc::unbounded_channel();
    for addr in asked {
        let (shared, addr, tx) = (shared.clone(), addr.clone(), tx.clone());
        tokio::spawn(async move {
            let limit = shared.settings.refresh_timeout;
            let view = match tokio::time::timeout(limit, view_of(&shared, &addr)).await {
                Ok(view) => view,
                Err(_) => Err(Error::Timeout {
                    what: "slot map",
                    after: limit,
                }),
            };
            let _ = tx.send(match view {
                Ok(v) => Ok((addr, v)),
                Err(e) => Err(format!("{addr}: {e}")),
            });
        });
    }
    drop(tx);
    let (mut views, mut tried) = (Vec::new(), Vec::new());
    let hard = Instant::now() + shared.settings.refresh_timeout;
    let mut deadline = hard;
    while let Ok(Some(view)) = tokio::time::timeout_at(deadline, rx.recv()).await {
        match view {
            Ok(v) => {
                if views.is_empty() {
                    deadline = (Instant::now() + AGREEMENT_WAIT).min(hard);
                }
                views.push(v);
            }
            Err(e) => tried.push(e),
        }
    }
    (views, tried)
}

/// One node's view (`CLUSTER SHARDS`, or `CLUSTER SLOTS` on a server older than 7.0).
async fn view_of(shared: &Shared, addr: &Addr) -> Result<SlotMap> {
    use redis_async::ConnectionLike;
    let mut con = shared.nodes.connection(addr, false).await?;
    let mut query = shared.settings.view_query(addr);
    let mut next = query.cmd();
    loop {
        let reply = con.req(&next).await;
        match query.reply(reply) {
            ViewStep::Ask(c) => next = c,
            ViewStep::Done(view) => return view,
        }
    }
}
