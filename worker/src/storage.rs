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
        let root = root
            .canonicalize()
            .with_context(|| format!("the data directory {} does not exist", root.display()))?;
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
pub(crate) struct ReadParams {
    path: String,
    offset: Option<u64>,
    length: Option<u64>,
}

/// `GET /api/fs/read?path=…[&offset=…&length=…]`: a file's bytes, streamed.
pub(crate) async fn read(State(state): State<AppState>, Query(params): Query<ReadParams>) -> Result<Response, ApiError> {
    let path = state.local.resolve(&params.path)?;
    let not_found = || ApiError::not_found(format!("'{}' does not exist in the data directory", params.path));
    let meta = tokio::fs::metadata(&path).await.map_err(|_| not_found())?;
    if meta.is_dir() {
        return Err(ApiError::bad_request(format!("'{}' is a directory, not a file", params.path)));
    }
    let size = meta.len();
    let offset = params.offset.unwrap_or(0);
    if offset > size {
        return Err(ApiError::bad_request(format!("offset {offset} is past the end of '{}' ({size} bytes)", params.path)));
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
