//! Conversions between Rust values and the wire: arguments out, replies in.

mod from_value;
mod to_args;

pub use from_value::FromValue;
pub use to_args::{ArgSink, ToArgs};
