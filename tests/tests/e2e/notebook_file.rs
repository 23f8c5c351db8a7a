//! A `.riffle.md` written by hand (issue 16): every attribute of the format
//! (front matter with a title and another key, `id=`, `name=` plain and quoted, Markdown cells with and
//! without a marker and as a fence, chart cells, `-- name:`, `-- max_rows:`
//! and `-- engine: spark` lines) survives opening it in the UI, running it,
//! saving it, opening it again and a reload of the page. The fence's
//! `name=` is the table later cells read.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use fantoccini::Locator;
use riffle_tests::{Browser, Gateway, repo, sample_data_root, spark_url};

use crate::ui::{cell_attr, click};

const WAIT: Duration = Duration::from_secs(120);

const PATH: &str = "notebooks/by-hand.riffle.md";

/// The file as someone writes it: ids out of order, two cells without one
/// (they get 10 and 11), names plain, quoted and overridden.
const FILE: &str = r#"---
title: Zones and trips, by hand
author: another tool's key, kept as written
---

# Zones and trips

Written in a text editor; this cell has no marker.

```sql id=1 name=tab_zones
SELECT * FROM read_csv('samples/zones.csv')
```

<!-- cell id=7 name=intro -->
Trips per **borough**, from the zones above.

```sql id=3 name=by_borough
SELECT z.borough, COUNT(*) AS trips
FROM read_csv('samples/trips.csv') AS t JOIN tab_zones AS z ON t.zone = z.zone
GROUP BY z.borough ORDER BY z.borough
```

```sql id=6 name="zone count"
SELECT COUNT(*) AS n FROM tab_zones
```

```sql id=2 name=ignored
-- name: manhattan
-- max_rows: 1000
SELECT zone FROM tab_zones WHERE borough = 'Manhattan' ORDER BY zone
```

```sql id=8 name=on_spark
-- engine: spark
SELECT 42 AS answer
```

````markdown id=9
How a cell is named, shown in Markdown:

```sql id=99 name=not_a_cell
SELECT 1
```
````

```chart id=5 name=borough_chart
table: by_borough
kind: bar
x: borough
y: trips
```

~~~sql
SELECT n FROM `zone count`
~~~
"#;

/// (id, kind) of every cell, in the file's order.
const SHAPE: [(&str, &str); 10] = [
    ("10", "markdown"),
    ("1", "sql"),
    ("7", "markdown"),
    ("3", "sql"),
    ("6", "sql"),
    ("2", "sql"),
    ("8", "sql"),
    ("9", "markdown"),
    ("5", "chart"),
    ("11", "sql"),
];

/// The table each SQL and chart cell's result is shown (and registered) as.
const TABLES: [(&str, &str); 6] = [
    ("1", "tab_zones"),
    ("3", "by_borough"),
    ("6", "zone count"),
    ("2", "manhattan"),
    ("5", "borough_chart"),
    ("11", "cell_11"),
];

fn cell_css(id: &str) -> String {
    format!(r#".notebook:not([hidden]) section[data-cell-id="{id}"]"#)
}

/// The sample CSVs read without the engine: zone → borough, and trips per borough.
struct Expected {
    zones: BTreeMap<String, String>,
    trips: BTreeMap<String, u64>,
}

fn expected() -> Result<Expected> {
    let zones_csv = std::fs::read_to_string(repo().join("data/samples/zones.csv"))?;
    let mut zones = BTreeMap::new();
    for line in zones_csv.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        zones.insert(f[1].to_string(), f[2].to_string());
    }
    let trips_csv = std::fs::read_to_string(repo().join("data/samples/trips.csv"))?;
    let mut trips = BTreeMap::new();
    for line in trips_csv.lines().skip(1) {
        let zone = line.split(',').nth(2).context("a trip without a zone")?;
        if let Some(borough) = zones.get(zone) {
            *trips.entry(borough.clone()).or_insert(0) += 1;
        }
    }
    Ok(Expected { zones, trips })
}

/// The (id, data-kind) of the shown notebook's cells, in order.
async fn shape(browser: &Browser) -> Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    for section in browser.client.find_all(Locator::Css(".notebook:not([hidden]) section.cell")).await? {
        let id = section.attr("data-cell-id").await?.context("a cell without data-cell-id")?;
        out.push((id, section.attr("data-kind").await?.unwrap_or_default()));
    }
    Ok(out)
}

/// The rows of a cell's result table, each as its cells' text (read in one
/// script: the table may re-render).
async fn rows(browser: &Browser, id: &str) -> Result<Vec<Vec<String>>> {
    let script = r#"
        const rows = document.querySelectorAll(arguments[0]);
        return Array.from(rows, r => Array.from(r.querySelectorAll('td'), td => td.textContent.trim()));
    "#;
    let out = browser.client.execute(script, vec![format!("{} table.result tbody tr", cell_css(id)).into()]).await?;
    Ok(serde_json::from_value(out)?)
}

async fn text_of(browser: &Browser, css: &str) -> Result<String> {
    let out = browser
        .client
        .execute("return document.querySelector(arguments[0])?.textContent ?? null", vec![css.into()])
        .await?;
    out.as_str().map(str::to_string).with_context(|| format!("nothing matches {css}"))
}

/// Waits until the active tab's label starts with `label`.
async fn wait_tab(browser: &Browser, label: &str) -> Result<()> {
    let deadline = Instant::now() + WAIT;
    loop {
        let title = browser.wait_for("nav.tabs .tab.active .tab-title", WAIT).await?.text().await?;
        if title.starts_with(label) {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("the tab {label:?} never became active (the active tab is {title:?})");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Opens the file from the Open… list, in a new tab.
async fn open_from_list(browser: &Browser) -> Result<()> {
    click(browser, "nav.tabs button.open-notebook").await?;
    let entry = browser.wait_for(&format!(r#"nav.tabs .open-list button.open-file[data-path="{PATH}"]"#), WAIT).await?;
    entry.click().await.context("the hand-written notebook in the Open list")?;
    wait_tab(browser, "by-hand").await?;
    browser.wait_for(r#"#engine-status[data-state="ready"]"#, WAIT).await?;
    Ok(())
}

/// The notebook as the file says: cells, order, kinds, the Spark cell's
/// engine, Markdown rendered, and nothing unsaved (the page's document is
/// the file's).
async fn check_shape(browser: &Browser, when: &str) -> Result<()> {
    let want: Vec<(String, String)> = SHAPE.iter().map(|(i, k)| (i.to_string(), k.to_string())).collect();
    assert_eq!(shape(browser).await?, want, "{when}: the cells, their order and kinds");
    assert_eq!(cell_attr(browser, "8", "data-engine").await?, "spark", "{when}");
    assert_eq!(cell_attr(browser, "1", "data-engine").await?, "browser", "{when}");
    let intro = text_of(browser, &format!("{} .markdown-body", cell_css("7"))).await?;
    assert!(intro.contains("Trips per borough"), "{when}: {intro}");
    let fenced = text_of(browser, &format!("{} .markdown-body", cell_css("9"))).await?;
    assert!(fenced.contains("How a cell is named") && fenced.contains("SELECT 1"), "{when}: {fenced}");
    let first = text_of(browser, &format!("{} .markdown-body", cell_css("10"))).await?;
    assert!(first.contains("Zones and trips") && first.contains("no marker"), "{when}: {first}");
    browser.wait_for(r#".notebook:not([hidden]) .file-state[data-unsaved="false"]"#, WAIT).await.with_context(
        || format!("{when}: the notebook just opened shows unsaved changes, so the page's document is not the file's"),
    )?;
    Ok(())
}

/// Run all, then every result under the file's name, with the right rows.
async fn run_and_check(browser: &Browser, expected: &Expected, when: &str) -> Result<()> {
    browser.client.execute("document.querySelector('.notebook:not([hidden]) button.run-all').click()", vec![]).await?;
    for (id, kind) in SHAPE {
        if kind == "markdown" {
            continue;
        }
        let css = cell_css(id);
        let ended = browser
            .wait_for(&format!(r#"{css}[data-state="done"], {css}[data-state="error"]"#), WAIT)
            .await
            .with_context(|| format!("{when}: cell {id} never finished"))?;
        let failed = ended.attr("data-state").await?.as_deref() == Some("error");
        if id == "8" && spark_url().is_none() {
            // No Spark here: the cell says so, and the others are unaffected.
            let error = text_of(browser, &format!("{css} .cell-error")).await?;
            assert!(error.contains("Spark is not configured"), "{when}: {error}");
            continue;
        }
        if failed {
            let error = text_of(browser, &format!("{css} .cell-error")).await.unwrap_or_default();
            bail!("{when}: cell {id} failed: {error}");
        }
    }
    for (id, table) in TABLES {
        let element = browser.wait_for(&format!("{} table.result", cell_css(id)), WAIT).await?;
        let name = element.attr("data-table").await?.unwrap_or_default();
        assert_eq!(name, table, "{when}: cell {id}'s table");
    }
    if spark_url().is_some() {
        let element = browser.wait_for(&format!("{} table.result", cell_css("8")), WAIT).await?;
        assert_eq!(element.attr("data-table").await?.as_deref(), Some("on_spark"), "{when}");
        assert_eq!(rows(browser, "8").await?, [["42"]], "{when}");
    }
    // tab_zones is a table: the join read it, and so did the counts.
    let boroughs: Vec<Vec<String>> =
        expected.trips.iter().map(|(borough, n)| vec![borough.clone(), n.to_string()]).collect();
    assert_eq!(rows(browser, "3").await?, boroughs, "{when}: trips per borough");
    assert_eq!(rows(browser, "6").await?, [[expected.zones.len().to_string()]], "{when}");
    assert_eq!(rows(browser, "11").await?, [[expected.zones.len().to_string()]], "{when}: `zone count` read back");
    let manhattan: Vec<Vec<String>> =
        expected.zones.iter().filter(|(_, b)| *b == "Manhattan").map(|(z, _)| vec![z.clone()]).collect();
    assert_eq!(rows(browser, "2").await?, manhattan, "{when}: `-- name: manhattan`");
    let svg = browser.wait_for(&format!("{} figure.chart svg", cell_css("5")), WAIT).await?;
    let drawn = svg.html(false).await?;
    for borough in expected.trips.keys() {
        assert!(drawn.contains(borough.as_str()), "{when}: the chart names {borough}");
    }
    Ok(())
}

#[tokio::test]
async fn a_hand_written_notebook_keeps_every_attribute_through_open_run_save_and_reopen() -> Result<()> {
    let expected = expected()?;
    let canonical = riffle::notebook::to_text(&riffle::notebook::from_text(FILE)?);
    let data = sample_data_root()?;
    std::fs::create_dir_all(data.path().join("notebooks"))?;
    let file = data.path().join(PATH);
    std::fs::write(&file, FILE)?;
    let gateway = Gateway::start(data.path())?;
    let browser = Browser::start().await?;
    browser.open_notebook(&gateway.url).await?;

    // Open: the file's cells, as it wrote them.
    open_from_list(&browser).await?;
    check_shape(&browser, "opened").await?;
    run_and_check(&browser, &expected, "opened").await?;
    browser.screenshot("notebook-file-by-hand").await?;

    // Save writes the canonical form of the same document: every id and
    // name, both Markdown forms, the directives, byte for byte.
    click(&browser, ".notebook:not([hidden]) button.save-notebook").await?;
    let deadline = Instant::now() + WAIT;
    let saved = loop {
        let saved = std::fs::read_to_string(&file)?;
        if saved != FILE {
            break saved;
        }
        if Instant::now() > deadline {
            bail!("Save never wrote {}", file.display());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(saved, canonical, "the saved file");
    assert_eq!(riffle::notebook::from_text(&saved)?, riffle::notebook::from_text(FILE)?);
    for attribute in
        ["name=tab_zones", "name=\"zone count\"", "name=ignored", "name=on_spark", "name=borough_chart", "name=intro"]
    {
        assert!(saved.contains(attribute), "{attribute} is not in the saved file:\n{saved}");
    }
    browser.wait_for(r#".notebook:not([hidden]) .file-state[data-unsaved="false"]"#, WAIT).await?;

    // Reopen: close the tab, open the saved file again, run it again.
    click(&browser, "nav.tabs .tab.active button.tab-close").await?;
    let deadline = Instant::now() + WAIT;
    while browser.client.find(Locator::Css(".notebook:not([hidden]) section[data-cell-id=\"11\"]")).await.is_ok() {
        if Instant::now() > deadline {
            bail!("the notebook's tab did not close");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    open_from_list(&browser).await?;
    check_shape(&browser, "reopened").await?;
    run_and_check(&browser, &expected, "reopened").await?;

    // The browser's own copy (autosave) keeps the names across a reload.
    browser.wait_for(r#".autosaved[data-saved="yes"]"#, Duration::from_secs(10)).await?;
    browser.client.refresh().await?;
    browser.wait_for(r#"#engine-status[data-state="ready"]"#, WAIT).await?;
    wait_tab(&browser, "by-hand").await?;
    check_shape(&browser, "reloaded").await?;
    run_and_check(&browser, &expected, "reloaded").await?;
    assert_eq!(std::fs::read_to_string(&file)?, canonical, "nothing but Save writes the file");
    browser.close().await
}
