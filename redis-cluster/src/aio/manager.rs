//! The topology manager: one task per client that keeps the slot map fresh.
//!
//! Requests never refresh the map themselves: they send a [`Trigger`] and, when they need
//! the new map before going on, wait for the refresh epoch to move. The task coalesces
//! the triggers through the shared [`RefreshGate`] (one refresh for a burst, rate-limited
//! with jitter), refreshes periodically, and after each refresh installs the new map
//! first, then ends the connections of nodes that were failed over (their requests in
//! flight are re-sent to the new primary or fail with `MayHaveExecuted`, as the request
//! flow says) and of nodes that left. A refresh asks a few nodes at once and never waits
//! long on one that does not answer (a frozen primary is the usual reason to refresh).
//!
//! The task holds only a weak reference to the client's state: it stops once the client
//! and every connection made from it are dropped.

use std::sync::{Arc, Weak};
use std::time::Duration;

use redis_core::{cmd, Addr, Error, Result, ServerErrorKind};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::nodes::Trigger;
use super::Shared;
use crate::{nodes_to_ask, AddrContext, RefreshGate, RefreshStep, SlotMap};

/// How long a refresh waits for the nodes it asks once one of them has answered: long
/// enough for the others on a healthy cluster to agree or disagree, short enough that a
/// frozen node does not hold the new map back.
const AGREEMENT_WAIT: Duration = Duration::from_millis(200);

/// Longest wait for any node's answer to one refresh.
const ASK_TIMEOUT: Duration = Duration::from_secs(2);

/// Runs until the client's state is gone (see the module docs).
pub(crate) async fn run(
    weak: Weak<Shared>,
    mut rx: mpsc::UnboundedReceiver<Trigger>,
    mut gate: RefreshGate,
) {
    let mut due: Option<Instant> = None;
    loop {
        let wake = match (due, gate.next_periodic()) {
            (Some(a), Some(b)) => Some(a.min(Instant::from_std(b))),
            (a, b) => a.or(b.map(Instant::from_std)),
        };
        let sleep = async {
            match wake {
                Some(t) => tokio::time::sleep_until(t).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            t = rx.recv() => if t.is_none() { return },
            () = sleep => {}
        }
        let Some(shared) = weak.upgrade() else {
            return;
        };
        let now = std::time::Instant::now();
        match gate.trigger(now, rand::random()) {
            RefreshStep::Start => {
                due = None;
                refresh(&shared).await;
                gate.finished();
                // Whatever came in while it ran joined it.
                while rx.try_recv().is_ok() {}
            }
            RefreshStep::At(t) => due = Some(Instant::from_std(t)),
            RefreshStep::Join => {}
        }
    }
}

/// One refresh: ask, pick the freshest view, install it, end the connections it makes
/// useless, and tell the waiting requests.
pub(crate) async fn refresh(shared: &Arc<Shared>) {
    let old = shared.map();
    let n = shared.refresh_config.nodes_to_ask;
    let asked = nodes_to_ask(&old, &shared.seeds, n, rand::random());
    let views = ask_all(shared, &asked).await;
    if let Some(new) = SlotMap::freshest(views) {
        let demoted: Vec<Addr> = old
            .all_primaries()
            .filter(|p| new.all_primaries().all(|q| q.addr != p.addr))
            .map(|p| p.addr.clone())
            .collect();
        let keep: Vec<Addr> = new.all_nodes().map(|n| n.addr.clone()).collect();
        shared.install(new);
        for addr in &demoted {
            shared
                .nodes
                .abort(addr, "the node no longer serves its slots (failed over)");
        }
        shared.nodes.retain(&keep, "the node left the cluster");
    }
    shared.bump_epoch();
}

/// Asks every node in `asked` for its view at once; returns the views that came in before
/// the others stopped mattering (see [`AGREEMENT_WAIT`]).
async fn ask_all(shared: &Arc<Shared>, asked: &[Addr]) -> Vec<SlotMap> {
    let (tx, mut rx) = mpsc::unbounded_channel();
    for addr in asked {
        let (shared, addr, tx) = (shared.clone(), addr.clone(), tx.clone());
        tokio::spawn(async move {
            let view = tokio::time::timeout(ASK_TIMEOUT, view_of(&shared, &addr)).await;
            let _ = tx.send(view.ok().and_then(Result::ok));
        });
    }
    drop(tx);
    let mut views = Vec::new();
    let hard = Instant::now() + ASK_TIMEOUT;
    let mut deadline = hard;
    while let Ok(Some(view)) = tokio::time::timeout_at(deadline, rx.recv()).await {
        if let Some(v) = view {
            if views.is_empty() {
                deadline = (Instant::now() + AGREEMENT_WAIT).min(hard);
            }
            views.push(v);
        }
    }
    views
}

/// One node's view: `CLUSTER SHARDS`, or `CLUSTER SLOTS` on a server older than 7.0.
async fn view_of(shared: &Shared, addr: &Addr) -> Result<SlotMap> {
    use redis_async::ConnectionLike;
    let mut con = shared.nodes.connection(addr).await?;
    let (reply, shards) = match con.req(&cmd("CLUSTER").with("SHARDS")).await {
        Ok(reply) => (reply, true),
        Err(Error::Server(e)) if matches!(e.kind(), ServerErrorKind::Err) => {
            (con.req(&cmd("CLUSTER").with("SLOTS")).await?, false)
        }
        Err(e) => return Err(e),
    };
    let remap = |a: Addr| shared.remap(a);
    let ctx = AddrContext::new(addr, shared.tls()).with_remap(&remap);
    if shards {
        SlotMap::from_shards(&reply, &ctx)
    } else {
        SlotMap::from_slots(&reply, &ctx)
    }
}
