//! Browsing a topic's messages as JSON, a page at a time: newest first across
//! partitions, or forward from an offset or a time, with cursors to page
//! older and newer. This is what the UI's Kafka browser shows; range reads
//! for cells stay Arrow IPC (`read.rs`).
//!
//! A page is exact: per partition it holds one contiguous run of offsets, so
//! paging with its cursors never skips or repeats a message. Across
//! partitions the runs are merged by timestamp (newest first going backward,
//! oldest first going forward).
//!
//! The work is bounded: at most [`MAX_LIMIT`] messages a page, at most
//! [`MAX_FETCH`] fetched for it over all partitions, values cut at
//! [`MAX_SHOWN`] bytes, at most [`MAX_HELD`] bytes held, and a deadline.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use base64::Engine as _;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{Headers, Message, Timestamp};
use rdkafka::{Offset, TopicPartitionList};
use serde::Deserialize;
use serde_json::{Value, json};

use super::read::{Bound, Span, times};
use super::{Activity, Kafka, blocking};
use crate::{ApiError, AppState};

/// The most messages one page may ask for.
pub(crate) const MAX_LIMIT: usize = 1000;
/// The most messages fetched for one page over all partitions (each partition
/// gets an equal share, at most the page's limit).
const MAX_FETCH: usize = 5000;
/// Keys and values longer than this are cut (the full size is given).
const MAX_SHOWN: usize = 64 * 1024;
/// The most bytes of keys and values one page may fetch.
const MAX_HELD: usize = 64 * 1024 * 1024;
const DEFAULT_LIMIT: usize = 50;

#[derive(Deserialize, Default)]
pub(crate) struct BrowseQuery {
    from: Option<String>,
    limit: Option<usize>,
    partition: Option<String>,
    direction: Option<String>,
    cursor: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    /// Older messages: per partition, the run that ends at its position.
    Backward,
    /// Newer messages: per partition, the run that starts at its position.
    Forward,
}

impl Direction {
    fn parse(text: &str) -> Result<Direction, ApiError> {
        match text.trim().to_ascii_lowercase().as_str() {
            "backward" | "backwards" | "older" => Ok(Direction::Backward),
            "forward" | "forwards" | "newer" => Ok(Direction::Forward),
            other => Err(ApiError::bad_request(format!(
                "direction={other} is not known: use backward (older messages, newest first) or forward (newer messages, oldest first)"
            ))),
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Direction::Backward => "backward",
            Direction::Forward => "forward",
        }
    }
}

/// `0:17,1:20`: per partition, where a page starts (forward) or ends
/// (backward, exclusive).
pub(crate) fn parse_cursor(text: &str) -> Result<Vec<(i32, i64)>, ApiError> {
    let bad = || {
        ApiError::bad_request(format!(
            "cursor={text} is not a cursor: pass the older or newer cursor of a previous page as it was, such as 0:17,1:20"
        ))
    };
    let mut out: Vec<(i32, i64)> = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (p, o) = part.split_once(':').ok_or_else(bad)?;
        let p: i32 = p.trim().parse().map_err(|_| bad())?;
        let o: i64 = o.trim().parse().map_err(|_| bad())?;
        if p < 0 || o < 0 || out.iter().any(|(q, _)| *q == p) {
            return Err(bad());
        }
        out.push((p, o));
    }
    if out.is_empty() {
        return Err(bad());
    }
    out.sort_unstable();
    Ok(out)
}

pub(crate) fn cursor_text(positions: &[(i32, i64)]) -> String {
    positions.iter().map(|(p, o)| format!("{p}:{o}")).collect::<Vec<_>>().join(",")
}

/// One message, with key and value cut at [`MAX_SHOWN`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Shown {
    pub partition: i32,
    pub offset: i64,
    pub timestamp: Option<i64>,
    pub timestamp_type: &'static str,
    pub key: Option<Vec<u8>>,
    pub key_size: usize,
    pub value: Option<Vec<u8>>,
    pub value_size: usize,
    pub headers: Vec<(String, Option<Vec<u8>>)>,
}

impl Shown {
    fn of(m: &impl Message) -> Shown {
        let cut = |b: Option<&[u8]>| b.map(|b| b[..b.len().min(MAX_SHOWN)].to_vec());
        let (timestamp, timestamp_type) = match m.timestamp() {
            Timestamp::CreateTime(ms) => (Some(ms), "create"),
            Timestamp::LogAppendTime(ms) => (Some(ms), "log_append"),
            Timestamp::NotAvailable => (None, "none"),
        };
        Shown {
            partition: m.partition(),
            offset: m.offset(),
            timestamp,
            timestamp_type,
            key: cut(m.key()),
            key_size: m.key().map_or(0, <[u8]>::len),
            value: cut(m.payload()),
            value_size: m.payload().map_or(0, <[u8]>::len),
            headers: m
                .headers()
                .map(|hs| hs.iter().map(|h| (h.key.to_string(), cut(h.value))).collect())
                .unwrap_or_default(),
        }
    }

    fn bytes(&self) -> usize {
        self.key.as_ref().map_or(0, Vec::len) + self.value.as_ref().map_or(0, Vec::len) + 64
    }

    pub(crate) fn to_json(&self) -> Value {
        let mut v = json!({
            "partition": self.partition,
            "offset": self.offset,
            "timestamp": self.timestamp,
            "timestamp_type": self.timestamp_type,
        });
        put_bytes(&mut v, "key", self.key.as_deref(), self.key_size);
        put_bytes(&mut v, "value", self.value.as_deref(), self.value_size);
        v["headers"] = self
            .headers
            .iter()
            .map(|(k, val)| {
                let mut h = json!({ "key": k });
                put_bytes(&mut h, "value", val.as_deref(), val.as_ref().map_or(0, Vec::len));
                h
            })
            .collect::<Vec<Value>>()
            .into();
        v
    }
}

/// `name` as text when it is UTF-8, else base64, with `name_encoding` saying
/// which (`null` for no bytes at all), and `name_size` when it was cut.
fn put_bytes(v: &mut Value, name: &str, bytes: Option<&[u8]>, size: usize) {
    let (text, encoding) = match bytes {
        None => (Value::Null, "null"),
        Some(b) => match std::str::from_utf8(b) {
            Ok(s) => (Value::String(s.to_string()), "utf8"),
            // A cut in the middle of a character is still text.
            Err(e) if b.len() < size && e.error_len().is_none() => {
                (Value::String(String::from_utf8_lossy(&b[..e.valid_up_to()]).into_owned()), "utf8")
            }
            Err(_) => (Value::String(base64::engine::general_purpose::STANDARD.encode(b)), "base64"),
        },
    };
    v[name] = text;
    v[format!("{name}_encoding")] = encoding.into();
    if bytes.is_some_and(|b| b.len() < size) {
        v[format!("{name}_size")] = size.into();
        v[format!("{name}_truncated")] = true.into();
    }
}

/// Per partition: its watermarks, the run of offsets fetched, and what was fetched.
#[derive(Debug, Clone)]
pub(crate) struct Lane {
    pub partition: i32,
    pub low: i64,
    pub high: i64,
    /// The offsets fetched: `start..end`.
    pub start: i64,
    pub end: i64,
    /// The messages of `start..end`, by offset (gaps possible: compaction, transactions).
    pub messages: Vec<Shown>,
}

/// A page: the messages in the order shown, and where to go next.
#[derive(Debug)]
pub(crate) struct Page {
    pub messages: Vec<Shown>,
    /// Per partition, the first offset the page covers (backward from it is older).
    pub older: Vec<(i32, i64)>,
    /// Per partition, one past the last offset the page covers (forward from it is newer).
    pub newer: Vec<(i32, i64)>,
    pub has_older: bool,
    pub has_newer: bool,
}

/// Merges the lanes by timestamp into one page of at most `limit` messages.
/// Each lane gives a contiguous run from its position; a lane that runs out
/// of fetched messages before reaching its partition's end stops the page, so
/// the cursors stay exact.
pub(crate) fn merge(lanes: Vec<Lane>, direction: Direction, limit: usize) -> Page {
    let n = lanes.len();
    // Cursors into each lane's messages, walking away from the position.
    let mut next: Vec<usize> = vec![0; n];
    let ordered: Vec<Vec<Shown>> = lanes
        .iter()
        .map(|l| {
            let mut m = l.messages.clone();
            if direction == Direction::Backward {
                m.reverse();
            }
            m
        })
        .collect();
    let at_bound = |i: usize| match direction {
        Direction::Backward => lanes[i].start <= lanes[i].low,
        Direction::Forward => lanes[i].end >= lanes[i].high,
    };
    let mut out = Vec::with_capacity(limit.min(MAX_FETCH));
    while out.len() < limit {
        // A lane out of messages that has more in Kafka: we cannot know its
        // next message's time, so the page ends here.
        if (0..n).any(|i| next[i] >= ordered[i].len() && !at_bound(i)) {
            break;
        }
        let candidates = (0..n).filter(|&i| next[i] < ordered[i].len());
        let key = |i: &usize| {
            let m = &ordered[*i][next[*i]];
            (m.timestamp.unwrap_or(i64::MIN), m.offset, m.partition)
        };
        let pick = match direction {
            Direction::Backward => candidates.max_by_key(key),
            Direction::Forward => candidates.min_by_key(key),
        };
        let Some(i) = pick else { break };
        out.push(ordered[i][next[i]].clone());
        next[i] += 1;
    }
    let mut older = Vec::with_capacity(n);
    let mut newer = Vec::with_capacity(n);
    for (i, lane) in lanes.iter().enumerate() {
        let used_all = next[i] >= ordered[i].len();
        let (a, b) = match direction {
            Direction::Backward => {
                let a = if used_all {
                    lane.start
                } else if next[i] == 0 {
                    lane.end
                } else {
                    ordered[i][next[i] - 1].offset
                };
                (a, lane.end)
            }
            Direction::Forward => {
                let b = if used_all {
                    lane.end
                } else if next[i] == 0 {
                    lane.start
                } else {
                    ordered[i][next[i] - 1].offset + 1
                };
                (lane.start, b)
            }
        };
        older.push((lane.partition, a));
        newer.push((lane.partition, b));
    }
    let has_older = lanes.iter().zip(&older).any(|(l, (_, a))| *a > l.low);
    let has_newer = lanes.iter().zip(&newer).any(|(l, (_, b))| *b < l.high);
    Page { messages: out, older, newer, has_older, has_newer }
}

/// `GET /api/kafka/topics/{topic}/messages?from=&limit=&partition=&direction=&cursor=`
pub(crate) async fn browse(
    State(state): State<AppState>,
    Path(topic): Path<String>,
    Query(q): Query<BrowseQuery>,
) -> Result<Json<Value>, ApiError> {
    let kafka = state.kafka.clone();
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT);
    if limit == 0 || limit > MAX_LIMIT {
        return Err(ApiError::bad_request(format!(
            "limit={limit} is out of range: a page holds 1 to {MAX_LIMIT} messages; page on with the older and newer cursors"
        )));
    }
    let cursor = q.cursor.as_deref().map(str::trim).filter(|c| !c.is_empty()).map(parse_cursor).transpose()?;
    if cursor.is_some() && q.from.as_deref().is_some_and(|f| !f.trim().is_empty()) {
        return Err(ApiError::bad_request(
            "give from= or cursor=, not both: a cursor already says where the page starts",
        ));
    }
    let from = Bound::parse(q.from.as_deref().unwrap_or("latest"), "from")?;
    let direction = match (q.direction.as_deref().map(str::trim).filter(|d| !d.is_empty()), &cursor) {
        (Some(d), _) => Direction::parse(d)?,
        (None, Some(_)) => {
            return Err(ApiError::bad_request(
                "a cursor needs a direction: direction=backward with a page's older cursor, direction=forward with its newer one",
            ));
        }
        (None, None) if from == Bound::Latest => Direction::Backward,
        (None, None) => Direction::Forward,
    };
    let all = kafka.partitions(&topic).await?;
    let selected: Vec<i32> = match (&cursor, q.partition.as_deref().map(str::trim).filter(|p| !p.is_empty())) {
        (Some(c), _) => c.iter().map(|(p, _)| *p).collect(),
        (None, None) => all.clone(),
        (None, Some(list)) => {
            let mut chosen = Vec::new();
            for p in list.split(',') {
                let p: i32 = p.trim().parse().map_err(|_| {
                    ApiError::bad_request(format!(
                        "partition={list} must be a partition number, such as 0 (or a list: 0,2)"
                    ))
                })?;
                if !chosen.contains(&p) {
                    chosen.push(p);
                }
            }
            chosen.sort_unstable();
            chosen
        }
    };
    if let Some(p) = selected.iter().find(|p| !all.contains(p)) {
        return Err(ApiError::bad_request(format!(
            "topic '{topic}' has no partition {p}; it has {} partition(s), numbered from 0",
            all.len()
        )));
    }
    let marks = kafka.watermarks(&topic, &selected).await?;
    let positions: Vec<i64> = match &cursor {
        Some(c) => marks.iter().zip(c).map(|(&(_, low, high), &(_, o))| o.clamp(low, high)).collect(),
        None => {
            let found = times(&kafka, &topic, &selected, from).await?;
            if let Bound::Offset(n) = from
                && marks.iter().all(|&(_, _, high)| n > high)
            {
                let ends: Vec<String> = marks.iter().map(|(p, l, h)| format!("{p}: {l}..{h}")).collect();
                return Err(ApiError::bad_request(format!(
                    "offset {n} is past the end of topic '{topic}' (partition: first..next offset; {}). \
                         Use from=latest for the newest messages",
                    ends.join(", ")
                )));
            }
            marks
                .iter()
                .zip(found)
                .map(|(&(_, low, high), t)| match from {
                    Bound::Earliest => low,
                    Bound::Latest => high,
                    Bound::Offset(n) => n.clamp(low, high),
                    Bound::Timestamp(_) => t.unwrap_or(high),
                })
                .collect()
        }
    };
    let share = limit.min((MAX_FETCH / selected.len().max(1)).max(1)) as i64;
    let lanes: Vec<Lane> = marks
        .iter()
        .zip(&positions)
        .map(|(&(partition, low, high), &at)| {
            let (start, end) = match direction {
                Direction::Backward => ((at - share).max(low), at),
                Direction::Forward => (at, (at + share).min(high)),
            };
            Lane { partition, low, high, start, end, messages: Vec::new() }
        })
        .collect();
    let started = Instant::now();
    let lanes = fetch(&kafka, &topic, lanes).await?;
    let fetched: usize = lanes.iter().map(|l| l.messages.len()).sum();
    let watermarks: Vec<Value> =
        lanes.iter().map(|l| json!({ "partition": l.partition, "low": l.low, "high": l.high })).collect();
    let page = merge(lanes, direction, limit);
    tracing::debug!(topic = %topic, fetched, shown = page.messages.len(), ms = started.elapsed().as_millis() as u64, "browse");
    Ok(Json(json!({
        "topic": topic,
        "direction": direction.as_str(),
        "limit": limit,
        "messages": page.messages.iter().map(Shown::to_json).collect::<Vec<_>>(),
        "older": page.has_older.then(|| cursor_text(&page.older)),
        "newer": page.has_newer.then(|| cursor_text(&page.newer)),
        "partitions": watermarks,
    })))
}

/// Reads every lane's `start..end` with a consumer of its own, within a deadline.
async fn fetch(kafka: &Arc<Kafka>, topic: &str, mut lanes: Vec<Lane>) -> Result<Vec<Lane>, ApiError> {
    if lanes.iter().all(|l| l.start >= l.end) {
        return Ok(lanes);
    }
    let consumer: BaseConsumer =
        kafka.config.consumer("riffle-browse").create().map_err(|e| {
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("could not create a consumer: {e}"))
        })?;
    let guard = kafka.track_uncapped(Activity::Read);
    // Twice the metadata deadline: a fetch needs a connection to each leader too.
    let deadline = kafka.config.timeout * 2;
    let k = kafka.clone();
    let topic = topic.to_string();
    blocking(move || {
        let _guard = guard;
        collect(&k, &consumer, &topic, &mut lanes, deadline).map(|()| lanes)
    })
    .await?
}

fn collect(
    kafka: &Kafka,
    consumer: &BaseConsumer,
    topic: &str,
    lanes: &mut [Lane],
    deadline: Duration,
) -> Result<(), ApiError> {
    let mut pending: Vec<Span> = lanes
        .iter()
        .filter(|l| l.start < l.end)
        .map(|l| Span { partition: l.partition, start: l.start, end: l.end })
        .collect();
    let mut tpl = TopicPartitionList::new();
    for s in &pending {
        tpl.add_partition_offset(topic, s.partition, Offset::Offset(s.start))
            .map_err(|e| ApiError::bad_request(format!("{topic}/{}: {e}", s.partition)))?;
    }
    consumer.assign(&tpl).map_err(|e| kafka.error("assigning partitions", &e))?;
    let started = Instant::now();
    let mut by_partition: BTreeMap<i32, Vec<Shown>> = BTreeMap::new();
    let mut held = 0usize;
    while !pending.is_empty() {
        if kafka.shutdown.is_cancelled() {
            return Err(ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "the gateway is shutting down"));
        }
        if started.elapsed() > deadline {
            let left: Vec<String> = pending.iter().map(|s| format!("{topic}/{}", s.partition)).collect();
            return Err(kafka.unreachable(format!(
                "no messages arrived within {} s for {}",
                deadline.as_secs(),
                left.join(", ")
            )));
        }
        let Some(event) = consumer.poll(Duration::from_millis(100)) else { continue };
        match event {
            Ok(m) => {
                let Some(at) = pending.iter().position(|s| s.partition == m.partition()) else { continue };
                let span = pending[at];
                if m.offset() >= span.start && m.offset() < span.end {
                    let shown = Shown::of(&m);
                    held += shown.bytes();
                    if held > MAX_HELD {
                        return Err(ApiError::bad_request(format!(
                            "a page of {topic} would hold more than {} MiB of keys and values; ask for fewer \
                             messages (limit=) or one partition (partition=)",
                            MAX_HELD >> 20
                        )));
                    }
                    by_partition.entry(m.partition()).or_default().push(shown);
                }
                if m.offset() >= span.end - 1 {
                    pause(consumer, topic, pending.remove(at).partition);
                }
            }
            Err(KafkaError::PartitionEOF(p)) => {
                if let Some(at) = pending.iter().position(|s| s.partition == p) {
                    pause(consumer, topic, pending.remove(at).partition);
                }
            }
            Err(e) => return Err(kafka.error(&format!("reading {topic}"), &e)),
        }
    }
    for lane in lanes.iter_mut() {
        lane.messages = by_partition.remove(&lane.partition).unwrap_or_default();
        lane.messages.sort_by_key(|m| m.offset);
    }
    Ok(())
}

fn pause(consumer: &BaseConsumer, topic: &str, partition: i32) {
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition(topic, partition);
    let _ = consumer.pause(&tpl);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(partition: i32, offset: i64, timestamp: i64) -> Shown {
        Shown {
            partition,
            offset,
            timestamp: Some(timestamp),
            timestamp_type: "create",
            key: None,
            key_size: 0,
            value: Some(format!("{partition}/{offset}").into_bytes()),
            value_size: 3,
            headers: Vec::new(),
        }
    }

    fn lane(partition: i32, low: i64, high: i64, start: i64, end: i64, ts: impl Fn(i64) -> i64) -> Lane {
        Lane { partition, low, high, start, end, messages: (start..end).map(|o| msg(partition, o, ts(o))).collect() }
    }

    fn ids(page: &Page) -> Vec<(i32, i64)> {
        page.messages.iter().map(|m| (m.partition, m.offset)).collect()
    }

    #[test]
    fn newest_first_across_partitions() {
        // Partition 0 has times 0, 10, 20, ...; partition 1 has 5, 15, 25, ...
        let lanes = vec![lane(0, 0, 10, 6, 10, |o| o * 10), lane(1, 0, 10, 6, 10, |o| o * 10 + 5)];
        let page = merge(lanes, Direction::Backward, 4);
        assert_eq!(ids(&page), vec![(1, 9), (0, 9), (1, 8), (0, 8)]);
        assert_eq!(page.older, vec![(0, 8), (1, 8)]);
        assert_eq!(page.newer, vec![(0, 10), (1, 10)]);
        assert!(page.has_older);
        assert!(!page.has_newer);
    }

    #[test]
    fn a_lane_that_runs_out_ends_the_page() {
        // Partition 1 was fetched only down to offset 8 but holds older messages.
        let lanes = vec![lane(0, 0, 10, 0, 10, |o| o), lane(1, 0, 10, 8, 10, |o| 100 + o)];
        let page = merge(lanes, Direction::Backward, 10);
        assert_eq!(ids(&page), vec![(1, 9), (1, 8)]);
        assert_eq!(page.older, vec![(0, 10), (1, 8)]);
        // At the start of a partition, it is not a reason to stop.
        let lanes = vec![lane(0, 0, 10, 0, 10, |o| o), lane(1, 8, 10, 8, 10, |o| 100 + o)];
        let page = merge(lanes, Direction::Backward, 5);
        assert_eq!(ids(&page), vec![(1, 9), (1, 8), (0, 9), (0, 8), (0, 7)]);
        assert_eq!(page.older, vec![(0, 7), (1, 8)]);
        assert!(page.has_older);
    }

    #[test]
    fn forward_pages_meet_the_backward_ones() {
        let lanes = vec![lane(0, 0, 4, 0, 4, |o| o * 10), lane(1, 0, 4, 0, 4, |o| o * 10 + 5)];
        let page = merge(lanes, Direction::Forward, 3);
        assert_eq!(ids(&page), vec![(0, 0), (1, 0), (0, 1)]);
        assert_eq!(page.newer, vec![(0, 2), (1, 1)]);
        assert_eq!(page.older, vec![(0, 0), (1, 0)]);
        assert!(!page.has_older);
        assert!(page.has_newer);
        let empty = merge(vec![lane(0, 0, 4, 4, 4, |o| o)], Direction::Forward, 3);
        assert!(empty.messages.is_empty());
        assert!(!empty.has_newer);
        assert!(empty.has_older);
        assert_eq!(empty.older, vec![(0, 4)]);
    }

    #[test]
    fn cursors_round_trip_and_refuse_junk() {
        assert_eq!(parse_cursor("1:20, 0:17").unwrap(), vec![(0, 17), (1, 20)]);
        assert_eq!(cursor_text(&[(0, 17), (1, 20)]), "0:17,1:20");
        for junk in ["", "0", "a:1", "0:-1", "0:1,0:2", "0:1;1:2"] {
            let e = parse_cursor(junk).unwrap_err();
            assert_eq!(e.status, StatusCode::BAD_REQUEST, "{junk}");
            assert!(e.message.contains("cursor"), "{junk}: {}", e.message);
        }
    }

    #[test]
    fn values_are_text_or_base64_and_cut() {
        let mut v = json!({});
        put_bytes(&mut v, "value", Some(b"{\"a\":1}"), 7);
        assert_eq!(v["value"], "{\"a\":1}");
        assert_eq!(v["value_encoding"], "utf8");
        assert!(v.get("value_truncated").is_none());
        put_bytes(&mut v, "key", Some(&[0xff, 0x00, 0x10]), 3);
        assert_eq!(v["key_encoding"], "base64");
        assert_eq!(v["key"], "/wAQ");
        put_bytes(&mut v, "key", None, 0);
        assert_eq!(v["key"], Value::Null);
        assert_eq!(v["key_encoding"], "null");
        // Cut inside a two-byte character: still text, shorter.
        let text = "é".repeat(10);
        put_bytes(&mut v, "value", Some(&text.as_bytes()[..5]), text.len());
        assert_eq!(v["value"], "éé");
        assert_eq!(v["value_encoding"], "utf8");
        assert_eq!(v["value_size"], 20);
        assert_eq!(v["value_truncated"], true);
    }

    #[test]
    fn directions_parse() {
        assert_eq!(Direction::parse("Backward").unwrap(), Direction::Backward);
        assert_eq!(Direction::parse("forward").unwrap(), Direction::Forward);
        assert!(Direction::parse("sideways").unwrap_err().message.contains("backward"));
    }
}
