//! The gateway's Kafka API against a real Apache Kafka broker: topics,
//! produce, range reads as Arrow IPC, the WebSocket tail and /ingest.
//!
//! Every test has its own gateway and its own topics (the broker is shared and
//! the tests run in parallel), and checks what comes back against values it
//! made itself.

use std::collections::{BTreeMap, HashMap};
use std::io::Cursor;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail, ensure};
use arrow_array::cast::AsArray;
use arrow_array::types::TimestampMillisecondType;
use arrow_array::{Array, RecordBatch};
use arrow_schema::{DataType, Field, Fields, TimeUnit};
use futures::StreamExt;
use reqwest::StatusCode;
use riffle_tests::{Broker, Gateway, GatewayOptions, TempDir, kafka_bootstrap, repo};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// A topic name no other test (or earlier run) uses.
pub(super) fn unique(label: &str) -> String {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or_default();
    format!("e2e-{label}-{}-{nanos}", std::process::id())
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or_default()
}

/// A gateway of this test's own, and an HTTP client for it.
pub(super) struct Riffle {
    pub(super) url: String,
    pub(super) http: reqwest::Client,
    _gateway: Gateway,
    _data: TempDir,
}

/// A gateway talking to the shared test broker.
pub(super) fn riffle() -> Result<Riffle> {
    riffle_at(&kafka_bootstrap())
}

/// A gateway talking to the shared test broker, started with more flags.
pub(super) fn riffle_with(args: &[&str]) -> Result<Riffle> {
    let data = TempDir::new("kafka-data")?;
    let options = GatewayOptions { args: args.iter().map(|a| a.to_string()).collect(), ..Default::default() };
    let gateway = Gateway::start_with(data.path(), options)?;
    Ok(Riffle { url: gateway.url.clone(), http: reqwest::Client::new(), _gateway: gateway, _data: data })
}

fn riffle_at(bootstrap: &str) -> Result<Riffle> {
    let data = TempDir::new("kafka-data")?;
    let gateway = Gateway::start_with_kafka(data.path(), bootstrap)?;
    Ok(Riffle { url: gateway.url.clone(), http: reqwest::Client::new(), _gateway: gateway, _data: data })
}

/// One row of a range read.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    key: Option<Vec<u8>>,
    value: Option<Vec<u8>>,
    topic: String,
    partition: i32,
    offset: i64,
    timestamp: Option<i64>,
    timestamp_type: i32,
    headers: Vec<(String, Option<Vec<u8>>)>,
}

impl Row {
    fn text(&self) -> &str {
        self.value.as_deref().map(|v| std::str::from_utf8(v).expect("a value that is not UTF-8")).unwrap_or_default()
    }
}

/// A decoded range read.
struct Read {
    rows: Vec<Row>,
    /// `x-riffle-plan`: the spans, by partition.
    plan: Vec<(i32, i64, i64)>,
    batches: usize,
}

impl Read {
    fn texts(&self) -> Vec<&str> {
        self.rows.iter().map(Row::text).collect()
    }

    /// Rows by partition, in the order they came.
    fn by_partition(&self) -> BTreeMap<i32, Vec<&Row>> {
        let mut out: BTreeMap<i32, Vec<&Row>> = BTreeMap::new();
        for r in &self.rows {
            out.entry(r.partition).or_default().push(r);
        }
        out
    }
}

impl Riffle {
    pub(super) fn pid(&self) -> u32 {
        self._gateway.pid()
    }

    fn api(&self, path: &str) -> String {
        format!("{}/api/kafka{path}", self.url)
    }

    async fn get_json(&self, path: &str) -> Result<(StatusCode, Value)> {
        let response = self.http.get(self.api(path)).send().await?;
        let status = response.status();
        Ok((status, response.json().await?))
    }

    pub(super) async fn create_topic(&self, name: &str, partitions: i32) -> Result<Value> {
        let response = self
            .http
            .post(self.api("/topics"))
            .json(&json!({ "name": name, "partitions": partitions, "replication_factor": 1 }))
            .send()
            .await?;
        let status = response.status();
        let body: Value = response.json().await?;
        ensure!(status == StatusCode::CREATED, "creating {name}: {status} {body}");
        Ok(body)
    }

    /// Deletes a topic at the end of a test, so the shared broker does not fill up.
    pub(super) async fn delete_topic(&self, name: &str) -> Result<()> {
        let response = self.http.delete(self.api(&format!("/topics/{name}?confirm={name}"))).send().await?;
        let status = response.status();
        let body: Value = response.json().await?;
        ensure!(status == StatusCode::OK, "deleting {name}: {status} {body}");
        assert_eq!(body["deleted"], name);
        Ok(())
    }

    /// POSTs a produce request and returns the status and the JSON answer.
    async fn produce(
        &self,
        topic: &str,
        query: &str,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> Result<(StatusCode, Value)> {
        let response = self
            .http
            .post(self.api(&format!("/topics/{topic}/produce{query}")))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await?;
        let status = response.status();
        Ok((status, response.json().await?))
    }

    /// Produces JSON records and expects every one to be acknowledged:
    /// returns each one's (partition, offset).
    async fn produce_records(&self, topic: &str, records: Vec<Value>) -> Result<Vec<(i32, i64)>> {
        let n = records.len();
        let body = serde_json::to_vec(&json!({ "records": records }))?;
        let (status, answer) = self.produce(topic, "", "application/json", body).await?;
        ensure!(status == StatusCode::OK, "produce: {status} {answer}");
        assert_eq!(answer["produced"], n, "{answer}");
        assert_eq!(answer["failed"], 0, "{answer}");
        positions(&answer)
    }

    /// Produces text lines (one message each) and expects all to be acknowledged.
    pub(super) async fn produce_lines(&self, topic: &str, query: &str, lines: &[String]) -> Result<Value> {
        let mut body = lines.join("\n");
        body.push('\n');
        let (status, answer) = self.produce(topic, query, "text/plain", body).await?;
        ensure!(status == StatusCode::OK, "produce lines: {status} {answer}");
        assert_eq!(answer["produced"], lines.len(), "{answer}");
        assert_eq!(answer["failed"], 0, "{answer}");
        Ok(answer)
    }

    /// A range read, decoded. Checks the content type and that the planned
    /// total in `x-riffle-messages` is what arrived.
    async fn read(&self, topic: &str, query: &str) -> Result<Read> {
        let response = self.http.get(self.api(&format!("/topics/{topic}/read{query}"))).send().await?;
        let status = response.status();
        if status != StatusCode::OK {
            bail!("read {topic}{query}: {status} {}", response.text().await.unwrap_or_default());
        }
        let header = |name: &str| -> Result<String> {
            Ok(response.headers().get(name).with_context(|| format!("no {name} header"))?.to_str()?.to_string())
        };
        assert_eq!(header("content-type")?, "application/vnd.apache.arrow.stream");
        let planned: usize = header("x-riffle-messages")?.parse()?;
        let plan: Vec<Value> = serde_json::from_str(&header("x-riffle-plan")?)?;
        let plan = plan
            .iter()
            .map(|s| -> Result<(i32, i64, i64)> {
                Ok((
                    s["partition"].as_i64().context("span without partition")? as i32,
                    s["start"].as_i64().context("span without start")?,
                    s["end"].as_i64().context("span without end")?,
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        let bytes = response.bytes().await?;
        let (rows, batches) = decode(&bytes)?;
        assert_eq!(
            planned,
            rows.len(),
            "x-riffle-messages says {planned} but {} rows came for {topic}{query}",
            rows.len()
        );
        Ok(Read { rows, plan, batches })
    }
}

/// (partition, offset) of every record of a produce answer; fails on any error.
fn positions(answer: &Value) -> Result<Vec<(i32, i64)>> {
    answer["results"]
        .as_array()
        .context("no results")?
        .iter()
        .map(|r| {
            Ok((
                r["partition"].as_i64().with_context(|| format!("not produced: {r}"))? as i32,
                r["offset"].as_i64().with_context(|| format!("not produced: {r}"))?,
            ))
        })
        .collect()
}

/// The columns a read must have, as Spark's Kafka source names them.
fn expected_fields() -> Vec<(&'static str, DataType)> {
    let header = DataType::Struct(Fields::from(vec![
        Field::new("key", DataType::Utf8, false),
        Field::new("value", DataType::Binary, true),
    ]));
    vec![
        ("key", DataType::Binary),
        ("value", DataType::Binary),
        ("topic", DataType::Utf8),
        ("partition", DataType::Int32),
        ("offset", DataType::Int64),
        ("timestamp", DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into()))),
        ("timestampType", DataType::Int32),
        ("headers", DataType::List(Arc::new(Field::new("item", header, false)))),
    ]
}

/// Decodes an Arrow IPC stream into rows; also returns the number of batches.
fn decode(bytes: &[u8]) -> Result<(Vec<Row>, usize)> {
    let reader = arrow_ipc::reader::StreamReader::try_new(Cursor::new(bytes), None)
        .context("the read is not an Arrow IPC stream")?;
    let schema = reader.schema();
    let found: Vec<(&str, &DataType)> = schema.fields().iter().map(|f| (f.name().as_str(), f.data_type())).collect();
    let want = expected_fields();
    let want: Vec<(&str, &DataType)> = want.iter().map(|(n, t)| (*n, t)).collect();
    assert_eq!(found, want, "the columns of a read");
    let mut rows = Vec::new();
    let mut batches = 0;
    for batch in reader {
        batches += 1;
        rows_of(&batch?, &mut rows)?;
    }
    Ok((rows, batches))
}

fn rows_of(batch: &RecordBatch, out: &mut Vec<Row>) -> Result<()> {
    let col = |name: &str| batch.column_by_name(name).context("missing column");
    let key = col("key")?.as_binary::<i32>();
    let value = col("value")?.as_binary::<i32>();
    let topic = col("topic")?.as_string::<i32>();
    let partition = col("partition")?.as_primitive::<arrow_array::types::Int32Type>();
    let offset = col("offset")?.as_primitive::<arrow_array::types::Int64Type>();
    let timestamp = col("timestamp")?.as_primitive::<TimestampMillisecondType>();
    let kind = col("timestampType")?.as_primitive::<arrow_array::types::Int32Type>();
    let headers = col("headers")?.as_list::<i32>();
    let bytes = |a: &arrow_array::BinaryArray, i: usize| (!a.is_null(i)).then(|| a.value(i).to_vec());
    for i in 0..batch.num_rows() {
        let list = headers.value(i);
        let list = list.as_struct();
        let names = list.column(0).as_string::<i32>();
        let values = list.column(1).as_binary::<i32>();
        out.push(Row {
            key: bytes(key, i),
            value: bytes(value, i),
            topic: topic.value(i).to_string(),
            partition: partition.value(i),
            offset: offset.value(i),
            timestamp: (!timestamp.is_null(i)).then(|| timestamp.value(i)),
            timestamp_type: kind.value(i),
            headers: (0..list.len()).map(|h| (names.value(h).to_string(), bytes(values, h))).collect(),
        });
    }
    Ok(())
}

/// Checks an error answer: its status, and that its message names each of `needles`.
async fn expect_error(response: reqwest::Response, status: StatusCode, needles: &[&str]) -> Result<String> {
    let got = response.status();
    let text = response.text().await?;
    assert_eq!(got, status, "expected {status}, got {got}: {text}");
    let body: Value = serde_json::from_str(&text).with_context(|| format!("an error that is not JSON: {text}"))?;
    let message = body["error"].as_str().with_context(|| format!("an error without a message: {text}"))?.to_string();
    for needle in needles {
        assert!(message.contains(needle), "the {status} message should name {needle:?}: {message}");
    }
    Ok(message)
}

/// Polls `/api/kafka/status` until `field` is `want`.
async fn wait_for_status(riffle: &Riffle, field: &str, want: u64) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, status) = riffle.get_json("/status").await?;
        if status[field] == want {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("{field} is still not {want} after 30 s: {status}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

// ---------------------------------------------------------------------------
// Workflows
// ---------------------------------------------------------------------------

/// Create a topic, produce "1".."42" as lines, read it all back.
#[tokio::test]
async fn workflow_lines_in_lines_out() -> Result<()> {
    let riffle = riffle()?;
    let topic = unique("lines");
    let created = riffle.create_topic(&topic, 1).await?;
    assert_eq!(created["created"], true);
    assert_eq!(created["topic"]["partitions"], 1);
    // Creating it again is not an error, and says so.
    let again = riffle.http.post(riffle.api("/topics")).json(&json!({ "name": topic, "partitions": 1 })).send().await?;
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(again.json::<Value>().await?["created"], false);

    let lines: Vec<String> = (1..=42).map(|i| i.to_string()).collect();
    let before = now_ms();
    let answer = riffle.produce_lines(&topic, "", &lines).await?;
    let after = now_ms();
    let want: Vec<(i32, i64)> = (0..42).map(|o| (0, o)).collect();
    assert_eq!(positions(&answer)?, want);

    let (status, listed) = riffle.get_json("/topics").await?;
    assert_eq!(status, StatusCode::OK);
    let entry = listed["topics"]
        .as_array()
        .context("no topics list")?
        .iter()
        .find(|t| t["name"] == topic.as_str())
        .with_context(|| format!("{topic} is not listed: {listed}"))?;
    assert_eq!(entry["messages"], 42);
    let (status, described) = riffle.get_json(&format!("/topics/{topic}")).await?;
    assert_eq!(status, StatusCode::OK);
    let offsets = &described["partition_offsets"][0];
    assert_eq!(
        (&offsets["partition"], &offsets["low"], &offsets["high"], &offsets["messages"]),
        (&json!(0), &json!(0), &json!(42), &json!(42)),
        "{described}"
    );
    assert_eq!(described["partition_offsets"].as_array().map(Vec::len), Some(1));

    let read = riffle.read(&topic, "?from=earliest&to=latest").await?;
    assert_eq!(read.rows.len(), 42);
    let values: Vec<&str> = read.texts();
    let want: Vec<String> = (1..=42).map(|i| i.to_string()).collect();
    assert_eq!(values, want);
    for (i, row) in read.rows.iter().enumerate() {
        assert_eq!(row.offset, i as i64);
        assert_eq!(row.partition, 0);
        assert_eq!(row.topic, topic);
        assert_eq!(row.key, None);
        assert_eq!(row.timestamp_type, 0, "CreateTime");
        assert!(row.headers.is_empty());
        let ts = row.timestamp.context("a row without a timestamp")?;
        // The producer stamps the time it sends; same machine, same clock.
        assert!((before - 1000..=after + 1000).contains(&ts), "timestamp {ts} is not between {before} and {after}");
    }
    assert_eq!(read.plan, vec![(0, 0, 42)]);
    riffle.delete_topic(&topic).await
}

/// Produce the commits sample as a JSON array, one message per element, and
/// read each element back unchanged.
#[tokio::test]
async fn workflow_json_array_of_commits() -> Result<()> {
    let source: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(repo().join("data/samples/commits.json"))?)?;
    assert!(source.len() >= 50, "the sample has {} commits", source.len());
    let riffle = riffle()?;
    let topic = unique("commits");
    riffle.create_topic(&topic, 1).await?;
    let body = std::fs::read(repo().join("data/samples/commits.json"))?;
    let (status, answer) =
        riffle.produce(&topic, "?format=json-array&key=commits&results=errors", "application/json", body).await?;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["produced"], source.len());
    assert_eq!(answer["failed"], 0);
    assert_eq!(answer["results"], json!([]), "results=errors lists only errors");

    let read = riffle.read(&topic, "?from=earliest").await?;
    assert_eq!(read.rows.len(), source.len());
    for (i, (row, want)) in read.rows.iter().zip(&source).enumerate() {
        assert_eq!(row.offset, i as i64);
        assert_eq!(row.key.as_deref(), Some(&b"commits"[..]));
        let text = row.text();
        assert!(!text.contains('\n'), "message {i} is not compact JSON: {text}");
        let got: Value = serde_json::from_str(text).with_context(|| format!("message {i} is not JSON: {text}"))?;
        assert_eq!(&got, want, "message {i}");
        assert_eq!(got["commit"]["committer"]["name"], want["commit"]["committer"]["name"], "message {i}");
        assert!(want["commit"]["committer"]["name"].is_string());
    }
    riffle.delete_topic(&topic).await
}

// ---------------------------------------------------------------------------
// Range reads
// ---------------------------------------------------------------------------

/// Offsets, partition subsets, max_messages and timestamps, over three partitions.
#[tokio::test]
async fn range_reads_by_offset_partition_count_and_time() -> Result<()> {
    let riffle = riffle()?;
    let topic = unique("ranges");
    riffle.create_topic(&topic, 3).await?;
    // Batch A: ten records in each partition, with a key and a header.
    let value = |p: i32, i: i64| format!("p{p}-{i}");
    let mut records = Vec::new();
    for p in 0..3 {
        for i in 0..10 {
            records.push(json!({
                "key": format!("k{i}"), "value": value(p, i), "partition": p,
                "headers": { "n": i.to_string() },
            }));
        }
    }
    let acked = riffle.produce_records(&topic, records).await?;
    let want: Vec<(i32, i64)> = (0..3).flat_map(|p| (0..10).map(move |o| (p, o))).collect();
    assert_eq!(acked, want, "each record where it was sent, in order");

    // Everything: each partition's offsets in order, with keys and headers.
    let all = riffle.read(&topic, "").await?;
    assert_eq!(all.rows.len(), 30);
    for (p, rows) in all.by_partition() {
        let offsets: Vec<i64> = rows.iter().map(|r| r.offset).collect();
        assert_eq!(offsets, (0..10).collect::<Vec<_>>(), "partition {p}");
        for r in rows {
            assert_eq!(r.text(), value(p, r.offset));
            assert_eq!(r.key, Some(format!("k{}", r.offset).into_bytes()));
            assert_eq!(r.headers, vec![("n".to_string(), Some(r.offset.to_string().into_bytes()))]);
        }
    }

    // Offsets 3 to 7 (exclusive) of every partition.
    let mid = riffle.read(&topic, "?from=offset:3&to=offset:7").await?;
    assert_eq!(mid.plan, vec![(0, 3, 7), (1, 3, 7), (2, 3, 7)]);
    let mut got: Vec<(i32, i64, String)> =
        mid.rows.iter().map(|r| (r.partition, r.offset, r.text().to_string())).collect();
    got.sort();
    let want: Vec<(i32, i64, String)> = (0..3).flat_map(|p| (3..7).map(move |o| (p, o, value(p, o)))).collect();
    assert_eq!(got, want);

    // A subset of partitions; an end past the last offset stops at the last.
    let some = riffle.read(&topic, "?partitions=0,2&from=offset:8&to=offset:100").await?;
    let mut got: Vec<(i32, i64)> = some.rows.iter().map(|r| (r.partition, r.offset)).collect();
    got.sort();
    assert_eq!(got, vec![(0, 8), (0, 9), (2, 8), (2, 9)]);
    let two = riffle.read(&topic, "?partitions=2").await?;
    assert!(two.rows.iter().all(|r| r.partition == 2));
    assert_eq!(two.rows.len(), 10);

    // At most 7 messages: shared evenly, each partition from its start.
    let capped = riffle.read(&topic, "?max_messages=7").await?;
    assert_eq!(capped.rows.len(), 7);
    let counts: Vec<usize> = capped.by_partition().values().map(Vec::len).collect();
    assert_eq!(counts.len(), 3, "every partition gets a share: {counts:?}");
    assert!(
        counts.iter().max() <= Some(&(counts.iter().min().copied().unwrap_or(0) + 1)),
        "unevenly shared: {counts:?}"
    );
    for (p, rows) in capped.by_partition() {
        let offsets: Vec<i64> = rows.iter().map(|r| r.offset).collect();
        assert_eq!(offsets, (0..rows.len() as i64).collect::<Vec<_>>(), "partition {p}");
    }

    // The end and the empty ranges are still valid streams.
    assert!(riffle.read(&topic, "?from=latest").await?.rows.is_empty());
    assert!(riffle.read(&topic, "?from=offset:5&to=offset:5").await?.rows.is_empty());

    // Timestamps: a boundary just after batch A's last, then batch B.
    let boundary = all.rows.iter().filter_map(|r| r.timestamp).max().context("no timestamps")? + 1;
    while now_ms() <= boundary {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    // Batch B: five records into partitions 0 and 1 each, none into 2.
    let b: Vec<Value> =
        (0..2).flat_map(|p| (0..5).map(move |i| json!({ "value": format!("b{p}-{i}"), "partition": p }))).collect();
    riffle.produce_records(&topic, b).await?;
    let mut batch_a: Vec<String> = all.texts().iter().map(|s| s.to_string()).collect();
    batch_a.sort();
    let mut batch_b: Vec<String> = (0..2).flat_map(|p| (0..5).map(move |i| format!("b{p}-{i}"))).collect();
    batch_b.sort();

    let after = riffle.read(&topic, &format!("?from=timestamp:{boundary}")).await?;
    for r in &after.rows {
        let ts = r.timestamp.context("no timestamp")?;
        assert!(ts >= boundary, "{} at {ts} is before {boundary}", r.text());
    }
    let mut got: Vec<String> = after.texts().iter().map(|s| s.to_string()).collect();
    got.sort();
    assert_eq!(got, batch_b, "from=timestamp gives exactly batch B");
    assert!(after.plan.contains(&(2, 10, 10)), "partition 2 has nothing that late: {:?}", after.plan);

    let before = riffle.read(&topic, &format!("?to=timestamp:{boundary}")).await?;
    let mut got: Vec<String> = before.texts().iter().map(|s| s.to_string()).collect();
    got.sort();
    assert_eq!(got, batch_a, "to=timestamp gives exactly batch A");

    // Both bounds at the boundary: nothing.
    let none = riffle.read(&topic, &format!("?from=timestamp:{boundary}&to=timestamp:{boundary}")).await?;
    assert!(none.rows.is_empty());
    riffle.delete_topic(&topic).await
}

/// 100,000 messages over three partitions: every one exactly once, and each
/// partition's offsets without a gap.
#[tokio::test]
async fn read_of_100_000_messages_is_complete() -> Result<()> {
    const N: usize = 100_000;
    const CHUNK: usize = 25_000;
    let riffle = riffle()?;
    let topic = unique("large");
    riffle.create_topic(&topic, 3).await?;
    // Chunks 0, 1 and 2 go to those partitions; the last one where the
    // partitioner puts it.
    for (c, start) in (0..N).step_by(CHUNK).enumerate() {
        let lines: Vec<String> = (start..start + CHUNK).map(|i| format!("m-{i:06}")).collect();
        let query = if c < 3 { format!("?results=none&partition={c}") } else { "?results=none".to_string() };
        let answer = riffle.produce_lines(&topic, &query, &lines).await?;
        assert_eq!(answer["results"], json!([]), "results=none");
    }

    let read = riffle.read(&topic, "").await?;
    assert_eq!(read.rows.len(), N);
    assert!(read.batches > 1, "a read this size comes in several record batches");
    let mut seen = vec![false; N];
    for r in &read.rows {
        let i: usize = r
            .text()
            .strip_prefix("m-")
            .and_then(|n| n.parse().ok())
            .with_context(|| format!("an unexpected value {:?}", r.text()))?;
        assert!(!seen[i], "m-{i:06} came twice");
        seen[i] = true;
        if i < 3 * CHUNK {
            assert_eq!(r.partition as usize, i / CHUNK, "m-{i:06}");
        }
    }
    assert!(seen.iter().all(|s| *s), "some messages are missing");
    let (_, described) = riffle.get_json(&format!("/topics/{topic}")).await?;
    for (p, rows) in read.by_partition() {
        assert!(rows.len() >= CHUNK, "partition {p} has {}", rows.len());
        // A fresh topic written without transactions: offsets 0..n, in order.
        let offsets: Vec<i64> = rows.iter().map(|r| r.offset).collect();
        assert_eq!(offsets, (0..rows.len() as i64).collect::<Vec<_>>(), "partition {p}");
        assert_eq!(described["partition_offsets"][p as usize]["high"], rows.len(), "{described}");
    }
    riffle.delete_topic(&topic).await
}

/// Dropping a read's response stops the gateway's read.
#[tokio::test]
async fn dropping_a_read_cancels_it() -> Result<()> {
    let riffle = riffle()?;
    let topic = unique("cancel");
    riffle.create_topic(&topic, 3).await?;
    // 100 MB: far more than the gateway's queue and the sockets buffer, so
    // the read cannot be over before the client stops reading.
    let pad = "x".repeat(1000);
    for chunk in 0..4 {
        let lines: Vec<String> = (0..25_000).map(|i| format!("{chunk}-{i:05}-{pad}")).collect();
        riffle.produce_lines(&topic, "?results=none", &lines).await?;
    }
    let mut response = riffle.http.get(riffle.api(&format!("/topics/{topic}/read"))).send().await?;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["x-riffle-messages"], "100000");
    let first = response.chunk().await?.context("no first chunk")?;
    assert!(!first.is_empty());
    let (_, status) = riffle.get_json("/status").await?;
    assert_eq!(status["active_reads"], 1, "the read is under way: {status}");
    drop(response);
    wait_for_status(&riffle, "active_reads", 0).await?;
    riffle.delete_topic(&topic).await
}

// ---------------------------------------------------------------------------
// A broker restart
// ---------------------------------------------------------------------------

/// Produces batches while the broker restarts: every acknowledged message is
/// there afterwards with its value, and nothing is written twice.
///
/// It starts (and restarts) a broker of its own, a JVM, so `cargo xtask test`
/// runs it alone after the rest of the suite: on two cores, beside Chromium,
/// Spark and the shared services, a JVM restart could take minutes.
#[tokio::test]
#[ignore = "run alone by `cargo xtask test`: it starts and restarts a broker of its own"]
async fn produce_survives_a_broker_restart() -> Result<()> {
    tokio::time::timeout(Duration::from_secs(480), produce_across_restart())
        .await
        .context("the restart test took more than 480 s")?
}

async fn produce_across_restart() -> Result<()> {
    let t0 = Instant::now();
    let broker = Arc::new(tokio::task::spawn_blocking(Broker::start).await??);
    eprintln!("restart: own broker up in {:.1} s", t0.elapsed().as_secs_f64());
    let riffle = Arc::new(riffle_at(&broker.bootstrap())?);
    let topic = unique("restart");
    riffle.create_topic(&topic, 3).await?;

    let batches_done = Arc::new(AtomicUsize::new(0));
    let restarted = Arc::new(AtomicBool::new(false));
    // Three producers, so several requests are in flight when the broker goes.
    let producers: Vec<_> = (0..3)
        .map(|id| {
            let loop_ = ProduceLoop {
                riffle: riffle.clone(),
                topic: topic.clone(),
                id,
                batches_done: batches_done.clone(),
                restarted: restarted.clone(),
            };
            tokio::spawn(loop_.run())
        })
        .collect();

    // Restart once a few batches went through.
    let deadline = Instant::now() + Duration::from_secs(60);
    while batches_done.load(Ordering::SeqCst) < 6 {
        ensure!(Instant::now() < deadline, "no batches were produced in 60 s");
        ensure!(producers.iter().all(|p| !p.is_finished()), "a producer stopped early");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let done_before = batches_done.load(Ordering::SeqCst);
    let b = broker.clone();
    let t1 = Instant::now();
    tokio::task::spawn_blocking(move || b.restart()).await??;
    restarted.store(true, Ordering::SeqCst);
    eprintln!("restart: the broker restarted in {:.1} s", t1.elapsed().as_secs_f64());
    let (mut acked, mut batches, mut refused) = (Vec::new(), 0, 0);
    for p in producers {
        let (a, b, r) = p.await??;
        acked.extend(a);
        batches += b;
        refused += r;
    }
    eprintln!(
        "restart: {batches} batches, {} messages acknowledged, {refused} refused with 503, {done_before} batches before the restart",
        acked.len()
    );

    let read = riffle.read(&topic, "").await?;
    let mut stored: HashMap<&str, (i32, i64)> = HashMap::new();
    for r in &read.rows {
        if let Some(first) = stored.insert(r.text(), (r.partition, r.offset)) {
            panic!("{} is stored twice: at {first:?} and at {:?}", r.text(), (r.partition, r.offset));
        }
    }
    for (p, o, v) in &acked {
        assert_eq!(stored.get(v.as_str()), Some(&(*p, *o)), "{v} was acknowledged at {p}/{o}");
    }
    riffle.delete_topic(&topic).await?;
    drop(riffle);
    tokio::task::spawn_blocking(move || broker.stop()).await??;
    Ok(())
}

/// One producer of the restart test: batches of 50 until five whole batches
/// went through after the restart.
struct ProduceLoop {
    riffle: Arc<Riffle>,
    topic: String,
    id: usize,
    batches_done: Arc<AtomicUsize>,
    restarted: Arc<AtomicBool>,
}

impl ProduceLoop {
    /// Returns the acknowledged (partition, offset, value)s, the number of
    /// batches sent and the number refused with a 503.
    async fn run(self) -> Result<(Vec<(i32, i64, String)>, usize, usize)> {
        let mut acked = Vec::new();
        let (mut batch, mut after_restart, mut refused) = (0usize, 0usize, 0usize);
        // Batches in a row not wholly produced once the broker is back.
        let mut failing = 0usize;
        while after_restart < 5 {
            let since_restart = self.restarted.load(Ordering::SeqCst);
            let values: Vec<String> = (0..50).map(|i| format!("p{}-b{batch:05}-{i:02}", self.id)).collect();
            batch += 1;
            let records: Vec<Value> = values.iter().map(|v| json!({ "value": v })).collect();
            let body = serde_json::to_vec(&json!({ "records": records }))?;
            let (status, answer) = self.riffle.produce(&self.topic, "", "application/json", body).await?;
            match status {
                StatusCode::OK | StatusCode::MULTI_STATUS | StatusCode::BAD_GATEWAY => {
                    let results = answer["results"].as_array().context("no results")?;
                    ensure!(results.len() == values.len(), "a result per record: {answer}");
                    for (r, v) in results.iter().zip(&values) {
                        if let (Some(p), Some(o)) = (r["partition"].as_i64(), r["offset"].as_i64()) {
                            acked.push((p as i32, o, v.clone()));
                        }
                    }
                    if status == StatusCode::OK {
                        self.batches_done.fetch_add(1, Ordering::SeqCst);
                        failing = 0;
                        if since_restart {
                            after_restart += 1;
                        }
                    } else if since_restart {
                        failing += 1;
                        ensure!(failing < 20, "20 batches in a row failed after the broker came back: {answer}");
                    }
                }
                // The broker is down: nothing was sent. Try again shortly.
                StatusCode::SERVICE_UNAVAILABLE => {
                    refused += 1;
                    if since_restart {
                        failing += 1;
                        ensure!(failing < 100, "the gateway still answers 503 after the restart: {answer}");
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                other => bail!("produce answered {other}: {answer}"),
            }
        }
        Ok((acked, batch, refused))
    }
}

// ---------------------------------------------------------------------------
// Bad input
// ---------------------------------------------------------------------------

#[tokio::test]
async fn unknown_topic_is_404_with_a_suggestion() -> Result<()> {
    let riffle = riffle()?;
    let topic = unique("typo");
    riffle.create_topic(&topic, 1).await?;
    let wrong = format!("{topic}s");
    let response = riffle.http.get(riffle.api(&format!("/topics/{wrong}/read"))).send().await?;
    let did_you_mean = format!("did you mean '{topic}'?");
    let message = expect_error(
        response,
        StatusCode::NOT_FOUND,
        &[&format!("'{wrong}' does not exist"), &did_you_mean, "topics:"],
    )
    .await?;
    let listed = message.split_once("topics: ").map(|(_, rest)| rest).unwrap_or_default();
    assert!(listed.contains(&topic), "{message}");
    // The same answer for describe and produce.
    let response = riffle.http.get(riffle.api(&format!("/topics/{wrong}"))).send().await?;
    expect_error(response, StatusCode::NOT_FOUND, &[&did_you_mean]).await?;
    let response = riffle
        .http
        .post(riffle.api(&format!("/topics/{wrong}/produce")))
        .header("content-type", "text/plain")
        .body("x")
        .send()
        .await?;
    expect_error(response, StatusCode::NOT_FOUND, &[&did_you_mean]).await?;
    riffle.delete_topic(&topic).await
}

#[tokio::test]
async fn dead_broker_is_503_naming_the_address() -> Result<()> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let bootstrap = format!("127.0.0.1:{port}");
    let riffle = riffle_at(&bootstrap)?;
    let topics = riffle.http.get(riffle.api("/topics")).send();
    let read = riffle.http.get(riffle.api("/topics/t/read")).send();
    let produce =
        riffle.http.post(riffle.api("/topics/t/produce")).header("content-type", "text/plain").body("x").send();
    let create = riffle.http.post(riffle.api("/topics")).json(&json!({ "name": "t" })).send();
    let ingest = riffle.http.post(format!("{}/ingest/t", riffle.url)).json(&json!({ "event_type": "x" })).send();
    let status = riffle.get_json("/status");
    // A hang fails the test instead of stalling it.
    let all = async { futures::join!(topics, read, produce, create, ingest, status) };
    let (topics, read, produce, create, ingest, status) = tokio::time::timeout(Duration::from_secs(30), all)
        .await
        .context("a request to a gateway with a dead broker did not answer in 30 s")?;
    for (what, response) in
        [("list", topics), ("read", read), ("produce", produce), ("create", create), ("ingest", ingest)]
    {
        let message = expect_error(response?, StatusCode::SERVICE_UNAVAILABLE, &[&bootstrap])
            .await
            .with_context(|| format!("{what} with a dead broker"))?;
        assert!(message.contains("not answering"), "{what}: {message}");
    }
    let status = status?;
    assert_eq!(status.0, StatusCode::OK);
    assert_eq!(status.1["reachable"], false, "{}", status.1);
    assert_eq!(status.1["bootstrap"], bootstrap.as_str());
    Ok(())
}

#[tokio::test]
async fn malformed_produce_bodies_are_400() -> Result<()> {
    let riffle = riffle()?;
    let topic = unique("malformed");
    riffle.create_topic(&topic, 2).await?;
    let cases: &[(&str, &str, &str, &[&str])] = &[
        // Cut short: the parser's position.
        ("", "application/json", "{\"records\": [{\"value\": \"a\"},\n", &["not valid JSON", "line 2 column 0"]),
        ("", "application/json", r#"{"records": [{"value": "a"}, {"valeu": "b"}]}"#, &["record 1", "valeu"]),
        ("", "application/json", r#"{"records": {"value": "a"}}"#, &["\"records\" must be a list"]),
        (
            "",
            "application/json",
            r#"{"records": [{"value": "a", "partition": 5}]}"#,
            &["partition 5", "partitions 0 to 1"],
        ),
        ("?format=json-array", "application/json", r#"{"a": 1}"#, &["needs a JSON array", "an object"]),
        ("?format=json-array", "application/json", "[1, 2,", &["not valid JSON", "line 1 column 6"]),
        ("?format=xml", "text/plain", "a", &["format=xml"]),
        ("", "text/plain", "", &["nothing to produce"]),
        ("", "application/vnd.apache.arrow.stream", "not arrow", &["not a usable Arrow IPC stream"]),
    ];
    for (query, content_type, body, needles) in cases {
        let response = riffle
            .http
            .post(riffle.api(&format!("/topics/{topic}/produce{query}")))
            .header("content-type", *content_type)
            .body(body.to_string())
            .send()
            .await?;
        expect_error(response, StatusCode::BAD_REQUEST, needles)
            .await
            .with_context(|| format!("producing {body:?} with {query:?}"))?;
    }
    // None of it was produced.
    let (_, described) = riffle.get_json(&format!("/topics/{topic}")).await?;
    assert_eq!(described["messages"], 0, "{described}");
    riffle.delete_topic(&topic).await
}

#[tokio::test]
async fn oversized_record_is_413_and_nothing_is_sent() -> Result<()> {
    let riffle = riffle()?;
    let topic = unique("oversized");
    riffle.create_topic(&topic, 1).await?;
    // A small record first: it must not be sent either.
    let body = format!("small\n{}\n", "x".repeat(2_000_000));
    let response = riffle
        .http
        .post(riffle.api(&format!("/topics/{topic}/produce")))
        .header("content-type", "text/plain")
        .body(body)
        .send()
        .await?;
    expect_error(
        response,
        StatusCode::PAYLOAD_TOO_LARGE,
        &["record 1", "2000000 bytes", "1000000", "nothing was produced"],
    )
    .await?;
    let records = json!({ "records": [{ "value": "y".repeat(2 * 1024 * 1024) }] });
    let response = riffle.http.post(riffle.api(&format!("/topics/{topic}/produce"))).json(&records).send().await?;
    expect_error(response, StatusCode::PAYLOAD_TOO_LARGE, &["record 0"]).await?;
    let (_, described) = riffle.get_json(&format!("/topics/{topic}")).await?;
    assert_eq!(described["messages"], 0, "{described}");
    riffle.delete_topic(&topic).await
}

#[tokio::test]
async fn bad_read_bounds_are_400() -> Result<()> {
    let riffle = riffle()?;
    let topic = unique("bounds");
    riffle.create_topic(&topic, 2).await?;
    let lines: Vec<String> = (0..5).map(|i| format!("v{i}")).collect();
    riffle.produce_lines(&topic, "?partition=0", &lines).await?;
    let cases: &[(&str, &[&str])] = &[
        ("from=offset:999", &["999", "past the end", &format!("{topic}/0"), "0..4"]),
        ("from=abc", &["from=abc", "earliest, latest"]),
        ("to=soon", &["to=soon"]),
        ("from=offset:-3", &["cannot be negative"]),
        ("to=earliest", &["to=earliest"]),
        ("from=offset:4&to=offset:2", &["to offset 2", "(4)"]),
        ("partitions=7", &["no partition 7", "0 to 1"]),
        ("partitions=zero", &["partitions=zero"]),
    ];
    for (query, needles) in cases {
        let response = riffle.http.get(riffle.api(&format!("/topics/{topic}/read?{query}"))).send().await?;
        expect_error(response, StatusCode::BAD_REQUEST, needles).await.with_context(|| format!("read?{query}"))?;
    }
    // The last offset is a valid start, just past it too (an empty read).
    assert_eq!(riffle.read(&topic, "?partitions=0&from=offset:4").await?.texts(), ["v4"]);
    assert!(riffle.read(&topic, "?partitions=0&from=offset:5").await?.rows.is_empty());
    riffle.delete_topic(&topic).await
}

#[tokio::test]
async fn topic_admin_checks_its_input() -> Result<()> {
    let riffle = riffle()?;
    let topic = unique("admin");
    riffle.create_topic(&topic, 1).await?;
    riffle.produce_lines(&topic, "", &["a".to_string(), "b".to_string()]).await?;
    // Delete: only with ?confirm=<the name>, and saying what would be lost.
    for query in ["", "?confirm=other"] {
        let response = riffle.http.delete(riffle.api(&format!("/topics/{topic}{query}"))).send().await?;
        expect_error(response, StatusCode::BAD_REQUEST, &[&topic, "2 message(s)", &format!("?confirm={topic}")])
            .await?;
    }
    assert_eq!(riffle.read(&topic, "").await?.rows.len(), 2, "still there");

    let creates: &[(Value, &[&str])] = &[
        (json!({ "name": "has space" }), &["'has space' is not a valid topic name"]),
        (json!({ "name": "" }), &["not a valid topic name"]),
        (json!({ "name": "x", "partitions": 0 }), &["at least 1"]),
        (json!({ "name": unique("rf"), "replication_factor": 3 }), &["replication_factor 3", "1 broker(s)"]),
        (json!({ "partitions": 1 }), &["must be JSON such as", "name"]),
    ];
    for (body, needles) in creates {
        let response = riffle.http.post(riffle.api("/topics")).json(body).send().await?;
        expect_error(response, StatusCode::BAD_REQUEST, needles).await.with_context(|| format!("creating {body}"))?;
    }

    riffle.delete_topic(&topic).await?;
    // Deletion finishes in the background; then the topic is unknown.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, _) = riffle.get_json(&format!("/topics/{topic}")).await?;
        if status == StatusCode::NOT_FOUND {
            break;
        }
        ensure!(Instant::now() < deadline, "{topic} still answers {status} 30 s after its deletion");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// The live tail
// ---------------------------------------------------------------------------

pub(super) type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens a tail with `query`, sending the gateway's own origin as a browser
/// would, and returns the socket and its "subscribed" frame.
pub(super) async fn open_tail(riffle: &Riffle, query: &str) -> Result<(Socket, Value)> {
    let ws = riffle.url.replacen("http://", "ws://", 1);
    let mut request = format!("{ws}/api/kafka/tail?{query}").into_client_request()?;
    request.headers_mut().insert("origin", riffle.url.parse()?);
    let (mut socket, response) = tokio_tungstenite::connect_async(request).await?;
    assert_eq!(response.status(), StatusCode::SWITCHING_PROTOCOLS);
    let hello = next_frame(&mut socket).await?;
    assert_eq!(hello["type"], "subscribed", "{hello}");
    Ok((socket, hello))
}

/// The next JSON frame, within 30 s.
pub(super) async fn next_frame(socket: &mut Socket) -> Result<Value> {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(30), socket.next())
            .await
            .context("no frame from the tail in 30 s")?
            .context("the tail closed")??;
        match frame {
            tungstenite::Message::Text(text) => return Ok(serde_json::from_str(&text)?),
            tungstenite::Message::Close(c) => bail!("the tail closed: {c:?}"),
            _ => continue,
        }
    }
}

/// Record frames from the tail until each of `sentinels` (topic, value) arrived.
async fn tail_until(socket: &mut Socket, sentinels: &[(&str, String)]) -> Result<Vec<Value>> {
    let mut got = Vec::new();
    let mut waiting: Vec<(&str, &str)> = sentinels.iter().map(|(t, v)| (*t, v.as_str())).collect();
    while !waiting.is_empty() {
        let frame = next_frame(socket).await?;
        ensure!(frame["type"] == "record", "not a record: {frame}");
        waiting.retain(|(t, v)| !(frame["topic"] == *t && frame["value"] == *v));
        got.push(frame);
    }
    Ok(got)
}

/// (topic, partition, offset, value) of a record frame.
fn position(frame: &Value) -> Result<(String, i64, i64, String)> {
    Ok((
        frame["topic"].as_str().context("no topic")?.to_string(),
        frame["partition"].as_i64().context("no partition")?,
        frame["offset"].as_i64().context("no offset")?,
        frame["value"].as_str().context("no value")?.to_string(),
    ))
}

/// Game events, some of them sword purchases; `tag` makes them unique.
fn game_events(tag: &str) -> Vec<String> {
    vec![
        json!({ "event_type": "purchase_sword", "user": 1, "tag": tag }).to_string(),
        json!({ "event_type": "join_guild", "user": 2, "tag": tag }).to_string(),
        format!("purchase_sword {tag} but not JSON"),
        json!({ "event_type": "purchase_sword_x", "user": 3, "tag": tag }).to_string(),
        json!({ "event_type": "purchase_sword", "meta": { "event_type": "no" }, "tag": tag }).to_string(),
        json!({ "event": { "event_type": "purchase_sword" }, "tag": tag }).to_string(),
        json!({ "event_type": "purchase_sword", "user": 4, "tag": tag }).to_string(),
    ]
}

/// What `field.event_type=purchase_sword` lets through, decided here.
fn is_sword(value: &str) -> bool {
    serde_json::from_str::<Value>(value).is_ok_and(|v| v["event_type"] == "purchase_sword")
}

#[tokio::test]
async fn tail_streams_the_matching_new_messages() -> Result<()> {
    let riffle = riffle()?;
    let (a, b) = (unique("tail-a"), unique("tail-b"));
    riffle.create_topic(&a, 1).await?;
    riffle.create_topic(&b, 2).await?;
    // Before the tail opens: matching, but not new.
    let old = game_events("old");
    riffle.produce_lines(&a, "", &old).await?;

    let (mut socket, hello) = open_tail(&riffle, &format!("topics={a},{b}&field.event_type=purchase_sword")).await?;
    assert_eq!(hello["topics"], json!([a, b]));
    assert_eq!(
        hello["partitions"],
        json!([
            { "topic": a, "partition": 0, "offset": old.len() },
            { "topic": b, "partition": 0, "offset": 0 },
            { "topic": b, "partition": 1, "offset": 0 },
        ])
    );
    let (_, status) = riffle.get_json("/status").await?;
    assert_eq!(status["active_tails"], 1, "{status}");

    // New messages, then a last sword purchase in every partition: once those
    // are in, everything before them is too (a partition keeps its order).
    let sentinel = |t: &str, p: i32| json!({ "event_type": "purchase_sword", "last": format!("{t}/{p}") }).to_string();
    let mut expected: Vec<(String, i64, i64, String)> = Vec::new();
    let mut send = Vec::new();
    for (topic, partition) in [(&a, 0), (&b, 0), (&b, 1)] {
        let mut values = game_events(&format!("{topic}/{partition}"));
        values.push(sentinel(topic, partition));
        send.push((topic, partition, values));
    }
    for (topic, partition, values) in &send {
        let records: Vec<Value> = values
            .iter()
            .map(|v| json!({ "key": "k", "value": v, "partition": partition, "headers": { "h": "1" } }))
            .collect();
        let acked = riffle.produce_records(topic, records).await?;
        for (v, (p, o)) in values.iter().zip(acked) {
            if is_sword(v) {
                expected.push((topic.to_string(), p as i64, o, v.clone()));
            }
        }
    }
    let sentinels: Vec<(&str, String)> =
        [(&a, 0), (&b, 0), (&b, 1)].iter().map(|(t, p)| (t.as_str(), sentinel(t, *p))).collect();
    let frames = tail_until(&mut socket, &sentinels).await?;
    for frame in &frames {
        assert_eq!(frame["key"], "k", "{frame}");
        assert_eq!(frame["headers"], json!({ "h": "1" }), "{frame}");
        assert_eq!(frame["timestampType"], 0, "{frame}");
    }
    let mut got = frames.iter().map(position).collect::<Result<Vec<_>>>()?;
    got.sort();
    expected.sort();
    assert_eq!(got, expected);
    assert_eq!(expected.len(), 3 * 4, "three sword events and a sentinel per partition");

    // A second tail, from the start of a, with a plain substring: the old
    // messages too, and text that is not JSON.
    let (mut all, _) = open_tail(&riffle, &format!("topics={a}&from=earliest&contains=purchase_sword")).await?;
    let got: Vec<String> = tail_until(&mut all, &[(a.as_str(), sentinel(&a, 0))])
        .await?
        .iter()
        .map(|f| position(f).map(|(_, _, _, v)| v))
        .collect::<Result<_>>()?;
    let want: Vec<String> = old.iter().chain(&send[0].2).filter(|v| v.contains("purchase_sword")).cloned().collect();
    assert_eq!(got, want);
    socket.close(None).await?;
    all.close(None).await?;
    wait_for_status(&riffle, "active_tails", 0).await?;
    riffle.delete_topic(&a).await?;
    riffle.delete_topic(&b).await
}

#[tokio::test]
async fn tail_refuses_other_origins_and_unknown_topics() -> Result<()> {
    let riffle = riffle()?;
    let topic = unique("tail-origin");
    riffle.create_topic(&topic, 1).await?;
    let ws = riffle.url.replacen("http://", "ws://", 1);
    let mut request = format!("{ws}/api/kafka/tail?topics={topic}").into_client_request()?;
    request.headers_mut().insert("origin", "https://evil.example".parse()?);
    match tokio_tungstenite::connect_async(request).await {
        Err(tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), StatusCode::FORBIDDEN);
            if let Some(body) = response.body() {
                let body = String::from_utf8_lossy(body);
                assert!(body.contains("https://evil.example"), "{body}");
            }
        }
        Err(e) => bail!("expected a 403, got {e}"),
        Ok(_) => bail!("a tail from another site's page was accepted"),
    }
    // Unknown topics are a plain 404 before the upgrade.
    let wrong = format!("{topic}-nope");
    let request = format!("{ws}/api/kafka/tail?topics={topic},{wrong}").into_client_request()?;
    match tokio_tungstenite::connect_async(request).await {
        Err(tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), StatusCode::NOT_FOUND);
            if let Some(body) = response.body() {
                let body = String::from_utf8_lossy(body);
                assert!(body.contains(&wrong), "{body}");
            }
        }
        Err(e) => bail!("expected a 404, got {e}"),
        Ok(_) => bail!("a tail of a topic that does not exist was accepted"),
    }
    let (_, status) = riffle.get_json("/status").await?;
    assert_eq!(status["active_tails"], 0, "{status}");
    riffle.delete_topic(&topic).await
}

// ---------------------------------------------------------------------------
// /ingest
// ---------------------------------------------------------------------------

#[tokio::test]
async fn ingest_merges_request_headers_into_the_event() -> Result<()> {
    let riffle = riffle()?;
    let topic = unique("ingest");
    riffle.create_topic(&topic, 1).await?;
    let host = riffle.url.trim_start_matches("http://").to_string();

    let response = riffle
        .http
        .post(format!("{}/ingest/{topic}", riffle.url))
        .header("user-agent", "riffle-e2e/1.0 (game client)")
        .header("accept", "application/json")
        .header("x-secret", "not merged")
        .json(&json!({ "event_type": "purchase_sword", "user": { "id": 7 }, "Accept": "mine" }))
        .send()
        .await?;
    assert_eq!(response.status(), StatusCode::OK);
    let answer: Value = response.json().await?;
    let first = json!({
        "event_type": "purchase_sword",
        "user": { "id": 7 },
        // The event's own field wins over the header.
        "Accept": "mine",
        "Host": host,
        "User-Agent": "riffle-e2e/1.0 (game client)",
    });
    assert_eq!(answer, json!({ "topic": topic, "partition": 0, "offset": 0, "event": first }));

    // GET with query parameters; `key` is the message key. A GET changes
    // state only when typed in the address bar (`Sec-Fetch-Site: none`), from
    // the gateway's own page, or with the token: never from another site.
    let url = format!("{}/ingest/{topic}?event_type=join_guild&guild=north&key=u7", riffle.url);
    for site in [None, Some("cross-site")] {
        let mut request = riffle.http.get(&url).header("user-agent", "curl/8.0");
        if let Some(site) = site {
            request = request.header("sec-fetch-site", site);
        }
        assert_eq!(request.send().await?.status(), StatusCode::FORBIDDEN, "GET /ingest with Sec-Fetch-Site {site:?}");
    }
    let response = riffle
        .http
        .get(&url)
        .header("user-agent", "curl/8.0")
        .header("accept", "*/*")
        .header("sec-fetch-site", "none")
        .send()
        .await?;
    assert_eq!(response.status(), StatusCode::OK);
    let second = json!({
        "event_type": "join_guild",
        "guild": "north",
        "Host": host,
        "User-Agent": "curl/8.0",
        "Accept": "*/*",
    });
    assert_eq!(response.json::<Value>().await?["event"], second);

    let response =
        riffle.http.post(format!("{}/ingest/{topic}", riffle.url)).json(&json!([{ "event_type": "x" }])).send().await?;
    expect_error(response, StatusCode::BAD_REQUEST, &["JSON object", "a list"]).await?;

    let read = riffle.read(&topic, "").await?;
    assert_eq!(read.rows.len(), 2, "the bad event was not produced");
    let stored: Vec<Value> = read.rows.iter().map(|r| serde_json::from_str(r.text())).collect::<Result<_, _>>()?;
    assert_eq!(stored, vec![first, second]);
    assert_eq!(read.rows[0].key, None);
    assert_eq!(read.rows[1].key.as_deref(), Some(&b"u7"[..]));
    riffle.delete_topic(&topic).await
}

// ---------------------------------------------------------------------------
// Browsing: GET /api/kafka/topics/{t}/messages (the UI's Kafka browser)
// ---------------------------------------------------------------------------

/// One page of `/messages`: (partition, offset, key, value) of each message,
/// the older and newer cursors, and the whole answer.
async fn browse(riffle: &Riffle, topic: &str, query: &str) -> Result<(Vec<(i64, i64, String, String)>, Value)> {
    let (status, page) = riffle.get_json(&format!("/topics/{topic}/messages?{query}")).await?;
    ensure!(status == StatusCode::OK, "browse {topic}?{query}: {status} {page}");
    let messages = page["messages"]
        .as_array()
        .context("a page without messages")?
        .iter()
        .map(|m| {
            (
                m["partition"].as_i64().unwrap_or(-1),
                m["offset"].as_i64().unwrap_or(-1),
                m["key"].as_str().unwrap_or_default().to_string(),
                m["value"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    Ok((messages, page))
}

fn keys(messages: &[(i64, i64, String, String)]) -> Vec<&str> {
    messages.iter().map(|m| m.2.as_str()).collect()
}

/// Five keyed messages with headers over two partitions, produced one at a
/// time: newest first across partitions with older/newer paging, from an
/// offset, from a timestamp, binary values as base64, and clear errors.
#[tokio::test]
async fn browse_pages_newest_first_from_offset_and_time() -> Result<()> {
    let riffle = riffle()?;
    let topic = unique("browse");
    riffle.create_topic(&topic, 2).await?;
    // k0 → p0, k1 → p1, k2 → p0, k3 → p1, k4 → p0: each acknowledged before
    // the next is sent, so their timestamps are in this order.
    let mut stamps = Vec::new();
    for i in 0..5i64 {
        let value = if i == 2 { json!({ "n": i, "nested": { "ok": true } }) } else { json!(format!("v{i}")) };
        let record =
            json!({ "key": format!("k{i}"), "value": value, "partition": i % 2, "headers": { "seq": i.to_string() } });
        riffle.produce_records(&topic, vec![record]).await?;
        stamps.push(now_ms());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Newest first, two a page, back to the oldest.
    let (page1, answer) = browse(&riffle, &topic, "limit=2").await?;
    assert_eq!(keys(&page1), ["k4", "k3"], "{answer}");
    assert_eq!(answer["direction"], "backward");
    assert_eq!(answer["newer"], Value::Null, "nothing is newer than the newest: {answer}");
    let first = &answer["messages"][0];
    assert_eq!((first["partition"].as_i64(), first["offset"].as_i64()), (Some(0), Some(2)));
    assert_eq!(first["value"], "v4");
    assert_eq!(first["value_encoding"], "utf8");
    assert_eq!(first["key_encoding"], "utf8");
    assert_eq!(first["headers"], json!([{ "key": "seq", "value": "4", "value_encoding": "utf8" }]));
    assert!(first["timestamp"].as_i64().is_some_and(|t| t > 0), "{first}");
    let older = answer["older"].as_str().context("the first page has older messages")?;
    let (page2, answer) = browse(&riffle, &topic, &format!("limit=2&direction=backward&cursor={older}")).await?;
    assert_eq!(keys(&page2), ["k2", "k1"], "{answer}");
    let json_value: Value = serde_json::from_str(&page2[0].3)?;
    assert_eq!(json_value, json!({ "n": 2, "nested": { "ok": true } }), "a JSON value comes back as its text");
    let older = answer["older"].as_str().context("the second page has older messages")?;
    let (page3, answer) = browse(&riffle, &topic, &format!("limit=2&direction=backward&cursor={older}")).await?;
    assert_eq!(keys(&page3), ["k0"], "{answer}");
    assert_eq!(answer["older"], Value::Null, "the oldest page has nothing older: {answer}");
    // And forward again from the oldest page's newer cursor.
    let newer = answer["newer"].as_str().context("the oldest page has newer messages")?;
    let (back, answer) = browse(&riffle, &topic, &format!("limit=10&direction=forward&cursor={newer}")).await?;
    assert_eq!(keys(&back), ["k1", "k2", "k3", "k4"], "{answer}");
    assert_eq!(answer["newer"], Value::Null, "{answer}");

    // From the earliest offset, oldest first; from offset 1 of every partition;
    // offset 1 of partition 1 alone.
    let (all, _) = browse(&riffle, &topic, "from=earliest").await?;
    assert_eq!(keys(&all), ["k0", "k1", "k2", "k3", "k4"]);
    let (from1, _) = browse(&riffle, &topic, "from=offset:1").await?;
    assert_eq!(keys(&from1), ["k2", "k3", "k4"]);
    let (one, _) = browse(&riffle, &topic, "from=offset:1&partition=1").await?;
    assert_eq!(one, vec![(1, 1, "k3".to_string(), "v3".to_string())]);

    // From a time: 1 ms after k1's acknowledgement is after k1's timestamp
    // and before k2 was sent, so the page starts at k2.
    let (since, answer) = browse(&riffle, &topic, &format!("from=timestamp:{}", stamps[1] + 1)).await?;
    assert_eq!(keys(&since), ["k2", "k3", "k4"], "{answer}");
    let (later, _) = browse(&riffle, &topic, &format!("from=timestamp:{}", stamps[4] + 60_000)).await?;
    assert!(later.is_empty(), "nothing is that late: {later:?}");

    // Binary bytes come as base64, saying so.
    let binary = [0xffu8, 0x00, 0xfe];
    let record = json!({ "value_base64": base64_of(&binary), "partition": 1 });
    riffle.produce_records(&topic, vec![record]).await?;
    let (_, answer) = browse(&riffle, &topic, "limit=1").await?;
    let m = &answer["messages"][0];
    assert_eq!(m["value_encoding"], "base64", "{m}");
    assert_eq!(m["value"], base64_of(&binary));
    assert_eq!((m["key"].clone(), m["key_encoding"].clone()), (Value::Null, json!("null")), "{m}");

    // Errors: a missing topic names it and says how to create one; bad input is a 400.
    let missing = format!("{topic}-missing");
    let response = riffle.http.get(riffle.api(&format!("/topics/{missing}/messages"))).send().await?;
    expect_error(response, StatusCode::NOT_FOUND, &[&missing, "Create it"]).await?;
    for (query, needle) in [
        ("limit=0", "limit=0"),
        ("limit=1001", "1 to 1000"),
        ("partition=9", "no partition 9"),
        ("from=offset:100", "past the end"),
        ("cursor=0:1", "needs a direction"),
        ("cursor=zero&direction=forward", "cursor=zero"),
        ("from=soon", "from=soon"),
        ("direction=up", "direction=up"),
    ] {
        let response = riffle.http.get(riffle.api(&format!("/topics/{topic}/messages?{query}"))).send().await?;
        expect_error(response, StatusCode::BAD_REQUEST, &[needle]).await.with_context(|| query.to_string())?;
    }
    riffle.delete_topic(&topic).await
}

fn base64_of(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Browsing with a dead broker is the same quick 503 as every Kafka endpoint.
#[tokio::test]
async fn browse_with_a_dead_broker_is_503() -> Result<()> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let bootstrap = format!("127.0.0.1:{port}");
    let riffle = riffle_at(&bootstrap)?;
    let response =
        tokio::time::timeout(Duration::from_secs(30), riffle.http.get(riffle.api("/topics/t/messages?limit=5")).send())
            .await
            .context("browsing with a dead broker did not answer in 30 s")??;
    let message = expect_error(response, StatusCode::SERVICE_UNAVAILABLE, &[&bootstrap]).await?;
    assert!(message.contains("not answering"), "{message}");
    Ok(())
}
