//! Spark-style output directories, written atomically.
//!
//! A write is a session: `POST /api/fs/writes` opens it (checking the mode),
//! `PUT /api/fs/writes/{id}/parts/{name}` stages each part file under
//! `<dir>/_temporary/<id>/`, and `POST /api/fs/writes/{id}/commit` moves the
//! parts into place and writes `_SUCCESS`. Readers skip `_temporary`, so until
//! the commit nothing of the new output is visible; a write that is aborted
//! (`DELETE /api/fs/writes/{id}`), or whose gateway dies, leaves the old data
//! as it was. Overwrite moves the old data files aside first and deletes them
//! only after the new ones are in place.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use axum::Json;
use axum::body::Body;
use axum::extract::{Path as UrlPath, State};
use axum::http::StatusCode;
use futures::StreamExt;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;

use crate::{ApiError, AppState};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Fail if the directory already holds data (Spark's `errorifexists`).
    #[serde(alias = "errorifexists", alias = "error_if_exists")]
    Error,
    Overwrite,
    Append,
}

#[derive(Debug, Clone)]
struct Session {
    /// As the user wrote it, for messages.
    path: String,
    dir: PathBuf,
    mode: Mode,
}

/// Open write sessions; a gateway restart forgets them (their staged files
/// stay invisible under `_temporary` and the next overwrite removes them).
#[derive(Debug, Default)]
pub struct Writes(Mutex<HashMap<String, Session>>);

impl Writes {
    fn get(&self, id: &str) -> Result<Session, ApiError> {
        self.0.lock().map_err(|_| internal("write sessions poisoned"))?.get(id).cloned().ok_or_else(|| {
            ApiError::not_found(format!("no open write {id}: it was committed, aborted, or the gateway restarted"))
        })
    }

    fn remove(&self, id: &str) {
        if let Ok(mut m) = self.0.lock() {
            m.remove(id);
        }
    }
}

#[derive(Deserialize)]
pub(crate) struct OpenWrite {
    path: String,
    #[serde(default = "default_mode")]
    mode: Mode,
}

fn default_mode() -> Mode {
    Mode::Error
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
}

async fn data_files(dir: &Path) -> Result<Vec<PathBuf>, ApiError> {
    let mut out = Vec::new();
    let mut entries = match tokio::fs::read_dir(dir).await {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(internal(e)),
    };
    while let Some(entry) = entries.next_entry().await.map_err(internal)? {
        let name = entry.file_name().to_string_lossy().to_string();
        if riffle::paths::is_data_file(&name) {
            out.push(entry.path());
        }
    }
    out.sort();
    Ok(out)
}

/// `POST /api/fs/writes {"path": "out/trips", "mode": "overwrite"}`
pub(crate) async fn open(
    State(state): State<AppState>,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let request: OpenWrite = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request(format!(
            "a write needs JSON such as {{\"path\": \"out/trips\", \"mode\": \"overwrite\"}} (modes: error, overwrite, append): {e}"
        ))
    })?;
    let dir = state.local.resolve(&request.path)?;
    if dir == state.local.root() {
        return Err(ApiError::bad_request(
            "write into a directory under the data directory, not the data directory itself",
        ));
    }
    match tokio::fs::metadata(&dir).await {
        Ok(m) if !m.is_dir() => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                format!("'{}' is a file; an output is a directory of part files. Choose another path", request.path),
            ));
        }
        Ok(_) if request.mode == Mode::Error && !data_files(&dir).await?.is_empty() => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                format!("'{}' already holds data; write with MODE overwrite or MODE append", request.path),
            ));
        }
        _ => {}
    }
    let id = new_id();
    tokio::fs::create_dir_all(dir.join("_temporary").join(&id))
        .await
        .map_err(|e| internal(format!("could not create the staging directory for '{}': {e}", request.path)))?;
    state
        .writes
        .0
        .lock()
        .map_err(|_| internal("write sessions poisoned"))?
        .insert(id.clone(), Session { path: request.path.clone(), dir, mode: request.mode });
    Ok((StatusCode::CREATED, Json(json!({ "id": id, "path": request.path }))))
}

fn new_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0));
    let a = h.finish();
    h.write_u64(a);
    format!("{a:016x}{:016x}", h.finish())
}

/// A part file's name: plain, no directories, not Spark bookkeeping.
fn check_part_name(name: &str) -> Result<(), ApiError> {
    let ok = !name.is_empty()
        && name.len() <= 200
        && riffle::paths::is_data_file(name)
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok { Ok(()) } else { Err(ApiError::bad_request(format!("'{name}' is not a valid part file name"))) }
}

/// `PUT /api/fs/writes/{id}/parts/{name}`: the body, streamed to the staging directory.
pub(crate) async fn put_part(
    State(state): State<AppState>,
    UrlPath((id, name)): UrlPath<(String, String)>,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    check_part_name(&name)?;
    let session = state.writes.get(&id)?;
    let file = session.dir.join("_temporary").join(&id).join(&name);
    let mut out = tokio::fs::File::create(&file).await.map_err(internal)?;
    let mut stream = body.into_data_stream();
    let mut bytes = 0u64;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| ApiError::bad_request(format!("the upload of {name} broke off: {e}")))?;
        out.write_all(&chunk).await.map_err(internal)?;
        bytes += chunk.len() as u64;
    }
    out.flush().await.map_err(internal)?;
    out.sync_all().await.map_err(internal)?;
    Ok(Json(json!({ "part": name, "bytes": bytes })))
}

/// `POST /api/fs/writes/{id}/commit`: the parts go into place, then `_SUCCESS`.
pub(crate) async fn commit(
    State(state): State<AppState>,
    UrlPath(id): UrlPath<String>,
) -> Result<Json<Value>, ApiError> {
    let session = state.writes.get(&id)?;
    let staging = session.dir.join("_temporary").join(&id);
    let staged = data_files(&staging).await?;
    if session.mode == Mode::Error && !data_files(&session.dir).await?.is_empty() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("'{}' got data while this write ran; nothing was written (MODE overwrite or append)", session.path),
        ));
    }
    // Overwrite: the old files move aside (still recoverable if this fails)...
    let aside = staging.join(".replaced");
    let old = if session.mode == Mode::Overwrite { data_files(&session.dir).await? } else { Vec::new() };
    if !old.is_empty() {
        tokio::fs::create_dir_all(&aside).await.map_err(internal)?;
        for f in &old {
            let name = f.file_name().unwrap_or_default();
            tokio::fs::rename(f, aside.join(name)).await.map_err(internal)?;
        }
        let _ = tokio::fs::remove_file(session.dir.join("_SUCCESS")).await;
    }
    // ...the new ones move in (a rename within one directory tree: atomic per file)...
    let mut bytes = 0;
    let mut files = Vec::with_capacity(staged.len());
    for f in &staged {
        let name = f.file_name().unwrap_or_default().to_os_string();
        let target = session.dir.join(&name);
        if tokio::fs::try_exists(&target).await.unwrap_or(false) {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                format!("{} already exists in '{}'", name.to_string_lossy(), session.path),
            ));
        }
        bytes += tokio::fs::metadata(f).await.map(|m| m.len()).unwrap_or(0);
        tokio::fs::rename(f, &target).await.map_err(internal)?;
        files.push(name.to_string_lossy().to_string());
    }
    // ...then _SUCCESS, and the staging area (with the replaced files) goes.
    tokio::fs::write(session.dir.join("_SUCCESS"), b"").await.map_err(internal)?;
    let cleanup = if session.mode == Mode::Overwrite { session.dir.join("_temporary") } else { staging };
    let _ = tokio::fs::remove_dir_all(&cleanup).await;
    let _ = tokio::fs::remove_dir(session.dir.join("_temporary")).await;
    state.writes.remove(&id);
    let total = data_files(&session.dir).await?.len();
    Ok(Json(
        json!({ "path": session.path, "files": files, "bytes": bytes, "replaced": old.len(), "total_files": total }),
    ))
}

/// `DELETE /api/fs/writes/{id}`: drop the staged files; the output is untouched.
pub(crate) async fn abort(
    State(state): State<AppState>,
    UrlPath(id): UrlPath<String>,
) -> Result<Json<Value>, ApiError> {
    let session = state.writes.get(&id)?;
    let _ = tokio::fs::remove_dir_all(session.dir.join("_temporary").join(&id)).await;
    let _ = tokio::fs::remove_dir(session.dir.join("_temporary")).await;
    state.writes.remove(&id);
    // A first write that is aborted leaves no empty directory behind.
    let _ = tokio::fs::remove_dir(&session.dir).await;
    Ok(Json(json!({ "aborted": id })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_names() {
        assert!(check_part_name("part-00000-abc-c000.snappy.parquet").is_ok());
        for bad in ["", "../x", "a/b", "_SUCCESS", ".hidden", "x y"] {
            assert!(check_part_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ids_differ() {
        assert_ne!(new_id(), new_id());
        assert_eq!(new_id().len(), 32);
    }
}
