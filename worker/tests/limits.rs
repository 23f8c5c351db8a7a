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
