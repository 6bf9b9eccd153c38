//! A scripted fake server, for protocol faults a real server never produces.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use redis_core::{Addr, Config};

/// How long one read step waits for the client.
const STEP_TIMEOUT: Duration = Duration::from_secs(10);
/// How long [`FakePeer::wait_done`] waits for the whole script.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(30);
/// How often blocked operations look at the stop flag.
const TICK: Duration = Duration::from_millis(20);

/// One step of a [`FakePeer`] script. Read steps fail the script if the client closes the
/// connection or sends nothing for 10 s.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FakeStep {
    /// Reads exactly this many bytes, whatever they are.
    ReadBytes(usize),
    /// Reads up to and including the next `\r\n`.
    ReadLine,
    /// Reads one command: a RESP array of bulk strings, or an inline command line.
    ReadCommand,
    /// Reads `bytes.len()` bytes and fails the script unless they equal `bytes`.
    Expect(Vec<u8>),
    /// Reads one command and fails the script unless its arguments equal these (the
    /// command name is compared case-insensitively). See [`FakeStep::expect_command`].
    ExpectCommand(Vec<String>),
    /// Writes these bytes (anything: partial frames, garbage, several replies at once).
    Send(Vec<u8>),
    /// Does nothing for this long (a slow server).
    Sleep(Duration),
    /// Closes the connection (both directions).
    Close,
    /// Closes the current connection, if any, and accepts the next one (a reconnect).
    Accept,
    /// Reads and discards until the client closes the connection (checks that it does).
    ReadUntilClosed,
}

impl FakeStep {
    /// `Send` of a byte string: `FakeStep::send("+OK\r\n")`.
    pub fn send(bytes: impl AsRef<[u8]>) -> FakeStep {
        FakeStep::Send(bytes.as_ref().to_vec())
    }

    /// `Expect` of a byte string.
    pub fn expect(bytes: impl AsRef<[u8]>) -> FakeStep {
        FakeStep::Expect(bytes.as_ref().to_vec())
    }

    /// `ExpectCommand` of string arguments: `FakeStep::expect_command(&["GET", "k"])`.
    pub fn expect_command(args: &[&str]) -> FakeStep {
        FakeStep::ExpectCommand(args.iter().map(|a| (*a).to_owned()).collect())
    }
}

struct Shared {
    stop: AtomicBool,
    step: AtomicUsize,
    connections: AtomicUsize,
    received: Mutex<Vec<u8>>,
    current: Mutex<Option<TcpStream>>,
}

/// A fake server on a free loopback port that plays a fixed script to its client, on a
/// thread of its own.
///
/// It accepts one connection when the script starts, then runs the steps in order
/// ([`FakeStep::Accept`] takes the next connection). When the script is over, the
/// connection stays open (unless the script closed it) until the peer is dropped.
///
/// ```no_run
/// use redis_tests::{FakePeer, FakeStep};
///
/// let peer = FakePeer::start(vec![
///     FakeStep::expect_command(&["PING"]),
///     FakeStep::send("+PO"), // half a reply, then silence
///     FakeStep::Sleep(std::time::Duration::from_secs(1)),
///     FakeStep::Close,
/// ]);
/// // ... point the client at peer.config() ...
/// peer.wait_done().unwrap();
/// ```
pub struct FakePeer {
    port: u16,
    shared: Arc<Shared>,
    done: Mutex<Option<Result<(), String>>>,
    done_rx: Mutex<Receiver<Result<(), String>>>,
    thread: Option<JoinHandle<()>>,
}

impl FakePeer {
    /// Listens on a free loopback port and runs `script` on a thread.
    pub fn start(script: Vec<FakeStep>) -> FakePeer {
        let listener = TcpListener::bind("127.0.0.1:0")
            .unwrap_or_else(|e| panic!("FakePeer: cannot bind a loopback port: {e}"));
        let port = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("FakePeer: cannot read its port: {e}"))
            .port();
        listener
            .set_nonblocking(true)
            .unwrap_or_else(|e| panic!("FakePeer: cannot make the listener nonblocking: {e}"));
        let shared = Arc::new(Shared {
            stop: AtomicBool::new(false),
            step: AtomicUsize::new(0),
            connections: AtomicUsize::new(0),
            received: Mutex::new(Vec::new()),
            current: Mutex::new(None),
        });
        let (tx, rx) = mpsc::channel();
        let thread_shared = Arc::clone(&shared);
        let thread = thread::Builder::new()
            .name(format!("fake-peer-{port}"))
            .spawn(move || {
                let mut runner = Runner {
                    listener,
                    shared: thread_shared,
                    stream: None,
                    buf: Vec::new(),
                };
                let result = runner.run(&script);
                if result.is_err() {
                    runner.close();
                }
                let _ = tx.send(result);
                // Keep the connection as the script left it until the peer is dropped.
                while !runner.shared.stop.load(Ordering::SeqCst) {
                    thread::sleep(TICK);
                }
                runner.close();
            })
            .unwrap_or_else(|e| panic!("FakePeer: cannot spawn its thread: {e}"));
        FakePeer {
            port,
            shared,
            done: Mutex::new(None),
            done_rx: Mutex::new(rx),
            thread: Some(thread),
        }
    }

    /// `127.0.0.1:PORT`.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `redis://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("redis://{}", self.addr())
    }

    /// A client config pointing at the peer (plain TCP, no credentials).
    pub fn config(&self) -> Config {
        Config::new(Addr::Tcp {
            host: "127.0.0.1".to_owned(),
            port: self.port,
        })
    }

    /// Every byte read from clients so far, over all connections.
    pub fn received(&self) -> Vec<u8> {
        self.shared
            .received
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// How many connections it has accepted so far.
    pub fn connections(&self) -> usize {
        self.shared.connections.load(Ordering::SeqCst)
    }

    /// Waits (up to 30 s) until the script has run to its end. `Err` says which step
    /// failed and why (unexpected bytes, client closed, timeout).
    pub fn wait_done(&self) -> Result<(), String> {
        let mut done = self.done.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(result) = done.as_ref() {
            return result.clone();
        }
        let rx = self.done_rx.lock().unwrap_or_else(|e| e.into_inner());
        let result = match rx.recv_timeout(SCRIPT_TIMEOUT) {
            Ok(result) => result,
            Err(RecvTimeoutError::Timeout) => {
                return Err(format!(
                    "script not done after {SCRIPT_TIMEOUT:?} (at step {})",
                    self.shared.step.load(Ordering::SeqCst)
                ))
            }
            Err(RecvTimeoutError::Disconnected) => Err("script thread panicked".to_owned()),
        };
        *done = Some(result.clone());
        result
    }
}

impl Drop for FakePeer {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        if let Some(s) = self
            .shared
            .current
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
        {
            let _ = s.shutdown(Shutdown::Both);
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl std::fmt::Debug for FakePeer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakePeer")
            .field("port", &self.port)
            .field("connections", &self.connections())
            .finish_non_exhaustive()
    }
}

struct Runner {
    listener: TcpListener,
    shared: Arc<Shared>,
    stream: Option<TcpStream>,
    /// Bytes read but not consumed by a step yet.
    buf: Vec<u8>,
}

impl Runner {
    fn stopped(&self) -> bool {
        self.shared.stop.load(Ordering::SeqCst)
    }

    fn run(&mut self, script: &[FakeStep]) -> Result<(), String> {
        self.accept().map_err(|e| format!("before step 0: {e}"))?;
        for (i, step) in script.iter().enumerate() {
            self.shared.step.store(i, Ordering::SeqCst);
            self.step(step)
                .map_err(|e| format!("step {i} ({step:?}): {e}"))?;
        }
        self.shared.step.store(script.len(), Ordering::SeqCst);
        Ok(())
    }

    fn step(&mut self, step: &FakeStep) -> Result<(), String> {
        match step {
            FakeStep::ReadBytes(n) => self.take(*n).map(drop),
            FakeStep::ReadLine => self.line().map(drop),
            FakeStep::ReadCommand => self.command().map(drop),
            FakeStep::Expect(want) => {
                let got = self.take(want.len())?;
                if &got == want {
                    Ok(())
                } else {
                    Err(format!(
                        "expected {:?}, got {:?}",
                        String::from_utf8_lossy(want),
                        String::from_utf8_lossy(&got)
                    ))
                }
            }
            FakeStep::ExpectCommand(want) => {
                let got = self.command()?;
                let same = got.len() == want.len()
                    && got.iter().zip(want).enumerate().all(|(i, (g, w))| {
                        if i == 0 {
                            g.eq_ignore_ascii_case(w.as_bytes())
                        } else {
                            g == w.as_bytes()
                        }
                    });
                if same {
                    Ok(())
                } else {
                    let got: Vec<String> = got
                        .iter()
                        .map(|a| String::from_utf8_lossy(a).into_owned())
                        .collect();
                    Err(format!("expected command {want:?}, got {got:?}"))
                }
            }
            FakeStep::Send(bytes) => {
                let s = self.stream.as_mut().ok_or("no connection")?;
                s.write_all(bytes)
                    .and_then(|()| s.flush())
                    .map_err(|e| format!("write failed: {e}"))
            }
            FakeStep::Sleep(d) => {
                let until = Instant::now() + *d;
                while Instant::now() < until {
                    if self.stopped() {
                        return Err("peer dropped".to_owned());
                    }
                    thread::sleep(TICK.min(until.saturating_duration_since(Instant::now())));
                }
                Ok(())
            }
            FakeStep::Close => {
                self.close();
                Ok(())
            }
            FakeStep::Accept => {
                self.close();
                self.accept()
            }
            FakeStep::ReadUntilClosed => loop {
                match self.fill() {
                    Ok(()) => self.buf.clear(),
                    Err(Fill::Closed) => return Ok(()),
                    Err(Fill::Failed(e)) => return Err(e),
                }
            },
        }
    }

    fn accept(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + SCRIPT_TIMEOUT;
        loop {
            match self.listener.accept() {
                Ok((stream, _)) => {
                    stream
                        .set_nonblocking(false)
                        .and_then(|()| stream.set_read_timeout(Some(TICK)))
                        .map_err(|e| format!("cannot set up the connection: {e}"))?;
                    let _ = stream.set_nodelay(true);
                    *self
                        .shared
                        .current
                        .lock()
                        .unwrap_or_else(|e| e.into_inner()) = stream.try_clone().ok();
                    self.stream = Some(stream);
                    self.buf.clear();
                    self.shared.connections.fetch_add(1, Ordering::SeqCst);
                    return Ok(());
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    if self.stopped() {
                        return Err("peer dropped while waiting for a connection".to_owned());
                    }
                    if Instant::now() >= deadline {
                        return Err(format!("no connection within {SCRIPT_TIMEOUT:?}"));
                    }
                    thread::sleep(TICK);
                }
                Err(e) => return Err(format!("accept failed: {e}")),
            }
        }
    }

    fn close(&mut self) {
        if let Some(s) = self.stream.take() {
            let _ = s.shutdown(Shutdown::Both);
        }
        *self
            .shared
            .current
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = None;
        self.buf.clear();
    }

    /// Reads more bytes into `buf`.
    fn fill(&mut self) -> Result<(), Fill> {
        let deadline = Instant::now() + STEP_TIMEOUT;
        let mut chunk = [0u8; 4096];
        loop {
            if self.stopped() {
                return Err(Fill::Failed("peer dropped".to_owned()));
            }
            let s = self
                .stream
                .as_mut()
                .ok_or_else(|| Fill::Failed("no connection".to_owned()))?;
            match s.read(&mut chunk) {
                Ok(0) => return Err(Fill::Closed),
                Ok(n) => {
                    self.buf.extend_from_slice(&chunk[..n]);
                    self.shared
                        .received
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .extend_from_slice(&chunk[..n]);
                    return Ok(());
                }
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    if Instant::now() >= deadline {
                        return Err(Fill::Failed(format!(
                            "client sent nothing for {STEP_TIMEOUT:?}"
                        )));
                    }
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(Fill::Failed(format!("read failed: {e}"))),
            }
        }
    }

    fn fill_or_err(&mut self) -> Result<(), String> {
        self.fill().map_err(|e| match e {
            Fill::Closed => "client closed the connection".to_owned(),
            Fill::Failed(e) => e,
        })
    }

    fn take(&mut self, n: usize) -> Result<Vec<u8>, String> {
        while self.buf.len() < n {
            self.fill_or_err()?;
        }
        Ok(self.buf.drain(..n).collect())
    }

    fn line(&mut self) -> Result<Vec<u8>, String> {
        loop {
            if let Some(i) = self.buf.windows(2).position(|w| w == b"\r\n") {
                return Ok(self.buf.drain(..i + 2).collect());
            }
            self.fill_or_err()?;
        }
    }

    fn command(&mut self) -> Result<Vec<Vec<u8>>, String> {
        loop {
            if let Some((args, used)) = parse_command(&self.buf)? {
                self.buf.drain(..used);
                return Ok(args);
            }
            self.fill_or_err()?;
        }
    }
}

enum Fill {
    Closed,
    Failed(String),
}

/// A parsed command and how many bytes it took.
type Parsed = (Vec<Vec<u8>>, usize);

/// Parses one command from the front of `buf`: `Ok(None)` if incomplete.
fn parse_command(buf: &[u8]) -> Result<Option<Parsed>, String> {
    fn line(buf: &[u8], at: usize) -> Option<(&[u8], usize)> {
        let rest = buf.get(at..)?;
        let i = rest.windows(2).position(|w| w == b"\r\n")?;
        Some((&rest[..i], at + i + 2))
    }
    fn number(bytes: &[u8]) -> Result<usize, String> {
        std::str::from_utf8(bytes)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("bad length {:?}", String::from_utf8_lossy(bytes)))
    }
    if buf.is_empty() {
        return Ok(None);
    }
    if buf[0] != b'*' {
        // Inline command.
        return Ok(line(buf, 0).map(|(l, used)| {
            let args = l
                .split(|b| b.is_ascii_whitespace())
                .filter(|a| !a.is_empty())
                .map(<[u8]>::to_vec)
                .collect();
            (args, used)
        }));
    }
    let Some((head, mut at)) = line(buf, 0) else {
        return Ok(None);
    };
    let count = number(&head[1..])?;
    let mut args = Vec::with_capacity(count.min(1024));
    for _ in 0..count {
        let Some((head, next)) = line(buf, at) else {
            return Ok(None);
        };
        if head.first() != Some(&b'$') {
            return Err(format!(
                "expected a bulk string, got {:?}",
                String::from_utf8_lossy(head)
            ));
        }
        let len = number(&head[1..])?;
        if buf.len() < next + len + 2 {
            return Ok(None);
        }
        args.push(buf[next..next + len].to_vec());
        at = next + len + 2;
    }
    Ok(Some((args, at)))
}
