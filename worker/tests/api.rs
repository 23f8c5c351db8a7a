//! The gateway's HTTP API, in process with `oneshot`.

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
    assert_eq!(with_query.status(), StatusCode::OK);
    assert!(with_query.headers().get("set-cookie").is_some());
    let with_cookie = Request::get("/api/health").header("cookie", "riffle_token=s3cret").body(Body::empty()).unwrap();
    assert_eq!(router.clone().oneshot(with_cookie).await.unwrap().status(), StatusCode::OK);
    let wrong = Request::get("/api/health").header("authorization", "Bearer nope").body(Body::empty()).unwrap();
    assert_eq!(router.oneshot(wrong).await.unwrap().status(), StatusCode::UNAUTHORIZED);
}
