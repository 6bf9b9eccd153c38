//! Decisions about opening a connection that both clients share: which failures another
//! attempt may fix, and the socket options a TCP connection gets.
//!
//! Socket options are a plain description built from [`Config`]; with the `socket`
//! feature, `SocketOptions::apply` sets them through `socket2` on any socket the shells
//! open (blocking or tokio), so the setup is written once.
//!
//! - `TCP_NODELAY` from `config.tcp_nodelay`.
//! - Keepalive from `config.tcp_keepalive` (idle time; probes every `idle / 6`, at least
//!   1 s, 3 probes where the OS lets us choose), so a silent peer is noticed on an idle link.
//! - `TCP_USER_TIMEOUT` (Linux, Android, Fuchsia): sent data that stays unacknowledged this
//!   long closes the connection, which is what replaces a half-open link under traffic.
//!   It is the larger of the response and write timeouts, at least 1 s (one lost segment
//!   must not kill a link), and is left unset when keepalive is off (`tcp_keepalive: None`),
//!   the switch for "leave my socket options alone".

use std::time::Duration;

use crate::config::Config;
use crate::error::Error;

/// True for a failure that a new attempt to connect may fix (the server is restarting, a
/// link dropped, the server is loading); authentication, TLS and configuration errors are
/// not among them.
pub fn is_transient(e: &Error) -> bool {
    // A node in the wrong role: the connection source re-resolves, the next try may
    // reach the right node.
    matches!(
        e,
        Error::Io(_) | Error::Timeout { .. } | Error::RoleMismatch { .. }
    ) || e.is_retriable() && matches!(e, Error::Server(_))
}

/// Keepalive probing of an idle TCP connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keepalive {
    /// Idle time before the first probe.
    pub idle: Duration,
    /// Time between probes.
    pub interval: Duration,
    /// Unanswered probes before the connection is dropped.
    pub retries: u32,
}

/// The options every TCP connection gets, derived from a [`Config`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SocketOptions {
    /// `TCP_NODELAY`.
    pub nodelay: bool,
    /// `SO_KEEPALIVE` and its timings; `None` leaves keepalive off.
    pub keepalive: Option<Keepalive>,
    /// `TCP_USER_TIMEOUT`, applied where the OS has it; `None` leaves the OS default.
    pub user_timeout: Option<Duration>,
}

impl SocketOptions {
    /// The options for `config` (see the module docs for how each is chosen).
    pub fn from_config(config: &Config) -> SocketOptions {
        let keepalive = config.tcp_keepalive.map(|idle| Keepalive {
            idle,
            interval: (idle / 6).max(Duration::from_secs(1)),
            retries: 3,
        });
        let user_timeout = keepalive.map(|_| {
            config
                .response_timeout
                .max(config.write_timeout)
                .max(Duration::from_secs(1))
                // The kernel takes milliseconds in a u32.
                .min(Duration::from_millis(u64::from(u32::MAX)))
        });
        SocketOptions {
            nodelay: config.tcp_nodelay,
            keepalive,
            user_timeout,
        }
    }

    /// Sets these options on a connected TCP socket.
    #[cfg(feature = "socket")]
    pub fn apply(&self, sock: socket2::SockRef<'_>) -> std::io::Result<()> {
        sock.set_tcp_nodelay(self.nodelay)?;
        if let Some(k) = self.keepalive {
            let ka = socket2::TcpKeepalive::new().with_time(k.idle);
            // Probe timing is settable on these; elsewhere the OS defaults apply.
            #[cfg(any(
                target_os = "linux",
                target_os = "android",
                target_os = "macos",
                target_os = "ios",
                target_os = "freebsd",
                target_os = "netbsd"
            ))]
            let ka = ka.with_interval(k.interval).with_retries(k.retries);
            sock.set_tcp_keepalive(&ka)?;
        }
        #[cfg(any(target_os = "linux", target_os = "android", target_os = "fuchsia"))]
        if let Some(t) = self.user_timeout {
            sock.set_tcp_user_timeout(Some(t))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Addr;

    #[test]
    fn options_from_config() {
        let mut c = Config::new(Addr::tcp("h", 1));
        c.response_timeout = Duration::from_millis(200);
        c.write_timeout = Duration::from_secs(3);
        let o = SocketOptions::from_config(&c);
        assert!(o.nodelay);
        assert_eq!(o.user_timeout, Some(Duration::from_secs(3)));
        let k = o.keepalive.unwrap();
        assert_eq!(
            (k.idle, k.interval),
            (Duration::from_secs(60), Duration::from_secs(10))
        );
        c.write_timeout = Duration::from_millis(10);
        assert_eq!(
            SocketOptions::from_config(&c).user_timeout,
            Some(Duration::from_secs(1))
        );
        c.tcp_keepalive = None;
        let o = SocketOptions::from_config(&c);
        assert_eq!((o.keepalive, o.user_timeout), (None, None));
    }

    #[test]
    fn transient_failures() {
        use crate::error::ServerError;
        assert!(is_transient(&Error::Io(
            std::io::ErrorKind::ConnectionRefused.into()
        )));
        assert!(is_transient(&ServerError::parse("LOADING x").into()));
        assert!(!is_transient(&ServerError::parse("WRONGPASS x").into()));
        assert!(!is_transient(&Error::InvalidConfig("x".into())));
    }
}
