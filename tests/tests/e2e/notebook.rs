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

fn shift_enter() -> String {
    [char::from(Key::Shift), char::from(Key::Enter)]
        .iter()
        .collect()
}

/// Types `sql` into the cell `id` and runs it with Shift+Enter.
async fn run_cell(browser: &Browser, id: &str, sql: &str) -> Result<()> {
    let input = browser
        .client
        .find(Locator::Css(&format!(
            r#"section[data-cell-id="{id}"] textarea"#
        )))
        .await?;
    input.click().await?;
    input.send_keys(sql).await?;
    input.send_keys(&shift_enter()).await?;
    Ok(())
}

async fn last_cell_id(browser: &Browser) -> Result<String> {
    let cells = browser
        .client
        .find_all(Locator::Css("section.cell"))
        .await?;
    let last = cells.last().context("the notebook has no cells")?;
    last.attr("data-cell-id")
        .await?
        .context("a cell without data-cell-id")
}

#[tokio::test]
async fn group_by_cell_renders_the_right_numbers() -> Result<()> {
    let data = sample_data_root()?;
    let gateway = Gateway::start(data.path())?;
    let browser = Browser::start().await?;
    browser.open_notebook(&gateway.url).await?;

    let id = last_cell_id(&browser).await?;
    run_cell(&browser, &id, GROUP_BY).await?;
    let cell = format!(r#"section[data-cell-id="{id}"]"#);
    browser
        .wait_for(
            &format!("{cell} table.result tbody tr"),
            Duration::from_secs(60),
        )
        .await?;

    // Shift+Enter moved on: a new cell follows the one that ran.
    assert_ne!(
        last_cell_id(&browser).await?,
        id,
        "Shift+Enter should add a cell below the last one"
    );

    let headers: Vec<String> = {
        let mut out = Vec::new();
        for th in browser
            .client
            .find_all(Locator::Css(&format!("{cell} table.result th")))
            .await?
        {
            out.push(th.text().await?);
        }
        out
    };
    assert_eq!(headers.len(), 3, "{headers:?}");
    assert!(
        headers[0].starts_with("zone") && headers[0].contains("string"),
        "{headers:?}"
    );
    assert!(
        headers[2].starts_with("revenue") && headers[2].contains("double"),
        "{headers:?}"
    );

    let expected = expected()?;
    let rows = browser
        .client
        .find_all(Locator::Css(&format!("{cell} table.result tbody tr")))
        .await?;
    assert_eq!(rows.len(), expected.len());
    for (row, (zone, (trips, cents))) in rows.iter().zip(&expected) {
        let mut texts = Vec::new();
        for td in row.find_all(Locator::Css("td")).await? {
            texts.push(td.text().await?);
        }
        assert_eq!(&texts[0], zone);
        assert_eq!(texts[1].parse::<u64>()?, *trips, "trips in {zone}");
        let revenue: f64 = texts[2].parse()?;
        assert!(
            (revenue - *cents as f64 / 100.0).abs() < 0.005,
            "revenue in {zone}: {revenue} vs {cents} cents"
        );
    }
    let count = browser
        .client
        .find(Locator::Css(&format!("{cell} .row-count")))
        .await?
        .text()
        .await?;
    assert!(
        count.starts_with(&format!("{} rows", expected.len())),
        "{count}"
    );

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
            &format!(r#"section[data-cell-id="{id}"] .cell-error"#),
            Duration::from_secs(60),
        )
        .await?;
    let text = error.text().await?;
    assert!(text.contains("nowhere"), "{text}");

    let id = last_cell_id(&browser).await?;
    run_cell(
        &browser,
        &id,
        "SELECT * FROM read_csv('samples/missing.csv')",
    )
    .await?;
    let error = browser
        .wait_for(
            &format!(r#"section[data-cell-id="{id}"] .cell-error"#),
            Duration::from_secs(60),
        )
        .await?;
    let text = error.text().await?;
    assert!(
        text.contains("samples/missing.csv") && text.contains("does not exist"),
        "{text}"
    );

    let id = last_cell_id(&browser).await?;
    run_cell(&browser, &id, "SELECT 1 + 1 AS two").await?;
    let td = browser
        .wait_for(
            &format!(r#"section[data-cell-id="{id}"] table.result td"#),
            Duration::from_secs(60),
        )
        .await?;
    assert_eq!(td.text().await?, "2");

    browser.close().await
}
