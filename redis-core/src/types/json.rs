//! `Json<T>`: store a serde value as a JSON string and read it back (feature `json`).
//!
//! Every cache user ends up writing this wrapper; here it is once, for both clients:
//! `con.set("user:1", Json(&user))?` writes one argument holding the JSON text, and
//! `let Json(user): Json<User> = con.get("user:1")?` reads it back. A missing key is
//! `Option<Json<T>>`.

use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::types::{ArgSink, FromValue, ToArgs};
use crate::value::Value;

/// A value that travels as JSON text: an argument (serialized with `serde_json`) and a
/// reply (a string reply deserialized into `T`).
///
/// ```
/// use redis_core::{FromValue, ToArgs, Value};
/// use redis_core::types::Json;
///
/// let arg = Json(vec![1, 2, 3]).to_arg_vec();
/// assert_eq!(arg, [b"[1,2,3]".to_vec()]);
/// let Json(back) = Json::<Vec<u8>>::from_value(Value::BulkString("[1,2,3]".into()))?;
/// assert_eq!(back, [1, 2, 3]);
/// # Ok::<(), redis_core::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Json<T>(pub T);

impl<T> Json<T> {
    /// The wrapped value.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T: Serialize> Json<T> {
    /// The JSON text as bytes, or the serializer's error as [`Error::Conversion`]. Use it
    /// (and pass the bytes as the argument) for a type whose serialization can fail.
    pub fn to_vec(&self) -> Result<Vec<u8>> {
        serde_json::to_vec(&self.0).map_err(|e| {
            Error::conversion(
                format!("JSON for {}", std::any::type_name::<T>()),
                format!("a value serde_json refused ({})", category(&e)),
            )
        })
    }
}

impl<T: Serialize> ToArgs for Json<T> {
    /// Writes one argument: the JSON text.
    ///
    /// # Panics
    ///
    /// If `T`'s `Serialize` fails, as `ToString` panics on a failing `Display`: arguments
    /// cannot fail. That happens only for types serde_json cannot write (a map whose keys
    /// are not strings or numbers, a `Serialize` impl that returns an error); for those,
    /// use [`Json::to_vec`], which returns the error.
    fn write_args(&self, out: &mut dyn ArgSink) {
        match self.to_vec() {
            Ok(bytes) => out.push_arg(&bytes),
            Err(e) => panic!("Json<T> argument: {e}"),
        }
    }
}

impl<T: DeserializeOwned> FromValue for Json<T> {
    /// Reads a string reply (bulk, simple or verbatim; an integer reply as its digits) as
    /// JSON. Bad JSON, or JSON of another shape, is [`Error::Conversion`]; its message
    /// gives the position, never the reply's text. `Nil` is an error: use
    /// `Option<Json<T>>` for keys that may be missing.
    fn from_value(v: Value) -> Result<Self> {
        let expected = || format!("JSON for {}", std::any::type_name::<T>());
        let bytes = Bytes::from_value(v).map_err(|e| match e {
            Error::Conversion { got, .. } => Error::conversion(expected(), got),
            other => other,
        })?;
        serde_json::from_slice(&bytes).map(Json).map_err(|e| {
            Error::conversion(
                expected(),
                format!(
                    "{} at line {}, column {}",
                    category(&e),
                    e.line(),
                    e.column()
                ),
            )
        })
    }
}

/// What kind of JSON error, without serde_json's message (which quotes the data).
fn category(e: &serde_json::Error) -> &'static str {
    use serde_json::error::Category;
    match e.classify() {
        Category::Io => "an I/O error",
        Category::Syntax => "invalid JSON",
        Category::Data => "JSON of another shape",
        Category::Eof => "truncated JSON",
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashMap};

    use super::*;

    #[test]
    fn round_trips_through_a_bulk_string() {
        let mut m = BTreeMap::new();
        m.insert("name".to_string(), vec![1.5, -2.0]);
        let args = Json(&m).to_arg_vec();
        assert_eq!(args, [br#"{"name":[1.5,-2.0]}"#.to_vec()]);
        let Json(back): Json<BTreeMap<String, Vec<f64>>> =
            FromValue::from_value(Value::BulkString(args[0].clone().into())).unwrap();
        assert_eq!(back, m);
        let n: Json<i64> = FromValue::from_value(Value::Int(7)).unwrap();
        assert_eq!(n.into_inner(), 7);
        let s: Json<String> = FromValue::from_value(Value::SimpleString("\"hi\"".into())).unwrap();
        assert_eq!(s.0, "hi");
        let none: Option<Json<i64>> = FromValue::from_value(Value::Nil).unwrap();
        assert_eq!(none, None);
    }

    #[test]
    fn bad_json_is_a_conversion_error_without_the_data() {
        for (reply, kind) in [
            ("{\"secret-data\": ", "truncated JSON"),
            ("secret-data", "invalid JSON"),
            ("{\"secret-data\": \"x\"}", "JSON of another shape"),
        ] {
            let e = Json::<BTreeMap<String, i64>>::from_value(Value::BulkString(reply.into()))
                .unwrap_err();
            let Error::Conversion {
                ref expected,
                ref got,
            } = e
            else {
                panic!("{e:?}");
            };
            assert!(expected.contains("JSON"), "{expected}");
            assert!(got.contains(kind), "{got}");
            assert!(!e.to_string().contains("secret-data"), "{e}");
        }
        let e = Json::<i64>::from_value(Value::Array(vec![])).unwrap_err();
        assert!(matches!(e, Error::Conversion { .. }), "{e:?}");
        assert!(Json::<i64>::from_value(Value::Nil).is_err());
    }

    #[test]
    fn unserializable_value_is_an_error_from_to_vec() {
        let mut m = HashMap::new();
        m.insert((1, 2), "tuple keys are not JSON");
        let e = Json(&m).to_vec().unwrap_err();
        assert!(matches!(e, Error::Conversion { .. }), "{e:?}");
    }
}
