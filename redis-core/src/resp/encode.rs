//! Encoding any [`Value`] as RESP3 (RESP2 for the types RESP2 has).
//!
//! Clients only send commands (arrays of bulk strings, see [`crate::Cmd`]); this full
//! encoder exists for the other direction: scripted fake servers in tests, round-trip
//! property tests of the decoder, and proxies.

use crate::value::Value;

/// Appends the RESP encoding of `v` to `out`.
pub fn encode_value(v: &Value, out: &mut Vec<u8>) {
    let mut n = itoa::Buffer::new();
    match v {
        Value::Nil => out.extend_from_slice(b"_\r\n"),
        Value::Okay => out.extend_from_slice(b"+OK\r\n"),
        Value::Int(i) => line(out, b':', n.format(*i).as_bytes()),
        Value::BulkString(b) => bulk(out, b'$', b),
        Value::SimpleString(s) => line(out, b'+', s.as_bytes()),
        Value::Array(items) => seq(out, b'*', items),
        Value::Set(items) => seq(out, b'~', items),
        Value::Push(items) => seq(out, b'>', items),
        Value::Map(pairs) => map(out, b'%', pairs),
        Value::Boolean(b) => out.extend_from_slice(if *b { b"#t\r\n" } else { b"#f\r\n" }),
        Value::Double(d) => {
            let text = if d.is_nan() {
                "nan".to_string()
            } else if d.is_infinite() {
                if *d > 0.0 { "inf" } else { "-inf" }.to_string()
            } else {
                ryu::Buffer::new().format_finite(*d).to_string()
            };
            line(out, b',', text.as_bytes());
        }
        Value::BigNumber(s) => line(out, b'(', s.as_bytes()),
        Value::VerbatimString { format, text } => {
            let mut body = Vec::with_capacity(format.len() + 1 + text.len());
            body.extend_from_slice(format);
            body.push(b':');
            body.extend_from_slice(text);
            bulk(out, b'=', &body);
        }
        Value::Attribute { data, attributes } => {
            map(out, b'|', attributes);
            encode_value(data, out);
        }
        Value::ServerError(e) => {
            let text = if e.message().is_empty() {
                e.code().to_string()
            } else {
                format!("{} {}", e.code(), e.message())
            };
            line(out, b'-', text.as_bytes());
        }
    }
}

fn line(out: &mut Vec<u8>, tag: u8, body: &[u8]) {
    out.push(tag);
    out.extend_from_slice(body);
    out.extend_from_slice(b"\r\n");
}

fn bulk(out: &mut Vec<u8>, tag: u8, body: &[u8]) {
    line(out, tag, itoa::Buffer::new().format(body.len()).as_bytes());
    out.extend_from_slice(body);
    out.extend_from_slice(b"\r\n");
}

fn seq(out: &mut Vec<u8>, tag: u8, items: &[Value]) {
    line(out, tag, itoa::Buffer::new().format(items.len()).as_bytes());
    for i in items {
        encode_value(i, out);
    }
}

fn map(out: &mut Vec<u8>, tag: u8, pairs: &[(Value, Value)]) {
    line(out, tag, itoa::Buffer::new().format(pairs.len()).as_bytes());
    for (k, v) in pairs {
        encode_value(k, out);
        encode_value(v, out);
    }
}
