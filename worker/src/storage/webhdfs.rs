//! HDFS over WebHDFS (the NameNode's REST API, port 9870 by default).
//!
//! Reads and writes take two steps: the NameNode answers `307` with a
//! DataNode's address, and the bytes go there. The gateway follows the
//! redirect itself and streams the bytes through, so the browser never sees
//! a DataNode address (in docker-compose setups those are container names
//! only the cluster can resolve).

use std::time::Duration;

use axum::http::StatusCode;
use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt, TryStreamExt};
use reqwest::{Method, Url};
use serde::Deserialize;
use serde_json::Value;

use super::{ByteStream, Entry, Kind, Location, Store, Summary};
use crate::ApiError;

/// Where HDFS is and who the gateway is to it.
#[derive(Debug, Clone)]
pub struct HdfsConfig {
    /// The NameNode's HTTP address, e.g. `http://namenode:9870`.
    pub url: String,
    /// Sent as `user.name` (simple authentication).
    pub user: String,
    /// The HDFS directory `hdfs:///` maps to; paths cannot leave it.
    pub root: String,
}

impl HdfsConfig {
    pub fn new(url: impl Into<String>) -> HdfsConfig {
        HdfsConfig { url: url.into(), user: "riffle".into(), root: "/".into() }
    }
}

/// A WebHDFS client confined to a root directory.
#[derive(Debug, Clone)]
pub struct WebHdfs {
    base: Url,
    user: String,
    /// Absolute, normalised, without a trailing slash ("" for `/`).
    root: String,
    /// Metadata calls: bounded.
    client: reqwest::Client,
    /// Data transfers: no overall deadline (a 10 GB read takes what it takes).
    data_client: reqwest::Client,
}

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const CALL_TIMEOUT: Duration = Duration::from_secs(30);

impl WebHdfs {
    pub fn new(config: HdfsConfig) -> anyhow::Result<WebHdfs> {
        let mut url = config.url.trim_end_matches('/').to_string();
        if !url.contains("://") {
            url = format!("http://{url}");
        }
        let base = Url::parse(&format!("{url}/"))
            .map_err(|e| anyhow::anyhow!("--hdfs {}: not a URL such as http://namenode:9870 ({e})", config.url))?;
        if base.scheme() != "http" {
            anyhow::bail!("--hdfs {}: WebHDFS over http:// is supported (not {})", config.url, base.scheme());
        }
        let root = Location::parse(&format!("hdfs://{}", config.root))
            .map_err(|e| anyhow::anyhow!("--hdfs-root {}: {}", config.root, e.message))?;
        let root = if root.rel.is_empty() { String::new() } else { format!("/{}", root.rel) };
        let build = |timeout: Option<Duration>| {
            let mut b = reqwest::Client::builder()
                .connect_timeout(CONNECT_TIMEOUT)
                // 307s are followed by hand: the NameNode's answer carries errors too.
                .redirect(reqwest::redirect::Policy::none());
            if let Some(t) = timeout {
                b = b.timeout(t);
            }
            b.build()
        };
        Ok(WebHdfs { base, user: config.user, root, client: build(Some(CALL_TIMEOUT))?, data_client: build(None)? })
    }

    pub fn url(&self) -> &str {
        self.base.as_str().trim_end_matches('/')
    }

    pub fn user(&self) -> &str {
        &self.user
    }

    /// The absolute HDFS path of a location.
    fn hdfs_path(&self, at: &Location) -> String {
        if at.rel.is_empty() {
            if self.root.is_empty() { "/".into() } else { self.root.clone() }
        } else {
            format!("{}/{}", self.root, at.rel)
        }
    }

    fn op_url(&self, at: &Location, op: &str, params: &[(&str, String)]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.pop_if_empty().push("webhdfs").push("v1");
            for part in self.hdfs_path(at).split('/').filter(|p| !p.is_empty()) {
                segments.push(part);
            }
            if at.rel.is_empty() && self.root.is_empty() {
                // `/webhdfs/v1/` names the root.
                segments.push("");
            }
        }
        {
            let mut query = url.query_pairs_mut();
            query.append_pair("op", op).append_pair("user.name", &self.user);
            for (k, v) in params {
                query.append_pair(k, v);
            }
        }
        url
    }

    /// The message when the NameNode (or a DataNode) cannot be reached.
    fn unreachable(&self, what: &str, e: &reqwest::Error) -> ApiError {
        let why = if e.is_timeout() {
            "it did not answer in time".to_string()
        } else if e.is_connect() {
            format!("could not connect ({})", root_cause(e))
        } else {
            root_cause(e)
        };
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "HDFS {what} at {} is not reachable: {why}. Start HDFS (`cargo xtask hdfs` or scripts/hdfs.sh start) \
                 or point the gateway at your NameNode's HTTP address with --hdfs (RIFFLE_HDFS)",
                self.url()
            ),
        )
    }

    /// One NameNode call: its JSON answer, or its error for the user.
    async fn call(
        &self,
        method: Method,
        at: &Location,
        op: &str,
        params: &[(&str, String)],
    ) -> Result<Value, ApiError> {
        let url = self.op_url(at, op, params);
        let response = self.client.request(method, url).send().await.map_err(|e| self.unreachable("NameNode", &e))?;
        let status = response.status();
        let body = response.bytes().await.map_err(|e| self.unreachable("NameNode", &e))?;
        if status.is_success() {
            return serde_json::from_slice(&body).or(Ok(Value::Null));
        }
        Err(self.remote_error(at, status, &body))
    }

    /// Follows the NameNode's redirect for OPEN and CREATE: the DataNode URL.
    async fn redirect(
        &self,
        method: Method,
        at: &Location,
        op: &str,
        params: &[(&str, String)],
    ) -> Result<Url, ApiError> {
        let url = self.op_url(at, op, params);
        let response = self.client.request(method, url).send().await.map_err(|e| self.unreachable("NameNode", &e))?;
        let status = response.status();
        if status.is_redirection() {
            let location = response.headers().get(reqwest::header::LOCATION).and_then(|l| l.to_str().ok());
            return location.and_then(|l| Url::parse(l).ok()).ok_or_else(|| {
                ApiError::new(StatusCode::BAD_GATEWAY, format!("HDFS redirected {op} of '{at}' to nowhere"))
            });
        }
        let body = response.bytes().await.map_err(|e| self.unreachable("NameNode", &e))?;
        if status.is_success() {
            // `noredirect` style answers: {"Location": "..."}
            let value: Value = serde_json::from_slice(&body).unwrap_or_default();
            if let Some(l) = value["Location"].as_str().and_then(|l| Url::parse(l).ok()) {
                return Ok(l);
            }
            return Err(ApiError::new(
                StatusCode::BAD_GATEWAY,
                format!("HDFS answered {op} of '{at}' without sending it to a DataNode"),
            ));
        }
        Err(self.remote_error(at, status, &body))
    }

    fn datanode_unreachable(&self, at: &Location, url: &Url, e: &reqwest::Error) -> ApiError {
        let host = format!("{}:{}", url.host_str().unwrap_or("?"), url.port_or_known_default().unwrap_or(0));
        ApiError::new(
            StatusCode::BAD_GATEWAY,
            format!(
                "HDFS sent '{at}' to the DataNode {host}, which this gateway cannot reach ({}). When HDFS runs \
                 in Docker, the DataNode's HTTP port (9864) must be published and its hostname must resolve here",
                root_cause(e)
            ),
        )
    }

    /// An HDFS error answer, as a message for the user.
    fn remote_error(&self, at: &Location, status: reqwest::StatusCode, body: &[u8]) -> ApiError {
        #[derive(Deserialize, Default)]
        #[serde(rename_all = "camelCase")]
        struct Remote {
            exception: String,
            message: String,
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct Wrapper {
            remote_exception: Remote,
        }
        let remote = serde_json::from_slice::<Wrapper>(body).map(|w| w.remote_exception).unwrap_or_else(|_| Remote {
            exception: String::new(),
            message: String::from_utf8_lossy(body).chars().take(300).collect(),
        });
        let (code, text) = match remote.exception.as_str() {
            "FileNotFoundException" => (StatusCode::NOT_FOUND, format!("'{at}' does not exist in HDFS")),
            "FileAlreadyExistsException" => (StatusCode::CONFLICT, format!("'{at}' already exists in HDFS")),
            "PathIsNotEmptyDirectoryException" => (
                StatusCode::CONFLICT,
                format!("'{at}' is a directory that is not empty; delete it with recursive=true"),
            ),
            "AccessControlException" => {
                (StatusCode::FORBIDDEN, format!("HDFS refused '{at}' to user {}: {}", self.user, remote.message))
            }
            "SafeModeException" | "RetriableException" => (
                StatusCode::SERVICE_UNAVAILABLE,
                format!("HDFS is in safe mode (still starting?); try again in a few seconds: {}", remote.message),
            ),
            "ParentNotDirectoryException" => {
                (StatusCode::CONFLICT, format!("a parent of '{at}' is a file, not a directory"))
            }
            _ => (
                if status == reqwest::StatusCode::NOT_FOUND { StatusCode::NOT_FOUND } else { StatusCode::BAD_GATEWAY },
                format!(
                    "HDFS failed on '{at}' ({} {}): {}",
                    status.as_u16(),
                    remote.exception,
                    remote.message.lines().next().unwrap_or_default()
                ),
            ),
        };
        ApiError::new(code, text)
    }

    fn entry(&self, at: &Location, status: &Value) -> Entry {
        let kind = if status["type"] == "DIRECTORY" { Kind::Directory } else { Kind::File };
        Entry::new(at, kind, status["length"].as_u64().unwrap_or(0), status["modificationTime"].as_i64().unwrap_or(0))
    }

    fn boolean(value: &Value) -> bool {
        value["boolean"].as_bool().unwrap_or(false)
    }
}

fn root_cause(e: &reqwest::Error) -> String {
    let mut source: &dyn std::error::Error = e;
    while let Some(next) = source.source() {
        source = next;
    }
    source.to_string()
}

impl Store for WebHdfs {
    fn describe(&self) -> String {
        format!("HDFS at {}", self.url())
    }

    fn stat<'a>(&'a self, at: &'a Location) -> BoxFuture<'a, Result<Option<Entry>, ApiError>> {
        async move {
            match self.call(Method::GET, at, "GETFILESTATUS", &[]).await {
                Ok(v) => Ok(Some(self.entry(at, &v["FileStatus"]))),
                Err(e) if e.status == StatusCode::NOT_FOUND => Ok(None),
                Err(e) => Err(e),
            }
        }
        .boxed()
    }

    fn list<'a>(&'a self, at: &'a Location) -> BoxFuture<'a, Result<Vec<Entry>, ApiError>> {
        async move {
            let value = self.call(Method::GET, at, "LISTSTATUS", &[]).await?;
            let statuses = value["FileStatuses"]["FileStatus"].as_array().cloned().unwrap_or_default();
            // LISTSTATUS of a file lists the file itself, with an empty suffix.
            if statuses.len() == 1 && statuses[0]["pathSuffix"].as_str() == Some("") {
                return Err(ApiError::bad_request(format!("'{at}' is a file, not a directory")));
            }
            Ok(statuses
                .iter()
                .filter_map(|s| {
                    let name = s["pathSuffix"].as_str().filter(|n| !n.is_empty())?;
                    Some(self.entry(&at.join(name), s))
                })
                .collect())
        }
        .boxed()
    }

    fn read<'a>(&'a self, at: &'a Location, offset: u64, length: u64) -> BoxFuture<'a, Result<ByteStream, ApiError>> {
        async move {
            if length == 0 {
                return Ok(futures::stream::empty().boxed());
            }
            let params = [("offset", offset.to_string()), ("length", length.to_string())];
            let datanode = self.redirect(Method::GET, at, "OPEN", &params).await?;
            let response = self
                .data_client
                .get(datanode.clone())
                .send()
                .await
                .map_err(|e| self.datanode_unreachable(at, &datanode, &e))?;
            if !response.status().is_success() {
                let status = response.status();
                let body = response.bytes().await.unwrap_or_default();
                return Err(self.remote_error(at, status, &body));
            }
            Ok(response.bytes_stream().map_err(std::io::Error::other).boxed())
        }
        .boxed()
    }

    fn write<'a>(
        &'a self,
        at: &'a Location,
        body: ByteStream,
        overwrite: bool,
    ) -> BoxFuture<'a, Result<u64, ApiError>> {
        async move {
            let params = [("overwrite", overwrite.to_string())];
            let datanode = self.redirect(Method::PUT, at, "CREATE", &params).await?;
            let counted = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
            let counter = counted.clone();
            let body = body.inspect_ok(move |chunk| {
                counter.fetch_add(chunk.len() as u64, std::sync::atomic::Ordering::Relaxed);
            });
            let response = self
                .data_client
                .put(datanode.clone())
                .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
                .body(reqwest::Body::wrap_stream(body))
                .send()
                .await
                .map_err(|e| {
                    if e.is_body() || e.is_request() {
                        ApiError::bad_request(format!(
                            "the upload of '{at}' broke off after {} bytes: {}",
                            counted.load(std::sync::atomic::Ordering::Relaxed),
                            root_cause(&e)
                        ))
                    } else {
                        self.datanode_unreachable(at, &datanode, &e)
                    }
                })?;
            if !response.status().is_success() {
                let status = response.status();
                let body = response.bytes().await.unwrap_or_default();
                return Err(self.remote_error(at, status, &body));
            }
            Ok(counted.load(std::sync::atomic::Ordering::Relaxed))
        }
        .boxed()
    }

    fn mkdirs<'a>(&'a self, at: &'a Location) -> BoxFuture<'a, Result<(), ApiError>> {
        async move {
            let value = self.call(Method::PUT, at, "MKDIRS", &[]).await?;
            if Self::boolean(&value) {
                Ok(())
            } else {
                Err(ApiError::new(StatusCode::CONFLICT, format!("HDFS could not create the directory '{at}'")))
            }
        }
        .boxed()
    }

    fn rename<'a>(&'a self, from: &'a Location, to: &'a Location) -> BoxFuture<'a, Result<(), ApiError>> {
        async move {
            // HDFS renames *into* an existing directory; the API does not.
            if self.stat(to).await?.is_some() {
                return Err(ApiError::new(StatusCode::CONFLICT, format!("'{to}' already exists")));
            }
            let value = self.call(Method::PUT, from, "RENAME", &[("destination", self.hdfs_path(to))]).await?;
            if Self::boolean(&value) {
                return Ok(());
            }
            // HDFS says only "false": find out why.
            if self.stat(from).await?.is_none() {
                return Err(ApiError::not_found(format!("'{from}' does not exist in HDFS")));
            }
            Err(ApiError::new(StatusCode::CONFLICT, format!("HDFS could not move '{from}' to '{to}'")))
        }
        .boxed()
    }

    fn delete<'a>(&'a self, at: &'a Location, recursive: bool) -> BoxFuture<'a, Result<bool, ApiError>> {
        async move {
            let value = self.call(Method::DELETE, at, "DELETE", &[("recursive", recursive.to_string())]).await?;
            Ok(Self::boolean(&value))
        }
        .boxed()
    }

    fn summary<'a>(&'a self, at: &'a Location) -> BoxFuture<'a, Result<Summary, ApiError>> {
        async move {
            let value = self.call(Method::GET, at, "GETCONTENTSUMMARY", &[]).await?;
            let s = &value["ContentSummary"];
            Ok(Summary {
                files: s["fileCount"].as_u64().unwrap_or(0),
                directories: s["directoryCount"].as_u64().unwrap_or(0),
                bytes: s["length"].as_u64().unwrap_or(0),
            })
        }
        .boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hdfs(root: &str) -> WebHdfs {
        WebHdfs::new(HdfsConfig { url: "http://127.0.0.1:9870".into(), user: "ann".into(), root: root.into() }).unwrap()
    }

    #[test]
    fn urls_stay_under_the_root() {
        let at = Location::parse("hdfs:///tmp/a b/x%y").unwrap();
        let url = hdfs("/").op_url(&at, "OPEN", &[("offset", "5".into())]);
        assert_eq!(url.as_str(), "http://127.0.0.1:9870/webhdfs/v1/tmp/a%20b/x%25y?op=OPEN&user.name=ann&offset=5");
        let url = hdfs("/user/ann").op_url(&Location::parse("hdfs:///x").unwrap(), "MKDIRS", &[]);
        assert_eq!(url.path(), "/webhdfs/v1/user/ann/x");
        let root = hdfs("/").op_url(&Location::parse("hdfs:///").unwrap(), "LISTSTATUS", &[]);
        assert_eq!(root.path(), "/webhdfs/v1/");
        assert!(WebHdfs::new(HdfsConfig { root: "/a/../..".into(), ..HdfsConfig::new("http://x:9870") }).is_err());
        assert!(WebHdfs::new(HdfsConfig::new("ftp://x")).is_err());
    }

    #[test]
    fn remote_errors_read_well() {
        let h = hdfs("/");
        let at = Location::parse("hdfs:///nope").unwrap();
        let body = br#"{"RemoteException":{"exception":"FileNotFoundException","javaClassName":"java.io.FileNotFoundException","message":"File does not exist: /nope"}}"#;
        let e = h.remote_error(&at, reqwest::StatusCode::NOT_FOUND, body);
        assert_eq!(e.status, StatusCode::NOT_FOUND);
        assert_eq!(e.message, "'hdfs:///nope' does not exist in HDFS");
        let e = h.remote_error(&at, reqwest::StatusCode::INTERNAL_SERVER_ERROR, b"<html>boom</html>");
        assert_eq!(e.status, StatusCode::BAD_GATEWAY);
        assert!(e.message.contains("boom"), "{}", e.message);
    }
}
