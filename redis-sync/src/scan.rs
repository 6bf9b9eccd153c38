//! SCAN, HSCAN, SSCAN and ZSCAN as iterators that follow the cursor to the end.
//!
//! The cursor loop is `redis_core::scan::ScanCursor` (shared with the async stream); this
//! file sends its requests. Elements may repeat (the server's guarantee is "at least once"
//! for elements present during the whole scan).

use redis_core::scan::ScanCursor;
use redis_core::{cmd, Cmd, FromValue, Result, ToArgs};

use crate::connection::ConnectionLike;

/// Iterator over a cursor-based scan. Errors end the iteration after being returned.
#[derive(Debug)]
pub struct ScanIter<'a, C, T> {
    con: &'a mut C,
    scan: ScanCursor,
    batch: std::vec::IntoIter<T>,
}

impl<C: ConnectionLike, T: FromValue> Iterator for ScanIter<'_, C, T> {
    type Item = Result<T>;

    fn next(&mut self) -> Option<Result<T>> {
        loop {
            if let Some(item) = self.batch.next() {
                return Some(Ok(item));
            }
            let c = self.scan.next_cmd()?;
            let reply = self.con.req(&c);
            match self.scan.on_reply(reply) {
                Ok(items) => self.batch = items.into_iter(),
                Err(e) => return Some(Err(e)),
            }
        }
    }
}

fn start<'a, C, T, O: ToArgs>(con: &'a mut C, base: Cmd, options: O) -> ScanIter<'a, C, T> {
    ScanIter {
        con,
        scan: ScanCursor::new(base, options),
        batch: Vec::new().into_iter(),
    }
}

/// Scan iterators on any connection. Options are extra arguments such as
/// `("MATCH", "user:*", "COUNT", 100, "TYPE", "hash")` or a `ScanOptions` value.
pub trait Scan: ConnectionLike + Sized {
    /// Every key (`SCAN`).
    fn scan_iter<T: FromValue>(&mut self) -> ScanIter<'_, Self, T> {
        start(self, cmd("SCAN"), ())
    }

    /// Keys matching a glob pattern (`SCAN ... MATCH pattern`).
    fn scan_match_iter<P: ToArgs, T: FromValue>(&mut self, pattern: P) -> ScanIter<'_, Self, T> {
        start(self, cmd("SCAN"), ("MATCH", pattern))
    }

    /// `SCAN` with any options (MATCH, COUNT, TYPE).
    fn scan_options_iter<O: ToArgs, T: FromValue>(&mut self, options: O) -> ScanIter<'_, Self, T> {
        start(self, cmd("SCAN"), options)
    }

    /// Field/value pairs of a hash (`HSCAN`); use `T = (String, String)`.
    fn hscan_iter<K: ToArgs, T: FromValue>(&mut self, key: K) -> ScanIter<'_, Self, T> {
        start(self, cmd("HSCAN").with(key), ())
    }

    /// Members of a set (`SSCAN`).
    fn sscan_iter<K: ToArgs, T: FromValue>(&mut self, key: K) -> ScanIter<'_, Self, T> {
        start(self, cmd("SSCAN").with(key), ())
    }

    /// Member/score pairs of a sorted set (`ZSCAN`); use `T = (String, f64)`.
    fn zscan_iter<K: ToArgs, T: FromValue>(&mut self, key: K) -> ScanIter<'_, Self, T> {
        start(self, cmd("ZSCAN").with(key), ())
    }

    /// `HSCAN`, `SSCAN` or `ZSCAN` with options, e.g. `("MATCH", "f*")`.
    fn key_scan_options_iter<K: ToArgs, O: ToArgs, T: FromValue>(
        &mut self,
        command: &str,
        key: K,
        options: O,
    ) -> ScanIter<'_, Self, T> {
        start(self, cmd(command).with(key), options)
    }
}

impl<C: ConnectionLike> Scan for C {}
