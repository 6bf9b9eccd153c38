//! The RESP wire format: decoding replies. (Commands are encoded as they are built, in
//! [`crate::Cmd`].)

mod decode;

pub use decode::{Decoder, DecoderLimits};
