//! The notebook page: type a cell, press Shift+Enter, read the rendered result.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{Context, Result};
use fantoccini::Locator;
use fantoccini::key::Key;
use riffle_tests::{Browser, Gateway, repo, sample_data_root};

const GROUP_BY: &str = "SELECT zone, COUNT(*) AS trips, ROUND(SUM(fare), 2) AS revenue
FROM read_csv('samples/trips.csv')
GROUP BY zone ORDER BY zone";

/// zone → (trips, revenue in cents), summed from the CSV without the engine.
fn expected() -> Result<BTreeMap<String, (u64, u64)>> {
    let text = std::fs::read_to_string(repo().join("data/samples/trips.csv"))?;
    let mut out = BTreeMap::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let (whole, cents) = f[5].split_once('.').context("fare without cents")?;
        let e = out.entry(f[2].to_string()).or_insert((0, 0));
        e.0 += 1;
        e.1 += whole.parse::<u64>()? * 100 + cents.parse::<u64>()?;
    }
    Ok(out)
}

pub(crate) fn shift_enter() -> String {
    [char::from(Key::Shift), char::from(Key::Enter)].iter().collect()
}

/// Types `text` into the cell `id`'s editor at the caret, as one input (so
/// that newlines are newlines, not Enter presses an autocomplete could take).
pub(crate) async fn type_into(browser: &Browser, id: &str, text: &str) -> Result<()> {
    let script = r#"
        const [id, text] = arguments;
        const cell = document.querySelector(`.notebook:not([hidden]) section[data-cell-id="${id}"]`);
        if (!cell) return `no cell ${id}`;
        const rendered = cell.querySelector('.markdown-body');
        if (rendered) rendered.dispatchEvent(new Event('dblclick'));
        const input = cell.querySelector('.cm-content, textarea.cell-input');
        if (!input) return `cell ${id} has no editor`;
        input.focus();
        // The caret at the end of the text, as a click after it would put it.
        const selection = document.getSelection();
        selection.selectAllChildren(input);
        selection.collapseToEnd();
        document.execCommand('insertText', false, text);
        return null;
    "#;
    let out = browser.client.execute(script, vec![id.into(), text.into()]).await?;
    if let Some(why) = out.as_str() {
        anyhow::bail!("{why}");
    }
    Ok(())
}

/// The text of the cell `id`'s editor.
pub(crate) async fn cell_source(browser: &Browser, id: &str) -> Result<String> {
    let script = r#"
        const cell = document.querySelector(`.notebook:not([hidden]) section[data-cell-id="${arguments[0]}"]`);
        if (!cell) return null;
        const editor = cell.querySelector('.cm-riffle');
        if (editor && editor.riffleEditor) return editor.riffleEditor.get_value();
        const lines = cell.querySelectorAll('.cm-content .cm-line');
        if (lines.length) return Array.from(lines, l => l.textContent).join('\n');
        return cell.dataset.source ?? '';
    "#;
    let out = browser.client.execute(script, vec![id.into()]).await?;
    out.as_str().map(str::to_string).context(format!("no cell {id}"))
}

/// The element that takes keys in the cell `id` (its editor).
pub(crate) async fn cell_input(browser: &Browser, id: &str) -> Result<fantoccini::elements::Element> {
    let css = format!(
        r#".notebook:not([hidden]) section[data-cell-id="{id}"] .cm-content, .notebook:not([hidden]) section[data-cell-id="{id}"] textarea.cell-input"#
    );
    Ok(browser.client.find(Locator::Css(&css)).await?)
}

/// Waits until the cell `id` itself has the focus (command mode; the page
/// moves the focus on the next animation frame) and returns it.
pub(crate) async fn focused(browser: &Browser, id: &str) -> Result<fantoccini::elements::Element> {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let active = browser.client.active_element().await?;
        let (cell, class) = (active.attr("data-cell-id").await?, active.attr("class").await?.unwrap_or_default());
        if cell.as_deref() == Some(id) && class.split(' ').any(|c| c == "cell") {
            return Ok(active);
        }
        if std::time::Instant::now() > deadline {
            anyhow::bail!("cell {id} never got the focus (the focus is on {cell:?}, class {class:?})");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until the focus is in an editor (edit mode) and returns that element.
pub(crate) async fn editing(browser: &Browser) -> Result<fantoccini::elements::Element> {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let active = browser.client.active_element().await?;
        let class = active.attr("class").await?.unwrap_or_default();
        if class.contains("cm-content") || class.contains("cell-input") {
            return Ok(active);
        }
        if std::time::Instant::now() > deadline {
            anyhow::bail!("no editor got the focus (it is on class {class:?})");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Types `sql` into the cell `id` and runs it with Shift+Enter.
pub(crate) async fn run_cell(browser: &Browser, id: &str, sql: &str) -> Result<()> {
    type_into(browser, id, sql).await?;
    cell_input(browser, id).await?.send_keys(&shift_enter()).await?;
    Ok(())
}

pub(crate) async fn last_cell_id(browser: &Browser) -> Result<String> {
    let cells = browser.client.find_all(Locator::Css(".notebook:not([hidden]) section.cell")).await?;
    let last = cells.last().context("the notebook has no cells")?;
    last.attr("data-cell-id").await?.context("a cell without data-cell-id")
}

#[tokio::test]
async fn group_by_cell_renders_the_right_numbers() -> Result<()> {
    let data = sample_data_root()?;
    let gateway = Gateway::start(data.path())?;
    let browser = Browser::start().await?;
    browser.open_notebook(&gateway.url).await?;

    let id = last_cell_id(&browser).await?;
    run_cell(&browser, &id, GROUP_BY).await?;
    let cell = format!(r#".notebook:not([hidden]) section[data-cell-id="{id}"]"#);
    browser.wait_for(&format!("{cell} table.result tbody tr"), Duration::from_secs(60)).await?;

    // Shift+Enter moved on: a new cell follows the one that ran.
    assert_ne!(last_cell_id(&browser).await?, id, "Shift+Enter should add a cell below the last one");

    let headers: Vec<String> = {
        let mut out = Vec::new();
        for th in browser.client.find_all(Locator::Css(&format!("{cell} table.result th"))).await? {
            out.push(th.text().await?);
        }
        out
    };
    assert_eq!(headers.len(), 3, "{headers:?}");
    assert!(headers[0].starts_with("zone") && headers[0].contains("string"), "{headers:?}");
    assert!(headers[2].starts_with("revenue") && headers[2].contains("double"), "{headers:?}");

    let expected = expected()?;
    let rows = browser.client.find_all(Locator::Css(&format!("{cell} table.result tbody tr"))).await?;
    assert_eq!(rows.len(), expected.len());
    for (row, (zone, (trips, cents))) in rows.iter().zip(&expected) {
        let mut texts = Vec::new();
        for td in row.find_all(Locator::Css("td")).await? {
            texts.push(td.text().await?);
        }
        assert_eq!(&texts[0], zone);
        assert_eq!(texts[1].parse::<u64>()?, *trips, "trips in {zone}");
        let revenue: f64 = texts[2].parse()?;
        assert!((revenue - *cents as f64 / 100.0).abs() < 0.005, "revenue in {zone}: {revenue} vs {cents} cents");
    }
    let count = browser.client.find(Locator::Css(&format!("{cell} .row-count"))).await?.text().await?;
    assert!(count.starts_with(&format!("{} rows", expected.len())), "{count}");

    browser.screenshot("notebook-group-by").await?;
    browser.close().await
}

#[tokio::test]
async fn errors_show_in_the_cell() -> Result<()> {
    let data = sample_data_root()?;
    let gateway = Gateway::start(data.path())?;
    let browser = Browser::start().await?;
    browser.open_notebook(&gateway.url).await?;

    let id = last_cell_id(&browser).await?;
    run_cell(&browser, &id, "SELECT * FROM nowhere").await?;
    let error = browser
        .wait_for(
            &format!(r#".notebook:not([hidden]) section[data-cell-id="{id}"] .cell-error"#),
            Duration::from_secs(60),
        )
        .await?;
    let text = error.text().await?;
    assert!(text.contains("nowhere"), "{text}");

    let id = last_cell_id(&browser).await?;
    run_cell(&browser, &id, "SELECT * FROM read_csv('samples/missing.csv')").await?;
    let error = browser
        .wait_for(
            &format!(r#".notebook:not([hidden]) section[data-cell-id="{id}"] .cell-error"#),
            Duration::from_secs(60),
        )
        .await?;
    let text = error.text().await?;
    assert!(text.contains("samples/missing.csv") && text.contains("does not exist"), "{text}");

    let id = last_cell_id(&browser).await?;
    run_cell(&browser, &id, "SELECT 1 + 1 AS two").await?;
    let td = browser
        .wait_for(
            &format!(r#".notebook:not([hidden]) section[data-cell-id="{id}"] table.result td"#),
            Duration::from_secs(60),
        )
        .await?;
    assert_eq!(td.text().await?, "2");

    browser.close().await
}

/// Calls the gateway from the page itself (same origin), as the UI would.
pub(crate) async fn page_fetch(browser: &Browser, method: &str, path: &str, body: &str) -> Result<(u16, String)> {
    let script = r#"
        const [method, path, body, done] = arguments;
        fetch(path, { method, body: method === 'GET' ? undefined : body, headers: { 'content-type': 'application/json' } })
            .then(async r => done([r.status, await r.text()]))
            .catch(e => done([0, String(e)]));
    "#;
    let out = browser.client.execute_async(script, vec![method.into(), path.into(), body.into()]).await?;
    let status = out[0].as_u64().context("no status")? as u16;
    Ok((status, out[1].as_str().unwrap_or_default().to_string()))
}

pub(crate) async fn wait_for_result(browser: &Browser, id: &str) -> Result<()> {
    let cell = format!(r#".notebook:not([hidden]) section[data-cell-id="{id}"]"#);
    browser.wait_for(&format!("{cell} .row-count, {cell} .cell-error"), Duration::from_secs(120)).await?;
    if let Ok(e) = browser.client.find(Locator::Css(&format!("{cell} .cell-error"))).await {
        anyhow::bail!("cell {id} failed: {}", e.text().await?);
    }
    Ok(())
}

pub(crate) async fn cell_texts(browser: &Browser, id: &str, css: &str) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for el in browser
        .client
        .find_all(Locator::Css(&format!(r#".notebook:not([hidden]) section[data-cell-id="{id}"] {css}"#)))
        .await?
    {
        out.push(el.text().await?);
    }
    Ok(out)
}

/// MISSION workflow 1 and INSERT INTO kafka, in the browser against the real
/// broker: produce from a cell, see the topic in the list, click it to get a
/// kafka('...') cell, run it, and count.
#[tokio::test]
async fn kafka_cells_produce_list_and_read() -> Result<()> {
    let data = sample_data_root()?;
    let gateway = Gateway::start(data.path())?;
    let browser = Browser::start().await?;
    browser.open_notebook(&gateway.url).await?;
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_nanos();
    let topic = format!("nb-trips-{nanos}");
    let (status, body) =
        page_fetch(&browser, "POST", "/api/kafka/topics", &format!(r#"{{"name": "{topic}", "partitions": 3}}"#))
            .await?;
    assert_eq!(status, 201, "{body}");

    // Produce every trip: key = trip id, value = "zone:fare".
    let trips = std::fs::read_to_string(repo().join("data/samples/trips.csv"))?;
    let expected: Vec<(String, String)> = trips
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[0].to_string(), f[2].to_string())
        })
        .collect();
    let id = last_cell_id(&browser).await?;
    run_cell(
        &browser,
        &id,
        &format!(
            "INSERT INTO kafka('{topic}') SELECT CAST(trip_id AS STRING) AS key, zone AS value FROM read_csv('samples/trips.csv')"
        ),
    )
    .await?;
    wait_for_result(&browser, &id).await?;
    let notes = cell_texts(&browser, &id, "ul.notes li").await?.join("\n");
    assert!(notes.contains(&format!("produced {} record(s)", expected.len())), "{notes}");

    // The topic list shows it after a refresh, with its message count.
    browser.client.find(Locator::Css("#kafka-topics button.refresh")).await?.click().await?;
    let row =
        browser.wait_for(&format!(r#"#kafka-topics tr.topic[data-topic="{topic}"]"#), Duration::from_secs(30)).await?;
    let cols: Vec<String> = {
        let mut v = Vec::new();
        for td in row.find_all(Locator::Css("td")).await? {
            v.push(td.text().await?);
        }
        v
    };
    assert_eq!(cols[1], "3", "{cols:?}");
    assert_eq!(cols[2].replace(',', ""), expected.len().to_string(), "{cols:?}");

    // Clicking it adds a kafka('...') cell at the end; run it.
    let before = last_cell_id(&browser).await?;
    row.click().await?;
    let added = last_cell_id(&browser).await?;
    assert_ne!(added, before, "clicking a topic should add a cell");
    let source = cell_source(&browser, &added).await?;
    assert!(source.contains(&format!("kafka('{topic}')")), "{source}");
    let input = cell_input(&browser, &added).await?;
    input.click().await?;
    input.send_keys(&shift_enter()).await?;
    wait_for_result(&browser, &added).await?;
    let count = cell_texts(&browser, &added, ".row-count").await?.join("");
    assert!(count.starts_with(&format!("{} rows", expected.len())), "{count}");

    // A query over the topic agrees with the CSV, key by key.
    let id = last_cell_id(&browser).await?;
    run_cell(
        &browser,
        &id,
        &format!(
            "SELECT COUNT(*) AS n, COUNT(DISTINCT CAST(key AS STRING)) AS keys, \
             SUM(CASE WHEN CAST(value AS STRING) = 'Midtown' THEN 1 ELSE 0 END) AS midtown FROM kafka('{topic}')"
        ),
    )
    .await?;
    wait_for_result(&browser, &id).await?;
    let cells = cell_texts(&browser, &id, "table.result td").await?;
    let midtown = expected.iter().filter(|(_, zone)| zone == "Midtown").count();
    assert_eq!(cells, vec![expected.len().to_string(), expected.len().to_string(), midtown.to_string()]);
    browser.screenshot("notebook-kafka").await?;

    // An empty topic is an empty table with a note, not an error.
    let empty = format!("nb-empty-{nanos}");
    let (status, body) =
        page_fetch(&browser, "POST", "/api/kafka/topics", &format!(r#"{{"name": "{empty}"}}"#)).await?;
    assert_eq!(status, 201, "{body}");
    let id = last_cell_id(&browser).await?;
    run_cell(&browser, &id, &format!("SELECT COUNT(*) AS n FROM kafka('{empty}')")).await?;
    wait_for_result(&browser, &id).await?;
    assert_eq!(cell_texts(&browser, &id, "table.result td").await?, vec!["0".to_string()]);
    let notes = cell_texts(&browser, &id, "ul.notes li").await?.join("\n");
    assert!(notes.contains("has no messages"), "{notes}");

    // A misspelt topic fails in the cell, naming it and the near miss.
    let id = last_cell_id(&browser).await?;
    let typo = &empty[..empty.len() - 1];
    run_cell(&browser, &id, &format!("SELECT * FROM kafka('{typo}')")).await?;
    let error = browser
        .wait_for(
            &format!(r#".notebook:not([hidden]) section[data-cell-id="{id}"] .cell-error"#),
            Duration::from_secs(60),
        )
        .await?;
    let text = error.text().await?;
    assert!(text.contains(&format!("'{typo}' does not exist")) && text.contains("did you mean"), "{text}");
    browser.close().await
}

/// MISSION workflow 4 on the local data root: COPY to Parquet part files with
/// _SUCCESS, read back; append doubles it, overwrite replaces it, and the
/// default mode refuses an existing output.
#[tokio::test]
async fn copy_writes_spark_style_parquet_directories() -> Result<()> {
    let data = sample_data_root()?;
    let gateway = Gateway::start(data.path())?;
    let browser = Browser::start().await?;
    browser.open_notebook(&gateway.url).await?;
    let trips = std::fs::read_to_string(repo().join("data/samples/trips.csv"))?;
    let rows = trips.lines().skip(1).count();
    let cents: u64 = trips
        .lines()
        .skip(1)
        .map(|l| {
            let fare = l.rsplit(',').next().unwrap_or("0");
            let (w, c) = fare.split_once('.').unwrap_or((fare, "0"));
            w.parse::<u64>().unwrap_or(0) * 100 + c.parse::<u64>().unwrap_or(0)
        })
        .sum();
    let out = data.path().join("out/trips");
    let copy = |mode: &str| {
        format!(
            "COPY (SELECT * FROM read_csv('samples/trips.csv', schema => 'trip_id INT, pickup_datetime TIMESTAMP, zone STRING, passengers INT, distance_km DOUBLE, fare DOUBLE')) \
             TO 'out/trips' (FORMAT parquet, MODE {mode}, PARTITIONS 4)"
        )
    };
    let read_back =
        "SELECT COUNT(*) AS n, CAST(ROUND(SUM(fare) * 100) AS BIGINT) AS cents FROM read_parquet('out/trips')";
    let data_files = || -> Result<Vec<String>> {
        let mut names: Vec<String> = std::fs::read_dir(&out)?
            .map(|e| e.map(|e| e.file_name().to_string_lossy().to_string()))
            .collect::<Result<_, _>>()?;
        names.sort();
        Ok(names)
    };

    let id = last_cell_id(&browser).await?;
    run_cell(&browser, &id, &copy("overwrite")).await?;
    wait_for_result(&browser, &id).await?;
    let names = data_files()?;
    assert_eq!(
        names.iter().filter(|n| n.starts_with("part-") && n.ends_with(".snappy.parquet")).count(),
        4,
        "{names:?}"
    );
    assert!(names.contains(&"_SUCCESS".to_string()) && !names.contains(&"_temporary".to_string()), "{names:?}");
    let notes = cell_texts(&browser, &id, "ul.notes li").await?.join("\n");
    assert!(notes.contains("wrote 4 part file(s)") && notes.contains("_SUCCESS"), "{notes}");

    let id = last_cell_id(&browser).await?;
    run_cell(&browser, &id, read_back).await?;
    wait_for_result(&browser, &id).await?;
    assert_eq!(cell_texts(&browser, &id, "table.result td").await?, vec![rows.to_string(), cents.to_string()]);

    let id = last_cell_id(&browser).await?;
    run_cell(&browser, &id, &copy("append")).await?;
    wait_for_result(&browser, &id).await?;
    assert_eq!(data_files()?.iter().filter(|n| n.starts_with("part-")).count(), 8);
    let id = last_cell_id(&browser).await?;
    run_cell(&browser, &id, read_back).await?;
    wait_for_result(&browser, &id).await?;
    assert_eq!(
        cell_texts(&browser, &id, "table.result td").await?,
        vec![(2 * rows).to_string(), (2 * cents).to_string()]
    );

    // The default mode (error if it exists) refuses, and changes nothing.
    let id = last_cell_id(&browser).await?;
    run_cell(&browser, &id, &copy("error")).await?;
    let error = browser
        .wait_for(
            &format!(r#".notebook:not([hidden]) section[data-cell-id="{id}"] .cell-error"#),
            Duration::from_secs(60),
        )
        .await?;
    let text = error.text().await?;
    assert!(text.contains("already holds data") && text.contains("MODE overwrite"), "{text}");
    assert_eq!(data_files()?.iter().filter(|n| n.starts_with("part-")).count(), 8);

    let id = last_cell_id(&browser).await?;
    run_cell(&browser, &id, &copy("overwrite")).await?;
    wait_for_result(&browser, &id).await?;
    assert_eq!(data_files()?.iter().filter(|n| n.starts_with("part-")).count(), 4);
    let id = last_cell_id(&browser).await?;
    run_cell(&browser, &id, read_back).await?;
    wait_for_result(&browser, &id).await?;
    assert_eq!(cell_texts(&browser, &id, "table.result td").await?, vec![rows.to_string(), cents.to_string()]);
    browser.close().await
}

/// Nothing typed is lost: the cells' text, order and ids come back after a
/// reload (autosave to the browser's storage), including a cell never run.
#[tokio::test]
async fn a_reload_brings_the_notebook_back() -> Result<()> {
    let data = sample_data_root()?;
    let gateway = Gateway::start(data.path())?;
    let browser = Browser::start().await?;
    browser.open_notebook(&gateway.url).await?;

    let id = last_cell_id(&browser).await?;
    run_cell(&browser, &id, "SELECT 41 + 1 AS answer").await?;
    let cell = format!(r#".notebook:not([hidden]) section[data-cell-id="{id}"]"#);
    browser.wait_for(&format!("{cell} table.result tbody tr"), Duration::from_secs(60)).await?;
    // Shift+Enter added a cell below; type into it without running it.
    let unsaved = last_cell_id(&browser).await?;
    assert_ne!(unsaved, id);
    type_into(&browser, &unsaved, "-- typed, never run\nSELECT 'kept' AS note").await?;
    let before = sources(&browser).await?;
    // IndexedDB has it once the page says so.
    browser.wait_for(r#".autosaved[data-saved="yes"]"#, Duration::from_secs(10)).await?;

    browser.client.refresh().await?;
    browser.wait_for("#engine-status[data-state=ready]", Duration::from_secs(60)).await?;
    let after = sources(&browser).await?;
    assert_eq!(after, before, "the cells after a reload");
    assert!(after.iter().any(|(i, s)| *i == unsaved && s == "-- typed, never run\nSELECT 'kept' AS note"), "{after:?}");
    assert!(after.iter().any(|(i, s)| *i == id && s.ends_with("SELECT 41 + 1 AS answer")), "{after:?}");
    browser.close().await?;
    Ok(())
}

/// Every cell's id and text, in order.
async fn sources(browser: &Browser) -> Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    for section in browser.client.find_all(Locator::Css(".notebook:not([hidden]) section.cell")).await? {
        let id = section.attr("data-cell-id").await?.context("a cell without data-cell-id")?;
        let text = cell_source(browser, &id).await?;
        out.push((id, text));
    }
    Ok(out)
}

/// Jupyter's command mode: Esc leaves the text for the cell, B adds a cell
/// below and A above, D D deletes, Enter goes back to editing.
#[tokio::test]
async fn command_mode_keys_add_and_delete_cells() -> Result<()> {
    let data = sample_data_root()?;
    let gateway = Gateway::start(data.path())?;
    let browser = Browser::start().await?;
    browser.open_notebook(&gateway.url).await?;

    let ids = |cells: Vec<(String, String)>| cells.into_iter().map(|(id, _)| id).collect::<Vec<_>>();
    let start = ids(sources(&browser).await?);
    let first = &start[0];
    let input = cell_input(&browser, first).await?;
    input.click().await?;
    input.send_keys(&char::from(Key::Escape).to_string()).await?;
    let active = focused(&browser, first).await.context("Esc selects the cell")?;

    active.send_keys("b").await?;
    let after_b = ids(sources(&browser).await?);
    assert_eq!(after_b.len(), start.len() + 1, "B adds a cell: {after_b:?}");
    assert_eq!(&after_b[0], first);
    assert!(!start.contains(&after_b[1]), "the new cell is right below: {after_b:?}");
    let new_cell = after_b[1].clone();
    let active = focused(&browser, &new_cell).await.context("the new cell is selected")?;

    active.send_keys("a").await?;
    let after_a = ids(sources(&browser).await?);
    assert_eq!(after_a.len(), start.len() + 2, "A adds a cell: {after_a:?}");
    assert_eq!(after_a[2], new_cell, "above the selected one: {after_a:?}");

    let active = focused(&browser, &after_a[1]).await.context("the cell A added is selected")?;
    active.send_keys("dd").await?;
    let after_dd = ids(sources(&browser).await?);
    assert_eq!(after_dd.len(), start.len() + 1, "D D deletes the selected cell: {after_dd:?}");
    assert!(!after_dd.contains(&after_a[1]), "{after_dd:?}");

    let active = focused(&browser, &after_dd[1]).await.context("the cell below the deleted one is selected")?;
    active.send_keys(&char::from(Key::Enter).to_string()).await?;
    editing(&browser).await.context("Enter goes back to editing")?;
    browser.close().await?;
    Ok(())
}
