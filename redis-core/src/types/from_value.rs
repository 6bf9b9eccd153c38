//! Turning replies into Rust values.
//!
//! Conversions accept both protocol versions' shapes for the same data: a RESP3 map and a
//! RESP2 flat `[k1, v1, k2, v2]` array both become a `HashMap`, and a RESP3 array of
//! `[member, score]` pairs or a RESP2 flat list both become `Vec<(String, f64)>`. A failed
//! conversion says what was expected and what came.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::hash::{BuildHasher, Hash};

use bytes::Bytes;

use crate::error::{Error, Result};
use crate::value::Value;

/// A type that a reply converts into.
pub trait FromValue: Sized {
    /// Converts one reply.
    fn from_value(v: Value) -> Result<Self>;

    /// Converts the elements of an aggregate. The default converts each element; tuples
    /// override it to also accept a flat RESP2 list, and `u8` to read a bulk string.
    #[doc(hidden)]
    fn from_values(items: Vec<Value>) -> Result<Vec<Self>> {
        items.into_iter().map(Self::from_value).collect()
    }

    /// Converts a bulk string asked for as `Vec<Self>`. The default treats it as a
    /// one-element list; `u8` takes the bytes.
    #[doc(hidden)]
    fn from_bulk_as_vec(b: Bytes) -> Result<Vec<Self>> {
        Ok(vec![Self::from_value(Value::BulkString(b))?])
    }
}

fn mismatch<T>(expected: &str, v: &Value) -> Result<T> {
    Err(Error::conversion(expected, v.describe()))
}

/// Strips attributes and turns nested error replies into errors.
#[inline]
fn plain(v: Value) -> Result<Value> {
    match v {
        Value::Attribute { .. } | Value::ServerError(_) => unwrap_plain(v),
        v => Ok(v),
    }
}

/// [`plain`] for the rare values it changes, out of line so that `plain` inlines into
/// every conversion.
fn unwrap_plain(mut v: Value) -> Result<Value> {
    loop {
        match v {
            Value::Attribute { data, .. } => v = *data,
            Value::ServerError(e) => return Err(e.into()),
            v => return Ok(v),
        }
    }
}

impl FromValue for Value {
    fn from_value(v: Value) -> Result<Self> {
        Ok(v)
    }
}

impl FromValue for () {
    fn from_value(v: Value) -> Result<Self> {
        plain(v).map(|_| ())
    }
}

fn text_of(v: &Value) -> Option<&[u8]> {
    match v {
        Value::Okay => Some(b"OK"),
        Value::BulkString(b) => Some(b),
        Value::SimpleString(s) => Some(s.as_bytes()),
        Value::VerbatimString { text, .. } => Some(text),
        Value::BigNumber(s) => Some(s.as_bytes()),
        _ => None,
    }
}

macro_rules! int_from {
    ($($t:ty),*) => {$(
        impl FromValue for $t {
            fn from_value(v: Value) -> Result<Self> {
                let v = plain(v)?;
                let parsed: Option<$t> = match &v {
                    Value::Int(i) => <$t>::try_from(*i).ok(),
                    Value::Boolean(b) => Some(<$t>::from(*b)),
                    Value::Double(d) if d.fract() == 0.0 => {
                        let i = *d as i128;
                        if i as f64 == *d { <$t>::try_from(i).ok() } else { None }
                    }
                    other => text_of(other)
                        .and_then(|b| std::str::from_utf8(b).ok())
                        .and_then(|s| s.parse::<$t>().ok()),
                };
                match parsed {
                    Some(n) => Ok(n),
                    None => mismatch(stringify!($t), &v),
                }
            }
        }
    )*};
}
int_from!(i8, i16, i32, i64, i128, isize, u16, u32, u64, u128, usize);

impl FromValue for u8 {
    fn from_value(v: Value) -> Result<Self> {
        let v = plain(v)?;
        let parsed = match &v {
            Value::Int(i) => u8::try_from(*i).ok(),
            Value::Boolean(b) => Some(u8::from(*b)),
            other => text_of(other)
                .and_then(|b| std::str::from_utf8(b).ok())
                .and_then(|s| s.parse::<u8>().ok()),
        };
        match parsed {
            Some(n) => Ok(n),
            None => mismatch("u8", &v),
        }
    }

    fn from_bulk_as_vec(b: Bytes) -> Result<Vec<u8>> {
        Ok(Vec::from(b))
    }
}

fn parse_float(s: &str) -> Option<f64> {
    match s {
        "inf" | "+inf" | "infinity" | "+infinity" => Some(f64::INFINITY),
        "-inf" | "-infinity" => Some(f64::NEG_INFINITY),
        _ => s.parse::<f64>().ok(),
    }
}

macro_rules! float_from {
    ($($t:ty),*) => {$(
        impl FromValue for $t {
            fn from_value(v: Value) -> Result<Self> {
                let v = plain(v)?;
                let parsed = match &v {
                    Value::Double(d) => Some(*d as $t),
                    Value::Int(i) => Some(*i as $t),
                    other => text_of(other)
                        .and_then(|b| std::str::from_utf8(b).ok())
                        .and_then(parse_float)
                        .map(|f| f as $t),
                };
                match parsed {
                    Some(n) => Ok(n),
                    None => mismatch(stringify!($t), &v),
                }
            }
        }
    )*};
}
float_from!(f32, f64);

impl FromValue for bool {
    /// `1`/`0`, RESP3 booleans, `OK` (true) and nil (false, e.g. `SET NX` that did not set).
    fn from_value(v: Value) -> Result<Self> {
        let v = plain(v)?;
        match &v {
            Value::Boolean(b) => Ok(*b),
            Value::Int(0) => Ok(false),
            Value::Int(1) => Ok(true),
            Value::Nil => Ok(false),
            Value::Okay => Ok(true),
            Value::BulkString(b) if &b[..] == b"1" => Ok(true),
            Value::BulkString(b) if &b[..] == b"0" => Ok(false),
            _ => mismatch("bool", &v),
        }
    }
}

impl FromValue for String {
    fn from_value(v: Value) -> Result<Self> {
        let v = plain(v)?;
        match v {
            Value::SimpleString(s) | Value::BigNumber(s) => Ok(s),
            Value::Okay => Ok("OK".to_string()),
            Value::BulkString(ref b) | Value::VerbatimString { text: ref b, .. } => {
                match std::str::from_utf8(b) {
                    Ok(s) => Ok(s.to_owned()),
                    Err(_) => mismatch("UTF-8 string", &v),
                }
            }
            Value::Int(i) => Ok(i.to_string()),
            Value::Double(d) => Ok(d.to_string()),
            other => mismatch("string", &other),
        }
    }
}

impl FromValue for Bytes {
    fn from_value(v: Value) -> Result<Self> {
        let v = plain(v)?;
        match v {
            Value::BulkString(b) | Value::VerbatimString { text: b, .. } => Ok(b),
            Value::SimpleString(s) | Value::BigNumber(s) => Ok(Bytes::from(s)),
            Value::Okay => Ok(Bytes::from_static(b"OK")),
            Value::Int(i) => Ok(Bytes::from(i.to_string())),
            other => mismatch("bytes", &other),
        }
    }
}

impl<T: FromValue> FromValue for Option<T> {
    fn from_value(v: Value) -> Result<Self> {
        match plain(v)? {
            Value::Nil => Ok(None),
            v => T::from_value(v).map(Some),
        }
    }
}

impl<T: FromValue> FromValue for Box<T> {
    fn from_value(v: Value) -> Result<Self> {
        T::from_value(v).map(Box::new)
    }
}

/// The elements of any list-like reply; maps are flattened to `k1, v1, k2, v2`.
fn elements(v: Value, expected: &str) -> Result<Vec<Value>> {
    match plain(v)? {
        Value::Array(items) | Value::Set(items) | Value::Push(items) => Ok(items),
        Value::Nil => Ok(Vec::new()),
        Value::Map(pairs) => Ok(pairs.into_iter().flat_map(|(k, v)| [k, v]).collect()),
        other => mismatch(expected, &other),
    }
}

impl<T: FromValue> FromValue for Vec<T> {
    fn from_value(v: Value) -> Result<Self> {
        match plain(v)? {
            Value::BulkString(b) => T::from_bulk_as_vec(b),
            Value::Map(pairs) => {
                // Keep pairs together when T is a pair type.
                let items = pairs
                    .into_iter()
                    .map(|(k, v)| Value::Array(vec![k, v]))
                    .collect();
                T::from_values(items)
            }
            v => T::from_values(elements(v, "list")?),
        }
    }
}

impl<T: FromValue + Eq + Hash, S: BuildHasher + Default> FromValue for HashSet<T, S> {
    fn from_value(v: Value) -> Result<Self> {
        elements(v, "set")?.into_iter().map(T::from_value).collect()
    }
}

impl<T: FromValue + Ord> FromValue for BTreeSet<T> {
    fn from_value(v: Value) -> Result<Self> {
        elements(v, "set")?.into_iter().map(T::from_value).collect()
    }
}

/// Key/value pairs from a RESP3 map, a flat RESP2 list, or a list of 2-element lists.
fn pairs(v: Value) -> Result<Vec<(Value, Value)>> {
    match plain(v)? {
        Value::Map(p) => Ok(p),
        Value::Nil => Ok(Vec::new()),
        Value::Array(items) | Value::Set(items) => {
            if items
                .iter()
                .all(|i| matches!(i, Value::Array(a) if a.len() == 2))
                && !items.is_empty()
            {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    if let Value::Array(mut a) = item {
                        let v = a.pop().unwrap_or(Value::Nil);
                        let k = a.pop().unwrap_or(Value::Nil);
                        out.push((k, v));
                    }
                }
                return Ok(out);
            }
            if items.len() % 2 != 0 {
                return Err(Error::conversion(
                    "map (even number of elements)",
                    format!("array of {}", items.len()),
                ));
            }
            let mut out = Vec::with_capacity(items.len() / 2);
            let mut it = items.into_iter();
            while let (Some(k), Some(v)) = (it.next(), it.next()) {
                out.push((k, v));
            }
            Ok(out)
        }
        other => mismatch("map", &other),
    }
}

impl<K: FromValue + Eq + Hash, V: FromValue, S: BuildHasher + Default> FromValue
    for HashMap<K, V, S>
{
    fn from_value(v: Value) -> Result<Self> {
        pairs(v)?
            .into_iter()
            .map(|(k, v)| Ok((K::from_value(k)?, V::from_value(v)?)))
            .collect()
    }
}

impl<K: FromValue + Ord, V: FromValue> FromValue for BTreeMap<K, V> {
    fn from_value(v: Value) -> Result<Self> {
        pairs(v)?
            .into_iter()
            .map(|(k, v)| Ok((K::from_value(k)?, V::from_value(v)?)))
            .collect()
    }
}

macro_rules! tuple_from {
    ($n:expr; $($name:ident)+) => {
        impl<$($name: FromValue),+> FromValue for ($($name,)+) {
            fn from_value(v: Value) -> Result<Self> {
                let items = elements(v, concat!("tuple of ", stringify!($n)))?;
                if items.len() != $n {
                    return Err(Error::conversion(
                        concat!("tuple of ", stringify!($n)),
                        format!("{} elements", items.len()),
                    ));
                }
                let mut it = items.into_iter();
                Ok(($($name::from_value(it.next().unwrap_or(Value::Nil))?,)+))
            }

            fn from_values(items: Vec<Value>) -> Result<Vec<Self>> {
                let nested = items.iter().all(|i| matches!(i, Value::Array(_) | Value::Map(_)));
                if nested || $n == 1 {
                    return items.into_iter().map(Self::from_value).collect();
                }
                if items.len() % ($n as usize).max(1) != 0 {
                    return Err(Error::conversion(
                        concat!("flat list of ", stringify!($n), "-tuples"),
                        format!("{} elements", items.len()),
                    ));
                }
                let mut out = Vec::with_capacity(items.len() / $n);
                let mut it = items.into_iter();
                loop {
                    let Some(first) = it.next() else { break };
                    let mut first = Some(first);
                    out.push(($($name::from_value(
                        first.take().or_else(|| it.next()).unwrap_or(Value::Nil)
                    )?,)+));
                }
                Ok(out)
            }
        }
    };
}
tuple_from!(1; A);
tuple_from!(2; A B);
tuple_from!(3; A B C);
tuple_from!(4; A B C D);
tuple_from!(5; A B C D E);
tuple_from!(6; A B C D E F);
tuple_from!(7; A B C D E F G);
tuple_from!(8; A B C D E F G H);

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &str) -> Value {
        Value::BulkString(Bytes::copy_from_slice(s.as_bytes()))
    }

    #[test]
    fn scalars() {
        assert_eq!(i64::from_value(Value::Int(5)).unwrap(), 5);
        assert_eq!(i64::from_value(bulk("-7")).unwrap(), -7);
        assert_eq!(u8::from_value(Value::Int(300)).ok(), None);
        assert_eq!(f64::from_value(bulk("inf")).unwrap(), f64::INFINITY);
        assert_eq!(f64::from_value(Value::Double(2.5)).unwrap(), 2.5);
        assert!(bool::from_value(Value::Okay).unwrap());
        assert_eq!(String::from_value(Value::Okay).unwrap(), "OK");
        assert!(!bool::from_value(Value::Nil).unwrap());
        assert_eq!(String::from_value(bulk("hé")).unwrap(), "hé");
        assert_eq!(Vec::<u8>::from_value(bulk("ab")).unwrap(), b"ab");
        assert_eq!(Option::<String>::from_value(Value::Nil).unwrap(), None);
        let e = i64::from_value(bulk("abc")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "cannot convert reply: expected i64, got bulk string \"abc\""
        );
    }

    #[test]
    fn both_protocol_shapes() {
        let flat = Value::Array(vec![bulk("a"), bulk("1"), bulk("b"), bulk("2")]);
        let map = Value::Map(vec![(bulk("a"), Value::Int(1)), (bulk("b"), Value::Int(2))]);
        let pairs = Value::Array(vec![
            Value::Array(vec![bulk("a"), Value::Double(1.0)]),
            Value::Array(vec![bulk("b"), Value::Double(2.0)]),
        ]);
        let want: BTreeMap<String, i64> = [("a".into(), 1), ("b".into(), 2)].into();
        assert_eq!(
            BTreeMap::<String, i64>::from_value(flat.clone()).unwrap(),
            want
        );
        assert_eq!(
            BTreeMap::<String, i64>::from_value(map.clone()).unwrap(),
            want
        );
        let want_v = vec![("a".to_string(), 1.0), ("b".to_string(), 2.0)];
        assert_eq!(Vec::<(String, f64)>::from_value(flat).unwrap(), want_v);
        assert_eq!(Vec::<(String, f64)>::from_value(pairs).unwrap(), want_v);
        assert_eq!(Vec::<(String, f64)>::from_value(map).unwrap(), want_v);
        assert!(Vec::<(String, i64)>::from_value(Value::Array(vec![bulk("a")])).is_err());
    }
}
