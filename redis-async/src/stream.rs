//! The byte stream under a connection: TCP, Unix socket or TLS over TCP, on tokio.
//!
//! Opening one applies every socket-level setting from the config in one place (the TCP
//! options `redis_core::connect::SocketOptions` describes: TCP_NODELAY, keepalive,
//! TCP_USER_TIMEOUT), with the whole connect (resolution, TCP, TLS) bounded by
//! `connect_timeout`.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use redis_core::abort::{self, AbortGuard, AbortHandle};
use redis_core::connect::SocketOptions;
use redis_core::{Addr, Config, Error, Result};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
#[cfg(unix)]
use tokio::net::UnixStream;

/// An open socket.
pub(crate) enum Stream {
    Tcp(TcpStream),
    #[cfg(unix)]
    Unix(UnixStream),
    Tls(Box<tokio_native_tls::TlsStream<TcpStream>>),
}

impl Stream {
    /// Registers this stream's socket (for TLS, the TCP socket under it) so that an
    /// `AbortHandle` can end it from another task or thread.
    pub(crate) fn register_abort(&self, addr: &Addr) -> (AbortGuard, AbortHandle) {
        match self {
            Stream::Tcp(s) => abort::register(addr, s),
            Stream::Tls(s) => abort::register(addr, s.get_ref().get_ref().get_ref()),
            #[cfg(unix)]
            Stream::Unix(s) => abort::register(addr, s),
        }
    }

    /// Opens the socket described by `config.addr` within `config.connect_timeout`.
    pub(crate) async fn connect(config: &Config) -> Result<Stream> {
        match tokio::time::timeout(config.connect_timeout, Stream::connect_inner(config)).await {
            Ok(r) => r,
            Err(_) => Err(Error::Timeout {
                what: "connect",
                after: config.connect_timeout,
            }),
        }
    }

    async fn connect_inner(config: &Config) -> Result<Stream> {
        match &config.addr {
            Addr::Tcp { host, port } => Ok(Stream::Tcp(connect_tcp(host, *port, config).await?)),
            Addr::Tls { host, port } => {
                let tcp = connect_tcp(host, *port, config).await?;
                let connector =
                    tokio_native_tls::TlsConnector::from(redis_core::tls::connector(&config.tls)?);
                let name = config.tls.server_name.as_deref().unwrap_or(host);
                let tls = connector
                    .connect(name, tcp)
                    .await
                    .map_err(|e| Error::Tls(format!("handshake with {host}:{port} failed: {e}")))?;
                Ok(Stream::Tls(Box::new(tls)))
            }
            #[cfg(unix)]
            Addr::Unix(path) => Ok(Stream::Unix(UnixStream::connect(path).await?)),
            other => Err(Error::InvalidConfig(format!("unsupported address {other}"))),
        }
    }
}

async fn connect_tcp(host: &str, port: u16, config: &Config) -> Result<TcpStream> {
    let s = TcpStream::connect((host, port)).await?;
    SocketOptions::from_config(config).apply(socket2::SockRef::from(&s))?;
    Ok(s)
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_read(cx, buf),
            #[cfg(unix)]
            Stream::Unix(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_write(cx, buf),
            #[cfg(unix)]
            Stream::Unix(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_flush(cx),
            #[cfg(unix)]
            Stream::Unix(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_shutdown(cx),
            #[cfg(unix)]
            Stream::Unix(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}
