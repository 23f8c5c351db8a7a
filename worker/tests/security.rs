//! The gateway's guards (issue 17): Host names (DNS rebinding), the Origin's
//! scheme, the token and its page redirect, state-changing GETs, security
//! headers, and that no token reaches a log. In process with `oneshot`, and
//! the `riffle` binary itself for what `main.rs` decides.

// Helpers outside #[test] functions unwrap too.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{riffle, start, stop};
use http_body_util::BodyExt;
use riffle_gateway::kafka::KafkaConfig;
use riffle_gateway::{Config, app};
use tower::ServiceExt;

const TOKEN: &str = "0123456789abcdef-test-token";

struct Fixture {
    dir: std::path::PathBuf,
}

impl Fixture {
    fn new() -> Fixture {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
        let dir = std::env::temp_dir().join(format!("riffle-security-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(dir.join("data")).unwrap();
        std::fs::create_dir_all(dir.join("dist")).unwrap();
        std::fs::write(
            dir.join("dist/index.html"),
            "<html><head><script type=\"module\">import init from '/app.js'; await init();</script></head></html>",
        )
        .unwrap();
        Fixture { dir }
    }

    fn config(&self, token: Option<&str>) -> Config {
        // A broker that is not there, asked with a short deadline.
        let kafka = KafkaConfig::load(
            Some("127.0.0.1:1".into()),
            None,
            [("RIFFLE_KAFKA_TIMEOUT_MS".to_string(), "300".to_string())],
        )
        .unwrap();
        Config::new(self.dir.join("dist"), self.dir.join("data"), token.map(String::from))
            .unwrap()
            .with_hosts("127.0.0.1".parse().unwrap(), Vec::new())
            .with_kafka(kafka)
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn send(router: &axum::Router, request: Request<Body>) -> (StatusCode, axum::http::HeaderMap, String) {
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = String::from_utf8(response.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    (status, headers, body)
}

fn request(method: &str, uri: &str, headers: &[(&str, &str)]) -> Request<Body> {
    let mut r = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        r = r.header(*k, *v);
    }
    r.body(Body::empty()).unwrap()
}

/// A page on `evil.example` whose name now resolves to 127.0.0.1: the
/// browser sends its own name as Host and a matching Origin. Before: the
/// directory was made (201); now 403, and nothing is made.
#[tokio::test]
async fn a_rebound_host_name_is_refused() {
    let f = Fixture::new();
    let router = app(f.config(None));
    let evil = [("host", "evil.example:8080"), ("origin", "http://evil.example:8080")];
    let (status, _, body) = send(&router, request("POST", "/api/fs/mkdir?path=pwned", &evil)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body.contains("--allow-host evil.example"), "{body}");
    assert!(!f.dir.join("data/pwned").exists());

    // The live tail's WebSocket upgrade, the same way.
    let upgrade = [
        ("host", "evil.example:8080"),
        ("origin", "http://evil.example:8080"),
        ("connection", "upgrade"),
        ("upgrade", "websocket"),
        ("sec-websocket-version", "13"),
        ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
    ];
    let (status, _, body) = send(&router, request("GET", "/api/kafka/tail?topics=events", &upgrade)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");

    // Without Origin (a simple GET from the rebound page) too.
    let (status, _, _) = send(&router, request("GET", "/api/fs/list?path=", &[("host", "evil.example")])).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // The gateway's own names work.
    for host in ["127.0.0.1:8080", "localhost:8080", "[::1]:8080", "LOCALHOST"] {
        let origin = format!("http://{host}");
        let (status, _, body) =
            send(&router, request("POST", "/api/fs/mkdir?path=ok", &[("host", host), ("origin", &origin)])).await;
        assert!(status.is_success(), "{host}: {status} {body}");
    }
}

#[tokio::test]
async fn allow_host_and_the_bound_address_are_accepted() {
    let f = Fixture::new();
    let config = f.config(None).with_hosts("0.0.0.0".parse().unwrap(), vec!["Notebook.Example".into()]);
    let router = app(config);
    // Bound to every address: any IP literal (it cannot be rebound), not any name.
    let (status, _, _) = send(&router, request("GET", "/api/health", &[("host", "192.168.1.5:8080")])).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = send(&router, request("GET", "/api/health", &[("host", "other.example")])).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // A reverse proxy's name, also from its https:// page.
    let proxied = [("host", "notebook.example"), ("origin", "https://notebook.example")];
    let (status, _, body) = send(&router, request("POST", "/api/fs/mkdir?path=p", &proxied)).await;
    assert!(status.is_success(), "{status} {body}");
}

/// Before, only the Origin's host and port were compared with Host.
#[tokio::test]
async fn the_origin_scheme_must_match() {
    let f = Fixture::new();
    let router = app(f.config(None));
    for origin in ["https://127.0.0.1:8080", "ftp://127.0.0.1:8080", "null", "http://127.0.0.1:9999"] {
        let headers = [("host", "127.0.0.1:8080"), ("origin", origin)];
        let (status, _, body) = send(&router, request("POST", "/api/fs/mkdir?path=x", &headers)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{origin}: {body}");
    }
    assert!(!f.dir.join("data/x").exists());
}

/// `/?token=…` sets the cookie and sends the browser to the same address
/// without the token; the API takes the cookie or a Bearer header.
#[tokio::test]
async fn the_page_token_becomes_a_cookie_and_leaves_the_address() {
    let f = Fixture::new();
    let router = app(f.config(Some(TOKEN)));
    let uri = format!("/?open=notebooks%2Fa.riffle.md&token={TOKEN}&test_hooks=panic");
    let (status, headers, _) = send(&router, request("GET", &uri, &[("host", "127.0.0.1:8080")])).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers["location"], "/?open=notebooks%2Fa.riffle.md&test_hooks=panic");
    let cookie = headers["set-cookie"].to_str().unwrap();
    assert_eq!(cookie, format!("riffle_token_8080={TOKEN}; Path=/; HttpOnly; SameSite=Strict"));
    assert_eq!(headers["cache-control"], "no-store");

    let (status, _, body) = send(&router, request("GET", "/api/health", &[("host", "127.0.0.1:8080")])).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body.contains("?token="), "{body}");
    let with_cookie = [("host", "127.0.0.1:8080"), ("cookie", "a=b; riffle_token_8080=0123456789abcdef-test-token")];
    let (status, _, _) = send(&router, request("GET", "/api/health", &with_cookie)).await;
    assert_eq!(status, StatusCode::OK);
    let bearer = format!("Bearer {TOKEN}");
    let (status, _, _) = send(&router, request("GET", "/api/health", &[("authorization", &bearer)])).await;
    assert_eq!(status, StatusCode::OK);
    let wrong = [("cookie", "riffle_token_8080=0123456789abcdef-test-tokeX")];
    let (status, _, _) = send(&router, request("GET", "/api/health", &wrong)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _, _) = send(&router, request("GET", "/?token=guess-guess-guess", &[])).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // The bundle itself holds no data: it loads without the token (the
    // first request after a cross-site link carries no Strict cookie).
    let (status, _, body) = send(&router, request("GET", "/", &[])).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("<html>"));
    // The ingest endpoint needs the token like the API.
    let (status, _, _) = send(&router, request("POST", "/ingest/events", &[])).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

/// An `<img src="http://127.0.0.1:8080/ingest/events?x=1">` on any site
/// made the gateway produce a message. Before: it reached Kafka (here a dead
/// broker's 503); now 403 with what to do.
#[tokio::test]
async fn get_ingest_needs_the_token_or_this_gateways_page() {
    let f = Fixture::new();
    let router = app(f.config(None));
    for site in [None, Some("cross-site"), Some("same-site")] {
        let mut headers = vec![("host", "127.0.0.1:8080")];
        if let Some(site) = site {
            headers.push(("sec-fetch-site", site));
        }
        let (status, _, body) = send(&router, request("GET", "/ingest/events?event_type=x", &headers)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{site:?}: {body}");
        assert!(body.contains("POST /ingest/events"), "{body}");
    }
    // This gateway's page, and an address typed into the browser, may.
    for site in ["same-origin", "none"] {
        let headers = [("host", "127.0.0.1:8080"), ("sec-fetch-site", site)];
        let (status, _, body) = send(&router, request("GET", "/ingest/events?event_type=x", &headers)).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{site}: {body}");
    }

    // With a token configured, carrying it is enough (curl).
    let router = app(f.config(Some(TOKEN)));
    let uri = format!("/ingest/events?event_type=x&token={TOKEN}");
    let (status, _, body) = send(&router, request("GET", &uri, &[])).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
}

#[tokio::test]
async fn every_response_has_the_security_headers() {
    let f = Fixture::new();
    let router = app(f.config(Some(TOKEN)));
    for (uri, status) in [
        ("/", StatusCode::OK),
        ("/api/health", StatusCode::UNAUTHORIZED),
        ("/api/nothing-here?token=0123456789abcdef-test-token", StatusCode::NOT_FOUND),
    ] {
        let (got, headers, _) = send(&router, request("GET", uri, &[])).await;
        assert_eq!(got, status, "{uri}");
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(csp.starts_with("default-src 'self'; script-src 'self' 'wasm-unsafe-eval' 'sha256-"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(csp.contains("connect-src 'self' ws: wss:"), "{csp}");
        assert!(!csp.contains("script-src 'self' 'unsafe-inline'"), "{csp}");
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(headers["referrer-policy"], "no-referrer");
    }
}

/// A writer for tracing that keeps everything in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// tower-http's default span carried the whole URI, `?token=` included.
#[tokio::test]
async fn no_token_reaches_a_log_at_any_level() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let f = Fixture::new();
    let router = app(f.config(Some(TOKEN)));
    for uri in [format!("/?token={TOKEN}"), format!("/api/health?token={TOKEN}"), "/api/health?token=wrong".into()] {
        let _ = send(&router, request("GET", &uri, &[])).await;
    }
    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    // The request span's fields (the path) are not always in the lines: tracing
    // caches a callsite's interest globally, and tests in parallel race for it.
    assert!(log.contains("tower_http"), "the requests were not logged at all: {log}");
    assert!(!log.contains(TOKEN) && !log.contains("token=wrong"), "{log}");
}

// ---- the binary: what `riffle serve` decides at start ----

#[tokio::test]
async fn serve_makes_a_token_and_prints_it_only_in_the_url() {
    let f = Fixture::new();
    let (url, child, stderr) = start(riffle(&f.dir, &[]));
    let (base, token) = url.split_once("/?token=").unwrap_or_else(|| panic!("no token in {url}"));
    assert!(base.starts_with("http://127.0.0.1:"), "{url}");
    assert!(token.len() >= 32 && riffle_gateway::check_token(token).is_ok(), "{token}");

    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let page = http.get(&url).send().await.unwrap();
    assert_eq!(page.status(), 303);
    assert_eq!(page.headers()["location"], "/");
    let cookie = page.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
    assert!(cookie.ends_with(token), "{cookie}");
    let anonymous = http.get(format!("{base}/api/health")).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    let with_cookie = http.get(format!("{base}/api/health")).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(with_cookie.status(), 200);
    let bearer = http.get(format!("{base}/api/health")).bearer_auth(token).send().await.unwrap();
    assert_eq!(bearer.status(), 200);
    stop(child);
    let log = stderr.lock().unwrap().clone();
    assert!(log.contains("gateway listening"), "{log}");
    assert!(!log.contains(token), "the token is in the log:\n{log}");
}

#[test]
fn serve_refuses_a_short_token_and_no_token_off_loopback() {
    let f = Fixture::new();
    let out = riffle(&f.dir, &["--token", "short"]).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("at least 16"), "{err}");

    let out = riffle(&f.dir, &["--no-token", "--bind", "0.0.0.0"]).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("without a token"), "{err}");

    let out = riffle(&f.dir, &["--no-token", "--token", "0123456789abcdef0123"]).output().unwrap();
    assert!(!out.status.success());
}

#[tokio::test]
async fn serve_takes_a_given_token_or_none_on_loopback() {
    let f = Fixture::new();
    let (url, child, _) = start(riffle(&f.dir, &["--token", TOKEN]));
    assert!(url.ends_with(&format!("/?token={TOKEN}")), "{url}");
    stop(child);

    let (url, child, _) = start(riffle(&f.dir, &["--no-token"]));
    assert!(!url.contains("token"), "{url}");
    let health = reqwest::get(format!("{url}/api/health")).await.unwrap();
    assert_eq!(health.status(), 200);
    stop(child);
}

// ---- the header-read timeout ----

async fn serve_with_header_timeout(f: &Fixture, timeout: std::time::Duration) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = app(f.config(None));
    tokio::spawn(async move {
        axum::serve(riffle_gateway::conn::HeaderTimeout::new(listener, timeout), router).await.unwrap();
    });
    addr
}

/// Reads until the peer closes or `wait` passes; whether it closed, and what came.
async fn read_until_closed(stream: &mut tokio::net::TcpStream, wait: std::time::Duration) -> (bool, String) {
    use tokio::io::AsyncReadExt;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return (true, String::from_utf8_lossy(&got).into_owned()),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
            Err(_) => return (false, String::from_utf8_lossy(&got).into_owned()),
        }
    }
}

/// Before: a client that sent half of its headers held the connection for
/// as long as it liked (axum::serve sets no timer, so hyper's timeout was off).
#[tokio::test]
async fn half_sent_headers_are_dropped_and_whole_requests_are_not() {
    use tokio::io::AsyncWriteExt;
    let f = Fixture::new();
    let timeout = std::time::Duration::from_millis(300);
    let addr = serve_with_header_timeout(&f, timeout).await;

    let mut slow = tokio::net::TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n").await.unwrap();
    let (closed, got) = read_until_closed(&mut slow, std::time::Duration::from_secs(5)).await;
    assert!(closed && !got.contains("200 OK"), "the half-sent request was kept: {got:?}");

    // A whole request, then the same connection idle for longer than the
    // timeout (idle is not slow), then another request.
    let mut client = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    client.write_all(request).await.unwrap();
    let (closed, got) = read_until_closed(&mut client, std::time::Duration::from_millis(800)).await;
    assert!(!closed && got.starts_with("HTTP/1.1 200"), "{got:?}");
    client.write_all(request).await.unwrap();
    let (_, got) = read_until_closed(&mut client, std::time::Duration::from_millis(500)).await;
    assert!(got.starts_with("HTTP/1.1 200"), "the kept-alive connection was dropped: {got:?}");

    // Headers sent in pieces, each well inside the timeout, all within it.
    let mut pieces = tokio::net::TcpStream::connect(addr).await.unwrap();
    for part in [&b"GET /api/health HTTP/1.1\r\n"[..], b"Host: 127.0.0.1\r\n", b"\r\n"] {
        pieces.write_all(part).await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let (_, got) = read_until_closed(&mut pieces, std::time::Duration::from_millis(500)).await;
    assert!(got.starts_with("HTTP/1.1 200"), "{got:?}");
}

/// The live tail's WebSocket outlives the header timeout: after `101` the
/// bytes are frames, never headers.
#[tokio::test]
async fn an_upgraded_websocket_has_no_header_deadline() {
    use axum::extract::ws::{Message, WebSocketUpgrade};
    use tokio::io::AsyncWriteExt;
    let router = axum::Router::new().route(
        "/echo",
        axum::routing::get(|ws: WebSocketUpgrade| async move {
            ws.on_upgrade(|mut socket| async move {
                while let Some(Ok(Message::Text(t))) = socket.recv().await {
                    if socket.send(Message::Text(t)).await.is_err() {
                        break;
                    }
                }
            })
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let timeout = std::time::Duration::from_millis(200);
    tokio::spawn(async move {
        axum::serve(riffle_gateway::conn::HeaderTimeout::new(listener, timeout), router).await.unwrap();
    });
    let mut ws = tokio::net::TcpStream::connect(addr).await.unwrap();
    ws.write_all(
        b"GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
          Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
    )
    .await
    .unwrap();
    let (closed, got) = read_until_closed(&mut ws, std::time::Duration::from_millis(300)).await;
    assert!(!closed && got.starts_with("HTTP/1.1 101"), "{got:?}");
    // A masked text frame "hi", its first half now and the rest after longer than the timeout.
    let mask = [1u8, 2, 3, 4];
    let frame = [0x81, 0x82, mask[0], mask[1], mask[2], mask[3], b'h' ^ mask[0], b'i' ^ mask[1]];
    ws.write_all(&frame[..4]).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    ws.write_all(&frame[4..]).await.unwrap();
    let (closed, got) = read_until_closed(&mut ws, std::time::Duration::from_millis(500)).await;
    assert!(!closed, "the WebSocket was dropped");
    // The echo: 0x81 (text, shown lossily), length 2, "hi".
    assert!(got.ends_with("\u{2}hi"), "{got:?}");
}

/// A GET whose handler hangs (here: `/api/opened` on a FIFO nobody writes)
/// is answered 504 after the request timeout instead of never.
#[cfg(unix)]
#[tokio::test]
async fn a_hanging_get_is_answered_504() {
    let f = Fixture::new();
    let fifo = f.dir.join("stuck.riffle.md");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let config = f.config(None).with_opened(fifo.clone()).with_request_timeout(std::time::Duration::from_millis(200));
    let router = app(config);
    let started = std::time::Instant::now();
    let (status, _, body) = send(&router, request("GET", "/api/opened", &[])).await;
    assert_eq!(status, StatusCode::GATEWAY_TIMEOUT, "{body}");
    assert!(body.contains("GET /api/opened did not answer within 0.2 s"), "{body}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    // Let the blocked read end, so the runtime can stop.
    drop(std::fs::OpenOptions::new().write(true).open(&fifo).unwrap());
}
