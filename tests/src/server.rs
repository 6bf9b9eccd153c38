//! A real `redis-server` process per test.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use redis_core::{Addr, Config};
use tempfile::TempDir;

use crate::process::{output_with_timeout, signal, tail, wait_exit};
use crate::tls::TlsFiles;
use crate::{free_port, INSTALL_HINT};

/// How long a server may take to become ready.
const READY_TIMEOUT: Duration = Duration::from_secs(10);
/// How long [`RedisServer::stop`] waits after SIGTERM before SIGKILL.
const STOP_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a `redis-cli` call may take.
const CLI_TIMEOUT: Duration = Duration::from_secs(30);
/// New ports tried when a freshly picked port turns out to be taken.
const PORT_ATTEMPTS: usize = 5;
/// Attempts to start on a fixed port (restart, explicit port) that is briefly busy.
const FIXED_PORT_ATTEMPTS: usize = 10;
/// Lines of server log shown when something fails.
const LOG_TAIL_LINES: usize = 50;

const DEFAULT_BINARY: &str = "redis-server";
const CLI_BINARY: &str = "redis-cli";

fn not_found(what: &str) -> ! {
    panic!("{what} not found: {INSTALL_HINT}")
}

/// Version of a `redis-server` binary (`"7.0.15"`), asked once per binary and process.
fn binary_version(binary: &Path) -> String {
    static VERSIONS: OnceLock<Mutex<HashMap<PathBuf, String>>> = OnceLock::new();
    let versions = VERSIONS.get_or_init(|| Mutex::new(HashMap::new()));
    if let Some(v) = versions
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(binary)
    {
        return v.clone();
    }
    let out = match output_with_timeout(
        Command::new(binary).arg("--version"),
        Duration::from_secs(30),
    ) {
        Ok(out) => out,
        Err(e) if e.kind() == ErrorKind::NotFound => not_found("redis-server"),
        Err(e) => panic!("cannot run `{} --version`: {e}", binary.display()),
    };
    let text = String::from_utf8_lossy(&out.stdout);
    // "Redis server v=7.0.15 sha=00000000:0 malloc=jemalloc-5.3.0 bits=64 build=..."
    let version = text
        .split_whitespace()
        .find_map(|word| word.strip_prefix("v="))
        .unwrap_or_else(|| {
            panic!(
                "cannot read the version from `{} --version`: {text:?}",
                binary.display()
            )
        })
        .to_owned();
    versions
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(binary.to_owned(), version.clone());
    version
}

/// The version of the `redis-server` on `PATH`, such as `"7.0.15"`.
///
/// Panics (with how to install it) when there is no `redis-server`.
pub fn redis_server_version() -> String {
    binary_version(Path::new(DEFAULT_BINARY))
}

fn major_version(version: &str) -> u32 {
    version
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(0)
}

/// Quotes a value for `redis.conf`.
pub(crate) fn conf_quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Percent-encodes everything but RFC 3986 unreserved characters (and `/` if `path`).
fn pct(s: &str, path: bool) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) || (path && b == b'/') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// An ACL user created at start.
#[derive(Clone, Debug)]
struct AclUser {
    name: String,
    password: String,
    rules: String,
}

/// Options for a [`RedisServer`]; made by [`RedisServer::builder`], consumed by
/// [`RedisServerBuilder::start`].
///
/// ```no_run
/// # use redis_tests::RedisServer;
/// let server = RedisServer::builder()
///     .password("pw")
///     .acl_user("alice", "secret", "~* &* +@all")
///     .tls()
///     .extra_arg("--maxmemory")
///     .extra_arg("10mb")
///     .start();
/// # drop(server);
/// ```
#[derive(Clone, Debug)]
pub struct RedisServerBuilder {
    binary: PathBuf,
    password: Option<String>,
    acl_users: Vec<AclUser>,
    tls: bool,
    require_client_cert: bool,
    unix_socket: bool,
    port: Option<u16>,
    extra_args: Vec<String>,
    conf_lines: Vec<String>,
    sentinel: bool,
}

impl RedisServerBuilder {
    /// Requires this password for the `default` user (`requirepass`).
    pub fn password(mut self, password: &str) -> Self {
        self.password = Some(password.to_owned());
        self
    }

    /// Creates an ACL user: `user <name> on ><password> <rules>`, where `rules` is a
    /// space-separated list of ACL rules such as `"~* &* +@all"`. The rules are used as
    /// given: Redis 7 gives a new user no channels unless `&*` (or `allchannels`) is in them.
    ///
    /// The `default` user keeps [`password`](Self::password) if one is set, otherwise it
    /// stays `nopass`. [`RedisServer::config`], [`RedisServer::url`] and
    /// [`RedisServer::cli`] authenticate as the first ACL user.
    pub fn acl_user(mut self, name: &str, password: &str, rules: &str) -> Self {
        self.acl_users.push(AclUser {
            name: name.to_owned(),
            password: password.to_owned(),
            rules: rules.to_owned(),
        });
        self
    }

    /// Serves TLS only (`--tls-port N --port 0`), with the certificates of
    /// [`RedisServer::tls_files`]. Clients may present a certificate
    /// (`tls-auth-clients optional`) unless [`require_client_cert`](Self::require_client_cert).
    pub fn tls(mut self) -> Self {
        self.tls = true;
        self
    }

    /// With [`tls`](Self::tls): requires clients to present a certificate signed by the
    /// test CA (`tls-auth-clients yes`), for mutual-TLS tests.
    pub fn require_client_cert(mut self) -> Self {
        self.tls = true;
        self.require_client_cert = true;
        self
    }

    /// Also listens on a unix socket (`<dir>/redis.sock`, mode 700). The TCP (or TLS) port
    /// stays open, but [`RedisServer::config`], [`RedisServer::url`] and
    /// [`RedisServer::cli`] use the socket.
    pub fn unix_socket(mut self) -> Self {
        self.unix_socket = true;
        self
    }

    /// Listens on this port instead of a free one picked by the harness. Mostly for
    /// topologies that must know a port in advance.
    pub fn port(mut self, port: u16) -> Self {
        self.port = Some(port);
        self
    }

    /// Appends one command-line argument, e.g. `.extra_arg("--maxmemory").extra_arg("10mb")`.
    /// Command-line arguments override the generated config file.
    pub fn extra_arg(mut self, arg: impl Into<String>) -> Self {
        self.extra_args.push(arg.into());
        self
    }

    /// Appends command-line arguments, as [`extra_arg`](Self::extra_arg) does.
    pub fn extra_args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.extra_args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Appends one line to the generated `redis.conf`, e.g.
    /// `.conf_line("sentinel monitor mymaster 127.0.0.1 6379 2")`. For directives that
    /// must live in the config file rather than on the command line (Sentinel rewrites its
    /// file and refuses to run without one). The file is written afresh at every start, so
    /// a [`restart`](RedisServer::restart) forgets what the server rewrote into it.
    pub fn conf_line(mut self, line: impl Into<String>) -> Self {
        self.conf_lines.push(line.into());
        self
    }

    /// Runs as a Sentinel (`redis-server redis.conf --sentinel`): the monitoring directives
    /// come from [`conf_line`](Self::conf_line), and readiness is Sentinel's
    /// `Running mode=sentinel` log line (it never logs "ready to accept connections").
    /// [`password`](Self::password) becomes the Sentinel's own `requirepass`.
    pub fn sentinel(mut self) -> Self {
        self.sentinel = true;
        self
    }

    /// Runs this binary instead of `redis-server` from `PATH`.
    pub fn binary(mut self, path: impl Into<PathBuf>) -> Self {
        self.binary = path.into();
        self
    }

    /// Starts the server and waits until it answers.
    ///
    /// Panics if it cannot: `redis-server` missing (with how to install it), a bad option,
    /// or not ready within 10 s (with the end of its log). A port that another process
    /// took in the meantime is replaced by a new one, up to 5 times.
    pub fn start(self) -> RedisServer {
        let version = binary_version(&self.binary);
        let dir = tempfile::Builder::new()
            .prefix("redis-test-")
            .tempdir()
            .unwrap_or_else(|e| panic!("cannot create a temp dir for redis-server: {e}"));
        let dir_path = dir.path().to_owned();
        let tls = self.tls.then(|| TlsFiles::write_to(&dir_path));
        let fixed_port = self.port;
        let mut server = RedisServer {
            options: self,
            version,
            dir: Some(dir),
            dir_path,
            tls,
            child: None,
            pid: 0,
            port: 0,
            paused: false,
            failure_reported: false,
        };
        match fixed_port {
            Some(port) => server.launch_on(port, FIXED_PORT_ATTEMPTS),
            None => {
                let mut last = String::new();
                for _ in 0..PORT_ATTEMPTS {
                    match server.launch(free_port()) {
                        Ok(()) => return server,
                        Err(Launch::PortBusy(why)) => last = why,
                        Err(Launch::Failed(why)) => server.fail(&why),
                    }
                }
                server.fail(&format!(
                    "no free port after {PORT_ATTEMPTS} attempts; last: {last}"
                ));
            }
        }
        server
    }
}

/// Why a start attempt failed.
enum Launch {
    /// The port was taken by someone else: try again.
    PortBusy(String),
    /// Anything else: give up.
    Failed(String),
}

/// A `redis-server` process that belongs to one test.
///
/// It listens on `127.0.0.1` only, keeps no data on disk (`save ""`, `appendonly no`),
/// has its own temp dir with its config file (`redis.conf`), log (`redis.log`) and
/// certificates, and allows `DEBUG` (for `DEBUG SLEEP` fault injection). Dropping it stops
/// the process by PID (SIGTERM, then SIGKILL after 5 s) and deletes the dir; if the test is
/// panicking, the log path and tail are printed and the dir is kept.
pub struct RedisServer {
    options: RedisServerBuilder,
    version: String,
    dir: Option<TempDir>,
    dir_path: PathBuf,
    tls: Option<TlsFiles>,
    child: Option<Child>,
    pid: u32,
    port: u16,
    paused: bool,
    failure_reported: bool,
}

impl RedisServer {
    /// Options for a server; finish with [`RedisServerBuilder::start`].
    pub fn builder() -> RedisServerBuilder {
        RedisServerBuilder {
            binary: PathBuf::from(DEFAULT_BINARY),
            password: None,
            acl_users: Vec::new(),
            tls: false,
            require_client_cert: false,
            unix_socket: false,
            port: None,
            extra_args: Vec::new(),
            conf_lines: Vec::new(),
            sentinel: false,
        }
    }

    /// Starts a plain server: no password, no TLS, TCP only.
    pub fn start() -> RedisServer {
        RedisServer::builder().start()
    }

    /// `127.0.0.1:PORT`: the TCP address (TLS for a TLS server), for raw sockets and
    /// [`Proxy::start`](crate::Proxy::start).
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The TCP port (the TLS port for a TLS server). Stays the same across
    /// [`restart`](Self::restart).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The host name clients use: `localhost` for TLS (the certificate names it),
    /// otherwise `127.0.0.1`.
    pub fn host(&self) -> &str {
        if self.tls.is_some() {
            "localhost"
        } else {
            "127.0.0.1"
        }
    }

    /// PID of the current process (of the last one, once stopped).
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The version of the binary this server runs, such as `"7.0.15"`.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The auth [`config`](Self::config) and [`cli`](Self::cli) use: the first ACL user,
    /// else the default user's password.
    fn auth(&self) -> Option<(Option<&str>, &str)> {
        if let Some(user) = self.options.acl_users.first() {
            Some((Some(user.name.as_str()), user.password.as_str()))
        } else {
            self.options.password.as_deref().map(|pw| (None, pw))
        }
    }

    /// A URL for this server, with credentials when it has any:
    /// `redis://127.0.0.1:PORT`, `redis://alice:secret@127.0.0.1:PORT`,
    /// `redis://:pw@127.0.0.1:PORT`, `rediss://localhost:PORT` for TLS (the CA is not in the
    /// URL: use [`config`](Self::config)), `unix:///path/redis.sock[?user=..&password=..]`
    /// with a unix socket.
    pub fn url(&self) -> String {
        self.make_url(self.auth())
    }

    /// [`url`](Self::url) without credentials, for tests of failing authentication.
    pub fn url_no_auth(&self) -> String {
        self.make_url(None)
    }

    fn make_url(&self, auth: Option<(Option<&str>, &str)>) -> String {
        if let Some(path) = self.unix_socket_path() {
            let mut url = format!("unix://{}", pct(&path.to_string_lossy(), true));
            if let Some((user, pw)) = auth {
                url.push('?');
                if let Some(user) = user {
                    let _ = write!(url, "user={}&", pct(user, false));
                }
                let _ = write!(url, "password={}", pct(pw, false));
            }
            return url;
        }
        let scheme = if self.tls.is_some() {
            "rediss"
        } else {
            "redis"
        };
        let userinfo = match auth {
            Some((user, pw)) => format!("{}:{}@", pct(user.unwrap_or(""), false), pct(pw, false)),
            None => String::new(),
        };
        format!("{scheme}://{userinfo}{}:{}", self.host(), self.port)
    }

    /// A client config for this server: its address (`Addr::Unix` with a unix socket,
    /// `Addr::Tls { host: "localhost", .. }` with TLS, else `Addr::Tcp`), its credentials
    /// (the first ACL user, else the password), and for TLS the test CA in
    /// `tls.ca_cert_pem`. No client certificate is set.
    pub fn config(&self) -> Config {
        let config = self.config_no_auth();
        match self.auth() {
            Some((user, pw)) => config.with_password(user, pw),
            None => config,
        }
    }

    /// [`config`](Self::config) without credentials.
    pub fn config_no_auth(&self) -> Config {
        let addr = if let Some(path) = self.unix_socket_path() {
            Addr::Unix(path)
        } else if self.tls.is_some() {
            Addr::Tls {
                host: self.host().to_owned(),
                port: self.port,
            }
        } else {
            Addr::Tcp {
                host: self.host().to_owned(),
                port: self.port,
            }
        };
        let mut config = Config::new(addr);
        if let Some(tls) = &self.tls {
            config.tls.ca_cert_pem = Some(tls.ca_cert_pem.clone());
        }
        config
    }

    /// The unix socket, if the server was built with
    /// [`unix_socket`](RedisServerBuilder::unix_socket).
    pub fn unix_socket_path(&self) -> Option<PathBuf> {
        self.options
            .unix_socket
            .then(|| self.dir_path.join("redis.sock"))
    }

    /// Certificates and keys of a TLS server.
    pub fn tls_files(&self) -> Option<&TlsFiles> {
        self.tls.as_ref()
    }

    /// The server's own temp dir (config, log, certificates, socket).
    pub fn dir(&self) -> &Path {
        &self.dir_path
    }

    /// Path of the server log.
    pub fn log_path(&self) -> PathBuf {
        self.dir_path.join("redis.log")
    }

    /// The whole server log so far (all runs, if restarted).
    pub fn log(&self) -> String {
        fs::read(self.log_path())
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    }

    /// Whether the process is running (a paused process is running).
    pub fn is_running(&mut self) -> bool {
        match self.child.as_mut() {
            Some(child) => matches!(child.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// Stops the server: SIGTERM, then SIGKILL if it has not exited within 5 s. Resumes a
    /// paused server so it can exit. Does nothing if it is not running.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        if matches!(child.try_wait(), Ok(None)) {
            signal(self.pid, "TERM");
            if self.paused {
                signal(self.pid, "CONT");
            }
            if !wait_exit(&mut child, STOP_TIMEOUT) {
                let _ = child.kill();
            }
        }
        let _ = child.wait();
        self.paused = false;
    }

    /// Kills the server with SIGKILL (a crash: no shutdown, no goodbye to clients) and
    /// reaps it.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        self.paused = false;
    }

    /// Freezes the process with SIGSTOP: connections stay open, nothing is answered.
    pub fn pause(&mut self) {
        assert!(self.is_running(), "pause: redis-server is not running");
        assert!(
            signal(self.pid, "STOP"),
            "cannot send SIGSTOP to {}",
            self.pid
        );
        self.paused = true;
    }

    /// Undoes [`pause`](Self::pause) with SIGCONT.
    pub fn resume(&mut self) {
        assert!(self.is_running(), "resume: redis-server is not running");
        assert!(
            signal(self.pid, "CONT"),
            "cannot send SIGCONT to {}",
            self.pid
        );
        self.paused = false;
    }

    /// Stops the server (if running) and starts it again with the same options on the same
    /// port, retrying for a while if the port is briefly busy. Data is not kept (there is
    /// no persistence). The PID changes.
    pub fn restart(&mut self) {
        self.stop();
        self.launch_on(self.port, FIXED_PORT_ATTEMPTS);
    }

    /// Runs `redis-cli` against this server with `args` and returns its standard output
    /// without trailing whitespace. It connects like [`config`](Self::config) does (unix
    /// socket, TLS with the test CA and client certificate, first ACL user or password).
    ///
    /// An error reply is returned as text (`"ERR ..."`), as `redis-cli` prints it. Panics
    /// if `redis-cli` is missing, exits with an error (e.g. cannot connect) or takes more
    /// than 30 s.
    pub fn cli(&self, args: &[&str]) -> String {
        self.run_cli(self.auth(), args)
    }

    /// [`cli`](Self::cli) as a given user (`None`: the `default` user) with a given
    /// password (`None`: no authentication).
    pub fn cli_as(&self, user: Option<&str>, password: Option<&str>, args: &[&str]) -> String {
        let auth = password.map(|pw| (user, pw));
        self.run_cli(auth, args)
    }

    fn run_cli(&self, auth: Option<(Option<&str>, &str)>, args: &[&str]) -> String {
        let mut cmd = Command::new(CLI_BINARY);
        if let Some(path) = self.unix_socket_path() {
            cmd.arg("-s").arg(path);
        } else {
            cmd.args(["-h", "127.0.0.1", "-p", &self.port.to_string()]);
            if let Some(tls) = &self.tls {
                cmd.arg("--tls")
                    .arg("--cacert")
                    .arg(&tls.ca_cert)
                    .arg("--cert")
                    .arg(&tls.client_cert)
                    .arg("--key")
                    .arg(&tls.client_key);
            }
        }
        match auth {
            Some((Some(user), pw)) => {
                cmd.args(["--user", user, "--pass", pw]);
            }
            Some((None, pw)) => {
                cmd.args(["-a", pw]);
            }
            None => {}
        }
        cmd.arg("--no-auth-warning").args(args);
        let out = match output_with_timeout(&mut cmd, CLI_TIMEOUT) {
            Ok(out) => out,
            Err(e) if e.kind() == ErrorKind::NotFound => not_found("redis-cli"),
            Err(e) => panic!("redis-cli {args:?} against {}: {e}", self.addr()),
        };
        let stdout = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() {
            panic!(
                "redis-cli {args:?} against {} failed ({}): {}{}",
                self.addr(),
                out.status,
                stdout,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        stdout.trim_end().to_owned()
    }

    /// Writes `redis.conf` for `port`.
    fn write_conf(&self, port: u16) -> PathBuf {
        let dir = &self.dir_path;
        let s = |p: &Path| conf_quote(&p.to_string_lossy());
        let mut conf = String::new();
        let mut line = |l: String| {
            conf.push_str(&l);
            conf.push('\n');
        };
        line("bind 127.0.0.1".into());
        if let Some(tls) = &self.tls {
            line("port 0".into());
            line(format!("tls-port {port}"));
            line(format!("tls-cert-file {}", s(&tls.server_cert)));
            line(format!("tls-key-file {}", s(&tls.server_key)));
            line(format!("tls-ca-cert-file {}", s(&tls.ca_cert)));
            let auth_clients = if self.options.require_client_cert {
                "yes"
            } else {
                "optional"
            };
            line(format!("tls-auth-clients {auth_clients}"));
        } else {
            line(format!("port {port}"));
        }
        if let Some(path) = self.unix_socket_path() {
            line(format!("unixsocket {}", s(&path)));
            line("unixsocketperm 700".into());
        }
        line("save \"\"".into());
        line("appendonly no".into());
        line("daemonize no".into());
        line(format!("dir {}", s(dir)));
        line(format!("logfile {}", s(&self.log_path())));
        if major_version(&self.version) >= 7 {
            line("enable-debug-command yes".into());
        }
        if let Some(pw) = &self.options.password {
            line(format!("requirepass {}", conf_quote(pw)));
        }
        for user in &self.options.acl_users {
            let mut l = format!(
                "user {} on {}",
                conf_quote(&user.name),
                conf_quote(&format!(">{}", user.password))
            );
            for rule in user.rules.split_whitespace() {
                l.push(' ');
                l.push_str(&conf_quote(rule));
            }
            line(l);
        }
        for l in &self.options.conf_lines {
            line(l.clone());
        }
        let path = dir.join("redis.conf");
        fs::write(&path, conf).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        path
    }

    /// Starts on a fixed port, retrying while it is busy; panics on failure.
    fn launch_on(&mut self, port: u16, attempts: usize) {
        let mut last = String::new();
        for attempt in 0..attempts {
            if attempt > 0 {
                thread::sleep(Duration::from_millis(200));
            }
            match self.launch(port) {
                Ok(()) => return,
                Err(Launch::PortBusy(why)) => last = why,
                Err(Launch::Failed(why)) => self.fail(&why),
            }
        }
        self.fail(&format!(
            "port {port} still busy after {attempts} attempts; last: {last}"
        ));
    }

    /// Panics with `why`, the end of the log and where the files are, which are kept.
    fn fail(&mut self, why: &str) -> ! {
        self.kill();
        self.failure_reported = true;
        let stderr = fs::read_to_string(self.dir_path.join("stderr.log")).unwrap_or_default();
        let dir = match self.dir.take() {
            Some(dir) => dir.keep(),
            None => self.dir_path.clone(),
        };
        panic!(
            "redis-server ({}) failed to start: {why}\n\
             files kept in {}\n\
             --- stderr ---\n{}\n\
             --- last {LOG_TAIL_LINES} lines of {} ---\n{}",
            self.options.binary.display(),
            dir.display(),
            stderr.trim_end(),
            self.log_path().display(),
            tail(&self.log(), LOG_TAIL_LINES),
        )
    }

    /// One attempt to start on `port` and wait until ready.
    fn launch(&mut self, port: u16) -> Result<(), Launch> {
        let conf = self.write_conf(port);
        let log_path = self.log_path();
        let log_start = fs::metadata(&log_path).map(|m| m.len()).unwrap_or(0);
        let stderr_path = self.dir_path.join("stderr.log");
        let open = |p: &Path| -> File {
            OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .unwrap_or_else(|e| panic!("cannot open {}: {e}", p.display()))
        };
        let stderr_start = fs::metadata(&stderr_path).map(|m| m.len()).unwrap_or(0);
        let mut cmd = Command::new(&self.options.binary);
        cmd.arg(&conf);
        if self.options.sentinel {
            cmd.arg("--sentinel");
        }
        cmd.args(&self.options.extra_args)
            .current_dir(&self.dir_path)
            .stdin(Stdio::null())
            .stdout(open(&self.dir_path.join("stdout.log")))
            .stderr(open(&stderr_path));
        let child = match cmd.spawn() {
            Ok(child) => child,
            Err(e) if e.kind() == ErrorKind::NotFound => not_found("redis-server"),
            Err(e) => {
                return Err(Launch::Failed(format!(
                    "cannot run {}: {e}",
                    self.options.binary.display()
                )))
            }
        };
        self.pid = child.id();
        self.port = port;
        self.child = Some(child);
        self.paused = false;

        let since = |path: &Path, start: u64| -> String {
            let mut text = Vec::new();
            if let Ok(mut f) = File::open(path) {
                use std::io::Seek;
                if f.seek(std::io::SeekFrom::Start(start)).is_ok() {
                    let _ = f.read_to_end(&mut text);
                }
            }
            String::from_utf8_lossy(&text).into_owned()
        };
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            let exited = match self.child.as_mut().map(Child::try_wait) {
                Some(Ok(Some(status))) => Some(status.to_string()),
                Some(Ok(None)) => None,
                Some(Err(e)) => Some(e.to_string()),
                None => Some("gone".to_owned()),
            };
            let log = since(&log_path, log_start);
            if let Some(status) = exited {
                self.child = None;
                let err = since(&stderr_path, stderr_start);
                let why = format!(
                    "exited ({status}) on port {port}: {}",
                    tail(&format!("{err}{log}"), 5)
                );
                let busy = |t: &str| t.contains("Address already in use");
                return Err(if busy(&log) || busy(&err) {
                    Launch::PortBusy(why)
                } else {
                    Launch::Failed(why)
                });
            }
            // The log line is ours for sure; the probe proves the sockets answer.
            let ready_line = if self.options.sentinel {
                "running mode=sentinel"
            } else {
                "ready to accept connections"
            };
            if log.to_ascii_lowercase().contains(ready_line) && self.probe() {
                return Ok(());
            }
            if Instant::now() >= deadline {
                self.kill();
                return Err(Launch::Failed(format!(
                    "not ready within {READY_TIMEOUT:?} on port {port}"
                )));
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Whether the server answers: a raw PING over TCP or the unix socket, or a TCP
    /// connect for TLS.
    fn probe(&self) -> bool {
        let timeout = Duration::from_secs(1);
        if let Some(path) = self.unix_socket_path() {
            match UnixStream::connect(path) {
                Ok(s) => {
                    let _ = s.set_read_timeout(Some(timeout));
                    let _ = s.set_write_timeout(Some(timeout));
                    if !ping_answers(s) {
                        return false;
                    }
                }
                Err(_) => return false,
            }
        }
        let addr = SocketAddr::from(([127, 0, 0, 1], self.port));
        match TcpStream::connect_timeout(&addr, timeout) {
            Ok(_) if self.tls.is_some() => true,
            Ok(s) => {
                let _ = s.set_read_timeout(Some(timeout));
                let _ = s.set_write_timeout(Some(timeout));
                ping_answers(s)
            }
            Err(_) => false,
        }
    }
}

impl std::fmt::Debug for RedisServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisServer")
            .field("port", &self.port)
            .field("pid", &self.pid)
            .field("tls", &self.tls.is_some())
            .field("unix_socket", &self.options.unix_socket)
            .field("dir", &self.dir_path)
            .finish_non_exhaustive()
    }
}

/// Sends a RESP `PING` and accepts `+PONG` or `-NOAUTH` (a password server).
fn ping_answers<S: Read + Write>(mut s: S) -> bool {
    if s.write_all(b"*1\r\n$4\r\nPING\r\n").is_err() {
        return false;
    }
    let mut buf = Vec::new();
    let mut chunk = [0u8; 256];
    while !buf.ends_with(b"\r\n") && buf.len() < 1024 {
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => return false,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    buf.starts_with(b"+PONG") || buf.starts_with(b"-NOAUTH")
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let panicking = thread::panicking();
        if panicking && !self.failure_reported {
            eprintln!(
                "--- redis-server on port {} (pid {}): last {LOG_TAIL_LINES} lines of {} ---\n{}\n---",
                self.port,
                self.pid,
                self.log_path().display(),
                tail(&self.log(), LOG_TAIL_LINES)
            );
        }
        self.stop();
        if panicking {
            if let Some(dir) = self.dir.take() {
                let kept = dir.keep();
                eprintln!("redis-server files kept in {}", kept.display());
            }
        }
    }
}
