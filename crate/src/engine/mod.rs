//! The engine: a notebook session's catalog of named tables, and the two
//! steps of running a cell.
//!
//! 1. [`Session::prepare`] parses the cell and names the sources it needs
//!    (`read_csv('trips.csv')` becomes a [`SourceRequest`]).
//! 2. The host fetches those bytes, in the same order, and calls
//!    [`Session::execute`], which parses them, runs the SQL with Polars, and
//!    returns the result and, for `COPY` and `INSERT INTO kafka`, the bytes
//!    to write or produce ([`Effect`]). The host does that IO.

mod chart;
mod download;
mod export;
mod footer;
mod json;
mod kafka;
mod output;
mod repair;
mod schema_text;
mod source;
mod spark;
mod sql;
mod statement;
pub(crate) mod suggest;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};

use polars::prelude::*;
use polars::sql::{FunctionRegistry, SQLContext};

pub use chart::ChartOutcome;
pub use download::{Download, MAX_PAGE_ROWS, download, page_ipc};
pub use export::{Compression, ExportFormat, export};
pub use footer::{FOOTER_GUESS, Footer, ParquetFooter, parquet_footer};
pub use json::JsonStats;
pub use kafka::{KafkaBound, KafkaRange, Record as KafkaRecord};
pub use output::{ResultTable, print_schema, spark_type_name};
pub use source::{FileFormat, SourceData, SourceKind, SourceRequest};
pub use spark::{SparkCell, spark_cell, spark_result};
pub use statement::WriteMode;

use crate::CellError;
use crate::lang::Directives;
use statement::{CellStatement, CopySpec};

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
    output::ipc_stream(df, df.height())
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
    Query { steps: Vec<sql::Step>, json: Vec<sql::JsonCall>, then: Then },
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

/// UDFs registered for the query being run (`json_parse` calls).
#[derive(Default)]
struct Udfs(RwLock<HashMap<String, UserDefinedFunction>>);

struct Registry(Arc<Udfs>);

impl FunctionRegistry for Registry {
    fn register(&mut self, name: &str, fun: UserDefinedFunction) -> PolarsResult<()> {
        self.0.0.write().map_err(|_| polars_err!(ComputeError: "udf registry poisoned"))?.insert(name.into(), fun);
        Ok(())
    }
    fn get_udf(&self, name: &str) -> PolarsResult<Option<UserDefinedFunction>> {
        Ok(self.0.0.read().ok().and_then(|u| u.get(name).cloned()))
    }
    fn contains(&self, name: &str) -> bool {
        self.0.0.read().is_ok_and(|u| u.contains_key(name))
    }
}

/// One notebook's engine state: the named results of its cells.
pub struct Session {
    ctx: SQLContext,
    udfs: Arc<Udfs>,
    /// The named results; Polars' context may also hold aliases it registered itself.
    catalog: BTreeMap<String, DataFrame>,
    /// Which tables each table's cell read, for re-running dependents.
    dependencies: BTreeMap<String, Vec<String>>,
}

impl Default for Session {
    fn default() -> Self {
        Self::new()
    }
}

impl Session {
    pub fn new() -> Self {
        let udfs = Arc::new(Udfs::default());
        let ctx = SQLContext::new().with_function_registry(Arc::new(Registry(udfs.clone())));
        Session { ctx, udfs, catalog: BTreeMap::new(), dependencies: BTreeMap::new() }
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
                    return Err(self.unknown_table(&name));
                }
                return Ok(Prepared {
                    table,
                    sources: Vec::new(),
                    reads: vec![name.clone()],
                    action: Action::Describe(name),
                });
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
            action: Action::Query { steps: rewritten.steps, json: rewritten.json, then },
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
        let (steps, json, then) = match prepared.action {
            Action::Describe(name) => return self.describe(&name),
            Action::Query { steps, json, then } => (steps, json, then),
        };
        let mut notes = Vec::new();
        let result = self.run_query(&prepared.sources, inputs, &steps, &json, &mut notes);
        // Drop the sources, WITH tables, UDFs and any alias Polars registered
        // while planning; put back catalog tables a WITH table shadowed.
        for name in self.ctx.get_tables() {
            if !self.catalog.contains_key(&name) {
                self.ctx.unregister(&name);
            }
        }
        for step in &steps {
            if let Some(df) = step.name.as_ref().and_then(|n| self.catalog.get(n)) {
                self.ctx.register(step.name.as_deref().unwrap_or_default(), df.clone().lazy());
            }
        }
        if let Ok(mut udfs) = self.udfs.0.write() {
            udfs.clear();
        }
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
        steps: &[sql::Step],
        json: &[sql::JsonCall],
        notes: &mut Vec<String>,
    ) -> Result<DataFrame, CellError> {
        for (request, data) in sources.iter().zip(inputs) {
            let df = request.parse(data, notes)?;
            let df = repair::repair_if_needed(df).map_err(|e| sql::polars_error(&e))?;
            self.ctx.register(&request.id, df.lazy());
        }
        let mut result = DataFrame::empty();
        for (index, step) in steps.iter().enumerate() {
            for call in json.iter().filter(|c| c.step == index) {
                self.register_json(call, notes)?;
            }
            let df = self
                .ctx
                .execute(&step.sql)
                .and_then(LazyFrame::collect)
                .and_then(repair::repair_if_needed)
                .map_err(|e| self.explain(&e))?;
            match &step.name {
                Some(name) => self.ctx.register(name, df.lazy()),
                None => result = df,
            }
        }
        Ok(result)
    }

    /// Runs a `json_parse` probe, infers the union schema, and registers the
    /// function that decodes with it.
    fn register_json(&mut self, call: &sql::JsonCall, notes: &mut Vec<String>) -> Result<(), CellError> {
        let probe = self.ctx.execute(&call.probe).and_then(LazyFrame::collect).map_err(|e| self.explain(&e))?;
        let texts = probe
            .column(sql::PROBE_COLUMN)
            .and_then(|c| c.as_materialized_series().str().cloned())
            .map_err(|e| sql::polars_error(&e))?;
        let (schema, stats) = json::infer(&texts).map_err(|e| CellError::new(format!("json_parse: {e}")))?;
        if let Some(note) = stats.note(|row| format!("row {row}")) {
            notes.push(note);
        }
        if schema.is_empty() {
            notes.push(format!(
                "json_parse found no JSON object with fields in {} rows, so its column is empty (null)",
                stats.rows
            ));
        }
        let dtype = if schema.is_empty() { DataType::Null } else { json::struct_type(&schema) };
        let out = dtype.clone();
        let decode = move |columns: &mut [Column]| -> PolarsResult<Column> {
            let input = columns.first().ok_or_else(|| polars_err!(ComputeError: "json_parse needs an argument"))?;
            if schema.is_empty() {
                return Ok(Column::full_null(input.name().clone(), input.len(), &DataType::Null));
            }
            let text = input.cast(&DataType::String)?;
            let (series, _) = json::decode(text.str()?, &schema, input.name().clone())?;
            Ok(series.into_column())
        };
        let field = move |_: &Schema, fields: &[Field]| {
            Ok(Field::new(fields.first().map(|f| f.name().clone()).unwrap_or_default(), out.clone()))
        };
        let udf = UserDefinedFunction::new(call.function.as_str().into(), BaseColumnUdf::new(decode, field));
        self.udfs
            .0
            .write()
            .map_err(|_| CellError::new("internal: udf registry poisoned"))?
            .insert(call.function.clone(), udf);
        Ok(())
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
        self.ctx.register(name, df.clone().lazy());
        self.catalog.insert(name.to_string(), df);
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
        if let Some(name) = quoted_after(&e.message, "relation '") {
            if e.message.contains("not found") {
                let hint = self.unknown_table(&name).hint;
                return CellError { hint, ..e };
            }
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
    let ipc = output::ipc_stream(&frame, records)?;
    let table =
        df! { "topic" => [topic.as_str()], "records" => [records as u64] }.map_err(|e| sql::polars_error(&e))?;
    Ok(Outcome {
        table: summary(table, "produce", notes),
        effect: Some(Effect::Produce(ProducePlan { topic, records, ipc })),
    })
}
