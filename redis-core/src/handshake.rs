//! What a new connection says before it is handed out, decided without I/O.
//!
//! The whole handshake (HELLO or AUTH, CLIENT SETNAME, SELECT, CLIENT SETINFO) is one
//! pipeline, so a connection is ready after a single round trip. The plan asks the
//! credentials provider at the moment it is built, which is what lets rotating credentials
//! and re-authentication reuse it unchanged.

use crate::cmd::cmd;
use crate::config::{Config, Protocol};
use crate::error::Result;
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
        let mut pipe = Pipeline::new();
        let mut optional = Vec::new();
        let creds = config.credentials.credentials()?;
        match config.protocol {
            Protocol::Resp3 => {
                let mut hello = cmd("HELLO");
                hello.arg(3);
                if let Some(c) = &creds {
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
                if let Some(c) = &creds {
                    let mut auth = cmd("AUTH");
                    auth.arg(c.username.as_deref()).arg(c.password.expose());
                    pipe.add(auth);
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
        Ok(HandshakePlan { pipe, optional })
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

/// Expands the handshake flow into a client crate (`maybe_async::must_be_sync` or
/// `maybe_async::must_be_async(AFIT)`). Needs `ConnectionLike` with `req_pipeline` in scope.
#[macro_export]
macro_rules! handshake_template {
    ($attr:meta) => {
        /// Runs the handshake in one round trip.
        #[$attr]
        pub(crate) async fn handshake<C: ConnectionLike>(
            con: &mut C,
            config: &$crate::Config,
        ) -> $crate::Result<()> {
            let plan = $crate::handshake::HandshakePlan::new(
                config,
                env!("CARGO_PKG_NAME"),
                env!("CARGO_PKG_VERSION"),
            )?;
            if plan.pipeline().is_empty() {
                return Ok(());
            }
            let replies = con.req_pipeline(plan.pipeline()).await?;
            plan.check(replies)
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
}
