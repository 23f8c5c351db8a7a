//! Sharing formats against real tools: the .ipynb export checked by pip's
//! `nbformat` (its nbformat 4 JSON schema), a notebook written by `nbformat`
//! itself imported, and the static HTML page opened in headless Chromium
//! from a file, with nothing fetched.
//!
//! The Python parts need `RIFFLE_PYTHON`, a python with nbformat
//! (`cargo xtask test` makes one with scripts/python.sh). Without it they
//! fail in CI and are skipped elsewhere, with a note.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use fantoccini::Locator;
use polars::prelude::*;
use riffle::chart::ChartSpec;
use riffle::notebook::{CellId, CellKind, CellOutput, Notebook, TableOutput, from_ipynb, to_html, to_ipynb};
use riffle::protocol::ColumnInfo;
use riffle_tests::{Browser, TempDir, in_ci};

/// The python with nbformat, or `None` (after a note) when there is none here.
pub(crate) fn require_python(test: &str) -> Result<Option<PathBuf>> {
    let found = std::env::var_os("RIFFLE_PYTHON").filter(|p| !p.is_empty()).map(PathBuf::from);
    match found {
        Some(python) if python.exists() => return Ok(Some(python)),
        Some(python) => bail!(
            "RIFFLE_PYTHON={} does not exist; run scripts/python.sh, which prints the venv's python",
            python.display()
        ),
        None => {}
    }
    if in_ci() {
        bail!(
            "{test} needs a python with nbformat but RIFFLE_PYTHON is not set: run the tests with `cargo xtask test`, \
             or set RIFFLE_PYTHON to what `bash scripts/python.sh` prints"
        );
    }
    eprintln!(
        "note: {test}: skipped because RIFFLE_PYTHON is not set (`cargo xtask test` sets it; \
         or RIFFLE_PYTHON=$(bash scripts/python.sh))"
    );
    Ok(None)
}

/// Runs `code` with the python, the arguments after it; fails with its stderr.
pub(crate) fn run_python(python: &Path, code: &str, args: &[&Path]) -> Result<String> {
    let out = Command::new(python)
        .arg("-c")
        .arg(code)
        .args(args)
        .output()
        .with_context(|| format!("could not run {}", python.display()))?;
    if !out.status.success() {
        bail!("{} failed ({}):\n{}", python.display(), out.status, String::from_utf8_lossy(&out.stderr));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

pub(crate) const VALIDATE: &str = "import nbformat, sys; nb = nbformat.read(sys.argv[1], as_version=4); nbformat.validate(nb); print(nb.nbformat_minor)";

fn column(name: &str, dtype: &str) -> ColumnInfo {
    ColumnInfo { name: name.into(), dtype: dtype.into() }
}

/// A notebook with Markdown, a result table, an error and a chart drawn by
/// Riffle's renderer, with the outputs the UI would hand over.
fn portfolio() -> Result<(Notebook, BTreeMap<CellId, CellOutput>)> {
    let mut doc = Notebook { title: Some("Revenue by zone".into()), ..Notebook::default() };
    let intro = doc.push(
        CellKind::Markdown,
        "# Revenue by zone\n\nTrips from `samples/trips.csv`, **summed** per zone.\n\n| zone | note |\n|---|---|\n| Midtown | busiest |\n",
    );
    let revenue = doc.push(
        CellKind::Sql,
        "SELECT zone, ROUND(SUM(fare), 2) AS revenue\nFROM read_csv('samples/trips.csv')\nGROUP BY zone ORDER BY revenue DESC",
    );
    doc.get_mut(revenue).context("the SQL cell")?.name = Some("revenue".into());
    let broken = doc.push(CellKind::Sql, "SELEC zone FROM revenue");
    let spec = "table: revenue\nkind: bar\nx: zone\ny: revenue\ntitle: Revenue by zone";
    let chart = doc.push(CellKind::Chart, spec);

    let zones = ["Midtown <East>", "JFK Airport", "Harlem & Co"];
    let values = [1234.5, 987.25, 15.0];
    let frame = df!("zone" => zones, "revenue" => values)?;
    let drawn = riffle::chart::render::render(&ChartSpec::parse(spec)?, &frame)?;

    let mut outputs = BTreeMap::new();
    outputs.insert(intro, CellOutput::default());
    outputs.insert(
        revenue,
        CellOutput {
            table: Some(TableOutput {
                name: "revenue".into(),
                columns: vec![column("zone", "string"), column("revenue", "double")],
                rows: zones.iter().zip(values).map(|(z, v)| vec![Some(z.to_string()), Some(v.to_string())]).collect(),
                total_rows: 3,
            }),
            notes: vec!["2 rows with a null fare were left out".into()],
            ..Default::default()
        },
    );
    outputs.insert(
        broken,
        CellOutput {
            error: Some("line 1, column 1: expected a statement such as SELECT, found SELEC".into()),
            ..Default::default()
        },
    );
    outputs.insert(chart, CellOutput { svg: Some(drawn.svg), notes: drawn.notes, ..Default::default() });
    Ok((doc, outputs))
}

#[test]
fn ipynb_export_is_valid_nbformat_4() -> Result<()> {
    let Some(python) = require_python("formats::ipynb_export_is_valid_nbformat_4")? else {
        return Ok(());
    };
    let dir = TempDir::new("ipynb")?;
    let (doc, outputs) = portfolio()?;
    let path = dir.path().join("portfolio.ipynb");
    std::fs::write(&path, to_ipynb(&doc, &outputs))?;
    let minor = run_python(&python, VALIDATE, &[&path]).context("nbformat rejected Riffle's .ipynb export")?;
    assert_eq!(minor.trim(), "5", "the export should be nbformat 4.5");

    // The check can fail: the same export without a code cell's required
    // "outputs" is rejected.
    let mut broken: serde_json::Value = serde_json::from_str(&to_ipynb(&doc, &outputs))?;
    let cell = broken["cells"][1].as_object_mut().context("a code cell")?;
    cell.remove("outputs");
    let bad = dir.path().join("broken.ipynb");
    std::fs::write(&bad, serde_json::to_string(&broken)?)?;
    let rejected = run_python(&python, VALIDATE, &[&bad]);
    assert!(rejected.is_err(), "nbformat accepted a code cell without outputs; the validation proves nothing");

    // What comes back in is the document that went out.
    assert_eq!(from_ipynb(&std::fs::read_to_string(&path)?)?, doc);
    Ok(())
}

/// A notebook such as Jupyter users have, written by nbformat itself.
const MAKE_NOTEBOOK: &str = r##"
import nbformat, sys
from nbformat.v4 import new_notebook, new_markdown_cell, new_code_cell, new_output, new_raw_cell
nb = new_notebook(metadata={
    "kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"},
    "language_info": {"name": "python", "version": "3.11.7"},
})
nb.cells = [
    new_markdown_cell("# Taxi trips\n\nLoaded with ipython-sql."),
    new_code_cell("%load_ext sql\n%sql duckdb://", execution_count=1),
    new_code_cell("%%sql\nSELECT zone, COUNT(*) AS trips\nFROM trips\nGROUP BY zone", execution_count=2, outputs=[
        new_output("execute_result", data={"text/plain": "zone  trips\nJFK   10", "text/html": "<table><tr><td>JFK</td></tr></table>"}, execution_count=2),
    ]),
    new_code_cell("import pandas as pd\ndf = pd.read_csv('trips.csv')\ndf.head()", execution_count=3, outputs=[
        new_output("stream", name="stdout", text="loaded\n"),
        new_output("error", ename="FileNotFoundError", evalue="trips.csv", traceback=["Traceback ..."]),
    ]),
    new_raw_cell("raw text"),
    new_markdown_cell(["Closing ", "words."]),
]
nbformat.validate(nb)
nbformat.write(nb, sys.argv[1])
"##;

#[test]
fn imports_a_notebook_written_by_nbformat() -> Result<()> {
    let Some(python) = require_python("formats::imports_a_notebook_written_by_nbformat")? else {
        return Ok(());
    };
    let dir = TempDir::new("ipynb-import")?;
    let path = dir.path().join("jupyter.ipynb");
    run_python(&python, MAKE_NOTEBOOK, &[&path])?;
    let doc = from_ipynb(&std::fs::read_to_string(&path)?)?;
    let cells: Vec<(u64, CellKind, &str)> = doc.cells.iter().map(|c| (c.id.0, c.kind, c.source.as_str())).collect();
    let not_converted = "was not converted: Riffle runs SQL cells only.*";
    assert_eq!(cells.len(), 6, "{cells:#?}");
    assert_eq!(cells[0], (1, CellKind::Markdown, "# Taxi trips\n\nLoaded with ipython-sql."));
    // Line magics are Python, not SQL: kept as a code block.
    assert_eq!(cells[1].1, CellKind::Markdown);
    assert!(cells[1].2.starts_with("```python\n%load_ext sql\n%sql duckdb://\n```"), "{}", cells[1].2);
    assert_eq!(cells[2], (3, CellKind::Sql, "SELECT zone, COUNT(*) AS trips\nFROM trips\nGROUP BY zone"));
    assert_eq!(cells[3].1, CellKind::Markdown);
    assert!(cells[3].2.starts_with("```python\nimport pandas as pd\n"), "{}", cells[3].2);
    assert!(cells[3].2.ends_with(&format!("*A Python code cell {not_converted}")), "{}", cells[3].2);
    assert_eq!(cells[4], (5, CellKind::Markdown, "```\nraw text\n```"));
    assert_eq!(cells[5], (6, CellKind::Markdown, "Closing words."));
    assert!(doc.cells.iter().all(|c| c.name.is_none()));
    Ok(())
}

#[tokio::test]
async fn static_html_shows_tables_and_charts_offline() -> Result<()> {
    let dir = TempDir::new("static-html")?;
    let (doc, outputs) = portfolio()?;
    let path = dir.path().join("portfolio.html");
    std::fs::write(&path, to_html(&doc, &outputs))?;

    let browser = Browser::start().await?;
    browser.client.goto(&format!("file://{}", path.display())).await?;
    browser.wait_for("section.cell.chart svg", Duration::from_secs(30)).await?;

    let script = r#"
        const texts = (css) => [...document.querySelectorAll(css)].map(e => e.textContent.trim());
        return {
            title: document.title,
            h1: texts('h1'),
            headers: texts('.riffle-table th'),
            cells: texts('.riffle-table td'),
            shape: texts('.shape'),
            error: texts('.error'),
            svgs: document.querySelectorAll('figure.chart svg').length,
            marks: document.querySelectorAll('figure.chart svg .mark').length,
            svgWidth: document.querySelector('figure.chart svg')?.getBoundingClientRect().width ?? 0,
            axes: texts('figure.chart svg .axis .tick'),
            markdownTable: texts('.cell.markdown td'),
            scripts: document.scripts.length,
            fetched: performance.getEntriesByType('resource').map(e => e.name),
        };
    "#;
    let page = browser.client.execute(script, vec![]).await?;
    browser.screenshot("static-html").await?;
    browser.client.execute("document.querySelector('figure.chart').scrollIntoView()", vec![]).await?;
    browser.screenshot("static-html-chart").await?;
    let texts = |key: &str| -> Vec<String> {
        page[key]
            .as_array()
            .map(|a| a.iter().filter_map(|v| v.as_str().map(String::from)).collect())
            .unwrap_or_default()
    };

    assert_eq!(page["title"], "Revenue by zone");
    assert_eq!(texts("h1"), ["Revenue by zone"], "the first cell's heading stands for the title");
    assert_eq!(texts("headers"), ["zonestring", "revenuedouble"], "names with their types");
    assert_eq!(texts("cells"), ["Midtown <East>", "1234.5", "JFK Airport", "987.25", "Harlem & Co", "15"]);
    assert_eq!(texts("shape"), ["3 rows × 2 columns"]);
    assert_eq!(texts("error"), ["line 1, column 1: expected a statement such as SELECT, found SELEC"]);
    assert_eq!(texts("markdownTable"), ["Midtown", "busiest"]);
    assert_eq!(page["svgs"], 1);
    assert_eq!(page["marks"], 3, "one bar per zone");
    assert!(page["svgWidth"].as_f64().unwrap_or(0.0) > 100.0, "the chart is drawn at a readable size: {page}");
    assert!(texts("axes").iter().any(|t| t.contains("JFK")), "zone tick labels: {:?}", texts("axes"));
    assert_eq!(page["scripts"], 0);
    assert_eq!(page["fetched"], serde_json::json!([]), "the page fetched something");

    let loaders = browser.client.find_all(Locator::Css("link, script, iframe, object, embed, img")).await?;
    assert!(loaders.is_empty(), "the page has {} elements that would load something", loaders.len());
    browser.close().await?;
    Ok(())
}
