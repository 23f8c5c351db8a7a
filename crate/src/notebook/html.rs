//! A notebook as one self-contained web page: styles inline, tables and
//! charts embedded, no script and nothing fetched (a Content-Security-Policy
//! forbids both; only images a Markdown cell links to may load). It reads like
//! the notebook in read mode, in light or dark as the reader's system prefers.
//!
//! Markdown goes through [`crate::markdown`] (sanitised); chart SVG comes from
//! Riffle's own renderer and is embedded as is; every other text is escaped.

use std::collections::BTreeMap;

use super::output::{escape_html, inline_svg};
use super::{CellId, CellKind, CellOutput, Notebook};

const STYLE: &str = r#"
:root { color-scheme: light dark; --bg: #ffffff; --fg: #1f2328; --muted: #59636e; --border: #d1d9e0;
  --panel: #f6f8fa; --accent: #0969da; --error-bg: #ffebe9; --error-fg: #82071e; --error-border: #ff818266; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #0d1117; --fg: #e6edf3; --muted: #9198a1; --border: #3d444d; --panel: #151b23;
    --accent: #4493f8; --error-bg: #2d1115; --error-fg: #ffa198; --error-border: #f8514966; }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg);
  font: 16px/1.55 -apple-system, BlinkMacSystemFont, "Segoe UI", "Noto Sans", Helvetica, Arial, sans-serif; }
main { max-width: 980px; margin: 0 auto; padding: 32px 24px 64px; }
h1.notebook-title { font-size: 2.1em; margin: 0 0 24px; padding-bottom: .3em; border-bottom: 1px solid var(--border); }
a { color: var(--accent); }
code, pre, .riffle-table, .text { font-family: ui-monospace, SFMono-Regular, "SF Mono", Menlo, Consolas, monospace; font-size: 13.5px; }
.cell { margin: 0 0 24px; }
.cell.markdown img { max-width: 100%; }
.cell.markdown pre, .source pre { background: var(--panel); border: 1px solid var(--border); border-radius: 6px; padding: 12px 16px; overflow-x: auto; }
.cell.markdown table { border-collapse: collapse; }
.cell.markdown th, .cell.markdown td { border: 1px solid var(--border); padding: 4px 10px; }
details.source > summary { cursor: pointer; color: var(--muted); font-size: 13px; margin-bottom: 6px; }
details.source > summary code { color: var(--fg); }
details.source pre { margin: 0; }
.output { margin-top: 10px; }
.table-wrap { overflow-x: auto; border: 1px solid var(--border); border-radius: 6px; }
.riffle-table { border-collapse: collapse; width: max-content; min-width: 100%; }
.riffle-table th, .riffle-table td { padding: 4px 12px; text-align: left; border-bottom: 1px solid var(--border); white-space: pre; }
.riffle-table th { background: var(--panel); position: sticky; top: 0; }
.riffle-table .num { text-align: right; font-variant-numeric: tabular-nums; }
.riffle-table .dtype { color: var(--muted); font-weight: normal; }
.riffle-table td.null { color: var(--muted); }
.shape { color: var(--muted); font-size: 13px; margin: 6px 0 0; }
.notes { color: var(--muted); font-size: 13px; margin: 6px 0; padding-left: 20px; }
.error { background: var(--error-bg); color: var(--error-fg); border: 1px solid var(--error-border); border-radius: 6px;
  padding: 10px 14px; white-space: pre-wrap; margin: 0; }
figure.chart { margin: 0; overflow-x: auto; }
figure.chart svg { max-width: 100%; height: auto; background: #ffffff; border-radius: 6px; }
.text { background: var(--panel); border: 1px solid var(--border); border-radius: 6px; padding: 10px 14px; white-space: pre; overflow-x: auto; margin: 0; }
footer { color: var(--muted); font-size: 12px; margin-top: 48px; border-top: 1px solid var(--border); padding-top: 12px; }
"#;

/// The notebook and its outputs as one HTML page.
pub fn to_html(doc: &Notebook, outputs: &BTreeMap<CellId, CellOutput>) -> String {
    let title = doc.title.clone().filter(|t| !t.trim().is_empty());
    let mut out = String::from("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    out.push_str(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src * data:\">\n",
    );
    out.push_str("<meta name=\"generator\" content=\"Riffle\">\n");
    out.push_str(&format!("<title>{}</title>\n", escape_html(title.as_deref().unwrap_or("Riffle notebook"))));
    out.push_str(&format!("<style>{STYLE}</style>\n</head>\n<body>\n<main class=\"notebook\">\n"));
    // A first Markdown cell that is the title as a heading stands for it.
    let titled = doc.cells.first().is_some_and(|c| {
        c.kind == CellKind::Markdown
            && c.source.lines().next().and_then(|l| l.strip_prefix("# ")).map(str::trim) == title.as_deref()
    });
    if let Some(title) = title.as_ref().filter(|_| !titled) {
        out.push_str(&format!("<h1 class=\"notebook-title\">{}</h1>\n", escape_html(title)));
    }
    for cell in &doc.cells {
        let kind = match cell.kind {
            CellKind::Sql => "sql",
            CellKind::Markdown => "markdown",
            CellKind::Chart => "chart",
        };
        out.push_str(&format!("<section class=\"cell {kind}\" id=\"cell-{}\">\n", cell.id.0));
        let output = outputs.get(&cell.id);
        match cell.kind {
            CellKind::Markdown => out.push_str(&crate::markdown::to_html(&cell.source)),
            CellKind::Sql | CellKind::Chart => {
                let what = if cell.kind == CellKind::Sql { "SQL" } else { "Chart spec" };
                // The query stays open; a chart's spec folds away under its chart.
                let open = if cell.kind == CellKind::Sql { " open" } else { "" };
                out.push_str(&format!(
                    "<details class=\"source\"{open}><summary>{what} · <code>{}</code></summary><pre><code class=\"language-{kind}\">{}</code></pre></details>\n",
                    escape_html(&cell.table_name()),
                    escape_html(&cell.source)
                ));
                if let Some(output) = output {
                    out.push_str(&output_html(output));
                }
            }
        }
        out.push_str("</section>\n");
    }
    out.push_str("<footer>Made with Riffle.</footer>\n</main>\n</body>\n</html>\n");
    out
}

fn output_html(output: &CellOutput) -> String {
    let mut out = String::from("<div class=\"output\">\n");
    if !output.notes.is_empty() {
        out.push_str("<ul class=\"notes\">");
        for note in &output.notes {
            out.push_str(&format!("<li>{}</li>", escape_html(note)));
        }
        out.push_str("</ul>\n");
    }
    if let Some(table) = &output.table {
        out.push_str(&format!("<div class=\"table-wrap\">\n{}</div>\n{}", table.table_html(), table.shape_html()));
    }
    if let Some(svg) = &output.svg {
        out.push_str(&format!("<figure class=\"chart\">\n{}\n</figure>\n", inline_svg(svg)));
    }
    if let Some(error) = &output.error {
        out.push_str(&format!("<pre class=\"error\" role=\"alert\">{}</pre>\n", escape_html(error)));
    }
    out.push_str("</div>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::super::output::sample_table;
    use super::*;

    #[test]
    fn one_page_with_everything_embedded_and_escaped() {
        let mut doc = Notebook { title: Some("Trips <2024>".into()), ..Notebook::default() };
        let md = doc.push(CellKind::Markdown, "# Revenue\n\n<script>alert(1)</script>\n\n[x](javascript:alert(1))");
        let sql = doc.push(CellKind::Sql, "SELECT '<b>' AS tag");
        let chart = doc.push(CellKind::Chart, "kind: bar");
        let bad = doc.push(CellKind::Sql, "SELEC 1");
        let mut outputs = BTreeMap::new();
        outputs.insert(md, CellOutput::default());
        outputs.insert(
            sql,
            CellOutput { table: Some(sample_table()), notes: vec!["a <note>".into()], ..Default::default() },
        );
        outputs.insert(
            chart,
            CellOutput {
                svg: Some(
                    "<?xml version=\"1.0\"?><svg viewBox=\"0 0 10 10\"><rect width=\"5\" height=\"5\"/></svg>".into(),
                ),
                ..Default::default()
            },
        );
        outputs.insert(bad, CellOutput { error: Some("expected <statement>".into()), ..Default::default() });
        let html = to_html(&doc, &outputs);

        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(html.contains("<title>Trips &lt;2024&gt;</title>"), "{html}");
        assert!(html.contains("<h1>Revenue</h1>"));
        assert!(html.contains("<h1 class=\"notebook-title\">Trips &lt;2024&gt;</h1>"));
        // A first cell that is the title's heading is the title.
        doc.title = Some("Revenue".into());
        assert!(!to_html(&doc, &outputs).contains("notebook-title\">"));
        assert!(!html.contains("<script") && html.contains("&lt;script&gt;"));
        assert!(!html.contains("javascript:"));
        assert!(html.contains("SELECT &#39;&lt;b&gt;&#39; AS tag"));
        assert!(html.contains("<td>Midtown &lt;East&gt;</td>"));
        assert!(html.contains("<small class=\"dtype\">double</small>"));
        assert!(html.contains("<p class=\"shape\">1,234 rows × 2 columns"));
        assert!(html.contains("<li>a &lt;note&gt;</li>"));
        assert!(
            html.contains(
                "<figure class=\"chart\">\n<svg viewBox=\"0 0 10 10\"><rect width=\"5\" height=\"5\"/></svg>"
            )
        );
        assert!(!html.contains("<?xml"));
        assert!(html.contains("<pre class=\"error\" role=\"alert\">expected &lt;statement&gt;</pre>"));
        assert!(html.contains("prefers-color-scheme: dark"));
        // Nothing to fetch: no scripts, no stylesheets, no fonts.
        for fetch in ["<script", "<link", "@import", "url("] {
            assert!(!html.contains(fetch), "{fetch}");
        }
        // The shape line follows the table's frame.
        let frame_end = html.find("</table>\n</div>\n").unwrap();
        assert!(html[frame_end..].contains("<p class=\"shape\">"));
    }
}
