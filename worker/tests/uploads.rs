//! How much storage a client can make the gateway take on (issue 17): the
//! upload limit on `PUT /api/fs/files` and on write-session parts, the cap
//! on open write sessions and their idle expiry, and the sweep of what a
//! killed gateway left behind. In process with `oneshot`, with small limits,
//! and the `riffle` binary for the kill.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use bytes::Bytes;
use http_body_util::BodyExt;
use riffle_gateway::{Config, StorageLimits, app};
use tower::ServiceExt;

struct Fixture {
    dir: std::path::PathBuf,
}

impl Fixture {
    fn new() -> Fixture {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
        let dir = std::env::temp_dir().join(format!("riffle-uploads-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(dir.join("data")).unwrap();
        std::fs::create_dir_all(dir.join("dist")).unwrap();
        std::fs::write(dir.join("dist/index.html"), "<html>riffle</html>").unwrap();
        Fixture { dir }
    }

    fn data(&self) -> std::path::PathBuf {
        self.dir.join("data")
    }

    fn app(&self, limits: StorageLimits) -> axum::Router {
        app(Config::new(self.dir.join("dist"), self.data(), None).unwrap().with_limits(limits))
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn small(max_upload_bytes: u64) -> StorageLimits {
    StorageLimits { max_upload_bytes, ..StorageLimits::default() }
}

/// One request, its status and its JSON body, within 30 s.
async fn send(router: &axum::Router, request: Request<Body>) -> (StatusCode, serde_json::Value) {
    let response = tokio::time::timeout(Duration::from_secs(30), router.clone().oneshot(request))
        .await
        .expect("the gateway did not answer within 30 s")
        .unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let text = String::from_utf8_lossy(&bytes).to_string();
    (status, serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)))
}

/// A body that never ends: a handler that reads it never answers.
fn endless() -> Body {
    Body::from_stream(futures::stream::pending::<Result<Bytes, std::io::Error>>())
}

/// `chunks` chunks of `size` bytes, sent without a Content-Length (chunked).
fn chunked(chunks: usize, size: usize) -> Body {
    let chunk = Bytes::from(vec![b'x'; size]);
    Body::from_stream(futures::stream::iter((0..chunks).map(move |_| Ok::<_, std::io::Error>(chunk.clone()))))
}

/// The names in a directory, sorted.
fn names(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = match std::fs::read_dir(dir) {
        Ok(entries) => entries.map(|e| e.unwrap().file_name().to_string_lossy().to_string()).collect(),
        Err(_) => Vec::new(),
    };
    names.sort();
    names
}

fn assert_413(status: StatusCode, body: &serde_json::Value, path: &str, declared: Option<u64>) {
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    let error = body["error"].as_str().unwrap();
    assert!(error.contains(path), "names the path: {error}");
    assert!(error.contains("limit of 1024 bytes (1 KiB)"), "names the limit: {error}");
    assert!(error.contains("--max-upload-bytes") && error.contains("RIFFLE_MAX_UPLOAD_BYTES"), "{error}");
    if let Some(n) = declared {
        assert!(error.contains(&format!("declares {n} bytes")), "{error}");
    }
}

/// Before: a declared 10 GiB body was taken on and read (the request below
/// hung on its endless body). Now: 413 at once, nothing read or created.
#[tokio::test]
async fn a_declared_upload_over_the_limit_is_refused_before_reading() {
    let f = Fixture::new();
    let router = f.app(small(1024));
    let ten_gib = 10u64 << 30;
    let request = Request::put("/api/fs/files?path=in/big.csv")
        .header("content-length", ten_gib.to_string())
        .body(endless())
        .unwrap();
    let (status, body) = send(&router, request).await;
    assert_413(status, &body, "in/big.csv", Some(ten_gib));
    assert_eq!(names(&f.data()), Vec::<String>::new(), "nothing was created");

    // One byte over, declared: refused too.
    let request =
        Request::put("/api/fs/files?path=in/big.csv").header("content-length", "1025").body(endless()).unwrap();
    let (status, body) = send(&router, request).await;
    assert_413(status, &body, "in/big.csv", Some(1025));
}

/// Before: a chunked body of any size was written. Now: it is cut off when it
/// passes the limit, 413, its staged file is removed and the target untouched.
#[tokio::test]
async fn a_chunked_upload_over_the_limit_leaves_nothing() {
    let f = Fixture::new();
    let router = f.app(small(1024));
    std::fs::create_dir_all(f.data().join("in")).unwrap();
    std::fs::write(f.data().join("in/kept.csv"), "old\n").unwrap();
    for path in ["in/new.csv", "in/kept.csv"] {
        let request = Request::put(format!("/api/fs/files?path={path}&overwrite=true")).body(chunked(10, 300)).unwrap();
        let (status, body) = send(&router, request).await;
        assert_413(status, &body, path, None);
    }
    assert_eq!(names(&f.data().join("in")), vec!["kept.csv"], "no new file and no .NAME.riffle-upload-* left");
    assert_eq!(std::fs::read_to_string(f.data().join("in/kept.csv")).unwrap(), "old\n", "the target is untouched");
}

#[tokio::test]
async fn an_upload_within_the_limit_is_written_whole() {
    let f = Fixture::new();
    let router = f.app(small(1024));
    // Exactly the limit, chunked, and declared.
    let (status, body) =
        send(&router, Request::put("/api/fs/files?path=in/a.bin").body(chunked(4, 256)).unwrap()).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["bytes"], 1024);
    let bytes: Vec<u8> = (0..1024u32).map(|i| (i * 7 % 251) as u8).collect();
    let request = Request::put("/api/fs/files?path=in/b.bin")
        .header("content-length", "1024")
        .body(Body::from(bytes.clone()))
        .unwrap();
    let (status, body) = send(&router, request).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(std::fs::read(f.data().join("in/a.bin")).unwrap(), vec![b'x'; 1024]);
    assert_eq!(std::fs::read(f.data().join("in/b.bin")).unwrap(), bytes);
    assert_eq!(names(&f.data().join("in")), vec!["a.bin", "b.bin"]);
}

async fn open_write(router: &axum::Router, path: &str) -> (StatusCode, serde_json::Value) {
    let body = format!(r#"{{"path": "{path}", "mode": "overwrite"}}"#);
    send(router, Request::post("/api/fs/writes").body(Body::from(body)).unwrap()).await
}

/// A part PUT is held to the same limit: declared or chunked over it, 413
/// and the staging directory holds nothing; within it, the part commits whole.
#[tokio::test]
async fn a_part_over_the_limit_is_refused() {
    let f = Fixture::new();
    let router = f.app(small(1024));
    let (status, opened) = open_write(&router, "out/t").await;
    assert_eq!(status, StatusCode::CREATED, "{opened}");
    let id = opened["id"].as_str().unwrap().to_string();
    let staging = f.data().join("out/t/_temporary").join(&id);
    let uri = format!("/api/fs/writes/{id}/parts/part-00000.csv");

    let request = Request::put(&uri).header("content-length", (10u64 << 30).to_string()).body(endless()).unwrap();
    let (status, body) = send(&router, request).await;
    assert_413(status, &body, "out/t", Some(10 << 30));
    let (status, body) = send(&router, Request::put(&uri).body(chunked(5, 300)).unwrap()).await;
    assert_413(status, &body, "part-00000.csv", None);
    assert_eq!(names(&staging), Vec::<String>::new(), "no part and no .partial left");

    let (status, body) = send(&router, Request::put(&uri).body(chunked(2, 512)).unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) =
        send(&router, Request::post(format!("/api/fs/writes/{id}/commit")).body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(std::fs::read(f.data().join("out/t/part-00000.csv")).unwrap(), vec![b'x'; 1024]);
}

/// Before: every `POST /api/fs/writes` opened a session and a staging
/// directory, without end. Now: at most `max_write_sessions` (here 3); the
/// next gets 429 until one is committed or aborted.
#[tokio::test]
async fn open_writes_are_capped() {
    let f = Fixture::new();
    let router = f.app(StorageLimits { max_write_sessions: 3, ..StorageLimits::default() });
    let mut ids = Vec::new();
    for i in 0..3 {
        let (status, opened) = open_write(&router, &format!("out/w{i}")).await;
        assert_eq!(status, StatusCode::CREATED, "{opened}");
        ids.push(opened["id"].as_str().unwrap().to_string());
    }
    let (status, body) = open_write(&router, "out/w3").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    let error = body["error"].as_str().unwrap();
    assert!(error.contains("out/w3") && error.contains("3 writes are open") && error.contains("abort"), "{error}");
    assert!(!f.data().join("out/w3").exists(), "the refused write made no directory");

    let (status, body) =
        send(&router, Request::delete(format!("/api/fs/writes/{}", ids[0])).body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = open_write(&router, "out/w3").await;
    assert_eq!(status, StatusCode::CREATED, "after an abort there is room again: {body}");
}

/// Before: a session nobody committed or aborted lived, with its staged
/// parts, until the gateway stopped. Now: unused for `write_idle` it is
/// aborted by the sweep and its staging removed; one in use stays open.
#[tokio::test]
async fn idle_writes_are_aborted_and_their_staging_removed() {
    let f = Fixture::new();
    let limits = StorageLimits {
        write_idle: Duration::from_millis(400),
        sweep_every: Duration::from_millis(50),
        ..StorageLimits::default()
    };
    let router = f.app(limits);
    let (_, idle) = open_write(&router, "out/idle").await;
    let (_, used) = open_write(&router, "out/used").await;
    let (idle, used) = (idle["id"].as_str().unwrap().to_string(), used["id"].as_str().unwrap().to_string());
    let part = |id: &str, n: usize| {
        Request::put(format!("/api/fs/writes/{id}/parts/part-{n:05}.csv")).body(Body::from("1\n")).unwrap()
    };
    let (status, body) = send(&router, part(&idle, 0)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(f.data().join("out/idle/_temporary").join(&idle).join("part-00000.csv").is_file());
    // `used` gets a part every 100 ms for 1.2 s; `idle` gets nothing.
    for n in 0..12 {
        let (status, body) = send(&router, part(&used, n)).await;
        assert_eq!(status, StatusCode::OK, "part {n}: {body}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!f.data().join("out/idle").exists(), "the idle write's staging (and its empty output) was removed");
    let (status, body) =
        send(&router, Request::post(format!("/api/fs/writes/{idle}/commit")).body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert!(body["error"].as_str().unwrap().contains("unused for longer than 0 s"), "{body}");
    let (status, body) =
        send(&router, Request::post(format!("/api/fs/writes/{used}/commit")).body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["files"].as_array().unwrap().len(), 12, "{body}");
}

/// A body that sends `bytes` and then never ends.
fn stalled(bytes: usize) -> reqwest::Body {
    let first = futures::stream::iter([Ok::<_, std::io::Error>(Bytes::from(vec![b'x'; bytes]))]);
    reqwest::Body::wrap_stream(futures::StreamExt::chain(first, futures::stream::pending()))
}

/// Waits up to 10 s for `done`.
async fn eventually(what: &str, done: impl Fn() -> bool) {
    let started = std::time::Instant::now();
    while !done() {
        assert!(started.elapsed() < Duration::from_secs(10), "not within 10 s: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Debris: the staged uploads in `in/`, and `out/t/_temporary`.
fn debris(f: &Fixture) -> (Vec<String>, bool) {
    let staged = names(&f.data().join("in")).into_iter().filter(|n| n.contains(".riffle-upload-")).collect();
    (staged, f.data().join("out/t/_temporary").exists())
}

/// Before: a gateway killed mid-upload and mid-part left `.kept.csv.riffle-upload-<id>`
/// and `out/t/_temporary/<id>/` for good. Now: a restart keeps them within the
/// grace (default 1 h), and one with `RIFFLE_DEBRIS_GRACE_SECS=0` removes them;
/// the upload's target keeps its old bytes throughout.
#[cfg(unix)]
#[tokio::test]
async fn a_killed_gateways_debris_goes_at_the_next_start() {
    let f = Fixture::new();
    std::fs::create_dir_all(f.data().join("in")).unwrap();
    std::fs::write(f.data().join("in/kept.csv"), "old\n").unwrap();
    let (url, child, _) = common::start(common::riffle(&f.dir, &["--no-token"]));
    let http = reqwest::Client::new();
    let upload = http.put(format!("{url}/api/fs/files?path=in/kept.csv&overwrite=true")).body(stalled(4096)).send();
    let uploading = tokio::spawn(upload);
    let opened: serde_json::Value = http
        .post(format!("{url}/api/fs/writes"))
        .body(r#"{"path": "out/t", "mode": "overwrite"}"#)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = opened["id"].as_str().unwrap().to_string();
    let part = http.put(format!("{url}/api/fs/writes/{id}/parts/part-00000.csv")).body(stalled(4096)).send();
    let putting = tokio::spawn(part);
    let staging = f.data().join("out/t/_temporary").join(&id);
    eventually("the upload and the part are staged", || {
        !debris(&f).0.is_empty() && names(&staging).iter().any(|n| n.ends_with(".partial"))
    })
    .await;
    common::stop(child);
    let _ = (uploading.await, putting.await);
    let (staged, temporary) = debris(&f);
    assert!(staged.len() == 1 && temporary, "the kill left debris: {staged:?}");

    // Within the grace: the first sweep (at start) keeps it.
    let (_, child, stderr) = common::start(common::riffle(&f.dir, &["--no-token"]));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    common::stop(child);
    assert_eq!(debris(&f), (staged, true), "{}", stderr.lock().unwrap());

    let mut command = common::riffle(&f.dir, &["--no-token"]);
    command.env("RIFFLE_DEBRIS_GRACE_SECS", "0");
    let (_, child, stderr) = common::start(command);
    eventually("the debris is swept", || debris(&f) == (Vec::new(), false)).await;
    common::stop(child);
    assert!(stderr.lock().unwrap().contains("staging debris removed"));
    assert_eq!(names(&f.data().join("in")), vec!["kept.csv"]);
    assert_eq!(std::fs::read_to_string(f.data().join("in/kept.csv")).unwrap(), "old\n", "the target is unchanged");
    assert_eq!(names(&f.data().join("out/t")), Vec::<String>::new());
}
