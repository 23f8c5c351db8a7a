//! Fetching a cell's sources from the gateway: a file's part files in
//! ranges (Parquet footers first), a Kafka range as Arrow IPC, with progress.

use std::cell::Cell;

use futures::StreamExt;
use riffle::CellError;
use riffle::engine::{
    FOOTER_GUESS, FileFormat, Footer, ParquetFooter, SourceData, SourceKind, SourceRequest, parquet_footer,
};
use riffle::ipc_progress::IpcProgress;
use riffle::protocol::{FromEngine, RunProgress, RunRequest};
use riffle::spark::HintLimits;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{ReadableStreamDefaultReader, RequestInit, Response};

use super::{Worker, encode, js_error};

/// How often a download reports progress.
pub(crate) const PROGRESS_EVERY_MS: f64 = 100.0;
/// Files are fetched in ranges of this size...
const RANGE_BYTES: u64 = 8 * 1024 * 1024;
/// ...this many at a time (Chrome opens up to 6 connections to one host).
const PARALLEL_FETCHES: usize = 4;

/// The most input one source may bring into the worker: wasm32 memory ends
/// at 4 GiB, and parsing needs room besides the bytes.
const MAX_SOURCE_BYTES: u64 = 1_500_000_000;

/// A file download in ranges: what has arrived of how much.
struct Transfer<'a> {
    progress: Progress<'a>,
    bytes: Cell<u64>,
    total_bytes: u64,
    total_rows: Option<u64>,
    last_report: Cell<f64>,
}

/// Who a download reports progress to.
struct Progress<'a> {
    run: &'a RunRequest,
    what: &'a str,
    started: f64,
    /// The body is an Arrow IPC stream whose rows can be counted.
    counts_rows: bool,
}

impl Worker {
    /// Adds a "run it on Spark" note when a source is over the gateway's limits.
    async fn hint_if_big(&self, what: &str, bytes: Option<u64>, messages: Option<u64>) {
        if self.hint_limits.borrow().is_none() {
            let limits = match self.call("GET", "/api/spark/status", None, "").await {
                Ok(status) => HintLimits {
                    bytes: status["hint_bytes"].as_u64().unwrap_or(HintLimits::default().bytes),
                    messages: status["hint_messages"].as_u64().unwrap_or(HintLimits::default().messages),
                },
                Err(_) => HintLimits::default(),
            };
            *self.hint_limits.borrow_mut() = Some(limits);
        }
        let limits = self.hint_limits.borrow().unwrap_or_default();
        if let Some(hint) = riffle::spark::sizing_hint(what, bytes, messages, &limits) {
            self.hints.borrow_mut().push(hint);
        }
    }

    /// Fetches what a source reads: each part file of a path, or a Kafka range.
    pub(crate) async fn fetch_source(
        &self,
        source: &SourceRequest,
        run: &RunRequest,
        started: f64,
    ) -> Result<(SourceData, Vec<String>), CellError> {
        let what = source.describe();
        let progress = |counts_rows| Progress { run, what: &what, started, counts_rows };
        match &source.kind {
            SourceKind::File { path, format, .. } => {
                let url = format!("/api/fs/parts?path={}", encode(path));
                let listing = self.fetch(&url, &what, None).await?;
                let listing: serde_json::Value = serde_json::from_slice(&listing)
                    .map_err(|e| CellError::new(format!("{what}: the gateway's file list is not JSON: {e}")))?;
                let files: Vec<(String, u64)> = listing["files"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|f| Some((f["path"].as_str()?.to_string(), f["size"].as_u64().unwrap_or(0))))
                            .collect()
                    })
                    .unwrap_or_default();
                let total_bytes: u64 = files.iter().map(|(_, size)| size).sum();
                if total_bytes > MAX_SOURCE_BYTES {
                    return Err(CellError::new(format!(
                        "{what} is {}; the browser engine holds at most {} of input",
                        riffle::text::human_bytes(total_bytes),
                        riffle::text::human_bytes(MAX_SOURCE_BYTES)
                    ))
                    .hint("read fewer part files (a subdirectory or one part), or run this cell on Spark"));
                }
                self.hint_if_big(&what, Some(total_bytes), None).await;
                // Parquet: the footers first (two small range reads each), so
                // a file that is not Parquet fails before its data is fetched,
                // and progress can say how many rows are coming.
                let mut total_rows = None;
                if *format == FileFormat::Parquet {
                    let footers =
                        futures::future::try_join_all(files.iter().map(|(p, size)| self.footer(p, *size, &what)))
                            .await?;
                    total_rows = Some(footers.iter().map(|f| f.rows).sum());
                }
                let transfer = Transfer {
                    progress: progress(false),
                    bytes: Cell::new(0),
                    total_bytes,
                    total_rows,
                    last_report: Cell::new(self.now()),
                };
                // Every file in ranges of at most RANGE_BYTES, fetched
                // PARALLEL_FETCHES at a time, in order.
                let ranges: Vec<(usize, u64, u64)> = files
                    .iter()
                    .enumerate()
                    .flat_map(|(i, (_, size))| {
                        (0..size.div_ceil(RANGE_BYTES)).map(move |k| {
                            let offset = k * RANGE_BYTES;
                            (i, offset, RANGE_BYTES.min(size - offset))
                        })
                    })
                    .collect();
                let mut parts: Vec<Vec<u8>> =
                    files.iter().map(|(_, size)| Vec::with_capacity(*size as usize)).collect();
                let mut fetches = futures::stream::iter(ranges.iter().map(|&(i, offset, length)| {
                    let file = &files[i].0;
                    let url = format!("/api/fs/read?path={}&offset={offset}&length={length}", encode(file));
                    let (transfer, what) = (&transfer, what.as_str());
                    async move { (i, self.fetch_range(&url, what, length, transfer).await) }
                }))
                .buffered(PARALLEL_FETCHES);
                while let Some((i, bytes)) = fetches.next().await {
                    parts[i].extend_from_slice(&bytes?);
                }
                drop(fetches);
                self.post_transfer(&transfer, self.now());
                Ok((SourceData { parts }, files.into_iter().map(|(path, _)| path).collect()))
            }
            SourceKind::Kafka(range) => {
                let url = format!("/api/kafka/topics/{}/read?{}", encode(&range.topic), range.to_query());
                let bytes = self.fetch(&url, &what, Some(progress(true))).await?;
                let mut counter = IpcProgress::new();
                counter.feed(&bytes);
                self.hint_if_big(&what, None, Some(counter.rows)).await;
                Ok((SourceData::single(bytes), Vec::new()))
            }
        }
    }

    /// A Parquet file's footer, read by range from the end of the file.
    async fn footer(&self, path: &str, size: u64, what: &str) -> Result<ParquetFooter, CellError> {
        let mut tail_len = FOOTER_GUESS.min(size);
        loop {
            let offset = size - tail_len;
            let url = format!("/api/fs/read?path={}&offset={offset}&length={tail_len}", encode(path));
            let tail = if tail_len == 0 { Vec::new() } else { self.fetch(&url, what, None).await? };
            match parquet_footer(&tail, size, path)? {
                Footer::Read(footer) => return Ok(footer),
                Footer::NeedTail(n) if n > tail_len && n <= size => tail_len = n,
                Footer::NeedTail(_) => {
                    return Err(CellError::new(format!("could not read {what}: the footer of '{path}' is cut short")));
                }
            }
        }
    }

    /// GETs one byte range of a file, adding what arrives to the transfer's
    /// progress.
    async fn fetch_range(
        &self,
        url: &str,
        what: &str,
        length: u64,
        transfer: &Transfer<'_>,
    ) -> Result<Vec<u8>, CellError> {
        let failed = |why: String| CellError::new(format!("could not read {what}: {why}"));
        let response = self.get(url, what).await?;
        let Some(stream) = response.body() else { return Ok(Vec::new()) };
        let reader: ReadableStreamDefaultReader = stream.get_reader().unchecked_into();
        let mut bytes = Vec::with_capacity(length as usize);
        loop {
            let chunk = JsFuture::from(reader.read()).await.map_err(|e| {
                failed(format!("the download broke off after {} bytes ({})", bytes.len(), js_error(&e)))
            })?;
            if js_sys::Reflect::get(&chunk, &"done".into()).ok().is_some_and(|d| d.is_truthy()) {
                break;
            }
            let Ok(value) = js_sys::Reflect::get(&chunk, &"value".into()) else { continue };
            let array: js_sys::Uint8Array = value.unchecked_into();
            let start = bytes.len();
            bytes.resize(start + array.length() as usize, 0);
            array.copy_to(&mut bytes[start..]);
            transfer.bytes.set(transfer.bytes.get() + array.length() as u64);
            let now = self.now();
            if now - transfer.last_report.get() >= PROGRESS_EVERY_MS {
                transfer.last_report.set(now);
                self.post_transfer(transfer, now);
            }
        }
        if bytes.len() as u64 != length {
            return Err(failed(format!("the download broke off after {} of {length} bytes", bytes.len())));
        }
        Ok(bytes)
    }

    fn post_transfer(&self, t: &Transfer<'_>, now: f64) {
        let p = &t.progress;
        self.post(
            &FromEngine::Progress(RunProgress {
                run_id: p.run.run_id,
                cell_id: p.run.cell_id.clone(),
                what: p.what.to_string(),
                rows: None,
                total_rows: t.total_rows,
                bytes: t.bytes.get(),
                total_bytes: Some(t.total_bytes),
                elapsed_ms: now - p.started,
                spark: None,
            }),
            None,
        );
    }

    /// A GET whose answer is 2xx, or the gateway's error message.
    async fn get(&self, url: &str, what: &str) -> Result<Response, CellError> {
        let failed = |why: String| CellError::new(format!("could not read {what}: {why}"));
        let init = RequestInit::new();
        if let Some(signal) = self.signal() {
            init.set_signal(Some(&signal));
        }
        let response = JsFuture::from(self.scope.fetch_with_str_and_init(url, &init))
            .await
            .map_err(|e| failed(format!("the gateway did not answer ({})", js_error(&e))))?;
        let response: Response = response.unchecked_into();
        if !response.ok() {
            let text = match response.text() {
                Ok(p) => JsFuture::from(p).await.ok().and_then(|t| t.as_string()).unwrap_or_default(),
                Err(_) => String::new(),
            };
            let detail = serde_json::from_str::<serde_json::Value>(&text)
                .ok()
                .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_string))
                .unwrap_or(text);
            return Err(failed(format!("{} {}", response.status(), detail)));
        }
        Ok(response)
    }

    /// GETs a gateway URL, streaming the body and reporting progress;
    /// errors name `what` and carry the gateway's message.
    async fn fetch(&self, url: &str, what: &str, progress: Option<Progress<'_>>) -> Result<Vec<u8>, CellError> {
        let failed = |why: String| CellError::new(format!("could not read {what}: {why}"));
        let response = self.get(url, what).await?;
        let Some(progress) = progress else {
            let buffer = response
                .array_buffer()
                .map(JsFuture::from)
                .map_err(|e| failed(js_error(&e)))?
                .await
                .map_err(|e| failed(format!("the download broke off ({})", js_error(&e))))?;
            return Ok(js_sys::Uint8Array::new(&buffer).to_vec());
        };
        let total_rows: Option<u64> =
            response.headers().get("x-riffle-messages").ok().flatten().and_then(|v| v.parse().ok());
        let Some(stream) = response.body() else { return Ok(Vec::new()) };
        let reader: ReadableStreamDefaultReader = stream.get_reader().unchecked_into();
        let mut bytes = Vec::new();
        let mut counter = IpcProgress::new();
        let mut last_report = self.now();
        loop {
            let chunk = JsFuture::from(reader.read()).await.map_err(|e| {
                failed(format!("the download broke off after {} bytes ({})", bytes.len(), js_error(&e)))
            })?;
            let done = js_sys::Reflect::get(&chunk, &"done".into()).ok().is_some_and(|d| d.is_truthy());
            if done {
                break;
            }
            let Ok(value) = js_sys::Reflect::get(&chunk, &"value".into()) else { continue };
            let array: js_sys::Uint8Array = value.unchecked_into();
            let start = bytes.len();
            bytes.resize(start + array.length() as usize, 0);
            array.copy_to(&mut bytes[start..]);
            if progress.counts_rows {
                counter.feed(&bytes[start..]);
            } else {
                counter.bytes = bytes.len() as u64;
            }
            let now = self.now();
            if now - last_report >= PROGRESS_EVERY_MS {
                last_report = now;
                self.post_progress(&progress, &counter, total_rows, now);
            }
        }
        if progress.counts_rows && !counter.finished() {
            // A good stream ends with Arrow's end marker; without it the read
            // stopped half way (the broker went away, or it stalled).
            let total = total_rows.map_or("?".to_string(), |t| t.to_string());
            return Err(failed(format!(
                "the stream ended early, after {} of {total} rows; the gateway's log says why",
                counter.rows
            ))
            .hint("run the cell again; if it keeps failing, check that Kafka is up"));
        }
        self.post_progress(&progress, &counter, total_rows, self.now());
        Ok(bytes)
    }

    fn post_progress(&self, p: &Progress<'_>, counter: &IpcProgress, total_rows: Option<u64>, now: f64) {
        let message = FromEngine::Progress(RunProgress {
            run_id: p.run.run_id,
            cell_id: p.run.cell_id.clone(),
            what: p.what.to_string(),
            rows: p.counts_rows.then_some(counter.rows),
            total_rows: if p.counts_rows { total_rows } else { None },
            bytes: counter.bytes,
            total_bytes: None,
            elapsed_ms: now - p.started,
            spark: None,
        });
        self.post(&message, None);
    }
}
