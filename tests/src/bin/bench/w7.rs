//! W7: a 5,000,000-row, ~330 MB smart-meter CSV with the London file's
//! quirks (a header name with a trailing space, `.0000000` timestamps, `Null`
//! readings, CRLF) read by `read_csv` in the browser worker, summed per Acorn
//! group, and written back as Parquet in 8 parts. Reports each step's time
//! and the engine's memory after it; the sums are checked against the ones
//! the generator kept.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use riffle_tests::{Browser, Gateway};

/// Per Acorn group: rows, non-null readings, and the readings' sum in Wh
/// (each reading is written with 3 decimals of kWh, so the sum is exact).
#[derive(Default, PartialEq, Debug)]
struct Group {
    rows: u64,
    readings: u64,
    wh: u64,
}

/// The days from 2012-11-13 on, as (year, month, day).
fn days_from_2012_11_13(count: u32) -> Vec<(u32, u32, u32)> {
    let month_days = |y: u32, m: u32| match m {
        2 if y.is_multiple_of(4) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    let (mut y, mut m, mut d) = (2012, 11, 13);
    let mut out = Vec::with_capacity(count as usize);
    for _ in 0..count {
        out.push((y, m, d));
        d += 1;
        if d > month_days(y, m) {
            (d, m) = (1, m + 1);
            if m > 12 {
                (m, y) = (1, y + 1);
            }
        }
    }
    out
}

/// Writes `households` homes × `days` days × 48 half hours to `path`.
fn write_meter_csv(path: &Path, households: u32, days: u32) -> Result<BTreeMap<&'static str, Group>> {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let dates = days_from_2012_11_13(days);
    let mut out = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    out.write_all(b"LCLid,stdorToU,DateTime,KWH/hh (per half hour) ,Acorn,Acorn_grouped\r\n")?;
    let mut groups: BTreeMap<&'static str, Group> = BTreeMap::new();
    for h in 0..households {
        let letter = b'A' + (next() % 17) as u8;
        let group = match letter {
            b'A'..=b'E' => "Affluent",
            b'F'..=b'J' => "Comfortable",
            _ => "Adversity",
        };
        let tariff = if next() % 4 == 0 { "ToU" } else { "Std" };
        let totals = groups.entry(group).or_default();
        for &(y, m, d) in &dates {
            for half_hour in 0..48 {
                totals.rows += 1;
                write!(
                    out,
                    "MAC{:06},{tariff},{y}-{m:02}-{d:02} {:02}:{:02}:00.0000000,",
                    h,
                    half_hour / 2,
                    (half_hour % 2) * 30
                )?;
                let r = next();
                if r % 40 == 0 {
                    out.write_all(b"Null")?;
                } else {
                    let wh = 20 + (r >> 8) % 1500;
                    totals.readings += 1;
                    totals.wh += wh;
                    write!(out, "{}.{:03}", wh / 1000, wh % 1000)?;
                }
                writeln!(out, ",ACORN-{},{group}\r", letter as char)?;
            }
        }
    }
    out.flush()?;
    Ok(groups)
}

const READ: &str = "-- name: meter
SELECT * FROM read_csv('w7/meter.csv', nullValue => 'Null',
  timestampFormat => 'yyyy-MM-dd HH:mm:ss.SSSSSSS',
  schema => 'LCLid STRING, stdorToU STRING, DateTime TIMESTAMP, `KWH/hh (per half hour) ` DOUBLE, Acorn STRING, Acorn_grouped STRING')";

const SUMS: &str = "SELECT Acorn_grouped, COUNT(*) AS n, COUNT(`KWH/hh (per half hour) `) AS readings,
  CAST(ROUND(SUM(`KWH/hh (per half hour) `) * 1000) AS BIGINT) AS wh
FROM meter GROUP BY Acorn_grouped ORDER BY Acorn_grouped";

const COPY: &str = "COPY (SELECT * FROM meter) TO 'w7/meter_parquet' (FORMAT parquet, MODE overwrite, PARTITIONS 8)";

/// One run of a cell: its wall time from the page's marks (the run request
/// to the result rendered), the engine's memory after it (browser runs only),
/// and the result's cells joined with `|`.
pub struct Step {
    pub ms: f64,
    pub memory_mb: Option<f64>,
    pub cells: String,
}

/// Clicks the cell's run button and waits for its result; `what` names it in errors.
pub async fn run_cell(browser: &Browser, id: &str, what: &str) -> Result<Step> {
    let section = format!(r#".notebook:not([hidden]) section[data-cell-id="{id}"]"#);
    browser.client.execute("performance.clearMarks()", vec![]).await?;
    browser.client.execute(&format!("document.querySelector('{section} button.run-cell').click()"), vec![]).await?;
    browser
        .wait_for(
            &format!(r#"{section}[data-state="done"] .row-count, {section} .cell-error"#),
            Duration::from_secs(1800),
        )
        .await?;
    if let Ok(e) = browser.client.find(fantoccini::Locator::Css(&format!("{section} .cell-error"))).await {
        bail!("{what} failed: {}", e.text().await?);
    }
    let got = browser
        .client
        .execute(
            "const at = n => { const e = performance.getEntriesByName(n); return e.length ? e[e.length - 1].startTime : null; }; \
             const s = document.querySelector(arguments[0]); \
             return [at('riffle-run'), at('riffle-result'), s.querySelector('.cell-state').dataset.memoryBytes ?? null, \
                     Array.from(s.querySelectorAll('table.result td'), td => td.textContent).join('|')];",
            vec![section.clone().into()],
        )
        .await?;
    let (sent, done) =
        (got[0].as_f64().context("no riffle-run mark")?, got[1].as_f64().context("no riffle-result mark")?);
    let memory_mb = got[2].as_str().map(str::parse::<f64>).transpose()?.map(|b| b / 1e6);
    Ok(Step { ms: done - sent, memory_mb, cells: got[3].as_str().unwrap_or_default().to_string() })
}

/// The ids of the open notebook's SQL cells, in order.
pub async fn sql_cell_ids(browser: &Browser) -> Result<Vec<String>> {
    let cells = browser.client.find_all(fantoccini::Locator::Css(".notebook:not([hidden]) section.cell")).await?;
    let mut ids = Vec::new();
    for cell in cells {
        if cell.attr("data-kind").await?.as_deref() == Some("sql") {
            ids.push(cell.attr("data-cell-id").await?.context("a cell without id")?);
        }
    }
    Ok(ids)
}

pub async fn w7_meter(browser: &Browser, gateway: &Gateway, data: &Path, rows: usize) -> Result<()> {
    let households = 1_042u32;
    let days = (rows as u32).div_ceil(48 * households).max(1);
    std::fs::create_dir_all(data.join("w7"))?;
    let csv = data.join("w7/meter.csv");
    let t0 = Instant::now();
    let groups = write_meter_csv(&csv, households, days)?;
    let bytes = std::fs::metadata(&csv)?.len();
    let total: u64 = groups.values().map(|g| g.rows).sum();
    eprintln!(
        "W7: wrote {total} rows ({:.0} MB) of smart-meter CSV in {:.1} s",
        bytes as f64 / 1e6,
        t0.elapsed().as_secs_f64()
    );

    let notebook =
        format!("---\ntitle: W7\n---\n\n```sql\n{READ}\n```\n\n```sql\n{SUMS}\n```\n\n```sql\n{COPY}\n```\n");
    std::fs::create_dir_all(data.join("notebooks"))?;
    std::fs::write(data.join("notebooks/w7.riffle.md"), notebook)?;
    browser.open_notebook(&format!("{}/?open=notebooks/w7.riffle.md", gateway.url)).await?;
    let ids = sql_cell_ids(browser).await?;
    let [read, sums, copy] = ids.as_slice() else { bail!("W7: expected 3 SQL cells, found {}", ids.len()) };
    let read = run_cell(browser, read, "W7 read_csv").await?;
    let sums = run_cell(browser, sums, "W7 group-by").await?;
    let expected: Vec<String> = groups
        .iter()
        .flat_map(|(g, t)| [g.to_string(), t.rows.to_string(), t.readings.to_string(), t.wh.to_string()])
        .collect();
    if sums.cells != expected.join("|") {
        bail!("W7: the sums per Acorn group differ\n  browser:   {}\n  generator: {}", sums.cells, expected.join("|"));
    }
    let copy = run_cell(browser, copy, "W7 COPY").await?;
    let parts = std::fs::read_dir(data.join("w7/meter_parquet"))?
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".parquet"))
        .count();
    let written: u64 = std::fs::read_dir(data.join("w7/meter_parquet"))?
        .filter_map(|e| e.ok()?.metadata().ok())
        .map(|m| m.len())
        .sum();
    if parts != 8 || !data.join("w7/meter_parquet/_SUCCESS").exists() {
        bail!("W7: COPY wrote {parts} Parquet parts (8 expected) or no _SUCCESS");
    }
    let memory = |step: &Step| step.memory_mb.context("W7: no engine memory figure on the cell");
    let (read_mb, sums_mb, copy_mb) = (memory(&read)?, memory(&sums)?, memory(&copy)?);
    println!("workload  step                               ms  engine_memory_MB  what");
    println!(
        "W7        read_csv {total} rows, {:.0} MB {:>8.0}  {:>16.0}  schema, nullValue, timestampFormat",
        bytes as f64 / 1e6,
        read.ms,
        read_mb
    );
    println!("W7        group-by per Acorn group  {:>17.0}  {:>16.0}  sums equal the generator's", sums.ms, sums_mb);
    println!(
        "W7        COPY to Parquet, 8 parts  {:>17.0}  {:>16.0}  {:.0} MB written",
        copy.ms,
        copy_mb,
        written as f64 / 1e6
    );
    Ok(())
}
