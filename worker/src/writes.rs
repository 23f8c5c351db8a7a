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
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Json;
use axum::body::Body;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode};
use futures::StreamExt;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::storage::{Location, SizedBody, Store, Stores, data_files, new_id};
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
    dir: Location,
    mode: Mode,
}

impl Session {
    fn temporary(&self) -> Location {
        self.dir.join("_temporary")
    }

    fn staging(&self, id: &str) -> Location {
        self.temporary().join(id)
    }
}

/// Open write sessions; a gateway restart forgets them (their staged files
/// stay invisible under `_temporary`; the debris sweep and the next commit
/// into the directory remove them). At most `max` are open at once, and one
/// unused for `idle` is aborted by [`expire_idle`].
#[derive(Debug)]
pub struct Writes {
    open: Mutex<HashMap<String, Open>>,
    max: usize,
    idle: Duration,
}

#[derive(Debug)]
struct Open {
    session: Session,
    /// When a request last used the session (or finished using it).
    last_used: Instant,
    /// Requests using it now (a part streaming in, a commit): never idle then.
    busy: usize,
}

impl Writes {
    pub(crate) fn new(max: usize, idle: Duration) -> Writes {
        Writes { open: Mutex::new(HashMap::new()), max, idle }
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, HashMap<String, Open>>, ApiError> {
        self.open.lock().map_err(|_| internal("write sessions poisoned"))
    }

    /// Registers a new session, or 429 when the most allowed are open.
    fn insert(&self, id: &str, session: Session) -> Result<(), ApiError> {
        let mut open = self.lock()?;
        if open.len() >= self.max {
            return Err(ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                format!(
                    "'{}': {} writes are open on this gateway, the most it allows; commit or abort one \
                     (DELETE /api/fs/writes/{{id}}), or wait: a write unused for {} s is aborted",
                    session.path,
                    open.len(),
                    self.idle.as_secs()
                ),
            ));
        }
        open.insert(id.to_string(), Open { session, last_used: Instant::now(), busy: 0 });
        Ok(())
    }

    /// The session, kept from expiring until the guard drops.
    fn begin(self: &Arc<Self>, id: &str) -> Result<(Session, InUse), ApiError> {
        let mut open = self.lock()?;
        let entry = open.get_mut(id).ok_or_else(|| {
            ApiError::not_found(format!(
                "no open write {id}: it was committed, aborted, unused for longer than {} s, or the gateway restarted",
                self.idle.as_secs()
            ))
        })?;
        entry.busy += 1;
        entry.last_used = Instant::now();
        Ok((entry.session.clone(), InUse { writes: self.clone(), id: id.to_string() }))
    }

    pub(crate) fn is_open(&self, id: &str) -> bool {
        self.open.lock().map(|m| m.contains_key(id)).unwrap_or(true)
    }

    fn remove(&self, id: &str) {
        if let Ok(mut m) = self.open.lock() {
            m.remove(id);
        }
    }

    /// Takes out the sessions unused for `idle` that no request is using.
    fn expire(&self) -> Vec<(String, Session)> {
        let Ok(mut open) = self.open.lock() else { return Vec::new() };
        let idle: Vec<String> = open
            .iter()
            .filter(|(_, o)| o.busy == 0 && o.last_used.elapsed() >= self.idle)
            .map(|(id, _)| id.clone())
            .collect();
        idle.into_iter().filter_map(|id| open.remove(&id).map(|o| (id, o.session))).collect()
    }
}

/// A request using a session; it was last used when this drops.
struct InUse {
    writes: Arc<Writes>,
    id: String,
}

impl Drop for InUse {
    fn drop(&mut self) {
        if let Ok(mut open) = self.writes.open.lock()
            && let Some(entry) = open.get_mut(&self.id)
        {
            entry.busy = entry.busy.saturating_sub(1);
            entry.last_used = Instant::now();
        }
    }
}

/// Aborts the sessions unused for the idle time and removes their staging;
/// how many there were.
pub(crate) async fn expire_idle(writes: &Writes, stores: &Stores) -> usize {
    let expired = writes.expire();
    for (id, session) in &expired {
        tracing::info!(write = %id, path = %session.path, "aborting a write unused for {} s", writes.idle.as_secs());
        if let Ok(store) = stores.store(session.dir.scheme) {
            discard(store, &session.dir, id).await;
        }
    }
    expired.len()
}

/// Removes a session's staging directory, and `_temporary` and the output
/// directory when that leaves them empty (a first write that is aborted
/// leaves no empty directory behind).
async fn discard(store: &dyn Store, dir: &Location, id: &str) {
    let temporary = dir.join("_temporary");
    let _ = store.delete(&temporary.join(id), true).await;
    if store.list(&temporary).await.is_ok_and(|l| l.is_empty()) {
        let _ = store.delete(&temporary, false).await;
    }
    if store.list(dir).await.is_ok_and(|l| l.is_empty()) {
        let _ = store.delete(dir, false).await;
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

/// The data files of an output directory; none when it does not exist.
async fn existing_data(store: &dyn Store, dir: &Location) -> Result<Vec<crate::storage::Entry>, ApiError> {
    match store.stat(dir).await? {
        Some(e) if e.is_dir() => data_files(store, dir).await,
        _ => Ok(Vec::new()),
    }
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
    let (dir, store) = state.stores.locate(&request.path)?;
    if dir.is_root() {
        return Err(ApiError::bad_request(format!(
            "write into a directory under {}, not the root itself",
            dir.scheme.root_name()
        )));
    }
    match store.stat(&dir).await? {
        Some(m) if !m.is_dir() => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                format!("'{}' is a file; an output is a directory of part files. Choose another path", request.path),
            ));
        }
        Some(_) if request.mode == Mode::Error && !data_files(store, &dir).await?.is_empty() => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                format!("'{}' already holds data; write with MODE overwrite or MODE append", request.path),
            ));
        }
        _ => {}
    }
    let id = new_id();
    let session = Session { path: request.path.clone(), dir, mode: request.mode };
    let staging = session.staging(&id);
    // Registered first: the debris sweep never takes an open session's staging.
    state.writes.insert(&id, session)?;
    store.mkdirs(&staging).await.map_err(|e| {
        state.writes.remove(&id);
        ApiError::new(e.status, format!("could not create the staging directory for '{}': {}", request.path, e.message))
    })?;
    Ok((StatusCode::CREATED, Json(json!({ "id": id, "path": request.path }))))
}

/// A part file's name: plain, no directories, not Spark bookkeeping.
fn check_part_name(name: &str) -> Result<(), ApiError> {
    let ok = !name.is_empty()
        && name.len() <= 200
        && riffle::paths::is_data_file(name)
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok { Ok(()) } else { Err(ApiError::bad_request(format!("'{name}' is not a valid part file name"))) }
}

/// `PUT /api/fs/writes/{id}/parts/{name}`: the body, streamed to the staging
/// directory under a hidden name, and given its own name only once the whole
/// body has arrived. An upload that breaks off (the client went away, the
/// connection dropped) is never committed as a truncated part; sent again, a
/// part replaces the earlier one. A part over the upload limit is refused
/// (413) like an upload, and its staged bytes removed.
pub(crate) async fn put_part(
    State(state): State<AppState>,
    UrlPath((id, name)): UrlPath<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    check_part_name(&name)?;
    let (session, _in_use) = state.writes.begin(&id)?;
    let what = format!("the part {name} of the write to '{}'", session.path);
    let (stream, sized) = SizedBody::open(&headers, body, state.limits.max_upload_bytes, what)?;
    let store = state.stores.store(session.dir.scheme)?;
    let staging = session.staging(&id);
    let part = staging.join(&name);
    // Hidden, so never a data file: commit skips it, cleanup removes it.
    let partial = staging.join(&format!(".{name}.{}.partial", new_id()));
    let bytes = match store.write(&partial, stream, true).await {
        Ok(bytes) => bytes,
        Err(e) => {
            let _ = store.delete(&partial, false).await;
            return Err(sized.explain(e));
        }
    };
    store.delete(&part, false).await?;
    store.rename(&partial, &part).await?;
    Ok(Json(json!({ "part": name, "bytes": bytes })))
}

/// `POST /api/fs/writes/{id}/commit`: the parts go into place, then `_SUCCESS`.
pub(crate) async fn commit(
    State(state): State<AppState>,
    UrlPath(id): UrlPath<String>,
) -> Result<Json<Value>, ApiError> {
    let (session, _in_use) = state.writes.begin(&id)?;
    let store = state.stores.store(session.dir.scheme)?;
    let staging = session.staging(&id);
    let staged = data_files(store, &staging).await?;
    let dir = &session.dir;
    if session.mode == Mode::Error && !data_files(store, dir).await?.is_empty() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("'{}' got data while this write ran; nothing was written (MODE overwrite or append)", session.path),
        ));
    }
    // Overwrite: the old files move aside (still recoverable if this fails)...
    let aside = staging.join(crate::storage::REPLACED);
    let old = if session.mode == Mode::Overwrite { existing_data(store, dir).await? } else { Vec::new() };
    if !old.is_empty() {
        store.mkdirs(&aside).await?;
        for f in &old {
            store.rename(&dir.join(&f.name), &aside.join(&f.name)).await?;
        }
        store.delete(&dir.join("_SUCCESS"), false).await?;
    }
    // ...the new ones move in (each rename is atomic)...
    let mut bytes = 0;
    let mut files = Vec::with_capacity(staged.len());
    for f in &staged {
        let target = dir.join(&f.name);
        if store.stat(&target).await?.is_some() {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                format!("{} already exists in '{}'", f.name, session.path),
            ));
        }
        store.rename(&staging.join(&f.name), &target).await?;
        bytes += f.size;
        files.push(f.name.clone());
    }
    // ...then _SUCCESS, and the staging area (with the replaced files) goes.
    store.write(&dir.join("_SUCCESS"), futures::stream::empty().boxed(), true).await?;
    // Other writes still staging into this directory keep their areas; what
    // a gateway that died mid-write left behind (no open session) goes.
    state.writes.remove(&id);
    let _ = store.delete(&staging, true).await;
    if let Ok(entries) = store.list(&session.temporary()).await {
        for entry in entries {
            if !state.writes.is_open(&entry.name) {
                let _ = store.delete(&session.temporary().join(&entry.name), true).await;
            }
        }
    }
    let _ = store.delete(&session.temporary(), false).await;
    let total = data_files(store, dir).await?.len();
    Ok(Json(
        json!({ "path": session.path, "files": files, "bytes": bytes, "replaced": old.len(), "total_files": total }),
    ))
}

/// `DELETE /api/fs/writes/{id}`: drop the staged files; the output is untouched.
pub(crate) async fn abort(
    State(state): State<AppState>,
    UrlPath(id): UrlPath<String>,
) -> Result<Json<Value>, ApiError> {
    let session = state.writes.begin(&id)?.0;
    let store = state.stores.store(session.dir.scheme)?;
    state.writes.remove(&id);
    discard(store, &session.dir, &id).await;
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
}
