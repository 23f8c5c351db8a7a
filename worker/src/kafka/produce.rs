//! Produce: a batch of records as JSON or Arrow IPC, the lines of a text
//! body (`seq 42 | kafka-console-producer`), or the elements of a JSON array
//! (`jq -c '.[]' | kcat -P`). acks=all and idempotence are always on; the
//! answer gives each record's partition and offset, or its error.

use std::sync::Arc;
use std::time::Duration;

use arrow_array::cast::AsArray;
use arrow_array::{Array, RecordBatch};
use arrow_schema::DataType;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::FutureRecord;
use serde::Deserialize;
use serde_json::{Value, json};

use super::Kafka;
use crate::{ApiError, AppState};

/// One record to send.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Outgoing {
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
    pub headers: Vec<(String, Option<Vec<u8>>)>,
    pub partition: Option<i32>,
}

impl Outgoing {
    fn size(&self) -> usize {
        self.key.as_ref().map_or(0, Vec::len)
            + self.value.as_ref().map_or(0, Vec::len)
            + self.headers.iter().map(|(k, v)| k.len() + v.as_ref().map_or(0, Vec::len)).sum::<usize>()
    }
}

#[derive(Deserialize, Default)]
pub(crate) struct ProduceQuery {
    /// records (JSON), lines, json-array or arrow; by default from Content-Type.
    format: Option<String>,
    /// For lines and json-array: the key of every message.
    key: Option<String>,
    /// For lines and json-array: the partition of every message.
    partition: Option<i32>,
    /// all (default), errors (only failed records), or none.
    results: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Records,
    Lines,
    JsonArray,
    Arrow,
}

fn format_of(q: &ProduceQuery, headers: &HeaderMap) -> Result<Format, ApiError> {
    if let Some(f) = q.format.as_deref() {
        return match f {
            "records" | "json" => Ok(Format::Records),
            "lines" | "text" => Ok(Format::Lines),
            "json-array" | "array" => Ok(Format::JsonArray),
            "arrow" | "ipc" => Ok(Format::Arrow),
            other => Err(ApiError::bad_request(format!(
                "format={other} is not known: use records, lines, json-array or arrow"
            ))),
        };
    }
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    Ok(if content_type.starts_with("text/plain") {
        Format::Lines
    } else if content_type.contains("arrow") {
        Format::Arrow
    } else {
        Format::Records
    })
}

pub(crate) async fn produce(
    State(state): State<AppState>,
    Path(topic): Path<String>,
    Query(q): Query<ProduceQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let format = format_of(&q, &headers)?;
    let records = match format {
        Format::Records => parse_records(&body)?,
        Format::Lines => lines(&body, q.key.as_deref(), q.partition),
        Format::JsonArray => json_array(&body, q.key.as_deref(), q.partition)?,
        Format::Arrow => arrow_records(&body)?,
    };
    let report = send(&state.kafka, &topic, records).await?;
    Ok(report.respond(q.results.as_deref().unwrap_or("all")))
}

/// What happened to each record of a batch.
pub(crate) struct Report {
    pub topic: String,
    pub results: Vec<Result<(i32, i64), String>>,
}

impl Report {
    pub(crate) fn failed(&self) -> usize {
        self.results.iter().filter(|r| r.is_err()).count()
    }

    fn respond(&self, detail: &str) -> Response {
        let failed = self.failed();
        let produced = self.results.len() - failed;
        let item = |i: usize, r: &Result<(i32, i64), String>| match r {
            Ok((p, o)) => json!({ "partition": p, "offset": o }),
            Err(e) => json!({ "index": i, "error": e }),
        };
        let results: Vec<Value> = match detail {
            "none" => Vec::new(),
            "errors" => self.results.iter().enumerate().filter(|(_, r)| r.is_err()).map(|(i, r)| item(i, r)).collect(),
            _ => self.results.iter().enumerate().map(|(i, r)| item(i, r)).collect(),
        };
        let status = if failed == 0 {
            StatusCode::OK
        } else if produced > 0 {
            StatusCode::MULTI_STATUS
        } else {
            StatusCode::BAD_GATEWAY
        };
        let mut body = json!({ "topic": self.topic, "produced": produced, "failed": failed, "results": results });
        if let Some(Err(first)) = self.results.iter().find(|r| r.is_err()) {
            body["error"] =
                format!("{failed} of {} record(s) were not produced; the first: {first}", self.results.len()).into();
        }
        (status, Json(body)).into_response()
    }
}

/// Checks a batch, sends it, and waits for every acknowledgement.
pub(crate) async fn send(kafka: &Arc<Kafka>, topic: &str, records: Vec<Outgoing>) -> Result<Report, ApiError> {
    if records.is_empty() {
        return Err(ApiError::bad_request("there is nothing to produce: the body holds no records"));
    }
    // Before anything is sent: the topic exists, partitions are real, sizes fit.
    let partitions = kafka.partitions(topic).await?;
    let limit = kafka.config.max_message_bytes();
    for (i, r) in records.iter().enumerate() {
        if let Some(p) = r.partition {
            if !partitions.contains(&p) {
                return Err(ApiError::bad_request(format!(
                    "record {i} asks for partition {p}, but topic '{topic}' has partitions 0 to {}",
                    partitions.len() as i32 - 1
                )));
            }
        }
        let size = r.size();
        if size > limit {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "record {i} is {size} bytes, more than Kafka accepts here (message.max.bytes = {limit}); nothing was produced. \
                     Split it, or raise RIFFLE_KAFKA_MESSAGE_MAX_BYTES and the topic's max.message.bytes together"
                ),
            ));
        }
    }
    let producer = kafka.producer()?;
    let mut pending = Vec::with_capacity(records.len());
    for r in &records {
        let mut headers = OwnedHeaders::new_with_capacity(r.headers.len());
        for (k, v) in &r.headers {
            headers = headers.insert(Header { key: k.as_str(), value: v.as_deref() });
        }
        let mut record: FutureRecord<'_, [u8], [u8]> = FutureRecord::to(topic).headers(headers);
        if let Some(k) = &r.key {
            record = record.key(k.as_slice());
        }
        if let Some(v) = &r.value {
            record = record.payload(v.as_slice());
        }
        if let Some(p) = r.partition {
            record = record.partition(p);
        }
        loop {
            match producer.send_result(record) {
                Ok(delivery) => {
                    pending.push(Ok(delivery));
                    break;
                }
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                    // The local queue is full: wait for acknowledgements to drain it.
                    record = back;
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                Err((e, _)) => {
                    pending.push(Err(explain(&e)));
                    break;
                }
            }
        }
    }
    let mut results = Vec::with_capacity(pending.len());
    for p in pending {
        results.push(match p {
            Ok(delivery) => match delivery.await {
                Ok(Ok(d)) => Ok((d.partition, d.offset)),
                Ok(Err((e, _))) => Err(explain(&e)),
                Err(_) => Err("the producer shut down before the broker answered".to_string()),
            },
            Err(e) => Err(e),
        });
    }
    Ok(Report { topic: topic.to_string(), results })
}

/// One record's error, for people.
fn explain(e: &KafkaError) -> String {
    match e.rdkafka_error_code() {
        Some(RDKafkaErrorCode::MessageTimedOut) => {
            "the broker did not acknowledge it within message.timeout.ms (60 s); it may be down. Retry when it is back"
                .into()
        }
        Some(RDKafkaErrorCode::MessageSizeTooLarge) => {
            "the broker refused it as too large: raise the topic's max.message.bytes, or send smaller messages".into()
        }
        _ => e.to_string(),
    }
}

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

/// `{"records": [...]}` or a bare array of records.
pub(crate) fn parse_records(body: &[u8]) -> Result<Vec<Outgoing>, ApiError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_request(format!(
            "the produce body is not valid JSON ({e}). Send {RECORDS_EXAMPLE}, or plain text with ?format=lines"
        ))
    })?;
    let list = match value {
        Value::Object(mut o) if o.contains_key("records") => o.remove("records").unwrap_or(Value::Null),
        v @ Value::Array(_) => v,
        other => {
            return Err(ApiError::bad_request(format!(
                "the produce body must hold a list of records, like {RECORDS_EXAMPLE}; found {}",
                kind(&other)
            )));
        }
    };
    let Value::Array(items) = list else {
        return Err(ApiError::bad_request(format!("\"records\" must be a list, like {RECORDS_EXAMPLE}")));
    };
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            let r: JsonRecord = serde_json::from_value(item).map_err(|e| {
                ApiError::bad_request(format!("record {i}: {e}; a record looks like {RECORDS_EXAMPLE}"))
            })?;
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
        })
        .collect()
}

/// Headers as `{"name": "value"}` or `[["name", "value"], ...]`.
fn headers(value: Option<Value>) -> Result<Vec<(String, Option<Vec<u8>>)>, String> {
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

/// One message per line; a final newline does not make an empty message.
pub(crate) fn lines(body: &[u8], key: Option<&str>, partition: Option<i32>) -> Vec<Outgoing> {
    let body = body.strip_suffix(b"\n").unwrap_or(body);
    if body.is_empty() {
        return Vec::new();
    }
    body.split(|&b| b == b'\n')
        .map(|line| Outgoing {
            key: key.map(|k| k.as_bytes().to_vec()),
            value: Some(line.strip_suffix(b"\r").unwrap_or(line).to_vec()),
            headers: Vec::new(),
            partition,
        })
        .collect()
}

/// One compact JSON message per element of a JSON array.
pub(crate) fn json_array(body: &[u8], key: Option<&str>, partition: Option<i32>) -> Result<Vec<Outgoing>, ApiError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_request(format!("the body is not valid JSON ({e}); ?format=json-array needs a JSON array"))
    })?;
    let Value::Array(items) = value else {
        return Err(ApiError::bad_request(format!(
            "?format=json-array needs a JSON array (one message per element); the body is {}",
            kind(&value)
        )));
    };
    Ok(items
        .into_iter()
        .map(|item| Outgoing {
            key: key.map(|k| k.as_bytes().to_vec()),
            value: Some(item.to_string().into_bytes()),
            headers: Vec::new(),
            partition,
        })
        .collect())
}

/// An Arrow IPC stream with a `value` column and optional `key` and
/// `partition` columns (what `INSERT INTO kafka(...)` sends).
pub(crate) fn arrow_records(body: &[u8]) -> Result<Vec<Outgoing>, ApiError> {
    let bad = |why: String| ApiError::bad_request(format!("the body is not a usable Arrow IPC stream: {why}"));
    let reader =
        arrow_ipc::reader::StreamReader::try_new(std::io::Cursor::new(body), None).map_err(|e| bad(e.to_string()))?;
    let mut out = Vec::new();
    for batch in reader {
        let batch = batch.map_err(|e| bad(e.to_string()))?;
        append_batch(&batch, &mut out).map_err(bad)?;
    }
    Ok(out)
}

fn append_batch(batch: &RecordBatch, out: &mut Vec<Outgoing>) -> Result<(), String> {
    let value = batch.column_by_name("value").ok_or("it has no column named value")?;
    let key = batch.column_by_name("key");
    let partition = batch.column_by_name("partition");
    for i in 0..batch.num_rows() {
        out.push(Outgoing {
            key: key.map(|k| bytes_at(k, i)).transpose()?.flatten(),
            value: bytes_at(value, i)?,
            headers: Vec::new(),
            partition: partition.map(|p| int_at(p, i)).transpose()?.flatten(),
        });
    }
    Ok(())
}

fn bytes_at(array: &dyn Array, i: usize) -> Result<Option<Vec<u8>>, String> {
    if array.is_null(i) {
        return Ok(None);
    }
    Ok(Some(match array.data_type() {
        DataType::Binary => array.as_binary::<i32>().value(i).to_vec(),
        DataType::LargeBinary => array.as_binary::<i64>().value(i).to_vec(),
        DataType::BinaryView => array.as_binary_view().value(i).to_vec(),
        DataType::Utf8 => array.as_string::<i32>().value(i).as_bytes().to_vec(),
        DataType::LargeUtf8 => array.as_string::<i64>().value(i).as_bytes().to_vec(),
        DataType::Utf8View => array.as_string_view().value(i).as_bytes().to_vec(),
        other => return Err(format!("key and value must be text or binary, not {other}")),
    }))
}

fn int_at(array: &dyn Array, i: usize) -> Result<Option<i32>, String> {
    if array.is_null(i) {
        return Ok(None);
    }
    use arrow_array::types::{Int32Type, Int64Type};
    match array.data_type() {
        DataType::Int32 => Ok(Some(array.as_primitive::<Int32Type>().value(i))),
        DataType::Int64 => i32::try_from(array.as_primitive::<Int64Type>().value(i))
            .map(Some)
            .map_err(|_| "a partition number is out of range".to_string()),
        other => Err(format!("partition must be an integer, not {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_in_json() {
        let body = br#"{"records": [{"key": "k", "value": {"a": 1}, "headers": {"h": "v"}, "partition": 2},
                         {"value_base64": "AAE="}, {"value": null}]}"#;
        let r = parse_records(body).unwrap();
        assert_eq!(r[0].key.as_deref(), Some(&b"k"[..]));
        assert_eq!(r[0].value.as_deref(), Some(&br#"{"a":1}"#[..]));
        assert_eq!(r[0].headers, vec![("h".to_string(), Some(b"v".to_vec()))]);
        assert_eq!(r[0].partition, Some(2));
        assert_eq!(r[1].value.as_deref(), Some(&[0u8, 1][..]));
        assert_eq!(r[2].value, None);
    }

    #[test]
    fn malformed_bodies_say_what_to_send() {
        let e = parse_records(b"{\"records\": [").unwrap_err();
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        assert!(e.message.contains("line 1"), "{}", e.message);
        assert!(e.message.contains("format=lines"));
        let e = parse_records(br#"{"records": [{"valeu": "x"}]}"#).unwrap_err();
        assert!(e.message.contains("record 0") && e.message.contains("valeu"), "{}", e.message);
        let e = json_array(br#"{"a": 1}"#, None, None).unwrap_err();
        assert!(e.message.contains("an object"), "{}", e.message);
    }

    #[test]
    fn lines_and_arrays() {
        let l = lines(b"1\n2\r\n3\n", None, None);
        assert_eq!(l.len(), 3);
        assert_eq!(l[1].value.as_deref(), Some(&b"2"[..]));
        let a = json_array(br#"[{"b": [1, 2]}, "x", 3]"#, Some("k"), None).unwrap();
        assert_eq!(a[0].value.as_deref(), Some(&br#"{"b":[1,2]}"#[..]));
        assert_eq!(a[1].value.as_deref(), Some(&br#""x""#[..]));
        assert_eq!(a[2].key.as_deref(), Some(&b"k"[..]));
    }
}
