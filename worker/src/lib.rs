//! The gateway: serves the built UI and the APIs the browser cannot reach by
//! itself. It is the only part of Riffle that knows HTTP and does IO.

mod error;
pub mod kafka;
mod security;
mod storage;
mod writes;

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::trace::TraceLayer;

pub use error::ApiError;
pub use storage::LocalStore;

use kafka::{Kafka, KafkaConfig};
use tokio_util::sync::CancellationToken;

/// Everything the gateway is configured with.
#[derive(Clone)]
pub struct Config {
    dist: PathBuf,
    local: LocalStore,
    token: Option<String>,
    kafka: KafkaConfig,
    ingest_headers: Vec<String>,
    shutdown: CancellationToken,
}

impl Config {
    pub fn new(dist: PathBuf, data_root: PathBuf, token: Option<String>) -> anyhow::Result<Config> {
        Ok(Config {
            dist,
            local: LocalStore::new(data_root)?,
            token: token.filter(|t| !t.is_empty()),
            kafka: KafkaConfig::new(kafka::config::DEFAULT_BOOTSTRAP),
            ingest_headers: kafka::DEFAULT_INGEST_HEADERS.iter().map(|s| s.to_string()).collect(),
            shutdown: CancellationToken::new(),
        })
    }

    pub fn with_kafka(mut self, kafka: KafkaConfig) -> Config {
        self.kafka = kafka;
        self
    }

    /// The request headers `/ingest/{topic}` merges into each event.
    pub fn with_ingest_headers(mut self, names: Vec<String>) -> Config {
        self.ingest_headers = names;
        self
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
    pub(crate) local: Arc<LocalStore>,
    pub(crate) kafka: Arc<Kafka>,
    pub(crate) ingest_headers: Arc<Vec<String>>,
    pub(crate) writes: Arc<writes::Writes>,
}

/// The gateway's routes: `/api/...` and the UI bundle for everything else.
pub fn app(config: Config) -> Router {
    let state = AppState {
        local: Arc::new(config.local),
        kafka: Arc::new(Kafka::new(config.kafka, config.shutdown)),
        ingest_headers: Arc::new(config.ingest_headers),
        writes: Arc::new(writes::Writes::default()),
    };
    let api = Router::new()
        .route("/health", get(health))
        .route("/fs/read", get(storage::read))
        .route("/fs/parts", get(storage::parts))
        .route("/fs/writes", axum::routing::post(writes::open))
        .route(
            "/fs/writes/{id}/parts/{name}",
            axum::routing::put(writes::put_part).layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route("/fs/writes/{id}/commit", axum::routing::post(writes::commit))
        .route("/fs/writes/{id}", axum::routing::delete(writes::abort))
        .nest("/kafka", kafka::routes())
        .fallback(|| async { ApiError::not_found("no such API endpoint") })
        .with_state(state.clone());
    let ui = ServeDir::new(&config.dist).fallback(ServeFile::new(config.dist.join("index.html")));
    Router::new()
        .nest("/api", api)
        .merge(kafka::ingest_routes().with_state(state))
        .fallback_service(ui)
        .layer(axum::middleware::from_fn_with_state(config.token.map(Arc::new), security::guard))
        .layer(TraceLayer::new_for_http())
}

async fn health() -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION") }))
}
