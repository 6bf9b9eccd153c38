//! Ending a connection from outside the code that uses it.
//!
//! A Sentinel or cluster client learns that a node was replaced (a `+switch-master`, a
//! slot map that shows the node demoted) on another thread or task than the callers
//! waiting on that node. Those callers must stop waiting at once: a write the demoted
//! primary acknowledges late is thrown away when it resyncs with the new primary, so the
//! caller must hear "may have executed", never OK. Each connection registers its socket
//! here when it opens; an [`AbortHandle`] shuts that socket down from anywhere, which
//! makes the blocked read (blocking client) or the driver's read (async client) return at
//! once, through the same error path as a link the server cut.
//!
//! # Implementation
//!
//! The registry keeps a duplicate of the socket's file descriptor, because shutting a
//! socket down through any of its descriptors ends it for all of them. The duplicate lives
//! only as long as the connection: the connection's [`AbortGuard`] closes it on drop, so a
//! handle kept in a registry never keeps a connection open (and a descriptor number is
//! never reused under it: the duplicate is closed under the same lock `abort` takes).

use std::fmt;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::config::Addr;

#[derive(Default)]
struct Cell {
    /// Set by `abort`; read on every request, so an atomic rather than the lock.
    aborted: AtomicBool,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    socket: Option<socket2::Socket>,
    cause: Option<String>,
    closed: bool,
}

impl Cell {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Every critical section sets or takes a field: a panic cannot leave it torn.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Ends one connection from any thread or task (see the module docs). Cheap to clone; it
/// does not keep the connection open.
#[derive(Clone)]
pub struct AbortHandle {
    cell: Arc<Cell>,
    addr: Arc<Addr>,
}

/// Held by the connection the handle ends; dropping it (with the connection) releases the
/// duplicate socket.
pub struct AbortGuard {
    cell: Arc<Cell>,
}

/// Registers a connection to `addr` whose socket is `socket` (for TLS, the TCP socket
/// under it). On platforms without `AsFd` the handle still marks the connection aborted
/// (it fails at its next use) but cannot interrupt a wait in progress.
pub fn register<S: SocketLike>(addr: &Addr, socket: &S) -> (AbortGuard, AbortHandle) {
    let cell = Arc::new(Cell::default());
    // Without a duplicate the handle can still mark the connection aborted; failing to
    // duplicate (out of descriptors) must not fail the connection itself.
    cell.lock().socket = socket.duplicate().ok();
    (
        AbortGuard { cell: cell.clone() },
        AbortHandle {
            cell,
            addr: Arc::new(addr.clone()),
        },
    )
}

/// A socket whose descriptor can be duplicated for an [`AbortHandle`].
pub trait SocketLike {
    /// A second descriptor for the same socket.
    fn duplicate(&self) -> io::Result<socket2::Socket>;
}

#[cfg(unix)]
impl<T: std::os::fd::AsFd> SocketLike for T {
    fn duplicate(&self) -> io::Result<socket2::Socket> {
        Ok(socket2::Socket::from(self.as_fd().try_clone_to_owned()?))
    }
}

#[cfg(not(unix))]
impl<T> SocketLike for T {
    fn duplicate(&self) -> io::Result<socket2::Socket> {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "aborting a connection in progress needs a unix platform",
        ))
    }
}

impl AbortHandle {
    /// Ends the connection now: requests already written on it fail with
    /// `Error::MayHaveExecuted` (with `cause` inside), requests not yet written with
    /// `Error::Broken`, and late replies are discarded with the socket. Idempotent; the
    /// first cause is kept.
    pub fn abort(&self, cause: &str) {
        let mut state = self.cell.lock();
        if state.closed {
            return;
        }
        if state.cause.is_none() {
            state.cause = Some(cause.to_owned());
        }
        self.cell.aborted.store(true, Ordering::Release);
        if let Some(socket) = &state.socket {
            // Errors (already shut down, reset) all mean the link is gone anyway.
            let _ = socket.shutdown(std::net::Shutdown::Both);
        }
    }

    /// False once the connection is closed or dropped: prune such handles.
    pub fn is_alive(&self) -> bool {
        !self.cell.lock().closed
    }

    /// The address of the connection.
    pub fn addr(&self) -> &Addr {
        &self.addr
    }
}

impl fmt::Debug for AbortHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AbortHandle")
            .field("addr", &*self.addr)
            .field("aborted", &self.cell.aborted.load(Ordering::Relaxed))
            .finish()
    }
}

impl AbortGuard {
    /// True once [`AbortHandle::abort`] was called (one atomic load).
    pub fn is_aborted(&self) -> bool {
        self.cell.aborted.load(Ordering::Acquire)
    }

    /// Why the connection was aborted, if it was.
    pub fn cause(&self) -> Option<String> {
        if !self.is_aborted() {
            return None;
        }
        self.cell.lock().cause.clone()
    }

    /// The abort as an I/O error (`ConnectionAborted`, with the cause), if it happened.
    pub fn cause_error(&self) -> Option<crate::Error> {
        let cause = self.cause()?;
        Some(crate::Error::Io(io::Error::new(
            io::ErrorKind::ConnectionAborted,
            format!("connection aborted: {cause}"),
        )))
    }

    /// The error for a request the abort cut after it was written.
    pub fn error(&self) -> Option<crate::Error> {
        Some(crate::Error::MayHaveExecuted(Box::new(self.cause_error()?)))
    }
}

impl fmt::Debug for AbortGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AbortGuard")
            .field("aborted", &self.is_aborted())
            .finish()
    }
}

impl Drop for AbortGuard {
    fn drop(&mut self) {
        let mut state = self.cell.lock();
        state.closed = true;
        state.socket = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::net::{TcpListener, TcpStream};

    #[test]
    fn abort_ends_a_blocked_read_and_the_handle_outlives_nothing() -> io::Result<()> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        let mut client = TcpStream::connect(("127.0.0.1", port))?;
        let (_server, _) = listener.accept()?;
        let (guard, handle) = register(&Addr::tcp("127.0.0.1", port), &client);
        assert!(handle.is_alive() && !guard.is_aborted());
        let reader = std::thread::spawn(move || {
            let mut buf = [0u8; 8];
            client.read(&mut buf)
        });
        std::thread::sleep(std::time::Duration::from_millis(50));
        handle.abort("node demoted");
        handle.abort("second cause is ignored");
        let read = reader
            .join()
            .map_err(|_| io::Error::other("reader panicked"))?;
        assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
        assert!(guard.is_aborted());
        assert_eq!(guard.cause().as_deref(), Some("node demoted"));
        assert!(matches!(
            guard.error(),
            Some(crate::Error::MayHaveExecuted(_))
        ));
        drop(guard);
        assert!(!handle.is_alive());
        handle.abort("after close: nothing happens");
        Ok(())
    }
}
