//! Small process helpers: signals by PID, commands with a deadline, log tails.

use std::io::{ErrorKind, Read};
use std::process::{Child, Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// Sends `signal` (a name such as `TERM`, `STOP`) to `pid` with the shell's `kill`, so the
/// harness needs neither `unsafe` nor a signal crate. Returns whether it was delivered.
pub(crate) fn signal(pid: u32, signal: &str) -> bool {
    Command::new("sh")
        .args(["-c", "kill -s \"$1\" \"$2\" 2>/dev/null", "sh", signal])
        .arg(pid.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// Waits for `child` to exit, up to `timeout`. Returns whether it exited.
pub(crate) fn wait_exit(child: &mut Child, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(_)) => return true,
            Ok(None) if Instant::now() >= deadline => return false,
            Ok(None) => thread::sleep(Duration::from_millis(10)),
            // Not our child any more (already reaped): nothing to wait for.
            Err(_) => return true,
        }
    }
}

/// Runs `cmd` to completion with its output captured, killing it after `timeout`.
///
/// `Err(NotFound)` when the program does not exist; `Err(TimedOut)` when it was killed.
pub(crate) fn output_with_timeout(cmd: &mut Command, timeout: Duration) -> std::io::Result<Output> {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    // Read both pipes on threads so a chatty child cannot block on a full pipe.
    let mut out = child.stdout.take();
    let mut err = child.stderr.take();
    let out_reader = thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(out) = out.as_mut() {
            let _ = out.read_to_end(&mut buf);
        }
        buf
    });
    let err_reader = thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(err) = err.as_mut() {
            let _ = err.read_to_end(&mut buf);
        }
        buf
    });
    let exited = wait_exit(&mut child, timeout);
    if !exited {
        let _ = child.kill();
    }
    let status = child.wait()?;
    let stdout = out_reader.join().unwrap_or_default();
    let stderr = err_reader.join().unwrap_or_default();
    if !exited {
        return Err(std::io::Error::new(
            ErrorKind::TimedOut,
            format!(
                "killed after {timeout:?}; stdout: {:?}; stderr: {:?}",
                String::from_utf8_lossy(&stdout),
                String::from_utf8_lossy(&stderr)
            ),
        ));
    }
    Ok(Output {
        status,
        stdout,
        stderr,
    })
}

/// The last `n` lines of `text`.
pub(crate) fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}
