//! The gateway's storage API (`/api/fs/*`) end to end: the real `riffle`
//! binary on its local data root and on a real HDFS (`RIFFLE_HDFS`, which
//! `cargo xtask test` starts fresh), and COPY to HDFS from cells in Chromium.
//!
//! Most scenarios run twice, on a local base path (`t/<test>`) and on an HDFS
//! one (`hdfs:///riffle-tests/<test>-<pid>-<n>`). Without `RIFFLE_HDFS` the
//! HDFS half is skipped with a note, except in CI, where that is a failure.
//! Every expectation is computed here, from the bytes the test wrote or from
//! the sample files, never copied from the gateway's answers.

use std::collections::BTreeMap;
use std::future::Future;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail, ensure};
use fantoccini::Locator;
use reqwest::{Method, StatusCode};
use riffle::engine::{Compression, ExportFormat, Session, export};
use riffle_tests::{
    Browser, Gateway, GatewayOptions, TempDir, hdfs_test_dir, repo, require_hdfs, sample_data_root, unused_port,
};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::notebook::{cell_texts, last_cell_id, run_cell, wait_for_result};

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or_default()
}

/// `base/name`, as the gateway spells paths (`a/b`, `hdfs:///a/b`).
fn join(base: &str, name: &str) -> String {
    format!("{}/{name}", base.trim_end_matches('/'))
}

/// A path without its scheme (`hdfs:///a/b` → `a/b`), to find it in messages
/// however they spell it.
fn tail(path: &str) -> &str {
    let rest = path.split_once("://").map(|(_, rest)| rest).unwrap_or(path);
    rest.trim_start_matches('/')
}

/// Spark's bookkeeping rule, written out again: `_x` and `.x` are not data.
fn is_data(name: &str) -> bool {
    !(name.starts_with('_') || name.starts_with('.'))
}

/// Deterministic bytes that differ by `seed`, so a mix-up between files shows.
fn bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// The sample trips as a Parquet file, written by Polars here in the test.
fn trips_parquet() -> Result<Vec<u8>> {
    let csv = std::fs::read(repo().join("data/samples/trips.csv"))?;
    let mut session = Session::new();
    let prepared = session.prepare("SELECT * FROM read_csv('samples/trips.csv')", "trips")?;
    let outcome = session.execute(prepared, vec![csv.into()])?;
    Ok(export(&outcome.table.df, ExportFormat::Parquet, Compression::Snappy)?)
}

/// Spark's part file name, as the engine worker makes it.
fn part_name(index: usize, id: &str) -> String {
    format!("part-{index:05}-{id}-c000.snappy.parquet")
}

/// Where a scenario runs: the local data root or HDFS, under a base path of its own.
#[derive(Debug, Clone)]
struct Place {
    hdfs: bool,
    base: String,
    /// Where the bytes are: the gateway's data root, or the NameNode's HTTP URL
    /// (HDFS root `/`), for files the API does not make (Spark's bookkeeping).
    storage: String,
}

impl Place {
    fn local(test: &str, data_root: &Path) -> Place {
        Place { hdfs: false, base: format!("t/{test}"), storage: data_root.to_string_lossy().into_owned() }
    }
    fn hdfs(test: &str, url: &str) -> Place {
        Place { hdfs: true, base: hdfs_test_dir(test), storage: url.trim_end_matches('/').to_string() }
    }

    /// Writes a file under the base behind the gateway's back, as Spark or
    /// `hdfs dfs -put` would: into the data root, or over WebHDFS (the
    /// NameNode's 307, then the bytes to the DataNode).
    async fn plant(&self, rel: &str, body: &[u8]) -> Result<()> {
        if !self.hdfs {
            let path = Path::new(&self.storage).join(tail(&join(&self.base, rel)));
            std::fs::create_dir_all(path.parent().context("no parent")?)?;
            std::fs::write(&path, body)?;
            return Ok(());
        }
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build()?;
        let url = format!(
            "{}/webhdfs/v1/{}?op=CREATE&overwrite=true&user.name=riffle",
            self.storage,
            tail(&join(&self.base, rel))
        );
        let redirect = http.put(&url).send().await?;
        ensure!(redirect.status() == StatusCode::TEMPORARY_REDIRECT, "CREATE {url}: {}", redirect.status());
        let datanode = redirect.headers().get("location").context("a 307 without Location")?.to_str()?.to_string();
        let created = http.put(&datanode).body(body.to_vec()).send().await?;
        ensure!(created.status() == StatusCode::CREATED, "CREATE on the DataNode: {}", created.status());
        Ok(())
    }
    /// The storage root of this place's backend.
    fn root(&self) -> &'static str {
        if self.hdfs { "hdfs:///" } else { "" }
    }
    /// A path on the other backend, for moves across backends.
    fn elsewhere(&self, name: &str) -> String {
        if self.hdfs { format!("t/{name}") } else { join(&hdfs_test_dir("elsewhere"), name) }
    }
}

/// One entry of a listing or a stat.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
struct Entry {
    name: String,
    path: String,
    kind: String,
    size: u64,
    modified_ms: i64,
    data: bool,
}

/// A gateway's answer: status, headers and body.
struct Answer {
    what: String,
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn json(&self) -> Result<Value> {
        serde_json::from_slice(&self.body)
            .with_context(|| format!("{}: the answer is not JSON ({}): {}", self.what, self.status, self.text()))
    }

    /// Expects `status`; returns the JSON body.
    fn expect(&self, status: StatusCode) -> Result<Value> {
        ensure!(self.status == status, "{}: expected {status}, got {} {}", self.what, self.status, self.text());
        self.json()
    }

    /// Expects `status` and the raw body.
    fn expect_bytes(&self, status: StatusCode) -> Result<&[u8]> {
        ensure!(self.status == status, "{}: expected {status}, got {} {}", self.what, self.status, self.text());
        Ok(&self.body)
    }

    /// Expects an error answer `{"error": "..."}` with `status`; returns the message.
    fn error(&self, status: StatusCode) -> Result<String> {
        let v = self.expect(status)?;
        let message = v["error"].as_str().with_context(|| format!("{}: no \"error\" in {v}", self.what))?;
        ensure!(!message.trim().is_empty(), "{}: an empty error message", self.what);
        Ok(message.to_string())
    }

    fn header(&self, name: &str) -> Result<String> {
        Ok(self.headers.get(name).with_context(|| format!("{}: no {name} header", self.what))?.to_str()?.to_string())
    }
}

/// The file API of one gateway.
#[derive(Clone)]
struct Fs {
    url: String,
    http: reqwest::Client,
}

impl Fs {
    fn new(url: &str) -> Fs {
        Fs { url: url.to_string(), http: reqwest::Client::new() }
    }

    async fn call(
        &self,
        method: Method,
        endpoint: &str,
        query: &[(&str, &str)],
        body: Option<Vec<u8>>,
    ) -> Result<Answer> {
        let what = format!("{method} /api/fs/{endpoint} {query:?}");
        let mut request = self.http.request(method, format!("{}/api/fs/{endpoint}", self.url)).query(query);
        if let Some(body) = body {
            request = request.body(body);
        }
        let response = request.send().await.with_context(|| format!("{what}: no answer"))?;
        answer(what, response).await
    }

    /// A request with the path and query exactly as given (no encoding).
    async fn raw(&self, method: Method, path_and_query: &str, body: Option<Vec<u8>>) -> Result<Answer> {
        let what = format!("{method} {path_and_query}");
        let mut request = self.http.request(method, format!("{}{path_and_query}", self.url));
        if let Some(body) = body {
            request = request.body(body);
        }
        let response = request.send().await.with_context(|| format!("{what}: no answer"))?;
        answer(what, response).await
    }

    async fn list(&self, path: &str) -> Result<Answer> {
        self.call(Method::GET, "list", &[("path", path)], None).await
    }

    async fn stat(&self, path: &str) -> Result<Answer> {
        self.call(Method::GET, "stat", &[("path", path)], None).await
    }

    async fn summary(&self, path: &str) -> Result<Answer> {
        self.call(Method::GET, "summary", &[("path", path)], None).await
    }

    async fn parts(&self, path: &str) -> Result<Answer> {
        self.call(Method::GET, "parts", &[("path", path)], None).await
    }

    async fn read(&self, path: &str) -> Result<Answer> {
        self.call(Method::GET, "read", &[("path", path)], None).await
    }

    async fn read_range(&self, path: &str, offset: u64, length: Option<u64>) -> Result<Answer> {
        let offset = offset.to_string();
        let length = length.map(|l| l.to_string());
        let mut query = vec![("path", path), ("offset", offset.as_str())];
        if let Some(length) = &length {
            query.push(("length", length.as_str()));
        }
        self.call(Method::GET, "read", &query, None).await
    }

    async fn put(&self, path: &str, body: Vec<u8>, overwrite: bool) -> Result<Answer> {
        let mut query = vec![("path", path)];
        if overwrite {
            query.push(("overwrite", "true"));
        }
        self.call(Method::PUT, "files", &query, Some(body)).await
    }

    async fn mkdir(&self, path: &str) -> Result<Answer> {
        self.call(Method::POST, "mkdir", &[("path", path)], None).await
    }

    async fn rename(&self, from: &str, to: &str) -> Result<Answer> {
        self.call(Method::POST, "rename", &[("from", from), ("to", to)], None).await
    }

    async fn delete(&self, path: &str, recursive: bool) -> Result<Answer> {
        let mut query = vec![("path", path)];
        if recursive {
            query.push(("recursive", "true"));
        }
        self.call(Method::DELETE, "files", &query, None).await
    }

    async fn open_write(&self, path: &str, mode: &str) -> Result<Answer> {
        let body = serde_json::to_vec(&json!({ "path": path, "mode": mode }))?;
        self.call(Method::POST, "writes", &[], Some(body)).await
    }

    async fn put_part(&self, id: &str, name: &str, body: Vec<u8>) -> Result<Answer> {
        self.call(Method::PUT, &format!("writes/{id}/parts/{name}"), &[], Some(body)).await
    }

    async fn commit(&self, id: &str) -> Result<Answer> {
        self.call(Method::POST, &format!("writes/{id}/commit"), &[], None).await
    }

    async fn abort(&self, id: &str) -> Result<Answer> {
        self.call(Method::DELETE, &format!("writes/{id}"), &[], None).await
    }

    /// A whole write session: open, one part per body, commit. Returns the
    /// part names and the commit's answer.
    async fn write_dir(&self, path: &str, mode: &str, parts: &[Vec<u8>]) -> Result<(Vec<String>, Value)> {
        let opened = self.open_write(path, mode).await?.expect(StatusCode::CREATED)?;
        let id = opened["id"].as_str().with_context(|| format!("no id in {opened}"))?.to_string();
        let mut names = Vec::new();
        for (i, body) in parts.iter().enumerate() {
            let name = part_name(i, &id);
            let put = self.put_part(&id, &name, body.clone()).await?.expect(StatusCode::OK)?;
            assert_eq!(put["bytes"], body.len(), "{put}");
            names.push(name);
        }
        let committed = self.commit(&id).await?.expect(StatusCode::OK)?;
        Ok((names, committed))
    }

    /// A directory's entries; fails unless the listing answers 200.
    async fn entries(&self, dir: &str) -> Result<Vec<Entry>> {
        let listing = self.list(dir).await?.expect(StatusCode::OK)?;
        assert_eq!(listing["path"], dir, "{listing}");
        serde_json::from_value(listing["entries"].clone()).with_context(|| format!("entries of {listing}"))
    }

    /// The (name, size) of a directory's data files, by name.
    async fn data_files(&self, dir: &str) -> Result<Vec<(String, u64)>> {
        let mut out: Vec<(String, u64)> =
            self.entries(dir).await?.into_iter().filter(|e| e.data).map(|e| (e.name, e.size)).collect();
        out.sort();
        Ok(out)
    }

    /// `/api/fs/parts`: the (path, size) of each data file.
    async fn part_files(&self, path: &str) -> Result<Vec<(String, u64)>> {
        let parts = self.parts(path).await?.expect(StatusCode::OK)?;
        parts["files"]
            .as_array()
            .with_context(|| format!("no files in {parts}"))?
            .iter()
            .map(|f| {
                Ok((
                    f["path"].as_str().with_context(|| format!("no path in {f}"))?.to_string(),
                    f["size"].as_u64().with_context(|| format!("no size in {f}"))?,
                ))
            })
            .collect()
    }

    async fn stat_entry(&self, path: &str) -> Result<Entry> {
        let v = self.stat(path).await?.expect(StatusCode::OK)?;
        serde_json::from_value(v.clone()).with_context(|| format!("stat {path}: {v}"))
    }
}

async fn answer(what: String, response: reqwest::Response) -> Result<Answer> {
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.bytes().await.with_context(|| format!("{what}: the body broke off"))?.to_vec();
    Ok(Answer { what, status, headers, body })
}

/// Runs `scenario` on the local data root and, when there is a test HDFS, on
/// HDFS, through one gateway configured with both. The HDFS base is deleted
/// afterwards.
async fn on_both<F, Fut>(test: &str, scenario: F) -> Result<()>
where
    F: Fn(Fs, Place) -> Fut,
    Fut: Future<Output = Result<()>>,
{
    let data = TempDir::new(test)?;
    let hdfs = require_hdfs(test)?;
    let gateway = Gateway::start_with(data.path(), GatewayOptions { hdfs: hdfs.clone(), ..Default::default() })?;
    let fs = Fs::new(&gateway.url);
    let mut places = vec![Place::local(test, data.path())];
    if let Some(url) = &hdfs {
        places.push(Place::hdfs(test, url));
    }
    for place in places {
        eprintln!("{test}: on {}", place.base);
        scenario(fs.clone(), place.clone()).await.with_context(|| format!("{test} on {}", place.base))?;
        if place.hdfs {
            let _ = fs.delete(&place.base, true).await;
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Files: list, stat, summary, read with ranges, parts, upload, mkdir
// ---------------------------------------------------------------------------

#[tokio::test]
async fn files_list_stat_summary_and_read_ranges() -> Result<()> {
    on_both("files", files_scenario).await
}

async fn files_scenario(fs: Fs, place: Place) -> Result<()> {
    let base = place.base.as_str();
    let at = |name: &str| join(base, name);
    let started = now_ms();
    let parquet = trips_parquet()?;

    // mkdir: 201 when made, 200 when it is there already.
    let made = fs.mkdir(base).await?.expect(StatusCode::CREATED)?;
    assert_eq!(made["path"], base, "{made}");
    fs.mkdir(base).await?.expect(StatusCode::OK)?;
    for dir in ["sub", "_temporary", "_temporary/0"] {
        let made = fs.mkdir(&at(dir)).await?.expect(StatusCode::CREATED)?;
        assert_eq!(made["path"], at(dir), "{made}");
    }

    // Uploads: data, and a part staged under _temporary.
    let mut files: BTreeMap<&str, Vec<u8>> = BTreeMap::new();
    files.insert("trips.parquet", parquet.clone());
    files.insert("notes.txt", b"first version\n".to_vec());
    files.insert("sub/a.csv", b"a,b\n1,2\n".to_vec());
    files.insert("_temporary/0/part-00000.parquet", bytes(7, 1000));
    for (name, body) in &files {
        let put = fs.put(&at(name), body.clone(), false).await?.expect(StatusCode::CREATED)?;
        assert_eq!(put["path"], at(name), "{put}");
        assert_eq!(put["bytes"], body.len(), "{put}");
    }
    // Bookkeeping names are not uploaded (readers would not see them)...
    for name in ["_SUCCESS", ".hidden"] {
        let message = fs.put(&at(name), b"x".to_vec(), false).await?.error(StatusCode::BAD_REQUEST)?;
        assert!(message.contains(name), "{message}");
    }
    // ...but Spark and others write them: put them there behind the gateway's back.
    files.insert("_SUCCESS", Vec::new());
    files.insert(".hidden", b"bookkeeping".to_vec());
    for name in ["_SUCCESS", ".hidden"] {
        place.plant(name, &files[name]).await?;
    }

    // An existing file is kept unless the upload says overwrite.
    let message = fs.put(&at("notes.txt"), b"second".to_vec(), false).await?.error(StatusCode::CONFLICT)?;
    assert!(message.contains("notes.txt"), "{message}");
    assert_eq!(fs.read(&at("notes.txt")).await?.expect_bytes(StatusCode::OK)?, b"first version\n");
    fs.put(&at("notes.txt"), b"second".to_vec(), true).await?.expect(StatusCode::CREATED)?;
    assert_eq!(fs.read(&at("notes.txt")).await?.expect_bytes(StatusCode::OK)?, b"second");
    files.insert("notes.txt", b"second".to_vec());

    // The listing: directories first, then files, each by name; nothing
    // staged by the uploads is left over.
    let entries = fs.entries(base).await?;
    let mut dirs = ["_temporary", "sub"];
    dirs.sort();
    let mut top: Vec<&str> = files.keys().copied().filter(|n| !n.contains('/')).collect();
    top.sort();
    let expected: Vec<&str> = dirs.iter().chain(&top).copied().collect();
    let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, expected, "{entries:#?}");
    for e in &entries {
        assert_eq!(e.path, at(&e.name), "{e:?}");
        assert_eq!(e.data, is_data(&e.name), "{e:?}");
        let dir = dirs.contains(&e.name.as_str());
        assert_eq!(e.kind, if dir { "directory" } else { "file" }, "{e:?}");
        if !dir {
            assert_eq!(e.size, files[e.name.as_str()].len() as u64, "{e:?}");
        }
        // Written by this test: the clocks agree within an hour (not a timing assertion).
        assert!((e.modified_ms - started).abs() < 3_600_000, "{e:?} vs now {started}");
    }

    // stat: the same entry, for a file and for a directory.
    let trips = fs.stat_entry(&at("trips.parquet")).await?;
    assert_eq!(&trips, entries.iter().find(|e| e.name == "trips.parquet").context("no trips.parquet")?);
    let stat = fs.stat_entry(base).await?;
    assert_eq!((stat.kind.as_str(), stat.path.as_str()), ("directory", base), "{stat:?}");
    assert_eq!(stat.name, base.rsplit('/').next().unwrap_or_default(), "{stat:?}");

    // The same file under its other spellings: with an authority (ignored for
    // HDFS), and without one, as Hadoop prints paths (`hdfs:/a/b`, `file:/a/b`).
    let scheme = if place.hdfs { "hdfs" } else { "file" };
    let authority = if place.hdfs { "namenode:8020" } else { "" };
    for other in [
        format!("{scheme}:/{}", tail(&at("trips.parquet"))),
        format!("{scheme}://{authority}/{}", tail(&at("trips.parquet"))),
    ] {
        assert_eq!(fs.stat_entry(&other).await?, trips, "{other}");
    }

    // summary: every file and directory below, and their bytes.
    let summary = fs.summary(base).await?.expect(StatusCode::OK)?;
    assert_eq!(summary["path"], base, "{summary}");
    assert_eq!(summary["files"], files.len(), "{summary}");
    assert_eq!(summary["bytes"], files.values().map(Vec::len).sum::<usize>(), "{summary}");
    // As `hdfs dfs -count` counts: the directory itself, sub, _temporary, _temporary/0.
    assert_eq!(summary["directories"], 4, "{summary}");

    // Reads: the whole file, with its size in the headers.
    let whole = fs.read(&at("trips.parquet")).await?;
    assert_eq!(whole.expect_bytes(StatusCode::OK)?, parquet.as_slice());
    assert_eq!(whole.header("content-length")?, parquet.len().to_string());
    assert_eq!(whole.header("x-riffle-size")?, parquet.len().to_string());

    // The last 8 bytes: the footer's length and the PAR1 magic.
    let n = parquet.len() as u64;
    let end = fs.read_range(&at("trips.parquet"), n - 8, None).await?;
    let last8 = end.expect_bytes(StatusCode::OK)?;
    assert_eq!(last8, &parquet[parquet.len() - 8..]);
    assert_eq!(&last8[4..], b"PAR1");
    let footer = u32::from_le_bytes(last8[..4].try_into()?) as u64;
    assert!(footer > 0 && footer + 12 <= n, "footer of {footer} bytes in a file of {n}");
    assert_eq!(end.header("content-length")?, "8");
    assert_eq!(end.header("x-riffle-size")?, n.to_string());
    // The footer itself, by offset and length, and the leading magic.
    let meta = fs.read_range(&at("trips.parquet"), n - 8 - footer, Some(footer)).await?;
    assert_eq!(meta.expect_bytes(StatusCode::OK)?, &parquet[(n - 8 - footer) as usize..(n - 8) as usize]);
    let head = fs.read_range(&at("trips.parquet"), 0, Some(4)).await?;
    assert_eq!(head.expect_bytes(StatusCode::OK)?, b"PAR1");
    // A length past the end is cut at the end; an offset at the end reads nothing.
    let cut = fs.read_range(&at("trips.parquet"), n - 3, Some(100)).await?;
    assert_eq!(cut.expect_bytes(StatusCode::OK)?, &parquet[parquet.len() - 3..]);
    let none = fs.read_range(&at("trips.parquet"), n, None).await?;
    assert_eq!(none.expect_bytes(StatusCode::OK)?, b"");
    // Past the end, a directory, or a file listed as a directory: 400s.
    let message = fs.read_range(&at("trips.parquet"), n + 1, None).await?.error(StatusCode::BAD_REQUEST)?;
    assert!(message.contains("trips.parquet"), "{message}");
    let message = fs.read(&at("sub")).await?.error(StatusCode::BAD_REQUEST)?;
    assert!(message.contains(tail(&at("sub"))), "{message}");
    fs.list(&at("notes.txt")).await?.error(StatusCode::BAD_REQUEST)?;
    // An empty file reads as nothing.
    assert_eq!(fs.read(&at("_SUCCESS")).await?.expect_bytes(StatusCode::OK)?, b"");

    // parts: a directory's data files only, by name; a file is its own part.
    let expected: Vec<(String, u64)> =
        top.iter().filter(|n| is_data(n)).map(|n| (at(n), files[n].len() as u64)).collect();
    assert_eq!(fs.part_files(base).await?, expected);
    assert_eq!(fs.part_files(&at("trips.parquet")).await?, vec![(at("trips.parquet"), n)]);
    assert_eq!(fs.part_files(&at("sub")).await?, vec![(at("sub/a.csv"), files["sub/a.csv"].len() as u64)]);

    // The root of the backend lists, and holds the base.
    let root = fs.list(place.root()).await?.expect(StatusCode::OK)?;
    let first = tail(base).split('/').next().unwrap_or_default();
    assert!(
        root["entries"].as_array().is_some_and(|a| a.iter().any(|e| e["name"] == first)),
        "{first} not in the root: {root}"
    );
    Ok(())
}

// ---------------------------------------------------------------------------
// Rename and delete
// ---------------------------------------------------------------------------

#[tokio::test]
async fn rename_and_delete() -> Result<()> {
    on_both("manage", manage_scenario).await
}

async fn manage_scenario(fs: Fs, place: Place) -> Result<()> {
    let base = place.base.as_str();
    let at = |name: &str| join(base, name);
    fs.mkdir(base).await?.expect(StatusCode::CREATED)?;
    fs.mkdir(&at("dir")).await?.expect(StatusCode::CREATED)?;
    for (name, body) in [("a.txt", "alpha"), ("b.txt", "beta"), ("dir/x.txt", "x")] {
        fs.put(&at(name), body.as_bytes().to_vec(), false).await?.expect(StatusCode::CREATED)?;
    }

    // A file moves into a directory under a new name.
    let moved = fs.rename(&at("a.txt"), &at("dir/moved.txt")).await?.expect(StatusCode::OK)?;
    assert_eq!((&moved["from"], &moved["to"]), (&json!(at("a.txt")), &json!(at("dir/moved.txt"))), "{moved}");
    let message = fs.stat(&at("a.txt")).await?.error(StatusCode::NOT_FOUND)?;
    assert!(message.contains(tail(&at("a.txt"))), "{message}");
    assert_eq!(fs.read(&at("dir/moved.txt")).await?.expect_bytes(StatusCode::OK)?, b"alpha");

    // Onto an existing file: 409, and both stay as they were.
    let message = fs.rename(&at("b.txt"), &at("dir/moved.txt")).await?.error(StatusCode::CONFLICT)?;
    assert!(message.contains("moved.txt"), "{message}");
    assert_eq!(fs.read(&at("b.txt")).await?.expect_bytes(StatusCode::OK)?, b"beta");
    assert_eq!(fs.read(&at("dir/moved.txt")).await?.expect_bytes(StatusCode::OK)?, b"alpha");

    // A missing source: 404 naming it.
    let message = fs.rename(&at("nothing.txt"), &at("c.txt")).await?.error(StatusCode::NOT_FOUND)?;
    assert!(message.contains(tail(&at("nothing.txt"))), "{message}");
    fs.stat(&at("c.txt")).await?.error(StatusCode::NOT_FOUND)?;

    // Across backends: 400, and nothing moves.
    let other = place.elsewhere("b.txt");
    fs.rename(&at("b.txt"), &other).await?.error(StatusCode::BAD_REQUEST)?;
    assert_eq!(fs.read(&at("b.txt")).await?.expect_bytes(StatusCode::OK)?, b"beta");

    // A directory moves with what it holds.
    fs.rename(&at("dir"), &at("dir2")).await?.expect(StatusCode::OK)?;
    let names: Vec<String> = fs.entries(&at("dir2")).await?.into_iter().map(|e| e.name).collect();
    assert_eq!(names, ["moved.txt", "x.txt"]);
    fs.stat(&at("dir")).await?.error(StatusCode::NOT_FOUND)?;

    // Delete: a non-empty directory needs recursive=true.
    let message = fs.delete(&at("dir2"), false).await?.error(StatusCode::CONFLICT)?;
    assert!(message.contains("dir2"), "{message}");
    assert_eq!(fs.entries(&at("dir2")).await?.len(), 2);
    let deleted = fs.delete(&at("dir2"), true).await?.expect(StatusCode::OK)?;
    assert_eq!(deleted["deleted"], at("dir2"), "{deleted}");
    fs.stat(&at("dir2")).await?.error(StatusCode::NOT_FOUND)?;
    fs.stat(&at("dir2/x.txt")).await?.error(StatusCode::NOT_FOUND)?;
    // An empty directory and a file go without it.
    fs.mkdir(&at("empty")).await?.expect(StatusCode::CREATED)?;
    fs.delete(&at("empty"), false).await?.expect(StatusCode::OK)?;
    fs.delete(&at("b.txt"), false).await?.expect(StatusCode::OK)?;
    fs.stat(&at("b.txt")).await?.error(StatusCode::NOT_FOUND)?;
    // Missing: 404 naming it.
    let message = fs.delete(&at("b.txt"), false).await?.error(StatusCode::NOT_FOUND)?;
    assert!(message.contains(tail(&at("b.txt"))), "{message}");
    // The root of a backend is never deleted (asked without recursive, in case).
    let roots: &[&str] = if place.hdfs { &["hdfs:///", "hdfs://namenode:8020/"] } else { &["", "/", "file:///"] };
    for root in roots {
        fs.delete(root, false).await?.error(StatusCode::BAD_REQUEST).with_context(|| format!("DELETE '{root}'"))?;
    }
    assert_eq!(fs.entries(base).await?.len(), 0);
    Ok(())
}

// ---------------------------------------------------------------------------
// Spark-style write sessions
// ---------------------------------------------------------------------------

#[tokio::test]
async fn spark_style_writes_overwrite_append_error_abort() -> Result<()> {
    on_both("writes", writes_scenario).await
}

async fn writes_scenario(fs: Fs, place: Place) -> Result<()> {
    let base = place.base.as_str();
    let out = join(base, "out");
    let at = |name: &str| join(&out, name);

    // A first write: nothing is visible before the commit.
    let v1 = vec![bytes(1, 3000), bytes(2, 5000)];
    let opened = fs.open_write(&out, "error").await?.expect(StatusCode::CREATED)?;
    assert_eq!(opened["path"], out, "{opened}");
    let id = opened["id"].as_str().context("no id")?.to_string();
    let mut v1_names = Vec::new();
    for (i, body) in v1.iter().enumerate() {
        let name = part_name(i, &id);
        fs.put_part(&id, &name, body.clone()).await?.expect(StatusCode::OK)?;
        v1_names.push(name);
    }
    let before_commit = fs.parts(&out).await?;
    match before_commit.status {
        StatusCode::NOT_FOUND => {}
        StatusCode::OK => assert_eq!(before_commit.json()?["files"], json!([]), "staged parts are visible"),
        other => bail!("parts of an uncommitted write: {other} {}", before_commit.text()),
    }
    if let Ok(entries) = fs.entries(&out).await {
        assert!(entries.iter().all(|e| !e.data && e.name != "_SUCCESS"), "visible before the commit: {entries:?}");
    }
    let committed = fs.commit(&id).await?.expect(StatusCode::OK)?;
    assert_eq!(committed["path"], out, "{committed}");
    assert_eq!(committed["files"], json!(v1_names), "{committed}");
    assert_eq!(committed["bytes"], v1.iter().map(Vec::len).sum::<usize>(), "{committed}");
    assert_eq!((&committed["replaced"], &committed["total_files"]), (&json!(0), &json!(2)), "{committed}");
    let names: Vec<String> = fs.entries(&out).await?.into_iter().map(|e| e.name).collect();
    let mut expected: Vec<String> = v1_names.iter().cloned().chain(["_SUCCESS".to_string()]).collect();
    expected.sort();
    assert_eq!(names, expected, "part files and _SUCCESS, no _temporary");
    assert_eq!(fs.stat_entry(&at("_SUCCESS")).await?.size, 0);
    for (name, body) in v1_names.iter().zip(&v1) {
        assert_eq!(fs.read(&at(name)).await?.expect_bytes(StatusCode::OK)?, body.as_slice(), "{name}");
    }
    let expected_parts: Vec<(String, u64)> = v1_names.iter().zip(&v1).map(|(n, b)| (at(n), b.len() as u64)).collect();
    assert_eq!(fs.part_files(&out).await?, expected_parts);
    // The same write again commits nothing more.
    fs.commit(&id).await?.error(StatusCode::NOT_FOUND)?;

    // Error mode on existing data: 409 at open, and nothing changes.
    let listing = fs.entries(&out).await?;
    let message = fs.open_write(&out, "error").await?.error(StatusCode::CONFLICT)?;
    assert!(message.contains(tail(&out)), "{message}");
    assert_eq!(fs.entries(&out).await?, listing);

    // Append adds parts next to the old ones.
    let v2 = vec![bytes(3, 4000)];
    let (v2_names, committed) = fs.write_dir(&out, "append", &v2).await?;
    assert_eq!((&committed["replaced"], &committed["total_files"]), (&json!(0), &json!(3)), "{committed}");
    let mut all: Vec<(String, u64)> =
        v1_names.iter().zip(&v1).chain(v2_names.iter().zip(&v2)).map(|(n, b)| (n.clone(), b.len() as u64)).collect();
    all.sort();
    assert_eq!(fs.data_files(&out).await?, all);
    fs.stat(&at("_SUCCESS")).await?.expect(StatusCode::OK)?;

    // Readers skip _SUCCESS, _temporary (a write in progress) and hidden files.
    let listing = fs.entries(&out).await?;
    let opened = fs.open_write(&out, "append").await?.expect(StatusCode::CREATED)?;
    let id = opened["id"].as_str().context("no id")?.to_string();
    fs.put_part(&id, &part_name(0, &id), bytes(4, 100)).await?.expect(StatusCode::OK)?;
    place.plant("out/.part-00000.crc", b"crc").await?;
    place.plant("out/_metadata", b"meta").await?;
    let expected_parts: Vec<(String, u64)> = all.iter().map(|(n, s)| (at(n), *s)).collect();
    assert_eq!(fs.part_files(&out).await?, expected_parts);
    // Abort: the staged part goes, the output is as it was.
    fs.abort(&id).await?.expect(StatusCode::OK)?;
    fs.commit(&id).await?.error(StatusCode::NOT_FOUND)?;
    fs.delete(&at(".part-00000.crc"), false).await?.expect(StatusCode::OK)?;
    fs.delete(&at("_metadata"), false).await?.expect(StatusCode::OK)?;
    assert_eq!(fs.entries(&out).await?, listing, "an aborted write changed the output");

    // An aborted overwrite changes nothing either.
    let opened = fs.open_write(&out, "overwrite").await?.expect(StatusCode::CREATED)?;
    let id = opened["id"].as_str().context("no id")?.to_string();
    fs.put_part(&id, &part_name(0, &id), bytes(5, 100)).await?.expect(StatusCode::OK)?;
    fs.abort(&id).await?.expect(StatusCode::OK)?;
    assert_eq!(fs.entries(&out).await?, listing, "an aborted overwrite changed the output");

    // Overwrite replaces all the old parts.
    let v3 = vec![bytes(6, 2000), bytes(7, 2500)];
    let (v3_names, committed) = fs.write_dir(&out, "overwrite", &v3).await?;
    assert_eq!((&committed["replaced"], &committed["total_files"]), (&json!(3), &json!(2)), "{committed}");
    let mut expected: Vec<(String, u64)> = v3_names.iter().zip(&v3).map(|(n, b)| (n.clone(), b.len() as u64)).collect();
    expected.sort();
    assert_eq!(fs.data_files(&out).await?, expected);
    for (name, body) in v3_names.iter().zip(&v3) {
        assert_eq!(fs.read(&at(name)).await?.expect_bytes(StatusCode::OK)?, body.as_slice(), "{name}");
    }
    let names: Vec<String> = fs.entries(&out).await?.into_iter().filter(|e| !e.data).map(|e| e.name).collect();
    assert_eq!(names, ["_SUCCESS"], "only _SUCCESS besides the parts");

    // A first write that is aborted leaves nothing behind.
    let never = join(base, "never");
    let opened = fs.open_write(&never, "overwrite").await?.expect(StatusCode::CREATED)?;
    let id = opened["id"].as_str().context("no id")?.to_string();
    fs.put_part(&id, &part_name(0, &id), bytes(8, 100)).await?.expect(StatusCode::OK)?;
    fs.abort(&id).await?.expect(StatusCode::OK)?;
    fs.stat(&never).await?.error(StatusCode::NOT_FOUND)?;

    // A write into a file, and bookkeeping names as parts, are refused.
    fs.put(&join(base, "file.bin"), b"x".to_vec(), false).await?.expect(StatusCode::CREATED)?;
    fs.open_write(&join(base, "file.bin"), "overwrite").await?.error(StatusCode::CONFLICT)?;
    let opened = fs.open_write(&join(base, "w2"), "overwrite").await?.expect(StatusCode::CREATED)?;
    let id = opened["id"].as_str().context("no id")?.to_string();
    for bad in ["_SUCCESS", ".hidden"] {
        fs.put_part(&id, bad, b"x".to_vec()).await?.error(StatusCode::BAD_REQUEST)?;
    }
    fs.abort(&id).await?.expect(StatusCode::OK)?;
    Ok(())
}

/// Polls (for at most 20 s) until a staging directory holds an entry besides
/// `done`: an upload has begun there. Whether it did.
async fn staging_begun(fs: &Fs, staging: &str, done: &str) -> Result<bool> {
    for _ in 0..100 {
        if fs.entries(staging).await?.iter().any(|e| e.name != done) {
            return Ok(true);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Ok(false)
}

/// A part whose upload breaks off (the client goes away mid-body) is never
/// committed as a truncated file; sent again, it is committed whole.
#[tokio::test]
async fn a_part_upload_that_breaks_off_is_not_committed() -> Result<()> {
    on_both("broken", |fs, place| async move {
        let out = join(&place.base, "out");
        let opened = fs.open_write(&out, "overwrite").await?.expect(StatusCode::CREATED)?;
        let id = opened["id"].as_str().context("no id")?.to_string();
        let whole = [bytes(41, 20_000), bytes(42, 90_000)];
        let names = [part_name(0, &id), part_name(1, &id)];
        fs.put_part(&id, &names[0], whole[0].clone()).await?.expect(StatusCode::OK)?;

        // Part 1: a third of it, then the client's stream fails.
        let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<Vec<u8>>>(4);
        let stream = futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|c| (c, rx)) });
        let upload = tokio::spawn(
            fs.http
                .put(format!("{}/api/fs/writes/{id}/parts/{}", fs.url, names[1]))
                .body(reqwest::Body::wrap_stream(stream))
                .send(),
        );
        tx.send(Ok(whole[1][..30_000].to_vec())).await?;
        // Wait (bounded) until the gateway has begun to store it, under any name.
        staging_begun(&fs, &join(&out, &format!("_temporary/{id}")), &names[0]).await?;
        tx.send(Err(std::io::Error::other("the client gave up"))).await?;
        let sent = upload.await?;
        assert!(sent.is_err(), "the broken upload cannot have been answered: {sent:?}");
        drop(tx);

        // Committed now, the output holds part 0 only, whole.
        let committed = fs.commit(&id).await?.expect(StatusCode::OK)?;
        assert_eq!(committed["files"], json!([names[0]]), "{committed}");
        assert_eq!(fs.data_files(&out).await?, vec![(names[0].clone(), whole[0].len() as u64)]);

        // Sent again in full, a broken part is committed whole.
        let opened = fs.open_write(&out, "overwrite").await?.expect(StatusCode::CREATED)?;
        let id = opened["id"].as_str().context("no id")?.to_string();
        let name = part_name(0, &id);
        let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<Vec<u8>>>(4);
        let stream = futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|c| (c, rx)) });
        let upload = tokio::spawn(
            fs.http
                .put(format!("{}/api/fs/writes/{id}/parts/{name}", fs.url))
                .body(reqwest::Body::wrap_stream(stream))
                .send(),
        );
        tx.send(Ok(whole[1][..50_000].to_vec())).await?;
        tx.send(Err(std::io::Error::other("the client gave up"))).await?;
        assert!(upload.await?.is_err());
        fs.put_part(&id, &name, whole[1].clone()).await?.expect(StatusCode::OK)?;
        let committed = fs.commit(&id).await?.expect(StatusCode::OK)?;
        assert_eq!(committed["bytes"], whole[1].len(), "{committed}");
        assert_eq!(fs.data_files(&out).await?, vec![(name.clone(), whole[1].len() as u64)]);
        assert_eq!(fs.read(&join(&out, &name)).await?.expect_bytes(StatusCode::OK)?, whole[1].as_slice());
        Ok(())
    })
    .await
}

// ---------------------------------------------------------------------------
// A write whose gateway is killed midway
// ---------------------------------------------------------------------------

/// v1 is committed; an overwrite (v2) stages one whole part and is killed
/// (SIGKILL) in the middle of uploading the next. A new gateway on the same
/// data root and the same HDFS must show v1 exactly, and the next overwrite
/// must clean up.
#[tokio::test]
async fn a_write_killed_midway_leaves_the_last_commit() -> Result<()> {
    let test = "killed";
    let data = TempDir::new(test)?;
    let hdfs = require_hdfs(test)?;
    let mut gateway = Gateway::start_with(data.path(), GatewayOptions { hdfs: hdfs.clone(), ..Default::default() })?;
    let mut places = vec![Place::local(test, data.path())];
    if let Some(url) = &hdfs {
        places.push(Place::hdfs(test, url));
    }
    for place in places {
        eprintln!("{test}: on {}", place.base);
        killed_write(&mut gateway, &place).await.with_context(|| format!("{test} on {}", place.base))?;
        if place.hdfs {
            let _ = Fs::new(&gateway.url).delete(&place.base, true).await;
        }
    }
    Ok(())
}

async fn killed_write(gateway: &mut Gateway, place: &Place) -> Result<()> {
    let fs = Fs::new(&gateway.url);
    let out = join(&place.base, "out");
    let at = |name: &str| join(&out, name);
    let v1 = vec![bytes(11, 40_000), bytes(12, 30_000)];
    let (v1_names, _) = fs.write_dir(&out, "overwrite", &v1).await?;
    let listing = fs.entries(&out).await?;
    let success = fs.stat_entry(&at("_SUCCESS")).await?;
    fs.put(&join(&place.base, "notes.txt"), b"v1 notes".to_vec(), false).await?.expect(StatusCode::CREATED)?;

    // v2: an overwrite with one whole part staged...
    let opened = fs.open_write(&out, "overwrite").await?.expect(StatusCode::CREATED)?;
    let id = opened["id"].as_str().context("no id")?.to_string();
    fs.put_part(&id, &part_name(0, &id), bytes(21, 50_000)).await?.expect(StatusCode::OK)?;
    // ...and the next one a slow stream that never ends.
    let name = part_name(1, &id);
    let (tx, rx) = tokio::sync::mpsc::channel::<Vec<u8>>(4);
    let stream = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (Ok::<_, std::io::Error>(chunk), rx))
    });
    let upload = tokio::spawn(
        fs.http
            .put(format!("{}/api/fs/writes/{id}/parts/{name}", fs.url))
            .body(reqwest::Body::wrap_stream(stream))
            .send(),
    );
    let chunk = bytes(22, 16 * 1024);
    let send = |tx: tokio::sync::mpsc::Sender<Vec<u8>>, chunk: Vec<u8>, n: usize| async move {
        for _ in 0..n {
            // Bounded: a gateway that stops reading must not hang the test.
            match tokio::time::timeout(Duration::from_secs(10), tx.send(chunk.clone())).await {
                Ok(Ok(())) => {}
                _ => break,
            }
        }
        tx
    };
    let tx = send(tx, chunk.clone(), 8).await;
    // Wait (bounded) until the gateway has begun to stage it (under whatever
    // name), so that the kill lands in the middle of the upload.
    let staging = at(&format!("_temporary/{id}"));
    if !staging_begun(&fs, &staging, &part_name(0, &id)).await? {
        eprintln!("note: nothing new showed in {staging} during the upload; killing the gateway anyway");
    }
    // Meanwhile an upload that replaces a file (overwrite=true) is under way too.
    let notes = join(&place.base, "notes.txt");
    let (tx2, rx2) = tokio::sync::mpsc::channel::<Vec<u8>>(4);
    let stream2 = futures::stream::unfold(rx2, |mut rx| async move {
        rx.recv().await.map(|chunk| (Ok::<_, std::io::Error>(chunk), rx))
    });
    let upload2 = tokio::spawn(
        fs.http
            .put(format!("{}/api/fs/files", fs.url))
            .query(&[("path", notes.as_str()), ("overwrite", "true")])
            .body(reqwest::Body::wrap_stream(stream2))
            .send(),
    );
    let tx2 = send(tx2, chunk.clone(), 4).await;
    let mut begun = false;
    for _ in 0..100 {
        if fs.entries(&place.base).await?.len() > 2 {
            begun = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    if !begun {
        eprintln!("note: the upload of {notes} did not show; killing the gateway anyway");
    }
    let tx = send(tx, chunk, 2).await;
    gateway.kill()?;
    drop((tx, tx2));
    for upload in [upload, upload2] {
        let broken = upload.await?;
        assert!(broken.is_err() || broken.is_ok_and(|r| !r.status().is_success()), "an upload cannot have succeeded");
    }

    // A new gateway on the same storage.
    gateway.restart()?;
    let fs = Fs::new(&gateway.url);
    let mut expected: Vec<(String, u64)> = v1_names.iter().zip(&v1).map(|(n, b)| (n.clone(), b.len() as u64)).collect();
    expected.sort();
    assert_eq!(fs.data_files(&out).await?, expected, "the data files are v1's");
    for (name, body) in v1_names.iter().zip(&v1) {
        assert_eq!(fs.read(&at(name)).await?.expect_bytes(StatusCode::OK)?, body.as_slice(), "{name} holds v1");
    }
    assert_eq!(fs.stat_entry(&at("_SUCCESS")).await?, success, "_SUCCESS is v1's");
    let parts: Vec<(String, u64)> = expected.iter().map(|(n, s)| (at(n), *s)).collect();
    assert_eq!(fs.part_files(&out).await?, parts, "readers see v1's parts only");
    let visible: Vec<Entry> = fs.entries(&out).await?.into_iter().filter(|e| e.name != "_temporary").collect();
    let before: Vec<Entry> = listing.into_iter().filter(|e| e.name != "_temporary").collect();
    assert_eq!(visible, before, "only _temporary may differ");
    // The file being replaced is as it was; its upload left nothing readers see.
    assert_eq!(fs.read(&notes).await?.expect_bytes(StatusCode::OK)?, b"v1 notes");
    let data: Vec<String> = fs.entries(&place.base).await?.into_iter().filter(|e| e.data).map(|e| e.name).collect();
    assert_eq!(data, ["out", "notes.txt"]);
    // The new gateway does not know the dead one's write.
    fs.commit(&id).await?.error(StatusCode::NOT_FOUND)?;

    // The next overwrite replaces v1 and clears what the dead write staged.
    let v3 = vec![bytes(31, 10_000)];
    let (v3_names, committed) = fs.write_dir(&out, "overwrite", &v3).await?;
    assert_eq!(committed["replaced"], 2, "{committed}");
    let names: Vec<String> = fs.entries(&out).await?.into_iter().map(|e| e.name).collect();
    let mut expected: Vec<String> = v3_names.iter().cloned().chain(["_SUCCESS".to_string()]).collect();
    expected.sort();
    assert_eq!(names, expected, "v3 and _SUCCESS, the dead write's _temporary gone");
    assert_eq!(fs.part_files(&out).await?, vec![(at(&v3_names[0]), v3[0].len() as u64)]);
    Ok(())
}

// ---------------------------------------------------------------------------
// Paths that leave their root
// ---------------------------------------------------------------------------

/// Every endpoint refuses `bad` with 403 and a message. `inside` is an
/// existing file inside the root (for renames). Destructive calls only for
/// paths whose target is the test's own.
async fn refused_everywhere(fs: &Fs, bad: &str, inside: &str, destructive: bool) -> Result<()> {
    let context = || format!("the path {bad:?}");
    for answer in [fs.list(bad).await?, fs.stat(bad).await?, fs.summary(bad).await?, fs.read(bad).await?] {
        answer.error(StatusCode::FORBIDDEN).with_context(context)?;
    }
    fs.parts(bad).await?.error(StatusCode::FORBIDDEN).with_context(context)?;
    fs.read_range(bad, 0, Some(10)).await?.error(StatusCode::FORBIDDEN).with_context(context)?;
    if !destructive {
        return Ok(());
    }
    fs.put(bad, b"planted".to_vec(), true).await?.error(StatusCode::FORBIDDEN).with_context(context)?;
    fs.mkdir(bad).await?.error(StatusCode::FORBIDDEN).with_context(context)?;
    fs.delete(bad, false).await?.error(StatusCode::FORBIDDEN).with_context(context)?;
    fs.rename(bad, &format!("{inside}.stolen")).await?.error(StatusCode::FORBIDDEN).with_context(context)?;
    fs.rename(inside, bad).await?.error(StatusCode::FORBIDDEN).with_context(context)?;
    fs.open_write(bad, "overwrite").await?.error(StatusCode::FORBIDDEN).with_context(context)?;
    Ok(())
}

#[tokio::test]
async fn paths_that_leave_the_root_are_refused() -> Result<()> {
    const SECRET: &str = "secret outside the root";
    // outer/secret.txt, outer/root/ (the data root) with a file and two
    // symlinks that lead out: to outer and to /etc.
    let outer = TempDir::new("traversal")?;
    let root = outer.path().join("root");
    std::fs::create_dir_all(&root)?;
    std::fs::write(outer.path().join("secret.txt"), SECRET)?;
    std::fs::write(root.join("notes.txt"), "inside")?;
    std::os::unix::fs::symlink(outer.path(), root.join("out-link"))?;
    std::os::unix::fs::symlink("/etc", root.join("etc-link"))?;
    let outside_before = dir_names(outer.path())?;

    let hdfs = require_hdfs("paths_that_leave_the_root_are_refused")?;
    // HDFS: a gateway whose hdfs:/// is <dir>/root, and <dir>/secret.txt beside it.
    let hdfs_dir = hdfs_test_dir("traversal");
    let main_data = TempDir::new("traversal-main")?;
    let main = match &hdfs {
        Some(url) => {
            let gateway = Gateway::start_with(
                main_data.path(),
                GatewayOptions { hdfs: Some(url.clone()), ..Default::default() },
            )?;
            let fs = Fs::new(&gateway.url);
            fs.mkdir(&join(&hdfs_dir, "root")).await?.expect(StatusCode::CREATED)?;
            fs.put(&join(&hdfs_dir, "secret.txt"), SECRET.as_bytes().to_vec(), false)
                .await?
                .expect(StatusCode::CREATED)?;
            fs.put(&join(&hdfs_dir, "root/notes.txt"), b"inside".to_vec(), false).await?.expect(StatusCode::CREATED)?;
            Some((gateway, fs))
        }
        None => None,
    };
    let mut args = Vec::new();
    if hdfs.is_some() {
        args = vec!["--hdfs-root".to_string(), format!("/{}", tail(&join(&hdfs_dir, "root")))];
    }
    let gateway = Gateway::start_with(&root, GatewayOptions { hdfs: hdfs.clone(), args, ..Default::default() })?;
    let fs = Fs::new(&gateway.url);

    // Local: '..' in every spelling, and symlinks that lead out.
    for bad in ["../secret.txt", "a/../../secret.txt", "file:///../secret.txt", "/../secret.txt", "out-link/secret.txt"]
    {
        refused_everywhere(&fs, bad, "notes.txt", true).await?;
    }
    for bad in ["etc-link/passwd", "etc-link", "out-link", "file:///etc-link/hostname"] {
        refused_everywhere(&fs, bad, "notes.txt", false).await?;
    }
    // Through a symlink to a name that does not exist yet (nothing to canonicalize).
    for new in ["out-link/planted.txt", "out-link/new-dir/planted.txt"] {
        refused_everywhere(&fs, new, "notes.txt", true).await?;
    }
    // Encoded in the query string as a browser or curl might send it.
    for query in
        ["path=%2e%2e%2fsecret.txt", "path=%2E%2E/secret.txt", "path=out-link%2Fsecret.txt", "path=.%2e/secret.txt"]
    {
        for endpoint in ["read", "stat", "list"] {
            fs.raw(Method::GET, &format!("/api/fs/{endpoint}?{query}"), None)
                .await?
                .error(StatusCode::FORBIDDEN)
                .with_context(|| format!("{endpoint}?{query}"))?;
        }
        fs.raw(Method::PUT, &format!("/api/fs/files?{query}&overwrite=true"), Some(b"planted".to_vec()))
            .await?
            .error(StatusCode::FORBIDDEN)
            .with_context(|| format!("PUT files?{query}"))?;
    }
    // Encoded twice it is just an odd name inside the root: never the secret.
    let odd = fs.raw(Method::GET, "/api/fs/read?path=%252e%252e%252fsecret.txt", None).await?;
    assert!(matches!(odd.status, StatusCode::NOT_FOUND | StatusCode::FORBIDDEN), "{} {}", odd.status, odd.text());
    assert!(!odd.text().contains(SECRET));
    // A part name with slashes in a write session.
    let opened = fs.open_write("w", "overwrite").await?.expect(StatusCode::CREATED)?;
    let id = opened["id"].as_str().context("no id")?.to_string();
    for name in ["..%2F..%2F..%2Fplanted.parquet", "%2e%2e", "..%2fsecret.txt"] {
        let answer =
            fs.raw(Method::PUT, &format!("/api/fs/writes/{id}/parts/{name}"), Some(b"planted".to_vec())).await?;
        assert!(answer.status.is_client_error(), "part {name}: {} {}", answer.status, answer.text());
    }
    fs.abort(&id).await?.expect(StatusCode::OK)?;
    // Another origin may not write.
    let cross = fs
        .http
        .put(format!("{}/api/fs/files?path=cross.txt", fs.url))
        .header("origin", "http://evil.example")
        .body("planted")
        .send()
        .await?;
    assert_eq!(cross.status(), StatusCode::FORBIDDEN);
    fs.stat("cross.txt").await?.error(StatusCode::NOT_FOUND)?;

    // Nothing outside was written, moved or deleted; inside is intact.
    assert_eq!(dir_names(outer.path())?, outside_before);
    assert_eq!(std::fs::read_to_string(outer.path().join("secret.txt"))?, SECRET);
    assert_eq!(fs.read("notes.txt").await?.expect_bytes(StatusCode::OK)?, b"inside");

    // HDFS: '..' above hdfs:///, with and without an authority.
    let Some((_main_gateway, main)) = main else { return Ok(()) };
    for bad in [
        "hdfs:///../secret.txt",
        "hdfs:///a/../../secret.txt",
        "hdfs://namenode:8020/../secret.txt",
        "hdfs:///a/../../etc",
        "hdfs:///../../../etc/passwd",
    ] {
        refused_everywhere(&fs, bad, "hdfs:///notes.txt", true).await?;
    }
    for query in ["path=hdfs%3A%2F%2F%2F%2e%2e%2fsecret.txt", "path=hdfs:///%2E%2E/secret.txt"] {
        fs.raw(Method::GET, &format!("/api/fs/read?{query}"), None)
            .await?
            .error(StatusCode::FORBIDDEN)
            .with_context(|| format!("read?{query}"))?;
        fs.raw(Method::PUT, &format!("/api/fs/files?{query}&overwrite=true"), Some(b"planted".to_vec()))
            .await?
            .error(StatusCode::FORBIDDEN)
            .with_context(|| format!("PUT files?{query}"))?;
    }
    // Encoded twice it is an odd name inside the root: never the secret.
    let odd = fs.raw(Method::GET, "/api/fs/read?path=hdfs:///%252e%252e/secret.txt", None).await?;
    assert!(matches!(odd.status, StatusCode::NOT_FOUND | StatusCode::FORBIDDEN), "{} {}", odd.status, odd.text());
    assert!(!odd.text().contains(SECRET));
    // The root itself is not deleted, even recursively (it is this test's own).
    fs.delete("hdfs:///", true).await?.error(StatusCode::BAD_REQUEST)?;
    // Paths come back relative to the configured root.
    let listing = fs.list("hdfs:///").await?.expect(StatusCode::OK)?;
    assert_eq!(listing["entries"][0]["path"], "hdfs:///notes.txt", "{listing}");
    // Seen from an unconfined gateway: the secret is untouched, nothing was planted.
    let names: Vec<String> = main.entries(&hdfs_dir).await?.into_iter().map(|e| e.name).collect();
    assert_eq!(names, ["root", "secret.txt"]);
    let names: Vec<String> = main.entries(&join(&hdfs_dir, "root")).await?.into_iter().map(|e| e.name).collect();
    assert_eq!(names, ["notes.txt"]);
    assert_eq!(main.read(&join(&hdfs_dir, "secret.txt")).await?.expect_bytes(StatusCode::OK)?, SECRET.as_bytes());
    // And '..' above / on that gateway too: refused, nothing read or written.
    for bad in ["hdfs:///../x", "hdfs:///a/../../etc"] {
        refused_everywhere(&main, bad, &join(&hdfs_dir, "secret.txt"), false).await?;
    }
    main.put("hdfs:///../riffle-planted", b"planted".to_vec(), false).await?.error(StatusCode::FORBIDDEN)?;
    main.stat("hdfs:///riffle-planted").await?.error(StatusCode::NOT_FOUND)?;
    let _ = main.delete(&hdfs_dir, true).await;
    Ok(())
}

fn dir_names(dir: &Path) -> Result<Vec<String>> {
    let mut names = std::fs::read_dir(dir)?
        .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect::<Result<Vec<_>, _>>()?;
    names.sort();
    Ok(names)
}

// ---------------------------------------------------------------------------
// Errors for users
// ---------------------------------------------------------------------------

#[tokio::test]
async fn missing_paths_are_404s_that_name_them() -> Result<()> {
    on_both("missing", |fs, place| async move {
        fs.mkdir(&place.base).await?.expect(StatusCode::CREATED)?;
        let missing = join(&place.base, "no-such/trips.csv");
        for answer in [
            fs.list(&missing).await?,
            fs.stat(&missing).await?,
            fs.summary(&missing).await?,
            fs.read(&missing).await?,
            fs.parts(&missing).await?,
            fs.delete(&missing, false).await?,
        ] {
            let message = answer.error(StatusCode::NOT_FOUND)?;
            assert!(message.contains(tail(&missing)), "{}: {message}", answer.what);
        }
        // A request that does not parse is a JSON error too, naming what is wrong.
        let query = [("path", place.base.as_str()), ("offset", "the end")];
        let message = fs.call(Method::GET, "read", &query, None).await?.error(StatusCode::BAD_REQUEST)?;
        assert!(message.contains("offset"), "{message}");
        Ok(())
    })
    .await
}

#[tokio::test]
async fn roots_name_both_backends() -> Result<()> {
    let data = TempDir::new("roots")?;
    let hdfs = require_hdfs("roots_name_both_backends")?;
    let gateway = Gateway::start_with(data.path(), GatewayOptions { hdfs: hdfs.clone(), ..Default::default() })?;
    let roots = Fs::new(&gateway.url).raw(Method::GET, "/api/fs/roots", None).await?.expect(StatusCode::OK)?;
    let roots = roots["roots"].as_array().context("no roots")?;
    assert_eq!(roots[0]["name"], "local", "{roots:?}");
    assert_eq!(roots[0]["path"], "", "{roots:?}");
    assert_eq!(roots[0]["detail"], data.path().canonicalize()?.to_string_lossy().as_ref(), "{roots:?}");
    match &hdfs {
        Some(url) => {
            assert_eq!(roots.len(), 2, "{roots:?}");
            assert_eq!((&roots[1]["name"], &roots[1]["path"]), (&json!("hdfs"), &json!("hdfs:///")), "{roots:?}");
            let detail = roots[1]["detail"].as_str().unwrap_or_default();
            assert!(detail.contains(url.trim_end_matches('/')) && detail.contains("riffle"), "{detail}");
        }
        None => assert_eq!(roots.len(), 1, "{roots:?}"),
    }
    Ok(())
}

#[tokio::test]
async fn hdfs_paths_without_hdfs_say_how_to_configure_it() -> Result<()> {
    let data = TempDir::new("no-hdfs")?;
    let gateway = Gateway::start_with(data.path(), GatewayOptions { hdfs: None, ..Default::default() })?;
    let fs = Fs::new(&gateway.url);
    for path in ["hdfs:///tmp/purchases", "hdfs://namenode:8020/tmp/x", "hdfs:/tmp/x"] {
        for answer in [fs.list(path).await?, fs.read(path).await?, fs.put(path, b"x".to_vec(), false).await?] {
            let message = answer.error(StatusCode::BAD_REQUEST)?;
            assert!(message.contains("not configured") && message.contains("--hdfs"), "{}: {message}", answer.what);
        }
        let message = fs.open_write(path, "overwrite").await?.error(StatusCode::BAD_REQUEST)?;
        assert!(message.contains("--hdfs"), "{message}");
    }
    let roots = fs.raw(Method::GET, "/api/fs/roots", None).await?.expect(StatusCode::OK)?;
    assert_eq!(roots["roots"].as_array().map(Vec::len), Some(1), "{roots}");
    // Nothing went to the data directory instead.
    assert_eq!(fs.entries("").await?, vec![]);
    Ok(())
}

#[tokio::test]
async fn a_dead_namenode_is_a_503_that_says_what_to_do() -> Result<()> {
    let data = TempDir::new("dead-hdfs")?;
    let port = unused_port()?;
    let url = format!("http://127.0.0.1:{port}");
    let gateway = Gateway::start_with(data.path(), GatewayOptions { hdfs: Some(url), ..Default::default() })?;
    let mut fs = Fs::new(&gateway.url);
    // A generous cap, not a timing assertion: the gateway must answer at all.
    fs.http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build()?;
    let path = "hdfs:///tmp/purchases";
    for answer in [
        fs.list(path).await?,
        fs.stat(path).await?,
        fs.read(path).await?,
        fs.put(path, b"x".to_vec(), false).await?,
        fs.open_write(path, "overwrite").await?,
    ] {
        let message = answer.error(StatusCode::SERVICE_UNAVAILABLE)?;
        assert!(message.contains(&format!("127.0.0.1:{port}")), "{}: {message}", answer.what);
        assert!(message.contains("hdfs.sh start") || message.contains("xtask hdfs"), "{}: {message}", answer.what);
    }
    // The local data root still works.
    fs.put("ok.txt", b"fine".to_vec(), false).await?.expect(StatusCode::CREATED)?;
    assert_eq!(fs.read("ok.txt").await?.expect_bytes(StatusCode::OK)?, b"fine");
    Ok(())
}

// ---------------------------------------------------------------------------
// In the browser: MISSION workflows 3 and 4 onto HDFS
// ---------------------------------------------------------------------------

/// Waits for a cell's error and returns its text.
async fn cell_error(browser: &Browser, id: &str) -> Result<String> {
    let css = format!(r#".notebook:not([hidden]) section[data-cell-id="{id}"] .cell-error"#);
    Ok(browser.wait_for(&css, Duration::from_secs(120)).await?.text().await?)
}

/// Runs a cell in the next empty cell and waits for its result.
async fn run(browser: &Browser, sql: &str) -> Result<String> {
    let id = last_cell_id(browser).await?;
    run_cell(browser, &id, sql).await?;
    wait_for_result(browser, &id).await.with_context(|| format!("running {sql}"))?;
    Ok(id)
}

/// A result table's cells, row by row.
async fn rows(browser: &Browser, id: &str) -> Result<Vec<Vec<String>>> {
    let mut out = Vec::new();
    let css = format!(r#".notebook:not([hidden]) section[data-cell-id="{id}"] table.result tbody tr"#);
    for tr in browser.client.find_all(Locator::Css(&css)).await? {
        let mut row = Vec::new();
        for td in tr.find_all(Locator::Css("td")).await? {
            row.push(td.text().await?);
        }
        out.push(row);
    }
    Ok(out)
}

/// Checks an output directory through the API: `parts` part files plus `_SUCCESS`, nothing staged.
async fn check_output(fs: &Fs, dir: &str, parts: usize) -> Result<()> {
    let entries = fs.entries(dir).await?;
    let data: Vec<&Entry> = entries.iter().filter(|e| e.data).collect();
    assert_eq!(data.len(), parts, "{entries:#?}");
    assert!(data.iter().all(|e| e.name.starts_with("part-") && e.name.ends_with(".parquet") && e.size > 0));
    let others: Vec<&str> = entries.iter().filter(|e| !e.data).map(|e| e.name.as_str()).collect();
    assert_eq!(others, ["_SUCCESS"], "{entries:#?}");
    assert_eq!(fs.part_files(dir).await?.len(), parts);
    Ok(())
}

/// MISSION workflow 3: game events into Kafka, read and parsed in cells,
/// split by type, purchases written to `hdfs:///tmp/purchases` (overwrite),
/// then queried back; every number checked against the JSON lines.
#[tokio::test]
async fn workflow_3_game_events_to_parquet_on_hdfs() -> Result<()> {
    let Some(hdfs) = require_hdfs("workflow_3_game_events_to_parquet_on_hdfs")? else { return Ok(()) };
    let data = sample_data_root()?;
    let gateway = Gateway::start_with(data.path(), GatewayOptions { hdfs: Some(hdfs), ..Default::default() })?;
    let fs = Fs::new(&gateway.url);

    // The events, as the game's web API logged them, into a topic of this test's own.
    let text = std::fs::read_to_string(repo().join("data/samples/game_events.jsonl"))?;
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let events: Vec<Value> = lines.iter().map(|l| serde_json::from_str(l)).collect::<Result<_, _>>()?;
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH)?.as_nanos();
    let topic = format!("hdfs-events-{}-{nanos}", std::process::id());
    let created = fs
        .http
        .post(format!("{}/api/kafka/topics", fs.url))
        .json(&json!({ "name": topic, "partitions": 1 }))
        .send()
        .await?;
    ensure!(created.status() == StatusCode::CREATED, "create {topic}: {}", created.text().await?);
    let produced = fs
        .http
        .post(format!("{}/api/kafka/topics/{topic}/produce", fs.url))
        .header("content-type", "text/plain")
        .body(format!("{}\n", lines.join("\n")))
        .send()
        .await?;
    ensure!(produced.status() == StatusCode::OK, "produce: {}", produced.text().await?);

    // What the cells must find, from the JSON lines.
    let mut by_type: BTreeMap<String, usize> = BTreeMap::new();
    for e in &events {
        *by_type.entry(e["event_type"].as_str().context("no event_type")?.to_string()).or_default() += 1;
    }
    let purchases: Vec<&Value> = events.iter().filter(|e| e["event_type"] == "purchase_sword").collect();
    ensure!(!purchases.is_empty(), "the sample has no purchase_sword events");
    let mut by_sword: BTreeMap<String, (usize, i64)> = BTreeMap::new();
    for p in &purchases {
        let e = by_sword.entry(p["sword_type"].as_str().context("no sword_type")?.to_string()).or_default();
        e.0 += 1;
        e.1 += p["price"].as_i64().context("no price")?;
    }
    let total: i64 = by_sword.values().map(|(_, t)| t).sum();
    let guilds = by_type.get("join_guild").copied().unwrap_or_default();

    let browser = Browser::start().await?;
    browser.open_notebook(&gateway.url).await?;
    let id = run(
        &browser,
        &format!("-- name: events\nSELECT json_parse(CAST(value AS STRING)) AS e, timestamp FROM kafka('{topic}')"),
    )
    .await?;
    let count = cell_texts(&browser, &id, ".row-count").await?.join("");
    assert!(count.starts_with(&format!("{} rows", events.len())), "{count}");
    run(&browser, "-- name: flat\nSELECT e.*, timestamp FROM events").await?;

    // Separate the types.
    let id =
        run(&browser, "SELECT event_type, COUNT(*) AS n FROM flat GROUP BY event_type ORDER BY event_type").await?;
    let expected: Vec<Vec<String>> = by_type.iter().map(|(t, n)| vec![t.clone(), n.to_string()]).collect();
    assert_eq!(rows(&browser, &id).await?, expected);

    // Transform (as a UDF would), keep the Kafka timestamp, and write to HDFS.
    run(
        &browser,
        "-- name: purchases\nSELECT event_type, sword_type, price, price * 2 AS price_x2, UPPER(Host) AS host, \
         'v2' AS schema_version, timestamp FROM flat WHERE event_type = 'purchase_sword'",
    )
    .await?;
    let id =
        run(&browser, "COPY (SELECT * FROM purchases) TO 'hdfs:///tmp/purchases' (FORMAT parquet, MODE overwrite)")
            .await?;
    let notes = cell_texts(&browser, &id, "ul.notes li").await?.join("\n");
    assert!(notes.contains("hdfs:///tmp/purchases") && notes.contains("_SUCCESS"), "{notes}");
    check_output(&fs, "hdfs:///tmp/purchases", 1).await?;
    // Another type, with its nested struct, beside it.
    run(
        &browser,
        "COPY (SELECT event_type, guild, timestamp FROM flat WHERE event_type = 'join_guild') \
         TO 'hdfs:///tmp/join_guild' (FORMAT parquet, MODE overwrite)",
    )
    .await?;
    check_output(&fs, "hdfs:///tmp/join_guild", 1).await?;

    // Query the stored events with SQL, through the NameNode address users write.
    let id = run(
        &browser,
        "SELECT COUNT(*) AS n, SUM(price) AS total, SUM(price_x2) AS total_x2, \
         SUM(CASE WHEN timestamp IS NULL THEN 1 ELSE 0 END) AS no_ts, \
         SUM(CASE WHEN host = 'GAME.EXAMPLE:5000' THEN 1 ELSE 0 END) AS upper_hosts \
         FROM read_parquet('hdfs://namenode:8020/tmp/purchases')",
    )
    .await?;
    let expected_hosts = purchases
        .iter()
        .filter(|p| p["Host"].as_str().is_some_and(|h| h.to_uppercase() == "GAME.EXAMPLE:5000"))
        .count();
    assert_eq!(
        rows(&browser, &id).await?,
        vec![vec![
            purchases.len().to_string(),
            total.to_string(),
            (2 * total).to_string(),
            "0".to_string(),
            expected_hosts.to_string()
        ]]
    );
    let id = run(
        &browser,
        "SELECT sword_type, COUNT(*) AS n, SUM(price) AS total FROM read_parquet('hdfs:///tmp/purchases') \
         GROUP BY sword_type ORDER BY sword_type",
    )
    .await?;
    let expected: Vec<Vec<String>> =
        by_sword.iter().map(|(s, (n, t))| vec![s.clone(), n.to_string(), t.to_string()]).collect();
    assert_eq!(rows(&browser, &id).await?, expected);
    let id = run(
        &browser,
        "SELECT COUNT(*) AS n, COUNT(DISTINCT guild.name) AS names FROM read_parquet('hdfs:///tmp/join_guild')",
    )
    .await?;
    let names: std::collections::BTreeSet<&str> =
        events.iter().filter(|e| e["event_type"] == "join_guild").filter_map(|e| e["guild"]["name"].as_str()).collect();
    assert_eq!(rows(&browser, &id).await?, vec![vec![guilds.to_string(), names.len().to_string()]]);
    browser.screenshot("storage-workflow-3").await?;
    browser.close().await?;
    let _ = fs.http.delete(format!("{}/api/kafka/topics/{topic}?confirm={topic}", fs.url)).send().await;
    Ok(())
}

/// MISSION workflow 4 onto HDFS: a CSV with an explicit schema, four part
/// files plus `_SUCCESS`, read back; append doubles, the default mode refuses,
/// overwrite replaces. And a 0-byte file on either backend is a clear error.
#[tokio::test]
async fn workflow_4_csv_to_partitioned_parquet_on_hdfs() -> Result<()> {
    let Some(hdfs) = require_hdfs("workflow_4_csv_to_partitioned_parquet_on_hdfs")? else { return Ok(()) };
    let data = sample_data_root()?;
    let gateway = Gateway::start_with(data.path(), GatewayOptions { hdfs: Some(hdfs), ..Default::default() })?;
    let fs = Fs::new(&gateway.url);
    let dir = hdfs_test_dir("workflow4");
    let out = join(&dir, "trips");

    // Expectations from the CSV: rows, fare in cents, passengers, zones.
    let csv = std::fs::read_to_string(repo().join("data/samples/trips.csv"))?;
    let mut header = csv.lines().next().context("an empty CSV")?.split(',');
    ensure!(header.nth(5) == Some("fare"), "the sample's sixth column is not fare");
    let (mut n, mut cents, mut passengers) = (0u64, 0u64, 0u64);
    let mut zones = std::collections::BTreeSet::new();
    for line in csv.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        n += 1;
        zones.insert(f[2].to_string());
        passengers += f[3].parse::<u64>()?;
        let (whole, frac) = f[5].split_once('.').unwrap_or((f[5], "0"));
        cents += whole.parse::<u64>()? * 100 + format!("{frac:0<2}")[..2].parse::<u64>()?;
    }

    let browser = Browser::start().await?;
    browser.open_notebook(&gateway.url).await?;
    let copy = |mode: &str| {
        format!(
            "COPY (SELECT * FROM read_csv('samples/trips.csv', schema => 'trip_id BIGINT, pickup_datetime TIMESTAMP, \
             zone STRING, passengers INT, distance_km DOUBLE, fare DOUBLE')) \
             TO '{out}' (FORMAT parquet, PARTITIONS 4, MODE {mode})"
        )
    };
    let read_back = format!(
        "SELECT COUNT(*) AS n, CAST(ROUND(SUM(fare) * 100) AS BIGINT) AS cents, SUM(passengers) AS passengers, \
         COUNT(DISTINCT zone) AS zones FROM read_parquet('{out}')"
    );
    let once = vec![n.to_string(), cents.to_string(), passengers.to_string(), zones.len().to_string()];
    let twice =
        vec![(2 * n).to_string(), (2 * cents).to_string(), (2 * passengers).to_string(), zones.len().to_string()];

    let id = run(&browser, &copy("overwrite")).await?;
    let notes = cell_texts(&browser, &id, "ul.notes li").await?.join("\n");
    assert!(notes.contains("wrote 4 part file(s)") && notes.contains("_SUCCESS"), "{notes}");
    check_output(&fs, &out, 4).await?;
    let id = run(&browser, &read_back).await?;
    assert_eq!(rows(&browser, &id).await?, vec![once.clone()]);

    run(&browser, &copy("append")).await?;
    check_output(&fs, &out, 8).await?;
    let id = run(&browser, &read_back).await?;
    assert_eq!(rows(&browser, &id).await?, vec![twice]);

    // The default mode refuses existing data and changes nothing.
    let listing = fs.entries(&out).await?;
    let id = last_cell_id(&browser).await?;
    run_cell(&browser, &id, &copy("error")).await?;
    let text = cell_error(&browser, &id).await?;
    assert!(text.contains("already holds data") && text.contains("MODE overwrite"), "{text}");
    assert_eq!(fs.entries(&out).await?, listing);

    run(&browser, &copy("overwrite")).await?;
    check_output(&fs, &out, 4).await?;
    let id = run(&browser, &read_back).await?;
    assert_eq!(rows(&browser, &id).await?, vec![once]);

    // A 0-byte file, on HDFS and in the data directory: a clear error, not a parser's.
    for empty in [join(&dir, "empty.csv"), "empty.csv".to_string()] {
        fs.put(&empty, Vec::new(), false).await?.expect(StatusCode::CREATED)?;
        let id = last_cell_id(&browser).await?;
        run_cell(&browser, &id, &format!("SELECT * FROM read_csv('{empty}')")).await?;
        let text = cell_error(&browser, &id).await?;
        assert!(text.contains(&format!("'{empty}' is empty (0 bytes)")), "{text}");
    }
    browser.screenshot("storage-workflow-4").await?;
    browser.close().await?;
    let _ = fs.delete(&dir, true).await;
    Ok(())
}
