//! `/api/fs/...`: the storage API the browser uses, the same over every backend.

use axum::Json;
use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Entry, Kind, Location, SizedBody, Store, data_files, new_id};
use crate::{ApiError, AppState, writes};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/roots", get(roots))
        .route("/list", get(list))
        .route("/stat", get(stat))
        .route("/summary", get(summary))
        .route("/read", get(read))
        .route("/parts", get(parts))
        .route("/files", put(upload).layer(DefaultBodyLimit::disable()))
        .route("/files", delete(remove))
        .route("/mkdir", post(mkdir))
        .route("/rename", post(rename))
        .route("/writes", post(writes::open))
        .route("/writes/{id}/parts/{name}", put(writes::put_part).layer(DefaultBodyLimit::disable()))
        .route("/writes/{id}/commit", post(writes::commit))
        .route("/writes/{id}", delete(writes::abort))
}

#[derive(Debug, Deserialize)]
pub(crate) struct PathParams {
    path: String,
}

async fn existing(store: &dyn Store, at: &Location, user: &str) -> Result<Entry, ApiError> {
    store.stat(at).await?.ok_or_else(|| ApiError::not_found(format!("'{user}' does not exist in {}", store.describe())))
}

/// `GET /api/fs/roots`: where the file browser starts.
async fn roots(State(state): State<AppState>) -> Json<Value> {
    let mut roots = vec![json!({
        "name": "local",
        "path": "",
        "label": "data directory",
        "detail": state.stores.local.root().display().to_string(),
    })];
    if let Some(hdfs) = &state.stores.hdfs {
        roots.push(json!({
            "name": "hdfs",
            "path": "hdfs:///",
            "label": "HDFS",
            "detail": format!("{} as {}", hdfs.url(), hdfs.user()),
        }));
    }
    Json(json!({ "roots": roots }))
}

/// `GET /api/fs/list?path=…`: a directory's entries, directories first.
async fn list(State(state): State<AppState>, Query(p): Query<PathParams>) -> Result<Json<Value>, ApiError> {
    let (at, store) = state.stores.locate(&p.path)?;
    let entry = existing(store, &at, &p.path).await?;
    if !entry.is_dir() {
        return Err(ApiError::bad_request(format!("'{}' is a file, not a directory", p.path)));
    }
    let mut entries = store.list(&at).await?;
    entries.sort_by(|a, b| (b.kind == Kind::Directory).cmp(&(a.kind == Kind::Directory)).then(a.name.cmp(&b.name)));
    Ok(Json(json!({ "path": at.to_string(), "entries": entries })))
}

/// `GET /api/fs/stat?path=…`
async fn stat(State(state): State<AppState>, Query(p): Query<PathParams>) -> Result<Json<Entry>, ApiError> {
    let (at, store) = state.stores.locate(&p.path)?;
    Ok(Json(existing(store, &at, &p.path).await?))
}

/// `GET /api/fs/summary?path=…`: files, directories and bytes under a path.
async fn summary(State(state): State<AppState>, Query(p): Query<PathParams>) -> Result<Json<Value>, ApiError> {
    let (at, store) = state.stores.locate(&p.path)?;
    existing(store, &at, &p.path).await?;
    let s = store.summary(&at).await?;
    Ok(Json(json!({ "path": at.to_string(), "files": s.files, "directories": s.directories, "bytes": s.bytes })))
}

/// `GET /api/fs/parts?path=…`: the data files a reader should read. A file is
/// its own only part; a directory's parts are its data files by name, without
/// `_SUCCESS`, `_temporary` and hidden files, as Spark reads them.
async fn parts(State(state): State<AppState>, Query(p): Query<PathParams>) -> Result<Json<Value>, ApiError> {
    let (at, store) = state.stores.locate(&p.path)?;
    let entry = existing(store, &at, &p.path).await?;
    let files = if entry.is_dir() {
        let files = data_files(store, &at).await?;
        if files.is_empty() {
            return Err(ApiError::not_found(format!(
                "'{}' is a directory with no data files (only _SUCCESS, _temporary or hidden files, or nothing)",
                p.path
            )));
        }
        files
    } else {
        vec![entry]
    };
    let files: Vec<Value> = files.into_iter().map(|f| json!({ "path": f.path, "size": f.size })).collect();
    Ok(Json(json!({ "files": files })))
}

#[derive(Debug, Deserialize)]
pub(crate) struct ReadParams {
    path: String,
    offset: Option<u64>,
    length: Option<u64>,
}

/// `GET /api/fs/read?path=…[&offset=…&length=…]`: a file's bytes, streamed.
/// `X-Riffle-Size` is the whole file's size, so a reader can ask for a footer.
async fn read(State(state): State<AppState>, Query(p): Query<ReadParams>) -> Result<Response, ApiError> {
    let (at, store) = state.stores.locate(&p.path)?;
    let entry = existing(store, &at, &p.path).await?;
    if entry.is_dir() {
        return Err(ApiError::bad_request(format!(
            "'{}' is a directory, not a file (read its part files with /api/fs/parts)",
            p.path
        )));
    }
    let size = entry.size;
    let offset = p.offset.unwrap_or(0);
    if offset > size {
        return Err(ApiError::bad_request(format!("offset {offset} is past the end of '{}' ({size} bytes)", p.path)));
    }
    let length = p.length.unwrap_or(size - offset).min(size - offset);
    let stream = store.read(&at, offset, length).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_string()),
            (header::CONTENT_LENGTH, length.to_string()),
            (header::HeaderName::from_static("x-riffle-size"), size.to_string()),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}

#[derive(Debug, Deserialize)]
pub(crate) struct UploadParams {
    path: String,
    #[serde(default)]
    overwrite: bool,
}

/// `PUT /api/fs/files?path=…[&overwrite=true]`: an upload. The bytes go to a
/// hidden name next to the target and are renamed into place once complete,
/// so a broken upload leaves nothing under the target's name. A body over
/// the upload limit is refused (413): a declared one before it is read, a
/// chunked one when it passes the limit, its staged bytes removed.
async fn upload(
    State(state): State<AppState>,
    Query(p): Query<UploadParams>,
    headers: axum::http::HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let (at, store) = state.stores.locate(&p.path)?;
    let what = format!("the upload of '{}'", p.path);
    let (stream, sized) = SizedBody::open(&headers, body, state.limits.max_upload_bytes, what)?;
    let parent = at.parent().ok_or_else(|| ApiError::bad_request("an upload needs a file name"))?;
    if !riffle::paths::is_data_file(at.name()) {
        return Err(ApiError::bad_request(format!(
            "'{}': names starting with '_' or '.' are hidden from readers; choose another name",
            p.path
        )));
    }
    match store.stat(&at).await? {
        Some(e) if e.is_dir() => {
            return Err(ApiError::new(StatusCode::CONFLICT, format!("'{}' is a directory", p.path)));
        }
        Some(_) if !p.overwrite => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                format!("'{}' already exists; upload with overwrite=true to replace it", p.path),
            ));
        }
        _ => {}
    }
    let id = new_id();
    let staged = parent.join(&format!(".{}.riffle-upload-{id}", at.name()));
    // Never debris while this request stages it.
    let _uploading = state.uploads.begin(&id);
    let bytes = match store.write(&staged, stream, false).await {
        Ok(b) => b,
        Err(e) => {
            let _ = store.delete(&staged, false).await;
            return Err(sized.explain(e));
        }
    };
    if p.overwrite {
        store.delete(&at, false).await?;
    }
    if let Err(e) = store.rename(&staged, &at).await {
        let _ = store.delete(&staged, false).await;
        return Err(e);
    }
    Ok((StatusCode::CREATED, Json(json!({ "path": at.to_string(), "bytes": bytes }))))
}

/// `POST /api/fs/mkdir?path=…`
async fn mkdir(
    State(state): State<AppState>,
    Query(p): Query<PathParams>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let (at, store) = state.stores.locate(&p.path)?;
    match store.stat(&at).await? {
        Some(e) if e.is_dir() => return Ok((StatusCode::OK, Json(json!({ "path": at.to_string() })))),
        Some(_) => return Err(ApiError::new(StatusCode::CONFLICT, format!("'{}' is a file", p.path))),
        None => {}
    }
    store.mkdirs(&at).await?;
    Ok((StatusCode::CREATED, Json(json!({ "path": at.to_string() }))))
}

#[derive(Debug, Deserialize)]
pub(crate) struct RenameParams {
    from: String,
    to: String,
}

/// `POST /api/fs/rename?from=…&to=…`: within one backend; never replaces.
async fn rename(State(state): State<AppState>, Query(p): Query<RenameParams>) -> Result<Json<Value>, ApiError> {
    let (from, store) = state.stores.locate(&p.from)?;
    let (to, _) = state.stores.locate(&p.to)?;
    if from.scheme != to.scheme {
        return Err(ApiError::bad_request(format!(
            "'{}' and '{}' are on different storage; a rename stays on one (copy with COPY ... TO instead)",
            p.from, p.to
        )));
    }
    if from.is_root() || to.is_root() {
        return Err(ApiError::bad_request("the root cannot be renamed, or replaced"));
    }
    if to.rel.starts_with(&format!("{}/", from.rel)) {
        return Err(ApiError::bad_request(format!("'{}' cannot move into itself", p.from)));
    }
    existing(store, &from, &p.from).await?;
    if let Some(parent) = to.parent() {
        store.mkdirs(&parent).await?;
    }
    store.rename(&from, &to).await?;
    Ok(Json(json!({ "from": from.to_string(), "to": to.to_string() })))
}

#[derive(Debug, Deserialize)]
pub(crate) struct DeleteParams {
    path: String,
    #[serde(default)]
    recursive: bool,
}

/// `DELETE /api/fs/files?path=…[&recursive=true]`
async fn remove(State(state): State<AppState>, Query(p): Query<DeleteParams>) -> Result<Json<Value>, ApiError> {
    let (at, store) = state.stores.locate(&p.path)?;
    if at.is_root() {
        return Err(ApiError::bad_request(format!(
            "'{}' is the root of {}; it cannot be deleted",
            p.path,
            store.describe()
        )));
    }
    let entry = existing(store, &at, &p.path).await?;
    if entry.is_dir() && !p.recursive {
        let inside = store.list(&at).await?.len();
        if inside > 0 {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                format!("'{}' is a directory with {inside} entries; delete it with recursive=true", p.path),
            ));
        }
    }
    store.delete(&at, p.recursive).await?;
    Ok(Json(json!({ "deleted": at.to_string() })))
}
