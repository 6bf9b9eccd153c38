//! The RESP wire format: decoding replies, and encoding whole values (for test peers).
//! Commands are encoded as they are built, in [`crate::Cmd`].

mod decode;
mod encode;

pub use decode::{Decoder, DecoderLimits};
pub use encode::encode_value;
