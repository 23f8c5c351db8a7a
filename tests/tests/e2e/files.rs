//! The file panel, in the browser against a real gateway on a data root of
//! the test's own: listing, a click that adds a read cell, "Save as…" (a COPY
//! cell), the preview through the engine worker, and uploads by drop.
//!
//! The selectors these tests rely on (keep them stable):
//! - `#files`: the panel; `data-dir` is the directory shown (`` is the data root).
//! - `#files button.refresh`, `button.up`, `button.crumb[data-path]`,
//!   `button.root[data-root="local|hdfs"]` (one per root of `/api/fs/roots`).
//! - `#files tr.entry[data-path][data-kind]`: one entry, also `tr.file` or
//!   `tr.directory`; `tr.meta` is Spark bookkeeping (`_SUCCESS`, dot files), dimmed.
//!   Cells: `td.name`, `td.size` (human; `data-bytes` exact), `td.modified`.
//!   Clicking a file row adds a `read_*` cell; clicking a directory row opens it.
//! - `button.preview` on files Riffle reads and on directories of part files;
//!   `button.read-dir` on directories of part files (adds a cell reading them all).
//! - `#files .files-error`: an error from the storage API, shown in the panel.
//! - `#files li.upload[data-path][data-state="uploading|done|failed"]`.
//! - `#file-preview[data-path][data-state="loading|ready|failed"]`, holding
//!   `pre.schema-text` (the schema tree), `table.result` and `.row-count`.
//! - Under a cell's result: `button.save-as`, then `form.save-as` with
//!   `input[name=path]`, `select[name=format]`, `select[name=mode]`, `button.save`.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use fantoccini::Locator;
use riffle_tests::{
    Browser, Gateway, GatewayOptions, TempDir, hdfs_test_dir, repo, require_hdfs, sample_data_root, unused_port,
};

use crate::notebook::{cell_input, cell_source, cell_texts, run_cell, shift_enter, wait_for_result};

const WAIT: Duration = Duration::from_secs(60);

fn entry(path: &str) -> String {
    format!(r#"#files tr.entry[data-path="{path}"]"#)
}

/// The ids of the notebook's cells, in order.
async fn cell_ids(browser: &Browser) -> Result<Vec<String>> {
    let mut ids = Vec::new();
    for cell in browser.client.find_all(Locator::Css("section.cell")).await? {
        ids.push(cell.attr("data-cell-id").await?.context("a cell without data-cell-id")?);
    }
    Ok(ids)
}

/// Waits until a cell that is not in `before` appears; returns its id and position.
async fn added_cell(browser: &Browser, before: &[String]) -> Result<(String, usize)> {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let ids = cell_ids(browser).await?;
        let added: Vec<(usize, &String)> = ids.iter().enumerate().filter(|(_, id)| !before.contains(id)).collect();
        match added.as_slice() {
            [(position, id)] => return Ok(((*id).clone(), *position)),
            [] if std::time::Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(100)).await,
            _ => bail!("expected one new cell; before {before:?}, now {ids:?}"),
        }
    }
}

/// Opens a directory by clicking its row (in the directory shown).
async fn open_dir(browser: &Browser, path: &str) -> Result<()> {
    browser.wait_for(&entry(path), WAIT).await?.find(Locator::Css("td.modified")).await?.click().await?;
    browser
        .wait_for(&format!(r#"#files[data-dir="{path}"] table.files, #files[data-dir="{path}"] .empty"#), WAIT)
        .await?;
    Ok(())
}

/// Clicks the first element `css` matches after scrolling it to the middle of
/// the window (WebDriver stops at the top, under the sticky header).
async fn click_centered(browser: &Browser, css: &str) -> Result<()> {
    let element = browser.client.find(Locator::Css(css)).await?;
    let script = "document.querySelector(arguments[0]).scrollIntoView({ block: 'center' });";
    browser.client.execute(script, vec![css.into()]).await?;
    element.click().await?;
    Ok(())
}

async fn texts(browser: &Browser, css: &str) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for el in browser.client.find_all(Locator::Css(css)).await? {
        out.push(el.text().await?);
    }
    Ok(out)
}

fn names_in(dir: &Path) -> Result<Vec<String>> {
    let mut names: Vec<String> = std::fs::read_dir(dir)?
        .map(|e| e.map(|e| e.file_name().to_string_lossy().to_string()))
        .collect::<Result<_, _>>()?;
    names.sort();
    Ok(names)
}

/// The panel lists samples/ with sizes; a click on trips.csv adds a cell that
/// reads it; "Save as…" writes Parquet part files that the panel then lists;
/// the preview of a part file shows its schema and rows, and leaves no table
/// in the notebook; a vanished directory is an error in the panel.
#[tokio::test]
async fn file_panel_reads_saves_and_previews() -> Result<()> {
    let data = sample_data_root()?;
    let gateway = Gateway::start(data.path())?;
    let browser = Browser::start().await?;
    browser.open_notebook(&gateway.url).await?;
    let trips = std::fs::read_to_string(repo().join("data/samples/trips.csv"))?;
    let rows = trips.lines().skip(1).count();
    let header: Vec<String> = trips.lines().next().context("empty trips.csv")?.split(',').map(String::from).collect();

    // The data root, then samples/: every sample with its size.
    browser.wait_for(r#"#files[data-dir=""] tr.directory[data-path="samples"]"#, WAIT).await?;
    open_dir(&browser, "samples").await?;
    let samples = names_in(&data.path().join("samples"))?;
    assert!(samples.contains(&"trips.csv".to_string()), "{samples:?}");
    for name in &samples {
        let path = format!("samples/{name}");
        let row = browser.wait_for(&entry(&path), WAIT).await?;
        assert_eq!(row.attr("data-kind").await?.as_deref(), Some("file"), "{path}");
        let size = row.find(Locator::Css("td.size")).await?;
        let bytes = std::fs::metadata(data.path().join(&path))?.len();
        assert_eq!(size.attr("data-bytes").await?, Some(bytes.to_string()), "{path}");
        assert_eq!(size.text().await?, riffle::text::human_bytes(bytes), "{path}");
    }
    let listed = texts(&browser, "#files tr.entry td.name").await?;
    assert_eq!(listed.len(), samples.len(), "{listed:?}");

    // A click on trips.csv adds a cell that reads it; run it.
    let before = cell_ids(&browser).await?;
    browser.client.find(Locator::Css(&format!("{} td.modified", entry("samples/trips.csv")))).await?.click().await?;
    let (read_id, _) = added_cell(&browser, &before).await?;
    assert_eq!(cell_source(&browser, &read_id).await?, "SELECT * FROM read_csv('samples/trips.csv')");
    let input = cell_input(&browser, &read_id).await?;
    input.click().await?;
    input.send_keys(&shift_enter()).await?;
    wait_for_result(&browser, &read_id).await?;
    let count = cell_texts(&browser, &read_id, ".row-count").await?.join("");
    assert!(count.starts_with(&format!("{rows} rows")), "{count}");

    // Save as… Parquet, overwrite: a COPY cell below it, run at once.
    let cell = format!(r#".notebook:not([hidden]) section[data-cell-id="{read_id}"]"#);
    browser.client.find(Locator::Css(&format!("{cell} button.save-as"))).await?.click().await?;
    let form = browser.wait_for(&format!("{cell} form.save-as"), WAIT).await?;
    let path_input = form.find(Locator::Css(r#"input[name="path"]"#)).await?;
    path_input.clear().await?;
    path_input.send_keys("out/trips_saved").await?;
    form.find(Locator::Css(r#"select[name="format"]"#)).await?.select_by_value("parquet").await?;
    form.find(Locator::Css(r#"select[name="mode"]"#)).await?.select_by_value("overwrite").await?;
    let before = cell_ids(&browser).await?;
    let read_position = before.iter().position(|id| *id == read_id).context("the read cell went away")?;
    form.find(Locator::Css("button.save")).await?.click().await?;
    let (copy_id, position) = added_cell(&browser, &before).await?;
    assert_eq!(position, read_position + 1, "the COPY cell should follow the cell it saves");
    let table = riffle::notebook::default_table_name(riffle::notebook::CellId(read_id.parse()?));
    assert_eq!(
        cell_source(&browser, &copy_id).await?,
        format!("COPY (SELECT * FROM {table}) TO 'out/trips_saved' (FORMAT parquet, MODE overwrite)")
    );
    wait_for_result(&browser, &copy_id).await?;
    let written = names_in(&data.path().join("out/trips_saved"))?;
    let parts: Vec<&String> = written.iter().filter(|n| n.starts_with("part-") && n.ends_with(".parquet")).collect();
    assert!(!parts.is_empty() && written.contains(&"_SUCCESS".to_string()), "{written:?}");

    // The panel shows the new directory, with a read button, and its part files.
    browser.client.find(Locator::Css("#files button.up")).await?.click().await?;
    open_dir(&browser, "out").await?;
    let read_dir = browser.wait_for(&format!(r#"{} button.read-dir"#, entry("out/trips_saved")), WAIT).await?;
    assert_eq!(read_dir.text().await?, "read_parquet");
    open_dir(&browser, "out/trips_saved").await?;
    for name in &written {
        let path = format!("out/trips_saved/{name}");
        let row = browser.wait_for(&entry(&path), WAIT).await?;
        let class = row.attr("class").await?.unwrap_or_default();
        assert_eq!(class.split(' ').any(|c| c == "meta"), name == "_SUCCESS", "{path}: {class}");
    }
    assert_eq!(texts(&browser, "#files tr.entry").await?.len(), written.len());

    // Preview a part file: its schema and first rows, by the engine worker.
    let part = format!("out/trips_saved/{}", parts[0]);
    browser.client.find(Locator::Css(&format!("{} button.preview", entry(&part)))).await?.click().await?;
    let preview = browser
        .wait_for(
            &format!(r#"#file-preview[data-path="{part}"][data-state="ready"], #file-preview[data-state="failed"]"#),
            WAIT,
        )
        .await?;
    if preview.attr("data-state").await?.as_deref() == Some("failed") {
        bail!("the preview failed: {}", preview.text().await?);
    }
    browser.screenshot("files-preview").await?;
    let tree = texts(&browser, "#file-preview pre.schema-text").await?.join("");
    for column in &header {
        assert!(tree.contains(&format!("|-- {column}: ")), "{column} in {tree}");
    }
    let columns = texts(&browser, "#file-preview table.result th").await?;
    assert_eq!(columns.len(), header.len(), "{columns:?}");
    for (th, column) in columns.iter().zip(&header) {
        assert!(th.starts_with(column.as_str()), "{th} vs {column}");
    }
    let shown = browser.client.find_all(Locator::Css("#file-preview table.result tbody tr")).await?.len();
    let part_rows = written_rows(&browser).await?;
    assert_eq!(shown, part_rows.min(20));
    let first = texts(&browser, "#file-preview table.result tbody tr:first-child td").await?;
    let expected_first: Vec<&str> = trips.lines().nth(1).context("no trips")?.split(',').collect();
    assert_eq!(first[0], expected_first[0], "trip_id of the first row");
    assert_eq!(first[2], expected_first[2], "zone of the first row");

    // The preview's table is not in the notebook's catalog.
    let ids = cell_ids(&browser).await?;
    let last = ids.last().context("no cells")?;
    run_cell(&browser, last, "DESCRIBE file_preview").await?;
    let error = browser
        .wait_for(
            &format!(r#".notebook:not([hidden]) section[data-cell-id="{last}"] .cell-error"#),
            Duration::from_secs(60),
        )
        .await?;
    let text = error.text().await?;
    assert!(text.contains("no table named file_preview"), "{text}");
    browser.client.find(Locator::Css("#file-preview button.close-preview")).await?.click().await?;

    // The read button of a part-file directory adds a read_parquet cell, below
    // the cell that last had the caret (here the first); it reads every row back.
    browser.client.find(Locator::Css("#files button.up")).await?.click().await?;
    let button = browser.wait_for(&format!(r#"{} button.read-dir"#, entry("out/trips_saved")), WAIT).await?;
    click_centered(&browser, "section.cell .cm-content").await?;
    let before = cell_ids(&browser).await?;
    button.click().await?;
    let (id, position) = added_cell(&browser, &before).await?;
    assert_eq!(position, 1, "the cell should follow the first cell, which had the caret");
    assert_eq!(cell_source(&browser, &id).await?, "SELECT * FROM read_parquet('out/trips_saved')");
    let input = cell_input(&browser, &id).await?;
    input.click().await?;
    input.send_keys(&shift_enter()).await?;
    wait_for_result(&browser, &id).await?;
    let count = cell_texts(&browser, &id, ".row-count").await?.join("");
    assert!(count.starts_with(&format!("{rows} rows")), "{count}");
    browser.screenshot("files-panel").await?;

    // A directory that vanished is an error in the panel, not a crash.
    open_dir(&browser, "out/trips_saved").await?;
    std::fs::remove_dir_all(data.path().join("out/trips_saved"))?;
    browser.client.find(Locator::Css("#files button.refresh")).await?.click().await?;
    let error = browser.wait_for("#files .files-error", WAIT).await?;
    let text = error.text().await?;
    assert!(text.contains("out/trips_saved") && text.contains("does not exist"), "{text}");
    browser.client.find(Locator::Css("#files button.up")).await?.click().await?;
    browser.wait_for(r#"#files[data-dir="out"] .empty"#, WAIT).await?;
    browser.close().await
}

/// The rows of the preview's file, from its row count ("showing first 20 of
/// 50 rows" or "12 rows").
async fn written_rows(browser: &Browser) -> Result<usize> {
    let text = browser.client.find(Locator::Css("#file-preview .row-count")).await?.text().await?;
    let count = text.strip_prefix("showing first ").and_then(|t| t.split(" of ").nth(1)).unwrap_or(&text);
    let number = count.split_whitespace().next().context("no row count")?.replace(',', "");
    number.parse().with_context(|| format!("row count in {text:?}"))
}

/// Drops a file named `name` holding `text` on the file panel, as a user
/// dragging it from their desktop would.
async fn drop_file(browser: &Browser, name: &str, text: &str) -> Result<()> {
    let script = r#"
        const [name, text] = arguments;
        const transfer = new DataTransfer();
        transfer.items.add(new File([text], name, { type: 'text/csv' }));
        const target = document.querySelector('#files');
        for (const type of ['dragenter', 'dragover', 'drop']) {
            target.dispatchEvent(new DragEvent(type, { dataTransfer: transfer, bubbles: true, cancelable: true }));
        }
    "#;
    browser.client.execute(script, vec![name.into(), text.into()]).await?;
    Ok(())
}

async fn uploads(browser: &Browser, path: &str, state: &str) -> Result<usize> {
    let css = format!(r#"#files li.upload[data-path="{path}"][data-state="{state}"]"#);
    Ok(browser.client.find_all(Locator::Css(&css)).await?.len())
}

/// Waits until `n` uploads of `path` ended in `state`.
async fn wait_uploads(browser: &Browser, path: &str, state: &str, n: usize) -> Result<()> {
    let deadline = std::time::Instant::now() + WAIT;
    while uploads(browser, path, state).await? < n {
        if std::time::Instant::now() > deadline {
            let all = texts(browser, "#files li.upload").await?;
            bail!("waited for {n} upload(s) of {path} to be {state}; the panel says {all:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}

/// A file dropped on the panel is uploaded into the directory shown, listed,
/// and readable; dropping it again asks before replacing it.
#[tokio::test]
async fn dropped_files_are_uploaded_into_the_directory_shown() -> Result<()> {
    let data = sample_data_root()?;
    let gateway = Gateway::start(data.path())?;
    let browser = Browser::start().await?;
    browser.open_notebook(&gateway.url).await?;
    browser.wait_for(r#"#files[data-dir=""] tr.directory[data-path="samples"]"#, WAIT).await?;
    open_dir(&browser, "samples").await?;

    let first = "city,people\nOslo,709000\nBergen,291000\n";
    drop_file(&browser, "cities.csv", first).await?;
    wait_uploads(&browser, "samples/cities.csv", "done", 1).await?;
    let note = texts(&browser, r#"#files li.upload[data-path="samples/cities.csv"]"#).await?.join("");
    assert!(note.contains(&format!("{} bytes", first.len())), "{note}");
    assert_eq!(std::fs::read_to_string(data.path().join("samples/cities.csv"))?, first);
    let row = browser.wait_for(&entry("samples/cities.csv"), WAIT).await?;
    assert_eq!(row.find(Locator::Css("td.size")).await?.attr("data-bytes").await?, Some(first.len().to_string()));

    // It reads like any other file.
    let before = cell_ids(&browser).await?;
    row.find(Locator::Css("td.modified")).await?.click().await?;
    let (id, _) = added_cell(&browser, &before).await?;
    assert_eq!(cell_source(&browser, &id).await?, "SELECT * FROM read_csv('samples/cities.csv')");
    let input = cell_input(&browser, &id).await?;
    input.click().await?;
    input.send_keys(&shift_enter()).await?;
    wait_for_result(&browser, &id).await?;
    assert_eq!(cell_texts(&browser, &id, "table.result tbody td").await?, ["Oslo", "709000", "Bergen", "291000"]);

    // Its preview (CSV, here) shows its columns and rows.
    click_centered(&browser, &format!("{} button.preview", entry("samples/cities.csv"))).await?;
    let preview = browser
        .wait_for(
            r#"#file-preview[data-path="samples/cities.csv"][data-state="ready"], #file-preview[data-state="failed"]"#,
            WAIT,
        )
        .await?;
    if preview.attr("data-state").await?.as_deref() == Some("failed") {
        bail!("the preview failed: {}", preview.text().await?);
    }
    assert_eq!(texts(&browser, "#file-preview table.result tbody td").await?, ["Oslo", "709000", "Bergen", "291000"]);
    let tree = texts(&browser, "#file-preview pre.schema-text").await?.join("");
    assert!(tree.contains("|-- city: string") && tree.contains("|-- people: "), "{tree}");

    // Again, declined: the old file stays.
    browser.client.execute("window.confirm = () => false;", vec![]).await?;
    drop_file(&browser, "cities.csv", "city,people\nTromsø,77000\n").await?;
    wait_uploads(&browser, "samples/cities.csv", "failed", 1).await?;
    assert_eq!(std::fs::read_to_string(data.path().join("samples/cities.csv"))?, first);

    // Again, accepted: replaced with overwrite=true.
    let second = "city,people\nTromsø,77000\n";
    browser.client.execute("window.confirm = () => true;", vec![]).await?;
    drop_file(&browser, "cities.csv", second).await?;
    wait_uploads(&browser, "samples/cities.csv", "done", 2).await?;
    assert_eq!(std::fs::read_to_string(data.path().join("samples/cities.csv"))?, second);
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let bytes = browser
            .wait_for(&format!("{} td.size", entry("samples/cities.csv")), WAIT)
            .await?
            .attr("data-bytes")
            .await?;
        if bytes == Some(second.len().to_string()) {
            break;
        }
        if std::time::Instant::now() > deadline {
            bail!("the listing still shows {bytes:?} bytes for the replaced file");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // No staging file of an upload is left behind.
    let names = names_in(&data.path().join("samples"))?;
    assert!(!names.iter().any(|n| n.starts_with('.')), "{names:?}");
    browser.close().await
}

/// An HDFS that does not answer is an error in the panel; the data directory
/// still works.
#[tokio::test]
async fn an_unreachable_hdfs_is_an_error_in_the_panel() -> Result<()> {
    let data = sample_data_root()?;
    let port = unused_port()?;
    let options = GatewayOptions { hdfs: Some(format!("http://127.0.0.1:{port}")), ..Default::default() };
    let gateway = Gateway::start_with(data.path(), options)?;
    let browser = Browser::start().await?;
    browser.open_notebook(&gateway.url).await?;
    browser.wait_for(r#"#files button.root[data-root="hdfs"]"#, WAIT).await?.click().await?;
    let error = browser.wait_for(r#"#files[data-dir="hdfs:///"] .files-error"#, WAIT).await?;
    let text = error.text().await?;
    assert!(text.starts_with("503") && text.contains(&format!("127.0.0.1:{port}")), "{text}");
    browser.client.find(Locator::Css(r#"#files button.root[data-root="local"]"#)).await?.click().await?;
    browser.wait_for(&entry("samples"), WAIT).await?;
    assert!(browser.client.find_all(Locator::Css("#files .files-error")).await?.is_empty());
    browser.close().await
}

/// On HDFS (`RIFFLE_HDFS`) as on the data directory: browse to a directory,
/// drop a file into it, read it, save it as Parquet there, and preview that.
#[tokio::test]
async fn hdfs_is_browsed_uploaded_to_and_written_like_the_data_directory() -> Result<()> {
    let Some(_) = require_hdfs("hdfs_is_browsed_uploaded_to_and_written_like_the_data_directory")? else {
        return Ok(());
    };
    let data = TempDir::new("files-hdfs")?;
    let gateway = Gateway::start(data.path())?;
    let dir = hdfs_test_dir("files-ui");
    let http = reqwest::Client::new();
    let url = format!("{}/api/fs/mkdir?path={dir}", gateway.url);
    let made = http.post(&url).send().await?;
    anyhow::ensure!(made.status().is_success(), "mkdir {dir}: {}", made.text().await?);

    let browser = Browser::start().await?;
    browser.open_notebook(&gateway.url).await?;
    browser.wait_for(r#"#files button.root[data-root="hdfs"]"#, WAIT).await?.click().await?;
    let mut at = "hdfs:///".to_string();
    for segment in dir.trim_start_matches("hdfs:///").split('/') {
        at = format!("{}{segment}", if at.ends_with('/') { at.clone() } else { format!("{at}/") });
        open_dir(&browser, &at).await?;
    }
    browser.wait_for(&format!(r#"#files[data-dir="{dir}"] .empty"#), WAIT).await?;

    let csv = "city,people\nOslo,709000\nBergen,291000\n";
    drop_file(&browser, "cities.csv", csv).await?;
    let file = format!("{dir}/cities.csv");
    wait_uploads(&browser, &file, "done", 1).await?;
    let row = browser.wait_for(&entry(&file), WAIT).await?;
    assert_eq!(row.find(Locator::Css("td.size")).await?.attr("data-bytes").await?, Some(csv.len().to_string()));

    let before = cell_ids(&browser).await?;
    row.find(Locator::Css("td.modified")).await?.click().await?;
    let (id, _) = added_cell(&browser, &before).await?;
    assert_eq!(cell_source(&browser, &id).await?, format!("SELECT * FROM read_csv('{file}')"));
    let input = cell_input(&browser, &id).await?;
    input.click().await?;
    input.send_keys(&shift_enter()).await?;
    wait_for_result(&browser, &id).await?;
    assert_eq!(cell_texts(&browser, &id, "table.result tbody td").await?, ["Oslo", "709000", "Bergen", "291000"]);

    // Save as… offers the directory shown; Parquet there.
    let cell = format!(r#".notebook:not([hidden]) section[data-cell-id="{id}"]"#);
    click_centered(&browser, &format!("{cell} button.save-as")).await?;
    let form = browser.wait_for(&format!("{cell} form.save-as"), WAIT).await?;
    let path_input = form.find(Locator::Css(r#"input[name="path"]"#)).await?;
    let table = riffle::notebook::default_table_name(riffle::notebook::CellId(id.parse()?));
    assert_eq!(path_input.prop("value").await?, Some(format!("{dir}/{table}")));
    path_input.clear().await?;
    let out = format!("{dir}/cities_parquet");
    path_input.send_keys(&out).await?;
    let before = cell_ids(&browser).await?;
    form.find(Locator::Css("button.save")).await?.click().await?;
    let (copy_id, _) = added_cell(&browser, &before).await?;
    wait_for_result(&browser, &copy_id).await?;

    // The listing refreshes by itself after the write; preview the directory.
    let read_dir = browser.wait_for(&format!("{} button.read-dir", entry(&out)), WAIT).await?;
    assert_eq!(read_dir.text().await?, "read_parquet");
    click_centered(&browser, &format!("{} button.preview", entry(&out))).await?;
    let preview = browser
        .wait_for(
            &format!(r#"#file-preview[data-path="{out}"][data-state="ready"], #file-preview[data-state="failed"]"#),
            WAIT,
        )
        .await?;
    if preview.attr("data-state").await?.as_deref() == Some("failed") {
        bail!("the preview failed: {}", preview.text().await?);
    }
    assert_eq!(texts(&browser, "#file-preview table.result tbody td").await?, ["Oslo", "709000", "Bergen", "291000"]);
    open_dir(&browser, &out).await?;
    browser.wait_for(&format!(r#"#files tr.entry.meta[data-path="{out}/_SUCCESS"]"#), WAIT).await?;
    let parts = browser.client.find_all(Locator::Css(&format!(r#"#files tr.file[data-path^="{out}/part-"]"#))).await?;
    assert!(!parts.is_empty());
    browser.close().await
}
