//! `cargo xtask bench`: Riffle's workloads, natively and in the browser
//! worker, side by side in one run. Prints medians and the wasm/native ratio.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use riffle::bench;
use riffle::protocol::BenchReport;
use riffle_tests::{Browser, Gateway, TempDir, median};

struct Args {
    rows: usize,
    iterations: usize,
}

fn args() -> Result<Args> {
    let mut out = Args { rows: 1_000_000, iterations: 7 };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--rows" => out.rows = value.parse()?,
            "--iterations" => out.iterations = value.parse()?,
            other => bail!("unknown flag {other}; use --rows N --iterations K"),
        }
    }
    Ok(out)
}

fn native_w0(rows: usize, iterations: usize) -> Result<BenchReport> {
    let mut session = bench::w0_session(rows);
    let mut times_ms = Vec::new();
    let mut checksum = String::new();
    for _ in 0..iterations {
        let t0 = Instant::now();
        checksum = bench::w0_run(&mut session)?;
        times_ms.push(t0.elapsed().as_secs_f64() * 1e3);
    }
    Ok(BenchReport { workload: "w0".into(), rows, times_ms, checksum })
}

async fn browser_w0(rows: usize, iterations: usize) -> Result<BenchReport> {
    let data = TempDir::new("bench")?;
    let gateway = Gateway::start(data.path())?;
    let browser = Browser::start().await?;
    let url = format!("{}/?bench=w0&rows={rows}&iterations={iterations}", gateway.url);
    browser.open_notebook(&url).await?;
    let el = browser.wait_for("#bench-result:not([hidden])", Duration::from_secs(600)).await?;
    let report: BenchReport = serde_json::from_str(&el.text().await?)?;
    browser.close().await?;
    Ok(report)
}

#[tokio::main]
async fn main() -> Result<()> {
    let Args { rows, iterations } = args()?;
    // `cargo xtask bench` runs natively on one Polars thread, as the browser worker has one.
    let threads = std::env::var("POLARS_MAX_THREADS").unwrap_or_else(|_| "1".into());
    eprintln!("W0: group-by with sum and count over {rows} rows, {iterations} iterations each; native POLARS_MAX_THREADS={threads}");
    let native = native_w0(rows, iterations)?;
    let wasm = browser_w0(rows, iterations).await?;
    if native.checksum != wasm.checksum {
        bail!("native and browser disagree: {} vs {}", native.checksum, wasm.checksum);
    }
    let (n, w) = (median(&native.times_ms), median(&wasm.times_ms));
    println!("workload  rows       native_ms  browser_ms  ratio(browser/native)");
    println!("W0        {rows:<10} {n:>9.1}  {w:>10.1}  {:>6.2}x", w / n);
    println!("  native runs:  {:?}", native.times_ms.iter().map(|t| format!("{t:.1}")).collect::<Vec<_>>());
    println!("  browser runs: {:?}", wasm.times_ms.iter().map(|t| format!("{t:.1}")).collect::<Vec<_>>());
    println!("  checksum: {}", native.checksum);
    Ok(())
}
