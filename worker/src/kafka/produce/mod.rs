//! Produce: a batch of records as JSON or Arrow IPC, the lines of a text
//! body (`seq 42 | kafka-console-producer`), or the elements of a JSON array
//! (`jq -c '.[]' | kcat -P`). acks=all and idempotence are always on; the
//! answer gives each record's partition and offset, or its error.
//!
//! The request side is here (format, body size and the shared produce
//! budget); `check.rs` is the first pass over the body, `decode.rs` with
//! `json.rs` and `arrow.rs` (over `records.rs`) turns it into records, and
//! `sending.rs` sends them and writes the answer.

mod arrow;
mod check;
mod decode;
mod json;
mod records;
mod sending;

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use serde::Deserialize;
use tokio::sync::mpsc;

use check::Check;
pub(crate) use decode::decode;
pub(crate) use records::{Format, Outgoing, Shape};
pub(crate) use sending::send;
use sending::stream;

use crate::kafka::{Kafka, blocking};
use crate::{ApiError, AppState};

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

/// `POST /api/kafka/topics/{topic}/produce`. Memory stays a small multiple
/// of the body: the topic is looked up before the body is read; the body
/// (at most `produce_body_bytes`, within the shared `produce_bytes_in_flight`)
/// is read once; a first pass checks every record without keeping any
/// (so a bad record, a missing partition or too many records means nothing
/// is produced); a second pass decodes the records again a chunk at a time
/// and sends them with a bounded window of unacknowledged ones.
pub(crate) async fn produce(
    State(state): State<AppState>,
    Path(topic): Path<String>,
    Query(q): Query<ProduceQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let kafka = state.kafka.clone();
    let format = format_of(&q, &headers)?;
    let limits = kafka.limits().clone();
    let declared =
        headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if let Some(n) = declared
        && n > limits.produce_body_bytes as u64
    {
        return Err(too_large_body(n.to_string(), limits.produce_body_bytes));
    }
    let partitions = kafka.partitions(&topic).await?;
    let mut permit = match kafka.produce_budget(declared.unwrap_or(0) as usize) {
        Ok(p) => p,
        Err(busy) => return Ok(busy.into_response()),
    };
    let body = match read_body(&kafka, body, declared, &mut permit).await {
        Ok(b) => b,
        Err(Refused::Api(e)) => return Err(e),
        Err(Refused::Busy(busy)) => return Ok(busy.into_response()),
    };
    let shape = Shape { format, key: q.key.clone(), partition: q.partition };
    let check = Check {
        topic: topic.clone(),
        partitions,
        max_message: kafka.config.max_message_bytes(),
        max_records: limits.produce_records,
    };
    // First pass: everything is checked before anything is sent.
    let (b, sh) = (body.clone(), shape.clone());
    let count = blocking(move || check.run(&b, &sh)).await??;
    // Second pass: decoded again in chunks, sent as they come.
    let (tx, rx) = mpsc::channel::<Vec<Outgoing>>(2);
    let decoder = tokio::task::spawn_blocking(move || {
        decode(&body, &shape, &mut |_, chunk| {
            tx.blocking_send(chunk).map_err(|_| ApiError::bad_request("the request was cancelled"))
        })
    });
    let outcome = stream(&kafka, &topic, rx, count).await;
    drop(permit);
    let _ = decoder.await;
    let outcome = outcome?;
    Ok(outcome.respond(q.results.as_deref().unwrap_or("all")))
}

fn too_large_body(size: String, limit: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!(
            "the produce body is {size} bytes, more than one request may hold here ({}); nothing was produced. \
             Send it in several requests",
            crate::kafka::human_bytes(limit)
        ),
    )
}

enum Refused {
    Api(ApiError),
    Busy(crate::kafka::Busy),
}

/// The whole body, within the size limit and the produce budget (which
/// grows with a body that declared less than it sends).
async fn read_body(
    kafka: &Kafka,
    body: Body,
    declared: Option<u64>,
    permit: &mut tokio::sync::OwnedSemaphorePermit,
) -> Result<Bytes, Refused> {
    let limit = kafka.limits().produce_body_bytes;
    let mut stream = body.into_data_stream();
    let mut first: Option<Bytes> = None;
    let mut rest: Option<bytes::BytesMut> = None;
    let mut total = 0usize;
    let mut reserved = declared.unwrap_or(0) as usize;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            Refused::Api(ApiError::bad_request(format!("the produce body broke off after {total} bytes: {e}")))
        })?;
        total += chunk.len();
        if total > limit {
            return Err(Refused::Api(too_large_body(format!("more than {total}"), limit)));
        }
        if total > reserved {
            let more = (total - reserved).max(1024 * 1024);
            permit.merge(kafka.produce_budget(more).map_err(Refused::Busy)?);
            reserved += more;
        }
        // One chunk (what a client that sends its body at once gives) is
        // kept as it is; more are gathered into one buffer.
        match (&mut first, &mut rest) {
            (None, None) => first = Some(chunk),
            (Some(f), None) => {
                let mut buf = bytes::BytesMut::with_capacity(
                    declared.map_or(f.len() + chunk.len(), |n| n as usize).max(f.len() + chunk.len()),
                );
                buf.extend_from_slice(f);
                buf.extend_from_slice(&chunk);
                first = None;
                rest = Some(buf);
            }
            (_, Some(buf)) => buf.extend_from_slice(&chunk),
        }
    }
    Ok(match (first, rest) {
        (_, Some(buf)) => buf.freeze(),
        (Some(f), None) => f,
        (None, None) => Bytes::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(body: &[u8], format: Format, key: Option<&str>, partition: Option<i32>) -> Result<Vec<Outgoing>, ApiError> {
        let shape = Shape { format, key: key.map(str::to_string), partition };
        let mut out = Vec::new();
        decode(body, &shape, &mut |first, chunk| {
            assert_eq!(first, out.len());
            out.extend(chunk);
            Ok(())
        })?;
        Ok(out)
    }

    fn parse_records(body: &[u8]) -> Result<Vec<Outgoing>, ApiError> {
        all(body, Format::Records, None, None)
    }

    fn lines(body: &[u8], key: Option<&str>, partition: Option<i32>) -> Vec<Outgoing> {
        all(body, Format::Lines, key, partition).unwrap()
    }

    fn json_array(body: &[u8], key: Option<&str>, partition: Option<i32>) -> Result<Vec<Outgoing>, ApiError> {
        all(body, Format::JsonArray, key, partition)
    }

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
