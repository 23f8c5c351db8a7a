//! Result tables: a 1,000,000-row result scrolls with only the rows in view
//! in the DOM (the rest fetched from the engine on demand), downloads as
//! Parquet and CSV, and nested values expand on click.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use fantoccini::Locator;
use fantoccini::key::Key;
use polars::prelude::*;
use riffle_tests::{Browser, BrowserOptions, Gateway, TempDir};

use crate::notebook::{cell_texts, last_cell_id, run_cell, wait_for_result};

const WAIT: Duration = Duration::from_secs(120);
const MILLION: usize = 1_000_000;

/// `million.parquet` in the data root: id 0..1M, label `row-<id>`, amount id/100.
fn write_million(data: &Path) -> Result<()> {
    let ids: Vec<i64> = (0..MILLION as i64).collect();
    let labels: Vec<String> = (0..MILLION).map(|i| format!("row-{i}")).collect();
    let amounts: Vec<f64> = (0..MILLION).map(|i| i as f64 / 100.0).collect();
    let df = df!("id" => ids, "label" => labels, "amount" => amounts)?;
    let bytes =
        riffle::engine::export(&df, riffle::engine::ExportFormat::Parquet, riffle::engine::Compression::Snappy)?;
    std::fs::write(data.join("million.parquet"), bytes)?;
    Ok(())
}

/// The texts of the cells of the row `index` of the cell `id`'s result, once
/// that row is loaded (not a placeholder).
async fn row_texts(browser: &Browser, id: &str, index: u64) -> Result<Vec<String>> {
    // Read in one script: the table re-renders rows as pages arrive, so an
    // element found in one WebDriver call may be gone by the next.
    let script = r#"
        const [id, index] = arguments;
        const tr = document.querySelector(
            `.notebook:not([hidden]) section[data-cell-id="${id}"] table.result tbody tr[data-row="${index}"]:not(.loading)`);
        return tr ? Array.from(tr.querySelectorAll('td'), td => td.innerText) : null;
    "#;
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let out = browser.client.execute(script, vec![id.into(), index.into()]).await?;
        if let Some(cells) = out.as_array() {
            return Ok(cells.iter().map(|c| c.as_str().unwrap_or_default().to_string()).collect());
        }
        if std::time::Instant::now() > deadline {
            bail!("row {index} never loaded");
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// The first loaded row in view whose index is in `range`, once there is one.
async fn loaded_row_in(browser: &Browser, id: &str, range: std::ops::Range<u64>) -> Result<u64> {
    let script = r#"
        const [id, lo, hi] = arguments;
        const rows = document.querySelectorAll(
            `.notebook:not([hidden]) section[data-cell-id="${id}"] table.result tbody tr[data-row]:not(.loading)`);
        for (const tr of rows) { const n = Number(tr.dataset.row); if (n >= lo && n < hi) return n; }
        return null;
    "#;
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let out = browser.client.execute(script, vec![id.into(), range.start.into(), range.end.into()]).await?;
        if let Some(n) = out.as_u64() {
            return Ok(n);
        }
        if std::time::Instant::now() > deadline {
            bail!("no loaded row between {} and {} came into view", range.start, range.end);
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

async fn rows_in_dom(browser: &Browser, id: &str) -> Result<usize> {
    let css = format!(r#".notebook:not([hidden]) section[data-cell-id="{id}"] table.result tbody tr"#);
    Ok(browser.client.find_all(Locator::Css(&css)).await?.len())
}

/// Scrolls the result viewport of the cell `id` to `fraction` (0 top, 1 bottom).
async fn scroll_to(browser: &Browser, id: &str, fraction: f64) -> Result<()> {
    let script = r#"
        const [id, fraction] = arguments;
        const v = document.querySelector(`.notebook:not([hidden]) section[data-cell-id="${id}"] .result-viewport`);
        if (!v) return 'no result viewport';
        v.scrollTop = (v.scrollHeight - v.clientHeight) * fraction;
        return null;
    "#;
    let out = browser.client.execute(script, vec![id.into(), fraction.into()]).await?;
    if let Some(why) = out.as_str() {
        bail!("{why}");
    }
    Ok(())
}

/// The engine's reader, natively, on a downloaded file.
fn read_back(sql_function: &str, bytes: Vec<u8>) -> Result<DataFrame> {
    let mut session = riffle::engine::Session::new();
    let prepared = session.prepare(&format!("SELECT * FROM {sql_function}('download')"), "back")?;
    let outcome = session.execute(prepared, vec![riffle::engine::SourceData::single(bytes)])?;
    Ok(outcome.table.df)
}

#[tokio::test]
async fn a_million_rows_scroll_and_download() -> Result<()> {
    let data = TempDir::new("results")?;
    write_million(data.path())?;
    let downloads = TempDir::new("downloads")?;
    let gateway = Gateway::start(data.path())?;
    let browser = Browser::start_with(BrowserOptions { download_dir: Some(downloads.path().to_path_buf()) }).await?;
    browser.open_notebook(&gateway.url).await?;

    let id = last_cell_id(&browser).await?;
    run_cell(&browser, &id, "-- name: million\nSELECT * FROM read_parquet('million.parquet')").await?;
    wait_for_result(&browser, &id).await?;
    let count = cell_texts(&browser, &id, ".row-count").await?.join("");
    assert!(count.starts_with("1,000,000 rows × 3 columns"), "{count}");

    let headers = cell_texts(&browser, &id, "table.result th").await?;
    assert_eq!(headers.len(), 3, "{headers:?}");
    for (th, (name, dtype)) in headers.iter().zip([("id", "bigint"), ("label", "string"), ("amount", "double")]) {
        assert!(th.starts_with(name) && th.contains(dtype), "{headers:?}");
    }
    assert_eq!(row_texts(&browser, &id, 0).await?, ["0", "row-0", "0.0"]);
    let shown = rows_in_dom(&browser, &id).await?;
    assert!(shown < 200, "{shown} rows in the DOM for a virtual table");

    // The end: row 999,999 is fetched from the engine on demand.
    scroll_to(&browser, &id, 1.0).await?;
    assert_eq!(row_texts(&browser, &id, 999_999).await?, ["999999", "row-999999", "9999.99"]);
    let shown = rows_in_dom(&browser, &id).await?;
    assert!(shown < 200, "{shown} rows in the DOM after scrolling to the end");
    // The middle, past any page fetched so far.
    scroll_to(&browser, &id, 0.5).await?;
    let middle = loaded_row_in(&browser, &id, 400_000..600_000).await.context("half way down")?;
    assert!((400_000..600_000).contains(&middle), "row {middle} at half way");
    let texts = row_texts(&browser, &id, middle + 5).await?;
    assert_eq!(texts[..2], [format!("{}", middle + 5), format!("row-{}", middle + 5)]);
    browser.screenshot("results-million").await?;

    // Download as Parquet: the whole table, read back natively.
    let cell = format!(r#".notebook:not([hidden]) section[data-cell-id="{id}"]"#);
    let download = |format: &'static str| {
        let cell = cell.clone();
        let browser = &browser;
        async move {
            browser.client.find(Locator::Css(&format!("{cell} button.download"))).await?.click().await?;
            let button = browser.wait_for(&format!(r#"{cell} button[data-format="{format}"]"#), WAIT).await?;
            button.click().await?;
            anyhow::Ok(())
        }
    };
    download("parquet").await?;
    let bytes = browser.downloaded(downloads.path(), "million.parquet", WAIT).await?;
    let back = read_back("read_parquet", bytes)?;
    assert_eq!(back.height(), MILLION);
    assert_eq!(
        back.column("id")?.as_materialized_series().i64()?.sum(),
        Some((MILLION as i64 - 1) * MILLION as i64 / 2)
    );
    let last = back.slice(MILLION as i64 - 1, 1);
    assert_eq!(last.column("label")?.str()?.get(0), Some("row-999999"));
    assert_eq!(last.column("amount")?.f64()?.get(0), Some(9999.99));
    let status = cell_texts(&browser, &id, ".result-status").await?.join("");
    assert!(status.starts_with("downloaded million.parquet"), "{status}");

    // And as CSV: a header and a million lines.
    download("csv").await?;
    let bytes = browser.downloaded(downloads.path(), "million.csv", WAIT).await?;
    let text = String::from_utf8(bytes)?;
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), MILLION + 1);
    assert_eq!(lines[0], "id,label,amount");
    assert_eq!(lines[1], "0,row-0,0.0");
    assert_eq!(lines[MILLION], "999999,row-999999,9999.99");
    browser.close().await
}

#[tokio::test]
async fn nested_values_expand_and_the_schema_shows_as_a_tree() -> Result<()> {
    let data = TempDir::new("results-nested")?;
    let lines = [
        r#"{"id": 1, "person": {"name": "ada", "langs": ["rust", "sql"]}, "tags": ["a", "b", "c"]}"#,
        r#"{"id": 2, "person": {"name": "grace", "langs": []}, "tags": ["d"]}"#,
    ];
    std::fs::write(data.path().join("nested.json"), lines.join("\n"))?;
    let gateway = Gateway::start(data.path())?;
    let browser = Browser::start().await?;
    browser.open_notebook(&gateway.url).await?;

    let id = last_cell_id(&browser).await?;
    run_cell(&browser, &id, "-- name: nested\nSELECT id, person, tags FROM read_json('nested.json') ORDER BY id")
        .await?;
    wait_for_result(&browser, &id).await?;
    let cell = format!(r#".notebook:not([hidden]) section[data-cell-id="{id}"]"#);
    // Small results render all their rows, collapsed.
    assert_eq!(cell_texts(&browser, &id, "table.result tbody tr").await?.len(), 2);
    let first = cell_texts(&browser, &id, r#"table.result tbody tr[data-row="0"] td"#).await?;
    assert_eq!(first, ["1", "{…2 fields}", "[…3 items]"]);
    assert!(cell_texts(&browser, &id, ".nested-tree").await?.is_empty());

    // A click expands the struct inline, as keys and values.
    let toggle = format!(r#"{cell} tr[data-row="0"] td:nth-child(2) button.nested-toggle"#);
    browser.client.find(Locator::Css(&toggle)).await?.click().await?;
    let tree = browser.wait_for(&format!(r#"{cell} tr[data-row="0"] td:nth-child(2) .nested-tree"#), WAIT).await?;
    let text = tree.text().await?;
    for part in ["name", "\"ada\"", "langs", "\"rust\"", "\"sql\""] {
        assert!(text.contains(part), "{part} is missing from the expanded value: {text}");
    }
    assert_eq!(browser.client.find(Locator::Css(&toggle)).await?.attr("aria-expanded").await?.as_deref(), Some("true"));
    // The list too; a second click collapses the struct again.
    let list = format!(r#"{cell} tr[data-row="0"] td:nth-child(3) button.nested-toggle"#);
    browser.client.find(Locator::Css(&list)).await?.click().await?;
    let items = browser.wait_for(&format!(r#"{cell} tr[data-row="0"] td:nth-child(3) .nested-tree"#), WAIT).await?;
    let text = items.text().await?;
    assert!(text.contains("\"a\"") && text.contains("\"c\""), "{text}");
    browser.client.find(Locator::Css(&toggle)).await?.click().await?;
    let open = browser.client.find_all(Locator::Css(&format!("{cell} td:nth-child(2) .nested-tree"))).await?;
    assert!(open.is_empty(), "the struct should have collapsed");

    // A click selects a cell; Ctrl+C copies its value, Copy rows the rows in view.
    let td = browser.client.find(Locator::Css(&format!(r#"{cell} tr[data-row="1"] td:nth-child(1)"#))).await?;
    td.click().await?;
    assert!(td.attr("class").await?.unwrap_or_default().contains("selected"));
    let ctrl_c: String = [char::from(Key::Control), 'c'].iter().collect();
    td.send_keys(&ctrl_c).await?;
    let copied = status_after(&browser, &cell, "").await?;
    assert_eq!(copied, "copied the cell");
    assert_eq!(clipboard(&browser).await?, "2");
    // A nested value copies as JSON.
    let nested = format!(r#"{cell} tr[data-row="1"] td:nth-child(2)"#);
    let td = browser.client.find(Locator::Css(&nested)).await?;
    td.click().await?;
    td.send_keys(&ctrl_c).await?;
    assert_eq!(clipboard(&browser).await?, r#"{"name":"grace","langs":[]}"#);
    browser.client.find(Locator::Css(&format!("{cell} button.copy-rows"))).await?.click().await?;
    let copied = status_after(&browser, &cell, &copied).await?;
    assert_eq!(copied, "copied 2 rows as TSV");
    let tsv = clipboard(&browser).await?;
    let expected = [
        ["id", "person", "tags"].join("\t"),
        ["1", r#"{"name":"ada","langs":["rust","sql"]}"#, r#"["a","b","c"]"#].join("\t"),
        ["2", r#"{"name":"grace","langs":[]}"#, r#"["d"]"#].join("\t"),
    ];
    assert_eq!(tsv.lines().collect::<Vec<_>>(), expected, "{tsv}");

    // The schema as a tree, from the engine.
    browser.client.find(Locator::Css(&format!("{cell} button.show-schema"))).await?.click().await?;
    let tree = browser.wait_for(&format!("{cell} pre.schema-tree"), WAIT).await?.text().await?;
    for line in [" |-- id: bigint", " |-- person: struct", " |    |-- name: string", " |-- tags: array"] {
        assert!(tree.contains(line), "`{line}` is missing from the schema tree:\n{tree}");
    }

    // CSV cannot hold nested columns: a clear error, nothing downloaded.
    browser.client.find(Locator::Css(&format!("{cell} button.download"))).await?.click().await?;
    browser.wait_for(&format!(r#"{cell} button[data-format="csv"]"#), WAIT).await?.click().await?;
    let error = browser.wait_for(&format!("{cell} .result-error"), WAIT).await?.text().await?;
    assert!(
        error.contains("CSV cannot hold") && error.contains("person") && error.contains("Parquet or JSON"),
        "{error}"
    );
    browser.screenshot("results-nested").await?;
    browser.close().await
}

/// The result bar's status once it differs from `before`.
async fn status_after(browser: &Browser, cell: &str, before: &str) -> Result<String> {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let text = browser.client.find(Locator::Css(&format!("{cell} .result-status"))).await?.text().await?;
        if text != before && !text.is_empty() {
            return Ok(text);
        }
        if std::time::Instant::now() > deadline {
            bail!("the status stayed {before:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The clipboard's text: pasted with Ctrl+V into a textarea of the test's own.
async fn clipboard(browser: &Browser) -> Result<String> {
    let script = "let t = document.getElementById('clipboard-probe');
        if (!t) { t = document.createElement('textarea'); t.id = 'clipboard-probe'; document.body.appendChild(t); }
        t.value = ''; t.focus();";
    browser.client.execute(script, vec![]).await?;
    let probe = browser.client.find(Locator::Css("#clipboard-probe")).await?;
    probe.send_keys(&[char::from(Key::Control), 'v'].iter().collect::<String>()).await?;
    Ok(probe.prop("value").await?.unwrap_or_default())
}
