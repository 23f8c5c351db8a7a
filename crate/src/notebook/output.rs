//! What a cell showed when the notebook was exported: the input of the
//! sharing formats. Plain strings, no Polars: the UI fills it from the rows
//! it already has.

use crate::protocol::ColumnInfo;
use crate::text::thousands;

/// One cell's output: a result table, a chart, an error, remarks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CellOutput {
    pub table: Option<TableOutput>,
    /// A chart rendered by Riffle's own renderer; embedded as is.
    pub svg: Option<String>,
    pub error: Option<String>,
    pub notes: Vec<String>,
}

/// The first rows of a result, as text (`None` is null).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableOutput {
    pub name: String,
    pub columns: Vec<ColumnInfo>,
    pub rows: Vec<Vec<Option<String>>>,
    /// Rows in the whole result, of which `rows` are the first.
    pub total_rows: u64,
}

/// Rows an export shows at most; the rest is summarised.
pub(crate) const MAX_ROWS: usize = 50;
/// Characters of a value a text table shows at most.
const MAX_TEXT_WIDTH: usize = 40;

impl TableOutput {
    /// The rows an export shows.
    pub(crate) fn shown(&self) -> &[Vec<Option<String>>] {
        &self.rows[..self.rows.len().min(MAX_ROWS)]
    }

    /// "1,024 rows × 3 columns".
    pub(crate) fn shape(&self) -> String {
        let rows = self.total_rows.max(self.rows.len() as u64);
        let columns = self.columns.len() as u64;
        format!("{} {} × {} {}", thousands(rows), plural(rows, "row"), thousands(columns), plural(columns, "column"))
    }

    /// "showing the first 50", when the export shows fewer rows than the result has.
    pub(crate) fn truncation(&self) -> Option<String> {
        let total = self.total_rows.max(self.rows.len() as u64);
        let shown = self.shown().len() as u64;
        (shown < total).then(|| format!("showing the first {}", thousands(shown)))
    }

    /// An aligned text table (names, types, a rule, the rows) and its shape.
    pub(crate) fn to_text(&self) -> String {
        let cell = |v: &Option<String>| match v {
            None => "null".to_string(),
            Some(v) => {
                let one_line: String = v.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
                if one_line.chars().count() > MAX_TEXT_WIDTH {
                    let cut: String = one_line.chars().take(MAX_TEXT_WIDTH - 1).collect();
                    format!("{cut}…")
                } else {
                    one_line
                }
            }
        };
        let header: Vec<String> = self.columns.iter().map(|c| cell(&Some(c.name.clone()))).collect();
        let types: Vec<String> = self.columns.iter().map(|c| cell(&Some(c.dtype.clone()))).collect();
        let rows: Vec<Vec<String>> = self
            .shown()
            .iter()
            .map(|r| (0..self.columns.len()).map(|i| cell(r.get(i).unwrap_or(&None))).collect())
            .collect();
        let widths: Vec<usize> = (0..self.columns.len())
            .map(|i| {
                std::iter::once(&header[i])
                    .chain(std::iter::once(&types[i]))
                    .chain(rows.iter().map(|r| &r[i]))
                    .map(|s| s.chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let line = |values: &[String]| {
            let padded: Vec<String> =
                values.iter().zip(&widths).map(|(v, w)| format!("{v}{}", " ".repeat(w - v.chars().count()))).collect();
            format!("{}\n", padded.join(" | ").trim_end())
        };
        let mut out = String::new();
        if !self.columns.is_empty() {
            out.push_str(&line(&header));
            out.push_str(&line(&types));
            let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
            out.push_str(&format!("{}\n", rule.join("-+-")));
            for row in &rows {
                out.push_str(&line(row));
            }
        }
        out.push_str(&self.shape());
        if let Some(t) = self.truncation() {
            out.push_str(&format!(" ({t})"));
        }
        out
    }

    /// An HTML table with each column's type under its name, then the shape.
    /// Every value is escaped.
    pub(crate) fn to_html(&self) -> String {
        format!("{}{}", self.table_html(), self.shape_html())
    }

    /// The table alone.
    pub(crate) fn table_html(&self) -> String {
        let mut out = String::from("<table class=\"riffle-table\">\n<thead>\n<tr>");
        let numeric: Vec<bool> = self.columns.iter().map(|c| is_numeric(&c.dtype)).collect();
        for (c, numeric) in self.columns.iter().zip(&numeric) {
            out.push_str(&format!(
                "<th{}>{}<br><small class=\"dtype\">{}</small></th>",
                if *numeric { " class=\"num\"" } else { "" },
                escape_html(&c.name),
                escape_html(&c.dtype)
            ));
        }
        out.push_str("</tr>\n</thead>\n<tbody>\n");
        for row in self.shown() {
            out.push_str("<tr>");
            for (i, is_number) in numeric.iter().enumerate().take(self.columns.len()) {
                match row.get(i).unwrap_or(&None) {
                    Some(v) if *is_number => out.push_str(&format!("<td class=\"num\">{}</td>", escape_html(v))),
                    Some(v) => out.push_str(&format!("<td>{}</td>", escape_html(v))),
                    None => out.push_str("<td class=\"null\"><em>null</em></td>"),
                }
            }
            out.push_str("</tr>\n");
        }
        out.push_str("</tbody>\n</table>\n");
        out
    }

    /// "N rows × M columns" as a paragraph.
    pub(crate) fn shape_html(&self) -> String {
        let mut out = format!("<p class=\"shape\">{}", escape_html(&self.shape()));
        if let Some(t) = self.truncation() {
            out.push_str(&format!(" <small>({t})</small>"));
        }
        out.push_str("</p>\n");
        out
    }
}

/// Whether a type (as the engine names it, Spark's names) holds numbers,
/// which tables align right.
fn is_numeric(dtype: &str) -> bool {
    let base = dtype.split('(').next().unwrap_or_default().trim().to_ascii_lowercase();
    matches!(
        base.as_str(),
        "byte"
            | "short"
            | "integer"
            | "int"
            | "long"
            | "bigint"
            | "float"
            | "double"
            | "decimal"
            | "tinyint"
            | "smallint"
    ) || base.starts_with("int")
        || base.starts_with("uint")
        || base.starts_with("float")
}

/// Escapes text for HTML content and attribute values.
pub(crate) fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn plural(n: u64, word: &str) -> String {
    if n == 1 { word.to_string() } else { format!("{word}s") }
}

/// An SVG for inline use in HTML: without an XML declaration or doctype.
pub(crate) fn inline_svg(svg: &str) -> &str {
    let mut s = svg.trim_start();
    for prefix in ["<?xml", "<!DOCTYPE"] {
        if s.starts_with(prefix)
            && let Some(end) = s.find('>')
        {
            s = s[end + 1..].trim_start();
        }
    }
    s
}

#[cfg(test)]
pub(crate) fn sample_table() -> TableOutput {
    TableOutput {
        name: "revenue".into(),
        columns: vec![
            ColumnInfo { name: "zone".into(), dtype: "string".into() },
            ColumnInfo { name: "total".into(), dtype: "double".into() },
        ],
        rows: vec![vec![Some("Midtown <East>".into()), Some("1234.5".into())], vec![Some("JFK".into()), None]],
        total_rows: 1234,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_table_is_aligned_with_types_and_shape() {
        let text = sample_table().to_text();
        assert_eq!(
            text,
            "zone           | total\nstring         | double\n---------------+-------\nMidtown <East> | 1234.5\nJFK            | null\n1,234 rows × 2 columns (showing the first 2)"
        );
    }

    #[test]
    fn html_table_escapes_and_types() {
        let html = sample_table().to_html();
        assert!(html.contains("<th>zone<br><small class=\"dtype\">string</small></th>"), "{html}");
        assert!(html.contains("<td>Midtown &lt;East&gt;</td>"), "{html}");
        assert!(html.contains("<td class=\"num\">1234.5</td>"), "{html}");
        assert!(html.contains("<th class=\"num\">total"), "{html}");
        assert!(html.contains("<em>null</em>"), "{html}");
        assert!(html.contains("1,234 rows × 2 columns"), "{html}");
    }

    #[test]
    fn counts_and_svg_prefixes() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1234567), "1,234,567");
        let t =
            TableOutput { columns: vec![ColumnInfo { name: "a".into(), dtype: "int".into() }], ..Default::default() };
        assert_eq!(t.shape(), "0 rows × 1 column");
        assert_eq!(inline_svg("<?xml version=\"1.0\"?>\n<svg></svg>"), "<svg></svg>");
        assert_eq!(inline_svg("<svg/>"), "<svg/>");
    }
}
