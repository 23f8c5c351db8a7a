//! The gateway's HTTP API, in process with `oneshot`.

// Helpers outside #[test] functions unwrap too.
#![allow(clippy::unwrap_used)]

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use riffle_gateway::{Config, app};
use tower::ServiceExt;

fn fixture() -> (std::path::PathBuf, Config) {
    let dir = std::env::temp_dir().join(format!("riffle-api-{}-{}", std::process::id(), rand_suffix()));
    std::fs::create_dir_all(dir.join("data/samples")).unwrap();
    std::fs::create_dir_all(dir.join("dist")).unwrap();
    std::fs::write(dir.join("dist/index.html"), "<html>riffle</html>").unwrap();
    std::fs::write(dir.join("data/samples/x.csv"), "a,b\n1,2\n").unwrap();
    let config = Config::new(dir.join("dist"), dir.join("data"), None).unwrap();
    (dir, config)
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()
}

async fn body_text(response: axum::response::Response) -> String {
    String::from_utf8(response.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap()
}

#[tokio::test]
async fn health_answers() {
    let (_dir, config) = fixture();
    let response = app(config).oneshot(Request::get("/api/health").body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(body_text(response).await.contains(r#""status":"ok""#));
}

#[tokio::test]
async fn reads_files_and_ranges() {
    let (_dir, config) = fixture();
    let router = app(config);
    let response = router
        .clone()
        .oneshot(Request::get("/api/fs/read?path=samples/x.csv").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(body_text(response).await, "a,b\n1,2\n");
    let response = router
        .oneshot(Request::get("/api/fs/read?path=samples/x.csv&offset=4&length=3").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(body_text(response).await, "1,2");
}

#[tokio::test]
async fn lists_the_parts_of_a_directory_as_spark_does() {
    let (dir, config) = fixture();
    let out = dir.join("data/out");
    std::fs::create_dir_all(out.join("_temporary")).unwrap();
    for name in ["part-00001-a.csv", "part-00000-a.csv", "_SUCCESS", ".part-00000-a.csv.crc"] {
        std::fs::write(out.join(name), "x\n").unwrap();
    }
    let router = app(config);
    let response =
        router.clone().oneshot(Request::get("/api/fs/parts?path=out").body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let listing: serde_json::Value = serde_json::from_str(&body_text(response).await).unwrap();
    let paths: Vec<&str> = listing["files"].as_array().unwrap().iter().map(|f| f["path"].as_str().unwrap()).collect();
    assert_eq!(paths, ["out/part-00000-a.csv", "out/part-00001-a.csv"]);
    let single = router
        .clone()
        .oneshot(Request::get("/api/fs/parts?path=samples/x.csv").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert!(body_text(single).await.contains(r#""path":"samples/x.csv""#));
    std::fs::remove_file(out.join("part-00000-a.csv")).unwrap();
    std::fs::remove_file(out.join("part-00001-a.csv")).unwrap();
    let empty = router.oneshot(Request::get("/api/fs/parts?path=out").body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(empty.status(), StatusCode::NOT_FOUND);
    assert!(body_text(empty).await.contains("no data files"));
}

#[tokio::test]
async fn bad_paths_get_clear_errors() {
    let (_dir, config) = fixture();
    let router = app(config);
    for (path, status, words) in [
        ("samples/missing.csv", StatusCode::NOT_FOUND, "does not exist"),
        ("..%2F..%2Fetc%2Fpasswd", StatusCode::FORBIDDEN, "leaves the data directory"),
        ("samples", StatusCode::BAD_REQUEST, "is a directory"),
    ] {
        let uri = format!("/api/fs/read?path={path}");
        let response = router.clone().oneshot(Request::get(&uri).body(Body::empty()).unwrap()).await.unwrap();
        assert_eq!(response.status(), status, "{path}");
        assert!(body_text(response).await.contains(words), "{path}");
    }
}

#[tokio::test]
async fn serves_the_ui_and_refuses_other_origins() {
    let (_dir, config) = fixture();
    let router = app(config);
    let response = router.clone().oneshot(Request::get("/").body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(body_text(response).await.contains("riffle"));

    let same = Request::get("/api/health")
        .header("host", "127.0.0.1:8080")
        .header("origin", "http://127.0.0.1:8080")
        .body(Body::empty())
        .unwrap();
    assert_eq!(router.clone().oneshot(same).await.unwrap().status(), StatusCode::OK);
    let evil = Request::get("/api/health")
        .header("host", "127.0.0.1:8080")
        .header("origin", "http://evil.example")
        .body(Body::empty())
        .unwrap();
    assert_eq!(router.oneshot(evil).await.unwrap().status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_token_is_required_when_configured() {
    let (dir, _) = fixture();
    let config = Config::new(dir.join("dist"), dir.join("data"), Some("s3cret".into())).unwrap();
    let router = app(config);
    let anonymous = router.clone().oneshot(Request::get("/api/health").body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let with_query = router.clone().oneshot(Request::get("/?token=s3cret").body(Body::empty()).unwrap()).await.unwrap();
    // The page's token becomes the cookie, and the address loses it (worker/tests/security.rs).
    assert_eq!(with_query.status(), StatusCode::SEE_OTHER);
    assert!(with_query.headers().get("set-cookie").is_some());
    let with_cookie = Request::get("/api/health").header("cookie", "riffle_token=s3cret").body(Body::empty()).unwrap();
    assert_eq!(router.clone().oneshot(with_cookie).await.unwrap().status(), StatusCode::OK);
    let wrong = Request::get("/api/health").header("authorization", "Bearer nope").body(Body::empty()).unwrap();
    assert_eq!(router.oneshot(wrong).await.unwrap().status(), StatusCode::UNAUTHORIZED);
}

/// One request, its status and its JSON body.
async fn call(router: &axum::Router, method: &str, uri: &str, body: &str) -> (StatusCode, serde_json::Value) {
    let request = Request::builder().method(method).uri(uri).body(Body::from(body.to_string())).unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let text = body_text(response).await;
    (status, serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)))
}

/// Opens a write, stages `parts`, and commits unless told not to.
async fn write(
    router: &axum::Router,
    path: &str,
    mode: &str,
    parts: &[(&str, &str)],
    commit: bool,
) -> (StatusCode, serde_json::Value) {
    let (status, opened) =
        call(router, "POST", "/api/fs/writes", &format!(r#"{{"path": "{path}", "mode": "{mode}"}}"#)).await;
    if status != StatusCode::CREATED {
        return (status, opened);
    }
    let id = opened["id"].as_str().unwrap().to_string();
    for (name, text) in parts {
        let (status, body) = call(router, "PUT", &format!("/api/fs/writes/{id}/parts/{name}"), text).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    if commit {
        call(router, "POST", &format!("/api/fs/writes/{id}/commit"), "").await
    } else {
        call(router, "DELETE", &format!("/api/fs/writes/{id}"), "").await
    }
}

fn listing(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().to_string()).collect();
    names.sort();
    names
}

#[tokio::test]
async fn writes_are_staged_then_committed_with_success() {
    let (dir, config) = fixture();
    let router = app(config);
    let out = dir.join("data/out/trips");

    // error-if-exists on a new path: parts plus _SUCCESS, no _temporary left.
    let (status, body) =
        write(&router, "out/trips", "error", &[("part-00000-a.csv", "1\n"), ("part-00001-a.csv", "2\n")], true).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(listing(&out), ["_SUCCESS", "part-00000-a.csv", "part-00001-a.csv"]);

    // error-if-exists again: refused, nothing changes.
    let (status, body) = write(&router, "out/trips", "error", &[], true).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(body["error"].as_str().unwrap().contains("MODE overwrite"), "{body}");

    // append adds beside what is there.
    let (status, body) = write(&router, "out/trips", "append", &[("part-00000-b.csv", "3\n")], true).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(listing(&out), ["_SUCCESS", "part-00000-a.csv", "part-00000-b.csv", "part-00001-a.csv"]);

    // An aborted overwrite leaves the old data as it was.
    let (status, body) = write(&router, "out/trips", "overwrite", &[("part-00000-c.csv", "4\n")], false).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(listing(&out), ["_SUCCESS", "part-00000-a.csv", "part-00000-b.csv", "part-00001-a.csv"]);

    // Staged but not committed: invisible to readers.
    let (status, opened) = call(&router, "POST", "/api/fs/writes", r#"{"path": "out/trips", "mode": "append"}"#).await;
    assert_eq!(status, StatusCode::CREATED);
    let open_id = opened["id"].as_str().unwrap().to_string();
    call(&router, "PUT", &format!("/api/fs/writes/{open_id}/parts/part-00000-d.csv"), "5\n").await;
    let (_, parts) = call(&router, "GET", "/api/fs/parts?path=out/trips", "").await;
    assert_eq!(parts["files"].as_array().unwrap().len(), 3, "{parts}");
    // What a gateway that died mid-write leaves: staging with no session.
    std::fs::create_dir_all(out.join("_temporary/0123dead/")).unwrap();
    std::fs::write(out.join("_temporary/0123dead/part-00000-z.csv"), "stale\n").unwrap();

    // A committed overwrite replaces everything and clears dead staging,
    // but not the staging of a write that is still open.
    let (status, body) = write(&router, "out/trips", "overwrite", &[("part-00000-e.csv", "6\n")], true).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["replaced"], 3);
    assert_eq!(listing(&out), ["_SUCCESS", "_temporary", "part-00000-e.csv"]);
    assert_eq!(std::fs::read_to_string(out.join("part-00000-e.csv")).unwrap(), "6\n");
    assert!(!out.join("_temporary/0123dead").exists());
    let (status, body) = call(&router, "POST", &format!("/api/fs/writes/{open_id}/commit"), "").await;
    assert_eq!(status, StatusCode::OK, "the open write still commits: {body}");
    assert_eq!(listing(&out), ["_SUCCESS", "part-00000-d.csv", "part-00000-e.csv"]);
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn writes_refuse_bad_paths_and_names() {
    let (dir, config) = fixture();
    let router = app(config);
    for path in ["../escape", "/../../etc", "file:///../x"] {
        let (status, body) = write(&router, path, "overwrite", &[], true).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}: {body}");
    }
    let (status, _) = write(&router, "samples/x.csv", "overwrite", &[], true).await;
    assert_eq!(status, StatusCode::CONFLICT, "a file is not an output directory");
    let (status, opened) = call(&router, "POST", "/api/fs/writes", r#"{"path": "out/y", "mode": "append"}"#).await;
    assert_eq!(status, StatusCode::CREATED);
    let id = opened["id"].as_str().unwrap();
    for name in ["..%2Fevil", "_SUCCESS", ".hidden"] {
        let (status, body) = call(&router, "PUT", &format!("/api/fs/writes/{id}/parts/{name}"), "x").await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{name}: {body}");
    }
    let (status, body) = call(&router, "POST", "/api/fs/writes", r#"{"path": "out/z", "mode": "sometimes"}"#).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["error"].as_str().unwrap().contains("overwrite"), "{body}");
    let (status, _) = call(&router, "POST", "/api/fs/writes/nope/commit", "").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn files_are_listed_uploaded_moved_and_deleted() {
    let (dir, config) = fixture();
    let router = app(config);
    let (status, roots) = call(&router, "GET", "/api/fs/roots", "").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(roots["roots"].as_array().unwrap().len(), 1, "no HDFS configured: {roots}");

    let (status, up) = call(&router, "PUT", "/api/fs/files?path=in/new.csv", "x\n1\n").await;
    assert_eq!(status, StatusCode::CREATED, "{up}");
    assert_eq!(up["bytes"], 4);
    assert_eq!(std::fs::read_to_string(dir.join("data/in/new.csv")).unwrap(), "x\n1\n");
    let (status, again) = call(&router, "PUT", "/api/fs/files?path=in/new.csv", "y\n").await;
    assert_eq!(status, StatusCode::CONFLICT, "{again}");
    let (status, _) = call(&router, "PUT", "/api/fs/files?path=in/new.csv&overwrite=true", "y\n").await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(std::fs::read_to_string(dir.join("data/in/new.csv")).unwrap(), "y\n");
    // The upload went through a hidden name, which is gone.
    assert_eq!(std::fs::read_dir(dir.join("data/in")).unwrap().count(), 1);

    let (status, _) = call(&router, "POST", "/api/fs/mkdir?path=in/sub", "").await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, list) = call(&router, "GET", "/api/fs/list?path=file:///in", "").await;
    assert_eq!(status, StatusCode::OK);
    let names: Vec<(&str, &str)> = list["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["name"].as_str().unwrap(), e["kind"].as_str().unwrap()))
        .collect();
    assert_eq!(names, [("sub", "directory"), ("new.csv", "file")]);
    assert_eq!(list["entries"][1]["path"], "in/new.csv");
    assert_eq!(list["entries"][1]["size"], 2);

    let (status, summary) = call(&router, "GET", "/api/fs/summary?path=in", "").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (summary["files"].as_u64(), summary["directories"].as_u64(), summary["bytes"].as_u64()),
        (Some(1), Some(2), Some(2))
    );

    let (status, moved) = call(&router, "POST", "/api/fs/rename?from=in/new.csv&to=in/sub/moved.csv", "").await;
    assert_eq!(status, StatusCode::OK, "{moved}");
    assert!(dir.join("data/in/sub/moved.csv").is_file());
    let (status, _) = call(&router, "POST", "/api/fs/rename?from=in/nope.csv&to=in/x.csv", "").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = call(&router, "POST", "/api/fs/rename?from=samples/x.csv&to=in/sub/moved.csv", "").await;
    assert_eq!(status, StatusCode::CONFLICT, "a rename never replaces");
    let (status, stat) = call(&router, "GET", "/api/fs/stat?path=in/sub/moved.csv", "").await;
    assert_eq!((status, stat["kind"].as_str()), (StatusCode::OK, Some("file")));

    let (status, refused) = call(&router, "DELETE", "/api/fs/files?path=in", "").await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(refused["error"].as_str().unwrap().contains("recursive=true"), "{refused}");
    let (status, _) = call(&router, "DELETE", "/api/fs/files?path=in&recursive=true", "").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!dir.join("data/in").exists());
    let (status, _) = call(&router, "DELETE", "/api/fs/files?path=/", "").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn storage_refuses_escapes_and_unconfigured_hdfs() {
    let (dir, config) = fixture();
    #[cfg(unix)]
    std::os::unix::fs::symlink(std::env::temp_dir(), dir.join("data/out")).unwrap();
    let router = app(config);
    for (method, uri) in [
        ("GET", "/api/fs/list?path=..%2F.."),
        ("PUT", "/api/fs/files?path=a%2F..%2F..%2Fx.csv"),
        ("POST", "/api/fs/mkdir?path=file%3A%2F%2F%2F..%2Fx"),
        ("DELETE", "/api/fs/files?path=samples%2F..%2F..%2Fdata&recursive=true"),
        ("POST", "/api/fs/rename?from=samples%2Fx.csv&to=..%2Fx.csv"),
        #[cfg(unix)]
        ("PUT", "/api/fs/files?path=out%2Fescaped.csv"),
        #[cfg(unix)]
        ("GET", "/api/fs/list?path=out"),
    ] {
        let (status, body) = call(&router, method, uri, "x").await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {uri}: {body}");
    }
    assert!(!std::env::temp_dir().join("escaped.csv").exists());
    assert!(dir.join("data/samples/x.csv").is_file());
    let (status, body) = call(&router, "GET", "/api/fs/list?path=hdfs:///tmp", "").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["error"].as_str().unwrap().contains("--hdfs"), "{body}");
}

#[tokio::test]
async fn a_part_that_breaks_off_is_never_committed() {
    let (dir, config) = fixture();
    let router = app(config);
    let (status, opened) =
        call(&router, "POST", "/api/fs/writes", r#"{"path": "out/broken", "mode": "overwrite"}"#).await;
    assert_eq!(status, StatusCode::CREATED);
    let id = opened["id"].as_str().unwrap().to_string();
    let (status, body) = call(&router, "PUT", &format!("/api/fs/writes/{id}/parts/part-00000-a.csv"), "1\n").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Part 1 sends a line, then its body fails (the client went away).
    let chunks: Vec<Result<bytes::Bytes, std::io::Error>> =
        vec![Ok(bytes::Bytes::from_static(b"2\n")), Err(std::io::Error::other("connection reset"))];
    let request = Request::put(format!("/api/fs/writes/{id}/parts/part-00001-a.csv"))
        .body(Body::from_stream(futures::stream::iter(chunks)))
        .unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    // The commit publishes the whole part only, with nothing of the broken one.
    let (status, body) = call(&router, "POST", &format!("/api/fs/writes/{id}/commit"), "").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["files"], serde_json::json!(["part-00000-a.csv"]), "{body}");
    assert_eq!(listing(&dir.join("data/out/broken")), ["_SUCCESS", "part-00000-a.csv"]);

    // A part sent twice is the second one.
    let (status, body) =
        write(&router, "out/twice", "overwrite", &[("part-00000-a.csv", "old\n"), ("part-00000-a.csv", "new\n")], true)
            .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(std::fs::read_to_string(dir.join("data/out/twice/part-00000-a.csv")).unwrap(), "new\n");
}

#[tokio::test]
async fn malformed_requests_get_json_errors() {
    let (_dir, config) = fixture();
    let router = app(config);
    for (method, uri, needle) in [
        ("GET", "/api/fs/read?path=samples/x.csv&offset=abc", "offset"),
        ("GET", "/api/fs/read", "path"),
        ("POST", "/api/fs/rename?from=a", "to"),
        ("DELETE", "/api/fs/files?path=a&recursive=yes", "recursive"),
        ("GET", "/api/kafka/topics/t/read?max_messages=many", "max_messages"),
        ("DELETE", "/api/health", "DELETE"),
    ] {
        let (status, body) = call(&router, method, uri, "").await;
        assert!(status.is_client_error(), "{method} {uri}: {status}");
        let message = body["error"].as_str().unwrap_or_else(|| panic!("{method} {uri}: not a JSON error: {body}"));
        assert!(message.contains(needle), "{method} {uri}: {message}");
    }
}

#[tokio::test]
async fn browsing_checks_its_input_before_asking_kafka() {
    // No broker is needed: each of these is refused before Kafka is asked.
    let (_dir, config) = fixture();
    let config = config.with_kafka(riffle_gateway::kafka::KafkaConfig::new("127.0.0.1:1"));
    let router = app(config);
    for (query, needle) in [
        ("limit=0", "a page holds 1 to 1000 messages"),
        ("limit=1001", "limit=1001"),
        ("limit=many", "limit"),
        ("cursor=0:1", "a cursor needs a direction"),
        ("cursor=0:x&direction=forward", "cursor=0:x is not a cursor"),
        ("cursor=0:1&from=earliest&direction=forward", "not both"),
        ("direction=sideways", "direction=sideways"),
        ("from=yesterday", "from=yesterday is not a Kafka position"),
    ] {
        let uri = format!("/api/kafka/topics/t/messages?{query}");
        let (status, body) = call(&router, "GET", &uri, "").await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        let message = body["error"].as_str().unwrap_or_else(|| panic!("{query}: not a JSON error: {body}"));
        assert!(message.contains(needle), "{query}: {message}");
    }
}

#[tokio::test]
async fn serve_open_serves_that_one_notebook() {
    let (dir, config) = fixture();
    // Without --open there is nothing to serve.
    let response = app(config).oneshot(Request::get("/api/opened").body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert!(body_text(response).await.contains("serve --open"));

    let file = dir.join("report.riffle.md");
    std::fs::write(&file, "# Report\n").unwrap();
    let (_dir2, config) = fixture();
    let router = app(config.with_opened(file.clone()));
    let response = router.clone().oneshot(Request::get("/api/opened").body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(body_text(response).await, "# Report\n");
    // Read when asked: an edit on disk shows.
    std::fs::write(&file, "# Report v2\n").unwrap();
    let response = router.clone().oneshot(Request::get("/api/opened").body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(body_text(response).await, "# Report v2\n");
    std::fs::remove_file(&file).unwrap();
    let response = router.oneshot(Request::get("/api/opened").body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert!(body_text(response).await.contains("report.riffle.md"));
}
