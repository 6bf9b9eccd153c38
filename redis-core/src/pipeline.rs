//! A batch of commands sent in one write and read back in order.
//!
//! Building the batch and making sense of its replies are pure and live here; the shells
//! only write `packed()` and read `expected_replies()` values back.
//!
//! A pipeline can also be split by index ([`Pipeline::split`], [`Pipeline::part`]), e.g. by
//! cluster node, each [`Part`] sent on its own connection, and the parts' raw replies merged
//! back in the caller's order ([`ReplyMerger`]), so that the result is what
//! [`Pipeline::collect_replies`] would have given for the whole pipeline on one server.
//!
//! Splitting an atomic (MULTI/EXEC) pipeline: a transaction is atomic on one server only, so
//! it is never cut in pieces. If all its commands fall in one group, that group's part is
//! the whole pipeline, still atomic; if they fall in several, the split is refused with
//! [`Error::InvalidRequest`] (in a cluster: keys in several slots need one hash tag).

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
    pub fn collect_replies(&self, replies: Vec<Value>) -> Result<Option<Value>> {
        match self.command_replies(replies)? {
            Some(results) => finish(results, &self.ignored).map(Some),
            None => Ok(None),
        }
    }

    /// The raw replies of the batch as one reply per command, the MULTI/QUEUED/EXEC framing
    /// of an atomic pipeline removed (`Ok(None)`: EXEC answered nil). Server errors stay in
    /// place, except a queued command's error or EXEC's own, which fail the whole batch.
    fn command_replies(&self, mut replies: Vec<Value>) -> Result<Option<Vec<Value>>> {
        if replies.len() != self.expected_replies() {
            return Err(Error::protocol(format!(
                "pipeline expected {} replies, got {}",
                self.expected_replies(),
                replies.len()
            )));
        }
        Ok(Some(if self.atomic {
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
        }))
    }

    /// A pipeline of the commands at `indices` (in that order), with those indices, for
    /// sending them apart from the others. The part keeps every reply (ignored ones too:
    /// the [`ReplyMerger`] drops them at the end). Of an atomic pipeline only the whole
    /// (`0..len` in order) is a part, still atomic; anything else, and an index out of
    /// range, is [`Error::InvalidRequest`].
    pub fn part(&self, indices: &[usize]) -> Result<Part> {
        let whole =
            indices.len() == self.cmds.len() && indices.iter().enumerate().all(|(i, &j)| i == j);
        if self.atomic && !whole {
            return Err(Error::InvalidRequest(
                "an atomic (MULTI/EXEC) pipeline cannot be split: a transaction runs on one server"
                    .into(),
            ));
        }
        let mut pipeline = Pipeline::with_capacity(indices.len());
        pipeline.atomic = self.atomic;
        for &i in indices {
            let c = self.cmds.get(i).ok_or_else(|| {
                Error::InvalidRequest(format!(
                    "pipeline part: index {i} out of range ({} commands)",
                    self.cmds.len()
                ))
            })?;
            pipeline.add(c.clone());
        }
        Ok(Part {
            pipeline,
            indices: indices.to_vec(),
        })
    }

    /// Splits the pipeline into parts by `group(index, cmd)` (e.g. the cluster node a
    /// command's keys hash to): one part per distinct group, in order of first appearance,
    /// each with its commands in the caller's order. An empty pipeline gives no part. An
    /// atomic pipeline gives one part (itself) or, with several groups, an
    /// [`Error::InvalidRequest`] (see the module docs).
    pub fn split<G: PartialEq>(
        &self,
        mut group: impl FnMut(usize, &Cmd) -> G,
    ) -> Result<Vec<(G, Part)>> {
        let mut groups: Vec<(G, Vec<usize>)> = Vec::new();
        for (i, c) in self.cmds.iter().enumerate() {
            let g = group(i, c);
            match groups.iter_mut().find(|(seen, _)| *seen == g) {
                Some((_, indices)) => indices.push(i),
                None => groups.push((g, vec![i])),
            }
        }
        if self.atomic && groups.len() > 1 {
            return Err(Error::InvalidRequest(format!(
                "an atomic (MULTI/EXEC) pipeline cannot be split: its commands fall in {} \
                 groups (in a cluster, give the keys one hash tag)",
                groups.len()
            )));
        }
        groups
            .into_iter()
            .map(|(g, indices)| Ok((g, self.part(&indices)?)))
            .collect()
    }

    /// A merger for the replies of this pipeline's parts.
    pub fn merger(&self) -> ReplyMerger {
        ReplyMerger {
            slots: vec![None; self.cmds.len()],
            ignored: self.ignored.clone(),
            aborted: false,
        }
    }
}

/// The first server error, in command order, fails the batch; otherwise the replies without
/// the ignored ones.
fn finish(mut results: Vec<Value>, ignored: &[bool]) -> Result<Value> {
    if let Some(i) = results
        .iter()
        .position(|v| matches!(v, Value::ServerError(_)))
    {
        if let Value::ServerError(e) = results.swap_remove(i) {
            return Err(e.into());
        }
    }
    let mut ignored = ignored.iter();
    results.retain(|_| !ignored.next().copied().unwrap_or(false));
    Ok(Value::Array(results))
}

/// Some commands of a pipeline, and where each sits in the original.
#[derive(Debug, Clone)]
pub struct Part {
    /// The commands to send (atomic only when it is a whole atomic pipeline).
    pub pipeline: Pipeline,
    /// `indices[i]` is the position in the original pipeline of `pipeline.cmds()[i]`.
    pub indices: Vec<usize>,
}

/// Puts the replies of a split pipeline's parts back in the caller's order.
///
/// Give it each part's raw replies (the `expected_replies()` values read for the part,
/// server errors included) with [`put`](ReplyMerger::put), or a single command's reply with
/// [`set`](ReplyMerger::set) (e.g. after a redirect re-sent it; a later reply replaces an
/// earlier one). [`finish`](ReplyMerger::finish) then gives what
/// [`Pipeline::collect_replies`] gives for the whole pipeline.
#[derive(Debug, Clone)]
pub struct ReplyMerger {
    slots: Vec<Option<Value>>,
    ignored: Vec<bool>,
    aborted: bool,
}

impl ReplyMerger {
    /// Places the raw replies of `part`. A wrong number of replies is a protocol error; for
    /// an atomic part, a queued command's error or EXEC's is returned here, as
    /// `collect_replies` would.
    pub fn put(&mut self, part: &Part, raw: Vec<Value>) -> Result<()> {
        match part.pipeline.command_replies(raw)? {
            Some(replies) => {
                for (&i, v) in part.indices.iter().zip(replies) {
                    self.set(i, v)?;
                }
            }
            None => self.aborted = true,
        }
        Ok(())
    }

    /// Places the reply of the command at `index` of the original pipeline.
    pub fn set(&mut self, index: usize, reply: Value) -> Result<()> {
        let n = self.slots.len();
        let slot = self.slots.get_mut(index).ok_or_else(|| {
            Error::InvalidRequest(format!(
                "pipeline reply index {index} out of range ({n} commands)"
            ))
        })?;
        *slot = Some(reply);
        Ok(())
    }

    /// The indices of the original pipeline that have no reply yet, in order.
    pub fn missing(&self) -> impl Iterator<Item = usize> + '_ {
        self.slots
            .iter()
            .enumerate()
            .filter(|(_, s)| s.is_none())
            .map(|(i, _)| i)
    }

    /// The merged result, as [`Pipeline::collect_replies`] gives it: `Ok(None)` when an
    /// atomic part's EXEC answered nil (a WATCHed key changed), the first server error in
    /// the caller's order as `Err`, otherwise the array without the ignored replies. A
    /// command without a reply is a protocol error.
    pub fn finish(self) -> Result<Option<Value>> {
        if self.aborted {
            return Ok(None);
        }
        let mut results = Vec::with_capacity(self.slots.len());
        for (i, slot) in self.slots.into_iter().enumerate() {
            match slot {
                Some(v) => results.push(v),
                None => {
                    return Err(Error::protocol(format!(
                        "split pipeline: no reply for command {i}"
                    )))
                }
            }
        }
        finish(results, &self.ignored).map(Some)
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

    fn int(i: i64) -> Value {
        Value::Int(i)
    }

    fn err(msg: &str) -> Value {
        Value::ServerError(crate::error::ServerError::parse(msg))
    }

    /// GET a, GET b (ignored), GET c, GET d, grouped by key a/c -> 0, b/d -> 1.
    fn four() -> Pipeline {
        let mut p = pipe();
        p.cmd("GET").arg("a");
        p.cmd("GET").arg("b").ignore();
        p.cmd("GET").arg("c");
        p.cmd("GET").arg("d");
        p
    }

    fn by_key(_: usize, c: &Cmd) -> u8 {
        match c.arg_at(1) {
            Some(b"a" | b"c") => 0,
            _ => 1,
        }
    }

    #[test]
    fn split_and_merge_in_caller_order() {
        let p = four();
        let parts = p.split(by_key).unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].0, 0);
        assert_eq!(parts[0].1.indices, [0, 2]);
        assert_eq!(parts[1].1.indices, [1, 3]);
        let sent: Vec<_> = parts[1]
            .1
            .pipeline
            .cmds()
            .iter()
            .map(|c| c.arg_at(1))
            .collect();
        assert_eq!(sent, [Some(&b"b"[..]), Some(b"d")]);
        assert!(!parts[1].1.pipeline.is_atomic());
        assert_eq!(parts[1].1.pipeline.expected_replies(), 2);

        // Replies arrive part by part, in any order; the ignored reply (b) is dropped.
        let mut m = p.merger();
        m.put(&parts[1].1, vec![int(2), int(4)]).unwrap();
        assert_eq!(m.missing().collect::<Vec<_>>(), [0, 2]);
        m.put(&parts[0].1, vec![int(1), int(3)]).unwrap();
        assert_eq!(m.missing().count(), 0);
        let whole = p
            .collect_replies(vec![int(1), int(2), int(3), int(4)])
            .unwrap();
        let merged = m.finish().unwrap();
        assert_eq!(merged, Some(Value::Array(vec![int(1), int(3), int(4)])));
        assert_eq!(merged, whole);
    }

    #[test]
    fn merge_errors_missing_replies_and_redirects() {
        let p = four();
        let parts = p.split(by_key).unwrap();
        // The first error in the caller's order wins, as for the whole pipeline.
        let mut m = p.merger();
        m.put(&parts[0].1, vec![int(1), err("ERR third")]).unwrap();
        m.put(&parts[1].1, vec![int(2), err("ERR fourth")]).unwrap();
        let e = m.finish().unwrap_err().to_string();
        assert!(e.contains("third"), "{e}");

        // A redirected command re-sent on its own replaces its reply.
        let mut m = p.merger();
        m.put(&parts[0].1, vec![int(1), err("MOVED 7 127.0.0.1:7001")])
            .unwrap();
        m.put(&parts[1].1, vec![int(2), int(4)]).unwrap();
        m.set(2, int(3)).unwrap();
        let ok = m.finish().unwrap();
        assert_eq!(ok, Some(Value::Array(vec![int(1), int(3), int(4)])));

        // A part that never answered, a wrong count, an index out of range.
        let mut m = p.merger();
        m.put(&parts[0].1, vec![int(1), int(3)]).unwrap();
        assert!(matches!(m.clone().finish(), Err(Error::Protocol(_))));
        assert!(matches!(
            m.put(&parts[1].1, vec![int(2)]),
            Err(Error::Protocol(_))
        ));
        assert!(matches!(m.set(4, int(0)), Err(Error::InvalidRequest(_))));
        assert!(matches!(p.part(&[0, 9]), Err(Error::InvalidRequest(_))));
    }

    #[test]
    fn parts_by_index() {
        let p = four();
        let part = p.part(&[3, 0]).unwrap();
        let keys: Vec<_> = part.pipeline.cmds().iter().map(|c| c.arg_at(1)).collect();
        assert_eq!(keys, [Some(&b"d"[..]), Some(b"a")]);
        let mut m = p.merger();
        m.put(&part, vec![int(4), int(1)]).unwrap();
        m.put(&p.part(&[1, 2]).unwrap(), vec![int(2), int(3)])
            .unwrap();
        let merged = m.finish().unwrap();
        assert_eq!(merged, Some(Value::Array(vec![int(1), int(3), int(4)])));
        assert!(pipe().split(|_, _| 0).unwrap().is_empty());
    }

    #[test]
    fn atomic_pipelines_split_whole_or_not_at_all() {
        let mut p = four();
        p.atomic();
        let e = p.split(by_key).unwrap_err();
        assert!(matches!(e, Error::InvalidRequest(_)), "{e}");
        assert!(matches!(p.part(&[0, 2]), Err(Error::InvalidRequest(_))));
        assert!(matches!(
            p.part(&[1, 0, 2, 3]),
            Err(Error::InvalidRequest(_))
        ));

        let parts = p.split(|_, _| "node").unwrap();
        assert_eq!(parts.len(), 1);
        let part = &parts[0].1;
        assert!(part.pipeline.is_atomic());
        assert_eq!(part.indices, [0, 1, 2, 3]);
        assert_eq!(part.pipeline.packed(), p.packed());

        let queued = || Value::SimpleString("QUEUED".into());
        let exec = Value::Array(vec![int(1), int(2), int(3), int(4)]);
        let raw = vec![Value::Okay, queued(), queued(), queued(), queued(), exec];
        let mut m = p.merger();
        m.put(part, raw.clone()).unwrap();
        assert_eq!(m.finish().unwrap(), p.collect_replies(raw).unwrap());

        // EXEC nil (a WATCHed key changed): None, as collect_replies says.
        let aborted = vec![
            Value::Okay,
            queued(),
            queued(),
            queued(),
            queued(),
            Value::Nil,
        ];
        let mut m = p.merger();
        m.put(part, aborted).unwrap();
        assert_eq!(m.finish().unwrap(), None);

        // A queued command's error fails the put.
        let bad = vec![
            Value::Okay,
            queued(),
            err("ERR syntax"),
            queued(),
            queued(),
            err("EXECABORT x"),
        ];
        assert!(matches!(p.merger().put(part, bad), Err(Error::Server(_))));
    }
}
