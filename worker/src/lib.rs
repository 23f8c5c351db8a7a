//! The gateway: serves the built UI and the APIs the browser cannot reach by
//! itself. It is the only part of Riffle that knows HTTP and does IO.

pub mod conn;
mod error;
pub mod kafka;
#[cfg(test)]
mod props;
mod security;
pub mod spark;
mod storage;
mod sweeper;
mod writes;

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::trace::TraceLayer;

pub use error::ApiError;
pub use security::{MIN_TOKEN_LEN, check_token, new_token};
pub use storage::{DEFAULT_MAX_UPLOAD_BYTES, HdfsConfig, LocalStore, StorageLimits, Stores, WebHdfs};

use kafka::{Kafka, KafkaConfig, KafkaLimits};
use tokio_util::sync::CancellationToken;

/// Everything the gateway is configured with.
#[derive(Clone)]
pub struct Config {
    dist: PathBuf,
    local: LocalStore,
    hdfs: Option<WebHdfs>,
    token: Option<String>,
    /// The address the gateway listens on, and `--allow-host` names: what
    /// the `Host` header may say.
    bind: Option<std::net::IpAddr>,
    allow_hosts: Vec<String>,
    kafka: KafkaConfig,
    kafka_limits: KafkaLimits,
    ingest_headers: Vec<String>,
    shutdown: CancellationToken,
    /// A notebook file given with `serve --open` from outside the data
    /// directory: served, read-only, at `/api/opened`.
    opened: Option<PathBuf>,
    /// Spark Connect (`--spark sc://host:15002`): SQL cells that run on Spark.
    spark: Option<spark::SparkUrl>,
    /// Kafka's address as Spark's cluster sees it, for `kafka` sources.
    spark_kafka_bootstrap: Option<String>,
    /// From what size a browser source gets a "run it on Spark" note.
    spark_hints: riffle::spark::HintLimits,
    /// Let Spark cells name local files outside the data directory and load code (`--spark-allow-local`).
    spark_allow_local: bool,
    /// How long a GET, HEAD or DELETE may take to answer (see [`Config::with_request_timeout`]).
    request_timeout: std::time::Duration,
    /// Upload sizes, write sessions, the debris sweep (see [`Config::with_limits`]).
    limits: StorageLimits,
}

/// The default of [`Config::with_request_timeout`].
pub const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

impl Config {
    pub fn new(dist: PathBuf, data_root: PathBuf, token: Option<String>) -> anyhow::Result<Config> {
        Ok(Config {
            dist,
            local: LocalStore::new(data_root)?,
            hdfs: None,
            token: token.filter(|t| !t.is_empty()),
            bind: None,
            allow_hosts: Vec::new(),
            kafka: KafkaConfig::new(kafka::config::DEFAULT_BOOTSTRAP),
            kafka_limits: KafkaLimits::default(),
            ingest_headers: kafka::DEFAULT_INGEST_HEADERS.iter().map(|s| s.to_string()).collect(),
            shutdown: CancellationToken::new(),
            opened: None,
            spark: None,
            spark_kafka_bootstrap: None,
            spark_hints: riffle::spark::HintLimits::default(),
            spark_allow_local: false,
            request_timeout: REQUEST_TIMEOUT,
            limits: StorageLimits::default(),
        })
    }

    /// The address the gateway listens on (its IP may be the `Host`; an
    /// unspecified one allows any IP) and the host names it also answers to
    /// (`--allow-host`, e.g. a reverse proxy's). Loopback names always work.
    pub fn with_hosts(mut self, bind: std::net::IpAddr, allow_hosts: Vec<String>) -> Config {
        self.bind = Some(bind);
        self.allow_hosts = allow_hosts
            .into_iter()
            .map(|h| h.trim().trim_end_matches('.').to_ascii_lowercase())
            .filter(|h| !h.is_empty())
            .collect();
        self
    }

    /// Serves this one notebook file at `/api/opened` (for `serve --open`).
    pub fn with_opened(mut self, file: PathBuf) -> Config {
        self.opened = Some(file);
        self
    }

    /// HDFS over WebHDFS: `hdfs://` paths resolve there.
    pub fn with_hdfs(mut self, hdfs: HdfsConfig) -> anyhow::Result<Config> {
        self.hdfs = Some(WebHdfs::new(hdfs)?);
        Ok(self)
    }

    /// Spark Connect: `POST /api/spark/run` runs cells there.
    pub fn with_spark(mut self, url: spark::SparkUrl) -> Config {
        self.spark = Some(url);
        self
    }

    /// Kafka's bootstrap servers as Spark's cluster reaches them, for Spark's
    /// `kafka` sources (`--spark-kafka-bootstrap`).
    pub fn with_spark_kafka_bootstrap(mut self, bootstrap: impl Into<String>) -> Config {
        self.spark_kafka_bootstrap = Some(bootstrap.into());
        self
    }

    /// The sizes from which the browser engine suggests Spark for a source
    /// (`--spark-hint-bytes`, `--spark-hint-messages`).
    pub fn with_spark_hints(mut self, hints: riffle::spark::HintLimits) -> Config {
        self.spark_hints = hints;
        self
    }

    /// Spark cells may name any local file and load code on Spark
    /// (`--spark-allow-local`); by default they are confined (`spark/confine.rs`).
    pub fn with_spark_allow_local(mut self, allow: bool) -> Config {
        self.spark_allow_local = allow;
        self
    }

    pub fn hdfs(&self) -> Option<&WebHdfs> {
        self.hdfs.as_ref()
    }

    pub fn with_kafka(mut self, kafka: KafkaConfig) -> Config {
        self.kafka = kafka;
        self
    }

    /// How much Kafka work the gateway takes on at once (`--max-tails`, ...).
    pub fn with_kafka_limits(mut self, limits: KafkaLimits) -> Config {
        self.kafka_limits = limits;
        self
    }

    /// The request headers `/ingest/{topic}` merges into each event.
    pub fn with_ingest_headers(mut self, names: Vec<String>) -> Config {
        self.ingest_headers = names;
        self
    }

    /// How long a GET, HEAD or DELETE may take until its response starts
    /// (a streamed body may then take as long as it needs); 504 after. Not
    /// for uploads, produce, writes or Spark runs, whose handlers consume
    /// long bodies or wait on Spark, nor for the tail's WebSocket (its
    /// handler answers 101 at once and the socket lives on).
    pub fn with_request_timeout(mut self, timeout: std::time::Duration) -> Config {
        self.request_timeout = timeout;
        self
    }

    /// How large an upload or part file may be (`--max-upload-bytes`), how
    /// many write sessions may be open and how long an idle one lives, and
    /// how old staging debris must be before it is swept.
    pub fn with_limits(mut self, limits: StorageLimits) -> Config {
        self.limits = limits;
        self
    }

    pub fn limits(&self) -> &StorageLimits {
        &self.limits
    }

    /// Cancelled at shutdown: long reads and tails end when it is.
    pub fn with_shutdown(mut self, token: CancellationToken) -> Config {
        self.shutdown = token;
        self
    }

    pub fn kafka(&self) -> &KafkaConfig {
        &self.kafka
    }

    pub fn data_root(&self) -> &std::path::Path {
        self.local.root()
    }
}

#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) stores: Arc<Stores>,
    pub(crate) kafka: Arc<Kafka>,
    pub(crate) ingest_headers: Arc<Vec<String>>,
    pub(crate) writes: Arc<writes::Writes>,
    pub(crate) opened: Option<Arc<PathBuf>>,
    pub(crate) spark: Arc<spark::Spark>,
    pub(crate) limits: Arc<StorageLimits>,
    /// The uploads being staged now, which the debris sweep leaves alone.
    pub(crate) uploads: Arc<storage::Uploads>,
}

/// The gateway's routes: `/api/...` and the UI bundle for everything else.
pub fn app(config: Config) -> Router {
    let spark = Arc::new(spark::Spark::new(
        config.spark,
        config.spark_kafka_bootstrap,
        config.spark_hints,
        config.spark_allow_local,
    ));
    let shutdown = config.shutdown.clone();
    let limits = config.limits;
    let state = AppState {
        stores: Arc::new(Stores::new(config.local, config.hdfs)),
        kafka: Arc::new(Kafka::with_limits(config.kafka, config.shutdown, config.kafka_limits)),
        ingest_headers: Arc::new(config.ingest_headers),
        writes: Arc::new(writes::Writes::new(limits.max_write_sessions, limits.write_idle)),
        opened: config.opened.map(Arc::new),
        spark,
        limits: Arc::new(limits),
        uploads: Arc::default(),
    };
    sweeper::spawn(&state, shutdown);
    let api = Router::new()
        .route("/health", get(health))
        .route("/opened", get(opened))
        .nest("/fs", storage::routes())
        .nest("/kafka", kafka::routes())
        .nest("/spark", spark::routes())
        .fallback(|| async { ApiError::not_found("no such API endpoint") })
        .layer(axum::middleware::from_fn(json_errors))
        .with_state(state.clone());
    let ui = ServeDir::new(&config.dist).fallback(ServeFile::new(config.dist.join("index.html")));
    let policy = security::Policy { token: config.token, bind: config.bind, allow_hosts: config.allow_hosts };
    let index = std::fs::read_to_string(config.dist.join("index.html")).ok();
    let headers = security::Headers::new(index.as_deref());
    Router::new()
        .nest("/api", api)
        .merge(kafka::ingest_routes().layer(axum::middleware::from_fn(json_errors)).with_state(state))
        .fallback_service(ui)
        .layer(axum::middleware::from_fn_with_state(config.request_timeout, response_deadline))
        .layer(axum::middleware::from_fn_with_state(Arc::new(policy), security::guard))
        .layer(axum::middleware::from_fn_with_state(Arc::new(headers), security::headers))
        // The span names the path, never the query: `?token=` must not reach a log.
        .layer(TraceLayer::new_for_http().make_span_with(|request: &axum::http::Request<_>| {
            tracing::debug_span!("request", method = %request.method(), path = %request.uri().path())
        }))
}

/// A GET, HEAD or DELETE whose response has not started within the timeout
/// is answered 504 (its handler is dropped, which ends its work).
async fn response_deadline(
    axum::extract::State(timeout): axum::extract::State<std::time::Duration>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::http::Method;
    use axum::response::IntoResponse;
    if !matches!(*request.method(), Method::GET | Method::HEAD | Method::DELETE) {
        return next.run(request).await;
    }
    let what = format!("{} {}", request.method(), request.uri().path());
    match tokio::time::timeout(timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::new(
            axum::http::StatusCode::GATEWAY_TIMEOUT,
            format!(
                "{what} did not answer within {} s and was stopped; the storage, Kafka or Spark behind it may be \
                 stuck: check it and try again",
                timeout.as_secs_f64()
            ),
        )
        .into_response(),
    }
}

/// Every API error is JSON `{"error": "..."}`. Handlers answer with
/// [`ApiError`]; this also covers what axum answers before a handler runs (a
/// query string that does not parse, a wrong method), plain text or empty.
async fn json_errors(request: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    use axum::http::header;
    use axum::response::IntoResponse;
    let method = request.method().clone();
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 64 * 1024).await.unwrap_or_default();
    let text = String::from_utf8_lossy(&text).trim().to_string();
    let message = if text.is_empty() {
        match status {
            axum::http::StatusCode::METHOD_NOT_ALLOWED => match parts.headers.get(header::ALLOW) {
                Some(allow) => {
                    format!("this endpoint does not answer {method}; it answers {}", allow.to_str().unwrap_or("?"))
                }
                None => format!("this endpoint does not answer {method}"),
            },
            _ => status.canonical_reason().unwrap_or("error").to_string(),
        }
    } else {
        text
    };
    let mut out = ApiError::new(status, message).into_response();
    if let Some(allow) = parts.headers.get(header::ALLOW) {
        out.headers_mut().insert(header::ALLOW, allow.clone());
    }
    out
}

async fn health() -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION") }))
}

/// `GET /api/opened`: the notebook file `serve --open` named, read now (so an
/// edit on disk shows on reload). Only that file; nothing else outside the
/// data directory is reachable.
async fn opened(axum::extract::State(state): axum::extract::State<AppState>) -> Result<String, ApiError> {
    let Some(path) = state.opened else {
        return Err(ApiError::not_found("no notebook was opened with `riffle serve --open <file>`"));
    };
    tokio::fs::read_to_string(path.as_ref()).await.map_err(|e| {
        ApiError::not_found(format!("could not read the notebook {} ({e}); is it still there?", path.display()))
    })
}
