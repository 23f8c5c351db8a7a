//! Storage: one API over the local data root (the embedded default) and HDFS
//! (WebHDFS).
//!
//! A user's path names its backend: `hdfs:///a/b` (or `hdfs://host:8020/a/b`,
//! whose authority is taken to mean the configured NameNode) is HDFS;
//! `file:///a/b`, `/a/b` and `a/b` are the local data root. Every path is
//! normalised to components under the backend's root before any backend sees
//! it: `..` is refused here, once, for both; the local backend also refuses
//! symlinks that lead out of its root. Only the operations below exist; no
//! WebHDFS operation is passed through.

mod debris;
mod handlers;
mod limits;
mod local;
mod webhdfs;

use std::fmt;

use bytes::Bytes;
use futures::future::BoxFuture;
use futures::stream::BoxStream;
use serde::Serialize;

use crate::ApiError;

pub(crate) use debris::{REPLACED, Swept, Uploads, sweep as sweep_debris};
pub(crate) use handlers::routes;
pub(crate) use limits::SizedBody;
pub use limits::{DEFAULT_MAX_UPLOAD_BYTES, StorageLimits};
pub use local::LocalStore;
pub use webhdfs::{HdfsConfig, WebHdfs};

/// A file's bytes as they arrive.
pub(crate) type ByteStream = BoxStream<'static, Result<Bytes, std::io::Error>>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scheme {
    Local,
    Hdfs,
}

/// A normalised path: a backend and the components under its root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub scheme: Scheme,
    /// `a/b`; empty for the root. Never holds `.`, `..` or empty components.
    pub rel: String,
}

impl Location {
    /// Reads a user's path. Refuses `..` (on every backend) and unknown schemes.
    pub fn parse(user: &str) -> Result<Location, ApiError> {
        // `hdfs:/a/b` and `file:/a/b`: URIs without an authority, as Hadoop
        // prints them. Never a local directory named `hdfs:`.
        if let Some((scheme, rest)) = user.split_once(':')
            && ["hdfs", "webhdfs", "file"].iter().any(|s| s.eq_ignore_ascii_case(scheme))
            && !rest.starts_with("//")
        {
            if !rest.starts_with('/') {
                return Err(ApiError::bad_request(format!(
                    "'{user}': write {}:///{rest} (an absolute path)",
                    scheme.to_ascii_lowercase()
                )));
            }
            return Location::parse(&format!("{scheme}://{rest}"));
        }
        let (scheme, rest) = match user.split_once("://") {
            Some((scheme, rest)) => {
                let (authority, path) = match rest.find('/') {
                    Some(i) => (&rest[..i], &rest[i..]),
                    None => (rest, ""),
                };
                match scheme.to_ascii_lowercase().as_str() {
                    "hdfs" | "webhdfs" => (Scheme::Hdfs, path),
                    "file" if authority.is_empty() || authority.eq_ignore_ascii_case("localhost") => {
                        (Scheme::Local, path)
                    }
                    "file" => {
                        return Err(ApiError::bad_request(format!(
                            "'{user}': file:// paths name this machine; write file:///{}",
                            path.trim_start_matches('/')
                        )));
                    }
                    other => {
                        return Err(ApiError::bad_request(format!(
                            "'{user}': {other}:// storage is not supported; use hdfs:///path, file:///path \
                             or a path under the data directory"
                        )));
                    }
                }
            }
            None => (Scheme::Local, user),
        };
        let mut parts = Vec::new();
        for part in rest.split(['/', '\\']) {
            match part {
                "" | "." => {}
                ".." => {
                    return Err(ApiError::forbidden(format!(
                        "'{user}' leaves {}; paths may not use '..'",
                        scheme.root_name()
                    )));
                }
                p if p.contains('\0') => {
                    return Err(ApiError::bad_request(format!("'{user}' holds a NUL character")));
                }
                p => parts.push(p),
            }
        }
        Ok(Location { scheme, rel: parts.join("/") })
    }

    pub fn is_root(&self) -> bool {
        self.rel.is_empty()
    }

    pub fn join(&self, name: &str) -> Location {
        let rel = if self.rel.is_empty() { name.to_string() } else { format!("{}/{name}", self.rel) };
        Location { scheme: self.scheme, rel }
    }

    pub fn parent(&self) -> Option<Location> {
        if self.rel.is_empty() {
            return None;
        }
        let rel = self.rel.rsplit_once('/').map(|(p, _)| p.to_string()).unwrap_or_default();
        Some(Location { scheme: self.scheme, rel })
    }

    pub fn name(&self) -> &str {
        self.rel.rsplit('/').next().unwrap_or_default()
    }
}

/// The canonical way to write a location: `a/b` locally, `hdfs:///a/b` on HDFS.
impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.scheme {
            Scheme::Local => f.write_str(&self.rel),
            Scheme::Hdfs => write!(f, "hdfs:///{}", self.rel),
        }
    }
}

impl Scheme {
    pub fn root_name(self) -> &'static str {
        match self {
            Scheme::Local => "the data directory",
            Scheme::Hdfs => "the HDFS root",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    File,
    Directory,
}

/// What `stat` and `list` tell about a file or directory.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    pub name: String,
    /// Canonical, ready to pass back.
    pub path: String,
    pub kind: Kind,
    pub size: u64,
    /// Milliseconds since the Unix epoch.
    pub modified_ms: i64,
    /// Not Spark bookkeeping (`_SUCCESS`, `_temporary`, hidden files).
    pub data: bool,
}

impl Entry {
    pub fn new(at: &Location, kind: Kind, size: u64, modified_ms: i64) -> Entry {
        let name = at.name().to_string();
        Entry { data: riffle::paths::is_data_file(&name), name, path: at.to_string(), kind, size, modified_ms }
    }

    pub fn is_dir(&self) -> bool {
        self.kind == Kind::Directory
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub files: u64,
    pub directories: u64,
    pub bytes: u64,
}

/// What a storage backend does. Locations come already normalised; each
/// backend maps them under its own root. Errors are written for the user and
/// name the path as they would write it.
pub(crate) trait Store: Send + Sync {
    /// For messages: "the data directory", "HDFS at http://…".
    fn describe(&self) -> String;

    /// `None` when nothing is there.
    fn stat<'a>(&'a self, at: &'a Location) -> BoxFuture<'a, Result<Option<Entry>, ApiError>>;

    /// A directory's entries, in no particular order.
    fn list<'a>(&'a self, at: &'a Location) -> BoxFuture<'a, Result<Vec<Entry>, ApiError>>;

    /// `length` bytes from `offset` of a file the caller has checked exists.
    fn read<'a>(&'a self, at: &'a Location, offset: u64, length: u64) -> BoxFuture<'a, Result<ByteStream, ApiError>>;

    /// Streams `body` into a new file (parent directories are created).
    /// Without `overwrite`, an existing file is a conflict. Returns the bytes written.
    fn write<'a>(&'a self, at: &'a Location, body: ByteStream, overwrite: bool)
    -> BoxFuture<'a, Result<u64, ApiError>>;

    /// Creates a directory and its parents; fine if it exists.
    fn mkdirs<'a>(&'a self, at: &'a Location) -> BoxFuture<'a, Result<(), ApiError>>;

    /// Moves a file or directory; the target must not exist and its parent must.
    fn rename<'a>(&'a self, from: &'a Location, to: &'a Location) -> BoxFuture<'a, Result<(), ApiError>>;

    /// Deletes a file, or a directory (a non-empty one only when `recursive`).
    /// `false` when nothing was there.
    fn delete<'a>(&'a self, at: &'a Location, recursive: bool) -> BoxFuture<'a, Result<bool, ApiError>>;

    /// Files, directories and bytes under a path.
    fn summary<'a>(&'a self, at: &'a Location) -> BoxFuture<'a, Result<Summary, ApiError>>;
}

/// The configured backends.
pub struct Stores {
    pub(crate) local: LocalStore,
    pub(crate) hdfs: Option<WebHdfs>,
}

impl Stores {
    pub fn new(local: LocalStore, hdfs: Option<WebHdfs>) -> Stores {
        Stores { local, hdfs }
    }

    /// A user's path and the backend it lives on.
    pub(crate) fn locate(&self, user: &str) -> Result<(Location, &dyn Store), ApiError> {
        let at = Location::parse(user)?;
        let store = self.store(at.scheme).map_err(|e| ApiError::new(e.status, format!("'{user}': {}", e.message)))?;
        Ok((at, store))
    }

    pub(crate) fn store(&self, scheme: Scheme) -> Result<&dyn Store, ApiError> {
        match scheme {
            Scheme::Local => Ok(&self.local),
            Scheme::Hdfs => match &self.hdfs {
                Some(h) => Ok(h),
                None => Err(ApiError::bad_request(
                    "hdfs:// storage is not configured on this gateway: start it with \
                     --hdfs http://<namenode>:9870 (or RIFFLE_HDFS); `cargo xtask hdfs` runs one locally",
                )),
            },
        }
    }
}

/// The data files of a Spark output directory, by name (or the file itself).
pub(crate) async fn data_files(store: &dyn Store, dir: &Location) -> Result<Vec<Entry>, ApiError> {
    let mut files: Vec<Entry> = store.list(dir).await?.into_iter().filter(|e| e.kind == Kind::File && e.data).collect();
    files.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(files)
}

/// A random hex id for write sessions and staged uploads.
pub(crate) fn new_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0));
    let a = h.finish();
    h.write_u64(a);
    format!("{a:016x}{:016x}", h.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::StatusCode;

    fn at(user: &str) -> (Scheme, String) {
        let l = Location::parse(user).unwrap();
        (l.scheme, l.rel)
    }

    #[test]
    fn paths_name_their_backend() {
        assert_eq!(at("a/b.csv"), (Scheme::Local, "a/b.csv".into()));
        assert_eq!(at("/a/./b.csv"), (Scheme::Local, "a/b.csv".into()));
        assert_eq!(at("file:///a//b.csv"), (Scheme::Local, "a/b.csv".into()));
        assert_eq!(at("hdfs:///tmp/purchases/"), (Scheme::Hdfs, "tmp/purchases".into()));
        assert_eq!(at("hdfs://namenode:8020/tmp/x"), (Scheme::Hdfs, "tmp/x".into()));
        assert_eq!(at("hdfs:///"), (Scheme::Hdfs, String::new()));
        assert_eq!(at(""), (Scheme::Local, String::new()));
        // Without an authority, as Hadoop prints paths.
        assert_eq!(at("hdfs:/tmp/x"), (Scheme::Hdfs, "tmp/x".into()));
        assert_eq!(at("HDFS:/tmp/x"), (Scheme::Hdfs, "tmp/x".into()));
        assert_eq!(at("file:/a/b.csv"), (Scheme::Local, "a/b.csv".into()));
        assert_eq!(Location::parse("hdfs:tmp/x").unwrap_err().status, StatusCode::BAD_REQUEST);
        assert_eq!(Location::parse("hdfs:/../x").unwrap_err().status, StatusCode::FORBIDDEN);
        // A colon elsewhere is part of a local name.
        assert_eq!(at("a/b:c.csv"), (Scheme::Local, "a/b:c.csv".into()));
    }

    #[test]
    fn dot_dot_is_refused_everywhere() {
        for bad in ["../etc/passwd", "a/../../x", "file:///../x", "hdfs:///../x", "hdfs:///a/../../etc", "a\\..\\x"] {
            let e = Location::parse(bad).unwrap_err();
            assert_eq!(e.status, StatusCode::FORBIDDEN, "{bad}");
            assert!(e.message.contains(bad), "{}", e.message);
        }
        assert_eq!(Location::parse("s3://bucket/x").unwrap_err().status, StatusCode::BAD_REQUEST);
        assert_eq!(Location::parse("file://elsewhere/x").unwrap_err().status, StatusCode::BAD_REQUEST);
    }

    #[test]
    fn locations_print_canonically() {
        let l = Location::parse("hdfs://nn:8020/tmp/x").unwrap();
        assert_eq!(l.to_string(), "hdfs:///tmp/x");
        assert_eq!(l.join("_SUCCESS").to_string(), "hdfs:///tmp/x/_SUCCESS");
        assert_eq!(l.parent().unwrap().to_string(), "hdfs:///tmp");
        assert_eq!(Location::parse("file:///a/b").unwrap().to_string(), "a/b");
        assert_eq!(Location::parse("a").unwrap().parent().unwrap().to_string(), "");
    }

    #[test]
    fn ids_differ() {
        assert_ne!(new_id(), new_id());
        assert_eq!(new_id().len(), 32);
    }
}
