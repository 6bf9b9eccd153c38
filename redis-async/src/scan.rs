//! SCAN, HSCAN, SSCAN and ZSCAN as `Stream`s that follow the cursor to the end.
//!
//! The cursor loop is `redis_core::scan::ScanCursor` (shared with the blocking
//! iterator). The stream owns a clone of the connection handle, so it can be passed around
//! and polled from anywhere; each batch is one request. Elements may repeat (the server's
//! guarantee is "at least once" for elements present during the whole scan).

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use redis_core::scan::ScanCursor;
use redis_core::{cmd, Cmd, FromValue, Result, ToArgs, Value};

use crate::api::ConnectionLike;

type Batch = Pin<Box<dyn Future<Output = Result<Value>> + Send>>;

/// Sends one request of the scan on a clone of the connection.
type SendBatch = Box<dyn FnMut(Cmd) -> Batch + Send>;

/// A cursor-based scan as a stream of items. Errors end the stream after being returned.
pub struct ScanStream<T> {
    scan: ScanCursor,
    send: SendBatch,
    pending: Option<Batch>,
    items: VecDeque<T>,
    done: bool,
}

impl<T> std::fmt::Debug for ScanStream<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScanStream")
            .field("buffered", &self.items.len())
            .field("done", &self.done)
            .finish()
    }
}

impl<T: FromValue + Unpin> ScanStream<T> {
    /// The next item, without needing a `StreamExt` trait in scope.
    pub async fn next_item(&mut self) -> Option<Result<T>> {
        std::future::poll_fn(|cx| futures_core::Stream::poll_next(Pin::new(&mut *self), cx)).await
    }

    /// Every remaining item, or the first error.
    pub async fn collect_all(mut self) -> Result<Vec<T>> {
        let mut out = Vec::new();
        while let Some(item) = self.next_item().await {
            out.push(item?);
        }
        Ok(out)
    }
}

impl<T: FromValue + Unpin> futures_core::Stream for ScanStream<T> {
    type Item = Result<T>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<T>>> {
        let this = self.get_mut();
        loop {
            if let Some(item) = this.items.pop_front() {
                return Poll::Ready(Some(Ok(item)));
            }
            let Some(pending) = this.pending.as_mut() else {
                return Poll::Ready(None);
            };
            let reply = match pending.as_mut().poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(r) => r,
            };
            this.pending = None;
            match this.scan.on_reply::<T>(reply) {
                Ok(items) => this.items.extend(items),
                Err(e) => {
                    this.done = true;
                    return Poll::Ready(Some(Err(e)));
                }
            }
            match this.scan.next_cmd() {
                Some(c) => this.pending = Some((this.send)(c)),
                None => this.done = true,
            }
        }
    }
}

fn start<C, T, O>(con: &C, base: Cmd, options: O) -> ScanStream<T>
where
    C: ConnectionLike + Clone + Sync + 'static,
    O: ToArgs,
{
    let con = con.clone();
    let mut send = move |c: Cmd| -> Batch {
        let mut con = con.clone();
        Box::pin(async move { con.req(&c).await })
    };
    let scan = ScanCursor::new(base, options);
    let pending = scan.next_cmd().map(&mut send);
    ScanStream {
        scan,
        send: Box::new(send),
        pending,
        items: VecDeque::new(),
        done: false,
    }
}

/// Scan streams on any cloneable connection handle (multiplexed or managed).
pub trait Scan: ConnectionLike + Clone + Sync + 'static {
    /// Every key (`SCAN`).
    fn scan_iter<T: FromValue>(&self) -> ScanStream<T> {
        start(self, cmd("SCAN"), ())
    }

    /// Keys matching a glob pattern (`SCAN ... MATCH pattern`).
    fn scan_match_iter<P: ToArgs, T: FromValue>(&self, pattern: P) -> ScanStream<T> {
        start(self, cmd("SCAN"), ("MATCH", pattern))
    }

    /// `SCAN` with any options (MATCH, COUNT, TYPE).
    fn scan_options_iter<O: ToArgs, T: FromValue>(&self, options: O) -> ScanStream<T> {
        start(self, cmd("SCAN"), options)
    }

    /// Field/value pairs of a hash (`HSCAN`); use `T = (String, String)`.
    fn hscan_iter<K: ToArgs, T: FromValue>(&self, key: K) -> ScanStream<T> {
        start(self, cmd("HSCAN").with(key), ())
    }

    /// Members of a set (`SSCAN`).
    fn sscan_iter<K: ToArgs, T: FromValue>(&self, key: K) -> ScanStream<T> {
        start(self, cmd("SSCAN").with(key), ())
    }

    /// Member/score pairs of a sorted set (`ZSCAN`); use `T = (String, f64)`.
    fn zscan_iter<K: ToArgs, T: FromValue>(&self, key: K) -> ScanStream<T> {
        start(self, cmd("ZSCAN").with(key), ())
    }

    /// `HSCAN`, `SSCAN` or `ZSCAN` with options, e.g. `("MATCH", "f*")`.
    fn key_scan_options_iter<K: ToArgs, O: ToArgs, T: FromValue>(
        &self,
        command: &str,
        key: K,
        options: O,
    ) -> ScanStream<T> {
        start(self, cmd(command).with(key), options)
    }
}

impl<C: ConnectionLike + Clone + Sync + 'static> Scan for C {}
