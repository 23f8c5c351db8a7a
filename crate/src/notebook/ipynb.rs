//! Jupyter notebooks (nbformat 4.5), so that a notebook with its outputs
//! renders on GitHub as it is, and notebooks from elsewhere can come in.
//!
//! Export: Markdown cells stay Markdown; SQL and chart cells become code cells
//! of a "Riffle (SQL)" kernel whose `language_info` is sql. A result is an
//! `execute_result` with a `text/html` table and a `text/plain` one; a chart is
//! `display_data` with `image/svg+xml`; an error is an `error` output; notes
//! are a stdout stream. Each cell's metadata keeps Riffle's id, kind and name
//! (`metadata.riffle`), so an export comes back in as the same document.
//!
//! Import: Markdown stays Markdown; a code cell is SQL when it says so (Riffle's
//! metadata, a `%%sql` cell magic, a `%sql` line, or SQL as the cell's or the
//! notebook's language); any other code cell (Python, say) becomes a Markdown
//! cell with the code in a fenced block and a note that it was not converted.
//! Raw cells become fenced blocks too. Outputs are not imported.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::output::inline_svg;
use super::{Cell, CellId, CellKind, CellOutput, FormatError, Notebook};

/// The kernel an exported notebook names: Jupyter shows its display name.
const KERNEL_NAME: &str = "riffle-sql";
const KERNEL_DISPLAY: &str = "Riffle (SQL)";

/// The note in a Markdown cell that holds a code cell Riffle could not run.
pub const NOT_CONVERTED: &str = "was not converted: Riffle runs SQL cells only.";

/// Exports the document and its outputs as an nbformat 4.5 notebook.
pub fn to_ipynb(doc: &Notebook, outputs: &BTreeMap<CellId, CellOutput>) -> String {
    let mut cells = Vec::new();
    let mut execution = 0u64;
    for cell in &doc.cells {
        let mut riffle = json!({ "id": cell.id.0, "kind": kind_name(cell.kind) });
        if let Some(name) = &cell.name {
            riffle["name"] = json!(name);
        }
        let metadata = json!({ "riffle": riffle });
        let id = format!("cell-{}", cell.id.0);
        if cell.kind == CellKind::Markdown {
            cells.push(json!({
                "cell_type": "markdown",
                "id": id,
                "metadata": metadata,
                "source": lines(&cell.source),
            }));
            continue;
        }
        let output = outputs.get(&cell.id);
        let count = output.map(|_| {
            execution += 1;
            execution
        });
        let outs = output.map(|o| cell_outputs(cell, o, count)).unwrap_or_default();
        cells.push(json!({
            "cell_type": "code",
            "execution_count": count,
            "id": id,
            "metadata": metadata,
            "outputs": outs,
            "source": lines(&cell.source),
        }));
    }
    let mut metadata = json!({
        "kernelspec": { "display_name": KERNEL_DISPLAY, "language": "sql", "name": KERNEL_NAME },
        "language_info": { "name": "sql", "file_extension": ".sql", "mimetype": "application/sql" },
    });
    if let Some(title) = &doc.title {
        metadata["title"] = json!(title);
    }
    let notebook = json!({ "cells": cells, "metadata": metadata, "nbformat": 4, "nbformat_minor": 5 });
    // Jupyter's own layout: keys sorted, one space of indent, a final newline.
    let mut out = Vec::new();
    let mut serializer =
        serde_json::Serializer::with_formatter(&mut out, serde_json::ser::PrettyFormatter::with_indent(b" "));
    serde::Serialize::serialize(&notebook, &mut serializer).unwrap_or_default();
    let mut text = String::from_utf8(out).unwrap_or_default();
    text.push('\n');
    text
}

fn cell_outputs(cell: &Cell, output: &CellOutput, count: Option<u64>) -> Vec<Value> {
    let mut outs = Vec::new();
    if !output.notes.is_empty() {
        let text: String = output.notes.iter().map(|n| format!("{n}\n")).collect();
        outs.push(json!({ "output_type": "stream", "name": "stdout", "text": lines(&text) }));
    }
    if let Some(table) = &output.table {
        let html = format!("<div>\n{}</div>", table.to_html());
        outs.push(json!({
            "output_type": "execute_result",
            "execution_count": count,
            "data": { "text/html": lines(&html), "text/plain": lines(&table.to_text()) },
            "metadata": {},
        }));
    }
    if let Some(svg) = &output.svg {
        let label = format!("<Chart: {}>", cell.table_name());
        outs.push(json!({
            "output_type": "display_data",
            "data": { "image/svg+xml": lines(inline_svg(svg)), "text/plain": [label] },
            "metadata": {},
        }));
    }
    if let Some(error) = &output.error {
        let mut traceback = vec![format!("\u{1b}[0;31mError\u{1b}[0m in cell {}:", cell.table_name())];
        traceback.extend(error.lines().map(str::to_string));
        outs.push(json!({ "output_type": "error", "ename": "Error", "evalue": error, "traceback": traceback }));
    }
    outs
}

/// Jupyter's multi-line string: lines that keep their newlines.
fn lines(text: &str) -> Vec<&str> {
    text.split_inclusive('\n').collect()
}

fn kind_name(kind: CellKind) -> &'static str {
    match kind {
        CellKind::Sql => "sql",
        CellKind::Markdown => "markdown",
        CellKind::Chart => "chart",
    }
}

/// Imports a Jupyter notebook (nbformat 4). Outputs are dropped.
pub fn from_ipynb(json: &str) -> Result<Notebook, FormatError> {
    let nb: Value = serde_json::from_str(json).map_err(|e| {
        FormatError::at(
            e.line(),
            format!("this is not a Jupyter notebook: not valid JSON ({e}); export it again from Jupyter"),
        )
    })?;
    let Some(top) = nb.as_object() else {
        return Err(FormatError::new("this is not a Jupyter notebook: the JSON is not an object with \"cells\""));
    };
    match top.get("nbformat").and_then(Value::as_u64) {
        Some(4) => {}
        Some(v) => {
            return Err(FormatError::new(format!(
                "this is an nbformat {v} notebook and Riffle reads nbformat 4; convert it with `jupyter nbconvert --to notebook --nbformat 4 <file>` or save it again from a current Jupyter"
            )));
        }
        None => {
            return Err(FormatError::new(
                "this is not a Jupyter notebook: it has no \"nbformat\" number (Riffle reads nbformat 4 .ipynb files)",
            ));
        }
    }
    let Some(cells) = top.get("cells").and_then(Value::as_array) else {
        return Err(FormatError::new("this Jupyter notebook has no \"cells\" list; the file may be cut short"));
    };
    let meta = top.get("metadata");
    let language = meta
        .and_then(|m| m.pointer("/language_info/name").or_else(|| m.pointer("/kernelspec/language")))
        .and_then(Value::as_str)
        .unwrap_or("python")
        .to_ascii_lowercase();
    let title = meta.and_then(|m| m.get("title")).and_then(Value::as_str).map(str::to_string);

    let mut imported: Vec<(Option<u64>, Cell)> = Vec::new();
    for (i, cell) in cells.iter().enumerate() {
        let n = i + 1;
        let cell_type = cell.get("cell_type").and_then(Value::as_str).ok_or_else(|| {
            FormatError::new(format!("cell {n} of the notebook has no \"cell_type\"; the file may be damaged"))
        })?;
        let source = source_text(cell.get("source")).ok_or_else(|| {
            FormatError::new(format!(
                "cell {n} of the notebook has no \"source\" (a string or a list of strings); the file may be damaged"
            ))
        })?;
        let riffle = cell.pointer("/metadata/riffle");
        let riffle_kind = riffle.and_then(|r| r.get("kind")).and_then(Value::as_str);
        let riffle_id = riffle.and_then(|r| r.get("id")).and_then(Value::as_u64);
        let name = riffle.and_then(|r| r.get("name")).and_then(Value::as_str).map(str::to_string);
        let (kind, source) = match cell_type {
            "markdown" => (CellKind::Markdown, source),
            "raw" => (CellKind::Markdown, fenced("", &source)),
            "code" => code_cell(cell, riffle_kind, &language, source),
            other => {
                return Err(FormatError::new(format!(
                    "cell {n} has the unknown cell_type \"{other}\"; nbformat 4 has markdown, code and raw cells"
                )));
            }
        };
        imported.push((riffle_id, Cell { id: CellId(0), kind, name, source }));
    }

    // Riffle's ids when the notebook came from Riffle and they are unique; else 1, 2, ….
    let ids: BTreeSet<u64> = imported.iter().filter_map(|(id, _)| *id).collect();
    let keep = ids.len() == imported.len();
    let mut doc = Notebook { title, ..Notebook::default() };
    for (i, (id, mut cell)) in imported.into_iter().enumerate() {
        cell.id = CellId(match id {
            Some(id) if keep => id,
            _ => i as u64 + 1,
        });
        doc.cells.push(cell);
    }
    Ok(doc)
}

/// What a code cell becomes: SQL when it is SQL, else Markdown holding the code.
fn code_cell(cell: &Value, riffle_kind: Option<&str>, language: &str, source: String) -> (CellKind, String) {
    match riffle_kind {
        Some("sql") => return (CellKind::Sql, source),
        Some("chart") => return (CellKind::Chart, source),
        _ => {}
    }
    let (first, rest) = source.split_once('\n').unwrap_or((source.as_str(), ""));
    let first_trimmed = first.trim_start();
    if first_trimmed.starts_with("%%sql") && first_trimmed[5..].chars().next().is_none_or(char::is_whitespace) {
        return (CellKind::Sql, rest.to_string());
    }
    if !source.contains('\n')
        && let Some(query) = first_trimmed.strip_prefix("%sql ")
    {
        return (CellKind::Sql, query.trim().to_string());
    }
    let cell_language = ["/metadata/language", "/metadata/vscode/languageId", "/metadata/language_info/name"]
        .iter()
        .find_map(|p| cell.pointer(p).and_then(Value::as_str))
        .map(str::to_ascii_lowercase);
    let language = cell_language.as_deref().unwrap_or(language);
    if language == "sql" {
        return (CellKind::Sql, source);
    }
    let what = format!("{}{} code cell", article(language), language_label(language));
    (CellKind::Markdown, format!("{}\n\n*{what} {NOT_CONVERTED}*", fenced(language, &source)))
}

fn article(language: &str) -> &'static str {
    if language.starts_with(['a', 'e', 'i', 'o', 'u']) { "An " } else { "A " }
}

fn language_label(language: &str) -> String {
    match language {
        "python" => "Python".into(),
        "r" => "R".into(),
        "julia" => "Julia".into(),
        "scala" => "Scala".into(),
        other => other.chars().filter(|c| c.is_alphanumeric() || matches!(c, '-' | '+' | '_')).collect(),
    }
}

/// The code in a fence longer than any backtick run in it.
fn fenced(language: &str, code: &str) -> String {
    let mut run = 0;
    let mut longest = 0;
    for c in code.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest.max(2) + 1);
    let code = code.strip_suffix('\n').unwrap_or(code);
    let info: String = language.chars().filter(|c| c.is_alphanumeric() || matches!(c, '-' | '+' | '_')).collect();
    format!("{fence}{info}\n{code}\n{fence}")
}

/// A cell's source: one string, or a list of strings to join.
fn source_text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) => Some(s.clone()),
        Value::Array(parts) => parts.iter().map(|p| p.as_str()).collect::<Option<Vec<_>>>().map(|p| p.concat()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::super::output::sample_table;
    use super::*;

    fn sample() -> (Notebook, BTreeMap<CellId, CellOutput>) {
        let mut doc = Notebook { title: Some("Trips".into()), ..Notebook::default() };
        let md = doc.push(CellKind::Markdown, "# Revenue\n\nBy zone.");
        let sql = doc.push(CellKind::Sql, "SELECT zone, total\nFROM trips\n");
        doc.get_mut(sql).unwrap().name = Some("revenue".into());
        let bad = doc.push(CellKind::Sql, "SELEC 1");
        let chart = doc.push(CellKind::Chart, "kind: bar\nx: zone\ny: total\n");
        let never = doc.push(CellKind::Sql, "SELECT 2");
        let mut outputs = BTreeMap::new();
        outputs.insert(md, CellOutput::default());
        outputs.insert(
            sql,
            CellOutput { table: Some(sample_table()), notes: vec!["3 bad rows skipped".into()], ..Default::default() },
        );
        outputs.insert(
            bad,
            CellOutput { error: Some("line 1, column 1: expected a statement".into()), ..Default::default() },
        );
        outputs.insert(
            chart,
            CellOutput {
                svg: Some("<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\"><rect/></svg>".into()),
                ..Default::default()
            },
        );
        let _ = never;
        (doc, outputs)
    }

    #[test]
    fn export_has_nbformat_45_structure_and_outputs() {
        let (doc, outputs) = sample();
        let text = to_ipynb(&doc, &outputs);
        let nb: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(nb["nbformat"], 4);
        assert_eq!(nb["nbformat_minor"], 5);
        assert_eq!(nb["metadata"]["language_info"]["name"], "sql");
        assert_eq!(nb["metadata"]["kernelspec"]["display_name"], "Riffle (SQL)");
        assert_eq!(nb["metadata"]["title"], "Trips");
        let cells = nb["cells"].as_array().unwrap();
        assert_eq!(cells.len(), 5);
        assert_eq!(cells[0]["cell_type"], "markdown");
        assert!(cells[0].get("outputs").is_none());
        assert_eq!(cells[0]["source"], json!(["# Revenue\n", "\n", "By zone."]));
        assert_eq!(cells[1]["cell_type"], "code");
        assert_eq!(cells[1]["id"], "cell-2");
        assert_eq!(cells[1]["execution_count"], 1);
        let outs = cells[1]["outputs"].as_array().unwrap();
        assert_eq!(outs[0]["output_type"], "stream");
        assert_eq!(outs[1]["output_type"], "execute_result");
        let html: String =
            outs[1]["data"]["text/html"].as_array().unwrap().iter().map(|l| l.as_str().unwrap()).collect();
        assert!(html.contains("<td>Midtown &lt;East&gt;</td>") && html.contains("1,234 rows × 2 columns"), "{html}");
        assert!(outs[1]["data"]["text/plain"][0].as_str().unwrap().starts_with("zone"));
        assert_eq!(cells[2]["outputs"][0]["output_type"], "error");
        assert_eq!(cells[2]["outputs"][0]["evalue"], "line 1, column 1: expected a statement");
        assert_eq!(cells[3]["outputs"][0]["output_type"], "display_data");
        assert_eq!(
            cells[3]["outputs"][0]["data"]["image/svg+xml"][0],
            "<svg xmlns=\"http://www.w3.org/2000/svg\"><rect/></svg>"
        );
        assert_eq!(cells[4]["execution_count"], Value::Null);
        assert_eq!(cells[4]["outputs"], json!([]));
        assert!(text.ends_with("}\n") && text.starts_with("{\n \"cells\": ["), "{}", &text[..40]);
    }

    #[test]
    fn export_comes_back_as_the_same_document() {
        let (doc, outputs) = sample();
        assert_eq!(from_ipynb(&to_ipynb(&doc, &outputs)).unwrap(), doc);
        assert_eq!(from_ipynb(&to_ipynb(&Notebook::new(), &BTreeMap::new())).unwrap(), Notebook::new());
    }

    #[test]
    fn imports_jupyter_notebooks() {
        let nb = json!({
            "nbformat": 4, "nbformat_minor": 2,
            "metadata": { "kernelspec": { "name": "python3", "display_name": "Python 3", "language": "python" } },
            "cells": [
                { "cell_type": "markdown", "metadata": {}, "source": ["# Title\n", "text"] },
                { "cell_type": "code", "metadata": {}, "execution_count": 1, "outputs": [], "source": "%%sql\nSELECT 1\n" },
                { "cell_type": "code", "metadata": {}, "execution_count": 2, "outputs": [], "source": "%sql SELECT 2" },
                { "cell_type": "code", "metadata": {}, "execution_count": 3, "outputs": [], "source": ["import pandas as pd\n", "df = pd.read_csv('x.csv')"] },
                { "cell_type": "code", "metadata": { "vscode": { "languageId": "sql" } }, "execution_count": null, "outputs": [], "source": "SELECT 3" },
                { "cell_type": "raw", "metadata": {}, "source": "raw ``` text" },
                { "cell_type": "code", "metadata": {}, "execution_count": null, "outputs": [], "source": "%%sqlite\nx" },
            ]
        });
        let doc = from_ipynb(&nb.to_string()).unwrap();
        let got: Vec<(u64, CellKind, &str)> = doc.cells.iter().map(|c| (c.id.0, c.kind, c.source.as_str())).collect();
        assert_eq!(
            got,
            vec![
                (1, CellKind::Markdown, "# Title\ntext"),
                (2, CellKind::Sql, "SELECT 1\n"),
                (3, CellKind::Sql, "SELECT 2"),
                (
                    4,
                    CellKind::Markdown,
                    "```python\nimport pandas as pd\ndf = pd.read_csv('x.csv')\n```\n\n*A Python code cell was not converted: Riffle runs SQL cells only.*"
                ),
                (5, CellKind::Sql, "SELECT 3"),
                (6, CellKind::Markdown, "````\nraw ``` text\n````"),
                (
                    7,
                    CellKind::Markdown,
                    "```python\n%%sqlite\nx\n```\n\n*A Python code cell was not converted: Riffle runs SQL cells only.*"
                ),
            ]
        );
    }

    #[test]
    fn bad_files_are_clear_errors() {
        let e = from_ipynb("{\"cells\": [").unwrap_err();
        assert!(e.to_string().contains("not valid JSON"), "{e}");
        let e = from_ipynb(r#"{"nbformat": 3, "nbformat_minor": 0, "worksheets": []}"#).unwrap_err();
        assert!(e.to_string().contains("nbformat 3") && e.to_string().contains("nbconvert"), "{e}");
        let e = from_ipynb("[1, 2]").unwrap_err();
        assert!(e.to_string().contains("not a Jupyter notebook"), "{e}");
        let e = from_ipynb(r#"{"a": 1}"#).unwrap_err();
        assert!(e.to_string().contains("no \"nbformat\""), "{e}");
        let e = from_ipynb(r#"{"nbformat": 4, "cells": [{"cell_type": "code", "source": 7}]}"#).unwrap_err();
        assert!(e.to_string().contains("cell 1") && e.to_string().contains("source"), "{e}");
        let e = from_ipynb(r#"{"nbformat": 4, "cells": [{"cell_type": "widget", "source": ""}]}"#).unwrap_err();
        assert!(e.to_string().contains("unknown cell_type \"widget\""), "{e}");
    }
}
