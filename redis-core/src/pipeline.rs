//! A batch of commands sent in one write and read back in order.
//!
//! Building the batch and making sense of its replies are pure and live here; the shells
//! only write `packed()` and read `expected_replies()` values back.

use crate::cmd::{cmd, Cmd};
use crate::error::{Error, Result};
use crate::value::Value;

/// Commands sent together. With [`Pipeline::atomic`] they are wrapped in MULTI/EXEC.
#[derive(Debug, Clone, Default)]
pub struct Pipeline {
    cmds: Vec<Cmd>,
    ignored: Vec<bool>,
    atomic: bool,
}

/// Starts an empty pipeline.
pub fn pipe() -> Pipeline {
    Pipeline::new()
}

impl Pipeline {
    /// An empty pipeline.
    pub fn new() -> Pipeline {
        Pipeline::default()
    }

    /// An empty pipeline with room for `n` commands.
    pub fn with_capacity(n: usize) -> Pipeline {
        Pipeline {
            cmds: Vec::with_capacity(n),
            ignored: Vec::with_capacity(n),
            atomic: false,
        }
    }

    /// Wraps the commands in MULTI/EXEC so they run as one transaction.
    pub fn atomic(&mut self) -> &mut Pipeline {
        self.atomic = true;
        self
    }

    /// True when wrapped in MULTI/EXEC.
    pub fn is_atomic(&self) -> bool {
        self.atomic
    }

    /// Starts a new command in the pipeline; follow with `.arg(..)`.
    pub fn cmd(&mut self, name: &str) -> &mut Pipeline {
        self.add(cmd(name))
    }

    /// Adds a built command.
    pub fn add(&mut self, c: Cmd) -> &mut Pipeline {
        self.cmds.push(c);
        self.ignored.push(false);
        self
    }

    /// Adds an argument to the last command.
    pub fn arg<T: crate::ToArgs>(&mut self, a: T) -> &mut Pipeline {
        if let Some(c) = self.cmds.last_mut() {
            c.arg(a);
        }
        self
    }

    /// Drops the last command's reply from the results.
    pub fn ignore(&mut self) -> &mut Pipeline {
        if let Some(last) = self.ignored.last_mut() {
            *last = true;
        }
        self
    }

    /// The commands, in order.
    pub fn cmds(&self) -> &[Cmd] {
        &self.cmds
    }

    /// Number of commands (MULTI/EXEC not counted).
    pub fn len(&self) -> usize {
        self.cmds.len()
    }

    /// True when no command was added.
    pub fn is_empty(&self) -> bool {
        self.cmds.is_empty()
    }

    /// Removes every command, keeping the allocation and the atomic flag.
    pub fn clear(&mut self) {
        self.cmds.clear();
        self.ignored.clear();
    }

    /// The whole batch, encoded, MULTI/EXEC included when atomic.
    pub fn packed(&self) -> Vec<u8> {
        let size: usize = self.cmds.iter().map(|c| c.packed().len()).sum();
        let mut out = Vec::with_capacity(size + 32);
        self.write_packed(&mut out);
        out
    }

    /// Appends the encoded batch to `out`.
    pub fn write_packed(&self, out: &mut Vec<u8>) {
        if self.atomic {
            out.extend_from_slice(b"*1\r\n$5\r\nMULTI\r\n");
        }
        for c in &self.cmds {
            out.extend_from_slice(c.packed());
        }
        if self.atomic {
            out.extend_from_slice(b"*1\r\n$4\r\nEXEC\r\n");
        }
    }

    /// How many replies the server sends for the batch.
    pub fn expected_replies(&self) -> usize {
        self.cmds.len() + if self.atomic { 2 } else { 0 }
    }

    /// Turns the raw replies into the result array (ignored replies removed).
    ///
    /// Returns `Ok(None)` when an atomic pipeline's EXEC answered nil because a WATCHed key
    /// changed; the first error reply otherwise becomes `Err`.
    pub fn collect_replies(&self, mut replies: Vec<Value>) -> Result<Option<Value>> {
        if replies.len() != self.expected_replies() {
            return Err(Error::protocol(format!(
                "pipeline expected {} replies, got {}",
                self.expected_replies(),
                replies.len()
            )));
        }
        let results = if self.atomic {
            // MULTI, QUEUED x n, EXEC. A queued error shows up before EXEC's EXECABORT.
            let exec = replies.pop().unwrap_or(Value::Nil);
            for r in replies.drain(..) {
                if let Value::ServerError(e) = r {
                    return Err(e.into());
                }
            }
            match exec {
                Value::Nil => return Ok(None),
                Value::ServerError(e) => return Err(e.into()),
                Value::Array(items) if items.len() == self.cmds.len() => items,
                other => {
                    return Err(Error::protocol(format!(
                        "EXEC answered {}",
                        other.describe()
                    )))
                }
            }
        } else {
            replies
        };
        let mut results = results;
        if let Some(i) = results
            .iter()
            .position(|v| matches!(v, Value::ServerError(_)))
        {
            if let Value::ServerError(e) = results.swap_remove(i) {
                return Err(e.into());
            }
        }
        let mut ignored = self.ignored.iter();
        results.retain(|_| !ignored.next().copied().unwrap_or(false));
        Ok(Some(Value::Array(results)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_results_and_ignore() {
        let mut p = pipe();
        p.atomic()
            .cmd("SET")
            .arg("a")
            .arg(1)
            .ignore()
            .cmd("GET")
            .arg("a");
        assert_eq!(p.expected_replies(), 4);
        let packed = p.packed();
        assert!(packed.starts_with(b"*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET"));
        let queued = || Value::SimpleString("QUEUED".into());
        let replies = vec![
            Value::Okay,
            queued(),
            queued(),
            Value::Array(vec![Value::Okay, Value::Int(1)]),
        ];
        assert_eq!(
            p.collect_replies(replies).unwrap(),
            Some(Value::Array(vec![Value::Int(1)]))
        );
        let aborted = vec![Value::Okay, queued(), queued(), Value::Nil];
        assert_eq!(p.collect_replies(aborted).unwrap(), None);
    }
}
