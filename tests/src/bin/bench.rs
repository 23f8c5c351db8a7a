//! `cargo xtask bench`: Riffle's workloads, side by side in one run.
//!
//! - W0, W1: natively and in the browser worker; medians and the wasm/native ratio.
//! - W2: a 1,000,000-message topic read through the gateway into a DataFrame
//!   in the browser worker, against `kcat -C -e` on the same topic; messages
//!   per second and the ratio.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use riffle::bench::Workload;
use riffle::protocol::BenchReport;
use riffle_tests::{Browser, Gateway, TempDir, median};

struct Args {
    workloads: Vec<Workload>,
    /// Run W2 (needs a broker: RIFFLE_KAFKA_BOOTSTRAP, as `cargo xtask bench` sets).
    w2: bool,
    rows: usize,
    iterations: usize,
}

fn args() -> Result<Args> {
    let mut out = Args { workloads: vec![Workload::W0, Workload::W1], w2: true, rows: 1_000_000, iterations: 7 };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--rows" => out.rows = value.parse()?,
            "--iterations" => out.iterations = value.parse()?,
            "--workloads" => {
                out.w2 = value.split(',').any(|w| w.eq_ignore_ascii_case("w2"));
                out.workloads = value
                    .split(',')
                    .filter(|w| !w.eq_ignore_ascii_case("w2"))
                    .map(|w| Workload::parse(w).with_context(|| format!("unknown workload {w}; use w0,w1,w2")))
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
    let Args { workloads, w2, rows, iterations } = args()?;
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
