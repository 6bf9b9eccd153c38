//! Connection configuration and URL parsing.
//!
//! One config type serves both shells and, later, every node of a cluster and every
//! sentinel-discovered server: the address is separate from everything else so a router
//! can clone the config and swap the address. Every wait has a finite default, and every
//! config either client opens goes through one [`Config::validate`].
//!
//! URLs are parsed with the `url` crate (reserved characters in user info, IPv6,
//! percent-encoding). An error about a URL names the part that failed and never quotes
//! the URL or a value from it: a redactor that tries to find the password in a broken URL
//! is bound to miss one form of it.
//!
//! [`Addr::parse_node`] reads node addresses as servers write them (redirects, cluster
//! and sentinel replies), for the cluster and sentinel crates.

use std::fmt;
use std::ops::RangeInclusive;
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

    /// A TCP address (TLS when `tls`) from a host and port a server reported, e.g. the
    /// `endpoint`/`ip`/`hostname` and `port`/`tls-port` fields of `CLUSTER SHARDS`, or a
    /// sentinel's `ip` and `port`. A host of `?` means the server does not know this node's
    /// endpoint ([`NodeEndpoint::Unknown`]); an empty host means "the host you asked"
    /// ([`NodeEndpoint::SameHost`]); port 0 with an empty host (`CLUSTER NODES` for a node
    /// without an address) is unknown too. Brackets around an IPv6 host are removed.
    pub fn node(host: &str, port: u16, tls: bool) -> Result<NodeEndpoint> {
        let host = match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
            Some(inner) => inner,
            None => host,
        };
        if host == "?" || (host.is_empty() && port == 0) {
            return Ok(NodeEndpoint::Unknown);
        }
        if host.is_empty() {
            return Ok(NodeEndpoint::SameHost { port });
        }
        if port == 0 {
            return Err(Error::protocol(format!("node address {host:?} has port 0")));
        }
        if host
            .bytes()
            .any(|b| b.is_ascii_whitespace() || b.is_ascii_control() || b"[]/@,".contains(&b))
        {
            return Err(Error::protocol(format!("bad node host {host:?}")));
        }
        let host = host.to_owned();
        Ok(NodeEndpoint::Addr(if tls {
            Addr::Tls { host, port }
        } else {
            Addr::Tcp { host, port }
        }))
    }

    /// Parses a node address as servers write it: in `MOVED`/`ASK` redirects, `CLUSTER
    /// SLOTS`/`CLUSTER NODES` entries and sentinel replies. Accepted:
    ///
    /// - `127.0.0.1:7000`, `node-1.example:7000`
    /// - `[::1]:7000`, and bare IPv6 `::1:7000`: the **last** colon splits off the port
    /// - `:7000` (empty host): [`NodeEndpoint::SameHost`], the host the command went to
    ///   (redirects under `cluster-preferred-endpoint-type unknown-endpoint`)
    /// - `?:7000` or `:0`: [`NodeEndpoint::Unknown`], the server does not know it yet
    /// - a `CLUSTER NODES` suffix `@cport[,hostname]` is ignored
    ///
    /// `tls` picks [`Addr::Tls`] over [`Addr::Tcp`] (a cluster reached over TLS reports
    /// TLS ports). A missing or non-numeric port is an [`Error::Protocol`] that quotes the
    /// text (node addresses are not secret).
    pub fn parse_node(s: &str, tls: bool) -> Result<NodeEndpoint> {
        let bad = || Error::protocol(format!("bad node address {s:?} (expected host:port)"));
        let text = s.split_once('@').map_or(s, |(addr, _)| addr);
        let (host, port) = text.rsplit_once(':').ok_or_else(bad)?;
        let port = port.parse::<u16>().map_err(|_| bad())?;
        if host.starts_with('[') != host.ends_with(']') {
            return Err(bad());
        }
        Addr::node(host, port, tls)
    }
}

/// Where a server says a node is ([`Addr::parse_node`], [`Addr::node`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NodeEndpoint {
    /// A usable address.
    Addr(Addr),
    /// An empty host: use the host the command was sent to, with this port.
    SameHost {
        /// Port.
        port: u16,
    },
    /// `?`: the server does not know the node's endpoint yet. Skip the node and refresh
    /// the topology later.
    Unknown,
}

impl NodeEndpoint {
    /// The address to connect to, given the address the reply came from (for
    /// [`NodeEndpoint::SameHost`]: its host, and TLS if it used TLS); `None` when unknown.
    pub fn resolve(self, asked: &Addr) -> Option<Addr> {
        match self {
            NodeEndpoint::Addr(a) => Some(a),
            NodeEndpoint::SameHost { port } => match asked {
                Addr::Tcp { host, .. } => Some(Addr::tcp(host.clone(), port)),
                Addr::Tls { host, .. } => Some(Addr::Tls {
                    host: host.clone(),
                    port,
                }),
                Addr::Unix(_) => None,
            },
            NodeEndpoint::Unknown => None,
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
    /// Disable Nagle's algorithm (default on).
    ///
    /// Both clients already write each batch of requests (a pipeline, or everything the
    /// async driver found queued) in one write, so Nagle has little left to coalesce, and
    /// with it a small write issued while an earlier one is unacknowledged waits for that
    /// acknowledgement. Measured for issue 10 (loopback, tokio current-thread and
    /// multi-thread, medians of 5 interleaved runs each, a shared 2-core box): client CPU
    /// per op with it off differed from on by -11% to +7% on the mux64, sequential and
    /// pipeline workloads, less than the run-to-run spread (10-25% min to max), so the
    /// default is the setting that never adds latency.
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
    /// How long a request may wait for its reply before the connection's source is told
    /// (`ConnectionSource::slow` in both clients), again at each multiple (default 1 s;
    /// `None`: never). The request keeps waiting up to `response_timeout`; this only lets
    /// a Sentinel or cluster source check early whether the node was replaced, since a
    /// frozen primary is replaced in a few seconds, well before the response timeout.
    pub probe_interval: Option<Duration>,
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
            .field("set_lib_info", &self.set_lib_info)
            .field("retry_idempotent_writes", &self.retry_idempotent_writes)
            .field("probe_interval", &self.probe_interval)
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
            probe_interval: Some(Duration::from_secs(1)),
        }
    }

    /// Sets [`Config::probe_interval`] (`None` turns probing off).
    pub fn with_probe_interval(mut self, interval: Option<Duration>) -> Config {
        self.probe_interval = interval;
        self
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

    /// How long a reconnect may take before a request waiting for it gives up: every
    /// connect attempt of [`Config::connect_backoff`], each with its longest backoff.
    pub fn reconnect_budget(&self) -> Duration {
        self.connect_timeout
            .saturating_add(self.connect_backoff.cap)
            .saturating_mul(self.connect_backoff.max_retries.saturating_add(1))
    }

    /// Sets the database number.
    pub fn with_db(mut self, db: i64) -> Config {
        self.db = db;
        self
    }

    /// Parses a URL (with the [`url`] crate, so user info with reserved characters,
    /// bracketed IPv6 hosts and percent-encoding follow the URL standard):
    ///
    /// - `redis://[user[:password]@]host[:port][/db][?options]` (also `valkey://`)
    /// - `rediss://...` for TLS (also `valkeys://`)
    /// - `unix:///path/to/socket[?options]` (also `redis+unix://`)
    ///
    /// Options (keys are case-insensitive; each may appear once): `protocol=resp2|resp3`
    /// (or `2`/`3`), `db=N` (wins over a path), `name=client-name` (or `client_name`),
    /// `user=U` (or `username`), `password=P` (wins over one in the user info),
    /// `connect_timeout=secs`, `response_timeout=secs`, `write_timeout=secs` (decimal
    /// seconds, within [`Config::TIMEOUT_RANGE`]).
    ///
    /// User, password, host, path and option values are percent-decoded (`+` stays `+`). A
    /// password holding `/`, `?`, `#` or `@` must be percent-encoded (`%2F`, `%3F`, `%23`,
    /// `%40`). IPv6 hosts go in brackets (`redis://[::1]:6380`).
    ///
    /// Errors are [`Error::InvalidConfig`] and name the part of the URL that failed; they
    /// never contain the URL or any value from it, so a password cannot leak into a log.
    /// The result is [validated](Config::validate).
    pub fn from_url(url: &str) -> Result<Config> {
        let parsed = url::Url::parse(url).map_err(url_error)?;
        if parsed.fragment().is_some() {
            return Err(invalid(
                "URL has a fragment (`#...`); a `#` in a password must be percent-encoded as %23",
            ));
        }
        let mut username = Some(decode_part(parsed.username(), "user name in the URL")?);
        let mut password = match parsed.password() {
            Some(p) => Some(decode_part(p, "password in the URL")?),
            None => None,
        };
        let mut config = match parsed.scheme() {
            "redis" | "rediss" | "valkey" | "valkeys" => {
                let host = match parsed.host() {
                    Some(url::Host::Domain(d)) => decode_part(d, "URL host")?,
                    Some(url::Host::Ipv4(ip)) => ip.to_string(),
                    Some(url::Host::Ipv6(ip)) => ip.to_string(),
                    None => String::new(),
                };
                if host.is_empty() {
                    return Err(invalid("URL has no host"));
                }
                let port = parsed.port().unwrap_or(6379);
                let mut config = Config::new(if matches!(parsed.scheme(), "rediss" | "valkeys") {
                    Addr::Tls { host, port }
                } else {
                    Addr::Tcp { host, port }
                });
                let path = parsed.path().trim_matches('/');
                if !path.is_empty() {
                    config.db = path.parse().map_err(|_| {
                        invalid("URL path is not a database number (expected e.g. `/0`)")
                    })?;
                }
                config
            }
            "unix" | "redis+unix" => {
                // `unix://relative/x.sock` puts `relative` in the host; the socket path is
                // everything after `//`, as it always was.
                let mut path = parsed.host_str().unwrap_or_default().to_owned();
                path.push_str(parsed.path());
                let path = decode_part(&path, "socket path in the URL")?;
                if path.is_empty() {
                    return Err(invalid("URL has no socket path"));
                }
                Config::new(Addr::Unix(PathBuf::from(path)))
            }
            _ => {
                return Err(invalid(
                    "URL scheme is not one of redis, rediss, valkey, valkeys, unix, redis+unix",
                ))
            }
        };
        let mut seen: Vec<&str> = Vec::new();
        let items = parsed.query().unwrap_or("").split('&');
        for (i, item) in items.filter(|p| !p.is_empty()).enumerate() {
            let (key, value) = item.split_once('=').unwrap_or((item, ""));
            // The key is matched against the known names and only a known name is ever
            // printed: an unknown "key" may be a misplaced secret.
            let key = key.to_ascii_lowercase();
            let Some(&option) = URL_OPTIONS.iter().find(|(alias, _)| *alias == key) else {
                return Err(invalid(format!(
                    "URL query item {} is not a known option (known: protocol, db, name, \
                     user, password, connect_timeout, response_timeout, write_timeout)",
                    i + 1
                )));
            };
            let name = option.1;
            if seen.contains(&name) {
                return Err(invalid(format!("URL option `{name}` is given twice")));
            }
            seen.push(name);
            let value = decode_part(value, &format!("URL option `{name}`"))?;
            let secs = |setting: &str| -> Result<Duration> {
                let secs: f64 = value
                    .parse()
                    .map_err(|_| invalid(format!("`{setting}` is not a number of seconds")))?;
                duration_from_secs(setting, secs)
            };
            match name {
                "protocol" => {
                    config.protocol = match value.to_ascii_lowercase().as_str() {
                        "2" | "resp2" => Protocol::Resp2,
                        "3" | "resp3" => Protocol::Resp3,
                        _ => return Err(invalid("`protocol` must be resp2 or resp3 (or 2, 3)")),
                    }
                }
                "db" => {
                    config.db = value
                        .parse()
                        .map_err(|_| invalid("`db` is not a database number"))?
                }
                "name" => config.client_name = Some(value),
                "user" => username = Some(value),
                "password" => password = Some(value),
                "connect_timeout" => config.connect_timeout = secs(name)?,
                "response_timeout" => config.response_timeout = secs(name)?,
                "write_timeout" => config.write_timeout = secs(name)?,
                _ => return Err(invalid("URL option without a handler")),
            }
        }
        match (username.filter(|u| !u.is_empty()), password) {
            (user, Some(p)) => config = config.with_password(user.as_deref(), &p),
            (Some(_), None) => return Err(invalid("URL has a user name but no password")),
            (None, None) => {}
        }
        config.validate()?;
        Ok(config)
    }

    /// The range every timeout must fall in: 1 ms ..= 1 day. Zero would mean "fail at
    /// once" on one shell and "wait forever" in the OS on the other, and a longer limit
    /// is almost always a unit mistake (milliseconds given as seconds).
    pub const TIMEOUT_RANGE: RangeInclusive<Duration> =
        Duration::from_millis(1)..=Duration::from_secs(86_400);

    /// The range TCP keepalive's idle time must fall in when set: 1 s ..= 32,767 s (the
    /// kernel counts it in whole seconds, and Linux refuses more than 32,767).
    pub const KEEPALIVE_RANGE: RangeInclusive<Duration> =
        Duration::from_secs(1)..=Duration::from_secs(32_767);

    /// Checks the settings both clients rely on, so the blocking and the async client
    /// accept and refuse the same configs: `connect_timeout`, `response_timeout` and
    /// `write_timeout` within [`Config::TIMEOUT_RANGE`], `tcp_keepalive` (when set)
    /// within [`Config::KEEPALIVE_RANGE`], `probe_interval` (when set) within
    /// [`Config::TIMEOUT_RANGE`]. Called by [`Config::from_url`] and by
    /// [`IntoConfig`] (so by both clients' `Client::open`). The error names the setting.
    pub fn validate(&self) -> Result<()> {
        check_range(
            "connect_timeout",
            self.connect_timeout,
            &Config::TIMEOUT_RANGE,
        )?;
        check_range(
            "response_timeout",
            self.response_timeout,
            &Config::TIMEOUT_RANGE,
        )?;
        check_range("write_timeout", self.write_timeout, &Config::TIMEOUT_RANGE)?;
        if let Some(idle) = self.tcp_keepalive {
            check_range("tcp_keepalive", idle, &Config::KEEPALIVE_RANGE)?;
        }
        if let Some(probe) = self.probe_interval {
            check_range("probe_interval", probe, &Config::TIMEOUT_RANGE)?;
        }
        Ok(())
    }
}

/// URL query keys (lower case) and the option each one sets.
const URL_OPTIONS: &[(&str, &str)] = &[
    ("protocol", "protocol"),
    ("db", "db"),
    ("name", "name"),
    ("client_name", "name"),
    ("user", "user"),
    ("username", "user"),
    ("password", "password"),
    ("connect_timeout", "connect_timeout"),
    ("response_timeout", "response_timeout"),
    ("write_timeout", "write_timeout"),
];

fn invalid(why: impl Into<String>) -> Error {
    Error::InvalidConfig(why.into())
}

/// Maps the `url` crate's error (a fixed message that never quotes the input) to ours,
/// with a hint where a raw reserved character in a password is the usual cause.
fn url_error(e: url::ParseError) -> Error {
    use url::ParseError as P;
    match e {
        P::RelativeUrlWithoutBase => invalid(
            "URL has no scheme (expected redis://, rediss://, valkey://, valkeys://, unix:// \
             or redis+unix://)",
        ),
        P::InvalidPort => invalid(
            "URL port is not a number in 0..=65535 (a password holding `/`, `?`, `#` or `@` \
             must be percent-encoded)",
        ),
        P::EmptyHost => invalid("URL has no host"),
        P::InvalidIpv6Address => invalid("URL host is not a valid bracketed IPv6 address"),
        other => invalid(format!("URL cannot be parsed: {other}")),
    }
}

/// A duration from a number of seconds, within [`Config::TIMEOUT_RANGE`]; never panics.
fn duration_from_secs(setting: &str, secs: f64) -> Result<Duration> {
    let (min, max) = (Config::TIMEOUT_RANGE.start(), Config::TIMEOUT_RANGE.end());
    if secs.is_finite() && secs >= min.as_secs_f64() && secs <= max.as_secs_f64() {
        Ok(Duration::from_secs_f64(secs))
    } else {
        Err(out_of_range(setting, &Config::TIMEOUT_RANGE))
    }
}

fn check_range(setting: &str, d: Duration, range: &RangeInclusive<Duration>) -> Result<()> {
    if range.contains(&d) {
        Ok(())
    } else {
        Err(out_of_range(setting, range))
    }
}

fn out_of_range(setting: &str, range: &RangeInclusive<Duration>) -> Error {
    invalid(format!(
        "`{setting}` must be between {:?} and {:?}",
        range.start(),
        range.end()
    ))
}

/// Something that can become a [`Config`]: a config itself, or a URL. Either way the
/// result is [validated](Config::validate), so both clients refuse the same configs.
pub trait IntoConfig {
    /// Converts and validates.
    fn into_config(self) -> Result<Config>;
}

impl IntoConfig for Config {
    fn into_config(self) -> Result<Config> {
        self.validate()?;
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

/// Strict percent-decoding of one URL part (`%` must start a valid escape, and the result
/// must be UTF-8). The error names `what`, never the text.
fn decode_part(s: &str, what: &str) -> Result<String> {
    percent_decode(s).ok_or_else(|| invalid(format!("{what} has a bad percent-encoding")))
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
    fn node_addresses() {
        let tcp = |h: &str, p| NodeEndpoint::Addr(Addr::tcp(h, p));
        let parse = |s: &str, tls| Addr::parse_node(s, tls).unwrap();
        assert_eq!(parse("127.0.0.1:7000", false), tcp("127.0.0.1", 7000));
        assert_eq!(parse("::1:7000", false), tcp("::1", 7000));
        assert_eq!(parse("[::1]:7000", false), tcp("::1", 7000));
        assert_eq!(parse("fe80::1:2:7000", false), tcp("fe80::1:2", 7000));
        assert_eq!(
            parse("node-1.example:7000", false),
            tcp("node-1.example", 7000)
        );
        assert_eq!(
            parse("10.0.0.5:30001@31001,host-a", false),
            tcp("10.0.0.5", 30001)
        );
        assert_eq!(
            parse("node-1.example:7000", true),
            NodeEndpoint::Addr(Addr::Tls {
                host: "node-1.example".into(),
                port: 7000
            })
        );
        assert_eq!(parse(":6381", false), NodeEndpoint::SameHost { port: 6381 });
        assert_eq!(parse("?:7000", false), NodeEndpoint::Unknown);
        assert_eq!(parse(":0@0", false), NodeEndpoint::Unknown);
        assert_eq!(Addr::node("?", 0, false).unwrap(), NodeEndpoint::Unknown);
        assert_eq!(Addr::node("[::1]", 7000, false).unwrap(), tcp("::1", 7000));
        for bad in [
            "",
            "7000",
            "host",
            "host:",
            "host:abc",
            "host:70000",
            "[::1:7000",
            "::1]:7000",
            "h st:1",
            "h:0",
        ] {
            let e = Addr::parse_node(bad, false).unwrap_err();
            assert!(matches!(e, Error::Protocol(_)), "{bad:?} -> {e:?}");
        }

        let asked = Addr::Tls {
            host: "10.0.0.1".into(),
            port: 7000,
        };
        assert_eq!(
            NodeEndpoint::SameHost { port: 7001 }.resolve(&asked),
            Some(Addr::Tls {
                host: "10.0.0.1".into(),
                port: 7001
            })
        );
        assert_eq!(NodeEndpoint::Unknown.resolve(&asked), None);
    }

    /// Forms the `url` crate brings (and the old parser's forms, kept).
    #[test]
    fn url_forms() {
        // Reserved characters in user info, percent-encoded.
        let c = Config::from_url("redis://u%3A1:p%2F%3F%23%40%25@h:1/2").unwrap();
        let cr = creds(&c).unwrap();
        assert_eq!(cr.username.as_deref(), Some("u:1"));
        assert_eq!(cr.password.expose(), "p/?#@%");
        assert_eq!((c.addr, c.db), (Addr::tcp("h", 1), 2));
        // A raw `@` in the password: the last `@` ends the user info.
        let c = Config::from_url("redis://:p@ss@h").unwrap();
        assert_eq!(creds(&c).unwrap().password.expose(), "p@ss");
        assert_eq!(c.addr, Addr::tcp("h", 6379));
        // IPv6, with and without port; path with a trailing slash.
        let c = Config::from_url("redis://[::1]/").unwrap();
        assert_eq!((c.addr, c.db), (Addr::tcp("::1", 6379), 0));
        let c = Config::from_url("rediss://[fe80::1]:7000/5/").unwrap();
        assert_eq!(
            (c.addr, c.db),
            (
                Addr::Tls {
                    host: "fe80::1".into(),
                    port: 7000
                },
                5
            )
        );
        // Scheme and option keys are case-insensitive; `+` in a value stays `+`.
        let c = Config::from_url("REDIS://H?PASSWORD=a+b&User=u&DB=4&Write_Timeout=2.5").unwrap();
        let cr = creds(&c).unwrap();
        assert_eq!(
            (cr.username.as_deref(), cr.password.expose()),
            (Some("u"), "a+b")
        );
        assert_eq!(c.db, 4);
        assert_eq!(c.write_timeout, Duration::from_millis(2500));
        // valkey schemes; query wins over path and user info, as before.
        let c = Config::from_url("valkeys://:x@h/1?db=3&password=y&client_name=n").unwrap();
        assert!(matches!(c.addr, Addr::Tls { .. }));
        assert_eq!((c.db, c.client_name.as_deref()), (3, Some("n")));
        assert_eq!(creds(&c).unwrap().password.expose(), "y");
        // A unix path relative to the working directory, as the old parser read it.
        let c = Config::from_url("unix://run/redis.sock?protocol=3").unwrap();
        assert_eq!(c.addr, Addr::Unix("run/redis.sock".into()));
        assert_eq!(c.protocol, Protocol::Resp3);
        // Given twice, missing password, empty host.
        for bad in [
            "redis://h?db=1&DB=2",
            "redis://h?name=a&client_name=b",
            "redis://u@h",
            "redis://h?user=u",
            "redis://",
            "redis:///0",
            "redis://h#frag",
        ] {
            assert!(Config::from_url(bad).is_err(), "{bad} accepted");
        }
    }

    /// Defect 7: a `Config` built in code is validated once, in core, whatever shell opens it.
    #[test]
    fn config_validation_names_the_setting() {
        let base = Config::new(Addr::tcp("h", 1));
        assert!(base.clone().into_config().is_ok());
        type Change = fn(&mut Config);
        let cases: [(&str, Change); 6] = [
            ("connect_timeout", |c| c.connect_timeout = Duration::ZERO),
            ("response_timeout", |c| c.response_timeout = Duration::ZERO),
            ("write_timeout", |c| c.write_timeout = Duration::ZERO),
            ("response_timeout", |c| c.response_timeout = Duration::MAX),
            ("tcp_keepalive", |c| {
                c.tcp_keepalive = Some(Duration::from_millis(500))
            }),
            ("tcp_keepalive", |c| {
                c.tcp_keepalive = Some(Duration::from_secs(1 << 20))
            }),
        ];
        for (setting, change) in cases {
            let mut c = base.clone();
            change(&mut c);
            let e = c.into_config().unwrap_err();
            assert!(matches!(e, Error::InvalidConfig(_)), "{e:?}");
            assert!(e.to_string().contains(setting), "{setting}: {e}");
        }
        let mut c = base;
        c.tcp_keepalive = None;
        c.response_timeout = *Config::TIMEOUT_RANGE.end();
        c.connect_timeout = *Config::TIMEOUT_RANGE.start();
        assert!(c.into_config().is_ok());
    }

    /// Defect 10: no URL form, however broken, puts its password (or any query value) into
    /// an error's Display or Debug.
    #[test]
    fn url_errors_never_echo_secrets() {
        const SECRET: &str = "s3cr3t";
        let mut leaks = Vec::new();
        for url in [
            // no scheme separator at all
            "u:s3cr3t@h:6379",
            "s3cr3t",
            // reserved characters in the password, not percent-encoded
            "redis://u:s3cr3t/?x@h",
            "redis://u:s3cr3t?x@h/0",
            "redis://:s3cr3t/x@h",
            "redis://u:s3cr3t#x@h",
            // a second password in the query, with a broken option after it
            "redis://h?password=a&password=s3cr3t&db=x",
            "redis://h?password=a&password=s3cr3t/?x&db=x",
            // an upper-case key, echoed as unknown
            "redis://h?PASSWORD=s3cr3t&db=x",
            "redis://h?Password=s3cr3t/?x&db=x",
            "redis://h?password=s3cr3t&PASSWORD=s3cr3t",
            // a bad value next to a secret, and a secret as a bad value
            "unix:///s?password=s3cr3t&db=x",
            "redis://h?db=s3cr3t",
            "redis://h?name=a&protocol=s3cr3t",
            "redis://h?response_timeout=s3cr3t",
            "redis://h?s3cr3t",
            "redis://h?s3cr3t=",
            // bad escapes and bad ports around a secret
            "redis://u:s3cr3t%zz@h",
            "redis://u:s3cr3t@h:notaport",
            "redis://u:s3cr3t@h/notadb",
            "rediss://u:s3cr3t@[::1/0",
            "http://u:s3cr3t@h",
        ] {
            match Config::from_url(url) {
                Ok(_) => leaks.push(format!("{url} accepted")),
                Err(e) => {
                    let (display, debug) = (e.to_string(), format!("{e:?}"));
                    if display.contains(SECRET) || debug.contains(SECRET) {
                        leaks.push(format!("{url} -> {debug}"));
                    }
                    if !matches!(e, Error::InvalidConfig(_)) {
                        leaks.push(format!("{url} -> not InvalidConfig: {debug}"));
                    }
                }
            }
        }
        assert!(leaks.is_empty(), "{}", leaks.join("\n"));
    }

    proptest::proptest! {
        /// Whatever surrounds a secret in a URL, parsing never panics and no error quotes
        /// it (our messages are fixed text plus known option names).
        #[test]
        fn no_url_error_ever_quotes_the_input(
            scheme in "(redis|rediss|unix|valkey|http|)(://|:/|:|)",
            before in "[a-z0-9:/?#@&=%\\[\\]._+-]{0,24}",
            after in "[a-z0-9:/?#@&=%\\[\\]._+-]{0,24}",
        ) {
            let url = format!("{scheme}{before}s3cr3t{after}");
            if let Err(e) = Config::from_url(&url) {
                proptest::prop_assert!(!e.to_string().contains("s3cr3t"), "{} -> {}", url, e);
                proptest::prop_assert!(!format!("{e:?}").contains("s3cr3t"), "{} -> {:?}", url, e);
            }
        }

        /// Node addresses from a server never panic the parser.
        #[test]
        fn parse_node_never_panics(s in "[a-z0-9:?\\[\\]@,. -]{0,24}", tls: bool) {
            let _ = Addr::parse_node(&s, tls);
        }
    }

    /// Defect 7: absurd or zero durations in a URL are a typed error naming the option,
    /// never a panic.
    #[test]
    fn url_timeouts_out_of_range_are_errors() {
        for (url, option) in [
            ("redis://h?response_timeout=1e20", "response_timeout"),
            ("redis://h?connect_timeout=1e300", "connect_timeout"),
            ("redis://h?response_timeout=0", "response_timeout"),
            ("redis://h?connect_timeout=0.0000001", "connect_timeout"),
            ("redis://h?response_timeout=-1", "response_timeout"),
            ("redis://h?response_timeout=NaN", "response_timeout"),
            ("redis://h?response_timeout=inf", "response_timeout"),
            ("redis://h?response_timeout=86401", "response_timeout"),
        ] {
            let r = std::panic::catch_unwind(|| Config::from_url(url));
            let Ok(Err(e)) = r else {
                panic!("{url}: panicked or accepted");
            };
            assert!(matches!(e, Error::InvalidConfig(_)), "{url} -> {e:?}");
            assert!(e.to_string().contains(option), "{url} -> {e}");
            assert!(!e.to_string().contains("redis://"), "{url} -> {e}");
        }
        let c = Config::from_url("redis://h?response_timeout=0.001&connect_timeout=86400").unwrap();
        assert_eq!(c.response_timeout, Duration::from_millis(1));
        assert_eq!(c.connect_timeout, Duration::from_secs(86400));
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
