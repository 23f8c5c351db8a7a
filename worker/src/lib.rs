//! The gateway: serves the built UI and the APIs the browser cannot reach by
//! itself. It is the only part of Riffle that knows HTTP and does IO.

mod error;
mod security;
mod storage;

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::trace::TraceLayer;

pub use error::ApiError;
pub use storage::LocalStore;

/// Everything the gateway is configured with.
#[derive(Clone)]
pub struct Config {
    dist: PathBuf,
    local: LocalStore,
    token: Option<String>,
}

impl Config {
    pub fn new(dist: PathBuf, data_root: PathBuf, token: Option<String>) -> anyhow::Result<Config> {
        Ok(Config { dist, local: LocalStore::new(data_root)?, token: token.filter(|t| !t.is_empty()) })
    }

    pub fn data_root(&self) -> &std::path::Path {
        self.local.root()
    }
}

#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) local: Arc<LocalStore>,
}

/// The gateway's routes: `/api/...` and the UI bundle for everything else.
pub fn app(config: Config) -> Router {
    let state = AppState { local: Arc::new(config.local) };
    let api = Router::new()
        .route("/health", get(health))
        .route("/fs/read", get(storage::read))
        .route("/fs/parts", get(storage::parts))
        .route(
            "/kafka/{*rest}",
            axum::routing::any(|| async {
                ApiError::new(
                    axum::http::StatusCode::SERVICE_UNAVAILABLE,
                    "this gateway has no Kafka connection yet, so kafka(...) cannot be read",
                )
            }),
        )
        .fallback(|| async { ApiError::not_found("no such API endpoint") })
        .with_state(state);
    let ui = ServeDir::new(&config.dist).fallback(ServeFile::new(config.dist.join("index.html")));
    Router::new()
        .nest("/api", api)
        .fallback_service(ui)
        .layer(axum::middleware::from_fn_with_state(config.token.map(Arc::new), security::guard))
        .layer(TraceLayer::new_for_http())
}

async fn health() -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION") }))
}
