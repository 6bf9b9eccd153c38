//! The SCAN cursor loop (SCAN, HSCAN, SSCAN, ZSCAN) as a small sans-IO state machine that
//! the blocking iterator and the async stream both drive.
//!
//! The loop starts at cursor `0`, sends `<base> <cursor> <options...>`, takes the batch
//! and the next cursor from the reply, and stops when the server returns cursor `0` again.
//! An error (from the connection or a reply that does not convert) ends the scan: the
//! shell returns it once, then nothing more. The server guarantees every element present
//! for the whole scan is returned at least once; repeats are not hidden (that would need
//! memory proportional to the keyspace).

use crate::cmd::Cmd;
use crate::error::Result;
use crate::types::{FromValue, ToArgs};
use crate::value::Value;

/// Where a cursor-based scan stands.
#[derive(Debug, Clone)]
pub struct ScanCursor {
    base: Cmd,
    options: Vec<Vec<u8>>,
    /// The cursor of the next request; `None` once the scan is over.
    cursor: Option<Vec<u8>>,
}

impl ScanCursor {
    /// A scan of `base` (e.g. `SCAN`, or `HSCAN key`) with extra `options` such as
    /// `("MATCH", "user:*", "COUNT", 100)`, at cursor `0`.
    pub fn new<O: ToArgs>(base: Cmd, options: O) -> ScanCursor {
        ScanCursor {
            base,
            options: options.to_arg_vec(),
            cursor: Some(b"0".to_vec()),
        }
    }

    /// The next request to send, or `None` when the scan is over.
    pub fn next_cmd(&self) -> Option<Cmd> {
        let cursor = self.cursor.as_ref()?;
        let mut c = self.base.clone();
        c.arg(&cursor[..]);
        for o in &self.options {
            c.arg(&o[..]);
        }
        Some(c)
    }

    /// Takes the reply to the last request: its items, with the cursor moved on (the scan
    /// is over after cursor `0` or after an error).
    pub fn on_reply<T: FromValue>(&mut self, reply: Result<Value>) -> Result<Vec<T>> {
        self.cursor = None;
        let (next, items): (Vec<u8>, Vec<T>) = FromValue::from_value(reply?)?;
        if next != b"0" {
            self.cursor = Some(next);
        }
        Ok(items)
    }

    /// True once the last batch has been taken (or an error ended the scan).
    pub fn is_done(&self) -> bool {
        self.cursor.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::cmd;
    use crate::Error;

    fn batch(cursor: &str, items: &[&str]) -> Value {
        Value::Array(vec![
            Value::BulkString(cursor.as_bytes().to_vec().into()),
            Value::Array(
                items
                    .iter()
                    .map(|i| Value::BulkString(i.as_bytes().to_vec().into()))
                    .collect(),
            ),
        ])
    }

    #[test]
    fn follows_the_cursor_to_zero() {
        let mut s = ScanCursor::new(cmd("HSCAN").with("h"), ("MATCH", "f*"));
        let args: Vec<Vec<u8>> = s.next_cmd().unwrap().args().map(<[u8]>::to_vec).collect();
        assert_eq!(args, [&b"HSCAN"[..], b"h", b"0", b"MATCH", b"f*"]);
        let items: Vec<String> = s.on_reply(Ok(batch("17", &["a", "b"]))).unwrap();
        assert_eq!(items, ["a", "b"]);
        let args: Vec<Vec<u8>> = s.next_cmd().unwrap().args().map(<[u8]>::to_vec).collect();
        assert_eq!(args[2], b"17");
        let items: Vec<String> = s.on_reply(Ok(batch("0", &["c"]))).unwrap();
        assert_eq!(items, ["c"]);
        assert!(s.is_done());
        assert!(s.next_cmd().is_none());
    }

    #[test]
    fn an_error_ends_the_scan() {
        let mut s = ScanCursor::new(cmd("SCAN"), ());
        let r: Result<Vec<String>> = s.on_reply(Err(Error::InvalidRequest("x".into())));
        assert!(r.is_err());
        assert!(s.is_done());
        let mut s = ScanCursor::new(cmd("SCAN"), ());
        let r: Result<Vec<String>> = s.on_reply(Ok(Value::Int(3)));
        assert!(r.is_err());
        assert!(s.next_cmd().is_none());
    }
}
