//! Sending: a request's records streamed to the producer with a bounded
//! window of unacknowledged ones, each one's partition and offset or error
//! gathered into the answer; and a small batch sent at once (an ingested event).

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{DeliveryFuture, FutureRecord};
use serde_json::Value;
use tokio::sync::mpsc;

use super::check::check_record;
use super::records::Outgoing;
use crate::ApiError;
use crate::kafka::Kafka;

/// Records sent and not yet acknowledged, at most, and their bytes: librdkafka
/// copies each payload, so this bounds its share of a request's memory.
const WINDOW_RECORDS: usize = 20_000;
const WINDOW_BYTES: usize = 4 * 1024 * 1024;

/// Sends the records as they come and waits for every acknowledgement,
/// keeping at most a window of them unacknowledged.
pub(super) async fn stream(
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
    pub(super) fn respond(self, detail: &str) -> Response {
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
