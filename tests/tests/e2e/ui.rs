//! The notebook as a tool: Jupyter's keys, Markdown cells, run all,
//! reordering, stopping a long cell, errors at their line, stale cells, and
//! notebook files in tabs with engines of their own.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use fantoccini::Locator;
use fantoccini::key::Key;
use riffle_tests::{Browser, Gateway, sample_data_root};

use crate::notebook::{
    cell_input, cell_source, cell_texts, focused, last_cell_id, run_cell, type_into, wait_for_result,
};

const WAIT: Duration = Duration::from_secs(60);

fn key(k: Key) -> String {
    char::from(k).to_string()
}

fn chord(keys: &[Key]) -> String {
    keys.iter().map(|k| char::from(*k)).collect()
}

/// The ids of the shown notebook's cells, in order.
async fn cell_ids(browser: &Browser) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for section in browser.client.find_all(Locator::Css(".notebook:not([hidden]) section.cell")).await? {
        out.push(section.attr("data-cell-id").await?.context("a cell without data-cell-id")?);
    }
    Ok(out)
}

pub(crate) async fn cell_attr(browser: &Browser, id: &str, attr: &str) -> Result<String> {
    let section =
        browser.client.find(Locator::Css(&format!(r#".notebook:not([hidden]) section[data-cell-id="{id}"]"#))).await?;
    Ok(section.attr(attr).await?.unwrap_or_default())
}

/// Waits until the cell `id` has `data-state` = `state`.
pub(crate) async fn wait_state(browser: &Browser, id: &str, state: &str) -> Result<()> {
    browser
        .wait_for(&format!(r#".notebook:not([hidden]) section[data-cell-id="{id}"][data-state="{state}"]"#), WAIT)
        .await
        .map(drop)
}

/// Clicks the element `css` after scrolling it to the middle of the view
/// (the sticky header would take a click at the top edge).
pub(crate) async fn click(browser: &Browser, css: &str) -> Result<()> {
    let element = browser.client.find(Locator::Css(css)).await?;
    browser
        .client
        .execute("document.querySelector(arguments[0]).scrollIntoView({ block: 'center' })", vec![css.into()])
        .await?;
    element.click().await?;
    Ok(())
}

#[tokio::test]
async fn jupyter_keys_markdown_run_all_and_reorder() -> Result<()> {
    let data = sample_data_root()?;
    let gateway = Gateway::start(data.path())?;
    let browser = Browser::start().await?;
    browser.open_notebook(&gateway.url).await?;
    let start = cell_ids(&browser).await?;
    let first = start[0].clone();

    // Ctrl+Enter runs in place: a result, and no new cell.
    type_into(&browser, &first, "\n-- edited").await?;
    cell_input(&browser, &first).await?.send_keys(&chord(&[Key::Control, Key::Enter])).await?;
    wait_for_result(&browser, &first).await?;
    assert_eq!(cell_ids(&browser).await?, start, "Ctrl+Enter adds no cell");
    assert_eq!(cell_texts(&browser, &first, "table.result td").await?, ["2"]);
    let state = cell_texts(&browser, &first, ".cell-state").await?.join("");
    assert!(state.starts_with("done in "), "{state}");

    // Esc, B: a cell below; Enter: edit it; Esc, M: Markdown; Shift+Enter renders it.
    cell_input(&browser, &first).await?.send_keys(&key(Key::Escape)).await?;
    focused(&browser, &first).await.context("Esc selects the cell")?.send_keys("b").await?;
    let ids = cell_ids(&browser).await?;
    let md = ids[1].clone();
    assert!(!start.contains(&md), "{ids:?}");
    focused(&browser, &md).await?.send_keys(&key(Key::Enter)).await?;
    type_into(
        &browser,
        &md,
        "# Revenue *by* zone\n\nSee **bold** and [x](javascript:alert(1)).\n\n<script>window.pwned = 1</script>\n",
    )
    .await?;
    // The first Esc may only close the completion list the text opened.
    cell_input(&browser, &md).await?.send_keys(&key(Key::Escape)).await?;
    tokio::time::sleep(Duration::from_millis(200)).await;
    if browser.client.active_element().await?.attr("data-cell-id").await?.is_none() {
        browser.client.active_element().await?.send_keys(&key(Key::Escape)).await?;
    }
    let selected = focused(&browser, &md).await?;
    selected.send_keys("m").await?;
    assert_eq!(cell_attr(&browser, &md, "data-kind").await?, "markdown");
    selected.send_keys(&chord(&[Key::Shift, Key::Enter])).await?;
    let cell = format!(r#".notebook:not([hidden]) section[data-cell-id="{md}"]"#);
    let h1 = browser.wait_for(&format!("{cell} .markdown-body h1"), WAIT).await?;
    assert_eq!(h1.text().await?, "Revenue by zone");
    assert_eq!(cell_texts(&browser, &md, ".markdown-body strong").await?, ["bold"]);
    let body = cell_texts(&browser, &md, ".markdown-body").await?.join("");
    assert!(body.contains("<script>window.pwned = 1</script>"), "raw HTML shows as text: {body}");
    let sanitized = browser
        .client
        .execute(
            "const b = document.querySelector(arguments[0]); return [b.querySelectorAll('script').length, \
             b.querySelector('a').getAttribute('href'), typeof window.pwned];",
            vec![format!("{cell} .markdown-body").into()],
        )
        .await?;
    assert_eq!(sanitized, serde_json::json!([0, "#", "undefined"]), "no script, no javascript: link");

    // Y turns it back into SQL; M again, and it renders again.
    browser.client.execute("document.querySelector(arguments[0]).focus()", vec![cell.clone().into()]).await?;
    browser.client.active_element().await?.send_keys("y").await?;
    assert_eq!(cell_attr(&browser, &md, "data-kind").await?, "sql");
    browser.client.active_element().await?.send_keys(&key(Key::Escape)).await?;
    browser.client.execute("document.querySelector(arguments[0]).focus()", vec![cell.clone().into()]).await?;
    browser.client.active_element().await?.send_keys("m").await?;
    browser.client.active_element().await?.send_keys(&chord(&[Key::Control, Key::Enter])).await?;
    browser.wait_for(&format!("{cell} .markdown-body h1"), WAIT).await?;

    // Ctrl+Shift+Up moves the selected cell up: the Markdown cell goes first.
    browser.client.execute("document.querySelector(arguments[0]).focus()", vec![cell.clone().into()]).await?;
    browser.client.active_element().await?.send_keys(&chord(&[Key::Control, Key::Shift, Key::Up])).await?;
    let moved = cell_ids(&browser).await?;
    assert_eq!(moved[0], md, "{moved:?}");
    assert_eq!(moved[1], first, "{moved:?}");
    let selected = focused(&browser, &md).await.context("the moved cell keeps the focus")?;
    selected.send_keys(&chord(&[Key::Control, Key::Shift, Key::Down])).await?;
    assert_eq!(cell_ids(&browser).await?[..2], [first.clone(), md.clone()]);

    // Dragging a cell by its handle onto another puts it in that one's place.
    let last = cell_ids(&browser).await?.last().cloned().context("no cells")?;
    drag_cell(&browser, &last, &first).await?;
    assert_eq!(cell_ids(&browser).await?[0], last, "dragged to the top");

    // Run all: every SQL cell ends done; the Markdown cell stays rendered.
    let group_by = cell_ids(&browser).await?.into_iter().find(|id| id != &md && id != &first && id != &last);
    click(&browser, ".notebook:not([hidden]) button.run-all").await?;
    for id in cell_ids(&browser).await? {
        if id == md || cell_source(&browser, &id).await?.trim().is_empty() {
            continue;
        }
        wait_state(&browser, &id, "done").await?;
    }
    if let Some(id) = group_by {
        let count = cell_texts(&browser, &id, ".row-count").await?.join("");
        assert!(count.contains("rows"), "{count}");
    }
    browser.screenshot("ui-keys").await?;
    browser.close().await
}

/// HTML5 drag and drop, as the browser fires it for a mouse drag.
async fn drag_cell(browser: &Browser, from: &str, to: &str) -> Result<()> {
    let script = r#"
        const [from, to] = arguments;
        const handle = document.querySelector(`.notebook:not([hidden]) section[data-cell-id="${from}"] .drag-handle`);
        const target = document.querySelector(`.notebook:not([hidden]) section[data-cell-id="${to}"]`);
        const data = new DataTransfer();
        handle.dispatchEvent(new DragEvent('dragstart', { bubbles: true, dataTransfer: data }));
        target.dispatchEvent(new DragEvent('dragover', { bubbles: true, cancelable: true, dataTransfer: data }));
        target.dispatchEvent(new DragEvent('drop', { bubbles: true, cancelable: true, dataTransfer: data }));
        handle.dispatchEvent(new DragEvent('dragend', { bubbles: true, dataTransfer: data }));
    "#;
    browser.client.execute(script, vec![from.into(), to.into()]).await?;
    Ok(())
}

/// A query Polars spends many seconds in (13.8 M joined rows, grouped by a
/// string made per row); the engine cannot be interrupted inside it.
const LONG_QUERY: &str = "SELECT k, COUNT(*) AS n FROM (\
SELECT CONCAT(a.zone, b.zone, c.zone, CAST(a.trip_id + b.trip_id + c.trip_id AS STRING)) AS k \
FROM read_csv('samples/trips.csv') a CROSS JOIN read_csv('samples/trips.csv') b CROSS JOIN read_csv('samples/trips.csv') c) t \
GROUP BY k ORDER BY n DESC, k";

#[tokio::test]
async fn a_long_cell_is_stopped_and_the_catalog_rebuilt() -> Result<()> {
    let data = sample_data_root()?;
    let gateway = Gateway::start(data.path())?;
    let browser = Browser::start().await?;
    browser.open_notebook(&gateway.url).await?;

    let base = last_cell_id(&browser).await?;
    run_cell(&browser, &base, "-- name: base\nSELECT 7 AS seven").await?;
    wait_for_result(&browser, &base).await?;

    let long = last_cell_id(&browser).await?;
    run_cell(&browser, &long, LONG_QUERY).await?;
    wait_state(&browser, &long, "running").await?;
    // The elapsed timer ticks while it runs.
    let label = cell_texts(&browser, &long, ".cell-state").await?.join("");
    assert!(label.starts_with("running"), "{label}");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let state = cell_attr(&browser, &long, "data-state").await?;
    if state != "running" {
        let why = cell_texts(&browser, &long, ".cell-error").await?.join("");
        bail!("the long query ended ({state}: {why}) before it could be stopped; make LONG_QUERY longer");
    }
    click(&browser, &format!(r#".notebook:not([hidden]) section[data-cell-id="{long}"] .cell-cancel"#)).await?;
    let error = browser
        .wait_for(
            &format!(r#".notebook:not([hidden]) section[data-cell-id="{long}"] .cell-error"#),
            Duration::from_secs(20),
        )
        .await?;
    let text = error.text().await?;
    assert!(text.contains("cancelled"), "{text}");
    // The worker was replaced: a notice says so, and the engine is ready again.
    let notice = browser.wait_for(".notebook:not([hidden]) p.restarted:not([hidden])", WAIT).await?;
    assert!(notice.text().await?.contains("restarted"), "{}", notice.text().await?);
    browser.wait_for(r#"#engine-status[data-state="ready"]"#, WAIT).await?;

    // The catalog was rebuilt: a new cell reads the table made before the stop.
    let next = last_cell_id(&browser).await?;
    run_cell(&browser, &next, "SELECT seven * 6 AS answer FROM base").await?;
    wait_for_result(&browser, &next).await?;
    assert_eq!(cell_texts(&browser, &next, "table.result td").await?, ["42"]);
    browser.close().await
}

/// A panic kills the engine worker: the UI replaces it, the cell that
/// panicked says so, and the catalog is rebuilt (the engine's test hook
/// panics on purpose; see `TEST_PANIC_CELL` in www/src/bin/engine/main.rs).
#[tokio::test]
async fn a_panic_restarts_the_engine_and_rebuilds_the_catalog() -> Result<()> {
    let data = sample_data_root()?;
    let gateway = Gateway::start(data.path())?;
    let browser = Browser::start().await?;
    let hooked = if gateway.url.contains('?') { "&test_hooks=panic" } else { "/?test_hooks=panic" };
    browser.open_notebook(&format!("{}{hooked}", gateway.url)).await?;

    let base = last_cell_id(&browser).await?;
    run_cell(&browser, &base, "-- name: base\nSELECT 7 AS seven").await?;
    wait_for_result(&browser, &base).await?;

    let crash = last_cell_id(&browser).await?;
    run_cell(&browser, &crash, "-- test: panic").await?;
    let error = browser
        .wait_for(&format!(r#".notebook:not([hidden]) section[data-cell-id="{crash}"] .cell-error"#), WAIT)
        .await?;
    let text = error.text().await?;
    assert!(text.contains("crashed") && text.contains("restarted") && text.contains("on purpose"), "{text}");
    let notice = browser.wait_for(".notebook:not([hidden]) p.restarted:not([hidden])", WAIT).await?;
    assert!(notice.text().await?.contains("after a crash"), "{}", notice.text().await?);
    browser.wait_for(r#"#engine-status[data-state="ready"]"#, WAIT).await?;

    // The catalog was rebuilt: a new cell reads the table made before the panic.
    let next = last_cell_id(&browser).await?;
    run_cell(&browser, &next, "SELECT seven * 6 AS answer FROM base").await?;
    wait_for_result(&browser, &next).await?;
    assert_eq!(cell_texts(&browser, &next, "table.result td").await?, ["42"]);
    browser.close().await
}

#[tokio::test]
async fn a_malformed_query_points_at_its_line() -> Result<()> {
    let data = sample_data_root()?;
    let gateway = Gateway::start(data.path())?;
    let browser = Browser::start().await?;
    browser.open_notebook(&gateway.url).await?;

    let id = last_cell_id(&browser).await?;
    run_cell(&browser, &id, "SELECT zone,\n  COUNT(*) AS trips\nFROM read_csv('samples/trips.csv')\nGROUP BY BY zone")
        .await?;
    let cell = format!(r#".notebook:not([hidden]) section[data-cell-id="{id}"]"#);
    let error = browser.wait_for(&format!("{cell} .cell-error"), WAIT).await?;
    let text = error.text().await?;
    assert!(text.starts_with("line 4, column "), "the message names the line: {text}");
    // The editor underlines it on that line.
    let marked = browser.wait_for(&format!("{cell} .cm-riffle[data-error-line]"), WAIT).await?;
    assert_eq!(marked.attr("data-error-line").await?.as_deref(), Some("4"));
    let underline = browser.client.find_all(Locator::Css(&format!("{cell} .cm-lintRange-error"))).await?;
    assert!(!underline.is_empty(), "an underline in the editor");
    let line = browser
        .client
        .execute(
            "const r = document.querySelector(arguments[0]); const lines = [...r.closest('.cm-content').querySelectorAll('.cm-line')]; \
             return lines.findIndex(l => l.contains(r)) + 1;",
            vec![format!("{cell} .cm-lintRange-error").into()],
        )
        .await?;
    assert_eq!(line, serde_json::json!(4), "the underline is on line 4");
    browser.screenshot("ui-error-line").await?;

    // Fixing it and running again clears the mark.
    let fixed = "SELECT zone, COUNT(*) AS trips FROM read_csv('samples/trips.csv') GROUP BY zone";
    browser
        .client
        .execute(
            "document.querySelector(arguments[0]).riffleEditor.set_value('')",
            vec![format!("{cell} .cm-riffle").into()],
        )
        .await?;
    type_into(&browser, &id, fixed).await?;
    cell_input(&browser, &id).await?.send_keys(&chord(&[Key::Control, Key::Enter])).await?;
    wait_for_result(&browser, &id).await?;
    assert!(browser.client.find_all(Locator::Css(&format!("{cell} .cm-riffle[data-error-line]"))).await?.is_empty());
    browser.close().await
}

#[tokio::test]
async fn cells_that_read_a_changed_table_go_stale() -> Result<()> {
    let data = sample_data_root()?;
    let gateway = Gateway::start(data.path())?;
    let browser = Browser::start().await?;
    browser.open_notebook(&gateway.url).await?;

    let a = last_cell_id(&browser).await?;
    run_cell(&browser, &a, "-- name: a\nSELECT 1 AS x").await?;
    wait_for_result(&browser, &a).await?;
    let b = last_cell_id(&browser).await?;
    run_cell(&browser, &b, "-- name: b\nSELECT x + 1 AS y FROM a").await?;
    wait_for_result(&browser, &b).await?;
    let c = last_cell_id(&browser).await?;
    run_cell(&browser, &c, "SELECT y * 10 AS z FROM b").await?;
    wait_for_result(&browser, &c).await?;
    assert_eq!(cell_texts(&browser, &c, "table.result td").await?, ["20"]);

    // a changes: b reads it, c reads b; both are stale, the rest is not.
    let set = |id: String, text: &'static str| {
        let browser = &browser;
        async move {
            let css = format!(r#".notebook:not([hidden]) section[data-cell-id="{id}"] .cm-riffle"#);
            browser
                .client
                .execute("document.querySelector(arguments[0]).riffleEditor.set_value('')", vec![css.into()])
                .await?;
            type_into(browser, &id, text).await?;
            cell_input(browser, &id).await?.send_keys(&chord(&[Key::Control, Key::Enter])).await?;
            anyhow::Ok(())
        }
    };
    set(a.clone(), "-- name: a\nSELECT 10 AS x").await?;
    wait_state(&browser, &b, "stale").await?;
    wait_state(&browser, &c, "stale").await?;
    assert_eq!(cell_attr(&browser, &a, "data-state").await?, "done");
    let button = browser.client.find(Locator::Css(".notebook:not([hidden]) button.rerun-stale")).await?;
    assert_eq!(button.text().await?, "↻ Re-run stale (2)");

    // One click re-runs them, in order.
    click(&browser, ".notebook:not([hidden]) button.rerun-stale").await?;
    wait_state(&browser, &c, "done").await?;
    wait_state(&browser, &b, "done").await?;
    assert_eq!(cell_texts(&browser, &b, "table.result td").await?, ["11"]);
    assert_eq!(cell_texts(&browser, &c, "table.result td").await?, ["110"]);

    // With auto-run on, a change runs its dependents by itself.
    click(&browser, ".notebook:not([hidden]) .auto-run input").await?;
    set(a.clone(), "-- name: a\nSELECT 100 AS x").await?;
    browser
        .wait_for(
            &format!(r#".notebook:not([hidden]) section[data-cell-id="{c}"][data-state="done"] table.result td"#),
            WAIT,
        )
        .await?;
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let z = cell_texts(&browser, &c, "table.result td").await?;
        if z == ["1010"] {
            break;
        }
        if std::time::Instant::now() > deadline {
            bail!("auto-run did not bring c to 1010: {z:?}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(cell_texts(&browser, &b, "table.result td").await?, ["101"]);
    browser.close().await
}

#[tokio::test]
async fn notebooks_are_saved_opened_and_run_in_their_own_engines() -> Result<()> {
    let data = sample_data_root()?;
    let gateway = Gateway::start(data.path())?;
    let browser = Browser::start().await?;
    browser.open_notebook(&gateway.url).await?;

    let id = last_cell_id(&browser).await?;
    run_cell(&browser, &id, "-- name: mine\nSELECT 5 AS five").await?;
    wait_for_result(&browser, &id).await?;
    browser.wait_for(r#".notebook:not([hidden]) .file-state[data-unsaved="true"]"#, WAIT).await?;

    // Save: a name is asked for, and the file lands in notebooks/.
    click(&browser, ".notebook:not([hidden]) button.save-notebook").await?;
    browser.client.send_alert_text("portfolio").await.context("the name prompt")?;
    browser.client.accept_alert().await.context("accepting the name")?;
    browser.wait_for(r#".notebook:not([hidden]) .file-state[data-unsaved="false"]"#, WAIT).await?;
    let file = data.path().join("notebooks/portfolio.riffle.md");
    let saved: riffle::notebook::Notebook = riffle::notebook::from_text(&std::fs::read_to_string(&file)?)?;
    assert!(saved.cells.iter().any(|c| c.source == "-- name: mine\nSELECT 5 AS five"), "{saved:?}");
    let tab = browser.client.find(Locator::Css("nav.tabs .tab.active .tab-title")).await?.text().await?;
    assert!(tab.starts_with("portfolio"), "{tab}");

    // An edit is an unsaved change until Ctrl+S.
    let last = last_cell_id(&browser).await?;
    type_into(&browser, &last, "SELECT 'draft' AS d").await?;
    browser.wait_for(r#".notebook:not([hidden]) .file-state[data-unsaved="true"]"#, WAIT).await?;
    cell_input(&browser, &last)
        .await?
        .send_keys(&(char::from(Key::Control).to_string() + "s"))
        .await
        .context("Ctrl+S")?;
    browser.wait_for(r#".notebook:not([hidden]) .file-state[data-unsaved="false"]"#, WAIT).await?;
    let saved: riffle::notebook::Notebook = riffle::notebook::from_text(&std::fs::read_to_string(&file)?)?;
    assert!(saved.cells.iter().any(|c| c.source == "SELECT 'draft' AS d"), "{saved:?}");

    // A new notebook has an engine of its own: the first one's table is not there.
    click(&browser, "nav.tabs button.new-notebook").await?;
    browser.wait_for(r#"#engine-status[data-state="ready"]"#, WAIT).await?;
    let ids = cell_ids(&browser).await?;
    assert_eq!(ids.len(), 1, "a new notebook has one empty cell: {ids:?}");
    run_cell(&browser, &ids[0], "SELECT * FROM mine").await?;
    let error = browser
        .wait_for(&format!(r#".notebook:not([hidden]) section[data-cell-id="{}"] .cell-error"#, ids[0]), WAIT)
        .await?;
    assert!(error.text().await?.contains("mine"), "{}", error.text().await?);
    let second = last_cell_id(&browser).await?;
    run_cell(&browser, &second, "-- name: mine\nSELECT 6 AS six").await?;
    wait_for_result(&browser, &second).await?;

    // Open… lists the saved notebook; it is open already, so its tab comes back.
    click(&browser, "nav.tabs button.open-notebook").await?;
    let entry = browser
        .wait_for(r#"nav.tabs .open-list button.open-file[data-path="notebooks/portfolio.riffle.md"]"#, WAIT)
        .await?;
    entry.click().await.context("the saved notebook in the Open list")?;
    let tab = browser.client.find(Locator::Css("nav.tabs .tab.active .tab-title")).await?.text().await?;
    assert!(tab.starts_with("portfolio"), "{tab}");
    let check = last_cell_id(&browser).await?;
    let css = format!(r#".notebook:not([hidden]) section[data-cell-id="{check}"] .cm-riffle"#);
    browser.client.execute("document.querySelector(arguments[0]).riffleEditor.set_value('')", vec![css.into()]).await?;
    run_cell(&browser, &check, "SELECT * FROM mine").await?;
    wait_for_result(&browser, &check).await?;
    assert_eq!(cell_texts(&browser, &check, "table.result td").await?, ["5"], "each notebook keeps its own tables");

    // Both tabs survive a reload.
    browser.wait_for(r#".autosaved[data-saved="yes"]"#, Duration::from_secs(10)).await?;
    browser.client.refresh().await?;
    browser.wait_for(r#"#engine-status[data-state="ready"]"#, WAIT).await?;
    let tabs = browser.client.find_all(Locator::Css("nav.tabs .tab")).await?;
    assert_eq!(tabs.len(), 2);
    browser.screenshot("ui-tabs").await?;
    browser.close().await
}

/// The README's screenshots (docs/screenshots/notebook-{light,dark}.png), at
/// 1280×800: `cargo xtask screenshots` runs this with RIFFLE_DOCS_SCREENSHOTS set.
#[tokio::test]
#[ignore = "writes the README's screenshots; run by `cargo xtask screenshots`"]
async fn docs_screenshots() -> Result<()> {
    let Some(dir) = std::env::var_os("RIFFLE_DOCS_SCREENSHOTS") else {
        bail!("set RIFFLE_DOCS_SCREENSHOTS to the directory the screenshots go to");
    };
    let data = sample_data_root()?;
    let gateway = Gateway::start(data.path())?;
    let browser = Browser::start().await?;
    browser.open_notebook(&gateway.url).await?;
    let ids = cell_ids(&browser).await?;
    // The default notebook: `SELECT 1 + 1`, the group-by, an empty cell. Make
    // the first a Markdown introduction and run the rest.
    let css = format!(r#".notebook:not([hidden]) section[data-cell-id="{}"] .cm-riffle"#, ids[0]);
    browser.client.execute("document.querySelector(arguments[0]).riffleEditor.set_value('')", vec![css.into()]).await?;
    type_into(
        &browser,
        &ids[0],
        "# Taxi revenue by zone\n\nTrips from the bundled sample CSV, grouped by pickup zone. \
         Every cell is SQL over Polars, running in a Web Worker in this tab.",
    )
    .await?;
    cell_input(&browser, &ids[0]).await?.send_keys(&key(Key::Escape)).await?;
    tokio::time::sleep(Duration::from_millis(200)).await;
    if browser.client.active_element().await?.attr("data-cell-id").await?.is_none() {
        browser.client.active_element().await?.send_keys(&key(Key::Escape)).await?;
    }
    let selected = focused(&browser, &ids[0]).await?;
    selected.send_keys("m").await?;
    selected.send_keys(&chord(&[Key::Control, Key::Enter])).await?;
    cell_input(&browser, &ids[1]).await?.click().await?;
    cell_input(&browser, &ids[1]).await?.send_keys(&chord(&[Key::Control, Key::Enter])).await?;
    wait_for_result(&browser, &ids[1]).await?;
    run_cell(
        &browser,
        &ids[2],
        "SELECT passengers, COUNT(*) AS trips, ROUND(AVG(distance_km), 1) AS avg_km\nFROM read_csv('samples/trips.csv')\nGROUP BY passengers ORDER BY passengers",
    )
    .await?;
    wait_for_result(&browser, &ids[2]).await?;
    browser.client.execute("window.scrollTo(0, 0)", vec![]).await?;
    std::fs::create_dir_all(&dir)?;
    for theme in ["light", "dark"] {
        let script = "document.documentElement.dataset.theme !== arguments[0] && document.querySelector('.theme-toggle').click()";
        browser.client.execute(script, vec![theme.into()]).await?;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let png = browser.client.screenshot().await?;
        std::fs::write(std::path::Path::new(&dir).join(format!("notebook-{theme}.png")), png)?;
    }
    browser.close().await
}

/// A chart cell: made from a result with "Chart…", changed with its form
/// (which rewrites the spec text), and redrawn when its table changes.
#[tokio::test]
async fn charts_follow_their_form_and_their_table() -> Result<()> {
    let data = sample_data_root()?;
    let gateway = Gateway::start(data.path())?;
    let browser = Browser::start().await?;
    browser.open_notebook(&gateway.url).await?;

    let table = last_cell_id(&browser).await?;
    let query = "-- name: boroughs\nSELECT borough, COUNT(*) AS zones FROM read_csv('samples/zones.csv') GROUP BY borough ORDER BY borough";
    run_cell(&browser, &table, query).await?;
    wait_for_result(&browser, &table).await?;
    click(&browser, &format!(r#".notebook:not([hidden]) section[data-cell-id="{table}"] button.add-chart"#)).await?;
    let ids = cell_ids(&browser).await?;
    let position = ids.iter().position(|i| *i == table).context("the table's cell")?;
    let chart = ids.get(position + 1).cloned().context("a chart cell below")?;
    assert_eq!(cell_attr(&browser, &chart, "data-kind").await?, "chart");
    wait_state(&browser, &chart, "done").await?;
    let css = format!(r#".notebook:not([hidden]) section[data-cell-id="{chart}"]"#);
    let bars = browser.client.find_all(Locator::Css(&format!("{css} figure.chart .mark.bar"))).await?;
    assert_eq!(bars.len(), 3, "Brooklyn, Manhattan, Queens");
    let spec = cell_source(&browser, &chart).await?;
    assert!(spec.contains("table: boroughs") && spec.contains("kind: bar"), "{spec}");

    // The form writes the spec and redraws: a line instead of bars.
    let script = "const s = document.querySelector(arguments[0]); s.value = 'line'; s.dispatchEvent(new Event('change', { bubbles: true }));";
    browser.client.execute(script, vec![format!(r#"{css} .chart-form select[name="kind"]"#).into()]).await?;
    wait_chart(&browser, &css, "a line", |lines, _, _| lines > 0).await?;
    assert!(cell_source(&browser, &chart).await?.contains("kind: line"));

    // The table changes: the chart follows without being asked.
    let css_table = format!(r#".notebook:not([hidden]) section[data-cell-id="{table}"] .cm-riffle"#);
    browser
        .client
        .execute("document.querySelector(arguments[0]).riffleEditor.set_value('')", vec![css_table.into()])
        .await?;
    type_into(&browser, &table, &query.replace("GROUP BY", "WHERE borough <> 'Queens' GROUP BY")).await?;
    cell_input(&browser, &table).await?.send_keys(&chord(&[Key::Control, Key::Enter])).await?;
    wait_chart(&browser, &css, "two points and no Queens", |_, points, text| points == 2 && !text.contains("Queens"))
        .await?;
    browser.screenshot("ui-chart").await?;
    browser.close().await
}

/// Waits until the chart in `css` satisfies `ok(lines, points, svg text)`,
/// read in one script (the chart is redrawn as it changes).
async fn wait_chart(browser: &Browser, css: &str, what: &str, ok: impl Fn(u64, u64, &str) -> bool) -> Result<()> {
    let script = r#"
        const svg = document.querySelector(arguments[0] + ' figure.chart svg');
        if (!svg) return [0, 0, ''];
        return [svg.querySelectorAll('.mark.line').length, svg.querySelectorAll('.mark.point').length, svg.outerHTML];
    "#;
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let out = browser.client.execute(script, vec![css.into()]).await?;
        let (lines, points) = (out[0].as_u64().unwrap_or(0), out[1].as_u64().unwrap_or(0));
        if ok(lines, points, out[2].as_str().unwrap_or_default()) {
            return Ok(());
        }
        if std::time::Instant::now() > deadline {
            bail!("the chart never showed {what}: {lines} lines, {points} points");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
