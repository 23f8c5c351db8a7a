//! `cargo xtask bench`: Riffle's workloads (W0, W1), natively and in the browser
//! worker, side by side in one run. Prints medians and the wasm/native ratio.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use riffle::bench::Workload;
use riffle::protocol::BenchReport;
use riffle_tests::{Browser, Gateway, TempDir, median};

struct Args {
    workloads: Vec<Workload>,
    rows: usize,
    iterations: usize,
}

fn args() -> Result<Args> {
    let mut out = Args {
        workloads: vec![Workload::W0, Workload::W1],
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
                out.workloads = value
                    .split(',')
                    .map(|w| {
                        Workload::parse(w)
                            .with_context(|| format!("unknown workload {w}; use w0,w1"))
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
    Ok(BenchReport {
        workload: workload.name().into(),
        rows,
        times_ms,
        checksum,
    })
}

async fn in_browser(
    browser: &Browser,
    gateway: &Gateway,
    workload: Workload,
    rows: usize,
    iterations: usize,
) -> Result<BenchReport> {
    let url = format!(
        "{}/?bench={}&rows={rows}&iterations={iterations}",
        gateway.url,
        workload.name()
    );
    browser.open_notebook(&url).await?;
    let el = browser
        .wait_for("#bench-result:not([hidden])", Duration::from_secs(900))
        .await?;
    Ok(serde_json::from_str(&el.text().await?)?)
}

#[tokio::main]
async fn main() -> Result<()> {
    let Args {
        workloads,
        rows,
        iterations,
    } = args()?;
    // `cargo xtask bench` runs natively on one Polars thread, as the browser worker has one.
    let threads = std::env::var("POLARS_MAX_THREADS").unwrap_or_else(|_| "all cores".into());
    eprintln!("{rows} rows, {iterations} iterations each; native POLARS_MAX_THREADS={threads}");
    let data = TempDir::new("bench")?;
    let gateway = Gateway::start(data.path())?;
    let browser = Browser::start().await?;
    println!("workload  rows       native_ms  browser_ms  ratio(browser/native)  what");
    for workload in workloads {
        let native = native(workload, rows, iterations)?;
        let wasm = in_browser(&browser, &gateway, workload, rows, iterations).await?;
        if native.checksum != wasm.checksum {
            bail!(
                "{}: native and browser disagree: {} vs {}",
                workload.name(),
                native.checksum,
                wasm.checksum
            );
        }
        let (n, w) = (median(&native.times_ms), median(&wasm.times_ms));
        println!(
            "{:<9} {rows:<10} {n:>9.1}  {w:>10.1}  {:>6.2}x                 {}",
            workload.name().to_uppercase(),
            w / n,
            workload.describe()
        );
        println!(
            "  native runs:  {:?}",
            native
                .times_ms
                .iter()
                .map(|t| format!("{t:.1}"))
                .collect::<Vec<_>>()
        );
        println!(
            "  browser runs: {:?}",
            wasm.times_ms
                .iter()
                .map(|t| format!("{t:.1}"))
                .collect::<Vec<_>>()
        );
        println!("  checksum: {}", native.checksum);
    }
    browser.close().await?;
    Ok(())
}
