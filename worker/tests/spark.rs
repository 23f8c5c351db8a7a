//! `POST /api/spark/sql` against a REAL Spark Connect server.
//!
//! Needs `RIFFLE_SPARK` (e.g. sc://127.0.0.1:15002, after `bash scripts/spark.sh start`).
//! Without it, the tests that need Spark print a note and pass without
//! checking anything; `RIFFLE_REQUIRE_SPARK=1` (for CI) makes that a failure instead.
//! The unreachable-URL test needs no server and always runs.

use std::io::Cursor;
use std::time::{Duration, Instant};

use arrow_array::{Array, Int64Array, RecordBatch};
use arrow_ipc::reader::StreamReader;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use riffle_gateway::spark::{SparkClient, SparkUrl};
use riffle_gateway::{Config, app};
use tower::ServiceExt;

fn spark_url() -> Option<SparkUrl> {
    match std::env::var("RIFFLE_SPARK").ok().filter(|u| !u.is_empty()) {
        Some(url) => Some(SparkUrl::parse(&url).expect("RIFFLE_SPARK is a sc:// URL")),
        None => {
            assert!(
                std::env::var("RIFFLE_REQUIRE_SPARK").is_err(),
                "RIFFLE_REQUIRE_SPARK is set but RIFFLE_SPARK is not: start one with `bash scripts/spark.sh start`"
            );
            eprintln!("note: RIFFLE_SPARK is not set; skipping (start one with `bash scripts/spark.sh start`)");
            None
        }
    }
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let dir = std::env::temp_dir().join(format!("riffle-spark-{name}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(dir.join("dist")).unwrap();
    std::fs::create_dir_all(dir.join("data")).unwrap();
    dir
}

fn router(url: SparkUrl) -> axum::Router {
    let dir = temp_dir("gw");
    app(Config::new(dir.join("dist"), dir.join("data"), None).unwrap().with_spark(url))
}

struct Answer {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    batches: Vec<RecordBatch>,
    summary: serde_json::Value,
    error: String,
}

impl Answer {
    fn rows(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }
}

/// Posts a query; splits the body into the Arrow stream and the JSON summary after it.
async fn post(router: &axum::Router, body: serde_json::Value) -> Answer {
    let request = Request::post("/api/spark/sql")
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    if !status.is_success() {
        let json: serde_json::Value = serde_json::from_slice(&bytes).expect("errors are JSON");
        return Answer {
            status,
            headers,
            batches: vec![],
            summary: serde_json::Value::Null,
            error: json["error"].as_str().unwrap_or_default().to_string(),
        };
    }
    const EOS: [u8; 8] = [0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0];
    let end =
        bytes.windows(9).rposition(|w| w[..8] == EOS && w[8] == b'{').expect("an end-of-stream marker, then JSON") + 8;
    let batches = StreamReader::try_new(Cursor::new(bytes.slice(..end)), None)
        .expect("an Arrow IPC stream")
        .collect::<Result<Vec<_>, _>>()
        .expect("Arrow batches");
    let summary: serde_json::Value = serde_json::from_slice(&bytes[end..]).expect("a JSON summary line");
    Answer { status, headers, batches, summary, error: String::new() }
}

#[tokio::test]
async fn select_one() {
    let Some(url) = spark_url() else { return };
    let router = router(url);
    let started = Instant::now();
    let answer = post(&router, serde_json::json!({"query": "SELECT 1 AS one"})).await;
    eprintln!("first query: {} ms", started.elapsed().as_millis());
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.error);
    assert_eq!(answer.rows(), 1);
    let column = answer.batches[0].column_by_name("one").expect("a column named one");
    assert_eq!(column.as_any().downcast_ref::<arrow_array::Int32Array>().map(|a| a.value(0)), Some(1));
    assert_eq!(answer.headers.get("x-riffle-row-count").and_then(|v| v.to_str().ok()), Some("1"));
    assert_eq!(answer.summary["truncated"], false);
    assert_eq!(answer.summary["total_rows"], 1);
}

#[tokio::test]
async fn aggregates_a_million_rows_and_streams_a_million() {
    let Some(url) = spark_url() else { return };
    let router = router(url);
    let answer = post(
        &router,
        serde_json::json!({"query": "SELECT count(*) AS n, sum(id) AS total, max(id) AS top FROM range(1000000)"}),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.error);
    let batch = &answer.batches[0];
    let value =
        |name: &str| batch.column_by_name(name).unwrap().as_any().downcast_ref::<Int64Array>().unwrap().value(0);
    assert_eq!((value("n"), value("total"), value("top")), (1_000_000, 499_999_500_000, 999_999));

    let started = Instant::now();
    let answer = post(
        &router,
        serde_json::json!({"query": "SELECT id, id * 2 AS twice FROM range(1000000)", "max_rows": 1_000_000}),
    )
    .await;
    let elapsed = started.elapsed();
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.error);
    assert_eq!(answer.rows(), 1_000_000);
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
async fn reads_a_csv_file() {
    let Some(url) = spark_url() else { return };
    let dir = temp_dir("csv");
    let csv = dir.join("trips.csv");
    std::fs::write(&csv, "zone,fare\nA,10.5\nB,3\nA,4.5\n").unwrap();
    let router = router(url);
    let query = format!(
        // csv.`path` reads without a header: columns _c0, _c1, and the header as a row.
        "SELECT _c0 AS zone, sum(CAST(_c1 AS DOUBLE)) AS revenue FROM csv.`{}` WHERE _c0 <> 'zone' \
         GROUP BY _c0 ORDER BY zone",
        csv.display()
    );
    let answer = post(&router, serde_json::json!({ "query": query })).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.error);
    assert_eq!(answer.rows(), 2);
    let batch = arrow_select_concat(&answer.batches);
    let zones = batch.column(0).as_any().downcast_ref::<arrow_array::StringArray>().unwrap();
    let revenue = batch.column(1).as_any().downcast_ref::<arrow_array::Float64Array>().unwrap();
    assert_eq!((zones.value(0), revenue.value(0)), ("A", 15.0));
    assert_eq!((zones.value(1), revenue.value(1)), ("B", 3.0));
}

/// The rows of all batches in one (these results are small).
fn arrow_select_concat(batches: &[RecordBatch]) -> RecordBatch {
    let nonempty: Vec<&RecordBatch> = batches.iter().filter(|b| b.num_rows() > 0).collect();
    assert_eq!(nonempty.len(), 1, "expected one batch of rows");
    nonempty[0].clone()
}

#[tokio::test]
async fn a_bad_query_is_a_4xx_with_sparks_message() {
    let Some(url) = spark_url() else { return };
    let router = router(url);
    let answer = post(&router, serde_json::json!({"query": "SELECT * FROM no_such_table_here"})).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(answer.error.contains("TABLE_OR_VIEW_NOT_FOUND"), "{}", answer.error);
    assert!(answer.error.contains("no_such_table_here"), "{}", answer.error);
    let answer = post(&router, serde_json::json!({"query": "SELEC 1"})).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(answer.error.contains("PARSE_SYNTAX_ERROR"), "{}", answer.error);
}

#[tokio::test]
async fn the_row_cap_stops_the_stream_and_says_so() {
    let Some(url) = spark_url() else { return };
    let router = router(url);
    let answer = post(&router, serde_json::json!({"query": "SELECT id FROM range(500000)", "max_rows": 1234})).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.error);
    assert_eq!(answer.rows(), 1234);
    assert_eq!(answer.summary["truncated"], true);
    assert_eq!(answer.summary["rows"], 1234);
    assert!(answer.headers.get("x-riffle-row-count").is_none());
    assert_eq!(answer.headers.get("x-riffle-max-rows").and_then(|v| v.to_str().ok()), Some("1234"));
}

#[tokio::test]
async fn commands_and_views_live_in_the_gateways_session() {
    let Some(url) = spark_url() else { return };
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
    let Some(url) = spark_url() else { return };
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
    let answer = post(&router, serde_json::json!({"query": "SELECT 1"})).await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(answer.error.contains(&format!("sc://127.0.0.1:{port}")), "{}", answer.error);
    assert!(answer.error.contains("scripts/spark.sh start"), "{}", answer.error);
    assert!(started.elapsed() < Duration::from_secs(10), "took {:?}", started.elapsed());
}

#[tokio::test]
async fn bad_requests_are_refused_before_spark() {
    // No Spark configured at all.
    let dir = temp_dir("nospark");
    let router = app(Config::new(dir.join("dist"), dir.join("data"), None).unwrap());
    let answer = post(&router, serde_json::json!({"query": "SELECT 1"})).await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(answer.error.contains("--spark"), "{}", answer.error);
    let router = self::router(SparkUrl::parse("sc://127.0.0.1:1").unwrap());
    let answer = post(&router, serde_json::json!({"query": "  ; "})).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    let answer = post(&router, serde_json::json!({"query": "SELECT 1", "max_rows": 0})).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(answer.error.contains("max_rows"), "{}", answer.error);
}

fn uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}
