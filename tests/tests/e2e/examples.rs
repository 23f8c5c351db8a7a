//! The portfolio notebook in `examples/` (MISSION workflow 5): it opens from
//! `?open=`, runs top to bottom in the browser, writes its report back as
//! Parquet, draws its charts, and exports to .ipynb (valid nbformat 4) and a
//! static HTML page. `cargo xtask examples` runs this with
//! RIFFLE_WRITE_EXAMPLES set, which refreshes the committed exports.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use fantoccini::Locator;
use polars::prelude::*;
use riffle_tests::{Browser, BrowserOptions, Gateway, TempDir, repo, sample_data_root};

use crate::formats::{VALIDATE, require_python, run_python};

const WAIT: Duration = Duration::from_secs(120);

#[tokio::test]
async fn the_portfolio_notebook_runs_and_exports() -> Result<()> {
    let data = sample_data_root()?;
    std::fs::create_dir_all(data.path().join("notebooks"))?;
    let source = repo().join("examples/portfolio.riffle.md");
    std::fs::copy(&source, data.path().join("notebooks/portfolio.riffle.md"))?;
    let gateway = Gateway::start(data.path())?;
    let downloads = TempDir::new("downloads")?;
    let browser = Browser::start_with(BrowserOptions { download_dir: Some(downloads.path().into()) }).await?;
    browser.open_notebook(&format!("{}/?open=notebooks/portfolio.riffle.md", gateway.url)).await?;
    let title = browser.wait_for("nav.tabs .tab.active .tab-title", WAIT).await?;
    let deadline = std::time::Instant::now() + WAIT;
    while !title.text().await?.starts_with("portfolio") {
        if std::time::Instant::now() > deadline {
            bail!("the notebook from ?open= never showed: tab {:?}", title.text().await?);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    browser.wait_for(r#"#engine-status[data-state="ready"]"#, WAIT).await?;

    // Run all; every SQL and chart cell must end done.
    browser.client.execute("document.querySelector('.notebook:not([hidden]) button.run-all').click()", vec![]).await?;
    let cells = browser.client.find_all(Locator::Css(".notebook:not([hidden]) section.cell")).await?;
    let mut runnable = Vec::new();
    for cell in &cells {
        let kind = cell.attr("data-kind").await?.unwrap_or_default();
        if kind != "markdown" {
            runnable.push(cell.attr("data-cell-id").await?.context("a cell without an id")?);
        }
    }
    assert_eq!(runnable.len(), 14, "SQL and chart cells in the example: {runnable:?}");
    for id in &runnable {
        let css = format!(r#".notebook:not([hidden]) section[data-cell-id="{id}"]"#);
        let ended = browser.wait_for(&format!(r#"{css}[data-state="done"], {css}[data-state="error"]"#), WAIT).await?;
        if ended.attr("data-state").await?.as_deref() == Some("error") {
            let error = browser.client.find(Locator::Css(&format!("{css} .cell-error"))).await?.text().await?;
            bail!("cell {id} of the example failed: {error}");
        }
    }

    // Five charts, with the groups in their legends.
    let svgs = browser
        .client
        .execute(
            "return Array.from(document.querySelectorAll('.notebook:not([hidden]) figure.chart svg'), s => s.outerHTML);",
            vec![],
        )
        .await?;
    let svgs: Vec<String> = serde_json::from_value(svgs)?;
    assert_eq!(svgs.len(), 5);
    for group in ["Affluent", "Comfortable", "Adversity"] {
        assert!(svgs[2].contains(group), "the Acorn chart names {group}");
    }
    for tariff in ["Std", "ToU"] {
        assert!(svgs[3].contains(tariff), "the tariff chart names {tariff}");
    }

    // The report went back to storage: its revenue adds up to the CSV's fares.
    let out = data.path().join("out/weekly_revenue");
    assert!(out.join("_SUCCESS").exists(), "no _SUCCESS in {}", out.display());
    let mut revenue = 0.0;
    let mut groups = 0;
    for entry in std::fs::read_dir(&out)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "parquet") {
            let df = ParquetReader::new(std::fs::File::open(&path)?).finish()?;
            revenue += df.column("revenue")?.f64()?.sum().unwrap_or_default();
            groups += df.height();
        }
    }
    let trips = std::fs::read_to_string(repo().join("data/samples/trips.csv"))?;
    let fares: f64 =
        trips.lines().skip(1).map(|l| l.rsplit(',').next().unwrap_or("0").parse::<f64>()).sum::<Result<f64, _>>()?;
    assert!(
        (revenue - fares).abs() <= 0.005 * groups as f64 + 1e-6,
        "weekly revenue {revenue} vs fares {fares} over {groups} groups"
    );

    browser
        .client
        .execute(
            "document.querySelectorAll('.notebook:not([hidden]) figure.chart')[2].scrollIntoView({ block: 'center' })",
            vec![],
        )
        .await?;
    browser.screenshot("portfolio-chart").await?;

    // Export: .ipynb (validated by nbformat) and the static page.
    browser
        .client
        .execute("document.querySelector('.notebook:not([hidden]) details.export-menu').open = true", vec![])
        .await?;
    browser
        .client
        .execute("document.querySelector('.notebook:not([hidden]) button[data-export=\"ipynb\"]').click()", vec![])
        .await?;
    let ipynb = browser.downloaded(downloads.path(), "portfolio.ipynb", WAIT).await?;
    browser
        .client
        .execute("document.querySelector('.notebook:not([hidden]) button[data-export=\"html\"]').click()", vec![])
        .await?;
    let html = browser.downloaded(downloads.path(), "portfolio.html", WAIT).await?;
    let ipynb_text = String::from_utf8(ipynb.clone())?;
    assert_eq!(ipynb_text.matches("image/svg+xml").count(), 5, "five charts in the .ipynb");
    assert!(ipynb_text.contains("text/html") && ipynb_text.contains("rows ×"), "tables in the .ipynb");
    let html_text = String::from_utf8(html.clone())?;
    assert_eq!(html_text.matches("<svg").count(), 5, "five charts in the page");
    if let Some(python) = require_python("examples::the_portfolio_notebook_runs_and_exports")? {
        let minor = run_python(&python, VALIDATE, &[&downloads.path().join("portfolio.ipynb")])?;
        assert_eq!(minor.trim(), "5", "nbformat 4.5");
    }
    // The exported page, offline, shows the charts.
    let page = downloads.path().join("portfolio.html");
    browser.client.goto(&format!("file://{}", page.display())).await?;
    let shown = browser.client.find_all(Locator::Css("svg")).await?;
    assert_eq!(shown.len(), 5);
    browser.screenshot("portfolio-html").await?;
    browser.client.execute("document.querySelectorAll('svg')[2].scrollIntoView({ block: 'center' })", vec![]).await?;
    browser.screenshot("portfolio-html-chart").await?;

    if std::env::var_os("RIFFLE_WRITE_EXAMPLES").is_some() {
        std::fs::write(repo().join("examples/portfolio.ipynb"), &ipynb)?;
        std::fs::write(repo().join("examples/portfolio.html"), &html)?;
        eprintln!("wrote examples/portfolio.ipynb and examples/portfolio.html");
    }
    browser.close().await
}
