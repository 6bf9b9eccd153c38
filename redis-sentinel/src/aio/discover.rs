//! Drives the shared [`Discovery`] step machine over async connections to the sentinels.
//!
//! The decisions (which sentinel next, how to read its answer, which error when none
//! helps) are the step machine's; this file only connects and asks. Each sentinel gets
//! one bounded exchange: connecting, the handshake and the command together must finish
//! within the sentinel timeout, so a sentinel that is down, frozen or behind a dead link
//! costs at most that long before the next one is asked. A connection
//! that answered is kept for the next step to the same sentinel (asking the primary, then
//! the replicas, then the other sentinels is one connection, not three).

use redis_async::{Client, ConnectionLike, DedicatedConnection};
use redis_core::{Addr, Cmd, Error, Result, Target, Value};

use super::Sentinels;
use crate::discovery::{Discovery, Step};
use crate::sentinels::SentinelList;

/// The outcome of one discovery: the target, the sentinel list as it learned it (stored
/// back whatever the outcome: the one that answered moved to the front), and the
/// replicas it saw.
pub(crate) struct Discovered {
    pub(crate) result: Result<Target>,
    pub(crate) sentinels: SentinelList,
    /// The usable replicas the answering sentinel listed (replica discovery only).
    pub(crate) replicas: Vec<Addr>,
}

/// Runs `discovery` to its end, asking each sentinel with the sentinel config.
pub(crate) async fn drive(mut discovery: Discovery, sentinels: &Sentinels) -> Discovered {
    let mut open: Option<(Addr, DedicatedConnection)> = None;
    let mut step = discovery.start();
    let result = loop {
        step = match step {
            Step::Send { sentinel, cmd } => {
                let reply = ask(&mut open, sentinels, &sentinel, &cmd).await;
                discovery.reply(reply)
            }
            Step::Done(target) => break Ok(target),
            Step::Failed(e) => break Err(e),
        };
    };
    Discovered {
        result,
        sentinels: discovery.sentinels().clone(),
        replicas: discovery.replicas().to_vec(),
    }
}

/// Sends `cmd` to `sentinel`, reusing `open` when it is a healthy connection to it; one
/// bounded exchange. A failed or timed-out connection is not kept.
async fn ask(
    open: &mut Option<(Addr, DedicatedConnection)>,
    sentinels: &Sentinels,
    sentinel: &Addr,
    cmd: &Cmd,
) -> Result<Value> {
    let reusable = matches!(open, Some((a, c)) if a == sentinel && !c.is_broken());
    let mut con = match open.take() {
        Some((_, con)) if reusable => Some(con),
        _ => None,
    };
    let limit = sentinels.timeout;
    let exchange = async {
        let mut con = match con.take() {
            Some(con) => con,
            None => {
                Client::open(sentinels.config_for(sentinel))?
                    .get_dedicated_connection()
                    .await?
            }
        };
        let reply = con.req(cmd).await;
        Ok::<_, Error>((reply, con))
    };
    match tokio::time::timeout(limit, exchange).await {
        Ok(Ok((reply, con))) => {
            if !con.is_broken() {
                *open = Some((sentinel.clone(), con));
            }
            reply
        }
        Ok(Err(e)) => Err(e),
        Err(_) => Err(Error::Timeout {
            what: "sentinel exchange",
            after: limit,
        }),
    }
}
