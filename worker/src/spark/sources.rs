//! The `sources` of a Spark run: files and topics the statements read as
//! temporary views. Each becomes one `CREATE OR REPLACE TEMPORARY VIEW <view>
//! USING <format> OPTIONS (...)` that the gateway writes itself, from checked
//! parts only: the view is a plain identifier, the format is on a short list,
//! option keys are dotted words and every value is a quoted, escaped literal.
//!
//! Paths: `hdfs://...` goes to Spark as it is (Spark reads HDFS with its own
//! Hadoop configuration). Any other path (`a/b`, `/a/b`, `file:///a/b`) names
//! a file under the gateway's data root, confined as the files API confines
//! it, and goes to Spark as an absolute `file:///...` URL: that works when
//! Spark runs on the gateway's machine (local mode), or sees the same files.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::ApiError;
use crate::storage::{LocalStore, Location, Scheme};

/// The formats a source may have.
pub const FORMATS: &[&str] = &["parquet", "json", "csv", "kafka"];

/// One source as the request names it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Source {
    pub view: String,
    pub format: String,
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub options: BTreeMap<String, OptionValue>,
    /// The columns a `schema =>` gave; empty when Spark infers them.
    #[serde(default)]
    pub schema: Vec<Column>,
}

/// One column of a given schema: any name (the gateway back-quotes it) and
/// a type the gateway checks against Spark's type grammar.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Column {
    pub name: String,
    #[serde(rename = "type")]
    pub spark_type: String,
}

/// Type names a given schema may hold (lower case, as `printSchema` writes them).
const TYPE_NAMES: &[&str] = &[
    "string",
    "boolean",
    "tinyint",
    "smallint",
    "int",
    "bigint",
    "float",
    "double",
    "date",
    "timestamp",
    "timestamp_ntz",
    "binary",
];

/// Whether `text` is one of Spark's types as the core writes them: a name
/// from [`TYPE_NAMES`], `decimal(p,s)` or `array<T>`. Nothing else can reach
/// the statement, so a type cannot close the column list.
fn is_spark_type(text: &str) -> bool {
    let t = text.trim().to_ascii_lowercase();
    if let Some(inner) = t.strip_prefix("array<").and_then(|r| r.strip_suffix('>')) {
        return is_spark_type(inner);
    }
    if let Some(args) = t.strip_prefix("decimal(").and_then(|r| r.strip_suffix(')')) {
        let mut parts = args.split(',').map(str::trim);
        let number =
            |p: Option<&str>| p.is_some_and(|p| !p.is_empty() && p.len() <= 2 && p.bytes().all(|b| b.is_ascii_digit()));
        return number(parts.next()) && number(parts.next()) && parts.next().is_none();
    }
    TYPE_NAMES.contains(&t.as_str())
}

/// A name in back-quotes, with any back-quote in it doubled.
fn quoted_name(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// The given schema as the view's column list, ` (`a` int, `b c` string)`,
/// or nothing when there is none.
fn column_list(view: &str, columns: &[Column]) -> Result<String, ApiError> {
    if columns.is_empty() {
        return Ok(String::new());
    }
    let mut out = Vec::with_capacity(columns.len());
    for column in columns {
        if column.name.is_empty() || column.name.len() > 256 || column.name.chars().any(char::is_control) {
            return Err(ApiError::bad_request(format!(
                "source {view}: the schema's column name {:?} must be 1 to 256 characters, none of them control \
                 characters",
                column.name
            )));
        }
        if !is_spark_type(&column.spark_type) {
            return Err(ApiError::bad_request(format!(
                "source {view}: the schema's type {:?} for column {} is not one a source may have here ({}, \
                 decimal(p,s), array<T>)",
                column.spark_type,
                column.name,
                TYPE_NAMES.join(", ")
            )));
        }
        out.push(format!("{} {}", quoted_name(&column.name), column.spark_type.trim().to_ascii_lowercase()));
    }
    Ok(format!(" ({})", out.join(", ")))
}

/// An option value: a string, or a number or boolean written as one.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub(crate) enum OptionValue {
    Text(String),
    Number(serde_json::Number),
    Flag(bool),
}

impl OptionValue {
    fn text(&self) -> String {
        match self {
            OptionValue::Text(s) => s.clone(),
            OptionValue::Number(n) => n.to_string(),
            OptionValue::Flag(b) => b.to_string(),
        }
    }
}

/// A plain SQL identifier: a letter or `_`, then letters, digits and `_`.
pub(crate) fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.len() <= 128
}

fn is_option_key(key: &str) -> bool {
    !key.is_empty() && key.len() <= 256 && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_')
}

/// A Spark SQL string literal: `'...'` with `\` and `'` escaped.
pub(crate) fn literal(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// Where a source's path points, as Spark should read it.
pub(crate) fn spark_path(local: &LocalStore, path: &str) -> Result<String, ApiError> {
    let trimmed = path.trim();
    if trimmed.is_empty() {
        return Err(ApiError::bad_request("the path is empty: name a file or directory, e.g. hdfs:///data/trips"));
    }
    let lower = trimmed.to_ascii_lowercase();
    if lower.starts_with("hdfs://") {
        return Ok(trimmed.to_string());
    }
    if let Some((scheme, _)) = trimmed.split_once("://")
        && !scheme.eq_ignore_ascii_case("file")
    {
        return Err(ApiError::bad_request(format!(
            "'{trimmed}': Spark sources read hdfs://... paths, or paths under the gateway's data directory \
             (a/b, /a/b, file:///a/b); not {scheme}://"
        )));
    }
    // `..`, NUL, `file://host/...` and symlinks that lead out of the data
    // root are refused as the files API refuses them (here always as a 400).
    let at = Location::parse(trimmed).map_err(|e| ApiError::bad_request(e.message))?;
    if at.scheme != Scheme::Local {
        return Err(ApiError::bad_request(format!(
            "'{trimmed}': Spark sources read hdfs://... paths, or paths under the gateway's data directory"
        )));
    }
    let file = local.path(&at).map_err(|e| ApiError::bad_request(e.message))?;
    let file = file.to_string_lossy().replace('\\', "/");
    Ok(format!("file://{}{}", if file.starts_with('/') { "" } else { "/" }, file))
}

/// The `CREATE OR REPLACE TEMPORARY VIEW` statement for one source.
/// `kafka_bootstrap` is the Kafka address as Spark's cluster reaches it.
pub(crate) fn view_statement(
    source: &Source,
    local: &LocalStore,
    kafka_bootstrap: Option<&str>,
) -> Result<String, ApiError> {
    let view = &source.view;
    if !is_identifier(view) {
        return Err(ApiError::bad_request(format!(
            "the source view name {view:?} is not a plain identifier (letters, digits and _, not starting \
             with a digit), e.g. riffle_src_0"
        )));
    }
    let format = source.format.to_ascii_lowercase();
    if !FORMATS.contains(&format.as_str()) {
        return Err(ApiError::bad_request(format!(
            "source {view}: the format {:?} is not one Spark sources may have here ({})",
            source.format,
            FORMATS.join(", ")
        )));
    }
    let mut options: Vec<(String, String)> = Vec::new();
    for (key, value) in &source.options {
        if !is_option_key(key) {
            return Err(ApiError::bad_request(format!(
                "source {view}: the option name {key:?} may only hold letters, digits, '.' and '_'"
            )));
        }
        if key.eq_ignore_ascii_case("path") {
            return Err(ApiError::bad_request(format!("source {view}: give the path as \"path\", not as an option")));
        }
        if key.eq_ignore_ascii_case("kafka.bootstrap.servers") {
            return Err(ApiError::bad_request(format!(
                "source {view}: kafka.bootstrap.servers is the gateway's to set (--spark-kafka-bootstrap, \
                 RIFFLE_SPARK_KAFKA_BOOTSTRAP); leave it out"
            )));
        }
        options.push((key.clone(), value.text()));
    }
    if format == "kafka" {
        if source.path.is_some() {
            return Err(ApiError::bad_request(format!(
                "source {view}: a kafka source has no path; name its topic with the option \"subscribe\""
            )));
        }
        let Some(bootstrap) = kafka_bootstrap.filter(|b| !b.trim().is_empty()) else {
            return Err(ApiError::bad_request(format!(
                "source {view}: the gateway does not know Kafka's address as Spark sees it: start it with \
                 --spark-kafka-bootstrap host:9092 (RIFFLE_SPARK_KAFKA_BOOTSTRAP), or --kafka-bootstrap"
            )));
        };
        options.insert(0, ("kafka.bootstrap.servers".to_string(), bootstrap.trim().to_string()));
    } else {
        let Some(path) = &source.path else {
            return Err(ApiError::bad_request(format!(
                "source {view}: a {format} source needs a \"path\" (hdfs:///... or a path in the data directory)"
            )));
        };
        let path =
            spark_path(local, path).map_err(|e| ApiError::bad_request(format!("source {view}: {}", e.message)))?;
        options.insert(0, ("path".to_string(), path));
    }
    let columns = column_list(view, &source.schema)?;
    if format == "kafka" && !columns.is_empty() {
        return Err(ApiError::bad_request(format!(
            "source {view}: a kafka source has Spark's fixed columns (key, value, topic, ...); it takes no schema"
        )));
    }
    let options: Vec<String> = options.iter().map(|(k, v)| format!("{} {}", literal(k), literal(v))).collect();
    Ok(format!("CREATE OR REPLACE TEMPORARY VIEW {view}{columns} USING {format} OPTIONS ({})", options.join(", ")))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn store() -> (LocalStore, std::path::PathBuf) {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
        let dir = std::env::temp_dir().join(format!("riffle-spark-sources-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(dir.join("trips")).unwrap();
        let store = LocalStore::new(dir).unwrap();
        let root = store.root().to_path_buf();
        (store, root)
    }

    fn source(view: &str, format: &str, path: Option<&str>, options: &[(&str, &str)]) -> Source {
        Source {
            view: view.into(),
            format: format.into(),
            path: path.map(str::to_string),
            options: options.iter().map(|(k, v)| (k.to_string(), OptionValue::Text(v.to_string()))).collect(),
            schema: Vec::new(),
        }
    }

    #[test]
    fn a_given_schema_is_a_checked_column_list() {
        let (local, _) = store();
        let mut src = source("v", "csv", Some("trips"), &[("header", "true")]);
        let column = |name: &str, t: &str| Column { name: name.into(), spark_type: t.into() };
        src.schema = vec![column("KWH/hh", "double"), column("a`b", "decimal(10,2)"), column("l", "array<string>")];
        let sql = view_statement(&src, &local, None).unwrap();
        assert!(
            sql.starts_with("CREATE OR REPLACE TEMPORARY VIEW v (`KWH/hh` double, `a``b` decimal(10,2), `l` array<string>) USING csv"),
            "{sql}"
        );
        for hostile in
            ["int) USING text OPTIONS (path '/etc/passwd')", "string, x int", "decimal(10,2) --", "map<string,int>", ""]
        {
            src.schema = vec![column("a", hostile)];
            let err = view_statement(&src, &local, None).unwrap_err();
            assert!(err.message.contains("is not one a source may have"), "{hostile}: {}", err.message);
        }
        src.schema = vec![column("a\nb", "int")];
        assert!(view_statement(&src, &local, None).is_err());
        let mut kafka = source("k", "kafka", None, &[("subscribe", "t")]);
        kafka.schema = vec![column("a", "int")];
        assert!(view_statement(&kafka, &local, Some("127.0.0.1:9092")).unwrap_err().message.contains("no schema"));
    }

    #[test]
    fn literals_escape_quotes_and_backslashes() {
        assert_eq!(literal("plain"), "'plain'");
        assert_eq!(literal(r"it's"), r"'it\'s'");
        assert_eq!(literal(r"a\b"), r"'a\\b'");
        // A hostile value cannot close the literal: every quote is escaped,
        // and a trailing backslash cannot escape the closing quote.
        let hostile = r"x') ; DROP TABLE t; --\";
        let quoted = literal(hostile);
        assert_eq!(quoted, r"'x\') ; DROP TABLE t; --\\'");
        let inner = &quoted[1..quoted.len() - 1];
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => assert!(chars.next().is_some(), "a dangling backslash in {quoted}"),
                '\'' => panic!("an unescaped quote in {quoted}"),
                _ => {}
            }
        }
    }

    #[test]
    fn a_hostile_option_value_stays_one_literal() {
        let (local, _) = store();
        let sql = view_statement(
            &source("v", "csv", Some("trips"), &[("header", "true'), (path '/etc"), ("sep", r"\")]),
            &local,
            None,
        )
        .unwrap();
        assert!(sql.ends_with(r"'header' 'true\'), (path \'/etc', 'sep' '\\')"), "{sql}");
    }

    #[test]
    fn builds_view_statements() {
        let (local, root) = store();
        let sql = view_statement(&source("riffle_src_0", "parquet", Some("hdfs:///x/y"), &[]), &local, None).unwrap();
        assert_eq!(sql, "CREATE OR REPLACE TEMPORARY VIEW riffle_src_0 USING parquet OPTIONS ('path' 'hdfs:///x/y')");
        let sql = view_statement(&source("t", "CSV", Some("/trips"), &[("header", "true")]), &local, None).unwrap();
        let url = format!("file://{}/trips", root.display());
        assert_eq!(
            sql,
            format!("CREATE OR REPLACE TEMPORARY VIEW t USING csv OPTIONS ('path' '{url}', 'header' 'true')")
        );
        for path in ["trips", "file:///trips", "./trips/"] {
            assert_eq!(spark_path(&local, path).unwrap(), url, "{path}");
        }
        let sql =
            view_statement(&source("k", "kafka", None, &[("subscribe", "events")]), &local, Some("b:9092")).unwrap();
        assert_eq!(
            sql,
            "CREATE OR REPLACE TEMPORARY VIEW k USING kafka OPTIONS ('kafka.bootstrap.servers' 'b:9092', \
             'subscribe' 'events')"
        );
    }

    #[test]
    fn refuses_bad_sources() {
        let (local, _) = store();
        for (s, bootstrap, needle) in [
            (source("a b", "csv", Some("x"), &[]), None, "plain identifier"),
            (source("1a", "csv", Some("x"), &[]), None, "plain identifier"),
            (source("v;", "csv", Some("x"), &[]), None, "plain identifier"),
            (source("v", "jdbc", Some("x"), &[]), None, "parquet, json, csv, kafka"),
            (source("v", "csv", Some("../etc/passwd"), &[]), None, "'..'"),
            (source("v", "csv", Some("/a/../../b"), &[]), None, "'..'"),
            (source("v", "csv", Some("s3://bucket/x"), &[]), None, "not s3://"),
            (source("v", "csv", Some("webhdfs://nn/x"), &[]), None, "not webhdfs://"),
            (source("v", "csv", Some("file://other/x"), &[]), None, "name this machine"),
            (source("v", "csv", Some("  "), &[]), None, "empty"),
            (source("v", "csv", None, &[]), None, "needs a \"path\""),
            (source("v", "csv", Some("x"), &[("a b", "1")]), None, "option name"),
            (source("v", "csv", Some("x"), &[("x'", "1")]), None, "option name"),
            (source("v", "csv", Some("x"), &[("PATH", "/etc")]), None, "not as an option"),
            (source("v", "kafka", None, &[("subscribe", "t")]), None, "--spark-kafka-bootstrap"),
            (source("v", "kafka", Some("x"), &[]), Some("b:1"), "no path"),
            (source("v", "kafka", None, &[("kafka.bootstrap.servers", "evil:1")]), Some("b:1"), "leave it out"),
        ] {
            let e = view_statement(&s, &local, bootstrap).err().map(|e| (e.status, e.message));
            let (status, message) = e.unwrap_or_else(|| panic!("{s:?} was accepted"));
            assert_eq!(status, axum::http::StatusCode::BAD_REQUEST, "{message}");
            assert!(message.contains(needle), "{s:?}: {message}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn refuses_a_symlink_out_of_the_data_root() {
        let (local, root) = store();
        std::os::unix::fs::symlink("/etc", root.join("out")).unwrap();
        let e = spark_path(&local, "out/passwd").err().map(|e| e.message).unwrap_or_default();
        assert!(e.contains("symbolic link"), "{e}");
    }
}
