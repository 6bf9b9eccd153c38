//! The WATCH / MULTI / EXEC retry loop as a sans-IO step machine, driven by both clients.
//!
//! An optimistic transaction WATCHes keys, lets a body read them and queue an atomic
//! pipeline, and sends it (`MULTI ... EXEC`). If a watched key changed in between, EXEC
//! replies nil, the body returns `Ok(None)` and the loop runs again, at most
//! [`DEFAULT_MAX_ATTEMPTS`] times (then [`Error::WatchConflicts`]).
//!
//! WATCH state belongs to the socket: a body that returns without sending EXEC (an early
//! `Ok(Some(..))`, an error, or a voluntary `Ok(None)`) would leave the keys watched, and
//! the next user of the connection (a pooled one goes back to the pool) would see its
//! own EXEC fail for no reason of its own. So the machine sends `UNWATCH` after such a
//! body. Whether the body sent EXEC is observed by the shell (see [`ends_watch`]), not
//! guessed, so a committed transaction costs no extra round trip. The shells' driver loop
//! and that observing connection are one template, [`transaction_template!`](crate::transaction_template).
//!
//! ```text
//! start ─▶ Send(WATCH) ─ok─▶ RunBody ─Some, EXEC sent──────────────▶ Done(Ok)
//!                                   ├─None (aborted), attempts left ─▶ Send(WATCH) ...
//!                                   ├─None, no attempts left ───────▶ Done(WatchConflicts)
//!                                   └─no EXEC sent / error ─▶ Send(UNWATCH) ─▶ Done / WATCH
//! ```

use crate::cmd::{cmd, Cmd};
use crate::error::{Error, Result};
use crate::pipeline::Pipeline;
use crate::value::Value;

/// How many times the body runs before [`Error::WatchConflicts`] (16: a key that changes
/// under 16 consecutive attempts is contended enough that the caller should know).
pub const DEFAULT_MAX_ATTEMPTS: u32 = 16;

/// What the shell does next.
#[derive(Debug)]
pub enum WatchStep<T> {
    /// Send this command (WATCH or UNWATCH) and pass its reply to [`WatchLoop::on_reply`].
    Send(Cmd),
    /// Run the body with a fresh atomic pipeline; pass its outcome to
    /// [`WatchLoop::on_body`].
    RunBody,
    /// The transaction is over.
    Done(Result<T>),
}

/// What to do once an UNWATCH has been answered.
#[derive(Debug)]
enum AfterUnwatch<T> {
    Watch,
    Finish(Result<T>),
}

#[derive(Debug)]
enum State<T> {
    Watching,
    Body,
    Unwatching(AfterUnwatch<T>),
    Over,
}

/// One run of the WATCH loop.
#[derive(Debug)]
pub struct WatchLoop<T> {
    watch: Cmd,
    max_attempts: u32,
    attempts: u32,
    state: State<T>,
}

impl<T> WatchLoop<T> {
    /// A loop that WATCHes `watch` (a `WATCH key...` command), trying at most
    /// `max_attempts` times (0 counts as 1).
    pub fn new(watch: Cmd, max_attempts: u32) -> WatchLoop<T> {
        WatchLoop {
            watch,
            max_attempts: max_attempts.max(1),
            attempts: 0,
            state: State::Watching,
        }
    }

    /// The `WATCH key...` command for `keys`.
    pub fn watch_cmd<K: crate::ToArgs>(keys: K) -> Cmd {
        cmd("WATCH").with(keys)
    }

    /// The first step: WATCH.
    pub fn start(&mut self) -> WatchStep<T> {
        self.state = State::Watching;
        WatchStep::Send(self.watch.clone())
    }

    /// The reply to the command of the last `Send` step.
    pub fn on_reply(&mut self, reply: Result<Value>) -> WatchStep<T> {
        match std::mem::replace(&mut self.state, State::Over) {
            State::Watching => match reply {
                Ok(_) => {
                    self.state = State::Body;
                    WatchStep::RunBody
                }
                Err(e) => WatchStep::Done(Err(e)),
            },
            State::Unwatching(next) => match (reply, next) {
                (Err(e), _) if e.is_connection_dropped() => WatchStep::Done(Err(e)),
                // The body's own error matters more than a failed UNWATCH.
                (_, AfterUnwatch::Finish(r)) => WatchStep::Done(r),
                (Err(e), AfterUnwatch::Watch) => WatchStep::Done(Err(e)),
                (Ok(_), AfterUnwatch::Watch) => self.start(),
            },
            State::Body | State::Over => WatchStep::Done(Err(Error::InvalidRequest(
                "the WATCH loop got a reply it did not ask for".into(),
            ))),
        }
    }

    /// The body's outcome, and whether it sent EXEC (or anything else that ends the
    /// WATCH, see [`ends_watch`]).
    pub fn on_body(&mut self, outcome: Result<Option<T>>, exec_sent: bool) -> WatchStep<T> {
        self.attempts += 1;
        let next = match outcome {
            Ok(Some(v)) => AfterUnwatch::Finish(Ok(v)),
            Ok(None) if self.attempts >= self.max_attempts => {
                AfterUnwatch::Finish(Err(Error::WatchConflicts {
                    attempts: self.attempts,
                }))
            }
            Ok(None) => AfterUnwatch::Watch,
            // The link is gone: nothing to unwatch, nothing to retry.
            Err(e) if e.is_connection_dropped() => {
                self.state = State::Over;
                return WatchStep::Done(Err(e));
            }
            Err(e) => AfterUnwatch::Finish(Err(e)),
        };
        match (next, exec_sent) {
            (AfterUnwatch::Finish(r), true) => {
                self.state = State::Over;
                WatchStep::Done(r)
            }
            (AfterUnwatch::Watch, true) => self.start(),
            (next, false) => {
                self.state = State::Unwatching(next);
                WatchStep::Send(cmd("UNWATCH"))
            }
        }
    }

    /// How many times the body has run.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }
}

/// True when sending `cmd` ends the connection's WATCH (EXEC, DISCARD, UNWATCH, RESET).
pub fn ends_watch(cmd: &Cmd) -> bool {
    cmd.arg_at(0).is_some_and(|n| {
        [&b"EXEC"[..], b"DISCARD", b"UNWATCH", b"RESET"]
            .iter()
            .any(|w| n.eq_ignore_ascii_case(w))
    })
}

/// True when sending `pipe` ends the connection's WATCH (an atomic pipeline ends with
/// EXEC).
pub fn pipeline_ends_watch(pipe: &Pipeline) -> bool {
    pipe.is_atomic() || pipe.cmds().iter().any(ends_watch)
}

/// Expands the shell half of the WATCH loop into a client crate: [`WatchLoop`]'s driver
/// `transaction` / `transaction_with_attempts`, and `WatchedConnection`, the connection
/// the body sees (it records whether the body sent EXEC). Arguments: the maybe-async
/// attribute (`maybe_async::must_be_sync` or `maybe_async::must_be_async(AFIT)`), the
/// body's closure trait (`FnMut` or `AsyncFnMut`), then the doc comment of `transaction`.
/// The expansion site provides `ConnectionLike` and `ExclusiveConnection`.
#[macro_export]
macro_rules! transaction_template {
    ($attr:meta; $body_fn:ident; $(#[$doc:meta])*) => {
        /// The connection a transaction body works with: the caller's connection, watched
        /// for whether the body sent EXEC (or DISCARD/UNWATCH), so that a body that did not
        /// is followed by `UNWATCH` and the connection is left clean.
        #[derive(Debug)]
        pub struct WatchedConnection<'a, C: ?Sized> {
            con: &'a mut C,
            ended: bool,
        }

        #[$attr]
        impl<C: ConnectionLike + ?Sized> ConnectionLike for WatchedConnection<'_, C> {
            async fn req(&mut self, cmd: &$crate::Cmd) -> $crate::Result<$crate::Value> {
                self.ended |= $crate::transaction::ends_watch(cmd);
                self.con.req(cmd).await
            }

            async fn req_owned(&mut self, cmd: $crate::Cmd) -> $crate::Result<$crate::Value> {
                self.ended |= $crate::transaction::ends_watch(&cmd);
                self.con.req_owned(cmd).await
            }

            async fn req_pipeline(
                &mut self,
                pipe: &$crate::Pipeline,
            ) -> $crate::Result<Vec<$crate::Value>> {
                self.ended |= $crate::transaction::pipeline_ends_watch(pipe);
                self.con.req_pipeline(pipe).await
            }
        }

        impl<C: ExclusiveConnection + ?Sized> ExclusiveConnection for WatchedConnection<'_, C> {}

        $(#[$doc])*
        #[$attr]
        pub async fn transaction<C, K, T, F>(con: &mut C, keys: K, body: F) -> $crate::Result<T>
        where
            C: ExclusiveConnection + ?Sized,
            K: $crate::ToArgs,
            F: $body_fn(&mut WatchedConnection<'_, C>, &mut $crate::Pipeline)
                -> $crate::Result<Option<T>>,
        {
            transaction_with_attempts(con, keys, $crate::transaction::DEFAULT_MAX_ATTEMPTS, body)
                .await
        }

        /// [`transaction`] with its own limit on how many times the body runs.
        #[$attr]
        pub async fn transaction_with_attempts<C, K, T, F>(
            con: &mut C,
            keys: K,
            max_attempts: u32,
            mut body: F,
        ) -> $crate::Result<T>
        where
            C: ExclusiveConnection + ?Sized,
            K: $crate::ToArgs,
            F: $body_fn(&mut WatchedConnection<'_, C>, &mut $crate::Pipeline)
                -> $crate::Result<Option<T>>,
        {
            use $crate::transaction::{WatchLoop, WatchStep};
            let mut flow = WatchLoop::new(WatchLoop::<T>::watch_cmd(keys), max_attempts);
            let mut step = flow.start();
            loop {
                step = match step {
                    WatchStep::Send(c) => {
                        let reply = con.req(&c).await;
                        flow.on_reply(reply)
                    }
                    WatchStep::RunBody => {
                        let mut p = $crate::pipe();
                        p.atomic();
                        let mut watched = WatchedConnection {
                            con: &mut *con,
                            ended: false,
                        };
                        let outcome = body(&mut watched, &mut p).await;
                        let ended = watched.ended;
                        flow.on_body(outcome, ended)
                    }
                    WatchStep::Done(r) => return r,
                }
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sent(step: &WatchStep<i32>) -> String {
        match step {
            WatchStep::Send(c) => c.name(),
            other => panic!("expected Send, got {other:?}"),
        }
    }

    fn done(step: WatchStep<i32>) -> Result<i32> {
        match step {
            WatchStep::Done(r) => r,
            other => panic!("expected Done, got {other:?}"),
        }
    }

    #[test]
    fn commits_after_one_conflict_without_extra_round_trips() {
        let mut m = WatchLoop::new(WatchLoop::<i32>::watch_cmd("k"), 16);
        assert_eq!(sent(&m.start()), "WATCH");
        assert!(matches!(m.on_reply(Ok(Value::Okay)), WatchStep::RunBody));
        // EXEC aborted: WATCH again straight away (EXEC already cleared the watch).
        assert_eq!(sent(&m.on_body(Ok(None), true)), "WATCH");
        assert!(matches!(m.on_reply(Ok(Value::Okay)), WatchStep::RunBody));
        assert_eq!(done(m.on_body(Ok(Some(7)), true)).unwrap(), 7);
        assert_eq!(m.attempts(), 2);
    }

    #[test]
    fn gives_up_after_the_limit_with_a_typed_error() {
        let mut m = WatchLoop::<i32>::new(WatchLoop::<i32>::watch_cmd("k"), 3);
        let mut step = m.start();
        let mut bodies = 0;
        let err = loop {
            step = match step {
                WatchStep::Send(_) => m.on_reply(Ok(Value::Okay)),
                WatchStep::RunBody => {
                    bodies += 1;
                    m.on_body(Ok(None), true)
                }
                WatchStep::Done(r) => break r.unwrap_err(),
            }
        };
        assert_eq!(bodies, 3);
        assert!(
            matches!(err, Error::WatchConflicts { attempts: 3 }),
            "{err}"
        );
    }

    #[test]
    fn a_body_that_skips_exec_is_unwatched() {
        // Early return with a value.
        let mut m = WatchLoop::new(WatchLoop::<i32>::watch_cmd("k"), 16);
        m.start();
        m.on_reply(Ok(Value::Okay));
        assert_eq!(sent(&m.on_body(Ok(Some(1)), false)), "UNWATCH");
        assert_eq!(done(m.on_reply(Ok(Value::Okay))).unwrap(), 1);

        // An error reply inside the body: UNWATCH, then the body's error.
        let mut m = WatchLoop::new(WatchLoop::<i32>::watch_cmd("k"), 16);
        m.start();
        m.on_reply(Ok(Value::Okay));
        let step = m.on_body(Err(Error::InvalidRequest("mine".into())), false);
        assert_eq!(sent(&step), "UNWATCH");
        let err = done(m.on_reply(Ok(Value::Okay))).unwrap_err();
        assert!(matches!(err, Error::InvalidRequest(ref s) if s == "mine"));

        // A voluntary retry without EXEC: UNWATCH, then WATCH again.
        let mut m = WatchLoop::new(WatchLoop::<i32>::watch_cmd("k"), 16);
        m.start();
        m.on_reply(Ok(Value::Okay));
        assert_eq!(sent(&m.on_body(Ok(None), false)), "UNWATCH");
        assert_eq!(sent(&m.on_reply(Ok(Value::Okay))), "WATCH");

        // A dropped link: nothing more is sent.
        let mut m = WatchLoop::new(WatchLoop::<i32>::watch_cmd("k"), 16);
        m.start();
        m.on_reply(Ok(Value::Okay));
        let io = Error::Io(std::io::ErrorKind::BrokenPipe.into());
        assert!(done(m.on_body(Err(io), false)).is_err());
    }

    #[test]
    fn watch_failure_ends_the_loop() {
        let mut m = WatchLoop::<i32>::new(WatchLoop::<i32>::watch_cmd("k"), 16);
        m.start();
        let e = Error::Io(std::io::ErrorKind::BrokenPipe.into());
        assert!(done(m.on_reply(Err(e))).is_err());
    }

    #[test]
    fn what_ends_a_watch() {
        assert!(ends_watch(&cmd("exec")));
        assert!(ends_watch(&cmd("UNWATCH")));
        assert!(!ends_watch(&cmd("GET").with("k")));
        let mut p = Pipeline::new();
        p.add(cmd("SET").with("k").with(1));
        assert!(!pipeline_ends_watch(&p));
        p.atomic();
        assert!(pipeline_ends_watch(&p));
    }
}
