//! Storage: the local data root (the embedded default).
//!
//! Every path is confined to its root: `..`, absolute escapes and symlinks
//! that lead out are refused with a clear error.

use std::io::SeekFrom;
use std::path::{Component, Path, PathBuf};

use anyhow::Context;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio_util::io::ReaderStream;

use crate::{ApiError, AppState};

/// The local filesystem under a root directory.
#[derive(Debug, Clone)]
pub struct LocalStore {
    root: PathBuf,
}

impl LocalStore {
    pub fn new(root: PathBuf) -> anyhow::Result<LocalStore> {
        let root =
            root.canonicalize().with_context(|| format!("the data directory {} does not exist", root.display()))?;
        Ok(LocalStore { root })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Maps a user's path (`file:///a/b`, `/a/b` or `a/b`) to a file under the root.
    pub fn resolve(&self, user_path: &str) -> Result<PathBuf, ApiError> {
        if let Some((scheme, _)) = user_path.split_once("://") {
            if scheme != "file" {
                return Err(ApiError::bad_request(format!(
                    "'{user_path}': {scheme}:// storage is not configured on this gateway; \
                     use a path under the data directory"
                )));
            }
        }
        let relative = user_path.strip_prefix("file://").unwrap_or(user_path);
        let mut path = self.root.clone();
        for component in Path::new(relative).components() {
            match component {
                Component::Normal(part) => path.push(part),
                Component::RootDir | Component::CurDir => {}
                Component::ParentDir | Component::Prefix(_) => {
                    return Err(ApiError::forbidden(format!(
                        "'{user_path}' leaves the data directory; paths may not use '..'"
                    )));
                }
            }
        }
        // A symlink inside the root may still point outside it.
        if let Ok(real) = path.canonicalize() {
            if !real.starts_with(&self.root) {
                return Err(ApiError::forbidden(format!("'{user_path}' leads out of the data directory")));
            }
        }
        Ok(path)
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct PathParams {
    path: String,
}

/// `GET /api/fs/parts?path=…`: the data files a reader should read. A file is
/// its own only part; a directory's parts are its data files by name, without
/// `_SUCCESS`, `_temporary` and hidden files, as Spark reads them.
pub(crate) async fn parts(
    State(state): State<AppState>,
    Query(params): Query<PathParams>,
) -> Result<Response, ApiError> {
    let path = state.local.resolve(&params.path)?;
    let meta = tokio::fs::metadata(&path)
        .await
        .map_err(|_| ApiError::not_found(format!("'{}' does not exist in the data directory", params.path)))?;
    let mut files = Vec::new();
    if meta.is_dir() {
        let mut entries = tokio::fs::read_dir(&path).await.map_err(internal)?;
        while let Some(entry) = entries.next_entry().await.map_err(internal)? {
            let name = entry.file_name().to_string_lossy().to_string();
            let meta = entry.metadata().await.map_err(internal)?;
            if meta.is_file() && riffle::paths::is_data_file(&name) {
                files.push((format!("{}/{name}", params.path.trim_end_matches('/')), meta.len()));
            }
        }
        files.sort();
        if files.is_empty() {
            return Err(ApiError::not_found(format!(
                "'{}' is a directory with no data files (only _SUCCESS, _temporary or hidden files, or nothing)",
                params.path
            )));
        }
    } else {
        files.push((params.path.clone(), meta.len()));
    }
    let files: Vec<serde_json::Value> =
        files.into_iter().map(|(path, size)| serde_json::json!({ "path": path, "size": size })).collect();
    Ok(axum::Json(serde_json::json!({ "files": files })).into_response())
}

fn internal(e: std::io::Error) -> ApiError {
    ApiError::new(axum::http::StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
}

#[derive(Debug, Deserialize)]
pub(crate) struct ReadParams {
    path: String,
    offset: Option<u64>,
    length: Option<u64>,
}

/// `GET /api/fs/read?path=…[&offset=…&length=…]`: a file's bytes, streamed.
pub(crate) async fn read(
    State(state): State<AppState>,
    Query(params): Query<ReadParams>,
) -> Result<Response, ApiError> {
    let path = state.local.resolve(&params.path)?;
    let not_found = || ApiError::not_found(format!("'{}' does not exist in the data directory", params.path));
    let meta = tokio::fs::metadata(&path).await.map_err(|_| not_found())?;
    if meta.is_dir() {
        return Err(ApiError::bad_request(format!("'{}' is a directory, not a file", params.path)));
    }
    let size = meta.len();
    let offset = params.offset.unwrap_or(0);
    if offset > size {
        return Err(ApiError::bad_request(format!(
            "offset {offset} is past the end of '{}' ({size} bytes)",
            params.path
        )));
    }
    let length = params.length.unwrap_or(size - offset).min(size - offset);
    let mut file = tokio::fs::File::open(&path).await.map_err(|_| not_found())?;
    file.seek(SeekFrom::Start(offset))
        .await
        .map_err(|e| ApiError::new(axum::http::StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    let body = Body::from_stream(ReaderStream::new(file.take(length)));
    Ok((
        [(header::CONTENT_TYPE, "application/octet-stream".to_string()), (header::CONTENT_LENGTH, length.to_string())],
        body,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_under_the_root() {
        let dir = std::env::temp_dir().join(format!("riffle-store-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("a")).unwrap();
        let store = LocalStore::new(dir.clone()).unwrap();
        let root = store.root().to_path_buf();
        assert_eq!(store.resolve("a/b.csv").unwrap(), root.join("a/b.csv"));
        assert_eq!(store.resolve("file:///a/b.csv").unwrap(), root.join("a/b.csv"));
        assert_eq!(store.resolve("/a/./b.csv").unwrap(), root.join("a/b.csv"));
        for bad in ["../etc/passwd", "a/../../x", "file:///../x"] {
            let e = store.resolve(bad).unwrap_err();
            assert_eq!(e.status, axum::http::StatusCode::FORBIDDEN, "{bad}");
        }
        assert_eq!(store.resolve("hdfs:///x").unwrap_err().status, axum::http::StatusCode::BAD_REQUEST);
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink("/", dir.join("escape")).unwrap();
            assert_eq!(store.resolve("escape/etc").unwrap_err().status, axum::http::StatusCode::FORBIDDEN);
        }
        std::fs::remove_dir_all(dir).unwrap();
    }
}
