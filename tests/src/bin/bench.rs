//! `cargo xtask bench`: Riffle's workloads, side by side in one run.
//!
//! - W0, W1: natively and in the browser worker; medians and the wasm/native ratio.
//! - W2: a 1,000,000-message topic read through the gateway into a DataFrame
//!   in the browser worker, against `kcat -C -e` on the same topic; messages
//!   per second and the ratio.
//! - W3: a ~100 MB Parquet file on HDFS read into the browser worker, against
//!   `curl -L` on WebHDFS OPEN for the same file; MB/s and the ratio.
//! - W6: a taxi-like revenue report (join, group-by, window) over 5,000,000
//!   generated trips on HDFS, run as a notebook cell in the browser worker
//!   and the same cell with `-- engine: spark` on the local Spark Connect
//!   server; medians and the ratio (needs RIFFLE_HDFS and RIFFLE_SPARK).
//! - W5: a 1,000,000-row result table in the page, scrolled from JavaScript
//!   (idle 5 s as a baseline, 10,000 px per animation frame for 5 s, then
//!   random jumps); frames per second and long frames (> 50 ms). No pass or
//!   fail, only figures.
//! - W7: a 5,000,000-row, ~330 MB smart-meter CSV read by `read_csv` in the
//!   browser worker, summed per group and written as 8 Parquet parts; each
//!   step's time and the engine's memory after it.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use riffle::bench::Workload;
use riffle::protocol::BenchReport;
use riffle_tests::{Browser, Gateway, TempDir, median};

#[path = "bench/w7.rs"]
mod w7;

struct Args {
    workloads: Vec<Workload>,
    /// Run W2 (needs a broker: RIFFLE_KAFKA_BOOTSTRAP, as `cargo xtask bench` sets).
    w2: bool,
    /// Run W3 (needs HDFS: RIFFLE_HDFS, as `cargo xtask bench` sets).
    w3: bool,
    /// Run W4 (a cold page load to the first cell's result).
    w4: bool,
    /// Run W5 (the result table's scrolling).
    w5: bool,
    /// Run W6 (the revenue report in the browser and on Spark).
    w6: bool,
    /// Run W7 (a 5,000,000-row smart-meter CSV in the browser worker).
    w7: bool,
    rows: usize,
    iterations: usize,
}

fn args() -> Result<Args> {
    let mut out = Args {
        workloads: vec![Workload::W0, Workload::W1],
        w2: true,
        w3: true,
        w4: true,
        w5: true,
        w6: true,
        w7: true,
        rows: 1_000_000,
        iterations: 7,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--rows" => out.rows = value.parse()?,
            "--iterations" => out.iterations = value.parse()?,
            "--workloads" => {
                out.w2 = value.split(',').any(|w| w.eq_ignore_ascii_case("w2"));
                out.w3 = value.split(',').any(|w| w.eq_ignore_ascii_case("w3"));
                out.w4 = value.split(',').any(|w| w.eq_ignore_ascii_case("w4"));
                out.w5 = value.split(',').any(|w| w.eq_ignore_ascii_case("w5"));
                out.w6 = value.split(',').any(|w| w.eq_ignore_ascii_case("w6"));
                out.w7 = value.split(',').any(|w| w.eq_ignore_ascii_case("w7"));
                out.workloads = value
                    .split(',')
                    .filter(|w| !["w2", "w3", "w4", "w5", "w6", "w7"].iter().any(|x| w.eq_ignore_ascii_case(x)))
                    .map(|w| {
                        Workload::parse(w).with_context(|| format!("unknown workload {w}; use w0,w1,w2,w3,w4,w5,w6,w7"))
                    })
                    .collect::<Result<_>>()?
            }
            other => bail!("unknown flag {other}; use --workloads w0,w1 --rows N --iterations K"),
        }
    }
    Ok(out)
}

fn native(workload: Workload, rows: usize, iterations: usize) -> Result<BenchReport> {
    let mut session = workload.session(rows);
    let mut times_ms = Vec::new();
    let mut checksum = String::new();
    for _ in 0..iterations {
        let t0 = Instant::now();
        checksum = workload.run(&mut session)?;
        times_ms.push(t0.elapsed().as_secs_f64() * 1e3);
    }
    Ok(BenchReport { workload: workload.name().into(), rows, times_ms, checksum })
}

async fn in_browser(
    browser: &Browser,
    gateway: &Gateway,
    workload: Workload,
    rows: usize,
    iterations: usize,
) -> Result<BenchReport> {
    let url = format!("{}/?bench={}&rows={rows}&iterations={iterations}", gateway.url, workload.name());
    browser.open_notebook(&url).await?;
    let el = browser.wait_for("#bench-result:not([hidden])", Duration::from_secs(900)).await?;
    Ok(serde_json::from_str(&el.text().await?)?)
}

#[tokio::main]
async fn main() -> Result<()> {
    let Args { workloads, w2, w3, w4, w5, w6, w7, rows, iterations } = args()?;
    // `cargo xtask bench` runs natively on one Polars thread, as the browser worker has one.
    let threads = std::env::var("POLARS_MAX_THREADS").unwrap_or_else(|_| "all cores".into());
    eprintln!("{rows} rows, {iterations} iterations each; native POLARS_MAX_THREADS={threads}");
    let data = TempDir::new("bench")?;
    let gateway = Gateway::start(data.path())?;
    let browser = Browser::start().await?;
    if !workloads.is_empty() {
        println!("workload  rows       native_ms  browser_ms  ratio(browser/native)  what");
    }
    for workload in workloads {
        let native = native(workload, rows, iterations)?;
        let wasm = in_browser(&browser, &gateway, workload, rows, iterations).await?;
        if native.checksum != wasm.checksum {
            bail!("{}: native and browser disagree: {} vs {}", workload.name(), native.checksum, wasm.checksum);
        }
        let (n, w) = (median(&native.times_ms), median(&wasm.times_ms));
        println!(
            "{:<9} {rows:<10} {n:>9.1}  {w:>10.1}  {:>6.2}x                 {}",
            workload.name().to_uppercase(),
            w / n,
            workload.describe()
        );
        println!("  native runs:  {:?}", native.times_ms.iter().map(|t| format!("{t:.1}")).collect::<Vec<_>>());
        println!("  browser runs: {:?}", wasm.times_ms.iter().map(|t| format!("{t:.1}")).collect::<Vec<_>>());
        println!("  checksum: {}", native.checksum);
    }
    if w2 {
        w2_kafka(&browser, &gateway, rows, iterations.min(5)).await?;
    }
    if w3 {
        match riffle_tests::hdfs_url() {
            Some(hdfs) => w3_hdfs(&browser, &gateway, &hdfs, iterations.min(5)).await?,
            None => eprintln!("W3 skipped: RIFFLE_HDFS is not set (`cargo xtask bench` starts HDFS and sets it)"),
        }
    }
    if w4 {
        w4_first_result(iterations.min(7)).await?;
    }
    if w5 {
        w5_scroll(&browser, &gateway, data.path(), rows).await?;
    }
    if w6 {
        match (riffle_tests::hdfs_url(), riffle_tests::spark_url()) {
            (Some(_), Some(_)) => w6_report(&browser, &gateway, data.path(), iterations.min(5)).await?,
            _ => eprintln!("W6 skipped: RIFFLE_HDFS and RIFFLE_SPARK are needed (`cargo xtask bench` starts both)"),
        }
    }
    if w7 {
        w7::w7_meter(&browser, &gateway, data.path(), 5_000_000).await?;
    }
    browser.close().await?;
    Ok(())
}

/// W2: the same topic read by kcat and by a `kafka('...')` cell's path in
/// the browser worker (gateway range read → Arrow IPC → DataFrame → query).
async fn w2_kafka(browser: &Browser, gateway: &Gateway, rows: usize, iterations: usize) -> Result<()> {
    let bootstrap = riffle_tests::kafka_bootstrap();
    let http = reqwest::Client::new();
    let topic = format!("bench-w2-{rows}");
    let api = format!("{}/api/kafka/topics", gateway.url);
    let existing: serde_json::Value = http.get(format!("{api}/{topic}")).send().await?.json().await?;
    if existing["messages"].as_u64() != Some(rows as u64) {
        if existing["messages"].is_u64() {
            http.delete(format!("{api}/{topic}?confirm={topic}")).send().await?.error_for_status()?;
        }
        let created = http.post(&api).json(&serde_json::json!({ "name": topic, "partitions": 3 })).send().await?;
        created.error_for_status()?;
        // JSON events like W1's, one per line, in chunks.
        let started = Instant::now();
        let chunk = 200_000;
        for start in (0..rows).step_by(chunk) {
            let mut body = String::with_capacity(chunk * 80);
            for i in start..(start + chunk).min(rows) {
                let kind = ["default", "purchase_sword", "join_guild"][i % 3];
                body.push_str(&format!(
                    r#"{{"event_type":"{kind}","user":"u{}","amount":{}.{:02},"seq":{i}}}"#,
                    i % 9973,
                    i % 500,
                    i % 100
                ));
                body.push('\n');
            }
            let r = http
                .post(format!("{api}/{topic}/produce?format=lines&results=errors"))
                .header("content-type", "text/plain")
                .body(body)
                .send()
                .await?;
            let status = r.status();
            let text = r.text().await?;
            if !status.is_success() {
                bail!("producing the W2 topic failed: {status} {text}");
            }
        }
        let secs = started.elapsed().as_secs_f64();
        println!(
            "W2 setup: produced {rows} messages through the gateway in {secs:.1} s ({:.0} msg/s, acks=all)",
            rows as f64 / secs
        );
    }

    let mut kcat_ms = Vec::new();
    for _ in 0..iterations {
        let t0 = Instant::now();
        let out = std::process::Command::new("kcat")
            .args(["-C", "-b", &bootstrap, "-t", &topic, "-o", "beginning", "-e", "-q"])
            .output()
            .context("could not run kcat (scripts/bootstrap.sh installs it)")?;
        kcat_ms.push(t0.elapsed().as_secs_f64() * 1e3);
        let lines = out.stdout.iter().filter(|&&b| b == b'\n').count();
        if !out.status.success() || lines != rows {
            bail!("kcat read {lines} messages, expected {rows}: {}", String::from_utf8_lossy(&out.stderr));
        }
    }
    let url = format!("{}/?bench=w2&topic={topic}&rows={rows}&iterations={iterations}", gateway.url);
    browser.open_notebook(&url).await?;
    let el = browser.wait_for("#bench-result:not([hidden])", Duration::from_secs(900)).await?;
    let report: BenchReport = serde_json::from_str(&el.text().await?)?;
    if !report.checksum.starts_with(&format!("n={rows} ")) {
        bail!("W2 in the browser: expected {rows} rows, got {}", report.checksum);
    }
    let (k, b) = (median(&kcat_ms), median(&report.times_ms));
    let rate = |ms: f64| rows as f64 / (ms / 1e3);
    println!("workload  messages   kcat_ms  browser_ms  kcat_msg/s  browser_msg/s  ratio(browser/kcat time)");
    println!("W2        {rows:<9} {k:>8.1}  {b:>10.1}  {:>10.0}  {:>13.0}  {:.2}x", rate(k), rate(b), b / k);
    println!("  kcat runs:    {:?}", kcat_ms.iter().map(|t| format!("{t:.1}")).collect::<Vec<_>>());
    println!("  browser runs: {:?}", report.times_ms.iter().map(|t| format!("{t:.1}")).collect::<Vec<_>>());
    println!("  checksum: {}", report.checksum);
    Ok(())
}

/// The Parquet file W3 reads, about 100 MB: ids, players, amounts, event
/// types and a random token per row (so it does not compress away).
fn w3_parquet(rows: usize) -> Result<Vec<u8>> {
    use polars::prelude::*;
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut ids = Vec::with_capacity(rows);
    let mut users = Vec::with_capacity(rows);
    let mut amounts = Vec::with_capacity(rows);
    let mut kinds = Vec::with_capacity(rows);
    let mut tokens = Vec::with_capacity(rows);
    for i in 0..rows {
        let r = next();
        ids.push(i as i64);
        users.push(format!("u{}", r % 100_000));
        amounts.push((r % 100_000) as f64 / 100.0);
        kinds.push(["default", "purchase_sword", "join_guild"][i % 3]);
        tokens.push(format!("{:016x}", next()));
    }
    let df = df!("id" => ids, "player" => users, "amount" => amounts, "event_type" => kinds, "token" => tokens)?;
    Ok(riffle::engine::export(&df, riffle::engine::ExportFormat::Parquet, riffle::engine::Compression::Snappy)?)
}

/// W3: a ~100 MB Parquet file on HDFS read into the browser worker (as a
/// `read_parquet('hdfs:///...')` cell does: footer by range, then 8 MiB
/// ranges through the gateway, then decoded and queried) against
/// `curl -L` on WebHDFS OPEN (NameNode redirect, DataNode bytes to /dev/null).
async fn w3_hdfs(browser: &Browser, gateway: &Gateway, hdfs: &str, iterations: usize) -> Result<()> {
    let rows = 3_400_000;
    let http = reqwest::Client::new();
    let file = "riffle-bench/w3.parquet";
    let path = format!("hdfs:///{file}");
    let api = format!("{}/api/fs", gateway.url);
    let stat: serde_json::Value = http.get(format!("{api}/stat?path={path}")).send().await?.json().await?;
    let marker = format!("{api}/stat?path=hdfs:///riffle-bench/w3-{rows}.rows");
    let ready = http.get(&marker).send().await?.status().is_success();
    let size = match stat["size"].as_u64() {
        Some(size) if ready => size,
        _ => {
            let bytes = w3_parquet(rows)?;
            let size = bytes.len() as u64;
            let r = http.put(format!("{api}/files?path={path}&overwrite=true")).body(bytes).send().await?;
            if !r.status().is_success() {
                bail!("uploading the W3 file to HDFS failed: {} {}", r.status(), r.text().await?);
            }
            http.put(format!("{api}/files?path=hdfs:///riffle-bench/w3-{rows}.rows&overwrite=true"))
                .body(rows.to_string())
                .send()
                .await?
                .error_for_status()?;
            size
        }
    };
    let open = format!("{}/webhdfs/v1/{file}?op=OPEN&user.name=riffle", hdfs.trim_end_matches('/'));
    let mut curl_ms = Vec::new();
    for _ in 0..iterations {
        let t0 = Instant::now();
        let out = std::process::Command::new("curl")
            .args(["-sS", "-L", "-o", "/dev/null", "-w", "%{size_download}", &open])
            .output()
            .context("could not run curl")?;
        curl_ms.push(t0.elapsed().as_secs_f64() * 1e3);
        let got: u64 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap_or(0);
        if !out.status.success() || got != size {
            bail!("curl read {got} of {size} bytes: {}", String::from_utf8_lossy(&out.stderr));
        }
    }
    let url = format!("{}/?bench=w3&path={path}&rows={rows}&iterations={iterations}", gateway.url);
    browser.open_notebook(&url).await?;
    let el = browser.wait_for("#bench-result:not([hidden])", Duration::from_secs(900)).await?;
    let report: BenchReport = serde_json::from_str(&el.text().await?)?;
    if !report.checksum.starts_with(&format!("n={rows} ")) {
        bail!("W3 in the browser: expected {rows} rows, got {}", report.checksum);
    }
    let (c, b) = (median(&curl_ms), median(&report.times_ms));
    let mb_s = |ms: f64| size as f64 / 1e6 / (ms / 1e3);
    println!("workload  file_MB  curl_ms  browser_ms  curl_MB/s  browser_MB/s  ratio(browser/curl time)");
    println!(
        "W3        {:<7.1} {c:>8.1}  {b:>10.1}  {:>9.1}  {:>12.1}  {:.2}x",
        size as f64 / 1e6,
        mb_s(c),
        mb_s(b),
        b / c
    );
    println!("  curl runs:    {:?}", curl_ms.iter().map(|t| format!("{t:.1}")).collect::<Vec<_>>());
    println!("  browser runs: {:?}", report.times_ms.iter().map(|t| format!("{t:.1}")).collect::<Vec<_>>());
    println!("  checksum: {}", report.checksum);
    Ok(())
}

/// W5: a `rows`-row result table (a Parquet file read by a cell) scrolled
/// from JavaScript while requestAnimationFrame counts frames: first 5 s not
/// scrolled (the machine's baseline), then 10,000 px per frame for 5 s
/// (pages fetched from the engine as they come into view), then a jump to a
/// random place every frame for 5 s. Reports frames per
/// second, frames longer than 50 ms, the longest frame, and how many rows in
/// view were still placeholders at the end of each phase.
async fn w5_scroll(browser: &Browser, gateway: &Gateway, data: &std::path::Path, rows: usize) -> Result<()> {
    use polars::prelude::*;
    let ids: Vec<i64> = (0..rows as i64).collect();
    let labels: Vec<String> = (0..rows).map(|i| format!("row-{i}")).collect();
    let amounts: Vec<f64> = (0..rows).map(|i| i as f64 / 100.0).collect();
    let df = df!("id" => ids, "label" => labels, "amount" => amounts)?;
    let bytes =
        riffle::engine::export(&df, riffle::engine::ExportFormat::Parquet, riffle::engine::Compression::Snappy)?;
    std::fs::write(data.join("w5.parquet"), bytes)?;

    browser.open_notebook(&gateway.url).await?;
    // Type the cell into the last cell's editor as one input, then run it.
    let typed = browser
        .client
        .execute(
            r#"
            const cells = document.querySelectorAll('section.cell');
            const cell = cells[cells.length - 1];
            const input = cell && cell.querySelector('.cm-content, textarea.cell-input');
            if (!input) return null;
            input.focus();
            document.execCommand('insertText', false, arguments[0]);
            return cell.dataset.cellId;
            "#,
            vec!["-- name: w5\nSELECT * FROM read_parquet('w5.parquet')".into()],
        )
        .await?;
    let id = typed.as_str().context("W5: found no cell to type into")?.to_string();
    let cell = format!(r#"section[data-cell-id="{id}"]"#);
    let input = browser.client.find(fantoccini::Locator::Css(&format!("{cell} .cm-content, {cell} textarea"))).await?;
    let shift_enter: String =
        [char::from(fantoccini::key::Key::Shift), char::from(fantoccini::key::Key::Enter)].iter().collect();
    let started = Instant::now();
    input.send_keys(&shift_enter).await?;
    browser.wait_for(&format!("{cell} .result-viewport tr[data-row]"), std::time::Duration::from_secs(300)).await?;
    let shown_s = started.elapsed().as_secs_f64();

    let script = r#"
        const [selector, mode, seconds] = arguments;
        const done = arguments[arguments.length - 1];
        const v = document.querySelector(selector);
        if (!v) { done({ error: 'no result viewport' }); return; }
        const max = () => v.scrollHeight - v.clientHeight;
        let frames = 0, long = 0, worst = 0, state = 12345;
        const start = performance.now();
        let last = start;
        function tick(now) {
            const dt = now - last;
            last = now;
            frames++;
            if (dt > 50) long++;
            if (dt > worst) worst = dt;
            if (mode === 'idle') {
                // The baseline: the same page, not scrolled.
            } else if (mode === 'fling') {
                v.scrollTop = v.scrollTop + 10000 > max() ? 0 : v.scrollTop + 10000;
            } else {
                state = (state * 1103515245 + 12345) % 2147483648;
                v.scrollTop = max() * (state / 2147483648);
            }
            if (now - start < seconds * 1000) {
                requestAnimationFrame(tick);
                return;
            }
            // Stopped: how long until the rows in view are loaded (at most 10 s).
            const stopped = performance.now();
            const rendered = v.querySelectorAll('tr[data-row]').length;
            const loading = v.querySelectorAll('tr.loading').length;
            const settle = () => {
                const waited = performance.now() - stopped;
                if (v.querySelector('tr.loading') && waited < 10000) {
                    requestAnimationFrame(settle);
                    return;
                }
                done({ frames, long, worst, seconds: (now - start) / 1000, loading, rendered, settle: waited });
            };
            requestAnimationFrame(settle);
        }
        requestAnimationFrame(tick);
    "#;
    let selector = format!("{cell} .result-viewport");
    println!(
        "workload  phase   frames  seconds  frames/s  long(>50ms)  worst_ms  rows_in_dom  placeholders_at_stop  loaded_after_ms"
    );
    for mode in ["idle", "fling", "jump"] {
        let out = browser.client.execute_async(script, vec![selector.clone().into(), mode.into(), 5.into()]).await?;
        if let Some(error) = out["error"].as_str() {
            bail!("W5: {error}");
        }
        let frames = out["frames"].as_f64().unwrap_or_default();
        let seconds = out["seconds"].as_f64().unwrap_or(f64::NAN);
        println!(
            "W5        {mode:<6}  {frames:>6}  {seconds:>7.2}  {:>8.1}  {:>11}  {:>8.1}  {:>11}  {:>20}  {:>15.0}",
            frames / seconds,
            out["long"],
            out["worst"].as_f64().unwrap_or_default(),
            out["rendered"],
            out["loading"],
            out["settle"].as_f64().unwrap_or(f64::NAN)
        );
    }
    println!("  {rows} rows; the first rows showed {shown_s:.1} s after Shift+Enter (read, query, first page)");
    println!("  (frames are requestAnimationFrame callbacks; the machine's load shows in them: no pass or fail)");
    Ok(())
}

/// W4: a cold page load to the first cell's result. Each iteration is a new
/// Chromium profile (empty HTTP cache, empty IndexedDB) opening the gateway's
/// page, which shows the default notebook; its group-by cell (a CSV fetched
/// through the gateway, parsed and grouped in the worker) is run with
/// Ctrl+Enter. The page's own User Timing marks give the figures, so the time
/// WebDriver takes to find the cell and press the keys is left out:
/// first result = navigation → engine ready, plus run → result.
async fn w4_first_result(iterations: usize) -> Result<()> {
    let data = riffle_tests::sample_data_root()?;
    let gateway = Gateway::start(data.path())?;
    let (mut ready, mut run, mut total, mut wall) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..iterations {
        let browser = Browser::start().await?;
        let started = Instant::now();
        browser.open_notebook(&gateway.url).await?;
        let cells = browser.client.find_all(fantoccini::Locator::Css("section.cell")).await?;
        let id = cells.get(1).context("the default notebook has a second cell")?.attr("data-cell-id").await?;
        let id = id.context("a cell without data-cell-id")?;
        let input = browser
            .client
            .find(fantoccini::Locator::Css(&format!(r#"section[data-cell-id="{id}"] .cm-content"#)))
            .await?;
        input.click().await?;
        let ctrl_enter: String =
            [char::from(fantoccini::key::Key::Control), char::from(fantoccini::key::Key::Enter)].iter().collect();
        input.send_keys(&ctrl_enter).await?;
        browser.wait_for(&format!(r#"section[data-cell-id="{id}"] .row-count"#), Duration::from_secs(120)).await?;
        wall.push(started.elapsed().as_secs_f64() * 1e3);
        let marks = browser
            .client
            .execute(
                "const at = n => { const e = performance.getEntriesByName(n); return e.length ? e[e.length - 1].startTime : null; }; \
                 return [at('riffle-engine-ready'), at('riffle-run'), at('riffle-result')];",
                vec![],
            )
            .await?;
        let mark = |i: usize| marks[i].as_f64().with_context(|| format!("mark {i} missing: {marks}"));
        let (r, sent, done) = (mark(0)?, mark(1)?, mark(2)?);
        ready.push(r);
        run.push(done - sent);
        total.push(r + (done - sent));
        browser.close().await?;
    }
    let fmt = |v: &[f64]| v.iter().map(|t| format!("{t:.0}")).collect::<Vec<_>>();
    println!(
        "W4        cold page load → first cell result (group-by over samples/trips.csv), {iterations} fresh profiles"
    );
    println!("  navigation → engine ready:  median {:.0} ms  {:?}", median(&ready), fmt(&ready));
    println!("  run → result rendered:      median {:.0} ms  {:?}", median(&run), fmt(&run));
    println!("  first result (the two):     median {:.0} ms  {:?}", median(&total), fmt(&total));
    println!("  wall clock incl. WebDriver: median {:.0} ms", median(&wall));
    Ok(())
}

/// The W6 data: `rows` trips over 31 days and 263 zones, as 4 Parquet parts,
/// and the zones with their boroughs.
fn w6_data(rows: usize) -> Result<(Vec<Vec<u8>>, Vec<u8>)> {
    use polars::prelude::*;
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let parts = 4;
    let mut out = Vec::new();
    for part in 0..parts {
        let n = rows / parts + usize::from(part < rows % parts);
        let (mut ids, mut days, mut zones, mut passengers, mut distance, mut fare) =
            (Vec::with_capacity(n), Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for i in 0..n {
            let r = next();
            ids.push((part * rows / parts + i) as i64);
            days.push((r % 31) as i32 + 1);
            zones.push(((r >> 8) % 263) as i32 + 1);
            passengers.push(((r >> 20) % 4) as i32 + 1);
            let km = ((r >> 24) % 3000) as f64 / 100.0;
            distance.push(km);
            fare.push(((300.0 + km * 180.0) as i64) as f64 / 100.0);
        }
        let df = df!("trip_id" => ids, "pickup_day" => days, "zone_id" => zones, "passengers" => passengers,
            "distance_km" => distance, "fare" => fare)?;
        out.push(riffle::engine::export(
            &df,
            riffle::engine::ExportFormat::Parquet,
            riffle::engine::Compression::Snappy,
        )?);
    }
    let boroughs = ["Manhattan", "Brooklyn", "Queens", "Bronx", "Staten Island", "EWR"];
    let ids: Vec<i32> = (1..=263).collect();
    let names: Vec<&str> = ids.iter().map(|i| boroughs[*i as usize % boroughs.len()]).collect();
    let zones = df!("zone_id" => ids, "borough" => names)?;
    let zones =
        riffle::engine::export(&zones, riffle::engine::ExportFormat::Parquet, riffle::engine::Compression::Snappy)?;
    Ok((out, zones))
}

/// The report: revenue and trips per borough and day (a join and a
/// group-by), each borough's share of the day (a window), ordered.
const W6_REPORT: &str = "WITH daily AS (
  SELECT z.borough, t.pickup_day AS day, SUM(t.fare) AS revenue, COUNT(*) AS trips
  FROM read_parquet('hdfs:///riffle-bench/w6/trips') t
  JOIN read_parquet('hdfs:///riffle-bench/w6/zones') z ON t.zone_id = z.zone_id
  GROUP BY z.borough, t.pickup_day)
SELECT borough, day, ROUND(revenue, 2) AS revenue, CAST(trips AS BIGINT) AS trips,
  ROUND(100 * revenue / SUM(revenue) OVER (PARTITION BY day), 3) AS share_pct
FROM daily ORDER BY day, borough";

/// W6: the report as a notebook cell in the browser worker (reading the
/// Parquet from HDFS through the gateway, then Polars) and the same cell on
/// Spark (`-- engine: spark`: Spark reads HDFS itself; 186 rows come back).
/// Each run is timed by the page's own marks, from the run request to the
/// result rendered.
async fn w6_report(browser: &Browser, gateway: &Gateway, data: &std::path::Path, iterations: usize) -> Result<()> {
    let rows = 5_000_000;
    let http = reqwest::Client::new();
    let api = format!("{}/api/fs", gateway.url);
    let marker = format!("hdfs:///riffle-bench/w6-{rows}.rows");
    if !http.get(format!("{api}/stat?path={marker}")).send().await?.status().is_success() {
        let t0 = Instant::now();
        let (parts, zones) = w6_data(rows)?;
        let bytes: usize = parts.iter().map(Vec::len).sum();
        for (i, part) in parts.into_iter().enumerate() {
            let path = format!("hdfs:///riffle-bench/w6/trips/part-{i:05}.snappy.parquet");
            http.put(format!("{api}/files?path={path}&overwrite=true")).body(part).send().await?.error_for_status()?;
        }
        let path = "hdfs:///riffle-bench/w6/zones/part-00000.snappy.parquet";
        http.put(format!("{api}/files?path={path}&overwrite=true")).body(zones).send().await?.error_for_status()?;
        http.put(format!("{api}/files?path={marker}&overwrite=true"))
            .body(rows.to_string())
            .send()
            .await?
            .error_for_status()?;
        eprintln!(
            "W6: wrote {rows} trips ({:.1} MB of Parquet) to HDFS in {:.1} s",
            bytes as f64 / 1e6,
            t0.elapsed().as_secs_f64()
        );
    }
    let notebook = format!(
        "---\ntitle: W6\n---\n\n```sql\n-- name: in_browser\n{W6_REPORT}\n```\n\n```sql\n-- engine: spark\n-- name: on_spark\n{W6_REPORT}\n```\n"
    );
    std::fs::create_dir_all(data.join("notebooks"))?;
    std::fs::write(data.join("notebooks/w6.riffle.md"), notebook)?;
    browser.open_notebook(&format!("{}/?open=notebooks/w6.riffle.md", gateway.url)).await?;
    let ids = w7::sql_cell_ids(browser).await?;
    if ids.len() != 2 {
        bail!("W6: expected 2 SQL cells in the notebook, found {}", ids.len());
    }
    let mut times: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    let mut results: [String; 2] = [String::new(), String::new()];
    // Warm-up: one run each (Spark compiles its code paths; the worker its wasm).
    for round in 0..=iterations {
        for (k, id) in ids.iter().enumerate() {
            let step = w7::run_cell(browser, id, &format!("W6 cell {k}")).await?;
            if round > 0 {
                times[k].push(step.ms);
            }
            results[k] = step.cells;
        }
    }
    if results[0] != results[1] || results[0].is_empty() {
        bail!("W6: the browser and Spark disagree:\n  browser: {}\n  spark:   {}", results[0], results[1]);
    }
    let (b, s) = (median(&times[0]), median(&times[1]));
    let fmt = |v: &[f64]| v.iter().map(|t| format!("{t:.0}")).collect::<Vec<_>>();
    println!("workload  rows      browser_ms  spark_ms  ratio(browser/spark)  what");
    println!(
        "W6        {rows:<9} {b:>10.0}  {s:>8.0}  {:>6.2}x               revenue report: join + group-by + window, HDFS Parquet",
        b / s
    );
    println!("  browser runs: {:?}", fmt(&times[0]));
    println!("  spark runs:   {:?}", fmt(&times[1]));
    println!("  result (first rows shown, identical in both): {}…", results[0].chars().take(120).collect::<String>());
    Ok(())
}
