//! Spark Connect: the gateway runs a cell's SQL on a Spark cluster and
//! streams the result back to the browser.
//!
//! `POST /api/spark/run` ([`run`]) takes sources (files and topics, as
//! temporary views) and statements; it answers `application/x-riffle-spark`,
//! a sequence of frames: progress (`P`, JSON), the last statement's rows
//! (`A`, pieces of one Arrow IPC stream) and a summary (`S`, JSON, always
//! last). `GET /api/spark/status` says whether and where Spark is configured.
//! docs/spark.md describes both.

mod client;
mod confine;
pub mod proto;
mod reframe;
mod run;
mod sources;

use std::sync::{Arc, Mutex};

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use tonic::{Code, Status};

pub use client::{SparkClient, SparkUrl, command_plan, sql_plan};
pub use run::CONTENT_TYPE;
pub use sources::FORMATS;

use crate::{ApiError, AppState};

/// Rows a result returns when the request names no `max_rows`.
pub const DEFAULT_MAX_ROWS: u64 = 100_000;
/// The most rows one request may ask for.
pub const MAX_ROWS_LIMIT: u64 = 50_000_000;

/// Notebook sessions kept at once; the least recently used one past this is
/// released on Spark.
pub const MAX_SESSIONS: usize = 16;

/// What the gateway knows about Spark: the client (when `--spark` is given)
/// and the Kafka address as Spark's cluster sees it (for `kafka` sources).
#[derive(Default)]
pub(crate) struct Spark {
    pub client: Option<Arc<SparkClient>>,
    /// The notebooks' sessions, least recently used first: the browser's
    /// id for a notebook, and the Spark session the gateway opened for it.
    sessions: Mutex<Vec<(String, Arc<SparkClient>)>>,
    pub kafka_bootstrap: Option<String>,
    pub hints: riffle::spark::HintLimits,
    /// `--spark-allow-local`: the cells' statements are not confined.
    pub allow_local: bool,
}

impl Spark {
    pub fn new(
        url: Option<SparkUrl>,
        kafka_bootstrap: Option<String>,
        hints: riffle::spark::HintLimits,
        allow_local: bool,
    ) -> Spark {
        let client = url.and_then(|url| match SparkClient::new(url) {
            Ok(client) => Some(Arc::new(client)),
            Err(e) => {
                tracing::error!(error = %e, "Spark Connect is off");
                None
            }
        });
        Spark {
            client,
            sessions: Mutex::new(Vec::new()),
            kafka_bootstrap: kafka_bootstrap.filter(|b| !b.trim().is_empty()),
            hints,
            allow_local,
        }
    }

    /// The client for a run: the notebook's own session when the request
    /// names one (temporary views and settings stay in that notebook), else
    /// the gateway's. A session fixed in the URL (`session_id=`) is used by all.
    pub fn client_for(&self, notebook: Option<&str>) -> Result<Arc<SparkClient>, ApiError> {
        let client = self.client.clone().ok_or_else(not_configured)?;
        let Some(notebook) = notebook else { return Ok(client) };
        let valid = (8..=64).contains(&notebook.len())
            && notebook.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !valid {
            return Err(ApiError::bad_request(format!(
                "the session {notebook:?} must be 8 to 64 letters, digits, '-' or '_' (the engine sends a random one \
                 per notebook)"
            )));
        }
        if client.url().session_id.is_some() {
            return Ok(client);
        }
        let mut sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(at) = sessions.iter().position(|(id, _)| id == notebook) {
            let entry = sessions.remove(at);
            let found = entry.1.clone();
            sessions.push(entry);
            return Ok(found);
        }
        let fresh = Arc::new(client.new_session());
        sessions.push((notebook.to_string(), fresh.clone()));
        if sessions.len() > MAX_SESSIONS {
            let (id, old) = sessions.remove(0);
            tracing::info!(notebook = %id, session = %old.session_id(), "released the least recently used Spark session");
            tokio::spawn(async move {
                if let Err(e) = old.release().await {
                    tracing::warn!(session = %old.session_id(), error = %e.message(), "could not release a Spark session");
                }
            });
        }
        Ok(fresh)
    }

    /// The Spark sessions of the notebooks, least recently used first (for status).
    fn session_ids(&self) -> Vec<String> {
        let sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        sessions.iter().map(|(_, client)| client.session_id().to_string()).collect()
    }
}

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/run", post(run::run)).route("/status", get(status))
}

/// `GET /api/spark/status`: whether Spark is configured, where (without the
/// token) and as whom, the gateway's Spark session (its jobs carry it in
/// their tags), the Kafka address `kafka` sources get, and from what size
/// the browser engine suggests Spark for a source.
async fn status(State(state): State<AppState>) -> Json<serde_json::Value> {
    let client = state.spark.client.as_ref();
    let url = client.map(|c| c.url());
    Json(serde_json::json!({
        "configured": url.is_some(),
        "url": url.map(SparkUrl::display),
        "user": url.map(|u| u.user_id.clone()),
        "session_id": client.map(|c| c.session_id().to_string()),
        "notebook_sessions": state.spark.session_ids().len(),
        "notebook_session_ids": state.spark.session_ids(),
        "max_notebook_sessions": MAX_SESSIONS,
        "kafka_bootstrap": state.spark.kafka_bootstrap,
        "hint_bytes": state.spark.hints.bytes,
        "hint_messages": state.spark.hints.messages,
    }))
}

/// A Spark error as an API error: Spark's own message, with what to do when
/// it is about reaching Spark rather than about the query.
pub(crate) fn status_error(url: &SparkUrl, status: &Status) -> ApiError {
    let message = status.message().trim();
    match status.code() {
        _ if unreachable(status) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "Spark Connect at {} is unreachable ({message}). Start a local server with \
                 `bash scripts/spark.sh start`, or point the gateway at yours with --spark sc://host:15002 (RIFFLE_SPARK).",
                url.display()
            ),
        ),
        Code::DeadlineExceeded => ApiError::new(
            StatusCode::GATEWAY_TIMEOUT,
            format!("Spark Connect at {} did not answer in time: {message}", url.display()),
        ),
        Code::Unauthenticated | Code::PermissionDenied => ApiError::new(
            StatusCode::FORBIDDEN,
            format!("Spark Connect at {} refused us ({message}); check the token= in the sc:// URL", url.display()),
        ),
        _ if message.contains("[OPERATION_CANCELED]") => {
            ApiError::new(StatusCode::CONFLICT, format!("the query was interrupted on Spark: {message}"))
        }
        Code::Cancelled => {
            ApiError::new(StatusCode::CONFLICT, format!("the query was interrupted on Spark: {message}"))
        }
        _ => ApiError::bad_request(format!("Spark: {message}")),
    }
}

/// Whether `status` says Spark could not be reached at all. tonic reports a
/// refused connection as `Unavailable`, or, when the channel's connection
/// broke while a call was being set up, as `Unknown` with "transport error".
pub(crate) fn unreachable(status: &Status) -> bool {
    match status.code() {
        Code::Unavailable => true,
        Code::Unknown => {
            let message = status.message();
            message.starts_with("transport error")
                || message.contains("Connection refused")
                || message.contains("tcp connect error")
        }
        _ => false,
    }
}

fn not_configured() -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "Spark is not configured: start the gateway with --spark sc://127.0.0.1:15002 (or RIFFLE_SPARK), \
         with a Spark Connect server there (`bash scripts/spark.sh start` runs a local one)",
    )
}

/// Interrupts the operation on Spark when dropped while still armed: the
/// browser went away, or the row cap was reached, before Spark finished.
pub(crate) struct InterruptOnDrop {
    client: Arc<SparkClient>,
    operation_id: String,
    pub armed: bool,
}

impl InterruptOnDrop {
    pub fn new(client: Arc<SparkClient>, operation_id: String) -> InterruptOnDrop {
        InterruptOnDrop { client, operation_id, armed: true }
    }

    /// Interrupts now and waits for Spark's answer (the row cap was reached).
    pub async fn interrupt_now(mut self) {
        self.armed = false;
        let operation_id = std::mem::take(&mut self.operation_id);
        match self.client.interrupt(&operation_id).await {
            Ok(ids) => {
                tracing::info!(%operation_id, interrupted = ?ids, "interrupted a Spark operation at the row cap")
            }
            Err(e) => tracing::warn!(%operation_id, error = %e, "could not interrupt a Spark operation"),
        }
    }
}

impl Drop for InterruptOnDrop {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let client = self.client.clone();
        let operation_id = std::mem::take(&mut self.operation_id);
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                match client.interrupt(&operation_id).await {
                    Ok(ids) => tracing::info!(%operation_id, interrupted = ?ids, "interrupted a Spark operation"),
                    Err(e) => tracing::warn!(%operation_id, error = %e, "could not interrupt a Spark operation"),
                }
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broken_transport_is_unreachable_whatever_its_code() {
        assert!(unreachable(&Status::unavailable("tcp connect error: Connection refused")));
        assert!(unreachable(&Status::unknown("transport error")));
        assert!(!unreachable(&Status::unknown("[TABLE_OR_VIEW_NOT_FOUND] nope")));
        assert!(!unreachable(&Status::internal("transport error")));
        let url = SparkUrl::parse("sc://127.0.0.1:1").unwrap();
        let e = status_error(&url, &Status::unknown("transport error"));
        assert_eq!(e.status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(e.message.contains("unreachable") && e.message.contains("scripts/spark.sh start"), "{}", e.message);
    }
}
