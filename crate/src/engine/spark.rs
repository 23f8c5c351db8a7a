//! A cell marked `-- engine: spark`, made ready for Spark Connect.
//!
//! The cell is Spark SQL, passed on as typed, except that Riffle's table
//! functions become temporary views, so the same cell reads the same data in
//! both engines: `read_parquet('hdfs:///x')` → a `parquet` view over the
//! path, `kafka('events', from => 'earliest')` → a `kafka` view with Spark's
//! options (`subscribe`, `startingOffsets`, ...). Statements are split at
//! top-level semicolons; the last one's rows are the cell's result.

use std::collections::BTreeMap;

use polars::prelude::DataFrame;
use sqlparser::ast::{SetExpr, Statement, TableFactor};
use sqlparser::keywords::Keyword;
use sqlparser::tokenizer::{Token, TokenWithSpan};

use super::kafka::{KafkaBound, KafkaRange};
use super::output::spark_type_name;
use super::source::{FileFormat, SourceKind, SourceRequest};
use super::statement::{byte_offset, quote_column_keywords, tokenize};
use super::{repair, sql};
use crate::lang::{Directives, Engine};
use crate::spark::{DEFAULT_MAX_ROWS, MAX_ROWS_LIMIT, RunOnSpark, SparkColumn, SparkSource};
use crate::{CellError, Location};

/// A Spark cell: the request for the gateway and the table its result becomes.
#[derive(Debug, Clone, PartialEq)]
pub struct SparkCell {
    pub table: String,
    pub request: RunOnSpark,
    /// The cell line each statement starts on (1-based), to place Spark's errors.
    pub first_lines: Vec<u32>,
    /// The directories the cell's `COPY ... TO` statements write, in order.
    pub writes: Vec<String>,
    /// Whether the last statement is a `COPY ... TO` (then the cell shows
    /// what it wrote, and registers no table).
    pub ends_with_write: bool,
}

impl SparkCell {
    /// Spark's `(line L, pos P)` in statement `statement` as a place in the cell.
    pub fn locate(&self, statement: usize, message: &str) -> Option<Location> {
        let (line, pos) = crate::spark::spark_location(message)?;
        let first = *self.first_lines.get(statement)?;
        Some(Location { line: first + line.max(1) - 1, column: pos + 1 })
    }
}

const FUNCTIONS: [&str; 4] = ["read_parquet", "read_json", "read_csv", "kafka"];

/// Translates a cell for Spark. `tag` makes its views' names unique to the
/// run (Spark's temporary views live as long as the gateway's session).
pub fn spark_cell(source: &str, default_name: &str, tag: &str) -> Result<SparkCell, CellError> {
    let directives = Directives::parse(source);
    if let Some((line, message)) = directives.problems.first() {
        return Err(CellError::new(message.clone()).at(Some(Location { line: *line, column: 1 })));
    }
    debug_assert_eq!(directives.engine, Engine::Spark);
    let max_rows = directives.max_rows.unwrap_or(DEFAULT_MAX_ROWS);
    if max_rows > MAX_ROWS_LIMIT {
        return Err(CellError::new(format!(
            "-- max_rows: {max_rows} is more than the {MAX_ROWS_LIMIT} rows a result may bring into the browser"
        ))
        .hint("aggregate on Spark, or write the result with INSERT OVERWRITE DIRECTORY and read it in parts"));
    }
    let tokens = tokenize(source)?;
    let mut statements = Vec::new();
    let mut sources = Vec::new();
    let mut first_lines = Vec::new();
    let mut writes = Vec::new();
    let mut ends_with_write = false;
    let mut start = 0;
    let mut piece: Vec<&TokenWithSpan> = Vec::new();
    for token in tokens.iter().chain(std::iter::once(&TokenWithSpan::wrap(Token::EOF))) {
        let end = match token.token {
            Token::SemiColon => byte_offset(source, token.span.start.line, token.span.start.column),
            Token::EOF => source.len(),
            _ => {
                piece.push(token);
                continue;
            }
        };
        if let Some((text, wrote)) = statement(source, start, end, &piece, tag, &mut sources)? {
            let skipped = source[start..end].len() - source[start..end].trim_start().len();
            first_lines.push(source[..start + skipped].matches('\n').count() as u32 + 1);
            statements.push(text);
            ends_with_write = wrote.is_some();
            writes.extend(wrote);
        }
        piece.clear();
        start = (end + 1).min(source.len());
    }
    if statements.is_empty() {
        return Err(
            CellError::new("the cell is empty").hint("write Spark SQL after -- engine: spark, such as SELECT 1")
        );
    }
    let table = directives.name.unwrap_or_else(|| default_name.to_string());
    Ok(SparkCell {
        table,
        request: RunOnSpark { sources, statements, max_rows, count_total: true, ansi: None, session: None },
        first_lines,
        writes,
        ends_with_write,
    })
}

/// One statement's text with its table functions replaced by views (and a
/// `COPY ... TO` made Spark's write, with the path it writes); none when it
/// holds only comments.
fn statement(
    source: &str,
    start: usize,
    end: usize,
    tokens: &[&TokenWithSpan],
    tag: &str,
    sources: &mut Vec<SparkSource>,
) -> Result<Option<(String, Option<String>)>, CellError> {
    let significant: Vec<&TokenWithSpan> =
        tokens.iter().copied().filter(|t| !matches!(t.token, Token::Whitespace(_) | Token::EOF)).collect();
    let Some(first) = significant.first() else { return Ok(None) };
    let at = |t: &TokenWithSpan| Some(Location { line: t.span.start.line as u32, column: t.span.start.column as u32 });
    let keyword = |t: &TokenWithSpan| match &t.token {
        Token::Word(w) if w.quote_style.is_none() => Some(w.keyword),
        _ => None,
    };
    let is_copy = keyword(first) == Some(Keyword::COPY);
    let offset = |t: &TokenWithSpan| byte_offset(source, t.span.start.line, t.span.start.column);
    let end_of = |t: &TokenWithSpan| byte_offset(source, t.span.end.line, t.span.end.column);
    let mut replacements: Vec<(usize, usize, String)> = Vec::new();
    let mut i = 0;
    while i < significant.len() {
        let t = significant[i];
        let is_function = matches!(&t.token, Token::Word(w) if w.quote_style.is_none()
            && FUNCTIONS.contains(&w.value.to_ascii_lowercase().as_str()));
        let opens = matches!(significant.get(i + 1).map(|n| &n.token), Some(Token::LParen));
        let after_from = i > 0
            && (significant[i - 1].token == Token::Comma
                || matches!(keyword(significant[i - 1]), Some(Keyword::FROM | Keyword::JOIN | Keyword::INTO)));
        let is_call = is_function && opens && after_from;
        if !is_call {
            i += 1;
            continue;
        }
        if keyword(significant[i - 1]) == Some(Keyword::INTO) {
            return Err(CellError::new(
                "INSERT INTO kafka(...) is Riffle's; on Spark, write to Kafka with the kafka data source",
            )
            .at(at(t))
            .hint(
                "run this cell in the browser (remove -- engine: spark), or on Spark: INSERT INTO a view USING kafka",
            ));
        }
        let mut depth = 0;
        let mut close = None;
        for (j, u) in significant.iter().enumerate().skip(i + 1) {
            match u.token {
                Token::LParen => depth += 1,
                Token::RParen => {
                    depth -= 1;
                    if depth == 0 {
                        close = Some(j);
                        break;
                    }
                }
                _ => {}
            }
        }
        let Some(close) = close else {
            return Err(CellError::new("this table function's ( is never closed").at(at(t)));
        };
        let (from, to) = (offset(t), end_of(significant[close]));
        let request = parse_call(&source[from..to], sources.len()).map_err(|e| match e.location {
            Some(_) => CellError { location: at(t), ..e },
            None => e.at(at(t)),
        })?;
        let view = format!("riffle_{tag}_{}", sources.len());
        sources.push(spark_source(&request, &view).map_err(|e| e.at(at(t)))?);
        replacements.push((from, to, view));
        i = close + 1;
    }
    let mut text = source[start..end].to_string();
    for (from, to, view) in replacements.into_iter().rev() {
        text.replace_range(from - start..to - start, &view);
    }
    if is_copy {
        return copy_on_spark(&text).map(|(sql, path)| Some((sql, Some(path)))).map_err(|e| {
            // Positions in the statement's text, as lines of the cell.
            let line = source[..start].matches('\n').count() as u32;
            match e.location {
                Some(l) => CellError { location: Some(Location { line: l.line + line, ..l }), ..e },
                None => e.at(at(first)),
            }
        });
    }
    Ok(Some((text.trim().to_string(), None)))
}

/// `COPY (query) TO 'hdfs:///x' (FORMAT parquet, MODE overwrite, PARTITIONS 4)`
/// as Spark's `INSERT OVERWRITE DIRECTORY 'hdfs:///x' USING parquet ...`:
/// Spark's committer writes the part files and `_SUCCESS`.
fn copy_on_spark(text: &str) -> Result<(String, String), CellError> {
    use super::export::{Compression, ExportFormat};
    use super::statement::{CellStatement, WriteMode, classify};
    let CellStatement::Copy(spec) = classify(text)? else {
        return Err(CellError::new("internal: a COPY statement that is not one"));
    };
    if !spec.path.to_ascii_lowercase().starts_with("hdfs:") {
        return Err(CellError::new(format!(
            "on Spark, COPY writes to hdfs:// paths; '{}' is in the gateway's data directory, which Spark may not see",
            spec.path
        ))
        .hint("write to hdfs:///..., or run the cell in the browser (remove -- engine: spark)"));
    }
    if spec.mode != WriteMode::Overwrite {
        return Err(CellError::new(
            "on Spark, COPY writes with INSERT OVERWRITE DIRECTORY, which replaces what the directory holds",
        )
        .hint("say so with MODE overwrite, or run the cell in the browser for MODE error or append"));
    }
    let (format, mut options) = match spec.format {
        ExportFormat::Parquet => ("parquet", Vec::new()),
        ExportFormat::Csv => ("csv", vec![("header", "true")]),
        ExportFormat::Json => ("json", Vec::new()),
        ExportFormat::Arrow => {
            return Err(CellError::new("on Spark, COPY writes parquet, csv or json, not arrow"));
        }
    };
    if spec.format == ExportFormat::Parquet {
        options.push((
            "compression",
            match spec.compression {
                Compression::Snappy => "snappy",
                Compression::Zstd => "zstd",
                Compression::None => "none",
            },
        ));
    }
    let options = if options.is_empty() {
        String::new()
    } else {
        format!(" OPTIONS ({})", options.iter().map(|(k, v)| format!("'{k}' '{v}'")).collect::<Vec<_>>().join(", "))
    };
    let path = spec.path.replace('\\', "\\\\").replace('\'', "\\'");
    let sql = format!(
        "INSERT OVERWRITE DIRECTORY '{path}' USING {format}{options}\nSELECT /*+ REPARTITION({}) */ * FROM (\n{}\n) AS riffle_copy",
        spec.partitions.max(1),
        spec.query.trim()
    );
    Ok((sql, spec.path))
}

/// `read_parquet('x', a => 1)` as the browser engine reads it.
fn parse_call(call: &str, index: usize) -> Result<SourceRequest, CellError> {
    let query = format!("SELECT * FROM {call}");
    let tokens = tokenize(&query)?;
    let query = quote_column_keywords(&query, &tokens).unwrap_or(query);
    let mut statements = sql::parse(&query)?;
    let factor = match statements.pop() {
        Some(Statement::Query(q)) => match *q.body {
            SetExpr::Select(select) => select.from.into_iter().next().map(|f| f.relation),
            _ => None,
        },
        _ => None,
    };
    match factor {
        Some(TableFactor::Table { name, args: Some(args), .. }) => {
            sql::source_request(&name.to_string(), &args.args, index)
        }
        _ => Err(CellError::new(format!("could not read the table function {call}"))),
    }
}

fn spark_source(request: &SourceRequest, view: &str) -> Result<SparkSource, CellError> {
    let mut options = BTreeMap::new();
    match &request.kind {
        SourceKind::File { format, path, options: given } => {
            let function = format.function_name();
            let schema = match given.get("schema") {
                Some(text) => spark_schema(text).map_err(|e| {
                    let message = format!("{function}(): schema => {}", e.message);
                    CellError { message, ..e }
                })?,
                None => Vec::new(),
            };
            if *format != FileFormat::Csv {
                // read_json's and read_parquet's options are Spark's, passed as written
                // (Spark reads names in any case): dropping one would change the answer.
                options.extend(given.iter().filter(|(k, _)| *k != "schema").map(|(k, v)| (k.clone(), v.clone())));
            } else {
                let header = given.get("header").map(|h| h.to_ascii_lowercase()).unwrap_or_else(|| "true".into());
                options.insert("header".into(), header);
                if schema.is_empty() {
                    let infer =
                        given.get("inferschema").map(|v| v.to_ascii_lowercase()).unwrap_or_else(|| "true".into());
                    options.insert("inferSchema".into(), infer);
                }
                if let Some(d) = given.get("delimiter") {
                    options.insert("sep".into(), d.clone());
                }
                // The rest of Spark's CSV options pass as written (Spark reads names in any case).
                for (key, value) in given {
                    if !matches!(key.as_str(), "header" | "inferschema" | "delimiter" | "schema") {
                        options.insert(key.clone(), value.clone());
                    }
                }
            }
            let format = match format {
                FileFormat::Csv => "csv",
                FileFormat::Json => "json",
                FileFormat::Parquet => "parquet",
            };
            Ok(SparkSource { view: view.into(), format: format.into(), path: Some(path.clone()), options, schema })
        }
        SourceKind::Kafka(range) => {
            kafka_options(range, &mut options)?;
            Ok(SparkSource { view: view.into(), format: "kafka".into(), path: None, options, schema: Vec::new() })
        }
    }
}

/// `schema =>`'s DDL, parsed as the browser engine parses it, as Spark's
/// column list: the same names and types in both engines.
fn spark_schema(text: &str) -> Result<Vec<SparkColumn>, CellError> {
    let schema = super::schema_text::parse(text)?;
    Ok(schema
        .iter()
        .map(|(name, dtype)| SparkColumn { name: name.to_string(), spark_type: spark_type_name(dtype) })
        .collect())
}

/// `kafka(...)`'s range as Spark's Kafka source options (batch read).
fn kafka_options(range: &KafkaRange, options: &mut BTreeMap<String, String>) -> Result<(), CellError> {
    let topic = &range.topic;
    let json_string = |s: &str| serde_json::Value::from(s).to_string();
    if range.max_messages.is_some() {
        return Err(CellError::new("kafka(): max_messages is not a Spark option")
            .hint("on Spark, bound the range with from/to, or add LIMIT to the query"));
    }
    match &range.partitions {
        Some(parts) => {
            let list = parts.iter().map(i32::to_string).collect::<Vec<_>>().join(",");
            options.insert("assign".into(), format!("{{{}:[{list}]}}", json_string(topic)));
        }
        None => {
            options.insert("subscribe".into(), topic.clone());
        }
    }
    let per_partition = |offset: i64, which: &str| -> Result<String, CellError> {
        let parts = range.partitions.as_ref().ok_or_else(|| {
            CellError::new(format!("kafka(): {which} => {offset} on Spark needs the partitions it applies to"))
                .hint("add partitions => '0,1,...', or use 'earliest', 'latest' or a time")
        })?;
        let each = parts.iter().map(|p| format!("\"{p}\":{offset}")).collect::<Vec<_>>().join(",");
        Ok(format!("{{{}:{{{each}}}}}", json_string(topic)))
    };
    match range.from {
        KafkaBound::Earliest => options.insert("startingOffsets".into(), "earliest".into()),
        KafkaBound::Latest => options.insert("startingOffsets".into(), "latest".into()),
        KafkaBound::Offset(o) => options.insert("startingOffsets".into(), per_partition(o, "from")?),
        KafkaBound::Timestamp(ms) => options.insert("startingTimestamp".into(), ms.to_string()),
    };
    match range.to {
        KafkaBound::Latest => options.insert("endingOffsets".into(), "latest".into()),
        KafkaBound::Earliest => options.insert("endingOffsets".into(), "earliest".into()),
        KafkaBound::Offset(o) => options.insert("endingOffsets".into(), per_partition(o, "to")?),
        KafkaBound::Timestamp(ms) => options.insert("endingTimestamp".into(), ms.to_string()),
    };
    Ok(())
}

/// The Arrow IPC stream a Spark run sent back, as a frame for the catalog.
pub fn spark_result(ipc: &[u8]) -> Result<DataFrame, CellError> {
    let df = super::ipc::read_stream(ipc)
        .map_err(|e| CellError::new(format!("Spark's result could not be read as Arrow: {e}")))?;
    repair::repair_if_needed(df).map_err(|e| sql::polars_error(&e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(source: &str) -> SparkCell {
        spark_cell(source, "r1", "t1").unwrap_or_else(|e| panic!("{source}: {e:?}"))
    }

    #[test]
    fn statements_are_split_and_passed_as_typed() {
        let c = cell(
            "-- engine: spark\n-- name: report\nCREATE TEMP VIEW v AS SELECT 'a;b' AS s;\n\nSELECT * FROM v;\n-- done\n",
        );
        assert_eq!(c.table, "report");
        assert_eq!(c.request.statements.len(), 2, "{:?}", c.request.statements);
        assert!(c.request.statements[0].ends_with("SELECT 'a;b' AS s"), "{:?}", c.request.statements);
        assert_eq!(c.request.statements[1], "SELECT * FROM v");
        assert_eq!(c.first_lines, vec![1, 5]);
        let at = c.locate(1, "[UNRESOLVED_COLUMN] x SQLSTATE: 42703; line 1 pos 7;").unwrap();
        assert_eq!((at.line, at.column), (5, 8));
        assert_eq!(c.request.max_rows, DEFAULT_MAX_ROWS);
        assert!(c.request.sources.is_empty());
    }

    #[test]
    fn table_functions_become_views() {
        let c = cell(
            "-- engine: spark\n-- max_rows: 10\nSELECT z.zone, count(*) FROM read_parquet('hdfs:///trips') t\n\
             JOIN read_csv('zones.csv', delimiter => ';') z ON t.zone = z.id GROUP BY 1",
        );
        assert_eq!(c.request.max_rows, 10);
        assert_eq!(
            c.request.statements,
            vec![
                "-- engine: spark\n-- max_rows: 10\nSELECT z.zone, count(*) FROM riffle_t1_0 t\n\
                  JOIN riffle_t1_1 z ON t.zone = z.id GROUP BY 1"
            ]
        );
        let s = &c.request.sources;
        assert_eq!((s[0].format.as_str(), s[0].path.as_deref()), ("parquet", Some("hdfs:///trips")));
        assert_eq!((s[1].format.as_str(), s[1].options.get("sep").map(String::as_str)), ("csv", Some(";")));
        assert_eq!(s[1].options.get("header").map(String::as_str), Some("true"));

        // Spark's CSV options reach Spark.
        let c = cell(
            "-- engine: spark\nSELECT * FROM read_csv('m.csv', nullValue => 'Null', inferSchema => false, mode => 'FAILFAST')",
        );
        let o = &c.request.sources[0].options;
        let get = |k: &str| o.get(k).map(String::as_str);
        assert_eq!(
            (get("nullvalue"), get("inferSchema"), get("mode")),
            (Some("Null"), Some("false"), Some("FAILFAST"))
        );
    }

    #[test]
    fn a_schema_becomes_the_views_columns() {
        let c = cell(
            "-- engine: spark\nSELECT * FROM read_csv('m.csv', schema => 'LCLid STRING, `KWH/hh` DOUBLE, \
             DateTime TIMESTAMP, n DECIMAL(10, 2), w TIMESTAMP_NTZ')",
        );
        let source = &c.request.sources[0];
        let columns: Vec<(&str, &str)> =
            source.schema.iter().map(|c| (c.name.as_str(), c.spark_type.as_str())).collect();
        assert_eq!(
            columns,
            [
                ("LCLid", "string"),
                ("KWH/hh", "double"),
                ("DateTime", "timestamp"),
                ("n", "decimal(10,2)"),
                ("w", "timestamp_ntz")
            ]
        );
        // Spark takes the given types: it neither infers nor sees the DDL as an option.
        assert!(!source.options.contains_key("inferSchema") && !source.options.contains_key("schema"));
        let c = cell("-- engine: spark\nSELECT * FROM read_json('l.jsonl', schema => 'id INT')");
        assert_eq!(c.request.sources[0].schema.len(), 1);
        assert!(!c.request.sources[0].options.contains_key("schema"));
        let e = spark_cell("-- engine: spark\nSELECT * FROM read_csv('m.csv', schema => 'a WHATEVER')", "r", "t")
            .unwrap_err();
        assert!(e.message.starts_with("read_csv(): schema => unknown type 'WHATEVER'"), "{}", e.message);
    }

    #[test]
    fn kafka_ranges_become_spark_options() {
        let c = cell(
            "-- engine: spark\nSELECT CAST(value AS STRING) FROM kafka('events', from => 'earliest', to => 'latest')",
        );
        let o = &c.request.sources[0].options;
        assert_eq!(o.get("subscribe").map(String::as_str), Some("events"));
        assert_eq!(o.get("startingOffsets").map(String::as_str), Some("earliest"));
        assert_eq!(o.get("endingOffsets").map(String::as_str), Some("latest"));
        let c = cell("-- engine: spark\nSELECT * FROM kafka('e', partitions => '0,1', from => 5)");
        let o = &c.request.sources[0].options;
        assert_eq!(o.get("assign").map(String::as_str), Some(r#"{"e":[0,1]}"#));
        assert_eq!(o.get("startingOffsets").map(String::as_str), Some(r#"{"e":{"0":5,"1":5}}"#));
        let e = spark_cell("-- engine: spark\n\nSELECT * FROM kafka('e', from => 5)", "r", "t").unwrap_err();
        assert!(e.message.contains("needs the partitions"), "{e:?}");
        assert_eq!(e.location.map(|l| l.line), Some(3));
    }

    #[test]
    fn copy_becomes_sparks_insert_overwrite_directory() {
        let c = cell(
            "-- engine: spark\nCOPY (SELECT * FROM read_json('hdfs:///in') WHERE a > 1) TO 'hdfs:///out/x' \
             (FORMAT parquet, MODE overwrite, PARTITIONS 4, COMPRESSION zstd)",
        );
        assert_eq!(c.writes, ["hdfs:///out/x"]);
        assert!(c.ends_with_write);
        let sql = &c.request.statements[0];
        assert!(
            sql.starts_with(
                "INSERT OVERWRITE DIRECTORY 'hdfs:///out/x' USING parquet OPTIONS ('compression' 'zstd')\n\
             SELECT /*+ REPARTITION(4) */ * FROM (\nSELECT * FROM riffle_t1_0 WHERE a > 1"
            ),
            "{sql}"
        );
        assert_eq!(c.request.sources[0].format, "json");
        let c = cell("-- engine: spark\nCOPY (SELECT 1 AS a) TO 'hdfs:///o' (FORMAT csv, MODE overwrite);\nSELECT 2");
        assert!(!c.ends_with_write && c.request.statements[0].contains("USING csv OPTIONS ('header' 'true')"));
        let e = spark_cell("-- engine: spark\n\nCOPY (SELECT 1) TO 'out/x' (MODE overwrite)", "r", "t").unwrap_err();
        assert!(e.message.contains("hdfs://"), "{e:?}");
        assert_eq!(e.location.map(|l| l.line), Some(3));
        let e = spark_cell("-- engine: spark\nCOPY (SELECT 1) TO 'hdfs:///x'", "r", "t").unwrap_err();
        assert!(e.hint.as_deref().unwrap_or_default().contains("MODE overwrite"), "{e:?}");
    }

    #[test]
    fn riffle_only_statements_say_what_spark_uses() {
        let e = spark_cell("-- engine: spark\n-- engine: hive\nSELECT 1", "r", "t").unwrap_err();
        assert_eq!(e.location.map(|l| l.line), Some(2));
        let e = spark_cell("-- engine: spark\n-- nothing", "r", "t").unwrap_err();
        assert!(e.message.contains("empty"));
        let e = spark_cell("-- engine: spark\nSELECT * FROM read_avro('x')", "r", "t");
        assert!(e.is_ok(), "other functions are Spark's business: {e:?}");
    }
}
