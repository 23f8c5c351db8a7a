//! The plain-text notebook file (`.riffle.md`): Markdown with fenced cells,
//! small and diff-friendly, outputs never stored.
//!
//! ````text
//! ---
//! title: Trip revenue
//! ---
//!
//! <!-- cell id=1 -->
//! # Revenue by zone
//!
//! ```sql id=2 name=purchases
//! SELECT * FROM read_csv('samples/trips.csv')
//! ```
//!
//! ```chart id=3
//! kind: bar
//! ```
//! ````
//!
//! - Front matter (optional) holds the title; its other lines (another
//!   tool's keys) are kept as they are, after the title.
//! - A Markdown cell begins at a `<!-- cell id=N -->` line and runs to the
//!   next cell; hand-written Markdown between cells needs no marker.
//! - SQL and chart cells are fences whose info string starts with `sql` or
//!   `chart`, with optional `id=N` and `name=...` (a JSON string when it is not
//!   a plain word). Every such fence is a cell, even inside Markdown; a fence
//!   with `id=` and another word (```` ```python id=4 ````) is an error.
//! - A Markdown cell whose text has a line that would start a cell is written
//!   as a ```` ```markdown id=N ```` fence instead.
//! - Fences are longer than any run of backticks in the source (CommonMark).
//!
//! [`to_text`] then [`from_text`] gives back the document exactly: kinds,
//! names, ids, order and every byte of every source. Cells are separated by
//! one blank line; the source is followed by one newline, so trailing
//! newlines in a source survive. A file without ids gets ids 1, 2, … in order.

use super::{Cell, CellId, CellKind, FormatError, Notebook};

/// The file name extension of the text format.
pub const TEXT_EXTENSION: &str = ".riffle.md";

/// Prints the document in the text format.
pub fn to_text(doc: &Notebook) -> String {
    let mut out = String::new();
    if doc.title.is_some() || !doc.front_matter.is_empty() {
        out.push_str("---\n");
        if let Some(title) = &doc.title {
            out.push_str(&format!("title: {}\n", title_value(title)));
        }
        for line in &doc.front_matter {
            out.push_str(line);
            out.push('\n');
        }
        out.push_str("---\n");
        if !doc.cells.is_empty() {
            out.push('\n');
        }
    }
    for (i, cell) in doc.cells.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let attrs = attrs_text(cell);
        let fenced = match cell.kind {
            CellKind::Sql => Some("sql"),
            CellKind::Chart => Some("chart"),
            CellKind::Markdown if markdown_needs_fence(&cell.source) => Some("markdown"),
            CellKind::Markdown => None,
        };
        match fenced {
            None => {
                out.push_str(&format!("<!-- cell{attrs} -->\n"));
                out.push_str(&cell.source);
                out.push('\n');
            }
            Some(kind) => {
                let fence = "`".repeat(longest_run(&cell.source, '`').max(2) + 1);
                out.push_str(&format!("{fence}{kind}{attrs}\n"));
                out.push_str(&cell.source);
                out.push('\n');
                out.push_str(&fence);
                out.push('\n');
            }
        }
    }
    out
}

/// Reads a text notebook. Errors name the line and what to do.
pub fn from_text(text: &str) -> Result<Notebook, FormatError> {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let mut doc = Notebook::new();
    let mut at = 0;

    if lines.first().is_some_and(|l| l.trim_end() == "---") {
        let close = lines[1..].iter().position(|l| l.trim_end() == "---").map(|p| p + 1).ok_or_else(|| {
            FormatError::at(1, "the front matter opened by `---` is never closed; add a line `---` after its last line")
        })?;
        for (n, line) in lines.iter().enumerate().take(close).skip(1) {
            match line.trim_end().strip_prefix("title:") {
                Some(value) if doc.title.is_none() => doc.title = Some(parse_title(value.trim(), n + 1)?),
                // Any other line (another tool's key, a comment) is kept as written.
                _ => doc.front_matter.push(line.strip_suffix('\n').unwrap_or(line).to_string()),
            }
        }
        at = close + 1;
    }

    let mut cells: Vec<(Cell, Option<u64>, usize)> = Vec::new();
    // The Markdown region being read: its first body line and, if it began
    // at a `<!-- cell -->` marker, the marker's attributes and line.
    let mut region: (usize, Option<(Attrs, usize)>) = (at, None);
    while at < lines.len() {
        let Some(start) = classify(lines[at], at + 1)? else {
            at += 1;
            continue;
        };
        flush(&lines, region, at, true, &mut cells);
        match start {
            Start::Marker(attrs) => {
                region = (at + 1, Some((attrs, at + 1)));
                at += 1;
            }
            Start::Fence { ch, len, kind, attrs } => {
                let close = (at + 1..lines.len()).find(|&j| is_closing(lines[j], ch, len)).ok_or_else(|| {
                    let fence: String = std::iter::repeat_n(ch, len).collect();
                    FormatError::at(
                        at + 1,
                        format!(
                            "the {} cell's fence `{}` is never closed; add a line `{fence}` after the cell's source",
                            kind_word(kind),
                            lines[at].trim()
                        ),
                    )
                })?;
                let mut source: String = lines[at + 1..close].concat();
                if source.ends_with('\n') {
                    source.pop();
                }
                cells.push((Cell { id: CellId(0), kind, name: attrs.name, source }, attrs.id, at + 1));
                at = close + 1;
                region = (at, None);
            }
        }
    }
    flush(&lines, region, lines.len(), false, &mut cells);

    // Ids: the file's own, unique; the others fresh, in order.
    let mut seen = std::collections::BTreeMap::new();
    for (_, id, line) in &cells {
        if let Some(id) = id
            && let Some(first) = seen.insert(*id, *line)
        {
            return Err(FormatError::at(
                *line,
                format!(
                    "cell id {id} is already used by the cell on line {first}; give each cell its own id, or remove `id={id}` to have one assigned"
                ),
            ));
        }
    }
    let mut next = seen.keys().next_back().map_or(Some(1), |max| max.checked_add(1));
    for (mut cell, id, line) in cells {
        cell.id = CellId(match id {
            Some(id) => id,
            None => {
                let id = next.ok_or_else(|| {
                    FormatError::at(
                        line,
                        "no id is left for this cell (another cell has the largest id); give it an id",
                    )
                })?;
                next = id.checked_add(1);
                id
            }
        });
        doc.cells.push(cell);
    }
    Ok(doc)
}

/// Ends the Markdown region `start..end` and keeps it as a cell if it has a
/// marker or any text. The printer writes source + "\n" (+ "\n" before the
/// next cell); those newlines are taken off again.
fn flush(
    lines: &[&str],
    (start, marker): (usize, Option<(Attrs, usize)>),
    end: usize,
    before_cell: bool,
    cells: &mut Vec<(Cell, Option<u64>, usize)>,
) {
    let mut body: String = lines[start.min(end)..end].concat();
    let (attrs, line) = match marker {
        Some(m) => m,
        None if body.trim().is_empty() => return,
        None => {
            // Hand-written Markdown: blank lines before it do not count.
            let skip = lines[start..end].iter().take_while(|l| l.trim().is_empty()).count();
            body = lines[start + skip..end].concat();
            (Attrs::default(), start + skip + 1)
        }
    };
    if before_cell && body.ends_with("\n\n") {
        body.truncate(body.len() - 2);
    } else if body.ends_with('\n') {
        body.pop();
    }
    cells.push((Cell { id: CellId(0), kind: CellKind::Markdown, name: attrs.name, source: body }, attrs.id, line));
}

#[derive(Debug, Default, PartialEq)]
struct Attrs {
    id: Option<u64>,
    name: Option<String>,
}

#[derive(Debug, PartialEq)]
enum Start {
    Marker(Attrs),
    Fence { ch: char, len: usize, kind: CellKind, attrs: Attrs },
}

/// Whether `line` (number `n`) starts a cell, and how.
fn classify(line: &str, n: usize) -> Result<Option<Start>, FormatError> {
    let trimmed = line.trim();
    if let Some(rest) = trimmed.strip_prefix("<!--") {
        let rest = rest.trim_start();
        if let Some(inner) = rest.strip_prefix("cell")
            && (inner.starts_with(char::is_whitespace) || inner.starts_with("-->"))
            && let Some(inner) = inner.strip_suffix("-->")
        {
            return Ok(Some(Start::Marker(parse_attrs(&tokens(inner, n)?, n)?)));
        }
        return Ok(None);
    }
    let indent = line.len() - line.trim_start_matches(' ').len();
    if indent > 3 {
        return Ok(None);
    }
    let rest = &line[indent..];
    let Some(ch) = rest.chars().next().filter(|c| *c == '`' || *c == '~') else {
        return Ok(None);
    };
    let len = rest.len() - rest.trim_start_matches(ch).len();
    let info = rest[len..].trim();
    if len < 3 || info.is_empty() || (ch == '`' && info.contains('`')) {
        return Ok(None);
    }
    let first = info.split_whitespace().next().unwrap_or_default();
    let kind = if first.eq_ignore_ascii_case("sql") {
        Some(CellKind::Sql)
    } else if first.eq_ignore_ascii_case("chart") {
        Some(CellKind::Chart)
    } else {
        None
    };
    let has_id = info.split_whitespace().any(|w| w.starts_with("id="));
    if kind.is_none() && !has_id {
        // An ordinary code block of a Markdown cell, such as ```python.
        return Ok(None);
    }
    let words = tokens(info, n)?;
    let (kind, attrs) = match kind {
        Some(kind) => (kind, &words[1..]),
        None if first.eq_ignore_ascii_case("markdown") || first.eq_ignore_ascii_case("md") => {
            (CellKind::Markdown, &words[1..])
        }
        None => {
            return Err(FormatError::at(
                n,
                format!(
                    "unknown cell kind `{first}` in `{}`; a cell fence starts with sql, chart or markdown (an ordinary code block in Markdown has no id=)",
                    line.trim()
                ),
            ));
        }
    };
    Ok(Some(Start::Fence { ch, len, kind, attrs: parse_attrs(attrs, n)? }))
}

/// Whether `line` closes a fence of `len` × `ch`.
fn is_closing(line: &str, ch: char, len: usize) -> bool {
    let indent = line.len() - line.trim_start_matches(' ').len();
    let rest = &line[indent..];
    let run = rest.len() - rest.trim_start_matches(ch).len();
    indent <= 3 && run >= len && rest[run..].trim().is_empty()
}

/// Splits an info string into words; a `"..."` JSON string may hold spaces.
fn tokens(info: &str, n: usize) -> Result<Vec<String>, FormatError> {
    let mut words = Vec::new();
    let mut chars = info.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let mut end = info.len();
        let mut in_string = false;
        let mut escaped = false;
        while let Some(&(i, c)) = chars.peek() {
            if !in_string && c.is_whitespace() {
                end = i;
                break;
            }
            if in_string {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == '"' {
                    in_string = false;
                }
            } else if c == '"' {
                in_string = true;
            }
            chars.next();
        }
        if in_string {
            return Err(FormatError::at(
                n,
                format!("a quoted value in `{}` is never closed; end it with `\"`", info.trim()),
            ));
        }
        words.push(info[start..end].to_string());
    }
    Ok(words)
}

fn parse_attrs(words: &[String], n: usize) -> Result<Attrs, FormatError> {
    let mut attrs = Attrs::default();
    for word in words {
        let Some((key, value)) = word.split_once('=') else {
            return Err(FormatError::at(
                n,
                format!(
                    "`{word}` is not an attribute; a cell takes `id=N` and `name=table` (quote a name with spaces as a JSON string)"
                ),
            ));
        };
        let value = if value.starts_with('"') {
            serde_json::from_str::<String>(value).map_err(|e| {
                FormatError::at(
                    n,
                    format!("the value of `{key}` is not a valid JSON string ({e}); write it as \"...\""),
                )
            })?
        } else {
            value.to_string()
        };
        match key {
            "id" => {
                attrs.id = Some(value.parse().map_err(|_| {
                    FormatError::at(
                        n,
                        format!("the cell id `{value}` is not a whole number; write id=1, id=2, … or leave it out"),
                    )
                })?)
            }
            "name" => attrs.name = Some(value),
            _ => {
                return Err(FormatError::at(
                    n,
                    format!("unknown cell attribute `{key}`; a cell takes `id=N` and `name=table`"),
                ));
            }
        }
    }
    Ok(attrs)
}

fn attrs_text(cell: &Cell) -> String {
    let mut out = format!(" id={}", cell.id.0);
    if let Some(name) = &cell.name {
        out.push_str(&format!(" name={}", attr_value(name)));
    }
    out
}

/// A value as a plain word when it is one, else a JSON string (with backticks
/// escaped, which a backtick fence's info string cannot hold).
fn attr_value(value: &str) -> String {
    let plain = !value.is_empty() && value.chars().all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if plain { value.to_string() } else { json_string(value) }
}

fn json_string(value: &str) -> String {
    serde_json::to_string(value).unwrap_or_default().replace('`', "\\u0060")
}

fn title_value(title: &str) -> String {
    let plain = !title.is_empty()
        && title.trim() == title
        && !title.starts_with('"')
        && title != "---"
        && !title.chars().any(char::is_control);
    if plain { title.to_string() } else { json_string(title) }
}

fn parse_title(value: &str, n: usize) -> Result<String, FormatError> {
    if value.starts_with('"') {
        serde_json::from_str(value).map_err(|e| {
            FormatError::at(n, format!("the title is not a valid JSON string ({e}); write it plainly or as \"...\""))
        })
    } else {
        Ok(value.to_string())
    }
}

/// Whether a Markdown source has a line that would start a cell (or fail to),
/// so that it must be written as a fence.
fn markdown_needs_fence(source: &str) -> bool {
    source.split_inclusive('\n').any(|line| !matches!(classify(line, 0), Ok(None)))
}

fn longest_run(text: &str, ch: char) -> usize {
    let (mut best, mut run) = (0, 0);
    for c in text.chars() {
        run = if c == ch { run + 1 } else { 0 };
        best = best.max(run);
    }
    best
}

fn kind_word(kind: CellKind) -> &'static str {
    match kind {
        CellKind::Sql => "SQL",
        CellKind::Markdown => "Markdown",
        CellKind::Chart => "chart",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(id: u64, kind: CellKind, name: Option<&str>, source: &str) -> Cell {
        Cell { id: CellId(id), kind, name: name.map(str::to_string), source: source.to_string() }
    }

    fn round_trips(doc: &Notebook) {
        let text = to_text(doc);
        let back = from_text(&text).unwrap_or_else(|e| panic!("{e}\n--- text:\n{text}"));
        assert_eq!(&back, doc, "--- text:\n{text}");
        assert_eq!(to_text(&back), text);
    }

    #[test]
    fn prints_the_documented_shape() {
        let doc = Notebook {
            title: Some("Trip revenue".into()),
            cells: vec![
                cell(1, CellKind::Markdown, None, "# Revenue by zone"),
                cell(2, CellKind::Sql, Some("purchases"), "SELECT 1"),
                cell(3, CellKind::Chart, None, "kind: bar\n"),
            ],
            front_matter: Vec::new(),
        };
        assert_eq!(
            to_text(&doc),
            "---\ntitle: Trip revenue\n---\n\n<!-- cell id=1 -->\n# Revenue by zone\n\n```sql id=2 name=purchases\nSELECT 1\n```\n\n```chart id=3\nkind: bar\n\n```\n"
        );
        round_trips(&doc);
    }

    #[test]
    fn hand_written_files_get_ids_in_order() {
        let text = "# Trips\n\nSome words.\n\n```sql name=t\nSELECT 1\n```\n\nMore words.\n```python\nprint(1)\n```\n\n```SQL\nSELECT 2\n```\n";
        let doc = from_text(text).unwrap();
        assert_eq!(
            doc.cells,
            vec![
                cell(1, CellKind::Markdown, None, "# Trips\n\nSome words."),
                cell(2, CellKind::Sql, Some("t"), "SELECT 1"),
                cell(3, CellKind::Markdown, None, "More words.\n```python\nprint(1)\n```"),
                cell(4, CellKind::Sql, None, "SELECT 2"),
            ]
        );
        // Mixed: given ids stay, the others come after the largest.
        let doc = from_text("```sql\na\n```\n```sql id=7\nb\n```\n<!-- cell -->\nc\n").unwrap();
        assert_eq!(doc.cells.iter().map(|c| c.id.0).collect::<Vec<_>>(), [8, 7, 9]);
    }

    #[test]
    fn tricky_sources_round_trip() {
        let doc = Notebook {
            title: Some(" spaced \"title\"\nwith a newline".into()),
            cells: vec![
                cell(5, CellKind::Markdown, None, ""),
                cell(2, CellKind::Markdown, None, "two\n\n"),
                cell(
                    9,
                    CellKind::Markdown,
                    Some("a name with spaces and `ticks`"),
                    "```sql\nSELECT 'in markdown'\n```\n",
                ),
                cell(3, CellKind::Sql, None, "SELECT '```' AS fence\n````\n"),
                cell(4, CellKind::Sql, None, ""),
                cell(6, CellKind::Markdown, None, "<!-- cell id=1 -->\n---\n"),
                cell(7, CellKind::Chart, Some(""), "\n\n"),
                cell(8, CellKind::Sql, None, "SELECT 1\r\n-- windows\r\n"),
            ],
            front_matter: vec!["author: Ada".into(), "title: not the title".into(), String::new(), "  - tag\r".into()],
        };
        round_trips(&doc);
        round_trips(&Notebook::new());
        round_trips(&Notebook { title: Some(String::new()), ..Notebook::default() });
    }

    /// Every attribute of the format, as someone writes it by hand: parsed,
    /// printed, parsed again, and printed again without a change.
    #[test]
    fn every_attribute_survives_parse_print_parse() {
        let text = concat!(
            "---\n",
            "title: Zones, by hand\n",
            "author: not a Riffle key\n",
            "---\n",
            "\n",
            "# Written by hand\n",
            "\n",
            "No marker: this cell gets an id after the largest.\n",
            "\n",
            "```sql id=1 name=tab_zones\n",
            "SELECT * FROM read_csv('samples/zones.csv')\n",
            "```\n",
            "\n",
            "<!-- cell id=7 name=intro -->\n",
            "A marked *Markdown* cell with a name.\n",
            "\n",
            "```SQL  name=\"zone count\"   id=6\n",
            "SELECT COUNT(*) AS n FROM tab_zones\n",
            "```\n",
            "\n",
            "```sql id=2 name=ignored\n",
            "-- name: by_directive\n",
            "-- max_rows: 1000\n",
            "SELECT * FROM tab_zones\n",
            "```\n",
            "\n",
            "~~~sql id=8 name=on_spark\n",
            "-- engine: spark\n",
            "SELECT 42 AS answer\n",
            "~~~\n",
            "\n",
            "````markdown id=9 name=\"a \\\"quoted\\\" name\"\n",
            "A fence in Markdown:\n",
            "```sql id=99\n",
            "SELECT 1\n",
            "```\n",
            "````\n",
            "\n",
            "```md id=12\n",
            "<!-- cell id=1 -->\n",
            "```\n",
            "\n",
            "```chart id=5 name=chart_of_zones\n",
            "table: tab_zones\n",
            "kind: bar\n",
            "x: borough\n",
            "```\n",
            "\n",
            "```sql\n",
            "SELECT n FROM `zone count`\n",
            "```\n",
        );
        let doc = from_text(text).unwrap();
        assert_eq!(doc.title.as_deref(), Some("Zones, by hand"));
        assert_eq!(doc.front_matter, ["author: not a Riffle key"]);
        let expected = vec![
            cell(
                13,
                CellKind::Markdown,
                None,
                "# Written by hand\n\nNo marker: this cell gets an id after the largest.",
            ),
            cell(1, CellKind::Sql, Some("tab_zones"), "SELECT * FROM read_csv('samples/zones.csv')"),
            cell(7, CellKind::Markdown, Some("intro"), "A marked *Markdown* cell with a name."),
            cell(6, CellKind::Sql, Some("zone count"), "SELECT COUNT(*) AS n FROM tab_zones"),
            cell(
                2,
                CellKind::Sql,
                Some("ignored"),
                "-- name: by_directive\n-- max_rows: 1000\nSELECT * FROM tab_zones",
            ),
            cell(8, CellKind::Sql, Some("on_spark"), "-- engine: spark\nSELECT 42 AS answer"),
            cell(9, CellKind::Markdown, Some("a \"quoted\" name"), "A fence in Markdown:\n```sql id=99\nSELECT 1\n```"),
            cell(12, CellKind::Markdown, None, "<!-- cell id=1 -->"),
            cell(5, CellKind::Chart, Some("chart_of_zones"), "table: tab_zones\nkind: bar\nx: borough"),
            cell(14, CellKind::Sql, None, "SELECT n FROM `zone count`"),
        ];
        assert_eq!(doc.cells, expected);
        // The table names a run registers (the UI sends `Cell::table_name` as
        // the default; a `-- name:` line in the source wins in the engine).
        let names: Vec<String> = doc.cells.iter().map(Cell::table_name).collect();
        assert_eq!(names[1], "tab_zones");
        assert_eq!(names[3], "zone count");
        assert_eq!(names[8], "chart_of_zones");
        assert_eq!(names[9], "cell_14");
        let directives = crate::lang::Directives::parse(&doc.cells[4].source);
        assert_eq!((directives.name.as_deref(), directives.max_rows), (Some("by_directive"), Some(1000)));
        assert_eq!(crate::lang::Directives::parse(&doc.cells[5].source).engine, crate::lang::Engine::Spark);

        // Printed in the canonical form: every id and name written out, the
        // Markdown cells that hold cell lines as fences, the rest as markers.
        let printed = to_text(&doc);
        assert!(printed.starts_with(
            "---\ntitle: Zones, by hand\nauthor: not a Riffle key\n---\n\n<!-- cell id=13 -->\n# Written by hand\n"
        ));
        for line in [
            "```sql id=1 name=tab_zones\n",
            "<!-- cell id=7 name=intro -->\n",
            "```sql id=6 name=\"zone count\"\n",
            "```sql id=2 name=ignored\n-- name: by_directive\n-- max_rows: 1000\n",
            "```sql id=8 name=on_spark\n-- engine: spark\n",
            "````markdown id=9 name=\"a \\\"quoted\\\" name\"\n",
            "```markdown id=12\n<!-- cell id=1 -->\n```\n",
            "```chart id=5 name=chart_of_zones\n",
            "```sql id=14\nSELECT n FROM `zone count`\n```\n",
        ] {
            assert!(printed.contains(line), "{line:?} is not in:\n{printed}");
        }
        assert_eq!(from_text(&printed).unwrap(), doc, "--- printed:\n{printed}");
        assert_eq!(to_text(&from_text(&printed).unwrap()), printed);
        round_trips(&doc);
    }

    /// The issue's file: a name on the fence, and a later cell that reads it.
    #[test]
    fn a_fence_name_is_the_cells_table_name() {
        let doc = from_text(
            "```sql id=1 name=tab_zones\nSELECT 1 AS zone_id\n```\n\n```sql id=2\nSELECT * FROM tab_zones\n```\n",
        )
        .unwrap();
        assert_eq!(doc.cells[0].name.as_deref(), Some("tab_zones"));
        assert_eq!(doc.cells[0].table_name(), "tab_zones");
        assert_eq!(doc.cells[1].table_name(), "cell_2");
        // Each attribute alone, on each kind of cell.
        for (text, kind, id, name) in [
            ("```sql\nx\n```\n", CellKind::Sql, 1, None),
            ("```sql id=4\nx\n```\n", CellKind::Sql, 4, None),
            ("```sql name=t\nx\n```\n", CellKind::Sql, 1, Some("t")),
            ("```chart name=c id=3\nx\n```\n", CellKind::Chart, 3, Some("c")),
            ("```chart\nx\n```\n", CellKind::Chart, 1, None),
            ("<!-- cell -->\nx\n", CellKind::Markdown, 1, None),
            ("<!-- cell name=m -->\nx\n", CellKind::Markdown, 1, Some("m")),
            ("<!-- cell id=5 name=\"m n\" -->\nx\n", CellKind::Markdown, 5, Some("m n")),
            ("```markdown id=2 name=m\nx\n```\n", CellKind::Markdown, 2, Some("m")),
            ("~~~md id=2\nx\n~~~\n", CellKind::Markdown, 2, None),
            ("x\n", CellKind::Markdown, 1, None),
        ] {
            let doc = from_text(text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
            assert_eq!(doc.cells, vec![cell(id, kind, name, "x")], "{text:?}");
            round_trips(&doc);
            let printed = to_text(&doc);
            assert_eq!(printed.contains(" name="), name.is_some(), "{printed}");
            assert!(printed.contains(&format!(" id={id}")), "{printed}");
        }
    }

    #[test]
    fn errors_name_the_line_and_the_fix() {
        let e = from_text("# A\n\n```sql id=1\nSELECT 1\n").unwrap_err();
        assert_eq!(e.line, Some(3));
        assert!(
            e.to_string().starts_with("line 3: the SQL cell's fence ````sql id=1` is never closed; add a line ```"),
            "{e}"
        );
        let e = from_text("```python id=2\nprint(1)\n```\n").unwrap_err();
        assert_eq!(e.line, Some(1));
        assert!(e.to_string().contains("unknown cell kind `python`"), "{e}");
        let e = from_text("```sql id=one\n```\n").unwrap_err();
        assert!(e.to_string().contains("`one` is not a whole number"), "{e}");
        let e = from_text("```sql id=1\n```\n\n```sql id=1\n```\n").unwrap_err();
        assert_eq!(e.line, Some(4));
        assert!(e.to_string().contains("already used by the cell on line 1"), "{e}");
        let e = from_text("```sql nmae=t\n```\n").unwrap_err();
        assert!(e.to_string().contains("unknown cell attribute `nmae`"), "{e}");
        let e = from_text("---\ntitle: x\n").unwrap_err();
        assert_eq!(e.line, Some(1));
        let e = from_text("<!-- cell name=\"open -->\n").unwrap_err();
        assert!(e.to_string().contains("never closed"), "{e}");
    }

    /// A small deterministic generator (xorshift) of documents built from the
    /// pieces most likely to confuse a parser.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
        fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
            items[self.below(items.len())]
        }
    }

    const PIECES: &[&str] = &[
        "SELECT 1",
        "\n",
        "\n\n",
        "\r\n",
        " ",
        "```",
        "````",
        "```sql",
        "```sql id=3",
        "~~~",
        "```python\n",
        "<!-- cell id=4 -->",
        "<!-- cell -->",
        "<!--",
        "-->",
        "---",
        "# Title",
        "name=x",
        "\"",
        "\\",
        "`",
        "é",
        "   ```chart",
        "    ```sql",
        "\t",
        "id=",
        "```md id=1",
    ];

    fn random_doc(rng: &mut Rng) -> Notebook {
        let mut ids = std::collections::BTreeSet::new();
        let n = rng.below(6);
        let mut cells = Vec::new();
        for _ in 0..n {
            let id = loop {
                let id = if rng.below(4) == 0 { rng.next() } else { rng.below(20) as u64 };
                if ids.insert(id) {
                    break id;
                }
            };
            let kind = [CellKind::Sql, CellKind::Markdown, CellKind::Chart][rng.below(3)];
            let name = match rng.below(4) {
                0 => Some(rng.pick(&["t", "my table", "", "a`b", "x-->y", "\"q\"", "ünï"]).to_string()),
                _ => None,
            };
            let source: String = (0..rng.below(8)).map(|_| rng.pick(PIECES)).collect();
            cells.push(Cell { id: CellId(id), kind, name, source });
        }
        let title = match rng.below(3) {
            0 => None,
            1 => Some("Plain title".to_string()),
            _ => Some((0..rng.below(4)).map(|_| rng.pick(PIECES)).collect()),
        };
        // Front matter lines of other tools; `title:` only once a title is there.
        let mut front_matter = Vec::new();
        for _ in 0..rng.below(4) {
            let line = rng.pick(&["author: me", "", "  tags: [a, b]", "# a comment", "\r", "title: second", "-- x"]);
            if title.is_some() || line != "title: second" {
                front_matter.push(line.to_string());
            }
        }
        Notebook { title, cells, front_matter }
    }

    #[test]
    fn random_documents_round_trip() {
        let mut rng = Rng(0x5eed_1234_abcd_0001);
        let (mut escaped, mut long_fences, mut quoted) = (0, 0, 0);
        for _ in 0..5000 {
            let doc = random_doc(&mut rng);
            round_trips(&doc);
            let text = to_text(&doc);
            escaped += text.matches("markdown id=").count();
            long_fences += text.matches("\n````").count();
            quoted += text.matches("name=\"").count();
        }
        // The generator reaches the hard cases, many times each.
        assert!(escaped > 100 && long_fences > 100 && quoted > 100, "{escaped} {long_fences} {quoted}");
    }
}
