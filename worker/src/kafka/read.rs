//! Bounded range reads, streamed as Arrow IPC record batches with the
//! columns of Spark's Kafka source.
//!
//! The range is fixed before the first byte is sent: watermarks are taken
//! when the request arrives (Spark's `endingOffsets=latest`), so a read ends
//! even while producers keep writing. The plan travels in response headers
//! (`X-Riffle-Messages`, `X-Riffle-Plan`), so a client can show progress out
//! of a known total. Closing the request cancels the read.

use std::io;
use std::sync::Arc;
use std::time::Instant;

use arrow_array::builder::{BinaryBuilder, Int32Builder, Int64Builder, StringBuilder, TimestampMillisecondBuilder};
use arrow_array::{ArrayRef, ListArray, RecordBatch, StructArray};
use arrow_buffer::OffsetBuffer;
use arrow_schema::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{Extensions, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{Headers, Message, Timestamp};
use rdkafka::{Offset, TopicPartitionList};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use super::{Activity, Kafka, STALL, blocking, client_of};
use crate::{ApiError, AppState};

/// Rows per record batch, and a byte budget that closes a batch early.
const BATCH_ROWS: usize = 16_384;
const BATCH_BYTES: usize = 8 * 1024 * 1024;

#[derive(Deserialize, Default)]
pub(crate) struct ReadQuery {
    from: Option<String>,
    to: Option<String>,
    partitions: Option<String>,
    max_messages: Option<u64>,
}

/// One end of a range, as the query string gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Bound {
    Earliest,
    Latest,
    Offset(i64),
    Timestamp(i64),
}

impl Bound {
    /// `earliest`, `latest`, `offset:42` (or `42`), `timestamp:<ms since epoch>`.
    pub(crate) fn parse(text: &str, which: &str) -> Result<Bound, ApiError> {
        let t = text.trim();
        let bad = || {
            ApiError::bad_request(format!(
                "{which}={t} is not a Kafka position: use earliest, latest, offset:<n> or timestamp:<ms since the epoch>"
            ))
        };
        let number = |s: &str| -> Result<i64, ApiError> {
            let n: i64 = s.parse().map_err(|_| bad())?;
            if n < 0 {
                return Err(ApiError::bad_request(format!("{which}={t}: offsets and timestamps cannot be negative")));
            }
            Ok(n)
        };
        match t.to_ascii_lowercase().as_str() {
            "earliest" | "beginning" => Ok(Bound::Earliest),
            "latest" | "end" | "now" => Ok(Bound::Latest),
            _ => {
                if let Some(n) = t.strip_prefix("offset:") {
                    number(n).map(Bound::Offset)
                } else if let Some(n) = t.strip_prefix("timestamp:") {
                    number(n).map(Bound::Timestamp)
                } else {
                    number(t).map(Bound::Offset)
                }
            }
        }
    }
}

/// What one partition contributes: offsets `start..end` (end exclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub(crate) struct Span {
    pub partition: i32,
    pub start: i64,
    pub end: i64,
}

impl Span {
    fn len(&self) -> u64 {
        (self.end - self.start).max(0) as u64
    }
}

#[derive(Debug, Serialize)]
pub(crate) struct Plan {
    pub topic: String,
    pub spans: Vec<Span>,
}

impl Plan {
    pub(crate) fn total(&self) -> u64 {
        self.spans.iter().map(Span::len).sum()
    }
}

pub(crate) async fn read(
    State(state): State<AppState>,
    Path(topic): Path<String>,
    Query(q): Query<ReadQuery>,
    extensions: Extensions,
) -> Result<Response, ApiError> {
    let kafka = state.kafka.clone();
    // Counted until the response body is dropped (sent, or the client left).
    let guard = match kafka.track(Activity::Read, &client_of(&extensions)) {
        Ok(guard) => Arc::new(guard),
        Err(busy) => return Ok(busy.into_response()),
    };
    let plan = plan(&kafka, &topic, &q).await?;
    let total = plan.total();
    let consumer: BaseConsumer =
        kafka.config.consumer("riffle-read").create().map_err(|e| {
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("could not create a consumer: {e}"))
        })?;
    let (tx, mut rx) = mpsc::channel::<Result<Bytes, io::Error>>(4);
    let pump_guard = guard.clone();
    let plan_header = serde_json::to_string(&plan.spans).unwrap_or_default();
    let shutdown = kafka.shutdown.clone();
    tokio::task::spawn_blocking(move || {
        let _guard = pump_guard;
        let started = Instant::now();
        match pump(&consumer, &plan, &tx, &shutdown) {
            Ok(Pumped::Done(n)) => {
                tracing::info!(topic = %plan.topic, messages = n, ms = started.elapsed().as_millis() as u64, "range read")
            }
            Ok(Pumped::Cancelled(n)) => {
                tracing::info!(topic = %plan.topic, messages = n, "range read cancelled by the client")
            }
            Err(e) => {
                tracing::warn!(topic = %plan.topic, error = %e, "range read failed");
                let _ = tx.blocking_send(Err(io::Error::other(e)));
            }
        }
    });
    let stream = futures::stream::poll_fn(move |cx| {
        let _held = &guard;
        rx.poll_recv(cx)
    });
    Response::builder()
        .header(header::CONTENT_TYPE, "application/vnd.apache.arrow.stream")
        .header(header::CACHE_CONTROL, "no-store")
        .header("x-riffle-messages", total.to_string())
        .header("x-riffle-plan", plan_header)
        .body(Body::from_stream(stream))
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))
}

/// Resolves the bounds of a read against the topic as it is now.
pub(crate) async fn plan(kafka: &Arc<Kafka>, topic: &str, q: &ReadQuery) -> Result<Plan, ApiError> {
    let from = Bound::parse(q.from.as_deref().unwrap_or("earliest"), "from")?;
    let to = Bound::parse(q.to.as_deref().unwrap_or("latest"), "to")?;
    if to == Bound::Earliest {
        return Err(ApiError::bad_request("to=earliest reads nothing: use to=latest, an offset or a timestamp"));
    }
    let all = kafka.partitions(topic).await?;
    let selected = match q.partitions.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
        None => all.clone(),
        Some(list) => {
            let mut chosen = Vec::new();
            for p in list.split(',') {
                let p: i32 = p.trim().parse().map_err(|_| {
                    ApiError::bad_request(format!("partitions={list} must list partition numbers, such as 0,2"))
                })?;
                if !all.contains(&p) {
                    return Err(ApiError::bad_request(format!(
                        "topic '{topic}' has no partition {p}; its partitions are {}",
                        describe_partitions(&all)
                    )));
                }
                if !chosen.contains(&p) {
                    chosen.push(p);
                }
            }
            chosen.sort_unstable();
            chosen
        }
    };
    let marks = kafka.watermarks(topic, &selected).await?;
    let from_times = times(kafka, topic, &selected, from).await?;
    let to_times = times(kafka, topic, &selected, to).await?;
    // An offset applies to every partition read; it is a mistake only when it
    // is past the end of all of them (a partition it is past gives nothing).
    if let Bound::Offset(n) = from
        && let Some(&(partition, low, high)) = marks.iter().filter(|m| n > m.2).max_by_key(|m| m.2)
        && marks.iter().all(|m| n > m.2)
    {
        return Err(past_the_end(topic, partition, n, low, high));
    }
    let mut spans = Vec::with_capacity(marks.len());
    for (i, &(partition, low, high)) in marks.iter().enumerate() {
        let start = match from {
            Bound::Earliest => low,
            Bound::Latest => high,
            Bound::Offset(n) if n > high => high,
            Bound::Offset(n) if n < low => {
                return Err(ApiError::bad_request(format!(
                    "from offset {n} of {topic}/{partition} is no longer in Kafka: retention removed everything before {low}. \
                     Use from=earliest or an offset of at least {low}"
                )));
            }
            Bound::Offset(n) => n,
            Bound::Timestamp(_) => from_times[i].unwrap_or(high),
        };
        let end = match to {
            Bound::Earliest => low,
            Bound::Latest => high,
            Bound::Offset(n) if n < start => {
                return Err(ApiError::bad_request(format!(
                    "to offset {n} is before the start of the range ({start}) in {topic}/{partition}"
                )));
            }
            Bound::Offset(n) => n.min(high),
            Bound::Timestamp(_) => to_times[i].unwrap_or(high).max(start),
        };
        spans.push(Span { partition, start, end });
    }
    if let Some(max) = q.max_messages {
        limit(&mut spans, max);
    }
    Ok(Plan { topic: topic.to_string(), spans })
}

fn past_the_end(topic: &str, partition: i32, n: i64, low: i64, high: i64) -> ApiError {
    ApiError::bad_request(format!(
        "from offset {n} is past the end of {topic}/{partition}: its offsets run {low}..{} (the next message gets {high}). \
         Use from=latest to start at the end",
        (high - 1).max(low)
    ))
}

fn describe_partitions(all: &[i32]) -> String {
    match (all.first(), all.last()) {
        (Some(a), Some(b)) if all.len() > 1 => format!("{a} to {b}"),
        (Some(a), _) => a.to_string(),
        _ => "none".into(),
    }
}

/// For a timestamp bound: per partition, the first offset at or after it
/// (`None` when no message is that late).
pub(crate) async fn times(
    kafka: &Arc<Kafka>,
    topic: &str,
    partitions: &[i32],
    bound: Bound,
) -> Result<Vec<Option<i64>>, ApiError> {
    let Bound::Timestamp(ms) = bound else {
        return Ok(vec![None; partitions.len()]);
    };
    let meta = kafka.meta()?;
    let timeout = kafka.config.timeout;
    let mut tpl = TopicPartitionList::new();
    for &p in partitions {
        tpl.add_partition_offset(topic, p, Offset::Offset(ms))
            .map_err(|e| ApiError::bad_request(format!("timestamp {ms}: {e}")))?;
    }
    let k = kafka.clone();
    let found = blocking(move || meta.offsets_for_times(tpl, timeout))
        .await?
        .map_err(|e| k.error(&format!("looking up timestamp {ms} in {}", "the topic"), &e))?;
    Ok(partitions
        .iter()
        .map(|&p| match found.find_partition(topic, p).map(|e| e.offset()) {
            Some(Offset::Offset(o)) => Some(o),
            _ => None,
        })
        .collect())
}

/// Caps a plan at `max` messages, shared evenly over the partitions (those
/// with fewer give their share to the others), taking each partition's first.
fn limit(spans: &mut [Span], max: u64) {
    let mut grant = vec![0u64; spans.len()];
    let mut left = max;
    loop {
        let open: Vec<usize> = (0..spans.len()).filter(|&i| grant[i] < spans[i].len()).collect();
        if open.is_empty() || left == 0 {
            break;
        }
        let share = (left / open.len() as u64).max(1);
        for i in open {
            let add = share.min(spans[i].len() - grant[i]).min(left);
            grant[i] += add;
            left -= add;
        }
    }
    for (span, g) in spans.iter_mut().zip(grant) {
        span.end = span.start + g as i64;
    }
}

enum Pumped {
    Done(u64),
    Cancelled(u64),
}

/// Consumes the plan's spans and sends Arrow IPC bytes until every span is
/// done, the client goes away, or the broker stalls.
fn pump(
    consumer: &BaseConsumer,
    plan: &Plan,
    tx: &mpsc::Sender<Result<Bytes, io::Error>>,
    shutdown: &tokio_util::sync::CancellationToken,
) -> Result<Pumped, String> {
    let schema = schema();
    let mut writer = arrow_ipc::writer::StreamWriter::try_new(Vec::new(), &schema).map_err(|e| e.to_string())?;
    let mut pending: Vec<&Span> = plan.spans.iter().filter(|s| s.len() > 0).collect();
    let mut tpl = TopicPartitionList::new();
    for span in &pending {
        tpl.add_partition_offset(&plan.topic, span.partition, Offset::Offset(span.start)).map_err(|e| e.to_string())?;
    }
    if !pending.is_empty() {
        consumer.assign(&tpl).map_err(|e| format!("could not assign partitions: {e}"))?;
    }
    let mut batch = Batch::default();
    let mut sent = 0u64;
    let mut last_event = Instant::now();
    let send = |writer: &mut arrow_ipc::writer::StreamWriter<Vec<u8>>| -> bool {
        let bytes = std::mem::take(writer.get_mut());
        bytes.is_empty() || tx.blocking_send(Ok(Bytes::from(bytes))).is_ok()
    };
    // The schema goes first, so even an empty range is a valid stream.
    if !send(&mut writer) {
        return Ok(Pumped::Cancelled(0));
    }
    while !pending.is_empty() {
        if tx.is_closed() || shutdown.is_cancelled() {
            return Ok(Pumped::Cancelled(sent));
        }
        let Some(event) = consumer.poll(std::time::Duration::from_millis(100)) else {
            if last_event.elapsed() > STALL {
                return Err(format!(
                    "Kafka sent nothing for {} s with {} partition(s) unfinished; the broker may be down",
                    STALL.as_secs(),
                    pending.len()
                ));
            }
            continue;
        };
        last_event = Instant::now();
        match event {
            Ok(m) => {
                let Some(at) = pending.iter().position(|s| s.partition == m.partition()) else {
                    continue;
                };
                let span = pending[at];
                if m.offset() < span.end {
                    batch.push(&m);
                }
                if m.offset() >= span.end - 1 {
                    finish_partition(consumer, &plan.topic, &mut pending, at);
                }
                if batch.rows >= BATCH_ROWS || batch.bytes >= BATCH_BYTES {
                    sent += batch.rows as u64;
                    writer.write(&batch.finish(&schema)?).map_err(|e| e.to_string())?;
                    if !send(&mut writer) {
                        return Ok(Pumped::Cancelled(sent));
                    }
                }
            }
            // The end of what the partition holds now, which is past the
            // plan's end (watermarks only grow), gaps and all.
            Err(KafkaError::PartitionEOF(p)) => {
                if let Some(at) = pending.iter().position(|s| s.partition == p) {
                    finish_partition(consumer, &plan.topic, &mut pending, at);
                }
            }
            Err(e) => return Err(format!("reading {}: {e}", plan.topic)),
        }
    }
    if batch.rows > 0 {
        sent += batch.rows as u64;
        writer.write(&batch.finish(&schema)?).map_err(|e| e.to_string())?;
    }
    writer.finish().map_err(|e| e.to_string())?;
    if !send(&mut writer) {
        return Ok(Pumped::Cancelled(sent));
    }
    Ok(Pumped::Done(sent))
}

fn finish_partition(consumer: &BaseConsumer, topic: &str, pending: &mut Vec<&Span>, at: usize) {
    let span = pending.remove(at);
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition(topic, span.partition);
    // Stop fetching what the plan does not want.
    let _ = consumer.pause(&tpl);
}

/// The columns of a read, as Spark's Kafka source names them.
pub(crate) fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("key", DataType::Binary, true),
        Field::new("value", DataType::Binary, true),
        Field::new("topic", DataType::Utf8, false),
        Field::new("partition", DataType::Int32, false),
        Field::new("offset", DataType::Int64, false),
        Field::new("timestamp", DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())), true),
        Field::new("timestampType", DataType::Int32, false),
        Field::new(
            "headers",
            DataType::List(Arc::new(Field::new("item", DataType::Struct(header_fields()), false))),
            false,
        ),
    ]))
}

fn header_fields() -> Fields {
    Fields::from(vec![Field::new("key", DataType::Utf8, false), Field::new("value", DataType::Binary, true)])
}

/// Rows being gathered for the next record batch.
struct Batch {
    key: BinaryBuilder,
    value: BinaryBuilder,
    topic: StringBuilder,
    partition: Int32Builder,
    offset: Int64Builder,
    timestamp: TimestampMillisecondBuilder,
    timestamp_type: Int32Builder,
    header_keys: StringBuilder,
    header_values: BinaryBuilder,
    header_offsets: Vec<i32>,
    rows: usize,
    bytes: usize,
}

impl Default for Batch {
    fn default() -> Self {
        Batch {
            key: BinaryBuilder::new(),
            value: BinaryBuilder::new(),
            topic: StringBuilder::new(),
            partition: Int32Builder::new(),
            offset: Int64Builder::new(),
            timestamp: TimestampMillisecondBuilder::new().with_timezone("UTC"),
            timestamp_type: Int32Builder::new(),
            header_keys: StringBuilder::new(),
            header_values: BinaryBuilder::new(),
            header_offsets: vec![0],
            rows: 0,
            bytes: 0,
        }
    }
}

impl Batch {
    fn push(&mut self, m: &impl Message) {
        self.key.append_option(m.key());
        self.value.append_option(m.payload());
        self.topic.append_value(m.topic());
        self.partition.append_value(m.partition());
        self.offset.append_value(m.offset());
        let (ts, kind) = match m.timestamp() {
            Timestamp::CreateTime(ms) => (Some(ms), 0),
            Timestamp::LogAppendTime(ms) => (Some(ms), 1),
            Timestamp::NotAvailable => (None, -1),
        };
        self.timestamp.append_option(ts);
        self.timestamp_type.append_value(kind);
        let mut n = 0;
        if let Some(headers) = m.headers() {
            for h in headers.iter() {
                self.header_keys.append_value(h.key);
                self.header_values.append_option(h.value);
                self.bytes += h.key.len() + h.value.map_or(0, <[u8]>::len);
                n += 1;
            }
        }
        let last = self.header_offsets.last().copied().unwrap_or(0);
        self.header_offsets.push(last + n);
        self.bytes += m.key().map_or(0, <[u8]>::len) + m.payload().map_or(0, <[u8]>::len) + 32;
        self.rows += 1;
    }

    fn finish(&mut self, schema: &SchemaRef) -> Result<RecordBatch, String> {
        let headers = StructArray::new(
            header_fields(),
            vec![Arc::new(self.header_keys.finish()) as ArrayRef, Arc::new(self.header_values.finish())],
            None,
        );
        let offsets = OffsetBuffer::new(std::mem::replace(&mut self.header_offsets, vec![0]).into());
        let headers = ListArray::new(
            Arc::new(Field::new("item", DataType::Struct(header_fields()), false)),
            offsets,
            Arc::new(headers),
            None,
        );
        let columns: Vec<ArrayRef> = vec![
            Arc::new(self.key.finish()),
            Arc::new(self.value.finish()),
            Arc::new(self.topic.finish()),
            Arc::new(self.partition.finish()),
            Arc::new(self.offset.finish()),
            Arc::new(self.timestamp.finish()),
            Arc::new(self.timestamp_type.finish()),
            Arc::new(headers),
        ];
        self.rows = 0;
        self.bytes = 0;
        RecordBatch::try_new(schema.clone(), columns).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_parse() {
        assert_eq!(Bound::parse("earliest", "from").unwrap(), Bound::Earliest);
        assert_eq!(Bound::parse("offset:7", "from").unwrap(), Bound::Offset(7));
        assert_eq!(Bound::parse("7", "from").unwrap(), Bound::Offset(7));
        assert_eq!(Bound::parse("timestamp:1000", "to").unwrap(), Bound::Timestamp(1000));
        let e = Bound::parse("offset:-1", "from").unwrap_err();
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        assert!(Bound::parse("yesterday", "from").unwrap_err().message.contains("earliest"));
    }

    #[test]
    fn max_messages_shared_over_partitions() {
        let mut spans = vec![
            Span { partition: 0, start: 0, end: 100 },
            Span { partition: 1, start: 10, end: 12 },
            Span { partition: 2, start: 0, end: 100 },
        ];
        limit(&mut spans, 50);
        let lens: Vec<u64> = spans.iter().map(Span::len).collect();
        assert_eq!(lens.iter().sum::<u64>(), 50);
        assert_eq!(lens[1], 2);
        assert_eq!(spans[1].start, 10);
        let mut small = vec![Span { partition: 0, start: 5, end: 8 }];
        limit(&mut small, 10);
        assert_eq!(small[0].len(), 3);
    }

    #[test]
    fn batches_have_the_kafka_columns() {
        let mut b = Batch::default();
        let m = rdkafka::message::OwnedMessage::new(
            Some(b"v".to_vec()),
            None,
            "t".into(),
            Timestamp::CreateTime(5),
            0,
            3,
            Some(rdkafka::message::OwnedHeaders::new().insert(rdkafka::message::Header { key: "h", value: Some("x") })),
        );
        b.push(&m);
        b.push(&m);
        let batch = b.finish(&schema()).unwrap();
        assert_eq!(batch.num_rows(), 2);
        assert_eq!(batch.schema(), schema());
    }
}
