//! Produce: a batch of records as JSON or Arrow IPC, the lines of a text
//! body (`seq 42 | kafka-console-producer`), or the elements of a JSON array
//! (`jq -c '.[]' | kcat -P`). acks=all and idempotence are always on; the
//! answer gives each record's partition and offset, or its error.

use std::sync::Arc;
use std::time::Duration;

use arrow_array::cast::AsArray;
use arrow_array::{Array, RecordBatch};
use arrow_schema::DataType;
use std::collections::VecDeque;

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use futures::StreamExt;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{DeliveryFuture, FutureRecord};
use serde::Deserialize;
use serde_json::Value;
use tokio::sync::mpsc;

use super::{Kafka, blocking};
use crate::{ApiError, AppState};

/// A record's headers: name and value (none for a null value).
pub(crate) type Headers = Vec<(String, Option<Vec<u8>>)>;

/// One record to send.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Outgoing {
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
    pub headers: Headers,
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
pub(crate) enum Format {
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

/// Records decoded and handed to the sender at a time, and a byte budget
/// that closes a chunk early.
const CHUNK_RECORDS: usize = 1_000;
const CHUNK_BYTES: usize = 1024 * 1024;
/// Records sent and not yet acknowledged, at most, and their bytes: librdkafka
/// copies each payload, so this bounds its share of a request's memory.
const WINDOW_RECORDS: usize = 20_000;
const WINDOW_BYTES: usize = 4 * 1024 * 1024;

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
            super::human_bytes(limit)
        ),
    )
}

enum Refused {
    Api(ApiError),
    Busy(super::Busy),
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

/// How the body's bytes become records.
#[derive(Debug, Clone)]
pub(crate) struct Shape {
    pub(crate) format: Format,
    pub(crate) key: Option<String>,
    pub(crate) partition: Option<i32>,
}

/// The first pass's rules.
struct Check {
    topic: String,
    partitions: Vec<i32>,
    max_message: usize,
    max_records: usize,
}

impl Check {
    /// Every record decoded and checked, none kept. The count, when all is well.
    fn run(&self, body: &[u8], shape: &Shape) -> Result<usize, ApiError> {
        // Lines are counted before any is decoded: a body of newlines is many records.
        if shape.format == Format::Lines {
            let trimmed = body.strip_suffix(b"\n").unwrap_or(body);
            let lines = if trimmed.is_empty() { 0 } else { trimmed.iter().filter(|&&b| b == b'\n').count() + 1 };
            if lines > self.max_records {
                return Err(self.too_many(&lines.to_string()));
            }
        }
        let count = decode(body, shape, &mut |first, chunk| {
            if first + chunk.len() > self.max_records {
                return Err(self.too_many(&format!("more than {}", self.max_records)));
            }
            for (j, r) in chunk.iter().enumerate() {
                self.record(first + j, r)?;
            }
            Ok(())
        })?;
        if count == 0 {
            return Err(ApiError::bad_request("there is nothing to produce: the body holds no records"));
        }
        Ok(count)
    }

    fn too_many(&self, count: &str) -> ApiError {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "the body holds {count} records; one produce request takes at most {} here, so nothing was produced. \
                 Send them in several requests of at most {} records",
                self.max_records, self.max_records
            ),
        )
    }

    fn record(&self, i: usize, r: &Outgoing) -> Result<(), ApiError> {
        check_record(&self.topic, &self.partitions, self.max_message, i, r)
    }
}

/// A record's partition is one the topic has, and its size fits.
fn check_record(topic: &str, partitions: &[i32], limit: usize, i: usize, r: &Outgoing) -> Result<(), ApiError> {
    if let Some(p) = r.partition
        && !partitions.contains(&p)
    {
        return Err(ApiError::bad_request(format!(
            "record {i} asks for partition {p}, but topic '{topic}' has partitions 0 to {}",
            partitions.len() as i32 - 1
        )));
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
    Ok(())
}

/// A chunk's handler: the index of its first record and the records.
pub(crate) type EachChunk<'a> = dyn FnMut(usize, Vec<Outgoing>) -> Result<(), ApiError> + 'a;

/// Decodes a body's records in order and hands them on a chunk at a time.
/// Returns how many there were.
pub(crate) fn decode(body: &[u8], shape: &Shape, each: &mut EachChunk<'_>) -> Result<usize, ApiError> {
    let mut sink = Sink { each, chunk: Vec::new(), bytes: 0, count: 0, error: None };
    match shape.format {
        Format::Lines => lines_into(body, shape, &mut sink)?,
        Format::Records => json_into(body, Json::Records, shape, &mut sink)?,
        Format::JsonArray => json_into(body, Json::Array, shape, &mut sink)?,
        Format::Arrow => arrow_into(body, &mut sink)?,
    }
    sink.flush()?;
    Ok(sink.count)
}

/// Gathers records into chunks.
struct Sink<'s, 'a> {
    each: &'s mut EachChunk<'a>,
    chunk: Vec<Outgoing>,
    bytes: usize,
    count: usize,
    /// What stopped a JSON walk, kept apart from serde's own errors.
    error: Option<ApiError>,
}

impl Sink<'_, '_> {
    fn push(&mut self, r: Outgoing) -> Result<(), ApiError> {
        self.bytes += r.size() + 64;
        self.count += 1;
        self.chunk.push(r);
        if self.chunk.len() >= CHUNK_RECORDS || self.bytes >= CHUNK_BYTES {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), ApiError> {
        if self.chunk.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::take(&mut self.chunk);
        self.bytes = 0;
        (self.each)(self.count - chunk.len(), chunk)
    }
}

/// Sends the records as they come and waits for every acknowledgement,
/// keeping at most a window of them unacknowledged.
async fn stream(
    kafka: &Arc<Kafka>,
    topic: &str,
    mut chunks: mpsc::Receiver<Vec<Outgoing>>,
    expected: usize,
) -> Result<Outcome, ApiError> {
    let producer = kafka.producer()?;
    let mut outcome = Outcome::new(topic, expected);
    let mut window: VecDeque<(Result<DeliveryFuture, String>, usize)> = VecDeque::new();
    let mut window_bytes = 0usize;
    while let Some(chunk) = chunks.recv().await {
        for r in &chunk {
            let size = r.size();
            let mut record = future_record(topic, r);
            let sent = loop {
                match producer.send_result(record) {
                    Ok(delivery) => break Ok(delivery),
                    Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                        // The local queue is full: wait for acknowledgements to drain it.
                        record = back;
                        match window.pop_front() {
                            Some((oldest, bytes)) => {
                                window_bytes -= bytes;
                                outcome.push(settle(oldest).await);
                            }
                            None => tokio::time::sleep(Duration::from_millis(5)).await,
                        }
                    }
                    Err((e, _)) => break Err(explain(&e)),
                }
            };
            window.push_back((sent, size));
            window_bytes += size;
            while window.len() > WINDOW_RECORDS || window_bytes > WINDOW_BYTES {
                let Some((oldest, bytes)) = window.pop_front() else { break };
                window_bytes -= bytes;
                outcome.push(settle(oldest).await);
            }
        }
    }
    while let Some((oldest, _)) = window.pop_front() {
        outcome.push(settle(oldest).await);
    }
    Ok(outcome)
}

fn future_record<'a>(topic: &'a str, r: &'a Outgoing) -> FutureRecord<'a, [u8], [u8]> {
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
    record
}

async fn settle(sent: Result<DeliveryFuture, String>) -> Result<(i32, i64), String> {
    match sent {
        Ok(delivery) => match delivery.await {
            Ok(Ok(d)) => Ok((d.partition, d.offset)),
            Ok(Err((e, _))) => Err(explain(&e)),
            Err(_) => Err("the producer shut down before the broker answered".to_string()),
        },
        Err(e) => Err(e),
    }
}

/// What happened to each record of a produce request, 16 bytes a record:
/// a partition and offset, or (partition -1) the index of its error message.
pub(crate) struct Outcome {
    topic: String,
    results: Vec<(i32, i64)>,
    messages: Vec<String>,
    failed: usize,
}

impl Outcome {
    fn new(topic: &str, expected: usize) -> Outcome {
        Outcome { topic: topic.to_string(), results: Vec::with_capacity(expected), messages: Vec::new(), failed: 0 }
    }

    fn push(&mut self, r: Result<(i32, i64), String>) {
        match r {
            Ok(at) => self.results.push(at),
            Err(e) => {
                self.failed += 1;
                let i = match self.messages.iter().position(|m| *m == e) {
                    Some(i) => i,
                    None if self.messages.len() < 100 => {
                        self.messages.push(e);
                        self.messages.len() - 1
                    }
                    None => 0,
                };
                self.results.push((-1, i as i64));
            }
        }
    }

    /// The answer: `{"topic", "produced", "failed", "error"?, "results"}`,
    /// its `results` written as the body is sent, not held as JSON.
    fn respond(self, detail: &str) -> Response {
        let failed = self.failed;
        let produced = self.results.len() - failed;
        let status = if failed == 0 {
            StatusCode::OK
        } else if produced > 0 {
            StatusCode::MULTI_STATUS
        } else {
            StatusCode::BAD_GATEWAY
        };
        let mut head =
            format!("{{\"topic\":{},\"produced\":{produced},\"failed\":{failed}", Value::String(self.topic.clone()));
        if let Some(first) = self.results.iter().find(|r| r.0 < 0) {
            let message = format!(
                "{failed} of {} record(s) were not produced; the first: {}",
                self.results.len(),
                self.messages[first.1 as usize]
            );
            head.push_str(&format!(",\"error\":{}", Value::String(message)));
        }
        head.push_str(",\"results\":[");
        let only_errors = match detail {
            "none" => None,
            "errors" => Some(true),
            _ => Some(false),
        };
        let body = Results { outcome: self, only_errors, next: 0, head: Some(head), first: true };
        Response::builder()
            .status(status)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from_stream(futures::stream::iter(body.map(Ok::<_, std::io::Error>))))
            .unwrap_or_else(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response())
    }
}

/// The `results` of an answer, written 64 KiB at a time.
struct Results {
    outcome: Outcome,
    only_errors: Option<bool>,
    next: usize,
    head: Option<String>,
    first: bool,
}

impl Iterator for Results {
    type Item = Bytes;

    fn next(&mut self) -> Option<Bytes> {
        use std::fmt::Write as _;
        let mut out = self.head.take().unwrap_or_default();
        let total = self.outcome.results.len();
        if self.next > total {
            return None;
        }
        while self.next < total && out.len() < 64 * 1024 {
            let i = self.next;
            self.next += 1;
            let (p, o) = self.outcome.results[i];
            let wanted = match self.only_errors {
                None => false,
                Some(true) => p < 0,
                Some(false) => true,
            };
            if !wanted {
                continue;
            }
            if !self.first {
                out.push(',');
            }
            self.first = false;
            if p >= 0 {
                let _ = write!(out, "{{\"partition\":{p},\"offset\":{o}}}");
            } else {
                let e = Value::String(self.outcome.messages[o as usize].clone());
                let _ = write!(out, "{{\"index\":{i},\"error\":{e}}}");
            }
        }
        if self.next >= total {
            out.push_str("]}");
            self.next = total + 1;
        }
        Some(Bytes::from(out))
    }
}

/// What happened to each record of a small batch (an ingested event).
pub(crate) struct Report {
    pub results: Vec<Result<(i32, i64), String>>,
}

/// Checks a small batch, sends it, and waits for every acknowledgement.
pub(crate) async fn send(kafka: &Arc<Kafka>, topic: &str, records: Vec<Outgoing>) -> Result<Report, ApiError> {
    if records.is_empty() {
        return Err(ApiError::bad_request("there is nothing to produce: the body holds no records"));
    }
    // Before anything is sent: the topic exists, partitions are real, sizes fit.
    let partitions = kafka.partitions(topic).await?;
    let limit = kafka.config.max_message_bytes();
    for (i, r) in records.iter().enumerate() {
        check_record(topic, &partitions, limit, i, r)?;
    }
    let producer = kafka.producer()?;
    let mut pending = Vec::with_capacity(records.len());
    for r in &records {
        let mut record = future_record(topic, r);
        loop {
            match producer.send_result(record) {
                Ok(delivery) => {
                    pending.push(Ok(delivery));
                    break;
                }
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
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
        results.push(settle(p).await);
    }
    Ok(Report { results })
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

/// Which JSON body: `{"records": [...]}` (or a bare array of records), or
/// `?format=json-array`'s array of messages.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Json {
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
fn json_into(body: &[u8], which: Json, shape: &Shape, sink: &mut Sink<'_, '_>) -> Result<(), ApiError> {
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

/// One message per line; a final newline does not make an empty message.
fn lines_into(body: &[u8], shape: &Shape, sink: &mut Sink<'_, '_>) -> Result<(), ApiError> {
    let body = body.strip_suffix(b"\n").unwrap_or(body);
    if body.is_empty() {
        return Ok(());
    }
    for line in body.split(|&b| b == b'\n') {
        sink.push(Outgoing {
            key: shape.key.as_ref().map(|k| k.as_bytes().to_vec()),
            value: Some(line.strip_suffix(b"\r").unwrap_or(line).to_vec()),
            headers: Vec::new(),
            partition: shape.partition,
        })?;
    }
    Ok(())
}

/// An Arrow IPC stream with a `value` column and optional `key` and
/// `partition` columns (what `INSERT INTO kafka(...)` sends), a batch at a
/// time. A malformed stream is a 400 naming what is wrong: the framing is
/// checked first, and a panic inside arrow-rs is caught as the last guard.
fn arrow_into(body: &[u8], sink: &mut Sink<'_, '_>) -> Result<(), ApiError> {
    let bad = |why: String| ApiError::bad_request(format!("the body is not a usable Arrow IPC stream: {why}"));
    check_ipc_framing(body).map_err(bad)?;
    let decoded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| -> Result<(), ApiError> {
        let reader = arrow_ipc::reader::StreamReader::try_new(std::io::Cursor::new(body), None)
            .map_err(|e| bad(e.to_string()))?;
        for batch in reader {
            let batch = batch.map_err(|e| bad(e.to_string()))?;
            append_batch(&batch, sink, bad)?;
        }
        Ok(())
    }));
    match decoded {
        Ok(result) => result,
        Err(panic) => {
            let why = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("the decoder failed");
            Err(bad(format!("it is malformed ({why})")))
        }
    }
}

/// The IPC stream's framing, before arrow-rs decodes anything: every
/// message is a continuation marker (or a legacy bare length), a metadata
/// length, a flatbuffer `Message` that verifies, and the body length it
/// declares, each within the bytes there are; then an end marker or the end
/// of the body, nothing else. Catches truncated, random and trailing bytes
/// with a plain reason.
fn check_ipc_framing(body: &[u8]) -> Result<(), String> {
    if body.is_empty() {
        return Err("the body is empty (an IPC stream starts with its schema)".into());
    }
    let word =
        |at: usize| -> Option<u32> { body.get(at..at + 4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]])) };
    let mut at = 0usize;
    let mut index = 0usize;
    while at < body.len() {
        let Some(mut len) = word(at) else {
            return Err(format!("{} stray bytes follow message {index}", body.len() - at));
        };
        at += 4;
        if len == 0xFFFF_FFFF {
            len = word(at).ok_or_else(|| format!("message {index} is cut off in its length"))?;
            at += 4;
        }
        if len == 0 {
            if at < body.len() {
                return Err(format!("{} bytes follow the end-of-stream marker", body.len() - at));
            }
            break;
        }
        let len = len as usize;
        let metadata = body.get(at..at + len).ok_or_else(|| {
            format!(
                "message {index} says its header is {len} bytes, but only {} follow; the stream is truncated or not Arrow IPC",
                body.len() - at
            )
        })?;
        let message = arrow_ipc::root_as_message(metadata)
            .map_err(|e| format!("message {index} is not an Arrow IPC message header ({e})"))?;
        if index == 0 && message.header_type() != arrow_ipc::MessageHeader::Schema {
            return Err("it does not start with a schema message".into());
        }
        let body_len =
            usize::try_from(message.bodyLength()).map_err(|_| format!("message {index} has a negative body length"))?;
        // A batch's buffers lie within its data (arrow-rs would panic slicing past it).
        let batch =
            message.header_as_record_batch().or_else(|| message.header_as_dictionary_batch().and_then(|d| d.data()));
        if let Some(buffers) = batch.and_then(|b| b.buffers()) {
            for (n, buffer) in buffers.iter().enumerate() {
                let end = u64::try_from(buffer.offset()).ok().zip(u64::try_from(buffer.length()).ok());
                if end.is_none_or(|(o, l)| o.saturating_add(l) > body_len as u64) {
                    return Err(format!(
                        "buffer {n} of message {index} lies outside the message's {body_len} bytes of data"
                    ));
                }
            }
        }
        at += len;
        if body_len > body.len() - at {
            return Err(format!(
                "message {index} says its data is {body_len} bytes, but only {} follow; the stream is truncated",
                body.len() - at
            ));
        }
        at += body_len;
        index += 1;
    }
    if index == 0 {
        return Err("it ends before its schema".into());
    }
    Ok(())
}

fn append_batch(
    batch: &RecordBatch,
    sink: &mut Sink<'_, '_>,
    bad: impl Fn(String) -> ApiError,
) -> Result<(), ApiError> {
    let value = batch.column_by_name("value").ok_or_else(|| bad("it has no column named value".into()))?;
    let key = batch.column_by_name("key");
    let partition = batch.column_by_name("partition");
    for i in 0..batch.num_rows() {
        let record = Outgoing {
            key: key.map(|k| bytes_at(k, i)).transpose().map_err(&bad)?.flatten(),
            value: bytes_at(value, i).map_err(&bad)?,
            headers: Vec::new(),
            partition: partition.map(|p| int_at(p, i)).transpose().map_err(&bad)?.flatten(),
        };
        sink.push(record)?;
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
