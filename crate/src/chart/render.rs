//! Draws a [`ChartSpec`] over a Polars frame as SVG.
//!
//! The data is shaped with Polars first (bars and lines: grouped by x, the
//! colour and the facet, with y aggregated; histograms and box plots: binned
//! and summarised), and that shaped frame is what the chart draws and what the
//! cell shows as its table. The SVG is written by hand ([`super::svg`]): a
//! plotting library on wasm32 measures text with the browser's canvas, which
//! a Web Worker may not have, and would draw differently natively than in
//! the browser; here the same spec draws the same bytes everywhere.

use std::collections::HashMap;

use polars::prelude::*;

use super::spec::{Aggregate, ChartKind, ChartSpec};
use super::svg::{Svg, num, shorten, text_width};
use crate::CellError;
use crate::engine::suggest;

/// The size of a chart without facets; facets add rows of panels.
pub const WIDTH: f64 = 720.0;
pub const HEIGHT: f64 = 400.0;

/// Okabe & Ito's palette, which readers with any common colour-vision
/// deficiency can tell apart; blue first, yellow late (weak on white), and
/// grey for black (so that it shows on a dark theme too).
pub const PALETTE: [&str; 8] = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#F0E442", "#999999"];

/// At most this many colour series, facets, and scatter points.
const MAX_SERIES: usize = 40;
const MAX_FACETS: usize = 12;
const MAX_POINTS: usize = 10_000;
/// Marks beyond this many get no tooltip, to keep the SVG small.
const MAX_TOOLTIPS: usize = 2_000;

const DAY_MS: f64 = 86_400_000.0;
const FONT_SIZE: f64 = 11.0;

/// A rendered chart.
#[derive(Debug, Clone)]
pub struct Chart {
    /// An `<svg>` element, 720 px wide with a viewBox, so it scales.
    pub svg: String,
    /// The data the chart draws (aggregated, binned or summarised).
    pub data: DataFrame,
    /// Rows of `data`.
    pub rows: usize,
    /// Remarks: rows left out for nulls, colours that repeat, points sampled.
    pub notes: Vec<String>,
}

/// Shapes `df` as `spec` asks and draws it.
pub fn render(spec: &ChartSpec, df: &DataFrame) -> Result<Chart, CellError> {
    spec.check()?;
    let columns: Vec<String> = df.get_column_names_str().into_iter().map(String::from).collect();
    for (role, name) in [("x", &spec.x), ("y", &spec.y), ("color", &spec.color), ("facet", &spec.facet)] {
        if let Some(name) = name.as_ref().filter(|n| !columns.contains(n)) {
            return Err(missing_column(role, name, &spec.table, &columns));
        }
    }
    if df.height() == 0 {
        return Err(CellError::new(format!("table {} has no rows, so there is nothing to chart", spec.table))
            .hint("run the cell that makes it, or check its filters"));
    }
    let mut notes = Vec::new();
    let shaped = match spec.kind {
        ChartKind::Bar | ChartKind::GroupedBar | ChartKind::Line => aggregate(spec, df)?,
        ChartKind::Scatter => scatter_data(spec, df, &mut notes)?,
        ChartKind::Histogram => histogram_data(spec, df)?,
        ChartKind::Box => box_data(spec, df)?,
    };
    if shaped.data.height() == 0 {
        return Err(CellError::new(format!(
            "every row of {} has a null in a column the chart uses, so there is nothing to chart",
            spec.table
        )));
    }
    let svg = draw(spec, &shaped, &mut notes)?;
    let rows = shaped.data.height();
    Ok(Chart { svg, data: shaped.data, rows, notes })
}

fn missing_column(role: &str, name: &str, table: &str, columns: &[String]) -> CellError {
    let error = CellError::new(format!("the {role} column {name} is not in table {table}"));
    match suggest::nearest(name, columns) {
        Some(near) => error.hint(format!("did you mean {near}? Columns: {}", columns.join(", "))),
        None => error.hint(format!("columns of {table}: {}", columns.join(", "))),
    }
}

fn polars(error: PolarsError) -> CellError {
    CellError::new(format!("the chart's data could not be prepared: {error}"))
}

/// How the shaped frame maps onto the chart.
struct Shaped {
    data: DataFrame,
    /// The column on x (bars, lines, scatter, box groups), if any.
    x: Option<String>,
    /// The value column on y.
    y: String,
    y_title: String,
    /// Histograms: the bins' edges.
    bins: Option<(String, String)>,
    /// Box plots: the summary columns are there, and each box's outliers.
    boxes: bool,
    outliers: Vec<Vec<f64>>,
}

fn is_number(dtype: &DataType) -> bool {
    dtype.is_primitive_numeric() || matches!(dtype, DataType::Decimal(..))
}

fn is_ordered(dtype: &DataType) -> bool {
    is_number(dtype) || matches!(dtype, DataType::Date | DataType::Datetime(..))
}

fn need_numbers(df: &DataFrame, role: &str, name: &str, spec: &ChartSpec) -> Result<(), CellError> {
    let dtype = df.column(name).map_err(polars)?.dtype();
    if is_number(dtype) {
        return Ok(());
    }
    let what = match spec.aggregate {
        Aggregate::Sum | Aggregate::Avg | Aggregate::Median => format!("{} needs", spec.aggregate.as_str()),
        _ => format!("a {} chart needs", spec.kind.as_str()),
    };
    Err(CellError::new(format!(
        "the {role} column {name} is a {}; {what} numbers",
        crate::engine::spark_type_name(dtype)
    ))
    .hint(format!(
        "choose a numeric column, convert it in a SQL cell (CAST({name} AS DOUBLE)), or use `aggregate: count`"
    )))
}

/// The grouping keys: x, then colour, then facet (each once).
fn keys(spec: &ChartSpec, with_x: bool) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    let x = if with_x { spec.x.clone() } else { None };
    for name in [x, spec.color.clone(), spec.facet.clone()].into_iter().flatten() {
        if !keys.contains(&name) {
            keys.push(name);
        }
    }
    keys
}

/// Bars and lines: group by x (+ colour, facet) and aggregate y with Polars;
/// x sorted when it is a number or a date, first-seen order otherwise.
fn aggregate(spec: &ChartSpec, df: &DataFrame) -> Result<Shaped, CellError> {
    let x = spec.x.clone().unwrap_or_default();
    let keys = keys(spec, true);
    let (value, y_title, agg) = match (spec.aggregate, &spec.y) {
        (Aggregate::Count, y) => {
            let mut name = "count".to_string();
            while keys.contains(&name) {
                name.push('_');
            }
            let expr = match y {
                Some(y) => col(y.as_str()).count(),
                None => len(),
            };
            (name.clone(), "count".to_string(), Some(expr.alias(name.as_str())))
        }
        (aggregate, Some(y)) => {
            need_numbers(df, "y", y, spec)?;
            let c = col(y.as_str());
            let expr = match aggregate {
                Aggregate::None => None,
                Aggregate::Sum => Some(c.sum()),
                Aggregate::Avg => Some(c.mean()),
                Aggregate::Min => Some(c.min()),
                Aggregate::Max => Some(c.max()),
                Aggregate::Median => Some(c.median()),
                Aggregate::Count => None,
            };
            let title = match aggregate {
                Aggregate::None => y.clone(),
                a => format!("{y} ({})", a.as_str()),
            };
            (y.clone(), title, expr.map(|e| e.alias(y.as_str())))
        }
        (_, None) => return Err(CellError::new("internal: a chart without y must count")),
    };
    let lazy = df.clone().lazy();
    let lazy = match agg {
        Some(expr) => {
            let by: Vec<Expr> = keys.iter().map(|k| col(k.as_str())).collect();
            lazy.group_by_stable(by).agg([expr])
        }
        None => {
            let mut cols: Vec<Expr> = keys.iter().map(|k| col(k.as_str())).collect();
            if !keys.contains(&value) {
                cols.push(col(value.as_str()));
            }
            lazy.select(cols)
        }
    };
    let x_dtype = df.column(&x).map_err(polars)?.dtype().clone();
    let lazy = if is_ordered(&x_dtype) {
        lazy.sort([x.as_str()], SortMultipleOptions::default().with_maintain_order(true).with_nulls_last(true))
    } else {
        lazy
    };
    let data = lazy.collect().map_err(polars)?;
    Ok(Shaped { data, x: Some(x), y: value, y_title, bins: None, boxes: false, outliers: Vec::new() })
}

/// Scatter: the rows themselves (both coordinates present), sampled evenly
/// beyond [`MAX_POINTS`].
fn scatter_data(spec: &ChartSpec, df: &DataFrame, notes: &mut Vec<String>) -> Result<Shaped, CellError> {
    let x = spec.x.clone().unwrap_or_default();
    let y = spec.y.clone().unwrap_or_default();
    need_numbers(df, "y", &y, spec)?;
    if !is_ordered(df.column(&x).map_err(polars)?.dtype()) {
        need_numbers(df, "x", &x, spec)?;
    }
    let mut cols = keys(spec, true);
    if !cols.contains(&y) {
        cols.push(y.clone());
    }
    let exprs: Vec<Expr> = cols.iter().map(|c| col(c.as_str())).collect();
    let mut data = df
        .clone()
        .lazy()
        .select(exprs)
        .filter(col(x.as_str()).is_not_null().and(col(y.as_str()).is_not_null()))
        .collect()
        .map_err(polars)?;
    if data.height() > MAX_POINTS {
        let step = data.height().div_ceil(MAX_POINTS);
        let idx: Vec<IdxSize> = (0..data.height()).step_by(step).map(|i| i as IdxSize).collect();
        let total = data.height();
        data = data.take(&IdxCa::from_vec("idx".into(), idx)).map_err(polars)?;
        notes.push(format!(
            "{} of {} points drawn (every {step}th row); the table has them all",
            thousands(data.height()),
            thousands(total)
        ));
    }
    Ok(Shaped { data, x: Some(x), y: y.clone(), y_title: y, bins: None, boxes: false, outliers: Vec::new() })
}

/// The numbers of a column (dates as epoch milliseconds); nulls and NaN as None.
fn numbers(column: &Column) -> Result<Vec<Option<f64>>, CellError> {
    let series = column.as_materialized_series();
    Ok(match series.dtype() {
        DataType::Date => series
            .cast(&DataType::Int32)
            .map_err(polars)?
            .i32()
            .map_err(polars)?
            .iter()
            .map(|v| v.map(|d| d as f64 * DAY_MS))
            .collect(),
        DataType::Datetime(unit, _) => {
            let per_ms = match unit {
                TimeUnit::Nanoseconds => 1e-6,
                TimeUnit::Microseconds => 1e-3,
                TimeUnit::Milliseconds => 1.0,
            };
            series
                .cast(&DataType::Int64)
                .map_err(polars)?
                .i64()
                .map_err(polars)?
                .iter()
                .map(|v| v.map(|t| t as f64 * per_ms))
                .collect()
        }
        _ => series
            .cast(&DataType::Float64)
            .map_err(polars)?
            .f64()
            .map_err(polars)?
            .iter()
            .map(|v| v.filter(|f| f.is_finite()))
            .collect(),
    })
}

/// A column's values as labels: numbers with thousands separators, dates as dates.
fn labels(column: &Column) -> Result<Vec<String>, CellError> {
    let dtype = column.dtype().clone();
    if is_ordered(&dtype) {
        let values = numbers(column)?;
        let date_only = matches!(dtype, DataType::Date) || values.iter().flatten().all(|v| v.rem_euclid(DAY_MS) == 0.0);
        return Ok(values
            .into_iter()
            .map(|v| match v {
                None => "null".to_string(),
                Some(v) if dtype.is_temporal() => date_label(v, if date_only { "%Y-%m-%d" } else { "%Y-%m-%d %H:%M" }),
                Some(v) => plain_number(v),
            })
            .collect());
    }
    let text = column.cast(&DataType::String).map_err(polars)?;
    Ok(text.str().map_err(polars)?.iter().map(|v| v.unwrap_or("null").to_string()).collect())
}

fn date_label(ms: f64, format: &str) -> String {
    chrono::DateTime::from_timestamp_millis(ms as i64)
        .map(|t| t.naive_utc().format(format).to_string())
        .unwrap_or_else(|| plain_number(ms))
}

/// Histograms: equal-width bins over the column's range, counted per colour and facet.
fn histogram_data(spec: &ChartSpec, df: &DataFrame) -> Result<Shaped, CellError> {
    let (role, value) = match (&spec.x, &spec.y) {
        (Some(x), _) => ("x", x.clone()),
        (None, Some(y)) => ("y", y.clone()),
        (None, None) => return Err(CellError::new("internal: a histogram needs a column")),
    };
    need_numbers(df, role, &value, spec)?;
    let values = numbers(df.column(&value).map_err(polars)?)?;
    let groups = group_labels(spec, df)?;
    let (lo, hi) = values.iter().flatten().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(*v), b.max(*v)));
    if !lo.is_finite() {
        return Err(CellError::new(format!("the column {value} of {} has no values (all null)", spec.table)));
    }
    let bins = spec.bins.unwrap_or(20).max(1) as usize;
    let (lo, hi) = if hi > lo { (lo, hi) } else { (lo - 0.5, hi + 0.5) };
    let width = (hi - lo) / bins as f64;
    // Counts per (colour, facet) group, in first-seen order of the groups.
    let mut order: Vec<(String, String)> = Vec::new();
    let mut counts: HashMap<(String, String), Vec<u64>> = HashMap::new();
    for (i, v) in values.iter().enumerate() {
        let Some(v) = v else { continue };
        let key = (groups.0[i].clone(), groups.1[i].clone());
        let bin = (((v - lo) / width).floor() as usize).min(bins - 1);
        let entry = counts.entry(key.clone()).or_insert_with(|| {
            order.push(key);
            vec![0; bins]
        });
        entry[bin] += 1;
    }
    let (mut start, mut end, mut color, mut facet, mut count) = (vec![], vec![], vec![], vec![], vec![]);
    for key in &order {
        for (b, n) in counts[key].iter().enumerate() {
            start.push(lo + width * b as f64);
            end.push(lo + width * (b + 1) as f64);
            color.push(key.0.clone());
            facet.push(key.1.clone());
            count.push(*n);
        }
    }
    let mut columns = vec![Column::new("bin_start".into(), start), Column::new("bin_end".into(), end)];
    if let Some(c) = &spec.color {
        columns.push(Column::new(c.as_str().into(), color));
    }
    if let Some(f) = spec.facet.as_ref().filter(|f| Some(*f) != spec.color.as_ref()) {
        columns.push(Column::new(f.as_str().into(), facet));
    }
    columns.push(Column::new("count".into(), count));
    let data = DataFrame::new(columns).map_err(polars)?;
    Ok(Shaped {
        data,
        x: None,
        y: "count".into(),
        y_title: "count".into(),
        bins: Some(("bin_start".into(), value)),
        boxes: false,
        outliers: Vec::new(),
    })
}

/// Each row's colour and facet labels ("" when the spec has none).
fn group_labels(spec: &ChartSpec, df: &DataFrame) -> Result<(Vec<String>, Vec<String>), CellError> {
    let of = |name: &Option<String>| -> Result<Vec<String>, CellError> {
        match name {
            Some(n) => labels(df.column(n).map_err(polars)?),
            None => Ok(vec![String::new(); df.height()]),
        }
    };
    Ok((of(&spec.color)?, of(&spec.facet)?))
}

/// The summary of one box: quartiles (linear interpolation), whiskers at the
/// furthest values within 1.5 IQR of the box, and the outliers beyond them.
#[derive(Debug, Clone, PartialEq)]
pub struct BoxStats {
    pub n: usize,
    pub q1: f64,
    pub median: f64,
    pub q3: f64,
    pub low: f64,
    pub high: f64,
    pub outliers: Vec<f64>,
}

/// Box statistics of some values (NaN left out); None when there are none.
pub fn box_stats(values: &[f64]) -> Option<BoxStats> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let quantile = |q: f64| {
        let pos = q * (v.len() - 1) as f64;
        let (i, frac) = (pos.floor() as usize, pos.fract());
        if i + 1 < v.len() { v[i] + (v[i + 1] - v[i]) * frac } else { v[i] }
    };
    let (q1, median, q3) = (quantile(0.25), quantile(0.5), quantile(0.75));
    let iqr = q3 - q1;
    let (fence_low, fence_high) = (q1 - 1.5 * iqr, q3 + 1.5 * iqr);
    let low = v.iter().copied().find(|x| *x >= fence_low).unwrap_or(q1);
    let high = v.iter().rev().copied().find(|x| *x <= fence_high).unwrap_or(q3);
    let outliers = v.iter().copied().filter(|x| *x < fence_low || *x > fence_high).collect();
    Some(BoxStats { n: v.len(), q1, median, q3, low, high, outliers })
}

/// Box plots: one summary per x group (and colour, facet).
fn box_data(spec: &ChartSpec, df: &DataFrame) -> Result<Shaped, CellError> {
    let y = spec.y.clone().unwrap_or_default();
    need_numbers(df, "y", &y, spec)?;
    let values = numbers(df.column(&y).map_err(polars)?)?;
    let xs = match &spec.x {
        Some(x) => {
            let column = df.column(x).map_err(polars)?;
            let labels = labels(column)?;
            if is_ordered(column.dtype()) {
                // Numbers and dates in ascending order of value.
                let keys = numbers(column)?;
                let mut pairs: Vec<(f64, String)> =
                    keys.iter().zip(&labels).map(|(k, l)| (k.unwrap_or(f64::INFINITY), l.clone())).collect();
                pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
                let order: Vec<String> = pairs.into_iter().map(|p| p.1).collect();
                (labels, Some(order))
            } else {
                (labels, None)
            }
        }
        None => (vec![y.clone(); df.height()], None),
    };
    let (labels, sorted) = xs;
    let groups = group_labels(spec, df)?;
    let mut order: Vec<(String, String, String)> = Vec::new();
    let mut members: HashMap<(String, String, String), Vec<f64>> = HashMap::new();
    for (i, v) in values.iter().enumerate() {
        let Some(v) = v else { continue };
        let key = (labels[i].clone(), groups.0[i].clone(), groups.1[i].clone());
        members
            .entry(key.clone())
            .or_insert_with(|| {
                order.push(key);
                Vec::new()
            })
            .push(*v);
    }
    if let Some(sorted) = sorted {
        let rank: HashMap<&String, usize> = sorted.iter().enumerate().rev().map(|(i, l)| (l, i)).collect();
        order.sort_by_key(|k| rank.get(&k.0).copied().unwrap_or(usize::MAX));
    }
    let x_name = spec.x.clone().unwrap_or_else(|| "column".into());
    let mut cols: HashMap<&str, Vec<f64>> = HashMap::new();
    let (mut x_col, mut color_col, mut facet_col, mut n_col, mut out_col) = (vec![], vec![], vec![], vec![], vec![]);
    let mut outliers = Vec::new();
    for key in &order {
        let Some(s) = box_stats(&members[key]) else { continue };
        x_col.push(key.0.clone());
        color_col.push(key.1.clone());
        facet_col.push(key.2.clone());
        n_col.push(s.n as u64);
        out_col.push(s.outliers.len() as u64);
        outliers.push(s.outliers.clone());
        for (name, value) in [("low", s.low), ("q1", s.q1), ("median", s.median), ("q3", s.q3), ("high", s.high)] {
            cols.entry(name).or_default().push(value);
        }
    }
    let mut columns = vec![Column::new(x_name.as_str().into(), x_col)];
    if let Some(c) = spec.color.as_ref().filter(|c| Some(*c) != spec.x.as_ref()) {
        columns.push(Column::new(c.as_str().into(), color_col));
    }
    if let Some(f) = spec.facet.as_ref().filter(|f| Some(*f) != spec.x.as_ref() && Some(*f) != spec.color.as_ref()) {
        columns.push(Column::new(f.as_str().into(), facet_col));
    }
    columns.push(Column::new("n".into(), n_col));
    for name in ["low", "q1", "median", "q3", "high"] {
        columns.push(Column::new(name.into(), cols.remove(name).unwrap_or_default()));
    }
    columns.push(Column::new("outliers".into(), out_col));
    let data = DataFrame::new(columns).map_err(polars)?;
    let y_title = spec.y.clone().unwrap_or_default();
    Ok(Shaped { data, x: Some(x_name), y: "median".into(), y_title, bins: None, boxes: true, outliers })
}

// ---------------------------------------------------------------------------
// Drawing

/// Distinct labels in a stable order: by value for numbers and dates,
/// alphabetical for text.
fn distinct(labels: &[String], keys: Option<&[Option<f64>]>) -> Vec<String> {
    let mut seen: Vec<(f64, String)> = Vec::new();
    let mut set = std::collections::HashSet::new();
    for (i, l) in labels.iter().enumerate() {
        if set.insert(l.clone()) {
            seen.push((keys.and_then(|k| k[i]).unwrap_or(0.0), l.clone()));
        }
    }
    if keys.is_some() {
        seen.sort_by(|a, b| a.0.total_cmp(&b.0));
    } else {
        seen.sort_by(|a, b| a.1.cmp(&b.1));
    }
    seen.into_iter().map(|s| s.1).collect()
}

/// Each row's label, and for numbers and dates the number it stands for.
type Labelled = (Vec<String>, Option<Vec<Option<f64>>>);

/// A column's labels and, for numbers and dates, the numbers they stand for.
fn column_labels(df: &DataFrame, name: &str) -> Result<Labelled, CellError> {
    let column = df.column(name).map_err(polars)?;
    let keys = if is_ordered(column.dtype()) { Some(numbers(column)?) } else { None };
    Ok((labels(column)?, keys))
}

#[derive(Clone, Copy)]
struct Rect {
    x: f64,
    y: f64,
    w: f64,
    h: f64,
}

/// The x axis: categories (bars, boxes) or a number line (lines, scatter,
/// histograms; dates as epoch milliseconds).
enum XAxis {
    Band(Vec<String>),
    /// `time`: Some(the smallest tick step in ms) for dates (a day) and datetimes.
    Linear {
        lo: f64,
        hi: f64,
        time: Option<f64>,
    },
}

struct Ticks {
    values: Vec<f64>,
    labels: Vec<String>,
}

/// Steps of 1, 2 or 5 times a power of ten, about `target` of them over the span.
fn nice_step(span: f64, target: usize) -> f64 {
    let raw = span / target.max(1) as f64;
    let magnitude = 10f64.powf(raw.log10().floor());
    let norm = raw / magnitude;
    let nice = if norm < 1.5 {
        1.0
    } else if norm < 3.0 {
        2.0
    } else if norm < 7.0 {
        5.0
    } else {
        10.0
    };
    nice * magnitude
}

fn decimals(step: f64) -> usize {
    if step >= 1.0 || step <= 0.0 { 0 } else { ((-step.log10()).ceil() as usize).min(8) }
}

/// 1234567.5 with 1 decimal → "1,234,567.5".
pub fn format_number(v: f64, decimals: usize) -> String {
    let text = format!("{:.*}", decimals, v.abs());
    let (int, frac) = text.split_once('.').map_or((text.as_str(), None), |(i, f)| (i, Some(f)));
    let mut out = String::new();
    if v < 0.0 && text.chars().any(|c| c.is_ascii_digit() && c != '0') {
        out.push('-');
    }
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if let Some(f) = frac {
        out.push('.');
        out.push_str(f);
    }
    out
}

/// A number as a label: whole numbers with separators, others to 4 significant decimals.
fn plain_number(v: f64) -> String {
    if v.fract() == 0.0 {
        return format_number(v, 0);
    }
    let d = if v.abs() >= 100.0 { 2 } else { 4 };
    let text = format_number(v, d);
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn thousands(n: usize) -> String {
    format_number(n as f64, 0)
}

/// Ticks over [lo, hi] for a value axis; the domain grows to whole steps.
fn value_ticks(lo: f64, hi: f64, target: usize) -> (f64, f64, Ticks) {
    let (lo, hi) = if hi > lo {
        (lo, hi)
    } else if lo == 0.0 {
        (0.0, 1.0)
    } else {
        (lo - lo.abs() * 0.1, hi + hi.abs() * 0.1)
    };
    let step = nice_step(hi - lo, target);
    let (lo, mut hi) = ((lo / step).floor() * step, (hi / step).ceil() * step);
    if hi <= lo {
        // Values too close for f64 to tell steps apart.
        hi = lo + lo.abs().max(1.0);
    }
    let values = steps_between(lo, hi, step);
    let labels = values.iter().map(|v| format_number(*v, decimals(step))).collect();
    (lo, hi, Ticks { values, labels })
}

/// The multiples of `step` in [lo, hi] (by index, so that a step too small
/// for the magnitude cannot loop forever); at most 100.
fn steps_between(lo: f64, hi: f64, step: f64) -> Vec<f64> {
    if step.is_nan() || step <= 0.0 || !lo.is_finite() || !hi.is_finite() {
        return vec![lo];
    }
    let first = (lo / step - 1e-9).ceil();
    let last = (hi / step + 1e-9).floor();
    let count = (last - first).clamp(0.0, 100.0) as usize;
    (0..=count).map(|k| (first + k as f64) * step).map(|v| if v.abs() < step * 1e-9 { 0.0 } else { v }).collect()
}

/// Ticks inside [lo, hi] (the domain stays), for numbers or dates.
fn inner_ticks(lo: f64, hi: f64, time: Option<f64>, target: usize) -> Ticks {
    let Some(min_step) = time else {
        let step = nice_step((hi - lo).max(f64::MIN_POSITIVE), target);
        let values = steps_between(lo, hi, step);
        let labels = values.iter().map(|v| format_number(*v, decimals(step))).collect();
        return Ticks { values, labels };
    };
    const MIN: f64 = 60_000.0;
    const HOUR: f64 = 3_600_000.0;
    let steps = [
        MIN,
        5.0 * MIN,
        15.0 * MIN,
        30.0 * MIN,
        HOUR,
        3.0 * HOUR,
        6.0 * HOUR,
        12.0 * HOUR,
        DAY_MS,
        2.0 * DAY_MS,
        7.0 * DAY_MS,
        14.0 * DAY_MS,
        30.0 * DAY_MS,
        91.0 * DAY_MS,
        182.0 * DAY_MS,
        365.0 * DAY_MS,
    ];
    let span = hi - lo;
    let step =
        steps.iter().copied().filter(|s| *s >= min_step).find(|s| span / s <= target as f64).unwrap_or_else(|| {
            let years = nice_step(span / (365.0 * DAY_MS), target).max(1.0);
            years * 365.0 * DAY_MS
        });
    let format = if step >= DAY_MS {
        "%Y-%m-%d"
    } else if span > DAY_MS {
        "%m-%d %H:%M"
    } else {
        "%H:%M"
    };
    let values = steps_between(lo, hi, step);
    let labels = values.iter().map(|v| date_label(*v, format)).collect();
    Ticks { values, labels }
}

/// How the x labels fit: horizontal, or rotated 45°, every `every`-th shown.
struct XLabels {
    ticks: Ticks,
    rotate: bool,
    every: usize,
    height: f64,
}

const MAX_LABEL_CHARS: usize = 22;

fn fit_x_labels(axis: &XAxis, width: f64) -> XLabels {
    match axis {
        XAxis::Band(categories) => {
            let n = categories.len().max(1);
            let band = width / n as f64;
            let labels: Vec<String> = categories.iter().map(|c| shorten(c, MAX_LABEL_CHARS)).collect();
            let widest = labels.iter().map(|l| text_width(l, FONT_SIZE)).fold(0.0, f64::max);
            let ticks = Ticks { values: (0..n).map(|i| i as f64).collect(), labels };
            if widest + 6.0 <= band {
                return XLabels { ticks, rotate: false, every: 1, height: 18.0 };
            }
            // Rotated labels need about 1.4 lines of text between them.
            let every = ((FONT_SIZE * 1.5) / band).ceil().max(1.0) as usize;
            XLabels { ticks, rotate: true, every, height: 14.0 + widest * std::f64::consts::FRAC_1_SQRT_2 }
        }
        XAxis::Linear { lo, hi, time } => {
            let mut target = 8;
            loop {
                let ticks = inner_ticks(*lo, *hi, *time, target);
                let total: f64 = ticks.labels.iter().map(|l| text_width(l, FONT_SIZE) + 12.0).sum();
                if total <= width * 0.9 || target <= 2 {
                    return XLabels { ticks, rotate: false, every: 1, height: 18.0 };
                }
                target -= 1;
            }
        }
    }
}

/// Everything drawn, with its series (colour) and facet.
struct Marks {
    /// x position: a category index (band axes) or a number.
    x: Vec<Option<f64>>,
    x_label: Vec<String>,
    y: Vec<Option<f64>>,
    series: Vec<usize>,
    facet: Vec<usize>,
    series_names: Vec<String>,
    facet_names: Vec<String>,
}

fn index_of(names: &[String], labels: &[String]) -> Vec<usize> {
    let map: HashMap<&String, usize> = names.iter().enumerate().map(|(i, n)| (n, i)).collect();
    labels.iter().map(|l| map.get(l).copied().unwrap_or(0)).collect()
}

fn draw(spec: &ChartSpec, shaped: &Shaped, notes: &mut Vec<String>) -> Result<String, CellError> {
    let df = &shaped.data;
    let height = df.height();
    let labelled = |name: &Option<String>| -> Result<(Vec<String>, Vec<String>), CellError> {
        match name {
            Some(n) => {
                let (labels, keys) = column_labels(df, n)?;
                let names = distinct(&labels, keys.as_deref());
                Ok((names, labels))
            }
            None => Ok((vec![String::new()], vec![String::new(); height])),
        }
    };
    let (series_names, series_labels) = labelled(&spec.color)?;
    let (facet_names, facet_labels) = labelled(&spec.facet)?;
    if series_names.len() > MAX_SERIES {
        return Err(CellError::new(format!(
            "the color column {} has {} values; a chart shows at most {MAX_SERIES} series",
            spec.color.as_deref().unwrap_or_default(),
            series_names.len()
        ))
        .hint("choose a column with fewer values, or group them in a SQL cell"));
    }
    if facet_names.len() > MAX_FACETS {
        return Err(CellError::new(format!(
            "the facet column {} has {} values; a chart shows at most {MAX_FACETS} facets",
            spec.facet.as_deref().unwrap_or_default(),
            facet_names.len()
        ))
        .hint("choose a column with fewer values, or filter in a SQL cell"));
    }
    if series_names.len() > PALETTE.len() {
        notes.push(format!("{} series but {} colours: colours repeat", series_names.len(), PALETTE.len()));
    }
    let series = index_of(&series_names, &series_labels);
    let facet = index_of(&facet_names, &facet_labels);
    let ys = numbers(df.column(&shaped.y).map_err(polars)?)?;

    // The x axis and each row's position on it.
    let band = matches!(spec.kind, ChartKind::Bar | ChartKind::GroupedBar | ChartKind::Box);
    let (axis, xs, x_label, x_title) = if let Some((start, value)) = &shaped.bins {
        let starts = numbers(df.column(start).map_err(polars)?)?;
        let ends = numbers(df.column("bin_end").map_err(polars)?)?;
        let lo = starts.iter().flatten().copied().fold(f64::INFINITY, f64::min);
        let hi = ends.iter().flatten().copied().fold(f64::NEG_INFINITY, f64::max);
        let labels = starts
            .iter()
            .zip(&ends)
            .map(|(s, e)| format!("{}–{}", plain_number(s.unwrap_or(0.0)), plain_number(e.unwrap_or(0.0))))
            .collect();
        (XAxis::Linear { lo, hi, time: None }, starts, labels, value.clone())
    } else {
        let x = shaped.x.clone().unwrap_or_default();
        let column = df.column(&x).map_err(polars)?;
        let labels = labels(column)?;
        if band {
            let mut categories: Vec<String> = Vec::new();
            let mut position: HashMap<String, usize> = HashMap::new();
            let xs = labels
                .iter()
                .map(|l| {
                    let i = *position.entry(l.clone()).or_insert_with(|| {
                        categories.push(l.clone());
                        categories.len() - 1
                    });
                    Some(i as f64)
                })
                .collect();
            (XAxis::Band(categories), xs, labels, x)
        } else if is_ordered(column.dtype()) {
            let xs = numbers(column)?;
            let lo = xs.iter().flatten().copied().fold(f64::INFINITY, f64::min);
            let hi = xs.iter().flatten().copied().fold(f64::NEG_INFINITY, f64::max);
            let (lo, hi) = if hi > lo { (lo, hi) } else { (lo - 1.0, hi + 1.0) };
            let time = match column.dtype() {
                DataType::Date => Some(DAY_MS),
                DataType::Datetime(..) => Some(0.0),
                _ => None,
            };
            (XAxis::Linear { lo, hi, time }, xs, labels, x)
        } else {
            // Text on a line chart: categories, evenly spaced, in data order.
            let mut categories: Vec<String> = Vec::new();
            let mut position: HashMap<String, usize> = HashMap::new();
            let xs = labels
                .iter()
                .map(|l| {
                    let i = *position.entry(l.clone()).or_insert_with(|| {
                        categories.push(l.clone());
                        categories.len() - 1
                    });
                    Some(i as f64)
                })
                .collect();
            (XAxis::Band(categories), xs, labels, x)
        }
    };
    let marks = Marks { x: xs, x_label, y: ys, series, facet, series_names, facet_names };

    // The y domain: every drawn value (boxes: whiskers and outliers), and 0 for bars.
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    let mut extend = |v: f64| {
        lo = lo.min(v);
        hi = hi.max(v);
    };
    if shaped.boxes {
        for name in ["low", "high"] {
            numbers(df.column(name).map_err(polars)?)?.into_iter().flatten().for_each(&mut extend);
        }
        shaped.outliers.iter().flatten().copied().for_each(&mut extend);
    } else {
        marks.y.iter().flatten().copied().for_each(&mut extend);
    }
    if matches!(spec.kind, ChartKind::Bar | ChartKind::GroupedBar | ChartKind::Histogram) && hi >= lo {
        lo = lo.min(0.0);
        hi = hi.max(0.0);
    }
    if !lo.is_finite() {
        return Err(CellError::new(format!("the y column {} has no values to draw (all null)", shaped.y)));
    }
    let (y_lo, y_hi, y_ticks) = value_ticks(lo, hi, 6);

    let title = spec.title.clone().unwrap_or_else(|| auto_title(spec, shaped, &x_title));
    let legend = spec.color.is_some();
    let legend_width = if legend {
        let widest = marks
            .series_names
            .iter()
            .map(|s| text_width(&shorten(s, MAX_LABEL_CHARS), FONT_SIZE))
            .chain(std::iter::once(text_width(spec.color.as_deref().unwrap_or_default(), FONT_SIZE)))
            .fold(0.0, f64::max);
        widest.min(160.0) + 34.0
    } else {
        0.0
    };
    let facets = marks.facet_names.len();
    let cols = if spec.facet.is_some() { facets.min(3) } else { 1 };
    let rows = facets.div_ceil(cols);
    let title_height = 34.0;
    let cell_height = if rows == 1 { HEIGHT - title_height } else { 260.0 };
    let total_height = title_height + cell_height * rows as f64;
    let cell_width = (WIDTH - legend_width) / cols as f64;
    let y_label_width = y_ticks.labels.iter().map(|l| text_width(l, FONT_SIZE)).fold(0.0, f64::max);
    let left = y_label_width + 8.0 + 22.0;
    let plot_width = cell_width - left - 14.0;
    let x_labels = fit_x_labels(&axis, plot_width);
    let facet_title = if spec.facet.is_some() { 18.0 } else { 0.0 };
    let plot_height = (cell_height - facet_title - 8.0 - x_labels.height - 18.0).max(40.0);

    let mut svg = Svg::new(WIDTH, total_height, &title);
    svg.text(
        "text",
        &[
            ("class", "title"),
            ("x", &num(WIDTH / 2.0)),
            ("y", "22"),
            ("text-anchor", "middle"),
            ("font-size", "15"),
            ("font-weight", "600"),
        ],
        &title,
    );
    let mut drawn = 0usize;
    for f in 0..facets {
        let (row, col) = (f / cols, f % cols);
        let cell = Rect {
            x: col as f64 * cell_width,
            y: title_height + row as f64 * cell_height,
            w: cell_width,
            h: cell_height,
        };
        let plot = Rect { x: cell.x + left, y: cell.y + facet_title + 8.0, w: plot_width, h: plot_height };
        let facet_name = &marks.facet_names[f];
        let mut group = vec![("class", "panel".to_string())];
        if spec.facet.is_some() {
            group.push(("data-facet", facet_name.clone()));
        }
        let group: Vec<(&str, &str)> = group.iter().map(|(k, v)| (*k, v.as_str())).collect();
        svg.open("g", &group);
        if spec.facet.is_some() {
            svg.text(
                "text",
                &[
                    ("class", "facet-title"),
                    ("x", &num(plot.x + plot.w / 2.0)),
                    ("y", &num(cell.y + 14.0)),
                    ("text-anchor", "middle"),
                    ("font-weight", "600"),
                ],
                &format!("{} = {}", spec.facet.as_deref().unwrap_or_default(), facet_name),
            );
        }
        let y_scale = |v: f64| plot.y + plot.h - (v - y_lo) / (y_hi - y_lo) * plot.h;
        draw_y_axis(&mut svg, plot, &y_ticks, &y_scale, &shaped.y_title);
        draw_x_axis(&mut svg, plot, &axis, &x_labels, &x_title);
        let rows: Vec<usize> = (0..marks.y.len()).filter(|i| marks.facet[*i] == f).collect();
        let tooltips = marks.y.len() <= MAX_TOOLTIPS;
        match spec.kind {
            ChartKind::Bar | ChartKind::GroupedBar => {
                draw_bars(&mut svg, plot, &axis, &marks, &rows, &y_scale, tooltips)
            }
            ChartKind::Line => draw_lines(&mut svg, plot, &axis, &marks, &rows, &y_scale),
            ChartKind::Scatter => draw_points(&mut svg, plot, &axis, &marks, &rows, &y_scale, tooltips),
            ChartKind::Histogram => draw_bins(&mut svg, plot, &axis, &marks, df, &rows, &y_scale, tooltips)?,
            ChartKind::Box => draw_boxes(&mut svg, plot, &axis, &marks, df, &shaped.outliers, &rows, &y_scale)?,
        }
        drawn += rows.len();
        svg.close();
    }
    if legend {
        draw_legend(
            &mut svg,
            WIDTH - legend_width + 10.0,
            title_height + 8.0,
            spec.color.as_deref().unwrap_or_default(),
            &marks.series_names,
            spec.kind,
        );
    }
    let skipped = marks.y.iter().filter(|y| y.is_none()).count();
    if skipped > 0 && drawn > 0 {
        notes.push(format!("{} rows with no y value (null) are not drawn", thousands(skipped)));
    }
    Ok(svg.finish())
}

fn auto_title(spec: &ChartSpec, shaped: &Shaped, x_title: &str) -> String {
    let by = |t: String| match &spec.color {
        Some(c) if c != x_title => format!("{t} and {c}"),
        _ => t,
    };
    match spec.kind {
        ChartKind::Histogram => format!("Distribution of {x_title}"),
        ChartKind::Scatter => format!("{} vs {x_title}", shaped.y_title),
        ChartKind::Box if spec.x.is_none() => format!("Distribution of {}", shaped.y_title),
        _ => by(format!("{} by {x_title}", shaped.y_title)),
    }
}

fn draw_y_axis(svg: &mut Svg, plot: Rect, ticks: &Ticks, scale: &dyn Fn(f64) -> f64, title: &str) {
    svg.open("g", &[("class", "axis y-axis")]);
    for (v, label) in ticks.values.iter().zip(&ticks.labels) {
        let y = num(scale(*v));
        svg.empty(
            "line",
            &[
                ("class", "grid"),
                ("x1", &num(plot.x)),
                ("x2", &num(plot.x + plot.w)),
                ("y1", &y),
                ("y2", &y),
                ("stroke", "currentColor"),
                ("stroke-opacity", "0.12"),
            ],
        );
        svg.text(
            "text",
            &[("class", "tick"), ("x", &num(plot.x - 6.0)), ("y", &y), ("dy", "0.32em"), ("text-anchor", "end")],
            label,
        );
    }
    let (cx, cy) = (
        plot.x - 8.0 - ticks.labels.iter().map(|l| text_width(l, FONT_SIZE)).fold(0.0, f64::max) - 8.0,
        plot.y + plot.h / 2.0,
    );
    svg.text(
        "text",
        &[
            ("class", "axis-title"),
            ("transform", &format!("translate({},{}) rotate(-90)", num(cx), num(cy))),
            ("text-anchor", "middle"),
            ("font-weight", "600"),
        ],
        title,
    );
    svg.close();
}

fn x_position(axis: &XAxis, plot: Rect, v: f64) -> f64 {
    match axis {
        XAxis::Band(c) => plot.x + (v + 0.5) * plot.w / c.len().max(1) as f64,
        XAxis::Linear { lo, hi, .. } => plot.x + (v - lo) / (hi - lo) * plot.w,
    }
}

fn draw_x_axis(svg: &mut Svg, plot: Rect, axis: &XAxis, labels: &XLabels, title: &str) {
    svg.open("g", &[("class", "axis x-axis")]);
    let base = num(plot.y + plot.h);
    svg.empty(
        "line",
        &[
            ("class", "domain"),
            ("x1", &num(plot.x)),
            ("x2", &num(plot.x + plot.w)),
            ("y1", &base),
            ("y2", &base),
            ("stroke", "currentColor"),
            ("stroke-opacity", "0.6"),
        ],
    );
    for (i, (v, label)) in labels.ticks.values.iter().zip(&labels.ticks.labels).enumerate() {
        if i % labels.every != 0 {
            continue;
        }
        let x = x_position(axis, plot, *v);
        let y = plot.y + plot.h;
        svg.empty(
            "line",
            &[
                ("x1", &num(x)),
                ("x2", &num(x)),
                ("y1", &num(y)),
                ("y2", &num(y + 4.0)),
                ("stroke", "currentColor"),
                ("stroke-opacity", "0.6"),
            ],
        );
        if labels.rotate {
            svg.text(
                "text",
                &[
                    ("class", "tick"),
                    ("transform", &format!("translate({},{}) rotate(-45)", num(x), num(y + 9.0))),
                    ("text-anchor", "end"),
                    ("dy", "0.32em"),
                ],
                label,
            );
        } else {
            svg.text(
                "text",
                &[("class", "tick"), ("x", &num(x)), ("y", &num(y + 9.0)), ("dy", "0.71em"), ("text-anchor", "middle")],
                label,
            );
        }
    }
    svg.text(
        "text",
        &[
            ("class", "axis-title"),
            ("x", &num(plot.x + plot.w / 2.0)),
            ("y", &num(plot.y + plot.h + labels.height + 14.0)),
            ("text-anchor", "middle"),
            ("font-weight", "600"),
        ],
        title,
    );
    svg.close();
}

fn color(series: usize) -> &'static str {
    PALETTE[series % PALETTE.len()]
}

fn value_text(v: f64) -> String {
    plain_number(v)
}

fn draw_bars(
    svg: &mut Svg,
    plot: Rect,
    axis: &XAxis,
    marks: &Marks,
    rows: &[usize],
    y: &dyn Fn(f64) -> f64,
    tooltips: bool,
) {
    let XAxis::Band(categories) = axis else { return };
    let band = plot.w / categories.len().max(1) as f64;
    let n = marks.series_names.len().max(1) as f64;
    let inner = band * 0.8;
    let width = (inner / n).max(0.5);
    svg.open("g", &[("class", "marks")]);
    for &i in rows {
        let (Some(x), Some(v)) = (marks.x[i], marks.y[i]) else { continue };
        let s = marks.series[i];
        let left = plot.x + x * band + (band - inner) / 2.0 + s as f64 * width;
        let (top, bottom) = (y(v.max(0.0)), y(v.min(0.0)));
        let attrs = [
            ("class", "mark bar"),
            ("x", &num(left)),
            ("y", &num(top)),
            ("width", &num(width)),
            ("height", &num((bottom - top).max(0.0))),
            ("fill", color(s)),
            ("data-x", &marks.x_label[i]),
            ("data-y", &value_text(v)),
            ("data-series", &marks.series_names[s]),
        ];
        if tooltips {
            svg.with_tooltip("rect", &attrs, &tooltip(&marks.x_label[i], &marks.series_names[s], v));
        } else {
            svg.empty("rect", &attrs);
        }
    }
    svg.close();
}

fn tooltip(x: &str, series: &str, v: f64) -> String {
    if series.is_empty() { format!("{x}: {}", value_text(v)) } else { format!("{x}, {series}: {}", value_text(v)) }
}

fn draw_lines(svg: &mut Svg, plot: Rect, axis: &XAxis, marks: &Marks, rows: &[usize], y: &dyn Fn(f64) -> f64) {
    svg.open("g", &[("class", "marks")]);
    for (s, name) in marks.series_names.iter().enumerate() {
        let mut points: Vec<(f64, Option<f64>)> = rows
            .iter()
            .filter(|i| marks.series[**i] == s)
            .filter_map(|&i| marks.x[i].map(|x| (x, marks.y[i])))
            .collect();
        points.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut d = String::new();
        let mut pen_down = false;
        for (x, v) in &points {
            match v {
                Some(v) => {
                    d.push_str(if pen_down { "L" } else { "M" });
                    d.push_str(&format!("{},{}", num(x_position(axis, plot, *x)), num(y(*v))));
                    pen_down = true;
                }
                None => pen_down = false,
            }
        }
        if d.is_empty() {
            continue;
        }
        svg.empty(
            "path",
            &[
                ("class", "mark line"),
                ("d", &d),
                ("fill", "none"),
                ("stroke", color(s)),
                ("stroke-width", "2"),
                ("stroke-linejoin", "round"),
                ("data-series", name),
            ],
        );
        if points.len() <= 60 {
            for (x, v) in &points {
                let Some(v) = v else { continue };
                svg.empty(
                    "circle",
                    &[
                        ("class", "mark point"),
                        ("cx", &num(x_position(axis, plot, *x))),
                        ("cy", &num(y(*v))),
                        ("r", "2.5"),
                        ("fill", color(s)),
                        ("data-series", name),
                    ],
                );
            }
        }
    }
    svg.close();
}

fn draw_points(
    svg: &mut Svg,
    plot: Rect,
    axis: &XAxis,
    marks: &Marks,
    rows: &[usize],
    y: &dyn Fn(f64) -> f64,
    tooltips: bool,
) {
    svg.open("g", &[("class", "marks"), ("fill-opacity", "0.7")]);
    for &i in rows {
        let (Some(x), Some(v)) = (marks.x[i], marks.y[i]) else { continue };
        let s = marks.series[i];
        let attrs = [
            ("class", "mark point"),
            ("cx", &num(x_position(axis, plot, x))),
            ("cy", &num(y(v))),
            ("r", "3"),
            ("fill", color(s)),
            ("data-series", &marks.series_names[s]),
        ];
        if tooltips {
            svg.with_tooltip("circle", &attrs, &tooltip(&marks.x_label[i], &marks.series_names[s], v));
        } else {
            svg.empty("circle", &attrs);
        }
    }
    svg.close();
}

#[allow(clippy::too_many_arguments)]
fn draw_bins(
    svg: &mut Svg,
    plot: Rect,
    axis: &XAxis,
    marks: &Marks,
    df: &DataFrame,
    rows: &[usize],
    y: &dyn Fn(f64) -> f64,
    tooltips: bool,
) -> Result<(), CellError> {
    let ends = numbers(df.column("bin_end").map_err(polars)?)?;
    let overlaid = marks.series_names.len() > 1;
    svg.open("g", &[("class", "marks")]);
    for &i in rows {
        let (Some(start), Some(end), Some(v)) = (marks.x[i], ends[i], marks.y[i]) else { continue };
        let s = marks.series[i];
        let (left, right) = (x_position(axis, plot, start), x_position(axis, plot, end));
        let top = y(v);
        let attrs = [
            ("class", "mark bin"),
            ("x", &num(left + 0.5)),
            ("y", &num(top)),
            ("width", &num((right - left - 1.0).max(0.5))),
            ("height", &num((y(0.0) - top).max(0.0))),
            ("fill", color(s)),
            ("fill-opacity", if overlaid { "0.55" } else { "1" }),
            ("data-x", &marks.x_label[i]),
            ("data-y", &value_text(v)),
            ("data-series", &marks.series_names[s]),
        ];
        if tooltips {
            svg.with_tooltip("rect", &attrs, &tooltip(&marks.x_label[i], &marks.series_names[s], v));
        } else {
            svg.empty("rect", &attrs);
        }
    }
    svg.close();
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn draw_boxes(
    svg: &mut Svg,
    plot: Rect,
    axis: &XAxis,
    marks: &Marks,
    df: &DataFrame,
    outliers: &[Vec<f64>],
    rows: &[usize],
    y: &dyn Fn(f64) -> f64,
) -> Result<(), CellError> {
    let XAxis::Band(categories) = axis else { return Ok(()) };
    let get = |name: &str| -> Result<Vec<Option<f64>>, CellError> { numbers(df.column(name).map_err(polars)?) };
    let (low, q1, q3, high) = (get("low")?, get("q1")?, get("q3")?, get("high")?);
    let band = plot.w / categories.len().max(1) as f64;
    let n = marks.series_names.len().max(1) as f64;
    let inner = band * 0.7;
    let width = inner / n;
    svg.open("g", &[("class", "marks")]);
    for &i in rows {
        let (Some(x), Some(median), Some(low), Some(q1), Some(q3), Some(high)) =
            (marks.x[i], marks.y[i], low[i], q1[i], q3[i], high[i])
        else {
            continue;
        };
        let s = marks.series[i];
        let left = plot.x + x * band + (band - inner) / 2.0 + s as f64 * width + width * 0.1;
        let w = width * 0.8;
        let mid = num(left + w / 2.0);
        let label = &marks.x_label[i];
        svg.open(
            "g",
            &[
                ("class", "mark box"),
                ("data-x", label),
                ("data-series", &marks.series_names[s]),
                ("data-median", &value_text(median)),
            ],
        );
        svg.text(
            "title",
            &[],
            &format!(
                "{label}: median {}, quartiles {} to {}, whiskers {} to {}",
                value_text(median),
                value_text(q1),
                value_text(q3),
                value_text(low),
                value_text(high)
            ),
        );
        for (a, b) in [(low, q1), (q3, high)] {
            svg.empty(
                "line",
                &[
                    ("class", "whisker"),
                    ("x1", &mid),
                    ("x2", &mid),
                    ("y1", &num(y(a))),
                    ("y2", &num(y(b))),
                    ("stroke", "currentColor"),
                ],
            );
        }
        for v in [low, high] {
            svg.empty(
                "line",
                &[
                    ("class", "cap"),
                    ("x1", &num(left + w * 0.25)),
                    ("x2", &num(left + w * 0.75)),
                    ("y1", &num(y(v))),
                    ("y2", &num(y(v))),
                    ("stroke", "currentColor"),
                ],
            );
        }
        svg.empty(
            "rect",
            &[
                ("class", "iqr"),
                ("x", &num(left)),
                ("y", &num(y(q3))),
                ("width", &num(w)),
                ("height", &num((y(q1) - y(q3)).max(0.5))),
                ("fill", color(s)),
                ("fill-opacity", "0.8"),
                ("stroke", "currentColor"),
            ],
        );
        svg.empty(
            "line",
            &[
                ("class", "median"),
                ("x1", &num(left)),
                ("x2", &num(left + w)),
                ("y1", &num(y(median))),
                ("y2", &num(y(median))),
                ("stroke", "currentColor"),
                ("stroke-width", "2"),
            ],
        );
        for v in outliers.get(i).into_iter().flatten() {
            svg.empty(
                "circle",
                &[
                    ("class", "outlier"),
                    ("cx", &mid),
                    ("cy", &num(y(*v))),
                    ("r", "2.5"),
                    ("fill", "none"),
                    ("stroke", color(s)),
                ],
            );
        }
        svg.close();
    }
    svg.close();
    Ok(())
}

fn draw_legend(svg: &mut Svg, x: f64, y: f64, title: &str, series: &[String], kind: ChartKind) {
    svg.open("g", &[("class", "legend")]);
    svg.text(
        "text",
        &[("class", "legend-title"), ("x", &num(x)), ("y", &num(y + 10.0)), ("font-weight", "600")],
        &shorten(title, MAX_LABEL_CHARS),
    );
    for (i, name) in series.iter().enumerate() {
        let top = y + 20.0 + i as f64 * 18.0;
        svg.open("g", &[("class", "legend-entry"), ("data-series", name)]);
        if kind == ChartKind::Line {
            svg.empty(
                "line",
                &[
                    ("x1", &num(x)),
                    ("x2", &num(x + 14.0)),
                    ("y1", &num(top + 6.0)),
                    ("y2", &num(top + 6.0)),
                    ("stroke", color(i)),
                    ("stroke-width", "3"),
                ],
            );
        } else {
            svg.empty(
                "rect",
                &[("x", &num(x)), ("y", &num(top)), ("width", "12"), ("height", "12"), ("fill", color(i))],
            );
        }
        svg.text(
            "text",
            &[("x", &num(x + 20.0)), ("y", &num(top + 6.0)), ("dy", "0.32em")],
            &shorten(name, MAX_LABEL_CHARS),
        );
        svg.close();
    }
    svg.close();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_well() {
        assert_eq!(format_number(1_234_567.0, 0), "1,234,567");
        assert_eq!(format_number(-1_234.5, 1), "-1,234.5");
        assert_eq!(format_number(-0.001, 0), "0");
        assert_eq!(format_number(999.0, 0), "999");
        assert_eq!(plain_number(0.25), "0.25");
        assert_eq!(plain_number(12_000.0), "12,000");
        let (lo, hi, ticks) = value_ticks(3.0, 97.0, 5);
        assert_eq!((lo, hi), (0.0, 100.0));
        assert_eq!(ticks.labels, ["0", "20", "40", "60", "80", "100"]);
        let (_, _, ticks) = value_ticks(0.0, 0.35, 5);
        assert!(ticks.labels.contains(&"0.10".to_string()), "{:?}", ticks.labels);
    }

    #[test]
    fn dates_tick_as_dates() {
        let day = |d: i64| d as f64 * DAY_MS;
        // 2024-01-01 is day 19723.
        let ticks = inner_ticks(day(19_723), day(19_737), Some(DAY_MS), 6);
        assert!(ticks.labels.iter().all(|l| l.starts_with("2024-01-")), "{:?}", ticks.labels);
        let hours = inner_ticks(day(19_723), day(19_723) + 6.0 * 3_600_000.0, Some(0.0), 6);
        assert_eq!(hours.labels.first().map(String::as_str), Some("00:00"));
        // Dates never tick between days.
        let days = inner_ticks(day(19_723), day(19_725), Some(DAY_MS), 8);
        assert_eq!(days.labels, ["2024-01-01", "2024-01-02", "2024-01-03"]);
    }

    #[test]
    fn box_statistics() {
        let s = box_stats(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 100.0]).expect("stats");
        assert_eq!((s.q1, s.median, s.q3), (3.0, 5.0, 7.0));
        // IQR 4: the fences are -3 and 13; 100 is an outlier, 8 the top whisker.
        assert_eq!((s.low, s.high), (1.0, 8.0));
        assert_eq!(s.outliers, [100.0]);
        assert_eq!(box_stats(&[2.0]).map(|s| (s.q1, s.median, s.high)), Some((2.0, 2.0, 2.0)));
        assert!(box_stats(&[f64::NAN]).is_none());
    }
}
