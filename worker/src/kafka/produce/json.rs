//! JSON bodies: `{"records": [...]}` (or a bare array of records) with keys,
//! values, base64 and headers, and `?format=json-array`'s array of messages,
//! walked one element at a time.

use base64::Engine as _;
use serde::Deserialize;
use serde_json::Value;

use super::records::{Headers, Outgoing, Shape, Sink};
use crate::ApiError;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonRecord {
    #[serde(default)]
    key: Option<Value>,
    #[serde(default)]
    value: Option<Value>,
    #[serde(default)]
    key_base64: Option<String>,
    #[serde(default)]
    value_base64: Option<String>,
    #[serde(default)]
    headers: Option<Value>,
    #[serde(default)]
    partition: Option<i32>,
}

const RECORDS_EXAMPLE: &str =
    r#"{"records": [{"key": "k1", "value": "text or any JSON", "headers": {"source": "web"}, "partition": 0}]}"#;

/// Which JSON body: `{"records": [...]}` (or a bare array of records), or
/// `?format=json-array`'s array of messages.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Json {
    Records,
    Array,
}

/// Where a walk over JSON is: what a value that is not a list means.
#[derive(Clone, Copy, PartialEq, Eq)]
enum At {
    /// The whole body.
    Top,
    /// The value of `"records"`.
    RecordsKey,
}

/// Walks a JSON body's elements one at a time (serde never builds the list).
pub(super) fn json_into(body: &[u8], which: Json, shape: &Shape, sink: &mut Sink<'_, '_>) -> Result<(), ApiError> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let walked = serde::de::DeserializeSeed::deserialize(Walk { sink: &mut *sink, which, at: At::Top, shape }, &mut de)
        .and_then(|()| de.end());
    if let Some(e) = sink.error.take() {
        return Err(e);
    }
    walked.map_err(|e| match which {
        Json::Records => ApiError::bad_request(format!(
            "the produce body is not valid JSON ({e}). Send {RECORDS_EXAMPLE}, or plain text with ?format=lines"
        )),
        Json::Array => {
            ApiError::bad_request(format!("the body is not valid JSON ({e}); ?format=json-array needs a JSON array"))
        }
    })
}

struct Walk<'w, 's, 'a> {
    sink: &'w mut Sink<'s, 'a>,
    which: Json,
    at: At,
    shape: &'w Shape,
}

impl Walk<'_, '_, '_> {
    /// A value where the list should be: the error, kept for the caller.
    fn not_a_list<E: serde::de::Error>(self, what: &str) -> E {
        self.sink.error = Some(ApiError::bad_request(match (self.which, self.at) {
            (Json::Array, _) => {
                format!("?format=json-array needs a JSON array (one message per element); the body is {what}")
            }
            (Json::Records, At::Top) => {
                format!("the produce body must hold a list of records, like {RECORDS_EXAMPLE}; found {what}")
            }
            (Json::Records, At::RecordsKey) => format!("\"records\" must be a list, like {RECORDS_EXAMPLE}"),
        }));
        E::custom("stopped")
    }
}

impl<'de> serde::de::DeserializeSeed<'de> for Walk<'_, '_, '_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Walk<'_, '_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a list")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(item) = seq.next_element::<Value>()? {
            let i = self.sink.count;
            let record = match self.which {
                Json::Records => record_of(i, item),
                Json::Array => Ok(Outgoing {
                    key: self.shape.key.as_ref().map(|k| k.as_bytes().to_vec()),
                    value: Some(item.to_string().into_bytes()),
                    headers: Vec::new(),
                    partition: self.shape.partition,
                }),
            };
            if let Err(e) = record.and_then(|r| self.sink.push(r)) {
                self.sink.error = Some(e);
                return Err(serde::de::Error::custom("stopped"));
            }
        }
        Ok(())
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        if self.which == Json::Array || self.at == At::RecordsKey {
            return Err(self.not_a_list("an object"));
        }
        let mut found = false;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if key == "records" && !found {
                found = true;
                map.next_value_seed(Walk {
                    sink: &mut *self.sink,
                    which: self.which,
                    at: At::RecordsKey,
                    shape: self.shape,
                })?;
            } else {
                map.next_value::<serde::de::IgnoredAny>()?;
            }
        }
        if !found {
            return Err(self.not_a_list("an object"));
        }
        Ok(())
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        Err(self.not_a_list("null"))
    }

    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<(), E> {
        Err(self.not_a_list("a boolean"))
    }

    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<(), E> {
        Err(self.not_a_list("a number"))
    }

    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<(), E> {
        Err(self.not_a_list("a number"))
    }

    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<(), E> {
        Err(self.not_a_list("a number"))
    }

    fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<(), E> {
        Err(self.not_a_list("a string"))
    }
}

/// One element of `{"records": [...]}`.
fn record_of(i: usize, item: Value) -> Result<Outgoing, ApiError> {
    let r: JsonRecord = serde_json::from_value(item)
        .map_err(|e| ApiError::bad_request(format!("record {i}: {e}; a record looks like {RECORDS_EXAMPLE}")))?;
    let bytes = |text: Option<Value>, b64: Option<String>, what: &str| -> Result<Option<Vec<u8>>, ApiError> {
        match (text, b64) {
            (Some(_), Some(_)) => {
                Err(ApiError::bad_request(format!("record {i}: give {what} or {what}_base64, not both")))
            }
            (_, Some(b)) => base64::engine::general_purpose::STANDARD
                .decode(b.as_bytes())
                .map(Some)
                .map_err(|e| ApiError::bad_request(format!("record {i}: {what}_base64 is not base64: {e}"))),
            (Some(Value::Null) | None, None) => Ok(None),
            (Some(Value::String(s)), None) => Ok(Some(s.into_bytes())),
            (Some(v), None) => Ok(Some(v.to_string().into_bytes())),
        }
    };
    Ok(Outgoing {
        key: bytes(r.key, r.key_base64, "key")?,
        value: bytes(r.value, r.value_base64, "value")?,
        headers: headers(r.headers).map_err(|e| ApiError::bad_request(format!("record {i}: {e}")))?,
        partition: r.partition,
    })
}

/// Headers as `{"name": "value"}` or `[["name", "value"], ...]`.
fn headers(value: Option<Value>) -> Result<Headers, String> {
    let text = |v: Value| match v {
        Value::Null => None,
        Value::String(s) => Some(s.into_bytes()),
        other => Some(other.to_string().into_bytes()),
    };
    match value {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Object(map)) => Ok(map.into_iter().map(|(k, v)| (k, text(v))).collect()),
        Some(Value::Array(items)) => items
            .into_iter()
            .map(|item| match item {
                Value::Array(mut pair) if pair.len() == 2 => {
                    let v = pair.pop().unwrap_or(Value::Null);
                    match pair.pop() {
                        Some(Value::String(k)) => Ok((k, text(v))),
                        _ => Err("a header name must be a string".to_string()),
                    }
                }
                _ => Err("headers must be {\"name\": \"value\"} or [[\"name\", \"value\"]]".to_string()),
            })
            .collect(),
        Some(other) => Err(format!("headers must be an object or a list of pairs, not {}", kind(&other))),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}
