//! Connection configuration and URL parsing.
//!
//! One config type serves both shells and, later, every node of a cluster and every
//! sentinel-discovered server: the address is separate from everything else so a router
//! can clone the config and swap the address. Every wait has a finite default.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::backoff::Backoff;
use crate::credentials::{Credentials, Secret, SharedCredentials, StaticCredentials};
use crate::error::{Error, Result};
use crate::resp::DecoderLimits;

/// Where the server is.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Addr {
    /// Plain TCP.
    Tcp {
        /// Host name or IP address (IPv6 without brackets).
        host: String,
        /// Port.
        port: u16,
    },
    /// TCP with TLS.
    Tls {
        /// Host name or IP address; also the name the certificate is checked against.
        host: String,
        /// Port.
        port: u16,
    },
    /// Unix domain socket.
    Unix(PathBuf),
}

impl Addr {
    /// Plain TCP address.
    pub fn tcp(host: impl Into<String>, port: u16) -> Addr {
        Addr::Tcp {
            host: host.into(),
            port,
        }
    }
}

impl fmt::Display for Addr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Addr::Tcp { host, port } | Addr::Tls { host, port } if host.contains(':') => {
                write!(f, "[{host}]:{port}")
            }
            Addr::Tcp { host, port } | Addr::Tls { host, port } => write!(f, "{host}:{port}"),
            Addr::Unix(p) => write!(f, "{}", p.display()),
        }
    }
}

/// Which protocol version the handshake asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Protocol {
    /// RESP2: no HELLO; AUTH and SELECT as separate commands.
    #[default]
    Resp2,
    /// RESP3 via `HELLO 3`: maps, doubles, push messages.
    Resp3,
}

/// TLS settings. Certificates and host names are verified unless a `danger_` flag says
/// otherwise.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct TlsConfig {
    /// Extra root certificate (PEM) to trust, e.g. a private CA.
    pub ca_cert_pem: Option<Vec<u8>>,
    /// Client certificate chain and PKCS#8 key (both PEM) for mutual TLS.
    pub client_cert_pem: Option<(Vec<u8>, Vec<u8>)>,
    /// The name the server certificate must carry (and the SNI sent); default: the host
    /// from the address. Useful when connecting by IP to a certificate with a DNS name.
    pub server_name: Option<String>,
    /// Accepts any certificate. Never use outside tests.
    pub danger_accept_invalid_certs: bool,
    /// Accepts a certificate for another host name. Never use outside tests.
    pub danger_accept_invalid_hostnames: bool,
}

impl fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConfig")
            .field("ca_cert", &self.ca_cert_pem.is_some())
            .field("client_cert", &self.client_cert_pem.is_some())
            .field("server_name", &self.server_name)
            .field(
                "danger_accept_invalid_certs",
                &self.danger_accept_invalid_certs,
            )
            .field(
                "danger_accept_invalid_hostnames",
                &self.danger_accept_invalid_hostnames,
            )
            .finish()
    }
}

/// Everything needed to open and set up one connection.
#[derive(Clone)]
#[non_exhaustive]
pub struct Config {
    /// Server address.
    pub addr: Addr,
    /// Database selected after connecting.
    pub db: i64,
    /// Where user name and password come from.
    pub credentials: SharedCredentials,
    /// Protocol version.
    pub protocol: Protocol,
    /// `CLIENT SETNAME` value.
    pub client_name: Option<String>,
    /// TLS settings, used when `addr` is [`Addr::Tls`].
    pub tls: TlsConfig,
    /// Limit on opening the socket and finishing the handshake (default 5 s).
    pub connect_timeout: Duration,
    /// Limit on waiting for a reply (default 10 s). Blocking commands wait their own block
    /// time on top of it.
    pub response_timeout: Duration,
    /// Limit on writing a request (default 10 s).
    pub write_timeout: Duration,
    /// Retries of connection establishment.
    pub connect_backoff: Backoff,
    /// Disable Nagle's algorithm (default on: requests are already batched into one write).
    pub tcp_nodelay: bool,
    /// TCP keepalive idle time (default 60 s; `None` disables it).
    pub tcp_keepalive: Option<Duration>,
    /// Bounds on replies.
    pub decoder_limits: DecoderLimits,
    /// Send `CLIENT SETINFO` with the library name and version (default on; errors from
    /// servers that do not know it are ignored).
    pub set_lib_info: bool,
    /// Retry idempotent-looking writes (`SET k v`, `DEL`, `HSET`, ...) after a connection
    /// failure cut their reply (default off). Off, only commands that cannot change data
    /// (reads, `PING`) are retried and a cut write returns `Error::MayHaveExecuted`: if the
    /// first run landed and another client wrote the key before the retry, the retry
    /// would overwrite that client's value. See `command_table::is_retry_safe`.
    pub retry_idempotent_writes: bool,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("addr", &self.addr)
            .field("db", &self.db)
            .field("credentials", &self.credentials)
            .field("protocol", &self.protocol)
            .field("client_name", &self.client_name)
            .field("tls", &self.tls)
            .field("connect_timeout", &self.connect_timeout)
            .field("response_timeout", &self.response_timeout)
            .field("write_timeout", &self.write_timeout)
            .field("connect_backoff", &self.connect_backoff)
            .field("tcp_nodelay", &self.tcp_nodelay)
            .field("tcp_keepalive", &self.tcp_keepalive)
            .field("decoder_limits", &self.decoder_limits)
            .finish()
    }
}

impl Config {
    /// A config for `addr` with every other setting at its default.
    pub fn new(addr: Addr) -> Config {
        Config {
            addr,
            db: 0,
            credentials: Arc::new(StaticCredentials::default()),
            protocol: Protocol::default(),
            client_name: None,
            tls: TlsConfig::default(),
            connect_timeout: Duration::from_secs(5),
            response_timeout: Duration::from_secs(10),
            write_timeout: Duration::from_secs(10),
            connect_backoff: Backoff::default(),
            tcp_nodelay: true,
            tcp_keepalive: Some(Duration::from_secs(60)),
            decoder_limits: DecoderLimits::default(),
            set_lib_info: true,
            retry_idempotent_writes: false,
        }
    }

    /// Sets a static user name and password.
    pub fn with_password(mut self, username: Option<&str>, password: &str) -> Config {
        self.credentials = Arc::new(StaticCredentials(Some(Credentials {
            username: username.map(str::to_owned),
            password: Secret::new(password),
        })));
        self
    }

    /// Sets the credentials provider.
    pub fn with_credentials(mut self, provider: SharedCredentials) -> Config {
        self.credentials = provider;
        self
    }

    /// Sets the protocol version.
    pub fn with_protocol(mut self, protocol: Protocol) -> Config {
        self.protocol = protocol;
        self
    }

    /// Opts in to retrying idempotent-looking writes after a cut connection (see
    /// [`Config::retry_idempotent_writes`]).
    pub fn with_retry_idempotent_writes(mut self, on: bool) -> Config {
        self.retry_idempotent_writes = on;
        self
    }

    /// Sets the database number.
    pub fn with_db(mut self, db: i64) -> Config {
        self.db = db;
        self
    }

    /// Parses a URL:
    ///
    /// - `redis://[user[:password]@]host[:port][/db][?options]`
    /// - `rediss://...` for TLS
    /// - `unix:///path/to/socket[?db=N&user=U&password=P]` (also `redis+unix://`)
    ///
    /// Options: `protocol=resp2|resp3` (or `2`/`3`), `db=N`, `name=client-name`,
    /// `user=U`, `password=P`, `connect_timeout=secs`, `response_timeout=secs`.
    /// User, password and path are percent-decoded; IPv6 hosts go in brackets.
    pub fn from_url(url: &str) -> Result<Config> {
        let bad = |why: &str| Error::InvalidConfig(format!("{why} in URL {}", redact_url(url)));
        let (scheme, rest) = url.split_once("://").ok_or_else(|| bad("missing scheme"))?;
        let (rest, query) = match rest.split_once('?') {
            Some((r, q)) => (r, Some(q)),
            None => (rest, None),
        };
        let mut username = None;
        let mut password = None;
        let mut db = 0;
        let scheme = scheme.to_ascii_lowercase();
        let mut config = match scheme.as_str() {
            "redis" | "rediss" | "valkey" | "valkeys" => {
                let (authority, path) = match rest.find('/') {
                    Some(i) => (&rest[..i], &rest[i + 1..]),
                    None => (rest, ""),
                };
                let hostport = match authority.rsplit_once('@') {
                    Some((userinfo, hostport)) => {
                        let (u, p) = match userinfo.split_once(':') {
                            Some((u, p)) => (u, Some(p)),
                            None => (userinfo, None),
                        };
                        if !u.is_empty() {
                            username = Some(percent_decode(u).ok_or_else(|| bad("bad escape"))?);
                        }
                        if let Some(p) = p {
                            password = Some(percent_decode(p).ok_or_else(|| bad("bad escape"))?);
                        }
                        hostport
                    }
                    None => authority,
                };
                let (host, port) =
                    split_host_port(hostport).ok_or_else(|| bad("bad host or port"))?;
                if host.is_empty() {
                    return Err(bad("missing host"));
                }
                let path = path.trim_end_matches('/');
                if !path.is_empty() {
                    db = path.parse().map_err(|_| bad("bad database number"))?;
                }
                let addr = if matches!(scheme.as_str(), "rediss" | "valkeys") {
                    Addr::Tls { host, port }
                } else {
                    Addr::Tcp { host, port }
                };
                Config::new(addr)
            }
            "unix" | "redis+unix" => {
                let path = percent_decode(rest).ok_or_else(|| bad("bad escape"))?;
                if path.is_empty() {
                    return Err(bad("missing socket path"));
                }
                Config::new(Addr::Unix(PathBuf::from(path)))
            }
            _ => return Err(bad("unknown scheme (expected redis, rediss, unix)")),
        };
        for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let v = percent_decode(v).ok_or_else(|| bad("bad escape"))?;
            let secs = |v: &str| -> Result<Duration> {
                v.parse::<f64>()
                    .ok()
                    .filter(|s| s.is_finite() && *s > 0.0)
                    .map(Duration::from_secs_f64)
                    .ok_or_else(|| bad("bad timeout"))
            };
            match k {
                "protocol" => {
                    config.protocol = match v.to_ascii_lowercase().as_str() {
                        "2" | "resp2" => Protocol::Resp2,
                        "3" | "resp3" => Protocol::Resp3,
                        _ => return Err(bad("bad protocol (expected resp2 or resp3)")),
                    }
                }
                "db" => db = v.parse().map_err(|_| bad("bad database number"))?,
                "name" | "client_name" => config.client_name = Some(v),
                "user" | "username" => username = Some(v),
                "password" => password = Some(v),
                "connect_timeout" => config.connect_timeout = secs(&v)?,
                "response_timeout" => config.response_timeout = secs(&v)?,
                _ => return Err(bad(&format!("unknown option {k:?}"))),
            }
        }
        config.db = db;
        if let Some(p) = password {
            config = config.with_password(username.as_deref(), &p);
        } else if username.is_some() {
            return Err(bad("user name without password"));
        }
        Ok(config)
    }
}

/// Something that can become a [`Config`]: a config itself, or a URL.
pub trait IntoConfig {
    /// Converts, validating the URL.
    fn into_config(self) -> Result<Config>;
}

impl IntoConfig for Config {
    fn into_config(self) -> Result<Config> {
        Ok(self)
    }
}

impl IntoConfig for &str {
    fn into_config(self) -> Result<Config> {
        Config::from_url(self)
    }
}

impl IntoConfig for String {
    fn into_config(self) -> Result<Config> {
        Config::from_url(&self)
    }
}

impl IntoConfig for &String {
    fn into_config(self) -> Result<Config> {
        Config::from_url(self)
    }
}

fn split_host_port(s: &str) -> Option<(String, u16)> {
    let (host, port) = if let Some(rest) = s.strip_prefix('[') {
        let (h, after) = rest.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p),
            None if after.is_empty() => None,
            None => return None,
        };
        (h, port)
    } else {
        match s.rsplit_once(':') {
            Some((h, _)) if h.contains(':') => return None,
            Some((h, p)) => (h, Some(p)),
            None => (s, None),
        }
    };
    let port = match port {
        Some(p) => p.parse().ok()?,
        None => 6379,
    };
    Some((percent_decode(host)?, port))
}

fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The URL with any password replaced, for error messages.
fn redact_url(url: &str) -> String {
    let mut out = url.to_string();
    if let Some((scheme, rest)) = url.split_once("://") {
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        if let Some(at) = rest[..authority_end].rfind('@') {
            let userinfo = &rest[..at];
            let user = userinfo.split_once(':').map(|(u, _)| u).unwrap_or(userinfo);
            out = format!("{scheme}://{user}:***@{}", &rest[at + 1..]);
        }
    }
    if let Some(i) = out.find("password=") {
        let end = out[i..].find('&').map(|e| i + e).unwrap_or(out.len());
        out.replace_range(i + "password=".len()..end, "***");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds(c: &Config) -> Option<Credentials> {
        c.credentials.credentials().unwrap()
    }

    #[test]
    fn urls() {
        let c = Config::from_url("redis://localhost").unwrap();
        assert_eq!(c.addr, Addr::tcp("localhost", 6379));
        assert_eq!(c.db, 0);
        assert!(creds(&c).is_none());

        let c = Config::from_url("redis://al%40ice:p%3Ass@127.0.0.1:7000/3?protocol=resp3&name=w")
            .unwrap();
        assert_eq!(c.addr, Addr::tcp("127.0.0.1", 7000));
        assert_eq!(c.db, 3);
        assert_eq!(c.protocol, Protocol::Resp3);
        assert_eq!(c.client_name.as_deref(), Some("w"));
        let cr = creds(&c).unwrap();
        assert_eq!(cr.username.as_deref(), Some("al@ice"));
        assert_eq!(cr.password.expose(), "p:ss");

        let c = Config::from_url("redis://:pw@[::1]:6380").unwrap();
        assert_eq!(c.addr, Addr::tcp("::1", 6380));
        assert_eq!(c.addr.to_string(), "[::1]:6380");
        assert_eq!(creds(&c).unwrap().username, None);

        let c = Config::from_url("rediss://example.com").unwrap();
        assert!(matches!(c.addr, Addr::Tls { ref host, port: 6379 } if host == "example.com"));

        let c = Config::from_url("unix:///tmp/redis%20x.sock?db=2&password=s").unwrap();
        assert_eq!(c.addr, Addr::Unix("/tmp/redis x.sock".into()));
        assert_eq!(c.db, 2);
        let c = Config::from_url("redis+unix:///tmp/r.sock").unwrap();
        assert_eq!(c.addr, Addr::Unix("/tmp/r.sock".into()));

        for bad in [
            "localhost:6379",
            "http://x",
            "redis://x:notaport",
            "redis://x/abc",
            "redis://x?protocol=4",
            "redis://x?bogus=1",
            "redis://::1:6379",
            "redis://x%zz",
            "unix://",
        ] {
            assert!(Config::from_url(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn secrets_never_printed() {
        let c = Config::from_url("redis://u:CANARY-pw@h/1").unwrap();
        assert!(!format!("{c:?}").contains("CANARY"));
        let e = Config::from_url("redis://u:CANARY-pw@h/notadb").unwrap_err();
        assert!(!e.to_string().contains("CANARY"), "{e}");
        let e = Config::from_url("unix:///s?password=CANARY&db=x").unwrap_err();
        assert!(!e.to_string().contains("CANARY"), "{e}");
    }
}
