//! The engine: a notebook session's catalog of named tables, and the two
//! steps of running a cell.
//!
//! 1. [`Session::prepare`] parses the cell and names the sources it needs
//!    (`read_csv('trips.csv')` becomes a [`SourceRequest`]).
//! 2. The host fetches those bytes, in the same order, and calls
//!    [`Session::execute`], which parses them, runs the SQL (Riffle's own
//!    Spark SQL planner over Polars' lazy frames, [`sql`]), and
//!    returns the result and, for `COPY` and `INSERT INTO kafka`, the bytes
//!    to write or produce ([`Effect`]). The host does that IO.

mod chart;
mod csv;
mod download;
mod export;
mod footer;
mod ipc;
mod json;
mod json_read;
mod kafka;
mod output;
mod parquet_read;
mod repair;
mod schema_text;
mod source;
mod spark;
mod sql;
mod statement;
pub(crate) mod suggest;

use std::collections::BTreeMap;

use polars::prelude::*;

pub use chart::ChartOutcome;
pub use download::{Download, MAX_PAGE_ROWS, download, page_ipc};
pub use export::{Compression, ExportFormat, export};
pub use footer::{FOOTER_GUESS, Footer, ParquetFooter, parquet_footer};
pub use json::JsonStats;
pub use kafka::{KafkaBound, KafkaRange, Record as KafkaRecord};
pub use output::{ResultTable, map_entry, print_schema, spark_type_name};
pub use source::{FileFormat, SourceData, SourceKind, SourceRequest};
pub use spark::{SparkCell, spark_cell, spark_result};
pub use statement::WriteMode;

use crate::CellError;
use crate::lang::Directives;
use statement::{ANSI_KEY, CellStatement, CopySpec, Setting};

/// The columns of a Kafka read (`key`, `value`, `topic`, ...).
pub fn kafka_schema() -> Schema {
    kafka::schema()
}

/// Kafka records as a frame with Kafka's columns (fixtures, tests).
pub fn kafka_frame(records: &[KafkaRecord]) -> Result<DataFrame, CellError> {
    kafka::frame(records).map_err(|e| sql::polars_error(&e))
}

/// A frame as an Arrow IPC stream, the way the gateway sends Kafka ranges.
pub fn ipc_stream(df: &DataFrame) -> Result<Vec<u8>, CellError> {
    ipc::write_stream(df, df.height())
}

/// A cell that has been parsed and is waiting for its sources' bytes.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The table the result will be registered as.
    pub table: String,
    /// Sources to fetch, in order.
    pub sources: Vec<SourceRequest>,
    /// Tables of the catalog that the cell reads.
    pub reads: Vec<String>,
    action: Action,
}

#[derive(Debug, Clone)]
enum Action {
    Describe(String),
    Set(Setting),
    Query { query: Box<sqlparser::ast::Query>, then: Then },
}

#[derive(Debug, Clone)]
enum Then {
    Register,
    Write(CopySpec),
    Produce(String),
}

/// What a cell asks the host to do after it ran.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Write(WritePlan),
    Produce(ProducePlan),
}

/// `COPY ... TO`: part files for a Spark-style output directory. The host
/// stages them under `_temporary/`, moves them into place and writes `_SUCCESS`.
#[derive(Debug, Clone, PartialEq)]
pub struct WritePlan {
    pub path: String,
    pub mode: WriteMode,
    pub format: ExportFormat,
    pub compression: Compression,
    /// The bytes of each part file, in order.
    pub parts: Vec<Vec<u8>>,
    pub rows: usize,
}

impl WritePlan {
    /// Spark's part file name: `part-00000-<write id>-c000.snappy.parquet`.
    pub fn part_name(&self, index: usize, write_id: &str) -> String {
        let compression = match (self.format, self.compression.infix()) {
            (ExportFormat::Parquet, Some(c)) => format!(".{c}"),
            _ => String::new(),
        };
        format!("part-{index:05}-{write_id}-c000{compression}.{}", self.format.extension())
    }
}

/// `INSERT INTO kafka('topic') ...`: records as an Arrow IPC stream with
/// `key` and `value` (binary) and, when the query has them, `partition`.
#[derive(Debug, Clone, PartialEq)]
pub struct ProducePlan {
    pub topic: String,
    pub records: usize,
    pub ipc: Vec<u8>,
}

/// The result of running a cell.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// What the cell shows. For queries it is also in the catalog.
    pub table: ResultTable,
    pub effect: Option<Effect>,
}

/// One notebook's engine state: the named results of its cells.
pub struct Session {
    /// The named results.
    catalog: BTreeMap<String, DataFrame>,
    /// `current_timestamp()` for the next cell, microseconds since the epoch
    /// (the host sets it; the engine reads no clock).
    now_micros: i64,
    /// Which tables each table's cell read, for re-running dependents.
    dependencies: BTreeMap<String, Vec<String>>,
    /// `spark.sql.ansi.enabled` for the cells run next (`SET` changes it).
    ansi: bool,
}

impl Default for Session {
    fn default() -> Self {
        Self::new()
    }
}

impl Session {
    pub fn new() -> Self {
        Session { catalog: BTreeMap::new(), now_micros: native_now(), dependencies: BTreeMap::new(), ansi: true }
    }

    /// Sets what `current_timestamp()` and `current_date()` return for the
    /// cells run next (microseconds since the epoch, UTC).
    pub fn set_now(&mut self, micros: i64) {
        self.now_micros = micros;
    }

    /// `spark.sql.ansi.enabled`: true (Spark's default) unless a cell ran
    /// `SET spark.sql.ansi.enabled = false`.
    pub fn ansi_enabled(&self) -> bool {
        self.ansi
    }

    /// The names of the tables in the catalog, sorted.
    pub fn tables(&self) -> Vec<String> {
        self.catalog.keys().cloned().collect()
    }

    /// The catalog's tables with their columns, for the editor's autocomplete.
    pub fn catalog_info(&self) -> Vec<crate::protocol::TableInfo> {
        self.catalog
            .iter()
            .map(|(name, df)| crate::protocol::TableInfo {
                name: name.clone(),
                columns: output::schema_of(df),
                rows: df.height() as u64,
            })
            .collect()
    }

    /// A table of the catalog.
    pub fn table(&self, name: &str) -> Option<&DataFrame> {
        self.catalog.get(name)
    }

    /// The tables that the cell which made `table` read.
    pub fn dependencies(&self, table: &str) -> &[String] {
        self.dependencies.get(table).map(Vec::as_slice).unwrap_or_default()
    }

    /// The tables whose cells read `table`, directly or through others.
    pub fn dependents(&self, table: &str) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let mut frontier = vec![table.to_string()];
        while let Some(t) = frontier.pop() {
            for (name, reads) in &self.dependencies {
                if reads.contains(&t) && !out.contains(name) && name != table {
                    out.push(name.clone());
                    frontier.push(name.clone());
                }
            }
        }
        out.sort();
        out
    }

    /// Parses a cell and names the sources it needs.
    pub fn prepare(&self, source: &str, default_name: &str) -> Result<Prepared, CellError> {
        let table = Directives::parse(source).name.unwrap_or_else(|| default_name.to_string());
        let (query, then) = match statement::classify(source)? {
            CellStatement::Describe(name) => {
                if !self.catalog.contains_key(&name) {
                    return Err(self.unknown_table(&name).at(place_of_word(source, &name)));
                }
                return Ok(Prepared {
                    table,
                    sources: Vec::new(),
                    reads: vec![name.clone()],
                    action: Action::Describe(name),
                });
            }
            CellStatement::Set(setting) => {
                return Ok(Prepared { table, sources: Vec::new(), reads: Vec::new(), action: Action::Set(setting) });
            }
            CellStatement::Query(q) => (q, Then::Register),
            CellStatement::Copy(spec) => (spec.query.clone(), Then::Write(spec)),
            CellStatement::InsertKafka { topic, query } => (query, Then::Produce(topic)),
        };
        let rewritten = sql::rewrite(&query)?;
        let reads = rewritten.relations.into_iter().filter(|r| self.catalog.contains_key(r)).collect();
        Ok(Prepared {
            table,
            sources: rewritten.sources,
            reads,
            action: Action::Query { query: rewritten.query, then },
        })
    }

    /// Runs a prepared cell with its sources' data (in the order of
    /// `prepared.sources`), registers a query's result under the cell's name,
    /// and returns what the cell shows and asks for.
    pub fn execute(&mut self, prepared: Prepared, inputs: Vec<SourceData>) -> Result<Outcome, CellError> {
        if inputs.len() != prepared.sources.len() {
            return Err(CellError::new(format!(
                "internal: the cell needs {} source(s) but {} were supplied",
                prepared.sources.len(),
                inputs.len()
            )));
        }
        let (query, then) = match prepared.action {
            Action::Describe(name) => return self.describe(&name),
            Action::Set(setting) => return self.set(&prepared.table, setting),
            Action::Query { query, then } => (query, then),
        };
        let mut notes = Vec::new();
        let result = self.run_query(&prepared.sources, inputs, &query, &mut notes);
        let df = result?;
        match then {
            Then::Register => {
                self.register(&prepared.table, df.clone());
                self.dependencies.insert(prepared.table.clone(), prepared.reads);
                Ok(Outcome { table: ResultTable { notes, ..ResultTable::new(prepared.table, df) }, effect: None })
            }
            Then::Write(spec) => write_plan(spec, &df, notes),
            Then::Produce(topic) => produce_plan(topic, &df, notes),
        }
    }

    fn run_query(
        &mut self,
        sources: &[SourceRequest],
        inputs: Vec<SourceData>,
        query: &sqlparser::ast::Query,
        notes: &mut Vec<String>,
    ) -> Result<DataFrame, CellError> {
        let mut tables = self.catalog.clone();
        for (request, data) in sources.iter().zip(inputs) {
            let df = request.parse(data, notes)?;
            let df = repair::repair_if_needed(df).map_err(|e| sql::polars_error(&e))?;
            tables.insert(request.id.clone(), df);
        }
        let scope = sql::AnsiScope::enter(self.ansi);
        let df = sql::run(query, &tables, sql::Cx { now_micros: self.now_micros }, notes)?;
        notes.extend(scope.notes());
        repair::repair_if_needed(df).map_err(|e| self.explain(&e))
    }

    /// Prepares and executes a cell that reads no sources; returns its table.
    pub fn run(&mut self, source: &str, default_name: &str) -> Result<ResultTable, CellError> {
        let prepared = self.prepare(source, default_name)?;
        self.execute(prepared, Vec::new()).map(|o| o.table)
    }

    /// Registers a result computed elsewhere (on Spark), which read no table
    /// of this catalog.
    pub fn register_external(&mut self, name: &str, df: DataFrame) {
        self.register(name, df);
        self.dependencies.insert(name.to_string(), Vec::new());
    }

    /// Registers a frame under a name, as a cell result would be.
    pub fn register(&mut self, name: &str, df: DataFrame) {
        self.catalog.insert(name.to_string(), df);
    }

    /// `SET spark.sql.ansi.enabled [= value]`: Spark's `key`/`value` row,
    /// registered like a query's result so that re-running the notebook's
    /// cells (after an engine restart) sets it again.
    fn set(&mut self, table: &str, setting: Setting) -> Result<Outcome, CellError> {
        if let Setting::Ansi(Some(ansi)) = setting {
            self.ansi = ansi;
        }
        let value = self.ansi.to_string();
        let df = df! { "key" => [ANSI_KEY], "value" => [value.as_str()] }.map_err(|e| sql::polars_error(&e))?;
        let mut result = ResultTable::new(table.to_string(), df.clone());
        if matches!(setting, Setting::Ansi(Some(false))) {
            result.notes.push(format!(
                "{ANSI_KEY} is false for the cells run next: a CAST that does not convert gives NULL (counted in the \
                 cell's notes) and narrowing integers wrap, as on Spark; what the browser engine cannot answer as \
                 Spark does with ANSI off fails with a message"
            ));
        }
        self.register(table, df);
        self.dependencies.insert(table.to_string(), Vec::new());
        Ok(Outcome { table: result, effect: None })
    }

    fn describe(&self, name: &str) -> Result<Outcome, CellError> {
        let df = self.catalog.get(name).ok_or_else(|| self.unknown_table(name))?;
        let schema = df.schema();
        let names: Vec<&str> = schema.iter_names().map(|n| n.as_str()).collect();
        let types: Vec<String> = schema.iter_values().map(spark_type_name).collect();
        let table = df! { "col_name" => names, "data_type" => types }.map_err(|e| sql::polars_error(&e))?;
        let mut result = ResultTable::new(format!("describe_{name}"), table);
        result.text = Some(print_schema(schema));
        result.notes.push(format!("{name}: {} rows × {} columns", df.height(), df.width()));
        Ok(Outcome { table: result, effect: None })
    }

    fn unknown_table(&self, name: &str) -> CellError {
        let tables = self.tables();
        let error = CellError::new(format!("there is no table named {name}"));
        if tables.is_empty() {
            return error.hint(
                "no tables yet: name a cell's result with `-- name: t` on its first line, or read a file with read_csv('path')",
            );
        }
        match suggest::nearest(name, &tables) {
            Some(near) => error.hint(format!("did you mean {near}? Tables: {}", tables.join(", "))),
            None => error.hint(format!("tables in this notebook: {}", tables.join(", "))),
        }
    }

    /// Words a Polars error for the cell, with what the user can do.
    fn explain(&self, error: &PolarsError) -> CellError {
        let e = sql::polars_error(error);
        if let Some(name) = quoted_after(&e.message, "relation '")
            && e.message.contains("not found")
        {
            let hint = self.unknown_table(&name).hint;
            return CellError { hint, ..e };
        }
        if let Some(column) = quoted_after(&e.message, "unable to find column \"") {
            let known: Vec<String> = self.known_columns().into_iter().filter(|c| *c != column).collect();
            if let Some(near) = suggest::nearest(&column, &known) {
                return e.hint(format!("did you mean {near}?"));
            }
        }
        e
    }

    fn known_columns(&self) -> Vec<String> {
        let mut out: Vec<String> =
            self.catalog.values().flat_map(|df| df.get_column_names_str().into_iter().map(String::from)).collect();
        out.extend(kafka::schema().iter_names().map(|n| n.to_string()));
        out.sort();
        out.dedup();
        out
    }
}

/// Where `word` first appears in `source`, 1-based.
fn place_of_word(source: &str, word: &str) -> Option<crate::Location> {
    let at = source.find(word)?;
    let before = &source[..at];
    let line = before.matches('\n').count() + 1;
    let column = at - before.rfind('\n').map(|n| n + 1).unwrap_or(0) + 1;
    Some(crate::Location { line: line as u32, column: column as u32 })
}

/// The clock natively; in the browser the host sets it ([`Session::set_now`]).
fn native_now() -> i64 {
    #[cfg(not(target_arch = "wasm32"))]
    {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
            .unwrap_or(0)
    }
    #[cfg(target_arch = "wasm32")]
    {
        0
    }
}

/// The text between `prefix` and the next quote of the same kind.
fn quoted_after(message: &str, prefix: &str) -> Option<String> {
    let start = message.find(prefix)? + prefix.len();
    let quote = prefix.chars().last()?;
    let end = message[start..].find(quote)?;
    Some(message[start..start + end].to_string())
}

fn summary(df: DataFrame, name: &str, notes: Vec<String>) -> ResultTable {
    ResultTable { notes, ..ResultTable::new(name.to_string(), df) }
}

fn write_plan(spec: CopySpec, df: &DataFrame, notes: Vec<String>) -> Result<Outcome, CellError> {
    let rows = df.height();
    let n = spec.partitions.min(rows.max(1));
    let per = rows.div_ceil(n).max(1);
    let parts = (0..n)
        .map(|i| export(&df.slice((i * per) as i64, per), spec.format, spec.compression))
        .collect::<Result<Vec<_>, _>>()?;
    let bytes: usize = parts.iter().map(Vec::len).sum();
    let plan =
        WritePlan { path: spec.path, mode: spec.mode, format: spec.format, compression: spec.compression, parts, rows };
    let table = df! {
        "path" => [plan.path.as_str()],
        "format" => [plan.format.extension()],
        "mode" => [format!("{:?}", plan.mode).to_lowercase()],
        "files" => [plan.parts.len() as u64],
        "rows" => [rows as u64],
        "bytes" => [bytes as u64],
    }
    .map_err(|e| sql::polars_error(&e))?;
    Ok(Outcome { table: summary(table, "copy", notes), effect: Some(Effect::Write(plan)) })
}

fn produce_plan(topic: String, df: &DataFrame, notes: Vec<String>) -> Result<Outcome, CellError> {
    let bytes = |name: &str, required: bool| -> Result<Option<Column>, CellError> {
        let Ok(column) = df.column(name) else {
            return if required {
                Err(CellError::new(format!(
                    "INSERT INTO kafka('{topic}') needs a column named value; the query gives {}",
                    df.get_column_names_str().join(", ")
                ))
                .hint("write SELECT ... AS value (and optionally AS key, AS partition)"))
            } else {
                Ok(None)
            };
        };
        let column = match column.dtype() {
            DataType::Binary => Ok(column.clone()),
            DataType::String => column.cast(&DataType::Binary),
            DataType::Struct(_) | DataType::List(_) => {
                return Err(CellError::new(format!(
                    "{name} is a {}; Kafka messages are text or bytes",
                    spark_type_name(column.dtype())
                ))
                .hint("build the message as text, e.g. with CONCAT or a JSON string column"));
            }
            _ => column.cast(&DataType::String).and_then(|c| c.cast(&DataType::Binary)),
        }
        .map_err(|e| sql::polars_error(&e))?;
        Ok(Some(column))
    };
    let mut columns = Vec::new();
    let value = bytes("value", true)?;
    let key = bytes("key", false)?;
    let key = key.unwrap_or_else(|| Column::full_null("key".into(), df.height(), &DataType::Binary));
    columns.push(key.with_name("key".into()));
    columns.extend(value);
    if let Ok(partition) = df.column("partition") {
        columns.push(partition.cast(&DataType::Int32).map_err(|e| sql::polars_error(&e))?);
    }
    let records = df.height();
    let frame = DataFrame::new(columns).map_err(|e| sql::polars_error(&e))?;
    let ipc = ipc::write_stream(&frame, records)?;
    let table =
        df! { "topic" => [topic.as_str()], "records" => [records as u64] }.map_err(|e| sql::polars_error(&e))?;
    Ok(Outcome {
        table: summary(table, "produce", notes),
        effect: Some(Effect::Produce(ProducePlan { topic, records, ipc })),
    })
}
