//! Result rows: values decoded from Arrow IPC (nested ones kept as trees),
//! and the pages of a catalog table fetched from the engine as a result
//! table scrolls, kept in a small LRU cache.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet, VecDeque};
use std::io::Cursor;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef};
use arrow_cast::display::{ArrayFormatter, FormatOptions};
use arrow_ipc::reader::StreamReader;
use arrow_schema::DataType;
use leptos::prelude::*;
use riffle::CellError;
use riffle::protocol::{FromEngine, ToEngine};

use crate::client::EngineClient;

/// One value of a result, as the table shows and copies it.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    /// Text, dates, binaries: shown as is, quoted in JSON.
    Text(String),
    /// Numbers and booleans: right-aligned, bare in JSON.
    Number(String),
    Struct(Vec<(String, Value)>),
    List(Vec<Value>),
}

impl Value {
    pub fn is_nested(&self) -> bool {
        matches!(self, Value::Struct(_) | Value::List(_))
    }

    /// What a cell shows: the value, `null`, or a collapsed `{…3 fields}` / `[…5 items]`.
    pub fn summary(&self) -> String {
        match self {
            Value::Null => "null".into(),
            Value::Text(t) | Value::Number(t) => t.clone(),
            Value::Struct(fields) => format!("{{…{} {}}}", fields.len(), plural(fields.len(), "field", "fields")),
            Value::List(items) => format!("[…{} {}]", items.len(), plural(items.len(), "item", "items")),
        }
    }

    /// What Ctrl+C copies: scalars as shown, NULL as nothing, nested values as JSON.
    pub fn copy_text(&self) -> String {
        match self {
            Value::Null => String::new(),
            Value::Text(t) | Value::Number(t) => t.clone(),
            nested => nested.json(),
        }
    }

    /// The value as compact JSON.
    pub fn json(&self) -> String {
        let mut out = String::new();
        self.write_json(&mut out);
        out
    }

    fn write_json(&self, out: &mut String) {
        match self {
            Value::Null => out.push_str("null"),
            Value::Number(n) if is_json_number(n) => out.push_str(n),
            Value::Text(t) | Value::Number(t) => out.push_str(&json_string(t)),
            Value::Struct(fields) => {
                out.push('{');
                for (i, (name, value)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&json_string(name));
                    out.push(':');
                    value.write_json(out);
                }
                out.push('}');
            }
            Value::List(items) => {
                out.push('[');
                for (i, value) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    value.write_json(out);
                }
                out.push(']');
            }
        }
    }
}

fn plural(n: usize, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 { one } else { many }
}

fn json_string(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".into())
}

fn is_json_number(text: &str) -> bool {
    matches!(text, "true" | "false") || text.parse::<f64>().is_ok_and(f64::is_finite) && !text.starts_with('+')
}

pub type Row = Vec<Value>;

/// Decodes an Arrow IPC stream into rows of values.
pub fn decode(ipc: &[u8]) -> Result<Vec<Row>, String> {
    if ipc.is_empty() {
        return Ok(Vec::new());
    }
    let reader = StreamReader::try_new(Cursor::new(ipc), None).map_err(|e| e.to_string())?;
    let options = FormatOptions::default();
    let mut rows = Vec::new();
    for batch in reader {
        let batch = batch.map_err(|e| e.to_string())?;
        let columns: Vec<Column> = batch.columns().iter().map(Column::new).collect();
        let formatters: Vec<Option<ArrayFormatter<'_>>> = columns
            .iter()
            .map(|c| match c {
                Column::Leaf(array, _) => ArrayFormatter::try_new(array.as_ref(), &options).map(Some),
                Column::Nested(_) => Ok(None),
            })
            .collect::<Result<_, _>>()
            .map_err(|e| e.to_string())?;
        for row in 0..batch.num_rows() {
            let mut values = Vec::with_capacity(columns.len());
            for (column, formatter) in columns.iter().zip(&formatters) {
                values.push(match (column, formatter) {
                    (Column::Leaf(array, _), _) if array.is_null(row) => Value::Null,
                    (Column::Leaf(_, number), Some(f)) => leaf(f.value(row).to_string(), *number),
                    (Column::Leaf(array, _), None) | (Column::Nested(array), _) => {
                        value_at(array.as_ref(), row, &options)?
                    }
                });
            }
            rows.push(values);
        }
    }
    Ok(rows)
}

enum Column {
    /// A scalar column (made displayable) and whether it holds numbers.
    Leaf(ArrayRef, bool),
    Nested(ArrayRef),
}

impl Column {
    fn new(array: &ArrayRef) -> Column {
        if is_nested(array.data_type()) {
            Column::Nested(array.clone())
        } else {
            Column::Leaf(displayable(array.as_ref()).unwrap_or_else(|| array.clone()), is_number(array.data_type()))
        }
    }
}

fn leaf(text: String, number: bool) -> Value {
    if number { Value::Number(text) } else { Value::Text(text) }
}

fn is_nested(dtype: &DataType) -> bool {
    matches!(
        dtype,
        DataType::Struct(_)
            | DataType::List(_)
            | DataType::LargeList(_)
            | DataType::FixedSizeList(..)
            | DataType::ListView(_)
            | DataType::LargeListView(_)
            | DataType::Map(..)
    )
}

fn is_number(dtype: &DataType) -> bool {
    dtype.is_numeric() || matches!(dtype, DataType::Boolean)
}

/// The value at `row` of any array, nested ones as trees.
fn value_at(array: &dyn Array, row: usize, options: &FormatOptions<'_>) -> Result<Value, String> {
    if array.is_null(row) {
        return Ok(Value::Null);
    }
    let items = |values: ArrayRef| -> Result<Value, String> {
        (0..values.len()).map(|i| value_at(values.as_ref(), i, options)).collect::<Result<_, _>>().map(Value::List)
    };
    match array.data_type() {
        DataType::Struct(fields) => {
            let array = array.as_struct();
            fields
                .iter()
                .zip(array.columns())
                .map(|(f, c)| Ok((f.name().clone(), value_at(c.as_ref(), row, options)?)))
                .collect::<Result<_, String>>()
                .map(Value::Struct)
        }
        DataType::List(_) => items(array.as_list::<i32>().value(row)),
        DataType::LargeList(_) => items(array.as_list::<i64>().value(row)),
        DataType::FixedSizeList(..) => items(array.as_fixed_size_list().value(row)),
        DataType::Map(..) => {
            // Entries as {key: value} when the keys are text, else a list of entries.
            let entries = array.as_map().value(row);
            let keys = entries.column(0);
            let values = entries.column(1);
            let mut fields = Vec::with_capacity(entries.len());
            for i in 0..entries.len() {
                let key = value_at(keys.as_ref(), i, options)?;
                fields.push((key.copy_text(), value_at(values.as_ref(), i, options)?));
            }
            Ok(Value::Struct(fields))
        }
        dtype if is_nested(dtype) => Ok(Value::Text(format!("({dtype})"))),
        dtype => {
            let owned = displayable(array);
            let array = owned.as_deref().unwrap_or(array);
            let formatter = ArrayFormatter::try_new(array, options).map_err(|e| e.to_string())?;
            Ok(leaf(formatter.value(row).to_string(), is_number(dtype)))
        }
    }
}

/// The UI carries no time-zone database (chrono-tz would add to the bundle):
/// UTC timestamps are shown with a "+00:00" offset, which arrow can format.
fn displayable(array: &dyn Array) -> Option<ArrayRef> {
    use arrow_array::types::{
        TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType,
    };
    use arrow_schema::TimeUnit;
    let DataType::Timestamp(unit, Some(tz)) = array.data_type() else { return None };
    let tz = match tz.as_ref() {
        "UTC" | "Etc/UTC" | "Z" | "utc" => Some("+00:00"),
        t if t.starts_with('+') || t.starts_with('-') => return None,
        _ => None,
    };
    Some(match unit {
        TimeUnit::Second => Arc::new(array.as_primitive::<TimestampSecondType>().clone().with_timezone_opt(tz)),
        TimeUnit::Millisecond => {
            Arc::new(array.as_primitive::<TimestampMillisecondType>().clone().with_timezone_opt(tz))
        }
        TimeUnit::Microsecond => {
            Arc::new(array.as_primitive::<TimestampMicrosecondType>().clone().with_timezone_opt(tz))
        }
        TimeUnit::Nanosecond => Arc::new(array.as_primitive::<TimestampNanosecondType>().clone().with_timezone_opt(tz)),
    })
}

// ---- Requests to the engine about a catalog table -------------------------

/// The engine's answer to a result table's request.
pub enum Reply {
    Rows { offset: u64, total: u64, bytes: Vec<u8> },
    Exported { filename: String, mime: String, bytes: Vec<u8> },
    Schema(String),
    Failed(CellError),
}

type Waiter = Box<dyn FnOnce(Reply)>;

thread_local! {
    static WAITING: RefCell<HashMap<u64, Waiter>> = RefCell::new(HashMap::new());
    static LAST_REQUEST: Cell<u64> = const { Cell::new(0) };
}

/// Sends the request `make` builds (given a fresh request id) and calls
/// `then` with the answer.
pub fn ask(client: EngineClient, make: impl FnOnce(u64) -> ToEngine, then: impl FnOnce(Reply) + 'static) {
    let id = LAST_REQUEST.with(|n| {
        n.set(n.get() + 1);
        n.get()
    });
    WAITING.with(|w| w.borrow_mut().insert(id, Box::new(then)));
    client.request(&make(id));
}

/// Hands an answer (`Rows`, `Exported`, `SchemaText`, `RequestFailed`) to
/// whoever asked; answers nobody waits for are dropped.
pub fn deliver(message: FromEngine, bytes: Option<Vec<u8>>) {
    let (id, reply) = match message {
        FromEngine::Rows { request_id, offset, total, .. } => {
            (request_id, Reply::Rows { offset, total, bytes: bytes.unwrap_or_default() })
        }
        FromEngine::Exported { request_id, filename, mime, .. } => {
            (request_id, Reply::Exported { filename, mime, bytes: bytes.unwrap_or_default() })
        }
        FromEngine::SchemaText { request_id, text, .. } => (request_id, Reply::Schema(text)),
        FromEngine::RequestFailed { request_id, error } => (request_id, Reply::Failed(error)),
        _ => return,
    };
    if let Some(waiter) = WAITING.with(|w| w.borrow_mut().remove(&id)) {
        waiter(reply);
    }
}

// ---- Pages ----------------------------------------------------------------

/// Rows per page request.
pub const PAGE_ROWS: u64 = 500;
/// Pages kept besides the first rows (about 12,000 rows).
const CACHE_PAGES: usize = 24;
/// Page requests out at once; more wait until one is answered, and by then
/// the table may have scrolled past them.
const MAX_IN_FLIGHT: usize = 2;

/// The rows of one result: those that came with the run, and, for catalog
/// tables, pages fetched as the table scrolls. Copy: reactive handles.
#[derive(Clone, Copy)]
pub struct RowSource {
    table: StoredValue<String>,
    pub total: u64,
    head: StoredValue<Arc<Vec<Row>>>,
    /// Whether rows past `head` can be fetched (the table is in the catalog).
    pub pageable: bool,
    /// Least recently used first.
    pages: StoredValue<VecDeque<(u64, Arc<Vec<Row>>)>>,
    in_flight: StoredValue<HashSet<u64>>,
    /// Bumped whenever a page arrives or fails, so views re-read.
    pub version: RwSignal<u64>,
    /// The last failure to fetch rows, shown above the table.
    pub error: RwSignal<Option<CellError>>,
}

impl RowSource {
    pub fn new(table: String, total: u64, head: Vec<Row>, pageable: bool) -> RowSource {
        let pageable = pageable && (head.len() as u64) < total;
        RowSource {
            table: StoredValue::new(table),
            total: if pageable { total } else { head.len() as u64 },
            head: StoredValue::new(Arc::new(head)),
            pageable,
            pages: StoredValue::new(VecDeque::new()),
            in_flight: StoredValue::new(HashSet::new()),
            version: RwSignal::new(0),
            error: RwSignal::new(None),
        }
    }

    pub fn head_len(&self) -> u64 {
        self.head.with_value(|h| h.len() as u64)
    }

    /// Row `index`, if it is here (the first rows, or a cached page).
    pub fn row(&self, index: u64) -> Option<Row> {
        let head = self.head.get_value();
        if index < head.len() as u64 {
            return head.get(index as usize).cloned();
        }
        let page = index / PAGE_ROWS;
        let found = self.pages.try_update_value(|pages| {
            let at = pages.iter().position(|(p, _)| *p == page)?;
            let entry = pages.remove(at)?;
            let row = entry.1.get((index - page * PAGE_ROWS) as usize).cloned();
            pages.push_back(entry);
            row
        });
        found.flatten()
    }

    /// Asks the engine for the pages rows `start..end` need that are
    /// neither here nor on their way.
    pub fn ensure(&self, client: EngineClient, start: u64, end: u64) {
        if !self.pageable || start >= end {
            return;
        }
        let head = self.head_len();
        let first = start.max(head) / PAGE_ROWS;
        let last = (end.min(self.total).saturating_sub(1)) / PAGE_ROWS;
        if start.max(head) >= end.min(self.total) {
            return;
        }
        for page in first..=last {
            let cached = self.pages.with_value(|p| p.iter().any(|(n, _)| *n == page));
            let (waiting, busy) = self.in_flight.with_value(|f| (f.contains(&page), f.len() >= MAX_IN_FLIGHT));
            if cached || waiting {
                continue;
            }
            if busy {
                return;
            }
            self.in_flight.update_value(|f| {
                f.insert(page);
            });
            let this = *self;
            let table = self.table.get_value();
            ask(
                client,
                |request_id| ToEngine::Rows { request_id, table, offset: page * PAGE_ROWS, limit: PAGE_ROWS },
                move |reply| this.arrived(page, reply),
            );
        }
    }

    fn arrived(&self, page: u64, reply: Reply) {
        // The view may be gone (the cell ran again): then there is nothing to do.
        if self.in_flight.try_update_value(|f| f.remove(&page)).is_none() {
            return;
        }
        let error = match reply {
            Reply::Rows { offset, .. } if offset != page * PAGE_ROWS => {
                Some(CellError::new(format!("the engine sent rows from {offset}, not from {}", page * PAGE_ROWS)))
            }
            Reply::Rows { total, .. } if total != self.total => Some(
                CellError::new(format!(
                    "the table '{}' now has {total} rows, not {}",
                    self.table.get_value(),
                    self.total
                ))
                .hint("run its cell again to see the new rows"),
            ),
            Reply::Rows { bytes, .. } => match decode(&bytes) {
                Ok(rows) => {
                    self.pages.update_value(|pages| {
                        pages.push_back((page, Arc::new(rows)));
                        while pages.len() > CACHE_PAGES {
                            pages.pop_front();
                        }
                    });
                    None
                }
                Err(e) => Some(CellError::new(format!("could not read rows from the engine: {e}"))),
            },
            Reply::Failed(error) => Some(error),
            _ => None,
        };
        if let Some(error) = error {
            let _ = self.error.try_set(Some(error));
        }
        let _ = self.version.try_update(|v| *v += 1);
    }

    /// Whether a fetch of rows failed; then scrolling asks no more.
    pub fn failed(&self) -> bool {
        self.error.with_untracked(Option::is_some)
    }
}
