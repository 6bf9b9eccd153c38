//! Turning Rust values into command arguments.
//!
//! An argument is always a byte string on the wire. Numbers are formatted with `itoa`/`ryu`
//! straight into the command buffer; byte and string values are copied once, from the
//! caller's value into the encoded command, and never again before the socket.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::hash::BuildHasher;

use bytes::Bytes;

/// Where arguments are written: [`crate::Cmd`] implements it; so does `Vec<Vec<u8>>` for
/// inspection in tests.
pub trait ArgSink {
    /// Appends one argument.
    fn push_arg(&mut self, arg: &[u8]);
}

impl ArgSink for Vec<Vec<u8>> {
    fn push_arg(&mut self, arg: &[u8]) {
        self.push(arg.to_vec());
    }
}

/// A value that becomes zero, one or several command arguments.
///
/// `Vec<T>`, slices, sets, maps, tuples and `Option` expand to their elements (maps to
/// `key value` pairs, `None` to nothing); byte containers (`Vec<u8>`, `&[u8]`, `Bytes`) are
/// one binary argument.
pub trait ToArgs {
    /// Writes this value's arguments to `out`.
    fn write_args(&self, out: &mut dyn ArgSink);

    /// Writes a slice of `Self`. The default writes each element; `u8` overrides it so that
    /// `Vec<u8>` and `&[u8]` are one binary argument.
    #[doc(hidden)]
    fn write_slice_args(items: &[Self], out: &mut dyn ArgSink)
    where
        Self: Sized,
    {
        for item in items {
            item.write_args(out);
        }
    }

    /// The arguments as owned byte vectors (handy in tests and for inspection).
    fn to_arg_vec(&self) -> Vec<Vec<u8>> {
        let mut v: Vec<Vec<u8>> = Vec::new();
        self.write_args(&mut v);
        v
    }
}

macro_rules! int_args {
    ($($t:ty),*) => {$(
        impl ToArgs for $t {
            fn write_args(&self, out: &mut dyn ArgSink) {
                let mut b = itoa::Buffer::new();
                out.push_arg(b.format(*self).as_bytes());
            }
        }
    )*};
}
int_args!(i8, i16, i32, i64, i128, isize, u16, u32, u64, u128, usize);

impl ToArgs for u8 {
    fn write_args(&self, out: &mut dyn ArgSink) {
        let mut b = itoa::Buffer::new();
        out.push_arg(b.format(*self).as_bytes());
    }

    fn write_slice_args(items: &[u8], out: &mut dyn ArgSink) {
        out.push_arg(items);
    }
}

macro_rules! float_args {
    ($($t:ty),*) => {$(
        impl ToArgs for $t {
            fn write_args(&self, out: &mut dyn ArgSink) {
                if self.is_finite() {
                    let mut b = ryu::Buffer::new();
                    let s = b.format_finite(*self);
                    out.push_arg(s.strip_suffix(".0").unwrap_or(s).as_bytes());
                } else if self.is_nan() {
                    out.push_arg(b"nan");
                } else if *self > 0.0 {
                    out.push_arg(b"+inf");
                } else {
                    out.push_arg(b"-inf");
                }
            }
        }
    )*};
}
float_args!(f32, f64);

/// No arguments at all.
impl ToArgs for () {
    fn write_args(&self, _out: &mut dyn ArgSink) {}
}

impl ToArgs for bool {
    fn write_args(&self, out: &mut dyn ArgSink) {
        out.push_arg(if *self { b"1" } else { b"0" });
    }
}

impl ToArgs for str {
    fn write_args(&self, out: &mut dyn ArgSink) {
        out.push_arg(self.as_bytes());
    }
}

impl ToArgs for String {
    fn write_args(&self, out: &mut dyn ArgSink) {
        out.push_arg(self.as_bytes());
    }
}

impl ToArgs for Bytes {
    fn write_args(&self, out: &mut dyn ArgSink) {
        out.push_arg(self);
    }
}

impl<T: ToArgs> ToArgs for [T] {
    fn write_args(&self, out: &mut dyn ArgSink) {
        T::write_slice_args(self, out);
    }
}

impl<T: ToArgs> ToArgs for Vec<T> {
    fn write_args(&self, out: &mut dyn ArgSink) {
        T::write_slice_args(self, out);
    }
}

impl<T: ToArgs, const N: usize> ToArgs for [T; N] {
    fn write_args(&self, out: &mut dyn ArgSink) {
        T::write_slice_args(self, out);
    }
}

impl<T: ToArgs + ?Sized> ToArgs for &T {
    fn write_args(&self, out: &mut dyn ArgSink) {
        (**self).write_args(out);
    }
}

impl<T: ToArgs + ?Sized> ToArgs for Box<T> {
    fn write_args(&self, out: &mut dyn ArgSink) {
        (**self).write_args(out);
    }
}

impl<T: ToArgs> ToArgs for Option<T> {
    fn write_args(&self, out: &mut dyn ArgSink) {
        if let Some(v) = self {
            v.write_args(out);
        }
    }
}

impl<T: ToArgs, S: BuildHasher> ToArgs for HashSet<T, S> {
    fn write_args(&self, out: &mut dyn ArgSink) {
        for item in self {
            item.write_args(out);
        }
    }
}

impl<T: ToArgs> ToArgs for BTreeSet<T> {
    fn write_args(&self, out: &mut dyn ArgSink) {
        for item in self {
            item.write_args(out);
        }
    }
}

impl<K: ToArgs, V: ToArgs, S: BuildHasher> ToArgs for HashMap<K, V, S> {
    fn write_args(&self, out: &mut dyn ArgSink) {
        for (k, v) in self {
            k.write_args(out);
            v.write_args(out);
        }
    }
}

impl<K: ToArgs, V: ToArgs> ToArgs for BTreeMap<K, V> {
    fn write_args(&self, out: &mut dyn ArgSink) {
        for (k, v) in self {
            k.write_args(out);
            v.write_args(out);
        }
    }
}

macro_rules! tuple_args {
    ($($name:ident)+) => {
        impl<$($name: ToArgs),+> ToArgs for ($($name,)+) {
            #[allow(non_snake_case)]
            fn write_args(&self, out: &mut dyn ArgSink) {
                let ($($name,)+) = self;
                $($name.write_args(out);)+
            }
        }
    };
}
tuple_args!(A);
tuple_args!(A B);
tuple_args!(A B C);
tuple_args!(A B C D);
tuple_args!(A B C D E);
tuple_args!(A B C D E F);
tuple_args!(A B C D E F G);
tuple_args!(A B C D E F G H);

#[cfg(test)]
mod tests {
    use super::*;

    fn args<T: ToArgs + ?Sized>(v: &T) -> Vec<String> {
        v.to_arg_vec()
            .into_iter()
            .map(|a| String::from_utf8(a).unwrap())
            .collect()
    }

    #[test]
    fn shapes() {
        assert_eq!(args(&42i64), ["42"]);
        assert_eq!(args(&-1i8), ["-1"]);
        assert_eq!(args(&1.5f64), ["1.5"]);
        assert_eq!(args(&3.0f64), ["3"]);
        assert_eq!(args(&f64::INFINITY), ["+inf"]);
        assert_eq!(args(&f64::NEG_INFINITY), ["-inf"]);
        assert_eq!(args(&true), ["1"]);
        assert_eq!(args("a b"), ["a b"]);
        assert_eq!(args(&vec![1u8, 2]).len(), 1);
        assert_eq!(args(&b"xy"[..]), ["xy"]);
        assert_eq!(args(&vec!["a", "b"]), ["a", "b"]);
        assert_eq!(args(&("k", 1, Some("x"), None::<i32>)), ["k", "1", "x"]);
        let m: BTreeMap<_, _> = [("a", 1), ("b", 2)].into_iter().collect();
        assert_eq!(args(&m), ["a", "1", "b", "2"]);
    }
}
