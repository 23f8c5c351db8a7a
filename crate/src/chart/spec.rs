//! A chart cell's source: a few `key: value` lines.
//!
//! ```text
//! # average use per half hour, one line per Acorn group
//! table: energy_by_hh
//! kind: line
//! x: half_hour
//! y: kwh
//! color: Acorn_grouped
//! aggregate: avg
//! facet: stdorToU
//! title: Average kWh per half hour
//! ```
//!
//! No Polars here: the UI parses and writes specs too (its editing form).

use serde::{Deserialize, Serialize};

use crate::{CellError, Location};

/// The keys a spec may have, in the order [`ChartSpec::to_text`] writes them.
pub const KEYS: [&str; 9] = ["table", "kind", "x", "y", "color", "aggregate", "facet", "title", "bins"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChartKind {
    Bar,
    GroupedBar,
    Line,
    Scatter,
    Histogram,
    Box,
}

impl ChartKind {
    pub const ALL: [ChartKind; 6] = [
        ChartKind::Bar,
        ChartKind::GroupedBar,
        ChartKind::Line,
        ChartKind::Scatter,
        ChartKind::Histogram,
        ChartKind::Box,
    ];

    /// The word the spec uses.
    pub fn as_str(self) -> &'static str {
        match self {
            ChartKind::Bar => "bar",
            ChartKind::GroupedBar => "grouped_bar",
            ChartKind::Line => "line",
            ChartKind::Scatter => "scatter",
            ChartKind::Histogram => "histogram",
            ChartKind::Box => "box",
        }
    }

    /// `grouped_bar`, `grouped bar` and `grouped-bar` are the same kind.
    pub fn parse(word: &str) -> Option<ChartKind> {
        let word = word.trim().to_lowercase().replace([' ', '-'], "_");
        ChartKind::ALL.into_iter().find(|k| k.as_str() == word)
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Aggregate {
    #[default]
    None,
    Sum,
    Avg,
    Count,
    Min,
    Max,
    Median,
}

impl Aggregate {
    pub const ALL: [Aggregate; 7] = [
        Aggregate::None,
        Aggregate::Sum,
        Aggregate::Avg,
        Aggregate::Count,
        Aggregate::Min,
        Aggregate::Max,
        Aggregate::Median,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Aggregate::None => "none",
            Aggregate::Sum => "sum",
            Aggregate::Avg => "avg",
            Aggregate::Count => "count",
            Aggregate::Min => "min",
            Aggregate::Max => "max",
            Aggregate::Median => "median",
        }
    }

    /// `mean` is accepted for `avg`.
    pub fn parse(word: &str) -> Option<Aggregate> {
        let word = word.trim().to_lowercase();
        if word == "mean" {
            return Some(Aggregate::Avg);
        }
        Aggregate::ALL.into_iter().find(|a| a.as_str() == word)
    }
}

/// What a chart cell draws: which table, how, and which columns go where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChartSpec {
    /// A table of the notebook's catalog.
    pub table: String,
    pub kind: ChartKind,
    pub x: Option<String>,
    pub y: Option<String>,
    /// One series (colour) per value of this column.
    pub color: Option<String>,
    pub aggregate: Aggregate,
    /// One small chart per value of this column.
    pub facet: Option<String>,
    pub title: Option<String>,
    /// Histogram bins (default 20).
    pub bins: Option<u32>,
}

impl ChartSpec {
    /// A spec with a table and a kind and nothing else.
    pub fn new(table: impl Into<String>, kind: ChartKind) -> Self {
        ChartSpec {
            table: table.into(),
            kind,
            x: None,
            y: None,
            color: None,
            aggregate: Aggregate::None,
            facet: None,
            title: None,
            bins: None,
        }
    }

    /// Reads a spec from its `key: value` lines. Blank lines and lines that
    /// start with `#` are skipped; a key may appear once.
    pub fn parse(text: &str) -> Result<ChartSpec, CellError> {
        let mut table = None;
        let mut kind = None;
        let mut spec = ChartSpec::new("", ChartKind::Bar);
        let mut seen: Vec<(String, u32)> = Vec::new();
        for (index, raw) in text.lines().enumerate() {
            let line = index as u32 + 1;
            let at = |column: usize| Some(Location { line, column: column as u32 + 1 });
            let trimmed = raw.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let indent = raw.len() - raw.trim_start().len();
            let Some((key, value)) = trimmed.split_once(':') else {
                return Err(CellError::new(format!(
                    "chart spec line {line}: expected `key: value`, found `{trimmed}`"
                ))
                .at(at(indent))
                .hint(format!("keys: {}", KEYS.join(", "))));
            };
            let key = key.trim().to_lowercase();
            let value = value.trim();
            let value_at =
                at(raw.find(':').map_or(indent, |c| c + 1 + (raw[c + 1..].len() - raw[c + 1..].trim_start().len())));
            if !KEYS.contains(&key.as_str()) {
                return Err(CellError::new(format!("chart spec line {line}: unknown key `{key}`"))
                    .at(at(indent))
                    .hint(format!("the keys are {}", KEYS.join(", "))));
            }
            if let Some((_, first)) = seen.iter().find(|(k, _)| *k == key) {
                return Err(CellError::new(format!("chart spec line {line}: `{key}` is already set on line {first}"))
                    .at(at(indent))
                    .hint("keep one of the two lines"));
            }
            seen.push((key.clone(), line));
            // A column in backticks is taken exactly, spaces and all: `KWH/hh (per half hour) `.
            let column = match value.strip_prefix('`').and_then(|v| v.strip_suffix('`')) {
                Some(quoted) if !quoted.is_empty() => quoted.replace("``", "`"),
                _ => value.to_string(),
            };
            let text = (!value.is_empty()).then(|| column.clone());
            let title = (!value.is_empty()).then(|| value.to_string());
            match key.as_str() {
                "table" => table = text,
                "kind" => {
                    kind = Some(ChartKind::parse(value).ok_or_else(|| {
                        CellError::new(format!("chart spec line {line}: unknown kind `{value}`"))
                            .at(value_at)
                            .hint(format!("kinds: {}", ChartKind::ALL.map(ChartKind::as_str).join(", ")))
                    })?)
                }
                "x" => spec.x = text,
                "y" => spec.y = text,
                "color" => spec.color = text,
                "facet" => spec.facet = text,
                "title" => spec.title = title,
                "aggregate" => {
                    spec.aggregate = Aggregate::parse(value).ok_or_else(|| {
                        CellError::new(format!("chart spec line {line}: unknown aggregate `{value}`"))
                            .at(value_at)
                            .hint(format!("aggregates: {}", Aggregate::ALL.map(Aggregate::as_str).join(", ")))
                    })?
                }
                "bins" => {
                    let bins = value.parse::<u32>().ok().filter(|b| (1..=1000).contains(b)).ok_or_else(|| {
                        CellError::new(format!(
                            "chart spec line {line}: bins must be a whole number from 1 to 1000, not `{value}`"
                        ))
                        .at(value_at)
                    })?;
                    spec.bins = Some(bins);
                }
                _ => unreachable!("checked against KEYS"),
            }
        }
        spec.table = table.ok_or_else(|| {
            CellError::new("the chart spec names no table")
                .hint("add a line `table: <name>` with a table of this notebook")
        })?;
        spec.kind = kind.ok_or_else(|| {
            CellError::new("the chart spec has no kind")
                .hint(format!("add a line `kind: <kind>`, one of {}", ChartKind::ALL.map(ChartKind::as_str).join(", ")))
        })?;
        Ok(spec)
    }

    /// The spec as text, keys always in the order of [`KEYS`]; absent keys
    /// (and `aggregate: none`) are left out.
    pub fn to_text(&self) -> String {
        let mut out = format!("table: {}\nkind: {}\n", self.table, self.kind.as_str());
        let mut line = |key: &str, value: Option<&str>| {
            if let Some(v) = value {
                out.push_str(&format!("{key}: {v}\n"));
            }
        };
        line("x", self.x.as_deref());
        line("y", self.y.as_deref());
        line("color", self.color.as_deref());
        line("aggregate", (self.aggregate != Aggregate::None).then(|| self.aggregate.as_str()));
        line("facet", self.facet.as_deref());
        line("title", self.title.as_deref());
        let bins = self.bins.map(|b| b.to_string());
        line("bins", bins.as_deref());
        out
    }

    /// Whether the spec has the encodings its kind needs; says what to add if not.
    pub fn check(&self) -> Result<(), CellError> {
        let kind = self.kind.as_str();
        let need =
            |what: &str, hint: &str| Err(CellError::new(format!("a {kind} chart needs {what}")).hint(hint.to_string()));
        match self.kind {
            ChartKind::Bar | ChartKind::Line | ChartKind::GroupedBar | ChartKind::Scatter if self.x.is_none() => {
                need("an x column", "add a line `x: <column>`")
            }
            ChartKind::Bar | ChartKind::Line | ChartKind::GroupedBar
                if self.y.is_none() && self.aggregate != Aggregate::Count =>
            {
                need("a y column, or `aggregate: count`", "add a line `y: <column>` or `aggregate: count`")
            }
            ChartKind::Scatter if self.y.is_none() => need("a y column", "add a line `y: <column>`"),
            ChartKind::GroupedBar if self.color.is_none() => {
                need("a color column to group the bars by", "add a line `color: <column>`, or use `kind: bar`")
            }
            ChartKind::Histogram if self.x.is_none() && self.y.is_none() => {
                need("a column to count (x or y)", "add a line `x: <column>`")
            }
            ChartKind::Box if self.y.is_none() => need("a y column (the values)", "add a line `y: <column>`"),
            ChartKind::Histogram | ChartKind::Box | ChartKind::Scatter if self.aggregate != Aggregate::None => {
                Err(CellError::new(format!("a {kind} chart draws every row, so it takes no aggregate"))
                    .hint("remove the `aggregate:` line"))
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_column_in_backticks_keeps_its_spaces() {
        let spec = ChartSpec::parse(
            "table: energy\nkind: line\nx: `Date Time`\ny: `KWH/hh (per half hour) `\ntitle: `as typed`",
        )
        .expect("spec");
        assert_eq!(spec.x.as_deref(), Some("Date Time"));
        assert_eq!(spec.y.as_deref(), Some("KWH/hh (per half hour) "));
        assert_eq!(spec.title.as_deref(), Some("`as typed`"));
    }

    use super::*;

    const ENERGY: &str = "# average use per half hour\ntable: energy_by_hh\nkind: line\nx: half_hour\ny: kwh\n\
                          color: Acorn_grouped\naggregate: avg\nfacet: stdorToU\ntitle: Average kWh: per half hour\n";

    #[test]
    fn parses_every_key() {
        let spec = ChartSpec::parse(ENERGY).expect("spec");
        assert_eq!(spec.table, "energy_by_hh");
        assert_eq!(spec.kind, ChartKind::Line);
        assert_eq!(spec.x.as_deref(), Some("half_hour"));
        assert_eq!(spec.y.as_deref(), Some("kwh"));
        assert_eq!(spec.color.as_deref(), Some("Acorn_grouped"));
        assert_eq!(spec.aggregate, Aggregate::Avg);
        assert_eq!(spec.facet.as_deref(), Some("stdorToU"));
        // Only the first colon splits: titles may have colons.
        assert_eq!(spec.title.as_deref(), Some("Average kWh: per half hour"));
        assert_eq!(spec.bins, None);
        spec.check().expect("complete");
    }

    #[test]
    fn round_trips_through_text() {
        let mut spec = ChartSpec::parse(ENERGY).expect("spec");
        assert_eq!(ChartSpec::parse(&spec.to_text()).expect("again"), spec);
        spec.kind = ChartKind::Histogram;
        spec.aggregate = Aggregate::None;
        spec.bins = Some(12);
        spec.color = None;
        assert_eq!(ChartSpec::parse(&spec.to_text()).expect("again"), spec);
        let minimal = ChartSpec::new("t", ChartKind::Box);
        assert_eq!(minimal.to_text(), "table: t\nkind: box\n");
        assert_eq!(ChartSpec::parse(&minimal.to_text()).expect("again"), minimal);
        // Key order is stable whatever the order of the input.
        let shuffled = ChartSpec::parse("y: b\n  KIND: Grouped Bar\ncolor: c\nx: a\ntable: t").expect("spec");
        assert_eq!(shuffled.to_text(), "table: t\nkind: grouped_bar\nx: a\ny: b\ncolor: c\n");
    }

    #[test]
    fn unknown_keys_name_the_line_and_the_keys() {
        let e = ChartSpec::parse("table: t\nkind: bar\n\ncolour: zone\n").expect_err("unknown key");
        assert_eq!(e.location, Some(Location { line: 4, column: 1 }));
        assert!(e.message.contains("line 4") && e.message.contains("colour"), "{e:?}");
        let hint = e.hint.expect("hint");
        for key in KEYS {
            assert!(hint.contains(key), "{hint}");
        }
    }

    #[test]
    fn bad_values_are_errors() {
        let e = ChartSpec::parse("table: t\nkind: pie").expect_err("kind");
        assert!(e.message.contains("pie") && e.hint.as_deref().unwrap_or("").contains("histogram"), "{e:?}");
        assert_eq!(e.location, Some(Location { line: 2, column: 7 }));
        let e = ChartSpec::parse("table: t\nkind: bar\naggregate: total").expect_err("aggregate");
        assert!(e.hint.as_deref().unwrap_or("").contains("median"), "{e:?}");
        assert!(ChartSpec::parse("table: t\nkind: histogram\nbins: 0").is_err());
        assert!(ChartSpec::parse("table: t\nkind: histogram\nbins: many").is_err());
        let e = ChartSpec::parse("table: t\nkind: bar\nx a").expect_err("no colon");
        assert!(e.message.contains("line 3"), "{e:?}");
        let e = ChartSpec::parse("table: t\nkind: bar\nkind: line").expect_err("twice");
        assert!(e.message.contains("line 2"), "{e:?}");
        let e = ChartSpec::parse("kind: bar").expect_err("no table");
        assert!(e.message.contains("table"), "{e:?}");
        let e = ChartSpec::parse("# only a comment\ntable: t").expect_err("no kind");
        assert!(e.message.contains("kind"), "{e:?}");
    }

    #[test]
    fn check_names_what_a_kind_needs() {
        let spec = |text: &str| ChartSpec::parse(text).expect("spec");
        let e = spec("table: t\nkind: bar\ny: v").check().expect_err("no x");
        assert!(e.message.contains("x column"), "{e:?}");
        assert!(spec("table: t\nkind: bar\nx: k\naggregate: count").check().is_ok());
        assert!(spec("table: t\nkind: bar\nx: k").check().is_err());
        assert!(spec("table: t\nkind: grouped_bar\nx: k\ny: v").check().is_err());
        assert!(spec("table: t\nkind: histogram").check().is_err());
        assert!(spec("table: t\nkind: histogram\ny: v").check().is_ok());
        assert!(spec("table: t\nkind: box\nx: g").check().is_err());
        assert!(spec("table: t\nkind: scatter\nx: a\ny: b\naggregate: sum").check().is_err());
    }
}
