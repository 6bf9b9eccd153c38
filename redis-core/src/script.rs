//! Lua scripts called by SHA1, with the full source sent only when the server lacks it.
//!
//! The SHA is computed once when the script is created. Invoking sends `EVALSHA`; on a
//! `NOSCRIPT` error (first use, `SCRIPT FLUSH`, failover to a server that never saw it)
//! the flow loads the script and retries once. The flow itself is the
//! [`query_template!`](crate::query_template) each client expands.

use crate::cmd::{cmd, Cmd};
use crate::types::{ArgSink, ToArgs};

/// A Lua script and its SHA1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Script {
    code: String,
    hash: String,
}

impl Script {
    /// Wraps Lua source and computes its SHA1.
    pub fn new(code: &str) -> Script {
        Script {
            code: code.to_string(),
            hash: sha1_smol::Sha1::from(code.as_bytes()).digest().to_string(),
        }
    }

    /// The SHA1 in hex, as `SCRIPT LOAD` returns it.
    pub fn hash(&self) -> &str {
        &self.hash
    }

    /// The Lua source.
    pub fn code(&self) -> &str {
        &self.code
    }

    /// Starts an invocation with a key.
    pub fn key<T: ToArgs>(&self, key: T) -> ScriptInvocation<'_> {
        let mut inv = self.prepare();
        inv.key(key);
        inv
    }

    /// Starts an invocation with an argument.
    pub fn arg<T: ToArgs>(&self, arg: T) -> ScriptInvocation<'_> {
        let mut inv = self.prepare();
        inv.arg(arg);
        inv
    }

    /// Starts an invocation with no keys or arguments yet.
    pub fn prepare(&self) -> ScriptInvocation<'_> {
        ScriptInvocation {
            script: self,
            keys: Vec::new(),
            args: Vec::new(),
        }
    }

    /// `SCRIPT LOAD <code>`.
    pub fn load_cmd(&self) -> Cmd {
        cmd("SCRIPT").with("LOAD").with(&self.code)
    }
}

/// A script with its keys and arguments, ready to send.
#[derive(Debug, Clone)]
pub struct ScriptInvocation<'a> {
    script: &'a Script,
    keys: Vec<Vec<u8>>,
    args: Vec<Vec<u8>>,
}

impl ScriptInvocation<'_> {
    /// Adds key(s) (`KEYS[n]` in Lua).
    pub fn key<T: ToArgs>(&mut self, key: T) -> &mut Self {
        key.write_args(&mut self.keys);
        self
    }

    /// Adds argument(s) (`ARGV[n]` in Lua).
    pub fn arg<T: ToArgs>(&mut self, arg: T) -> &mut Self {
        arg.write_args(&mut self.args);
        self
    }

    /// The script being invoked.
    pub fn script(&self) -> &Script {
        self.script
    }

    /// `EVALSHA sha numkeys keys... args...`.
    pub fn evalsha_cmd(&self) -> Cmd {
        self.build("EVALSHA", self.script.hash.as_bytes())
    }

    /// `EVAL code numkeys keys... args...`.
    pub fn eval_cmd(&self) -> Cmd {
        self.build("EVAL", self.script.code.as_bytes())
    }

    fn build(&self, name: &str, body: &[u8]) -> Cmd {
        let mut c = cmd(name);
        c.push_arg(body);
        c.arg(self.keys.len());
        for k in &self.keys {
            c.push_arg(k);
        }
        for a in &self.args {
            c.push_arg(a);
        }
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha_and_commands() {
        let s = Script::new("return 1");
        assert_eq!(s.hash(), "e0e1f9fabfc9d4800c877a703b823ac0578ff8db");
        let mut inv = s.key("k");
        inv.arg(5);
        let evalsha = inv.evalsha_cmd();
        let args: Vec<&[u8]> = evalsha.args().collect();
        assert_eq!(
            args,
            [&b"EVALSHA"[..], s.hash().as_bytes(), b"1", b"k", b"5"]
        );
        assert_eq!(inv.eval_cmd().arg_at(1), Some(&b"return 1"[..]));
    }
}
