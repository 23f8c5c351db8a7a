//! The gateway's limits (issue 17), in process with `oneshot`: bounded
//! produce memory, malformed Arrow, upload sizes, debris, symlinks at commit,
//! caps on tails and reads. The Kafka tests need a broker at
//! `RIFFLE_KAFKA_BOOTSTRAP` and are skipped (with a note) without one.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use riffle_gateway::{Config, app};
use tower::ServiceExt;

/// Tests that measure the process's peak memory run alone.
static ALONE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn fixture() -> (std::path::PathBuf, Config) {
    let dir = std::env::temp_dir().join(format!("riffle-limits-{}-{}", std::process::id(), rand_suffix()));
    std::fs::create_dir_all(dir.join("data")).unwrap();
    std::fs::create_dir_all(dir.join("dist")).unwrap();
    std::fs::write(dir.join("dist/index.html"), "<html>riffle</html>").unwrap();
    let config = Config::new(dir.join("dist"), dir.join("data"), None).unwrap();
    (dir, config)
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()
}

async fn body_text(response: axum::response::Response) -> String {
    String::from_utf8_lossy(&response.into_body().collect().await.unwrap().to_bytes()).to_string()
}

/// One request, its status and its JSON body.
async fn call(
    router: &axum::Router,
    method: &str,
    uri: &str,
    body: impl Into<Body>,
) -> (StatusCode, serde_json::Value) {
    let request = Request::builder().method(method).uri(uri).body(body.into()).unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let text = body_text(response).await;
    (status, serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)))
}

#[cfg(unix)]
#[tokio::test]
async fn commit_never_writes_through_a_symlink() {
    let _alone = ALONE.lock().await;
    let (dir, config) = fixture();
    let router = app(config);
    let outside = dir.join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("precious"), "keep me\n").unwrap();
    for (out, target) in [("out/dangling", outside.join("created")), ("out/existing", outside.join("precious"))] {
        let (status, opened) =
            call(&router, "POST", "/api/fs/writes", format!(r#"{{"path": "{out}", "mode": "append"}}"#)).await;
        assert_eq!(status, StatusCode::CREATED, "{opened}");
        let id = opened["id"].as_str().unwrap().to_string();
        let (status, body) = call(&router, "PUT", &format!("/api/fs/writes/{id}/parts/part-00000.csv"), "1\n").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        // A `_SUCCESS` that is a link out of the data root, placed while the write runs.
        std::os::unix::fs::symlink(&target, dir.join("data").join(out).join("_SUCCESS")).unwrap();
        let (status, body) = call(&router, "POST", &format!("/api/fs/writes/{id}/commit"), "").await;
        assert_eq!(status, StatusCode::OK, "{out}: {body}");
        let success = dir.join("data").join(out).join("_SUCCESS");
        let meta = std::fs::symlink_metadata(&success).unwrap();
        assert!(meta.file_type().is_file(), "{out}: _SUCCESS is a plain file now");
    }
    assert!(!outside.join("created").exists(), "the dangling link was not followed");
    assert_eq!(std::fs::read_to_string(outside.join("precious")).unwrap(), "keep me\n");
    std::fs::remove_dir_all(dir).unwrap();
}

/// An app on the broker at `RIFFLE_KAFKA_BOOTSTRAP` with a new topic of its
/// own, or `None` (the test is skipped) without one.
async fn kafka_app(partitions: i32) -> Option<(std::path::PathBuf, axum::Router, String)> {
    let Some(bootstrap) = std::env::var("RIFFLE_KAFKA_BOOTSTRAP").ok().filter(|b| !b.is_empty()) else {
        eprintln!("skipped: set RIFFLE_KAFKA_BOOTSTRAP to a broker (scripts/kafka.sh start)");
        return None;
    };
    let (dir, config) = fixture();
    let router = app(config.with_kafka(riffle_gateway::kafka::KafkaConfig::new(bootstrap)));
    let topic = format!("limits-{}", rand_suffix());
    let (status, body) =
        call(&router, "POST", "/api/kafka/topics", format!(r#"{{"name": "{topic}", "partitions": {partitions}}}"#))
            .await;
    assert!(status.is_success(), "creating {topic}: {status} {body}");
    Some((dir, router, topic))
}

/// The process's resident memory and its peak, in KiB (`/proc/self/status`).
fn memory_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap()
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// How much a request raises the process's peak resident memory, in bytes.
/// The peak is reset to the current size first (`clear_refs` 5) when the
/// kernel allows it; else the peak so far is the baseline, which can only
/// make the growth look smaller, so the caller also checks it could reset.
async fn peak_growth(router: &axum::Router, uri: &str, body: Vec<u8>) -> (u64, bool, StatusCode, serde_json::Value) {
    let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    let (_, before) = memory_kib();
    let request = Request::post(uri).body(Body::from(body)).unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let (_, after) = memory_kib();
    // Parsed after measuring: the test's own JSON tree is not the gateway's.
    (after.saturating_sub(before) * 1024, reset, status, serde_json::from_slice(&bytes).unwrap())
}

#[tokio::test]
async fn produce_memory_is_a_small_multiple_of_the_body() {
    let _alone = ALONE.lock().await;
    let Some((dir, router, topic)) = kafka_app(2).await else { return };
    let uri = format!("/api/kafka/topics/{topic}/produce?format=lines&results=none");
    // Warm up: the producer, its threads and buffers exist before measuring.
    let (status, body) = call(&router, "POST", &uri, "warm\nup\n").await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // 8 MiB of newlines: 8 Mi empty records, more than a request takes. It
    // used to raise the peak by about 650 MiB (81 times the body).
    let size = 8 * 1024 * 1024;
    let (growth, reset, status, answer) = peak_growth(&router, &uri, vec![b'\n'; size]).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{answer}");
    let error = answer["error"].as_str().unwrap();
    assert!(error.contains("at most 1000000") && error.contains("nothing was produced"), "{error}");
    eprintln!("8 MiB of newlines: peak grew by {} KiB (peak reset: {reset})", growth / 1024);
    assert!(growth < 4 * size as u64, "8 MiB of newlines raised the peak by {growth} bytes");

    // 8 MiB of 63-byte lines (131,072 records) within the cap: all produced.
    let line = format!("{}\n", "x".repeat(63));
    let lines = line.repeat(size / 64).into_bytes();
    let (growth, _, status, answer) = peak_growth(&router, &uri, lines).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["produced"], 131_072, "{answer}");
    eprintln!("8 MiB of lines produced: peak grew by {} KiB", growth / 1024);
    assert!(growth < 4 * size as u64, "producing 8 MiB of lines raised the peak by {growth} bytes");

    // The same count as records, with every result in the answer.
    let records = format!(
        r#"{{"records": [{}]}}"#,
        (0..100_000).map(|i| format!(r#"{{"value": "v{i}"}}"#)).collect::<Vec<_>>().join(",")
    );
    let body_size = records.len() as u64;
    let (growth, _, status, answer) =
        peak_growth(&router, &format!("/api/kafka/topics/{topic}/produce"), records.into_bytes()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(answer["results"].as_array().unwrap().len(), 100_000);
    eprintln!("{body_size} bytes of JSON records: peak grew by {} KiB", growth / 1024);
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn produce_checks_the_topic_and_the_whole_body_before_sending() {
    let _alone = ALONE.lock().await;
    let Some((dir, router, topic)) = kafka_app(1).await else { return };
    // A missing topic is refused before the body is read: a body that never
    // ends would hang the request otherwise.
    let never = Body::from_stream(futures::stream::pending::<Result<bytes::Bytes, std::io::Error>>());
    let request = Request::post("/api/kafka/topics/no-such-topic-here/produce?format=lines").body(never).unwrap();
    let response = tokio::time::timeout(std::time::Duration::from_secs(60), router.clone().oneshot(request))
        .await
        .expect("the topic was looked up only after reading the body")
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert!(body_text(response).await.contains("does not exist"));
    // A declared body over the limit is refused before it is read.
    let never = Body::from_stream(futures::stream::pending::<Result<bytes::Bytes, std::io::Error>>());
    let request = Request::post(format!("/api/kafka/topics/{topic}/produce?format=lines"))
        .header("content-length", (600u64 << 20).to_string())
        .body(never)
        .unwrap();
    let response = tokio::time::timeout(std::time::Duration::from_secs(60), router.clone().oneshot(request))
        .await
        .expect("a declared length over the limit was read anyway")
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(body_text(response).await.contains("512 MiB"));
    // A bad record late in the body: nothing of the body is produced.
    let mut records: Vec<String> = (0..5000).map(|i| format!(r#"{{"value": "{i}"}}"#)).collect();
    records.push(r#"{"value": "x", "partition": 7}"#.into());
    let (status, answer) = call(
        &router,
        "POST",
        &format!("/api/kafka/topics/{topic}/produce"),
        format!(r#"{{"records": [{}]}}"#, records.join(",")),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert!(answer["error"].as_str().unwrap().contains("record 5000 asks for partition 7"), "{answer}");
    let (_, described) = call(&router, "GET", &format!("/api/kafka/topics/{topic}"), "").await;
    assert!(!described.to_string().contains("\"high\":5"), "nothing was produced: {described}");
    std::fs::remove_dir_all(dir).unwrap();
}

/// An Arrow IPC stream of `value` strings.
fn ipc(values: &[&str]) -> Vec<u8> {
    use std::sync::Arc;
    let schema = Arc::new(arrow_schema::Schema::new(vec![arrow_schema::Field::new(
        "value",
        arrow_schema::DataType::Utf8,
        true,
    )]));
    let batch = arrow_array::RecordBatch::try_new(
        schema.clone(),
        vec![Arc::new(arrow_array::StringArray::from(values.to_vec())) as arrow_array::ArrayRef],
    )
    .unwrap();
    let mut writer = arrow_ipc::writer::StreamWriter::try_new(Vec::new(), &schema).unwrap();
    writer.write(&batch).unwrap();
    writer.finish().unwrap();
    writer.into_inner().unwrap()
}

#[tokio::test]
async fn malformed_arrow_gets_a_400_never_a_dropped_connection() {
    let _alone = ALONE.lock().await;
    let Some((dir, router, topic)) = kafka_app(1).await else { return };
    let uri = format!("/api/kafka/topics/{topic}/produce?format=arrow&results=errors");
    let good = ipc(&["a", "bb", "ccc"]);
    let (status, answer) = call(&router, "POST", &uri, good.clone()).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["produced"], 3);

    let mut bodies: Vec<(String, Vec<u8>)> = Vec::new();
    for cut in [1, 7, 12, good.len() / 3, good.len() / 2, good.len() - 9, good.len() - 1] {
        bodies.push((format!("truncated at {cut}"), good[..cut].to_vec()));
    }
    // Random bytes, from a fixed seed.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for n in [16, 100, 4096] {
        let random: Vec<u8> = (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        bodies.push((format!("{n} random bytes"), random.clone()));
        let mut framed = vec![0xFF, 0xFF, 0xFF, 0xFF];
        framed.extend_from_slice(&((n as u32).min(64)).to_le_bytes());
        framed.extend_from_slice(&random);
        bodies.push((format!("{n} random bytes after a continuation marker"), framed));
    }
    // A valid schema message, then garbage where the batches go.
    let schema_only = ipc(&[]);
    let schema_len = 8 + u32::from_le_bytes(schema_only[4..8].try_into().unwrap()) as usize;
    for garbage in [vec![0xFFu8; 64], vec![0u8; 3], b"\xff\xff\xff\xff\x10\x00\x00\x00garbage garbage!".to_vec()] {
        let mut body = good[..schema_len].to_vec();
        body.extend_from_slice(&garbage);
        bodies.push((format!("a schema, then {} bytes of garbage", garbage.len()), body));
    }
    // A valid stream whose batch bytes are flipped one at a time.
    for at in (schema_len..good.len()).step_by(7) {
        let mut body = good.clone();
        body[at] ^= 0xA5;
        bodies.push((format!("a batch with byte {at} flipped"), body));
    }
    let mut refused = 0;
    for (what, body) in bodies {
        let request = Request::post(&uri).body(Body::from(body)).unwrap();
        let response = router.clone().oneshot(request).await.unwrap_or_else(|e| panic!("{what}: {e}"));
        let status = response.status();
        let text = body_text(response).await;
        // A flipped byte may land in data (a letter of a value): that still produces.
        if status == StatusCode::OK {
            continue;
        }
        assert_eq!(status, StatusCode::BAD_REQUEST, "{what}: {text}");
        assert!(text.contains("Arrow IPC"), "{what}: {text}");
        refused += 1;
    }
    assert!(refused >= 15, "{refused} corrupt bodies refused");
    std::fs::remove_dir_all(dir).unwrap();
}
