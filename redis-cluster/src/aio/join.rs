//! Running a few futures at once on the caller's task, without spawning.
//!
//! A multi-node request (a pipeline grouped per node, a split `MGET`, a fan-out) sends to
//! every node at once and waits for all of them. The futures borrow the caller's data, so
//! they run on the caller's task rather than being spawned.

use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::Poll;

/// A boxed future of the caller's task.
pub(crate) type Boxed<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Runs every future to completion, concurrently; the outputs in the order given.
pub(crate) async fn join_all<'a, T: Send + 'a>(futures: Vec<Boxed<'a, T>>) -> Vec<T> {
    let mut slots: Vec<(Option<Boxed<'a, T>>, Option<T>)> =
        futures.into_iter().map(|f| (Some(f), None)).collect();
    poll_fn(|cx| {
        let mut pending = false;
        for (fut, out) in slots.iter_mut() {
            if let Some(f) = fut {
                match f.as_mut().poll(cx) {
                    Poll::Ready(v) => {
                        *out = Some(v);
                        *fut = None;
                    }
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
    .await;
    slots.into_iter().filter_map(|(_, out)| out).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test(flavor = "current_thread")]
    async fn runs_concurrently_and_keeps_the_order() {
        // The first future can only finish once the second has run: run one after the
        // other, they would never finish.
        let (tx, rx) = tokio::sync::oneshot::channel::<u8>();
        let futures: Vec<Boxed<'_, u8>> = vec![
            Box::pin(async move { rx.await.unwrap_or(0) + 1 }),
            Box::pin(async move {
                let _ = tx.send(41);
                7
            }),
        ];
        let out = tokio::time::timeout(Duration::from_secs(10), join_all(futures)).await;
        assert_eq!(out.ok(), Some(vec![42, 7]));
        assert!(join_all::<u8>(Vec::new()).await.is_empty());
    }
}
