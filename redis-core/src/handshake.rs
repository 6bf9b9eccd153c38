//! What a new connection says before it is handed out, decided without I/O.
//!
//! The whole handshake (HELLO or AUTH, CLIENT SETNAME, SELECT, CLIENT SETINFO) is one
//! pipeline, so a connection is ready after a single round trip. The plan asks the
//! credentials provider at the moment it is built, which is what lets rotating credentials
//! and re-authentication reuse it unchanged.
//!
//! [`Handshake`] is the step machine the shells drive: it says which pipeline to send,
//! judges the replies, and when a server refuses `HELLO` (before Redis 6, or a proxy that
//! does not know it: `-ERR unknown command`, `-NOPROTO`) it asks for the RESP2 handshake
//! (AUTH, CLIENT SETNAME, SELECT, CLIENT SETINFO) instead. It ends with the protocol
//! actually negotiated, which is what `protocol()` reports. Any other refusal of HELLO,
//! such as `WRONGPASS` for `HELLO 3 AUTH`, fails the handshake: falling back would only
//! hide it.

use std::fmt;

use crate::cmd::cmd;
use crate::config::{Config, Protocol};
use crate::credentials::{auth_command, Credentials};
use crate::error::{Result, ServerError};
use crate::pipeline::Pipeline;
use crate::value::Value;

/// The handshake of one connection: commands to send and how to judge their replies.
#[derive(Debug)]
pub struct HandshakePlan {
    pipe: Pipeline,
    /// Per command: an error reply is ignored (e.g. CLIENT SETINFO on servers before 7.2).
    optional: Vec<bool>,
}

impl HandshakePlan {
    /// Builds the plan for `config`; `lib_name`/`lib_ver` go to CLIENT SETINFO.
    pub fn new(config: &Config, lib_name: &str, lib_ver: &str) -> Result<HandshakePlan> {
        let creds = config.credentials.credentials()?;
        Ok(HandshakePlan::build(
            config.protocol,
            creds.as_ref(),
            config,
            lib_name,
            lib_ver,
        ))
    }

    /// The plan for `protocol` with these credentials (everything else from `config`).
    fn build(
        protocol: Protocol,
        creds: Option<&Credentials>,
        config: &Config,
        lib_name: &str,
        lib_ver: &str,
    ) -> HandshakePlan {
        let mut pipe = Pipeline::new();
        let mut optional = Vec::new();
        match protocol {
            Protocol::Resp3 => {
                let mut hello = cmd("HELLO");
                hello.arg(3);
                if let Some(c) = creds {
                    hello
                        .arg("AUTH")
                        .arg(c.username.as_deref().unwrap_or("default"))
                        .arg(c.password.expose());
                }
                if let Some(name) = &config.client_name {
                    hello.arg("SETNAME").arg(name);
                }
                pipe.add(hello);
                optional.push(false);
            }
            Protocol::Resp2 => {
                if let Some(c) = creds {
                    // `AUTH password` is `AUTH default password` on Redis 6+, and the only
                    // form servers before 6 know; re-authentication sends the same.
                    pipe.add(auth_command(c));
                    optional.push(false);
                }
                if let Some(name) = &config.client_name {
                    pipe.add(cmd("CLIENT").with("SETNAME").with(name));
                    optional.push(false);
                }
            }
        }
        if config.db != 0 {
            pipe.add(cmd("SELECT").with(config.db));
            optional.push(false);
        }
        if config.set_lib_info {
            pipe.add(
                cmd("CLIENT")
                    .with("SETINFO")
                    .with("LIB-NAME")
                    .with(lib_name),
            );
            pipe.add(cmd("CLIENT").with("SETINFO").with("LIB-VER").with(lib_ver));
            optional.extend([true, true]);
        }
        HandshakePlan { pipe, optional }
    }

    /// The commands to send (possibly empty).
    pub fn pipeline(&self) -> &Pipeline {
        &self.pipe
    }

    /// Checks the raw replies: the first error of a required step fails the handshake
    /// (so a wrong password is reported as WRONGPASS, not as the NOAUTH that follows it).
    pub fn check(&self, replies: Vec<Value>) -> Result<()> {
        for (reply, optional) in replies.into_iter().zip(&self.optional) {
            if let Value::ServerError(e) = reply {
                if !optional {
                    return Err(e.into());
                }
            }
        }
        Ok(())
    }
}

/// What a shell does next in a [`Handshake`].
#[derive(Debug)]
pub enum HandshakeStep<'a> {
    /// Send this pipeline and give its raw replies to [`Handshake::judge`].
    Send(&'a Pipeline),
    /// The connection is ready and speaks this protocol.
    Done(Protocol),
}

/// The handshake as a small sans-IO step machine: plan, send, judge the replies, maybe
/// send the RESP2 fallback, done with the negotiated protocol.
///
/// ```
/// # use redis_core::{Addr, Config, Protocol, Value, ServerError};
/// # use redis_core::handshake::{Handshake, HandshakeStep};
/// let config = Config::new(Addr::tcp("h", 1)).with_protocol(Protocol::Resp3);
/// let mut hs = Handshake::new(&config, "lib", "1")?;
/// assert!(matches!(hs.start(), HandshakeStep::Send(_)));
/// // An old server: HELLO unknown, CLIENT SETINFO too.
/// let unknown = || Value::ServerError(ServerError::parse("ERR unknown command 'HELLO'"));
/// let step = hs.judge(vec![unknown(), unknown(), unknown()])?;
/// assert!(matches!(step, HandshakeStep::Send(_)));
/// let step = hs.judge(vec![unknown(), unknown()])?;
/// assert!(matches!(step, HandshakeStep::Done(Protocol::Resp2)));
/// # Ok::<(), redis_core::Error>(())
/// ```
pub struct Handshake {
    plan: HandshakePlan,
    protocol: Protocol,
    /// The RESP2 plan to use if the server refuses HELLO (RESP3 only; taken when used).
    fallback: Option<HandshakePlan>,
}

impl fmt::Debug for Handshake {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The pipelines carry the password: never print them.
        f.debug_struct("Handshake")
            .field("protocol", &self.protocol)
            .field("steps", &self.plan.pipe.len())
            .field("can_fall_back", &self.fallback.is_some())
            .finish()
    }
}

impl Handshake {
    /// Plans the handshake for `config` (asking its credentials provider once);
    /// `lib_name`/`lib_ver` go to CLIENT SETINFO.
    pub fn new(config: &Config, lib_name: &str, lib_ver: &str) -> Result<Handshake> {
        let creds = config.credentials.credentials()?;
        let plan =
            |protocol| HandshakePlan::build(protocol, creds.as_ref(), config, lib_name, lib_ver);
        let fallback = (config.protocol == Protocol::Resp3).then(|| plan(Protocol::Resp2));
        Ok(Handshake {
            plan: plan(config.protocol),
            protocol: config.protocol,
            fallback,
        })
    }

    /// The current step: the pipeline to send, or done when there is nothing to say.
    pub fn start(&self) -> HandshakeStep<'_> {
        if self.plan.pipeline().is_empty() {
            HandshakeStep::Done(self.protocol)
        } else {
            HandshakeStep::Send(self.plan.pipeline())
        }
    }

    /// Judges the replies to the pipeline just sent and says what comes next.
    pub fn judge(&mut self, replies: Vec<Value>) -> Result<HandshakeStep<'_>> {
        if let Some(Value::ServerError(e)) = replies.first() {
            if refuses_hello(e) {
                if let Some(fallback) = self.fallback.take() {
                    self.plan = fallback;
                    self.protocol = Protocol::Resp2;
                    return Ok(self.start());
                }
            }
        }
        self.plan.check(replies)?;
        self.fallback = None;
        Ok(HandshakeStep::Done(self.protocol))
    }
}

/// True when an error reply to HELLO says the server does not speak it at all (as
/// opposed to refusing the credentials or the client).
fn refuses_hello(e: &ServerError) -> bool {
    if e.code() == "NOPROTO" {
        return true;
    }
    let text = e.message().to_ascii_lowercase();
    e.code() == "ERR" && (text.contains("unknown command") || text.contains("unsupported command"))
}

/// Expands the handshake flow into a client crate (`maybe_async::must_be_sync` or
/// `maybe_async::must_be_async(AFIT)`). Needs `ConnectionLike` with `req_pipeline` in scope.
/// Returns the protocol negotiated (RESP2 after a fallback from a refused HELLO).
#[macro_export]
macro_rules! handshake_template {
    ($attr:meta) => {
        /// Runs the handshake (one round trip; two when the server refuses HELLO), then
        /// the target's own checks (`READONLY`, `ROLE`; none for a fixed address).
        #[$attr]
        pub(crate) async fn handshake<C: ConnectionLike>(
            con: &mut C,
            target: &$crate::Target,
        ) -> $crate::Result<$crate::Protocol> {
            use $crate::handshake::{Handshake, HandshakeStep};
            let mut hs = Handshake::new(
                &target.config,
                env!("CARGO_PKG_NAME"),
                env!("CARGO_PKG_VERSION"),
            )?;
            let mut replies = None;
            let protocol = loop {
                let step = match replies.take() {
                    None => hs.start(),
                    Some(r) => hs.judge(r)?,
                };
                match step {
                    HandshakeStep::Send(pipe) => replies = Some(con.req_pipeline(pipe).await?),
                    HandshakeStep::Done(protocol) => break protocol,
                }
            };
            let checks = target.checks();
            if !checks.is_empty() {
                target.verify(con.req_pipeline(&checks).await?)?;
            }
            Ok(protocol)
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Addr;

    #[test]
    fn plans() {
        let c = Config::new(Addr::tcp("h", 1));
        let p = HandshakePlan::new(&c, "x", "1").unwrap();
        assert_eq!(p.pipeline().len(), 2);
        let c = Config::new(Addr::tcp("h", 1))
            .with_password(Some("u"), "pw")
            .with_db(2)
            .with_protocol(Protocol::Resp3);
        let p = HandshakePlan::new(&c, "x", "1").unwrap();
        let names: Vec<String> = p.pipeline().cmds().iter().map(|c| c.name()).collect();
        assert_eq!(names, ["HELLO", "SELECT", "CLIENT", "CLIENT"]);
        let hello: Vec<&[u8]> = p.pipeline().cmds()[0].args().collect();
        assert_eq!(hello, [&b"HELLO"[..], b"3", b"AUTH", b"u", b"pw"]);
        let err = Value::ServerError(crate::ServerError::parse("WRONGPASS bad"));
        let unknown = Value::ServerError(crate::ServerError::parse("ERR unknown subcommand"));
        let ok = Value::Okay;
        assert!(p
            .check(vec![ok.clone(), ok.clone(), unknown.clone(), unknown])
            .is_ok());
        let e = p.check(vec![err, ok.clone(), ok.clone(), ok]).unwrap_err();
        assert_eq!(e.server_kind(), Some(&crate::ServerErrorKind::WrongPass));
    }
    fn err(line: &str) -> Value {
        Value::ServerError(crate::ServerError::parse(line))
    }

    fn names(step: &HandshakeStep<'_>) -> Vec<Vec<String>> {
        match step {
            HandshakeStep::Send(p) => p
                .cmds()
                .iter()
                .map(|c| {
                    c.args()
                        .map(|a| String::from_utf8_lossy(a).into_owned())
                        .collect()
                })
                .collect(),
            HandshakeStep::Done(p) => panic!("done with {p:?}"),
        }
    }

    fn resp3() -> Config {
        Config::new(Addr::tcp("h", 1))
            .with_password(None, "pw")
            .with_protocol(Protocol::Resp3)
    }

    #[test]
    fn a_refused_hello_falls_back_to_auth_and_resp2() {
        for refusal in [
            "ERR unknown command 'HELLO', with args beginning with: '3'",
            "ERR unknown command `HELLO`, with args beginning with: `3`,",
            "NOPROTO sorry, this protocol version is not supported",
        ] {
            let mut c = resp3();
            c.set_lib_info = false;
            c.client_name = Some("app".into());
            let mut hs = Handshake::new(&c, "x", "1").unwrap();
            assert_eq!(
                names(&hs.start()),
                [["HELLO", "3", "AUTH", "default", "pw", "SETNAME", "app"]]
            );
            let step = hs.judge(vec![err(refusal)]).unwrap();
            assert_eq!(
                names(&step),
                [vec!["AUTH", "pw"], vec!["CLIENT", "SETNAME", "app"]]
            );
            let step = hs.judge(vec![Value::Okay, Value::Okay]).unwrap();
            assert!(
                matches!(step, HandshakeStep::Done(Protocol::Resp2)),
                "{refusal}"
            );
        }
    }

    #[test]
    fn a_fallback_that_fails_reports_its_own_error_and_falls_back_once() {
        let mut hs = Handshake::new(&resp3(), "x", "1").unwrap();
        let unknown = || err("ERR unknown command 'HELLO'");
        let _ = hs.judge(vec![unknown(), unknown(), unknown()]).unwrap();
        let e = hs
            .judge(vec![err("WRONGPASS bad"), unknown(), unknown()])
            .unwrap_err();
        assert_eq!(e.server_kind(), Some(&crate::ServerErrorKind::WrongPass));
    }

    #[test]
    fn a_wrong_password_or_a_success_never_falls_back() {
        let mut hs = Handshake::new(&resp3(), "x", "1").unwrap();
        let e = hs.judge(vec![
            err("WRONGPASS invalid"),
            err("NOAUTH x"),
            err("NOAUTH x"),
        ]);
        assert_eq!(
            e.unwrap_err().server_kind(),
            Some(&crate::ServerErrorKind::WrongPass)
        );
        let mut hs = Handshake::new(&resp3(), "x", "1").unwrap();
        let e = hs.judge(vec![err(
            "NOAUTH HELLO must be called with the client already authenticated",
        )]);
        assert_eq!(
            e.unwrap_err().server_kind(),
            Some(&crate::ServerErrorKind::NoAuth)
        );
        let mut hs = Handshake::new(&resp3(), "x", "1").unwrap();
        let hello = Value::Map(vec![]);
        let step = hs.judge(vec![hello, Value::Okay, Value::Okay]).unwrap();
        assert!(matches!(step, HandshakeStep::Done(Protocol::Resp3)));
        // RESP2 asked: no HELLO, nothing to fall back to.
        let mut c = resp3().with_protocol(Protocol::Resp2);
        c.set_lib_info = false;
        let mut hs = Handshake::new(&c, "x", "1").unwrap();
        assert_eq!(names(&hs.start()), [["AUTH", "pw"]]);
        let e = hs
            .judge(vec![err("ERR unknown command 'AUTH'")])
            .unwrap_err();
        assert!(e.server_kind().is_some());
        // Nothing to say at all.
        let mut c = Config::new(Addr::tcp("h", 1));
        c.set_lib_info = false;
        let hs = Handshake::new(&c, "x", "1").unwrap();
        assert!(matches!(hs.start(), HandshakeStep::Done(Protocol::Resp2)));
        assert!(!format!("{hs:?}").contains("pw"));
    }
}
