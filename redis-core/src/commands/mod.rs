//! The typed command API, written once.
//!
//! [`command_list!`](crate::command_list) holds every typed command: its Redis name, its
//! Rust signature and how its [`Cmd`] is built. Expanding the list here gives
//! one constructor per command (`redis_core::commands::set("k", 1)` returns the `Cmd`);
//! expanding it in a client crate with [`commands_template!`](crate::commands_template)
//! gives that client's `Commands` trait, whose methods build the same `Cmd` and send it.
//! A new command is added in one place and appears in both clients.

mod list;
mod options;
#[cfg(test)]
mod tests;

pub use options::*;

use crate::cmd::{cmd, Cmd};
#[allow(unused_imports)]
use crate::types::ToArgs;

/// Expands the command list into one `Cmd` constructor per command.
#[doc(hidden)]
#[macro_export]
macro_rules! __define_cmd_fns {
    (; $(
        $(#[$meta:meta])*
        $redis:literal fn $name:ident $(<$($tp:ident: $bound:path),* $(,)?>)? ($($arg:ident: $argty:ty),* $(,)?) $body:block
    )*) => {
        $(
            $(#[$meta])*
            #[doc = ""]
            #[doc = concat!("Builds `", $redis, "`.")]
            pub fn $name $(<$($tp: $bound),*>)? ($($arg: $argty),*) -> Cmd $body
        )*

        /// The Redis commands (`NAME` or `NAME|SUBCOMMAND`, lower case) with a typed method.
        pub const TYPED_COMMANDS: &[&str] = &[$($redis),*];
    };
}

/// Expands the command list into a client's `Commands` trait.
///
/// `$attr` is `maybe_async::must_be_sync` or `maybe_async::must_be_async(AFIT)`; the
/// expansion site must have a `ConnectionLike` trait in scope with
/// `async fn req_owned(&mut self, cmd: Cmd) -> Result<Value>` (sync or async).
#[doc(hidden)]
#[macro_export]
macro_rules! __commands_trait {
    ($attr:meta; $(
        $(#[$meta:meta])*
        $redis:literal fn $name:ident $(<$($tp:ident: $bound:path),* $(,)?>)? ($($arg:ident: $argty:ty),* $(,)?) $body:block
    )*) => {
        /// Typed methods for every Redis command; implemented for every connection type.
        ///
        /// The reply type `RV` is chosen by the caller (`let n: i64 = con.incr("k", 1)?`);
        /// any [`FromValue`]($crate::FromValue) type works, including `Value` for the raw
        /// reply and `()` to discard it.
        #[allow(async_fn_in_trait)]
        #[$attr]
        pub trait Commands: ConnectionLike + Sized {
            $(
                $(#[$meta])*
                #[doc = ""]
                #[doc = concat!("Sends `", $redis, "`.")]
                async fn $name<$($($tp: $bound + Send,)*)? RV: $crate::FromValue>(
                    &mut self $(, $arg: $argty)*
                ) -> $crate::Result<RV> {
                    let c = $crate::commands::$name($($arg),*);
                    RV::from_value(self.req_owned(c).await?)
                }
            )*
        }

        impl<T: ConnectionLike + Sized> Commands for T {}
    };
}

/// Expands the typed command API into a client crate:
/// `redis_core::commands_template!(maybe_async::must_be_sync);`
#[macro_export]
macro_rules! commands_template {
    ($attr:meta) => {
        /// The expansion of the shared command list (see `redis_core::commands`).
        mod typed_commands {
            #[allow(unused_imports)]
            use $crate::commands::*;
            #[allow(unused_imports)]
            use $crate::ToArgs;
            use super::ConnectionLike;

            $crate::command_list!($crate::__commands_trait; $attr);
        }

        pub use typed_commands::Commands;
    };
}

crate::command_list!(crate::__define_cmd_fns;);
