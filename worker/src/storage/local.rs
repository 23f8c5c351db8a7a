//! The local data root: the embedded default storage.
//!
//! Locations map to files under the root. A symlink inside the root that
//! leads out of it is refused, also for files that do not exist yet (the
//! nearest existing ancestor must resolve inside the root).

use std::io::SeekFrom;
use std::path::{Path, PathBuf};

use anyhow::Context;
use axum::http::StatusCode;
use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
use tokio_util::io::ReaderStream;

use super::{ByteStream, Entry, Kind, Location, Store, Summary};
use crate::ApiError;

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

    /// The file a location names, checked to stay under the root.
    pub fn path(&self, at: &Location) -> Result<PathBuf, ApiError> {
        let path = if at.rel.is_empty() { self.root.clone() } else { self.root.join(&at.rel) };
        // The nearest existing ancestor (the path itself when it exists) must
        // resolve inside the root: a symlink may point anywhere.
        let mut probe = path.as_path();
        loop {
            match probe.canonicalize() {
                Ok(real) => {
                    if !real.starts_with(&self.root) {
                        return Err(ApiError::forbidden(format!(
                            "'{at}' leads out of the data directory through a symbolic link"
                        )));
                    }
                    break;
                }
                Err(_) => match probe.parent() {
                    Some(parent) if parent.starts_with(&self.root) => probe = parent,
                    _ => break,
                },
            }
        }
        Ok(path)
    }

    /// The file a location names, with its last component not followed: the
    /// parent must resolve inside the root, and a symbolic link at the name
    /// itself is the link, not what it points at. For operations on the
    /// name: writing a file there (the link is replaced, never written
    /// through) and deleting it (the link goes, its target stays).
    fn path_of_name(&self, at: &Location) -> Result<PathBuf, ApiError> {
        match at.parent() {
            Some(parent) => {
                self.path(&parent)?;
                Ok(self.root.join(&at.rel))
            }
            None => self.path(at),
        }
    }

    async fn entry(&self, at: &Location, path: &Path) -> Result<Option<Entry>, ApiError> {
        let meta = match tokio::fs::metadata(path).await {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_error(at, e)),
        };
        Ok(Some(entry_of(at, &meta)))
    }
}

fn entry_of(at: &Location, meta: &std::fs::Metadata) -> Entry {
    let modified_ms = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    let kind = if meta.is_dir() { Kind::Directory } else { Kind::File };
    Entry::new(at, kind, if meta.is_dir() { 0 } else { meta.len() }, modified_ms)
}

fn io_error(at: &Location, e: std::io::Error) -> ApiError {
    use std::io::ErrorKind::*;
    let status = match e.kind() {
        NotFound => StatusCode::NOT_FOUND,
        PermissionDenied => StatusCode::FORBIDDEN,
        AlreadyExists | DirectoryNotEmpty => StatusCode::CONFLICT,
        StorageFull => StatusCode::INSUFFICIENT_STORAGE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    ApiError::new(status, format!("'{at}' in the data directory: {e}"))
}

impl Store for LocalStore {
    fn describe(&self) -> String {
        format!("the data directory {}", self.root.display())
    }

    fn stat<'a>(&'a self, at: &'a Location) -> BoxFuture<'a, Result<Option<Entry>, ApiError>> {
        async move {
            let path = self.path(at)?;
            self.entry(at, &path).await
        }
        .boxed()
    }

    fn list<'a>(&'a self, at: &'a Location) -> BoxFuture<'a, Result<Vec<Entry>, ApiError>> {
        async move {
            let path = self.path(at)?;
            let mut entries = tokio::fs::read_dir(&path).await.map_err(|e| io_error(at, e))?;
            let mut out = Vec::new();
            while let Some(entry) = entries.next_entry().await.map_err(|e| io_error(at, e))? {
                let name = entry.file_name().to_string_lossy().to_string();
                let child = at.join(&name);
                // Symlinks are followed when they stay inside the root.
                let Ok(meta) = tokio::fs::metadata(entry.path()).await else { continue };
                if self.path(&child).is_err() {
                    continue;
                }
                out.push(entry_of(&child, &meta));
            }
            Ok(out)
        }
        .boxed()
    }

    fn read<'a>(&'a self, at: &'a Location, offset: u64, length: u64) -> BoxFuture<'a, Result<ByteStream, ApiError>> {
        async move {
            let path = self.path(at)?;
            let mut file = tokio::fs::File::open(&path).await.map_err(|e| io_error(at, e))?;
            file.seek(SeekFrom::Start(offset)).await.map_err(|e| io_error(at, e))?;
            Ok(ReaderStream::new(file.take(length)).boxed())
        }
        .boxed()
    }

    fn write<'a>(
        &'a self,
        at: &'a Location,
        mut body: ByteStream,
        overwrite: bool,
    ) -> BoxFuture<'a, Result<u64, ApiError>> {
        async move {
            let path = self.path_of_name(at)?;
            if let Some(parent) = path.parent() {
                tokio::fs::create_dir_all(parent).await.map_err(|e| io_error(at, e))?;
                // Created just now through links that may lead anywhere: check again.
                self.path_of_name(at)?;
            }
            // Never opened through a symbolic link (a dangling `_SUCCESS`
            // link would create its target wherever it points): an overwrite
            // unlinks what is there, file or link, and every file is created
            // new, O_CREAT|O_EXCL, which does not follow a link at the name.
            if overwrite {
                match tokio::fs::symlink_metadata(&path).await {
                    Ok(meta) if meta.is_dir() => {
                        return Err(ApiError::new(StatusCode::CONFLICT, format!("'{at}' is a directory")));
                    }
                    Ok(_) => match tokio::fs::remove_file(&path).await {
                        Ok(()) => {}
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                        Err(e) => return Err(io_error(at, e)),
                    },
                    Err(_) => {}
                }
            }
            let mut options = tokio::fs::OpenOptions::new();
            options.write(true).create_new(true);
            let mut out = options.open(&path).await.map_err(|e| io_error(at, e))?;
            let mut bytes = 0u64;
            while let Some(chunk) = body.next().await {
                let chunk = chunk.map_err(|e| {
                    ApiError::bad_request(format!("the upload of '{at}' broke off after {bytes} bytes: {e}"))
                })?;
                out.write_all(&chunk).await.map_err(|e| io_error(at, e))?;
                bytes += chunk.len() as u64;
            }
            out.flush().await.map_err(|e| io_error(at, e))?;
            out.sync_all().await.map_err(|e| io_error(at, e))?;
            Ok(bytes)
        }
        .boxed()
    }

    fn mkdirs<'a>(&'a self, at: &'a Location) -> BoxFuture<'a, Result<(), ApiError>> {
        async move {
            let path = self.path(at)?;
            tokio::fs::create_dir_all(&path).await.map_err(|e| io_error(at, e))
        }
        .boxed()
    }

    fn rename<'a>(&'a self, from: &'a Location, to: &'a Location) -> BoxFuture<'a, Result<(), ApiError>> {
        async move {
            let source = self.path(from)?;
            let target = self.path(to)?;
            // rename(2) replaces an existing file; the API does not.
            if tokio::fs::symlink_metadata(&target).await.is_ok() {
                return Err(ApiError::new(StatusCode::CONFLICT, format!("'{to}' already exists")));
            }
            tokio::fs::rename(&source, &target).await.map_err(|e| io_error(from, e))
        }
        .boxed()
    }

    fn delete<'a>(&'a self, at: &'a Location, recursive: bool) -> BoxFuture<'a, Result<bool, ApiError>> {
        async move {
            // A link at the name is deleted itself; what it points at stays.
            let path = self.path_of_name(at)?;
            let meta = match tokio::fs::symlink_metadata(&path).await {
                Ok(m) => m,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
                Err(e) => return Err(io_error(at, e)),
            };
            let result = if !meta.is_dir() {
                tokio::fs::remove_file(&path).await
            } else if recursive {
                tokio::fs::remove_dir_all(&path).await
            } else {
                tokio::fs::remove_dir(&path).await
            };
            result.map_err(|e| io_error(at, e))?;
            Ok(true)
        }
        .boxed()
    }

    fn summary<'a>(&'a self, at: &'a Location) -> BoxFuture<'a, Result<Summary, ApiError>> {
        async move {
            let path = self.path(at)?;
            let meta = tokio::fs::metadata(&path).await.map_err(|e| io_error(at, e))?;
            let mut summary = Summary::default();
            if !meta.is_dir() {
                summary.files = 1;
                summary.bytes = meta.len();
                return Ok(summary);
            }
            let mut stack = vec![path];
            while let Some(dir) = stack.pop() {
                summary.directories += 1;
                let mut entries = tokio::fs::read_dir(&dir).await.map_err(|e| io_error(at, e))?;
                while let Some(entry) = entries.next_entry().await.map_err(|e| io_error(at, e))? {
                    // Not followed: a symlink counts as what it is, not what it points at.
                    let Ok(meta) = entry.metadata().await else { continue };
                    if meta.is_dir() {
                        stack.push(entry.path());
                    } else {
                        summary.files += 1;
                        summary.bytes += meta.len();
                    }
                }
            }
            Ok(summary)
        }
        .boxed()
    }
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
        let path = |p: &str| store.path(&Location::parse(p).unwrap());
        assert_eq!(path("a/b.csv").unwrap(), root.join("a/b.csv"));
        assert_eq!(path("file:///a/b.csv").unwrap(), root.join("a/b.csv"));
        assert_eq!(path("/a/./b.csv").unwrap(), root.join("a/b.csv"));
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink("/", dir.join("escape")).unwrap();
            // Existing or not, anything through the link is refused.
            for bad in ["escape/etc", "escape/nonexistent/file", "escape"] {
                assert_eq!(path(bad).unwrap_err().status, StatusCode::FORBIDDEN, "{bad}");
            }
            std::os::unix::fs::symlink(dir.join("a"), dir.join("inside")).unwrap();
            assert!(path("inside/x").is_ok());
        }
        std::fs::remove_dir_all(dir).unwrap();
    }
}
