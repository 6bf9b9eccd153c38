//! The byte stream under a connection: TCP, Unix socket or TLS over TCP.
//!
//! Opening one applies every socket-level setting from the config in one place (connect
//! timeout, TLS verification, and the TCP options `redis_core::connect::SocketOptions`
//! describes: TCP_NODELAY, keepalive, TCP_USER_TIMEOUT), so the connection above only sees
//! `Read + Write` and timeouts.

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
#[cfg(unix)]
use std::os::unix::net::UnixStream;
use std::time::Duration;

use redis_core::abort::{self, AbortGuard, AbortHandle};
use redis_core::connect::SocketOptions;
use redis_core::{Addr, Config, Error, Result};

/// An open socket.
pub(crate) enum Stream {
    Tcp(TcpStream),
    #[cfg(unix)]
    Unix(UnixStream),
    Tls(Box<native_tls::TlsStream<TcpStream>>),
}

impl Stream {
    /// Opens the socket described by `config.addr` within `config.connect_timeout`.
    pub(crate) fn connect(config: &Config) -> Result<Stream> {
        match &config.addr {
            Addr::Tcp { host, port } => Ok(Stream::Tcp(connect_tcp(host, *port, config)?)),
            Addr::Tls { host, port } => {
                let tcp = connect_tcp(host, *port, config)?;
                tcp.set_read_timeout(Some(config.connect_timeout))?;
                tcp.set_write_timeout(Some(config.connect_timeout))?;
                let connector = redis_core::tls::connector(&config.tls)?;
                let name = config.tls.server_name.as_deref().unwrap_or(host);
                match connector.connect(name, tcp) {
                    Ok(s) => Ok(Stream::Tls(Box::new(s))),
                    Err(native_tls::HandshakeError::Failure(e)) => Err(Error::Tls(format!(
                        "handshake with {host}:{port} failed: {e}"
                    ))),
                    Err(native_tls::HandshakeError::WouldBlock(_)) => Err(Error::Timeout {
                        what: "TLS handshake",
                        after: config.connect_timeout,
                    }),
                }
            }
            #[cfg(unix)]
            Addr::Unix(path) => Ok(Stream::Unix(UnixStream::connect(path)?)),
            #[cfg(not(unix))]
            Addr::Unix(_) => Err(Error::InvalidConfig(
                "unix sockets are not supported on this platform".into(),
            )),
            other => Err(Error::InvalidConfig(format!("unsupported address {other}"))),
        }
    }

    fn tcp(&self) -> Option<&TcpStream> {
        match self {
            Stream::Tcp(s) => Some(s),
            Stream::Tls(s) => Some(s.get_ref()),
            #[cfg(unix)]
            Stream::Unix(_) => None,
        }
    }

    pub(crate) fn set_read_timeout(&self, t: Option<Duration>) -> io::Result<()> {
        match self {
            #[cfg(unix)]
            Stream::Unix(s) => s.set_read_timeout(t),
            _ => self.tcp().map_or(Ok(()), |s| s.set_read_timeout(t)),
        }
    }

    pub(crate) fn set_write_timeout(&self, t: Option<Duration>) -> io::Result<()> {
        match self {
            #[cfg(unix)]
            Stream::Unix(s) => s.set_write_timeout(t),
            _ => self.tcp().map_or(Ok(()), |s| s.set_write_timeout(t)),
        }
    }

    /// Closes both directions (best effort), so the server sees the client go at once.
    /// Registers this stream's socket (for TLS, the TCP socket under it) so that an
    /// `AbortHandle` can end it from another thread.
    pub(crate) fn register_abort(&self, addr: &Addr) -> (AbortGuard, AbortHandle) {
        match self {
            Stream::Tcp(s) => abort::register(addr, s),
            Stream::Tls(s) => abort::register(addr, s.get_ref()),
            #[cfg(unix)]
            Stream::Unix(s) => abort::register(addr, s),
        }
    }

    pub(crate) fn shutdown(&self) {
        let _ = match self {
            #[cfg(unix)]
            Stream::Unix(s) => s.shutdown(std::net::Shutdown::Both),
            _ => self
                .tcp()
                .map_or(Ok(()), |s| s.shutdown(std::net::Shutdown::Both)),
        };
    }
}

fn connect_tcp(host: &str, port: u16, config: &Config) -> Result<TcpStream> {
    let mut last = None;
    for addr in (host, port).to_socket_addrs()? {
        match TcpStream::connect_timeout(&addr, config.connect_timeout) {
            Ok(s) => {
                SocketOptions::from_config(config).apply(socket2::SockRef::from(&s))?;
                return Ok(s);
            }
            Err(e) if e.kind() == io::ErrorKind::TimedOut => {
                last = Some(Error::Timeout {
                    what: "connect",
                    after: config.connect_timeout,
                })
            }
            Err(e) => last = Some(Error::Io(e)),
        }
    }
    Err(last.unwrap_or_else(|| {
        Error::Io(io::Error::new(
            io::ErrorKind::NotFound,
            format!("{host} resolved to no address"),
        ))
    }))
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.read(buf),
            #[cfg(unix)]
            Stream::Unix(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.write(buf),
            #[cfg(unix)]
            Stream::Unix(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.flush(),
            #[cfg(unix)]
            Stream::Unix(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shared TCP options reach the socket: keepalive, and TCP_USER_TIMEOUT where
    /// the OS has it (a plain local listener; no server needed to read socket options).
    #[test]
    fn tcp_options_are_applied() -> Result<()> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        let mut config = Config::new(Addr::tcp("127.0.0.1", port));
        config.response_timeout = Duration::from_secs(7);
        let stream = Stream::connect(&config)?;
        let Some(tcp) = stream.tcp() else {
            return Err(Error::InvalidConfig("expected a TCP stream".into()));
        };
        let sock = socket2::SockRef::from(tcp);
        assert!(sock.keepalive()?);
        assert!(sock.tcp_nodelay()?);
        #[cfg(target_os = "linux")]
        assert_eq!(sock.tcp_user_timeout()?, Some(Duration::from_secs(10)));
        Ok(())
    }
}
