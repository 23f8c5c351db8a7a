//! The cell's table functions: `read_csv('trips.csv')` and `kafka('events')`
//! become [`SourceRequest`]s, which the host fetches, and the statement reads
//! them under the names `__riffle_source_<n>`.

use std::collections::BTreeMap;
use std::ops::ControlFlow;

use sqlparser::ast::{
    Expr, FunctionArg, FunctionArgExpr, Ident, ObjectName, ObjectNamePart, Query, Statement, TableFactor,
    UnaryOperator, Value, VisitMut, VisitorMut,
};
use sqlparser::dialect::SparkSqlDialect;
use sqlparser::parser::{Parser, ParserOptions};

use super::super::kafka::KafkaRange;
use super::super::source::{FileFormat, SourceKind, SourceRequest};
use crate::CellError;

pub(crate) struct Rewritten {
    /// The query, its table functions replaced by the sources' names.
    pub query: Box<Query>,
    pub sources: Vec<SourceRequest>,
    /// Every plain table name the statement mentions.
    pub relations: Vec<String>,
}

/// Parses Spark SQL: backticks quote names, double quotes are strings.
pub(crate) fn parse(source: &str) -> Result<Vec<Statement>, CellError> {
    let rewritten = spark_tokens(source);
    let source = rewritten.as_deref().unwrap_or(source);
    Parser::new(&SparkSqlDialect {})
        .with_options(ParserOptions { trailing_commas: true, ..Default::default() })
        .try_with_sql(source)
        .and_then(|mut p| p.parse_statements())
        .map_err(|e| syntax_error(source, &e.to_string()))
}

/// The parser's complaint in the cell's words, with the place and, when the
/// word before it looks like a misspelled keyword, the keyword.
fn syntax_error(source: &str, message: &str) -> CellError {
    let location = CellError::located_in_message(message);
    let message = message.trim_start_matches("sql parser error: ");
    let message = format!("the SQL does not parse: {message}");
    let mut hint = "check the SQL there: a missing comma, quote or parenthesis, or a misspelled keyword".to_string();
    if let Some(loc) = location {
        let line = source.lines().nth(loc.line.saturating_sub(1) as usize).unwrap_or_default();
        let upto: String = line.chars().take(loc.column.saturating_sub(1) as usize).collect();
        let words: Vec<String> = upto
            .split(|c: char| !c.is_alphanumeric() && c != '_')
            .filter(|w| !w.is_empty())
            .map(str::to_uppercase)
            .collect();
        const KEYWORDS: &[&str] = &[
            "SELECT",
            "FROM",
            "WHERE",
            "GROUP",
            "ORDER",
            "HAVING",
            "LIMIT",
            "JOIN",
            "LEFT",
            "RIGHT",
            "INNER",
            "OUTER",
            "UNION",
            "DISTINCT",
            "QUALIFY",
            "WINDOW",
            "LATERAL",
            "PARTITION",
            "BETWEEN",
            "CASE",
            "WHEN",
            "THEN",
            "ELSE",
        ];
        let keywords: Vec<String> = KEYWORDS.iter().map(|k| k.to_string()).collect();
        for w in words.iter().rev().take(2) {
            if !KEYWORDS.contains(&w.as_str())
                && let Some(near) = super::super::suggest::nearest(w, &keywords)
            {
                hint = format!("did you mean {near} instead of {w}?");
                break;
            }
        }
    }
    CellError::new(message).at(location).hint(hint)
}

/// Parses a cell's query and cuts its table functions out as sources.
pub(crate) fn rewrite(source: &str) -> Result<Rewritten, CellError> {
    let mut statements = parse(source)?;
    let statement = match statements.len() {
        0 => {
            return Err(CellError::new("the cell is empty: it holds no statement, only blanks or comments")
                .at(Some(crate::Location { line: 1, column: 1 }))
                .hint("write a query, such as SELECT 1 + 1 AS two"));
        }
        1 => statements.remove(0),
        n => {
            return Err(CellError::new(format!("the cell holds {n} statements; a SQL cell runs one"))
                .hint("split it into several cells; each cell's result is a table the next can read"));
        }
    };
    let Statement::Query(mut query) = statement else {
        return Err(CellError::new("this statement does not run in a cell").hint(
            "cells run queries (SELECT, WITH, VALUES), DESCRIBE t, COPY (query) TO 'path', and INSERT INTO kafka('topic') query",
        ));
    };
    let mut visitor = SourceVisitor::default();
    if let ControlFlow::Break(error) = query.visit(&mut visitor) {
        return Err(error);
    }
    Ok(Rewritten { query, sources: visitor.sources, relations: visitor.relations })
}

/// Spark's lexical forms sqlparser does not read: typed number literals
/// (`1L`, `1Y`, `1S`, `1.5D`, `1.5F`, `1.5BD`) become `__lit_<suffix>(n)`,
/// and the higher-order `exists(arr, x -> ...)` becomes `__exists(...)` (not
/// an EXISTS subquery). `None` when the text needs neither.
fn spark_tokens(source: &str) -> Option<String> {
    use sqlparser::tokenizer::{Token, Tokenizer};
    let tokens = Tokenizer::new(&SparkSqlDialect {}, source).tokenize().ok()?;
    let suffix = |w: &str| -> Option<&'static str> {
        match w.to_ascii_uppercase().as_str() {
            "L" => Some("l"),
            "Y" => Some("y"),
            "S" => Some("s"),
            "D" => Some("d"),
            "F" => Some("f"),
            "BD" => Some("bd"),
            _ => None,
        }
    };
    let mut out = String::with_capacity(source.len() + 16);
    let mut changed = false;
    let mut i = 0;
    while i < tokens.len() {
        let t = &tokens[i];
        match (t, tokens.get(i + 1)) {
            (Token::Number(n, _), Some(Token::Word(w))) if w.quote_style.is_none() && suffix(&w.value).is_some() => {
                out.push_str(&format!("__lit_{}({n})", suffix(&w.value).unwrap_or("d")));
                changed = true;
                i += 2;
                continue;
            }
            (Token::Word(w), _) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case("exists") => {
                let next = tokens[i + 1..].iter().find(|t| !matches!(t, Token::Whitespace(_)));
                let after = tokens[i + 1..]
                    .iter()
                    .skip_while(|t| !matches!(t, Token::LParen))
                    .skip(1)
                    .find(|t| !matches!(t, Token::Whitespace(_)));
                let subquery = matches!(after, Some(Token::Word(w)) if ["select", "with", "values", "from"].contains(&w.value.to_ascii_lowercase().as_str()))
                    || matches!(after, Some(Token::LParen));
                if matches!(next, Some(Token::LParen)) && !subquery {
                    out.push_str("__exists");
                    changed = true;
                    i += 1;
                    continue;
                }
            }
            _ => {}
        }
        out.push_str(&t.to_string());
        i += 1;
    }
    changed.then_some(out)
}

#[derive(Default)]
struct SourceVisitor {
    sources: Vec<SourceRequest>,
    relations: Vec<String>,
}

impl VisitorMut for SourceVisitor {
    type Break = CellError;

    fn pre_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<CellError> {
        let TableFactor::Table { name, args, .. } = factor else {
            return ControlFlow::Continue(());
        };
        let Some(function_args) = args.take() else {
            let relation = name.to_string();
            if !self.relations.contains(&relation) {
                self.relations.push(relation);
            }
            return ControlFlow::Continue(());
        };
        match source_request(&name.to_string(), &function_args.args, self.sources.len()) {
            Ok(request) => {
                *name = ObjectName(vec![ObjectNamePart::Identifier(Ident::new(&request.id))]);
                self.sources.push(request);
                ControlFlow::Continue(())
            }
            Err(e) => ControlFlow::Break(e),
        }
    }
}

const TABLE_FUNCTIONS: &str = "read_csv('path'), read_json('path'), read_parquet('path') and kafka('topic')";

pub(crate) fn source_request(function: &str, args: &[FunctionArg], index: usize) -> Result<SourceRequest, CellError> {
    let lower = function.to_ascii_lowercase();
    let format = match lower.as_str() {
        "read_csv" => Some(FileFormat::Csv),
        "read_json" => Some(FileFormat::Json),
        "read_parquet" => Some(FileFormat::Parquet),
        "kafka" => None,
        _ => {
            return Err(CellError::new(format!("unknown table function {function}()"))
                .hint(format!("the table functions are {TABLE_FUNCTIONS}")));
        }
    };
    let mut first = None;
    let mut options = BTreeMap::new();
    for arg in args {
        match arg {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) if first.is_none() => {
                first = Some(literal(e).ok_or_else(|| {
                    CellError::new(format!(
                        "{lower}(): the first argument must be a string in quotes, such as '{}'",
                        if format.is_some() { "trips.csv" } else { "events" }
                    ))
                })?);
            }
            FunctionArg::Named { name, arg: FunctionArgExpr::Expr(e), .. } => {
                let value = literal(e).ok_or_else(|| {
                    CellError::new(format!("{lower}(): option {name} must be a literal (a string, number or boolean)"))
                })?;
                options.insert(name.value.to_ascii_lowercase(), value);
            }
            other => {
                return Err(CellError::new(format!("{lower}(): unexpected argument {other}")).hint(format!(
                    "write {lower}('{}', option => value)",
                    if format.is_some() { "path" } else { "topic" }
                )));
            }
        }
    }
    let kind = match format {
        Some(format) => {
            let path =
                first.ok_or_else(|| CellError::new(format!("{lower}() needs a path, such as {lower}('trips.csv')")))?;
            SourceKind::File { format, path, options }
        }
        None => {
            let topic = first.ok_or_else(|| CellError::new("kafka() needs a topic name, such as kafka('events')"))?;
            SourceKind::Kafka(KafkaRange::from_args(topic, &options)?)
        }
    };
    Ok(SourceRequest { id: format!("__riffle_source_{index}"), kind, part_names: Vec::new() })
}

fn literal(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Value(v) => match &v.value {
            Value::SingleQuotedString(s) | Value::DoubleQuotedString(s) => Some(s.clone()),
            Value::Number(n, _) => Some(n.clone()),
            Value::Boolean(b) => Some(b.to_string()),
            _ => None,
        },
        Expr::UnaryOp { op: UnaryOperator::Minus, expr } => literal(expr).map(|v| format!("-{v}")),
        Expr::Identifier(ident) => Some(ident.value.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_functions_become_sources() {
        let r = rewrite(
            "SELECT * FROM read_csv('a/b.csv', header => false, delimiter => ';') AS t \
             JOIN kafka('events', `from` => 'earliest', partitions => '0,1') k ON t.a = k.a JOIN x ON t.a = x.a",
        )
        .unwrap();
        assert_eq!(r.sources.len(), 2);
        let SourceKind::File { path, options, .. } = &r.sources[0].kind else { panic!() };
        assert_eq!(path, "a/b.csv");
        assert_eq!(options.get("delimiter").map(String::as_str), Some(";"));
        let SourceKind::Kafka(range) = &r.sources[1].kind else { panic!() };
        assert_eq!(range.partitions, Some(vec![0, 1]));
        assert!(r.query.to_string().contains("__riffle_source_0 AS t"), "{}", r.query);
        assert_eq!(r.relations, vec!["x".to_string()]);
    }

    #[test]
    fn parse_errors_point_at_the_line() {
        let e = rewrite("-- name: t\nSELECT a\nFORM x").err().unwrap();
        assert_eq!(e.location.map(|l| l.line), Some(3), "{e:?}");
    }

    #[test]
    fn unknown_table_function() {
        let e = rewrite("SELECT * FROM read_xml('a')").err().unwrap();
        assert!(e.message.contains("read_xml"), "{e:?}");
    }
}
