//! The live tail: a WebSocket that streams one or more topics' new messages
//! as JSON, filtered on the server by a substring, a key, or JSON fields.
//!
//! A filter is data, never code. Backpressure is end to end: the next message
//! is taken from Kafka only once the previous one was written to the socket,
//! and librdkafka's prefetch queue for a tail is capped, so a slow browser
//! cannot grow the gateway's memory.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::ws::{Message as WsMessage, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::Extensions;
use axum::response::{IntoResponse, Response};
use futures::{SinkExt, StreamExt};
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::{BorrowedMessage, Headers, Message, Timestamp};
use rdkafka::{Offset, TopicPartitionList};
use serde_json::{Value, json};

use super::read::Bound;
use super::{ActiveGuard, Activity, Kafka, blocking, client_of};
use crate::{ApiError, AppState};

/// The largest frame or message a tail takes from the browser, which only
/// ever sends Close and Ping (at most 125 bytes each); a larger one ends the tail.
const CLIENT_FRAME_BYTES: usize = 1024;

/// What a tail lets through. Every condition given must hold.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Filter {
    /// A plain substring of the key or the value.
    contains: Option<String>,
    /// The exact key.
    key: Option<String>,
    /// `field.<path>=<text>`: the value is JSON and the field at the dotted
    /// path is this string (or this number, boolean, ... written as text).
    fields: Vec<(Vec<String>, String)>,
}

impl Filter {
    pub(crate) fn from_params(params: &BTreeMap<String, String>) -> Filter {
        Filter {
            contains: params.get("contains").filter(|s| !s.is_empty()).cloned(),
            key: params.get("key").cloned(),
            fields: params
                .iter()
                .filter_map(|(k, v)| {
                    let path = k.strip_prefix("field.")?;
                    Some((path.split('.').map(str::to_string).collect(), v.clone()))
                })
                .collect(),
        }
    }

    pub(crate) fn matches(&self, key: Option<&[u8]>, value: Option<&[u8]>) -> bool {
        if let Some(want) = &self.key
            && key != Some(want.as_bytes())
        {
            return false;
        }
        if let Some(needle) = &self.contains {
            let hit = |hay: Option<&[u8]>| hay.is_some_and(|h| find(h, needle.as_bytes()));
            if !hit(key) && !hit(value) {
                return false;
            }
        }
        if !self.fields.is_empty() {
            let Some(json) = value.and_then(|v| serde_json::from_slice::<Value>(v).ok()) else {
                return false;
            };
            for (path, want) in &self.fields {
                let mut at = &json;
                for step in path {
                    match at.get(step) {
                        Some(next) => at = next,
                        None => return false,
                    }
                }
                let equal = match at {
                    Value::String(s) => s == want,
                    other => displays_as(other, want),
                };
                if !equal {
                    return false;
                }
            }
        }
        true
    }
}

/// Whether a value prints as `text`, compared as it prints (no copy).
fn displays_as(value: &Value, text: &str) -> bool {
    struct Compare<'a> {
        rest: &'a str,
        same: bool,
    }
    impl std::fmt::Write for Compare<'_> {
        fn write_str(&mut self, s: &str) -> std::fmt::Result {
            match self.rest.strip_prefix(s) {
                Some(rest) if self.same => self.rest = rest,
                _ => self.same = false,
            }
            Ok(())
        }
    }
    let mut compare = Compare { rest: text, same: true };
    let _ = std::fmt::Write::write_fmt(&mut compare, format_args!("{value}"));
    compare.same && compare.rest.is_empty()
}

fn find(hay: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || hay.windows(needle.len()).any(|w| w == needle)
}

/// `GET /api/kafka/tail?topics=a,b&from=latest&contains=...&key=...&field.event_type=purchase_sword`
pub(crate) async fn tail(
    State(state): State<AppState>,
    Query(params): Query<BTreeMap<String, String>>,
    extensions: Extensions,
    upgrade: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    let kafka = state.kafka.clone();
    // Counted from here to the socket's end; refused before any Kafka work.
    let guard = match kafka.track(Activity::Tail, &client_of(&extensions)) {
        Ok(guard) => guard,
        Err(busy) => return Ok(busy.into_response()),
    };
    let topics: Vec<String> = params
        .get("topics")
        .or_else(|| params.get("topic"))
        .map(|t| t.split(',').map(str::trim).filter(|t| !t.is_empty()).map(str::to_string).collect())
        .unwrap_or_default();
    if topics.is_empty() {
        return Err(ApiError::bad_request("name the topics to tail: /api/kafka/tail?topics=events,logs"));
    }
    let from = Bound::parse(params.get("from").map(String::as_str).unwrap_or("latest"), "from")?;
    let filter = Filter::from_params(&params);
    // Resolved now, before the upgrade: errors are plain HTTP answers, and
    // "from now" means from this moment, not from when fetching starts.
    let mut start = TopicPartitionList::new();
    let mut assigned = Vec::new();
    for topic in &topics {
        let partitions = kafka.partitions(topic).await?;
        let marks = kafka.watermarks(topic, &partitions).await?;
        let times = match from {
            Bound::Timestamp(ms) => Some(times(&kafka, topic, &partitions, ms).await?),
            _ => None,
        };
        for (i, (p, low, high)) in marks.into_iter().enumerate() {
            let offset = match from {
                Bound::Earliest => low,
                Bound::Latest => high,
                Bound::Offset(n) => n.clamp(low, high),
                Bound::Timestamp(_) => times.as_ref().and_then(|t| t[i]).unwrap_or(high),
            };
            start
                .add_partition_offset(topic, p, Offset::Offset(offset))
                .map_err(|e| ApiError::bad_request(e.to_string()))?;
            assigned.push(json!({ "topic": topic, "partition": p, "offset": offset }));
        }
    }
    let mut config = kafka.config.consumer("riffle-tail");
    config
        .set("enable.partition.eof", "false")
        .set("queued.min.messages", "1000")
        .set("queued.max.messages.kbytes", "4096")
        .set("fetch.max.bytes", "4194304");
    let consumer: StreamConsumer = config.create().map_err(|e| {
        ApiError::new(axum::http::StatusCode::INTERNAL_SERVER_ERROR, format!("could not create a consumer: {e}"))
    })?;
    consumer.assign(&start).map_err(|e| kafka.error("assigning partitions", &e))?;
    // The tail reads nothing from the browser but Close and Ping: a frame of
    // any size would only be buffered to be ignored.
    let upgrade = upgrade.max_frame_size(CLIENT_FRAME_BYTES).max_message_size(CLIENT_FRAME_BYTES);
    Ok(upgrade.on_upgrade(move |socket| run(kafka, guard, socket, consumer, filter, topics, assigned)))
}

async fn times(kafka: &Arc<Kafka>, topic: &str, partitions: &[i32], ms: i64) -> Result<Vec<Option<i64>>, ApiError> {
    let meta = kafka.meta()?;
    let timeout = kafka.config.timeout;
    let mut tpl = TopicPartitionList::new();
    for &p in partitions {
        tpl.add_partition_offset(topic, p, Offset::Offset(ms)).map_err(|e| ApiError::bad_request(e.to_string()))?;
    }
    let found = blocking(move || meta.offsets_for_times(tpl, timeout))
        .await?
        .map_err(|e| kafka.error("looking up a time", &e))?;
    Ok(partitions
        .iter()
        .map(|&p| match found.find_partition(topic, p).map(|e| e.offset()) {
            Some(Offset::Offset(o)) => Some(o),
            _ => None,
        })
        .collect())
}

async fn run(
    kafka: Arc<Kafka>,
    _guard: ActiveGuard,
    socket: WebSocket,
    consumer: StreamConsumer,
    filter: Filter,
    topics: Vec<String>,
    assigned: Vec<Value>,
) {
    let (mut sink, mut incoming) = socket.split();
    let hello = json!({ "type": "subscribed", "topics": topics, "partitions": assigned });
    if sink.send(WsMessage::Text(Utf8Bytes::from(hello.to_string()))).await.is_err() {
        return;
    }
    let (mut seen, mut sent) = (0u64, 0u64);
    loop {
        tokio::select! {
            biased;
            _ = kafka.shutdown.cancelled() => {
                let _ = sink.send(WsMessage::Close(None)).await;
                break;
            }
            message = incoming.next() => match message {
                None | Some(Err(_)) | Some(Ok(WsMessage::Close(_))) => break,
                Some(Ok(_)) => {}
            },
            record = consumer.recv() => {
                let text = match record {
                    Ok(m) => {
                        seen += 1;
                        if !filter.matches(m.key(), m.payload()) {
                            continue;
                        }
                        sent += 1;
                        record_json(&m).to_string()
                    }
                    Err(e) => json!({ "type": "error", "error": format!("Kafka: {e}") }).to_string(),
                };
                // Awaiting the write is the backpressure: nothing more is
                // taken from Kafka until the browser has accepted this.
                if sink.send(WsMessage::Text(Utf8Bytes::from(text))).await.is_err() {
                    break;
                }
            }
        }
    }
    tracing::debug!(seen, sent, "tail closed");
}

fn text_or_base64(bytes: Option<&[u8]>) -> (Value, Option<String>) {
    use base64::Engine as _;
    match bytes {
        None => (Value::Null, None),
        Some(b) => match std::str::from_utf8(b) {
            Ok(s) => (Value::String(s.to_string()), None),
            Err(_) => (Value::Null, Some(base64::engine::general_purpose::STANDARD.encode(b))),
        },
    }
}

fn record_json(m: &BorrowedMessage<'_>) -> Value {
    let (key, key_b64) = text_or_base64(m.key());
    let (value, value_b64) = text_or_base64(m.payload());
    let (timestamp, kind) = match m.timestamp() {
        Timestamp::CreateTime(ms) => (Some(ms), 0),
        Timestamp::LogAppendTime(ms) => (Some(ms), 1),
        Timestamp::NotAvailable => (None, -1),
    };
    let mut headers = serde_json::Map::new();
    if let Some(hs) = m.headers() {
        for h in hs.iter() {
            headers.insert(h.key.to_string(), text_or_base64(h.value).0);
        }
    }
    let mut v = json!({
        "type": "record", "topic": m.topic(), "partition": m.partition(), "offset": m.offset(),
        "timestamp": timestamp, "timestampType": kind, "key": key, "value": value, "headers": headers,
    });
    if let Some(b) = key_b64 {
        v["key_base64"] = b.into();
    }
    if let Some(b) = value_b64 {
        v["value_base64"] = b.into();
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn filters_are_data() {
        let f = Filter::from_params(&params(&[("contains", "sword")]));
        assert!(f.matches(None, Some(br#"{"event_type":"purchase_sword"}"#)));
        assert!(!f.matches(None, Some(b"join_guild")));
        let f = Filter::from_params(&params(&[("field.event_type", "purchase_sword"), ("field.meta.level", "3")]));
        assert!(f.matches(None, Some(br#"{"event_type":"purchase_sword","meta":{"level":3}}"#)));
        assert!(!f.matches(None, Some(br#"{"event_type":"purchase_sword","meta":{"level":4}}"#)));
        assert!(!f.matches(None, Some(b"not json")));
        let f = Filter::from_params(&params(&[("key", "u1")]));
        assert!(f.matches(Some(b"u1"), Some(b"x")));
        assert!(!f.matches(Some(b"u2"), Some(b"x")));
        // Looks like code, is only text to search for.
        let f = Filter::from_params(&params(&[("contains", "'); drop table x; --")]));
        assert!(!f.matches(None, Some(b"anything")));
    }
}
