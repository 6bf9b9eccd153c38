//! Conversions between Rust values and the wire: arguments out, replies in.

mod from_value;
#[cfg(feature = "json")]
mod json;
mod to_args;

pub use from_value::FromValue;
#[cfg(feature = "json")]
pub use json::Json;
pub use to_args::{ArgSink, ToArgs};
