//! The `query` flow: how a built request (a `Cmd`, a `Pipeline`, a script invocation) is
//! sent and its reply converted. Written once in async syntax and expanded by each client.

/// Expands the `Query` trait and its impls into a client crate
/// (`maybe_async::must_be_sync` or `maybe_async::must_be_async(AFIT)`). Needs a
/// `ConnectionLike` trait in scope with `req` and `req_pipeline`.
#[macro_export]
macro_rules! query_template {
    ($attr:meta) => {
        /// Sends a built request and converts its reply:
        /// `cmd("GET").arg("k").query::<Option<String>>(&mut con)`.
        #[allow(async_fn_in_trait)]
        #[$attr]
        pub trait Query {
            /// Sends the request and converts its reply into `RV`.
            async fn query<RV: $crate::FromValue>(
                &self,
                con: &mut impl ConnectionLike,
            ) -> $crate::Result<RV>;

            /// Sends the request and discards its reply; error replies are still errors.
            async fn execute(&self, con: &mut impl ConnectionLike) -> $crate::Result<()> {
                self.query::<()>(con).await
            }
        }

        #[$attr]
        impl Query for $crate::Cmd {
            async fn query<RV: $crate::FromValue>(
                &self,
                con: &mut impl ConnectionLike,
            ) -> $crate::Result<RV> {
                RV::from_value(con.req(self).await?)
            }
        }

        /// An atomic pipeline whose WATCHed keys changed converts from nil (use an
        /// `Option` reply type to see it); any error reply in the batch is an error.
        #[$attr]
        impl Query for $crate::Pipeline {
            async fn query<RV: $crate::FromValue>(
                &self,
                con: &mut impl ConnectionLike,
            ) -> $crate::Result<RV> {
                let replies = con.req_pipeline(self).await?;
                RV::from_value(self.collect_replies(replies)?.unwrap_or($crate::Value::Nil))
            }
        }

        /// EVALSHA first; on NOSCRIPT, EVAL with the source (which also caches it).
        #[$attr]
        impl Query for $crate::script::ScriptInvocation<'_> {
            async fn query<RV: $crate::FromValue>(
                &self,
                con: &mut impl ConnectionLike,
            ) -> $crate::Result<RV> {
                match con.req(&self.evalsha_cmd()).await {
                    Err(e) if e.server_kind() == Some(&$crate::ServerErrorKind::NoScript) => {
                        RV::from_value(con.req(&self.eval_cmd()).await?)
                    }
                    reply => RV::from_value(reply?),
                }
            }
        }

        /// Invokes the script with no keys and no arguments.
        #[$attr]
        impl Query for $crate::script::Script {
            async fn query<RV: $crate::FromValue>(
                &self,
                con: &mut impl ConnectionLike,
            ) -> $crate::Result<RV> {
                self.prepare().query::<RV>(con).await
            }
        }
    };
}
