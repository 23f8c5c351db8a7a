//! Result tables: decode the Arrow IPC preview and render it.

use std::io::Cursor;

use arrow_array::Array;
use arrow_cast::display::{ArrayFormatter, FormatOptions};
use arrow_ipc::reader::StreamReader;
use leptos::prelude::*;
use riffle::protocol::RunDone;

/// A decoded result preview: the engine's summary and the rows as text.
#[derive(Clone, Debug)]
pub struct Preview {
    pub done: RunDone,
    /// Row-major; `None` is SQL NULL.
    pub rows: Vec<Vec<Option<String>>>,
}

impl Preview {
    pub fn decode(done: RunDone, ipc: &[u8]) -> Result<Preview, String> {
        let reader = StreamReader::try_new(Cursor::new(ipc), None).map_err(|e| e.to_string())?;
        let options = FormatOptions::default();
        let mut rows = Vec::new();
        for batch in reader {
            let batch = batch.map_err(|e| e.to_string())?;
            let columns: Vec<_> = batch.columns().iter().map(displayable).collect();
            let formatters = columns
                .iter()
                .map(|c| ArrayFormatter::try_new(c.as_ref(), &options))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| e.to_string())?;
            for row in 0..batch.num_rows() {
                rows.push(
                    columns
                        .iter()
                        .zip(&formatters)
                        .map(|(c, f)| (!c.is_null(row)).then(|| f.value(row).to_string()))
                        .collect(),
                );
            }
        }
        Ok(Preview { done, rows })
    }
}

/// The UI carries no time-zone database (chrono-tz would add to the bundle):
/// UTC timestamps are shown with a "+00:00" offset, which arrow can format.
fn displayable(array: &arrow_array::ArrayRef) -> arrow_array::ArrayRef {
    use arrow_array::cast::AsArray;
    use arrow_array::types::{
        TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType,
    };
    use arrow_schema::{DataType, TimeUnit};
    use std::sync::Arc;
    let DataType::Timestamp(unit, Some(tz)) = array.data_type() else { return array.clone() };
    let tz = match tz.as_ref() {
        "UTC" | "Etc/UTC" | "Z" | "utc" => Some("+00:00"),
        t if t.starts_with('+') || t.starts_with('-') => return array.clone(),
        _ => None,
    };
    match unit {
        TimeUnit::Second => Arc::new(array.as_primitive::<TimestampSecondType>().clone().with_timezone_opt(tz)),
        TimeUnit::Millisecond => {
            Arc::new(array.as_primitive::<TimestampMillisecondType>().clone().with_timezone_opt(tz))
        }
        TimeUnit::Microsecond => {
            Arc::new(array.as_primitive::<TimestampMicrosecondType>().clone().with_timezone_opt(tz))
        }
        TimeUnit::Nanosecond => Arc::new(array.as_primitive::<TimestampNanosecondType>().clone().with_timezone_opt(tz)),
    }
}

pub fn render(preview: Preview) -> impl IntoView {
    let Preview { done, rows } = preview;
    let count = if done.shown < done.rows {
        format!("showing first {} of {} rows", thousands(done.shown), thousands(done.rows))
    } else {
        format!("{} {}", thousands(done.rows), if done.rows == 1 { "row" } else { "rows" })
    };
    let columns = done.schema.len();
    let numeric: Vec<bool> = done.schema.iter().map(|c| is_numeric(&c.dtype)).collect();
    let summary = format!("{count} × {columns} {} · {}", if columns == 1 { "column" } else { "columns" }, done.table);
    view! {
        <table class="result" data-table=done.table.clone()>
            <thead>
                <tr>
                    {done
                        .schema
                        .into_iter()
                        .map(|c| view! { <th>{c.name}<span class="dtype">{c.dtype}</span></th> })
                        .collect_view()}
                </tr>
            </thead>
            <tbody>
                {rows
                    .into_iter()
                    .map(|row| {
                        view! {
                            <tr>
                                {row
                                    .into_iter()
                                    .zip(numeric.iter().copied())
                                    .map(|(v, numeric)| {
                                        let class = if numeric { "num" } else { "text" };
                                        match v {
                                            Some(v) => view! { <td class=class>{v}</td> }.into_any(),
                                            None => view! { <td class=format!("{class} null")>"null"</td> }.into_any(),
                                        }
                                    })
                                    .collect_view()}
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
        <div class="row-count" data-rows=done.rows.to_string()>{summary}</div>
        {done.text.map(|text| view! { <pre class="schema-text">{text}</pre> })}
        {(!done.notes.is_empty())
            .then(|| {
                view! {
                    <ul class="notes">
                        {done.notes.into_iter().map(|n| view! { <li>{n}</li> }).collect_view()}
                    </ul>
                }
            })}
    }
}

/// Numbers align right, everything else left.
fn is_numeric(dtype: &str) -> bool {
    ["tinyint", "smallint", "int", "bigint", "hugeint", "float", "double", "decimal"]
        .iter()
        .any(|t| dtype == *t || dtype.starts_with(&format!("{t} ")) || dtype.starts_with(&format!("{t}(")))
}

/// 1234567 → "1,234,567".
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}
