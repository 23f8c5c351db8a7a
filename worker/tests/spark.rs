//! `POST /api/spark/run` and `GET /api/spark/status` against a REAL Spark Connect server.
//!
//! Needs `RIFFLE_SPARK` (e.g. sc://127.0.0.1:15002, after `bash scripts/spark.sh start`).
//! Without it, the tests that need Spark print a note and pass without
//! checking anything; `RIFFLE_REQUIRE_SPARK=1` (for CI) makes that a failure instead.
//! The Kafka source test also needs `RIFFLE_KAFKA_BOOTSTRAP` (a broker Spark
//! reaches at the same address) and Spark's Kafka connector; the disconnect
//! test checks Spark's job list when `RIFFLE_SPARK_UI` (e.g.
//! http://127.0.0.1:4040) is set. The tests that need no server always run.

#![allow(clippy::unwrap_used)]

mod common;

use std::io::Cursor;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use arrow_array::{Array, Int64Array, RecordBatch, StringArray};
use arrow_ipc::reader::StreamReader;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use riffle_gateway::kafka::KafkaConfig;
use riffle_gateway::spark::{SparkClient, SparkUrl};
use riffle_gateway::{Config, app};
use serde_json::{Value, json};
use tower::ServiceExt;

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("riffle-spark-{name}-{}", uuid()));
    std::fs::create_dir_all(dir.join("dist")).unwrap();
    std::fs::create_dir_all(dir.join("data")).unwrap();
    dir
}

/// A gateway with Spark at `url`; returns it and its data root.
fn gateway(url: SparkUrl) -> (axum::Router, PathBuf) {
    let dir = temp_dir("gw");
    let mut config = Config::new(dir.join("dist"), dir.join("data"), None).unwrap().with_spark(url);
    if let Some(bootstrap) = env("RIFFLE_KAFKA_BOOTSTRAP") {
        config = config.with_kafka(KafkaConfig::new(bootstrap.clone())).with_spark_kafka_bootstrap(bootstrap);
    }
    let data = config.data_root().to_path_buf();
    (app(config), data)
}

fn router(url: SparkUrl) -> axum::Router {
    gateway(url).0
}

/// A decoded answer: the frames, split by kind.
#[derive(Default)]
struct Answer {
    status: StatusCode,
    progress: Vec<Value>,
    batches: Vec<RecordBatch>,
    columns: Vec<String>,
    summary: Value,
    /// The JSON error of a non-200 answer.
    error: String,
}

impl Answer {
    fn rows(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }

    /// The first row's value in an Int64 column.
    fn int(&self, column: &str) -> i64 {
        let batch = self.batches.iter().find(|b| b.num_rows() > 0).expect("a row");
        let array = batch.column_by_name(column).unwrap_or_else(|| panic!("no column {column}: {:?}", self.columns));
        array.as_any().downcast_ref::<Int64Array>().expect("an Int64 column").value(0)
    }

    /// The summary's error message, for assertion messages.
    fn failure(&self) -> String {
        format!("{} {}", self.error, self.summary["error"])
    }
}

/// Splits a body into frames `[kind][u32 LE length][payload]`.
fn frames(bytes: &[u8]) -> Vec<(u8, &[u8])> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        assert!(bytes.len() - at >= 5, "a truncated frame header at byte {at}");
        let kind = bytes[at];
        let len = u32::from_le_bytes(bytes[at + 1..at + 5].try_into().unwrap()) as usize;
        assert!(bytes.len() - at - 5 >= len, "a truncated frame at byte {at}");
        out.push((kind, &bytes[at + 5..at + 5 + len]));
        at += 5 + len;
    }
    out
}

fn decode(status: StatusCode, content_type: String, bytes: &[u8]) -> Answer {
    if !status.is_success() {
        let json: Value = serde_json::from_slice(bytes).expect("errors are JSON");
        let error = json["error"].as_str().unwrap_or_default().to_string();
        return Answer { status, error, ..Answer::default() };
    }
    assert_eq!(content_type, "application/x-riffle-spark");
    let frames = frames(bytes);
    let mut answer = Answer { status, ..Answer::default() };
    let mut arrow = Vec::new();
    for (i, (kind, payload)) in frames.iter().enumerate() {
        match kind {
            b'P' => answer.progress.push(serde_json::from_slice(payload).expect("a JSON progress frame")),
            b'A' => arrow.extend_from_slice(payload),
            b'S' => {
                assert_eq!(i, frames.len() - 1, "the summary is the last frame");
                answer.summary = serde_json::from_slice(payload).expect("a JSON summary");
            }
            other => panic!("an unknown frame kind {other}"),
        }
    }
    assert!(answer.summary.is_object(), "no summary frame");
    let reader = StreamReader::try_new(Cursor::new(arrow), None).expect("the A frames make one Arrow IPC stream");
    answer.columns = reader.schema().fields().iter().map(|f| f.name().clone()).collect();
    answer.batches = reader.collect::<Result<Vec<_>, _>>().expect("Arrow batches up to the end-of-stream marker");
    answer
}

async fn run(router: &axum::Router, body: Value) -> Answer {
    let request = Request::post("/api/spark/run")
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let content_type =
        response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    decode(status, content_type, &bytes)
}

async fn sql(router: &axum::Router, query: &str) -> Answer {
    run(router, json!({ "statements": [query] })).await
}

#[tokio::test]
async fn select_one() {
    let Some(url) = common::spark_url() else { return };
    let router = router(url);
    for attempt in 0..2 {
        let started = Instant::now();
        let answer = sql(&router, "SELECT 1 AS one").await;
        eprintln!("SELECT 1 ({}): {} ms", ["first", "second"][attempt], started.elapsed().as_millis());
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.failure());
        assert_eq!(answer.rows(), 1);
        let column = answer.batches[0].column_by_name("one").expect("a column named one");
        assert_eq!(column.as_any().downcast_ref::<arrow_array::Int32Array>().map(|a| a.value(0)), Some(1));
        assert_eq!(answer.summary["truncated"], false);
        assert_eq!(answer.summary["total_rows"], 1);
        assert_eq!(answer.summary["error"], Value::Null);
        assert_eq!(answer.summary["operation_ids"].as_array().map(Vec::len), Some(1));
        // The statement's start, with zeros.
        let first = &answer.progress[0];
        assert_eq!((first["statement"].as_u64(), first["statements"].as_u64()), (Some(0), Some(1)));
        assert_eq!((first["stage"].as_str(), first["tasks"].as_u64()), (Some("query"), Some(0)));
    }
}

#[tokio::test]
async fn aggregates_a_million_rows_and_streams_a_million() {
    let Some(url) = common::spark_url() else { return };
    let router = router(url);
    let answer = sql(&router, "SELECT count(*) AS n, sum(id) AS total, max(id) AS top FROM range(1000000)").await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.failure());
    assert_eq!((answer.int("n"), answer.int("total"), answer.int("top")), (1_000_000, 499_999_500_000, 999_999));

    let started = Instant::now();
    let answer =
        run(&router, json!({"statements": ["SELECT id, id * 2 AS twice FROM range(1000000)"], "max_rows": 1_000_000}))
            .await;
    let elapsed = started.elapsed();
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.failure());
    assert_eq!(answer.rows(), 1_000_000);
    assert_eq!(
        (answer.summary["truncated"].as_bool(), answer.summary["total_rows"].as_u64()),
        (Some(false), Some(1_000_000))
    );
    let sum: i64 = answer
        .batches
        .iter()
        .map(|b| {
            b.column_by_name("twice")
                .unwrap()
                .as_any()
                .downcast_ref::<Int64Array>()
                .unwrap()
                .iter()
                .flatten()
                .sum::<i64>()
        })
        .sum();
    assert_eq!(sum, 999_999_000_000);
    eprintln!("1M rows x 2 columns in {} ms: {:.0} rows/s", elapsed.as_millis(), 1_000_000.0 / elapsed.as_secs_f64());
}

#[tokio::test]
async fn an_empty_result_keeps_its_columns() {
    let Some(url) = common::spark_url() else { return };
    let router = router(url);
    let answer = sql(&router, "SELECT id, CAST(id AS STRING) AS name FROM range(10) WHERE id < 0").await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.failure());
    assert_eq!(answer.rows(), 0);
    assert_eq!(answer.columns, ["id", "name"]);
    assert_eq!(answer.summary["total_rows"], 0);
}

#[tokio::test]
async fn a_csv_source_in_the_data_directory() {
    let Some(url) = common::spark_url() else { return };
    let (router, data) = gateway(url);
    std::fs::create_dir_all(data.join("in")).unwrap();
    std::fs::write(data.join("in/trips.csv"), "zone,fare\nA,10.5\nB,3\nA,4.5\n").unwrap();
    let answer = run(
        &router,
        json!({
            "sources": [{"view": "riffle_src_0", "format": "csv", "path": "/in/trips.csv",
                         "options": {"header": "true", "inferSchema": true}}],
            "statements": ["SELECT zone, sum(fare) AS revenue FROM riffle_src_0 GROUP BY zone ORDER BY zone"],
        }),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.failure());
    assert_eq!(answer.summary["error"], Value::Null, "{}", answer.failure());
    assert_eq!(answer.rows(), 2);
    let batch = &answer.batches.iter().find(|b| b.num_rows() > 0).unwrap();
    let zones = batch.column(0).as_any().downcast_ref::<StringArray>().unwrap();
    let revenue = batch.column(1).as_any().downcast_ref::<arrow_array::Float64Array>().unwrap();
    assert_eq!((zones.value(0), revenue.value(0)), ("A", 15.0));
    assert_eq!((zones.value(1), revenue.value(1)), ("B", 3.0));
    // The view step's progress, then the statement's.
    let stages: Vec<&str> = answer.progress.iter().filter_map(|p| p["stage"].as_str()).collect();
    assert_eq!(stages.first(), Some(&"view"), "{stages:?}");
    assert!(stages.contains(&"query"), "{stages:?}");
    assert_eq!(answer.summary["operation_ids"].as_array().map(Vec::len), Some(2));
    // The run's view is dropped from the session after it (not left to pile up).
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let after = run(&router, json!({"statements": ["SELECT * FROM riffle_src_0"]})).await;
        let message = after.summary["error"]["message"].as_str().unwrap_or_default().to_string();
        if message.contains("TABLE_OR_VIEW_NOT_FOUND") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the source view is still there: {}", after.failure());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_parquet_source_over_what_spark_wrote_to_hdfs() {
    let Some(url) = common::spark_url() else { return };
    let router = router(url);
    let dir = format!("hdfs:///riffle-test-{}/t", uuid());
    // Spark writes the directory (statement 1), then a second run reads it as a parquet source.
    let answer = run(
        &router,
        json!({"statements": [
            format!("INSERT OVERWRITE DIRECTORY '{dir}' USING parquet SELECT id FROM range(10)"),
            "SELECT 'written' AS done",
        ]}),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.failure());
    assert_eq!(answer.summary["error"], Value::Null, "{}", answer.failure());
    let command = answer.progress.iter().find(|p| p["stage"] == "command").expect("a command step");
    assert_eq!((command["statement"].as_u64(), command["statements"].as_u64()), (Some(0), Some(2)));
    let answer = run(
        &router,
        json!({
            "sources": [{"view": "riffle_src_0", "format": "parquet", "path": dir}],
            "statements": ["SELECT sum(id) AS s, count(*) AS n FROM riffle_src_0"],
        }),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.failure());
    assert_eq!(answer.summary["error"], Value::Null, "{}", answer.failure());
    assert_eq!((answer.int("s"), answer.int("n")), (45, 10));
}

#[tokio::test]
async fn a_missing_source_is_an_error_in_the_summary() {
    let Some(url) = common::spark_url() else { return };
    let router = router(url);
    let answer = run(
        &router,
        json!({
            "sources": [{"view": "riffle_src_0", "format": "parquet", "path": format!("hdfs:///riffle-missing-{}", uuid())}],
            "statements": ["SELECT * FROM riffle_src_0"],
        }),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
    let error = &answer.summary["error"];
    assert_eq!(error["kind"], "spark", "{error}");
    assert_eq!(error["statement"], 0, "{error}");
    let message = error["message"].as_str().unwrap_or_default();
    assert!(message.contains("riffle_src_0") && message.contains("PATH_NOT_FOUND"), "{message}");
    assert_eq!(answer.columns.len(), 0);
    assert_eq!(answer.summary["total_rows"], Value::Null);
}

#[tokio::test]
async fn sources_are_checked_before_spark() {
    // Spark is never asked: these fail even with nothing listening.
    let (router, _) = gateway(SparkUrl::parse("sc://127.0.0.1:1").unwrap());
    for (source, needle) in [
        (json!({"view": "v", "format": "csv", "path": "../outside.csv"}), "'..'"),
        (json!({"view": "v", "format": "csv", "path": "file:///a/../../etc/passwd"}), "'..'"),
        (json!({"view": "v", "format": "csv", "path": "s3://bucket/x"}), "not s3://"),
        (json!({"view": "v; DROP", "format": "csv", "path": "x"}), "plain identifier"),
        (json!({"view": "v", "format": "jdbc", "path": "x"}), "format"),
        (json!({"view": "v", "format": "csv", "path": "x", "options": {"a'b": "1"}}), "option name"),
        (json!({"view": "v", "format": "kafka", "options": {"kafka.bootstrap.servers": "x:1"}}), "leave it out"),
    ] {
        let answer = run(&router, json!({"sources": [source], "statements": ["SELECT 1"]})).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{source}");
        assert!(answer.error.contains(needle), "{source}: {}", answer.error);
    }
    // A kafka source on a gateway that knows no Kafka address.
    let dir = temp_dir("nokafka");
    let bare = app(Config::new(dir.join("dist"), dir.join("data"), None)
        .unwrap()
        .with_spark(SparkUrl::parse("sc://127.0.0.1:1").unwrap()));
    let answer = run(
        &bare,
        json!({"sources": [{"view": "k", "format": "kafka", "options": {"subscribe": "t"}}], "statements": ["SELECT 1"]}),
    )
    .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(answer.error.contains("--spark-kafka-bootstrap"), "{}", answer.error);
}

#[tokio::test]
async fn a_kafka_source_reads_a_topic() {
    let Some(url) = common::spark_url() else { return };
    if env("RIFFLE_KAFKA_BOOTSTRAP").is_none() {
        eprintln!("note: RIFFLE_KAFKA_BOOTSTRAP is not set; skipping the Kafka source test");
        return;
    }
    let router = router(url);
    let topic = format!("riffle-spark-{}", uuid());
    let create = Request::post("/api/kafka/topics")
        .header("content-type", "application/json")
        .body(Body::from(json!({"name": topic, "partitions": 1}).to_string()))
        .unwrap();
    let response = router.clone().oneshot(create).await.unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let lines: Vec<String> = (1..=5).map(|i| json!({"n": i, "word": format!("w{i}")}).to_string()).collect();
    let produce = Request::post(format!("/api/kafka/topics/{topic}/produce?format=lines"))
        .header("content-type", "text/plain")
        .body(Body::from(lines.join("\n")))
        .unwrap();
    let response = router.clone().oneshot(produce).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let answer = run(
        &router,
        json!({
            "sources": [{"view": "riffle_src_0", "format": "kafka", "options": {"subscribe": topic}}],
            "statements": [
                "CREATE OR REPLACE TEMPORARY VIEW riffle_events AS \
                 SELECT CAST(value AS STRING) AS v, offset FROM riffle_src_0",
                "SELECT count(*) AS n, concat_ws('\\n', collect_list(v)) AS vs FROM \
                 (SELECT v FROM riffle_events ORDER BY offset)",
            ],
        }),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.failure());
    assert_eq!(answer.summary["error"], Value::Null, "{}", answer.failure());
    assert_eq!(answer.int("n"), 5);
    let batch = answer.batches.iter().find(|b| b.num_rows() > 0).unwrap();
    let values = batch.column_by_name("vs").unwrap().as_any().downcast_ref::<StringArray>().unwrap();
    assert_eq!(values.value(0), lines.join("\n"));
}

#[tokio::test]
async fn statements_run_in_order_in_one_session() {
    let Some(url) = common::spark_url() else { return };
    let router = router(url);
    let answer = run(
        &router,
        json!({"statements": [
            "CREATE OR REPLACE TEMPORARY VIEW riffle_small AS SELECT id FROM range(10);",
            "CREATE OR REPLACE TEMPORARY VIEW riffle_even AS SELECT id FROM riffle_small WHERE id % 2 = 0",
            "SELECT sum(id) AS s, count(*) AS n FROM riffle_even",
        ]}),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.failure());
    assert_eq!((answer.int("s"), answer.int("n")), (20, 5));
    // Each step's frames, in order: its start (zeros), then Spark's reports.
    let mut steps: Vec<(u64, &str)> =
        answer.progress.iter().map(|p| (p["statement"].as_u64().unwrap(), p["stage"].as_str().unwrap())).collect();
    steps.dedup();
    assert_eq!(steps, [(0, "command"), (1, "command"), (2, "query")]);
    assert_eq!(answer.summary["operation_ids"].as_array().map(Vec::len), Some(3));
    // The views stay in the gateway's session for the next run.
    let answer = sql(&router, "SELECT count(*) AS n FROM riffle_even").await;
    assert_eq!(answer.int("n"), 5, "{}", answer.failure());
}

#[tokio::test]
async fn notebooks_have_sessions_of_their_own() {
    let Some(url) = common::spark_url() else { return };
    let router = router(url.clone());
    let in_session = |session: &str, query: &str| json!({"statements": [query], "session": session});
    let mine = "notebook-a-0123456789";
    let create = json!({"statements": ["CREATE OR REPLACE TEMPORARY VIEW riffle_mine AS SELECT 7L AS x", "SELECT x FROM riffle_mine"], "session": mine});
    assert_eq!(run(&router, create).await.int("x"), 7);
    let not_found = |answer: &Answer| answer.failure().contains("TABLE_OR_VIEW_NOT_FOUND");
    // Another notebook, and the gateway's own session, do not see it; the notebook still does.
    let other = run(&router, in_session("notebook-b-0123456789", "SELECT x FROM riffle_mine")).await;
    assert!(not_found(&other), "{}", other.failure());
    assert!(not_found(&sql(&router, "SELECT x FROM riffle_mine").await));
    assert_eq!(run(&router, in_session(mine, "SELECT x FROM riffle_mine")).await.int("x"), 7);
    let bad = run(&router, in_session("x", "SELECT 1")).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.failure());
    // Past the bound, the least recently used notebook's session is released: its view is gone.
    for i in 0..16 {
        let answer = run(&router, in_session(&format!("notebook-c-{i:010}"), "SELECT 1L AS one")).await;
        assert_eq!(answer.int("one"), 1, "{}", answer.failure());
    }
    let status = router.clone().oneshot(Request::get("/api/spark/status").body(Body::empty()).unwrap()).await.unwrap();
    let status: Value = serde_json::from_slice(&status.into_body().collect().await.unwrap().to_bytes()).unwrap();
    assert_eq!((status["notebook_sessions"].as_u64(), status["max_notebook_sessions"].as_u64()), (Some(16), Some(16)));
    let again = run(&router, in_session(mine, "SELECT x FROM riffle_mine")).await;
    assert!(not_found(&again), "{}", again.failure());
    // A released session is closed on Spark.
    let client = SparkClient::new(url).unwrap().new_session();
    client.command("CREATE OR REPLACE TEMPORARY VIEW riffle_gone AS SELECT 1", &uuid()).await.unwrap();
    client.release().await.unwrap();
    let after = client.command("SELECT 1", &uuid()).await.unwrap_err();
    assert!(after.message().contains("SESSION_CLOSED"), "{after:?}");
}

#[tokio::test]
async fn statements_stay_in_the_data_directory_unless_allowed() {
    let Some(url) = common::spark_url() else { return };
    let (router, data) = gateway(url.clone());
    std::fs::write(data.join("inside.txt"), "one\ntwo\n").unwrap();
    // Outside the data directory, as Spark would read it: refused before Spark.
    let outside = temp_dir("outside").join("secret.txt");
    std::fs::write(&outside, "secret\n").unwrap();
    let outside = outside.display().to_string();
    for query in [
        format!("SELECT count(*) AS n FROM text.`{outside}`"),
        format!("SELECT count(*) AS n FROM text.`file://{outside}`"),
        format!("CREATE TABLE riffle_outside USING text LOCATION '{outside}'"),
        format!("CREATE OR REPLACE TEMPORARY VIEW s USING text OPTIONS (path '{}' '{}')", &outside[..3], &outside[3..]),
        "ADD JAR /tmp/x.jar".to_string(),
        "SELECT reflect('java.lang.System', 'getProperty', 'user.home') AS h".to_string(),
    ] {
        let answer = sql(&router, &query).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{query}: {}", answer.failure());
        assert!(
            answer.error.contains("not sent to Spark") && answer.error.contains("--spark-allow-local"),
            "{}",
            answer.error
        );
    }
    // Inside it, by its file:// URL, Spark reads it.
    let inside = format!("file://{}/inside.txt", data.canonicalize().unwrap().display());
    let answer = sql(&router, &format!("SELECT count(*) AS n FROM text.`{inside}`")).await;
    assert_eq!(answer.int("n"), 2, "{}", answer.failure());
    // With --spark-allow-local the same statement reaches the file.
    let dir = temp_dir("allow");
    let config =
        Config::new(dir.join("dist"), dir.join("data"), None).unwrap().with_spark(url).with_spark_allow_local(true);
    // (file:// spelled out: a path without a scheme is on Spark's default file system, HDFS in CI.)
    let answer = sql(&app(config), &format!("SELECT count(*) AS n FROM text.`file://{outside}`")).await;
    assert_eq!(answer.int("n"), 1, "{}", answer.failure());
}

#[tokio::test]
async fn the_notebooks_ansi_setting_reaches_spark() {
    let Some(url) = common::spark_url() else { return };
    let router = router(url);
    let query = "SELECT CAST('x' AS INT) AS n, 7 / 2 AS q";
    // ANSI off: a bad cast is NULL, as in the browser engine with the same setting.
    let answer = run(&router, json!({"statements": [query], "ansi": false})).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.failure());
    assert!(answer.summary["error"].is_null(), "{}", answer.summary);
    assert_eq!(answer.batches.iter().map(|b| b.num_rows()).sum::<usize>(), 1);
    assert_eq!(answer.batches[0].column(0).null_count(), 1, "CAST('x' AS INT) under ANSI off is NULL");
    // ANSI on (Spark's default): the same cast fails, and says so; the setting
    // from the last run does not linger in the shared session.
    let answer = run(&router, json!({"statements": [query], "ansi": true})).await;
    let message = answer.summary["error"]["message"].as_str().unwrap_or_default().to_string();
    assert!(message.contains("CAST_INVALID_INPUT"), "{}", answer.summary);
    let answer = run(&router, json!({"statements": ["SET spark.sql.ansi.enabled"], "ansi": false})).await;
    let value = answer.batches[0].column(1).as_any().downcast_ref::<StringArray>().map(|a| a.value(0).to_string());
    assert_eq!(value.as_deref(), Some("false"));
}

#[tokio::test]
async fn a_failing_statement_says_which() {
    let Some(url) = common::spark_url() else { return };
    let router = router(url);
    let answer =
        run(&router, json!({"statements": ["SELECT 1", "SELECT * FROM no_such_table_here", "SELECT 2"]})).await;
    assert_eq!(answer.status, StatusCode::OK);
    let error = &answer.summary["error"];
    assert_eq!((error["kind"].as_str(), error["statement"].as_u64()), (Some("spark"), Some(1)), "{error}");
    let message = error["message"].as_str().unwrap_or_default();
    assert!(message.contains("TABLE_OR_VIEW_NOT_FOUND") && message.contains("no_such_table_here"), "{message}");
    // Statement 3 never ran.
    assert!(answer.progress.iter().all(|p| p["statement"] != 2), "{:?}", answer.progress);
    let answer = sql(&router, "SELEC 1").await;
    let error = &answer.summary["error"];
    assert_eq!(error["statement"], 0);
    assert!(error["message"].as_str().unwrap_or_default().contains("PARSE_SYNTAX_ERROR"), "{error}");
}

/// A query that keeps local[2] busy for a few seconds.
const SLOW: &str = "SELECT sum(hash(a.id)) AS h FROM range(0, 4000000) a CROSS JOIN range(0, 1200) b";

#[tokio::test]
async fn progress_frames_arrive_while_a_query_runs() {
    let Some(url) = common::spark_url() else { return };
    let router = router(url);
    let started = Instant::now();
    let answer = sql(&router, SLOW).await;
    let elapsed = started.elapsed();
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.failure());
    assert_eq!(answer.summary["error"], Value::Null, "{}", answer.failure());
    let reports: Vec<&Value> = answer.progress.iter().filter(|p| p["tasks"].as_u64() > Some(0)).collect();
    let times: Vec<u64> = reports.iter().filter_map(|p| p["elapsed_ms"].as_u64()).collect();
    eprintln!("slow query: {} ms, Spark progress reports at {times:?} ms", elapsed.as_millis());
    for p in &answer.progress {
        eprintln!("  {p}");
    }
    assert!(!reports.is_empty(), "no progress from Spark in {elapsed:?}: {:?}", answer.progress);
    let last = reports[reports.len() - 1];
    assert!(last["completed_tasks"].as_u64() <= last["tasks"].as_u64(), "{last}");
    assert!(last["stages"].as_u64() >= Some(1), "{last}");
    assert!(reports.iter().all(|p| p["stage"] == "query" && p["statement"] == 0));
}

#[tokio::test]
async fn the_row_cap_stops_the_stream_and_counts_the_rest() {
    let Some(url) = common::spark_url() else { return };
    let router = router(url);
    let answer = run(&router, json!({"statements": ["SELECT id FROM range(500000)"], "max_rows": 1234})).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.failure());
    assert_eq!(answer.rows(), 1234);
    assert_eq!(answer.summary["truncated"], true);
    assert_eq!(answer.summary["rows"], 1234);
    assert_eq!(answer.summary["total_rows"], 500_000);
    assert_eq!(answer.summary["operation_ids"].as_array().map(Vec::len), Some(2));
    assert!(answer.progress.iter().any(|p| p["stage"] == "count"), "{:?}", answer.progress);
    // Exactly at the cap is not truncated.
    let answer = run(&router, json!({"statements": ["SELECT id FROM range(1234)"], "max_rows": 1234})).await;
    assert_eq!(
        (answer.summary["truncated"].as_bool(), answer.summary["total_rows"].as_u64()),
        (Some(false), Some(1234))
    );
    // Without the count, and the cost of the count on a million rows.
    let mut times = Vec::new();
    for count_total in [false, true] {
        let started = Instant::now();
        let answer = run(
            &router,
            json!({"statements": ["SELECT id, id * 2 AS twice FROM range(1000000)"], "max_rows": 1000, "count_total": count_total}),
        )
        .await;
        times.push(started.elapsed().as_millis());
        assert_eq!(answer.rows(), 1000);
        let total = if count_total { json!(1_000_000) } else { Value::Null };
        assert_eq!(answer.summary["total_rows"], total);
    }
    eprintln!("capped 1M-row query: {} ms without the count, {} ms with it", times[0], times[1]);
}

/// The ids of the jobs Spark ran for a session, with their status.
async fn session_jobs(ui: &str, session: &str) -> Vec<(i64, String)> {
    let http = reqwest::Client::new();
    let apps: Value = http.get(format!("{ui}/api/v1/applications")).send().await.unwrap().json().await.unwrap();
    let app = apps[0]["id"].as_str().expect("a Spark application").to_string();
    let jobs: Value =
        http.get(format!("{ui}/api/v1/applications/{app}/jobs")).send().await.unwrap().json().await.unwrap();
    let tag = format!("_Session_{session}_");
    jobs.as_array()
        .unwrap()
        .iter()
        .filter(|j| {
            j["jobTags"].as_array().is_some_and(|t| t.iter().any(|t| t.as_str().is_some_and(|t| t.contains(&tag))))
        })
        .map(|j| (j["jobId"].as_i64().unwrap(), j["status"].as_str().unwrap_or_default().to_string()))
        .collect()
}

#[tokio::test]
async fn a_disconnect_interrupts_the_query() {
    let Some(mut url) = common::spark_url() else { return };
    // Our own session, to find its jobs in Spark's job list.
    let session = uuid();
    url.session_id = Some(session.clone());
    let router = router(url);
    let request = Request::post("/api/spark/run")
        .header("content-type", "application/json")
        .body(Body::from(json!({"statements": ["SELECT count(*) FROM range(0, 100000000000, 1, 2)"]}).to_string()))
        .unwrap();
    let response = router.oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    // Read until Spark reports tasks: the query is running.
    let mut body = response.into_body();
    let mut bytes = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let frame = body.frame().await.expect("the answer goes on while the query runs").unwrap();
        bytes.extend_from_slice(&frame.into_data().unwrap_or_default());
        let running = bytes.len() >= 5
            && frames(&bytes[..complete_frames(&bytes)])
                .iter()
                .any(|(k, p)| *k == b'P' && serde_json::from_slice::<Value>(p).unwrap()["tasks"].as_u64() > Some(0));
        assert!(frames(&bytes[..complete_frames(&bytes)]).iter().all(|(k, _)| *k == b'P'), "only progress so far");
        if running {
            break;
        }
        assert!(Instant::now() < deadline, "Spark never reported the query's tasks");
    }
    drop(body);
    let Some(ui) = env("RIFFLE_SPARK_UI") else {
        eprintln!("note: RIFFLE_SPARK_UI is not set; not checking Spark's job list");
        return;
    };
    // The job ends (killed) instead of running for minutes.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let jobs = session_jobs(&ui, &session).await;
        assert!(!jobs.is_empty(), "Spark lists no job for session {session}");
        if jobs.iter().all(|(_, status)| status != "RUNNING") {
            assert!(jobs.iter().any(|(_, status)| status == "FAILED"), "{jobs:?}");
            eprintln!("after the disconnect: {jobs:?}");
            break;
        }
        assert!(Instant::now() < deadline, "the job still runs after the disconnect: {jobs:?}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// The length of the complete frames at the start of `bytes`.
fn complete_frames(bytes: &[u8]) -> usize {
    let mut at = 0;
    while bytes.len() - at >= 5 {
        let len = u32::from_le_bytes(bytes[at + 1..at + 5].try_into().unwrap()) as usize;
        if bytes.len() - at - 5 < len {
            break;
        }
        at += 5 + len;
    }
    at
}

#[tokio::test]
async fn commands_and_views_live_in_the_gateways_session() {
    let Some(url) = common::spark_url() else { return };
    let client = SparkClient::new(url.clone()).unwrap();
    client
        .command("CREATE OR REPLACE TEMPORARY VIEW riffle_small AS SELECT id FROM range(10)", &uuid())
        .await
        .expect("CREATE VIEW runs");
    let mut stream = client.sql("SELECT sum(id) AS s FROM riffle_small", &uuid()).await.expect("the view is there");
    let mut rows = 0;
    while let Some(response) = stream.message().await.unwrap() {
        if let Some(riffle_gateway::spark::proto::execute_plan_response::ResponseType::ArrowBatch(b)) =
            response.response_type
        {
            rows += b.row_count;
        }
    }
    assert_eq!(rows, 1);
}

#[tokio::test]
async fn interrupt_stops_a_long_query() {
    let Some(url) = common::spark_url() else { return };
    let client = SparkClient::new(url).unwrap();
    let operation = uuid();
    let long = "SELECT count(*) FROM range(0, 100000000000, 1, 2) a";
    let task = {
        let client = client.clone();
        let operation = operation.clone();
        tokio::spawn(async move {
            let mut stream = client.sql(long, &operation).await?;
            while stream.message().await?.is_some() {}
            Ok::<(), tonic::Status>(())
        })
    };
    // Interrupt until Spark knows the operation (it registers it when the request arrives).
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let ids = client.interrupt(&operation).await.expect("Interrupt answers");
        if ids.contains(&operation) {
            break;
        }
        assert!(Instant::now() < deadline, "Spark never listed the operation as interrupted");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let result = tokio::time::timeout(Duration::from_secs(60), task).await.expect("the query ends").unwrap();
    let status = result.expect_err("an interrupted query ends with an error");
    assert!(status.message().contains("OPERATION_CANCELED"), "{status:?}");
}

#[tokio::test]
async fn an_unreachable_spark_is_a_503_quickly() {
    // A port nothing listens on: bind one, note it, close it.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = SparkUrl::parse(&format!("sc://127.0.0.1:{port}")).unwrap();
    let router = router(url);
    let started = Instant::now();
    let answer = sql(&router, "SELECT 1").await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(answer.error.contains(&format!("sc://127.0.0.1:{port}")), "{}", answer.error);
    assert!(answer.error.contains("bash scripts/spark.sh start"), "{}", answer.error);
    assert!(started.elapsed() < Duration::from_secs(10), "took {:?}", started.elapsed());
}

#[tokio::test]
async fn bad_requests_are_refused_before_spark() {
    // No Spark configured at all.
    let dir = temp_dir("nospark");
    let router = app(Config::new(dir.join("dist"), dir.join("data"), None).unwrap());
    let answer = sql(&router, "SELECT 1").await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(answer.error.contains("--spark"), "{}", answer.error);
    let router = self::router(SparkUrl::parse("sc://127.0.0.1:1").unwrap());
    for (body, needle) in [
        (json!({"statements": ["  ; "]}), "empty"),
        (json!({"statements": []}), "no statements"),
        (json!({"statements": ["SELECT 1"], "max_rows": 0}), "max_rows"),
        (json!({"statements": ["SELECT 1"], "max_rows": 50_000_001}), "max_rows"),
        (json!({"query": "SELECT 1"}), "unknown field"),
        (json!({"statements": "SELECT 1"}), "not valid"),
    ] {
        let answer = run(&router, body.clone()).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{body}");
        assert!(answer.error.contains(needle), "{body}: {}", answer.error);
    }
    // The old endpoint is gone.
    let answer = run_at(&router, "/api/spark/sql", json!({"query": "SELECT 1"})).await;
    assert_eq!(answer, StatusCode::NOT_FOUND);
}

async fn run_at(router: &axum::Router, path: &str, body: Value) -> StatusCode {
    let request =
        Request::post(path).header("content-type", "application/json").body(Body::from(body.to_string())).unwrap();
    router.clone().oneshot(request).await.unwrap().status()
}

#[tokio::test]
async fn status_names_spark_without_its_token() {
    let url = SparkUrl::parse("sc://spark.example:15003/;user_id=ada;token=s3cret;use_ssl=true").unwrap();
    let dir = temp_dir("status");
    let router = app(Config::new(dir.join("dist"), dir.join("data"), None)
        .unwrap()
        .with_spark(url)
        .with_spark_kafka_bootstrap("kafka.internal:9092")
        .with_spark_hints(riffle::spark::HintLimits { bytes: 1000, messages: 10 }));
    let get = |router: axum::Router| async move {
        let response = router.oneshot(Request::get("/api/spark/status").body(Body::empty()).unwrap()).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (String::from_utf8_lossy(&bytes).to_string(), serde_json::from_slice::<Value>(&bytes).unwrap())
    };
    let (text, mut status) = get(router.clone()).await;
    let session = status["session_id"].take();
    assert!(session.as_str().is_some_and(|s| uuid::Uuid::parse_str(s).is_ok()), "session_id: {session}");
    assert_eq!(
        status,
        json!({"configured": true, "url": "sc://spark.example:15003", "user": "ada", "session_id": null,
               "kafka_bootstrap": "kafka.internal:9092", "hint_bytes": 1000, "hint_messages": 10,
               "notebook_sessions": 0, "notebook_session_ids": [], "max_notebook_sessions": 16})
    );
    assert!(!text.contains("s3cret"), "{text}");
    let dir = temp_dir("status-off");
    let (_, status) = get(app(Config::new(dir.join("dist"), dir.join("data"), None).unwrap())).await;
    let defaults = riffle::spark::HintLimits::default();
    assert_eq!(
        status,
        json!({"configured": false, "url": null, "user": null, "session_id": null, "kafka_bootstrap": null,
               "hint_bytes": defaults.bytes, "hint_messages": defaults.messages,
               "notebook_sessions": 0, "notebook_session_ids": [], "max_notebook_sessions": 16})
    );
    // Another site's page may not use it.
    let request = Request::post("/api/spark/run")
        .header("origin", "http://evil.example")
        .header("host", "127.0.0.1:8080")
        .header("content-type", "application/json")
        .body(Body::from(json!({"statements": ["SELECT 1"]}).to_string()))
        .unwrap();
    assert_eq!(router.oneshot(request).await.unwrap().status(), StatusCode::FORBIDDEN);
}

fn uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}
