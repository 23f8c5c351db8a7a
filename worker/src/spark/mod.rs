//! Spark Connect: the gateway hands a SQL query to a Spark cluster and
//! streams its rows back to the browser as one Arrow IPC stream.
//!
//! `POST /api/spark/sql` with `{"query": "...", "max_rows": N}` answers
//! `application/vnd.apache.arrow.stream`: the Arrow IPC stream (schema,
//! record batches, end-of-stream marker), then one line of JSON, the
//! summary: `{"rows": n, "truncated": bool, "total_rows": n|null,
//! "operation_id": "...", "elapsed_ms": n, "error": null|"..."}`. Arrow
//! readers stop at the end-of-stream marker, so the summary after it does not
//! disturb them. Errors before the first row (a query Spark cannot analyse,
//! Spark unreachable) are JSON errors with a 4xx/5xx status instead.

mod client;
pub mod proto;

use std::sync::Arc;
use std::time::Instant;

use arrow_ipc::reader::StreamReader;
use arrow_ipc::writer::StreamWriter;
use axum::Json;
use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::Response;
use axum::routing::post;
use bytes::Bytes;
use serde::Deserialize;
use tokio::sync::mpsc;
use tonic::{Code, Status};

pub use client::{SparkClient, SparkUrl};
use proto::execute_plan_response::ResponseType;

use crate::{ApiError, AppState};

/// Rows a result returns when the request names no `max_rows`.
pub const DEFAULT_MAX_ROWS: u64 = 100_000;
/// The most rows one request may ask for.
pub const MAX_ROWS_LIMIT: u64 = 50_000_000;
/// Before answering, the gateway reads this much of the result, so a small
/// result's row count can go in a header (`x-riffle-row-count`).
const PREFETCH_BYTES: usize = 8 * 1024 * 1024;

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/sql", post(sql))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SqlRequest {
    query: String,
    max_rows: Option<u64>,
}

/// A Spark error as an API error: Spark's own message, with what to do when
/// it is about reaching Spark rather than about the query.
pub(crate) fn status_error(url: &SparkUrl, status: &Status) -> ApiError {
    let message = status.message().trim();
    match status.code() {
        Code::Unavailable => ApiError::new(
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

fn not_configured() -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "Spark is not configured: start the gateway with --spark sc://127.0.0.1:15002 (or RIFFLE_SPARK), \
         with a Spark Connect server there (`bash scripts/spark.sh start` runs a local one)",
    )
}

/// Interrupts the operation on Spark when dropped while still armed: the
/// browser went away, or the row cap was reached, before Spark finished.
struct InterruptOnDrop {
    client: Arc<SparkClient>,
    operation_id: String,
    armed: bool,
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

/// Turns the Arrow IPC streams Spark sends (one per batch, each with its own
/// schema) into one stream, and stops at the row cap.
struct Reframer {
    writer: Option<StreamWriter<Vec<u8>>>,
    rows: u64,
    cap: u64,
    truncated: bool,
}

impl Reframer {
    fn new(cap: u64) -> Reframer {
        Reframer { writer: None, rows: 0, cap, truncated: false }
    }

    /// Adds one of Spark's Arrow payloads; returns the bytes to send on.
    fn push(&mut self, data: Bytes) -> Result<Bytes, String> {
        let reader = StreamReader::try_new(std::io::Cursor::new(data), None)
            .map_err(|e| format!("Spark sent Arrow data the gateway cannot read: {e}"))?;
        for batch in reader {
            let batch = batch.map_err(|e| format!("Spark sent an Arrow batch the gateway cannot read: {e}"))?;
            if self.writer.is_none() {
                let writer = StreamWriter::try_new(Vec::new(), &batch.schema())
                    .map_err(|e| format!("could not start the Arrow stream: {e}"))?;
                self.writer = Some(writer);
            }
            if self.truncated {
                continue;
            }
            let room = self.cap - self.rows;
            let batch = if batch.num_rows() as u64 > room {
                self.truncated = true;
                batch.slice(0, room as usize)
            } else {
                batch
            };
            self.rows += batch.num_rows() as u64;
            if batch.num_rows() > 0
                && let Some(writer) = self.writer.as_mut()
            {
                writer.write(&batch).map_err(|e| format!("could not write an Arrow batch: {e}"))?;
            }
            if self.rows >= self.cap && !self.truncated {
                // Exactly at the cap: more rows may follow; the caller stops reading.
                self.truncated = true;
            }
        }
        Ok(self.take())
    }

    fn take(&mut self) -> Bytes {
        self.writer.as_mut().map(|w| Bytes::from(std::mem::take(w.get_mut()))).unwrap_or_default()
    }

    /// Ends the stream; a result that sent no batch at all becomes a stream with no columns.
    fn finish(&mut self) -> Bytes {
        if self.writer.is_none()
            && let Ok(writer) = StreamWriter::try_new(Vec::new(), &arrow_schema::Schema::empty())
        {
            self.writer = Some(writer);
        }
        if let Some(w) = self.writer.as_mut() {
            let _ = w.finish();
        }
        self.take()
    }
}

/// How a result stream ended.
enum Ending {
    Complete,
    Capped,
    Failed(String),
}

/// `POST /api/spark/sql`.
async fn sql(State(state): State<AppState>, Json(request): Json<SqlRequest>) -> Result<Response, ApiError> {
    let client = state.spark.clone().ok_or_else(not_configured)?;
    let query = request.query.trim().trim_end_matches(';').to_string();
    if query.is_empty() {
        return Err(ApiError::bad_request("the query is empty: send {\"query\": \"SELECT ...\"}"));
    }
    let cap = request.max_rows.unwrap_or(DEFAULT_MAX_ROWS);
    if cap == 0 || cap > MAX_ROWS_LIMIT {
        return Err(ApiError::bad_request(format!("max_rows must be between 1 and {MAX_ROWS_LIMIT}, not {cap}")));
    }
    let started = Instant::now();
    let operation_id = uuid::Uuid::new_v4().to_string();
    let mut guard = InterruptOnDrop { client: client.clone(), operation_id: operation_id.clone(), armed: true };
    let mut stream = match client.sql(&query, &operation_id).await {
        Ok(s) => s,
        Err(status) => {
            guard.armed = false;
            return Err(status_error(client.url(), &status));
        }
    };
    // Read the start of the result: errors Spark finds before the first row
    // become an error status, and a small result's size goes in a header.
    let mut reframer = Reframer::new(cap);
    let mut pending: Vec<Bytes> = Vec::new();
    let mut pending_bytes = 0usize;
    let mut ending = None;
    while ending.is_none() && pending_bytes < PREFETCH_BYTES {
        match stream.message().await {
            Ok(Some(response)) => {
                if let Some(ResponseType::ArrowBatch(batch)) = response.response_type {
                    let bytes = reframer.push(batch.data).map_err(|e| {
                        ApiError::new(StatusCode::BAD_GATEWAY, format!("{e} (from {})", client.url().display()))
                    })?;
                    pending_bytes += bytes.len();
                    pending.push(bytes);
                    if reframer.truncated {
                        ending = Some(Ending::Capped);
                    }
                }
            }
            Ok(None) => ending = Some(Ending::Complete),
            Err(status) => {
                guard.armed = false;
                return Err(status_error(client.url(), &status));
            }
        }
    }
    let first_ms = started.elapsed().as_millis() as u64;
    let mut builder = Response::builder()
        .header(header::CONTENT_TYPE, "application/vnd.apache.arrow.stream")
        .header(header::CACHE_CONTROL, "no-store")
        .header("x-riffle-spark-operation", &operation_id)
        .header("x-riffle-max-rows", cap.to_string())
        .header("x-riffle-first-ms", first_ms.to_string());
    if let Some(Ending::Complete) = ending {
        builder = builder.header("x-riffle-row-count", reframer.rows.to_string());
    }
    let (tx, mut rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    tokio::spawn(async move {
        for bytes in pending {
            if tx.send(Ok(bytes)).await.is_err() {
                return; // The browser went away: the guard interrupts the operation.
            }
        }
        let ending = match ending {
            Some(ending) => ending,
            None => loop {
                let message = tokio::select! {
                    _ = tx.closed() => return,
                    message = stream.message() => message,
                };
                match message {
                    Ok(Some(response)) => {
                        let Some(ResponseType::ArrowBatch(batch)) = response.response_type else { continue };
                        match reframer.push(batch.data) {
                            Ok(bytes) => {
                                if !bytes.is_empty() && tx.send(Ok(bytes)).await.is_err() {
                                    return;
                                }
                            }
                            Err(e) => break Ending::Failed(e),
                        }
                        if reframer.truncated {
                            break Ending::Capped;
                        }
                    }
                    Ok(None) => break Ending::Complete,
                    Err(status) => {
                        guard.armed = false;
                        break Ending::Failed(status_error(client.url(), &status).message);
                    }
                }
            },
        };
        // Spark finished, or failed: nothing to interrupt. At the cap, the guard interrupts.
        if matches!(ending, Ending::Complete) {
            guard.armed = false;
        }
        drop(stream);
        drop(guard);
        let elapsed_ms = started.elapsed().as_millis() as u64;
        let (total_rows, error) = match &ending {
            Ending::Complete => (Some(reframer.rows), None),
            Ending::Capped => (None, None),
            Ending::Failed(e) => (None, Some(e.clone())),
        };
        tracing::info!(
            %operation_id, rows = reframer.rows, truncated = reframer.truncated, elapsed_ms, first_ms, error = ?error,
            "Spark SQL result"
        );
        let summary = serde_json::json!({
            "rows": reframer.rows,
            "truncated": matches!(ending, Ending::Capped),
            "total_rows": total_rows,
            "operation_id": operation_id,
            "elapsed_ms": elapsed_ms,
            "error": error,
        });
        let mut tail = reframer.finish().to_vec();
        tail.extend_from_slice(summary.to_string().as_bytes());
        tail.push(b'\n');
        let _ = tx.send(Ok(Bytes::from(tail))).await;
    });
    let body = Body::from_stream(futures::stream::poll_fn(move |cx| rx.poll_recv(cx)));
    builder.body(body).map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))
}
