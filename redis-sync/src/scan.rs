//! SCAN, HSCAN, SSCAN and ZSCAN as iterators that follow the cursor to the end.
//!
//! The server guarantees every element present for the whole scan is returned at least
//! once; elements may repeat, and the iterator does not hide repeats (that would need
//! memory proportional to the keyspace).

use redis_core::{cmd, Cmd, FromValue, Result, ToArgs};

use crate::api::Query;
use crate::connection::ConnectionLike;

/// Iterator over a cursor-based scan. Errors end the iteration after being returned.
#[derive(Debug)]
pub struct ScanIter<'a, C, T> {
    con: &'a mut C,
    base: Cmd,
    options: Vec<Vec<u8>>,
    cursor: Option<Vec<u8>>,
    batch: std::vec::IntoIter<T>,
}

impl<C: ConnectionLike, T: FromValue> Iterator for ScanIter<'_, C, T> {
    type Item = Result<T>;

    fn next(&mut self) -> Option<Result<T>> {
        loop {
            if let Some(item) = self.batch.next() {
                return Some(Ok(item));
            }
            let cursor = self.cursor.take()?;
            let mut c = self.base.clone();
            c.arg(&cursor[..]);
            for o in &self.options {
                c.arg(&o[..]);
            }
            let (next, items): (Vec<u8>, Vec<T>) = match c.query(self.con) {
                Ok(r) => r,
                Err(e) => return Some(Err(e)),
            };
            if next != b"0" {
                self.cursor = Some(next);
            }
            self.batch = items.into_iter();
        }
    }
}

fn start<'a, C, T, O: ToArgs>(con: &'a mut C, base: Cmd, options: O) -> ScanIter<'a, C, T> {
    ScanIter {
        con,
        base,
        options: options.to_arg_vec(),
        cursor: Some(b"0".to_vec()),
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
