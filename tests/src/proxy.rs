//! A TCP proxy that can delay, cut or black-hole the links it carries.

use std::collections::HashMap;
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

/// How often blocked loops look at the flags.
const TICK: Duration = Duration::from_millis(10);
/// How long the proxy waits to connect to the target.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

struct Link {
    client: TcpStream,
    server: TcpStream,
    dead: Arc<AtomicBool>,
}

impl Link {
    fn kill(&self) {
        self.dead.store(true, Ordering::SeqCst);
        let _ = self.client.shutdown(Shutdown::Both);
        let _ = self.server.shutdown(Shutdown::Both);
    }
}

struct Shared {
    target: SocketAddr,
    stop: AtomicBool,
    blackhole: AtomicBool,
    refuse: AtomicBool,
    delay_micros: AtomicU64,
    accepted: AtomicUsize,
    next_id: AtomicU64,
    links: Mutex<HashMap<u64, Link>>,
}

impl Shared {
    fn links(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Link>> {
        self.links.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A TCP proxy on a free loopback port in front of `target`, for network faults between a
/// client and a real server.
///
/// Each accepted connection (a *link*) gets its own connection to the target and two
/// forwarding threads. The proxy works on bytes, so it carries TLS too (the client still
/// checks the server's certificate).
///
/// ```no_run
/// use redis_tests::{Proxy, RedisServer};
///
/// let server = RedisServer::start();
/// let proxy = Proxy::start(&server.addr());
/// // ... connect the client to proxy.addr() ...
/// proxy.cut(); // the client's socket sees EOF; new connections still work
/// ```
pub struct Proxy {
    port: u16,
    shared: Arc<Shared>,
    accept_thread: Option<JoinHandle<()>>,
}

impl Proxy {
    /// Listens on a free loopback port and forwards every connection to `target`
    /// (`"127.0.0.1:6379"`).
    pub fn start(target: &str) -> Proxy {
        let target = target
            .to_socket_addrs()
            .ok()
            .and_then(|mut a| a.next())
            .unwrap_or_else(|| panic!("Proxy: cannot resolve target {target:?}"));
        let listener = TcpListener::bind("127.0.0.1:0")
            .unwrap_or_else(|e| panic!("Proxy: cannot bind a loopback port: {e}"));
        let port = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("Proxy: cannot read its port: {e}"))
            .port();
        listener
            .set_nonblocking(true)
            .unwrap_or_else(|e| panic!("Proxy: cannot make the listener nonblocking: {e}"));
        let shared = Arc::new(Shared {
            target,
            stop: AtomicBool::new(false),
            blackhole: AtomicBool::new(false),
            refuse: AtomicBool::new(false),
            delay_micros: AtomicU64::new(0),
            accepted: AtomicUsize::new(0),
            next_id: AtomicU64::new(0),
            links: Mutex::new(HashMap::new()),
        });
        let thread_shared = Arc::clone(&shared);
        let accept_thread = thread::Builder::new()
            .name(format!("proxy-{port}"))
            .spawn(move || accept_loop(&listener, &thread_shared))
            .unwrap_or_else(|e| panic!("Proxy: cannot spawn its thread: {e}"));
        Proxy {
            port,
            shared,
            accept_thread: Some(accept_thread),
        }
    }

    /// `127.0.0.1:PORT`: where clients connect.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The port clients connect to.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The address links are forwarded to.
    pub fn target(&self) -> SocketAddr {
        self.shared.target
    }

    /// Closes every current link on both sides (the client sees EOF or a reset). New
    /// connections are still accepted and forwarded.
    pub fn cut(&self) {
        for (_, link) in self.shared.links().drain() {
            link.kill();
        }
    }

    /// Holds every chunk of data for `delay` before forwarding it, in both directions
    /// (`Duration::ZERO`: no delay). Applies to current and future links.
    pub fn set_delay(&self, delay: Duration) {
        let micros = u64::try_from(delay.as_micros()).unwrap_or(u64::MAX);
        self.shared.delay_micros.store(micros, Ordering::SeqCst);
    }

    /// While on, forwards nothing in either direction but keeps every socket open: a
    /// half-open connection or a network partition, as far as the client can tell. Data
    /// sent meanwhile waits (in socket buffers) and is delivered, in order, when it is
    /// turned off again. New connections are accepted and connected but carry nothing.
    pub fn blackhole(&self, on: bool) {
        self.shared.blackhole.store(on, Ordering::SeqCst);
    }

    /// While on, accepts new connections and closes them at once (a server that is down
    /// behind a live load balancer). Current links are not touched; see [`cut`](Self::cut).
    pub fn set_refuse(&self, on: bool) {
        self.shared.refuse.store(on, Ordering::SeqCst);
    }

    /// How many links are open now.
    pub fn links(&self) -> usize {
        self.shared.links().len()
    }

    /// How many connections the proxy has accepted in total.
    pub fn connections(&self) -> usize {
        self.shared.accepted.load(Ordering::SeqCst)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        self.cut();
        if let Some(t) = self.accept_thread.take() {
            let _ = t.join();
        }
    }
}

impl std::fmt::Debug for Proxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Proxy")
            .field("port", &self.port)
            .field("target", &self.shared.target)
            .field("links", &self.links())
            .finish_non_exhaustive()
    }
}

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    while !shared.stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((client, _)) => {
                shared.accepted.fetch_add(1, Ordering::SeqCst);
                if shared.refuse.load(Ordering::SeqCst) {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                }
                let shared = Arc::clone(shared);
                let _ = thread::Builder::new()
                    .name("proxy-link".to_owned())
                    .spawn(move || open_link(client, &shared));
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => thread::sleep(TICK),
            Err(_) => thread::sleep(TICK),
        }
    }
}

/// Connects to the target and forwards both ways until either side closes or the link is
/// cut.
fn open_link(client: TcpStream, shared: &Arc<Shared>) {
    let Ok(server) = TcpStream::connect_timeout(&shared.target, CONNECT_TIMEOUT) else {
        let _ = client.shutdown(Shutdown::Both);
        return;
    };
    let _ = client.set_nonblocking(false);
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let clones = (
        client.try_clone(),
        server.try_clone(),
        server.try_clone(),
        client.try_clone(),
    );
    let (Ok(c_read), Ok(s_write), Ok(s_read), Ok(c_write)) = clones else {
        return;
    };
    let dead = Arc::new(AtomicBool::new(false));
    let id = shared.next_id.fetch_add(1, Ordering::SeqCst);
    {
        let mut links = shared.links();
        if shared.stop.load(Ordering::SeqCst) {
            return;
        }
        links.insert(
            id,
            Link {
                client,
                server,
                dead: Arc::clone(&dead),
            },
        );
    }
    let back_shared = Arc::clone(shared);
    let back_dead = Arc::clone(&dead);
    let back = thread::Builder::new()
        .name("proxy-link-back".to_owned())
        .spawn(move || pump(s_read, c_write, &back_shared, &back_dead, id));
    pump(c_read, s_write, shared, &dead, id);
    if let Ok(back) = back {
        let _ = back.join();
    }
}

/// Copies `from` to `to` until EOF, an error, or the link dies; then kills the link.
fn pump(mut from: TcpStream, mut to: TcpStream, shared: &Shared, dead: &AtomicBool, id: u64) {
    let alive = || !dead.load(Ordering::SeqCst) && !shared.stop.load(Ordering::SeqCst);
    let wait_while_blackholed = || {
        while alive() && shared.blackhole.load(Ordering::SeqCst) {
            thread::sleep(TICK);
        }
    };
    let _ = from.set_read_timeout(Some(TICK));
    let mut chunk = vec![0u8; 16 * 1024];
    while alive() {
        // Not reading while black-holed leaves the data in the kernel, in order.
        wait_while_blackholed();
        let n = match from.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => continue,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        // Data read just before the black hole opened is held too.
        wait_while_blackholed();
        let delay = Duration::from_micros(shared.delay_micros.load(Ordering::SeqCst));
        if !delay.is_zero() {
            thread::sleep(delay);
        }
        if !alive() || to.write_all(&chunk[..n]).is_err() {
            break;
        }
    }
    // Either direction ending ends the link, like a cut.
    let link = shared.links().remove(&id);
    match link {
        Some(link) => link.kill(),
        None => {
            dead.store(true, Ordering::SeqCst);
            let _ = from.shutdown(Shutdown::Both);
            let _ = to.shutdown(Shutdown::Both);
        }
    }
}
