//! Riffle's SQL on top of Polars SQL.
//!
//! - Table functions (`read_csv(...)`, `kafka(...)`) are cut out of the
//!   statement and replaced by names the host's bytes are registered under.
//! - `json_parse(x)` and `json_get(x, 'a.b')` become calls of functions
//!   registered per query, once a first pass has seen the JSON and inferred
//!   the union of its fields (see [`JsonCall`]).

use std::collections::BTreeMap;
use std::ops::ControlFlow;

use polars::prelude::PolarsError;
use sqlparser::ast::{
    BinaryOperator, Cte, Expr, Function, FunctionArg, FunctionArgExpr, FunctionArguments, Ident, ObjectName, Query,
    Select, SetExpr, Statement, TableFactor, UnaryOperator, Value, VisitMut, VisitorMut,
};
use sqlparser::dialect::GenericDialect;
use sqlparser::parser::{Parser, ParserOptions};

use super::kafka::KafkaRange;
use super::source::{FileFormat, SourceKind, SourceRequest};
use crate::CellError;

pub(super) struct Rewritten {
    /// The statements to run in order: one per top-level `WITH` table (run
    /// and registered under its name first), then the query itself.
    pub steps: Vec<Step>,
    pub sources: Vec<SourceRequest>,
    /// Every plain table name the statement mentions.
    pub relations: Vec<String>,
    /// `json_parse` calls, innermost first.
    pub json: Vec<JsonCall>,
}

/// A query to run; `name` is the `WITH` table it makes, `None` for the result.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Step {
    pub name: Option<String>,
    pub sql: String,
}

/// A `json_parse(arg)` in the query, now a call of `function`. Before the
/// query runs, `probe` (a query of `arg` over the same FROM) yields the JSON
/// texts the function's schema is inferred from.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct JsonCall {
    /// The index of the [`Step`] the call is in.
    pub step: usize,
    pub function: String,
    pub probe: String,
}

/// The name of the text column in a [`JsonCall::probe`].
pub(super) const PROBE_COLUMN: &str = "__riffle_json_text";

pub(super) fn parse(source: &str) -> Result<Vec<Statement>, CellError> {
    Parser::new(&GenericDialect)
        .with_options(ParserOptions { trailing_commas: true, ..Default::default() })
        .try_with_sql(source)
        .and_then(|mut p| p.parse_statements())
        .map_err(|e| {
            let message = e.to_string();
            let location = CellError::located_in_message(&message);
            CellError::new(message).at(location)
        })
}

/// Rewrites a query: sources out, json_parse calls in, WITH tables as steps.
pub(super) fn rewrite(source: &str) -> Result<Rewritten, CellError> {
    let mut statements = parse(source)?;
    let mut statement = match statements.len() {
        0 => {
            return Err(CellError::new("the cell is empty").hint("write a query, such as SELECT 1 + 1 AS two"));
        }
        1 => statements.remove(0),
        n => {
            return Err(CellError::new(format!("the cell holds {n} statements; a SQL cell runs one"))
                .hint("split it into several cells; each cell's result is a table the next can read"));
        }
    };
    let Statement::Query(query) = &mut statement else {
        return Err(CellError::new("this statement does not run in a cell").hint(
            "cells run queries (SELECT, WITH, VALUES), DESCRIBE t, COPY (query) TO 'path', and INSERT INTO kafka('topic') query",
        ));
    };
    let mut visitor = SourceVisitor::default();
    if let ControlFlow::Break(error) = query.visit(&mut visitor) {
        return Err(error);
    }
    // Top-level WITH tables run first, each registered under its name: Polars
    // SQL 0.51 loses join aliases over WITH tables in GROUP BY, and this also
    // lets a later json_parse probe read them.
    let mut json = Vec::new();
    let mut steps = Vec::new();
    if let Some(with) = query.with.take() {
        if with.recursive {
            return Err(CellError::new("WITH RECURSIVE is not supported"));
        }
        for mut cte in with.cte_tables {
            let mut calls = Vec::new();
            walk_query(&mut cte.query, &[], &mut calls, json.len())?;
            json.extend(calls.into_iter().map(|c| JsonCall { step: steps.len(), ..c }));
            steps.push(Step { name: Some(cte.alias.name.value.clone()), sql: cte.query.to_string() });
        }
    }
    let mut calls = Vec::new();
    walk_query(query, &[], &mut calls, json.len())?;
    json.extend(calls.into_iter().map(|c| JsonCall { step: steps.len(), ..c }));
    steps.push(Step { name: None, sql: statement.to_string() });
    Ok(Rewritten { steps, sources: visitor.sources, relations: visitor.relations, json })
}

#[derive(Default)]
struct SourceVisitor {
    sources: Vec<SourceRequest>,
    relations: Vec<String>,
}

impl VisitorMut for SourceVisitor {
    type Break = CellError;

    /// Polars 0.51 ignores ORDER BY inside an aggregate's window: `SUM(x)
    /// OVER (PARTITION BY p ORDER BY o)` gives the partition's total, where
    /// Spark gives a running sum. A silently different answer is worse than
    /// none, so such windows are refused with what to do instead.
    fn pre_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<CellError> {
        if let Expr::Function(function) = expr
            && let Some(sqlparser::ast::WindowType::WindowSpec(spec)) = &function.over
            && !spec.order_by.is_empty()
        {
            let name = function.name.to_string().to_ascii_lowercase();
            if ["sum", "avg", "mean", "count", "min", "max"].contains(&name.as_str()) {
                return ControlFlow::Break(
                    CellError::new(format!(
                        "{}(...) OVER (... ORDER BY ...) is a running aggregate, which the in-browser engine does not compute: \
                         it would return the partition's total instead",
                        name.to_uppercase()
                    ))
                    .hint(
                        "drop the ORDER BY for a per-partition total, compute the running value with a self-join \
                         (SUM over rows with o <= this o), or run the cell on Spark",
                    ),
                );
            }
        }
        ControlFlow::Continue(())
    }

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
                *name = ObjectName(vec![Ident::new(&request.id)]);
                self.sources.push(request);
                ControlFlow::Continue(())
            }
            Err(e) => ControlFlow::Break(e),
        }
    }
}

const TABLE_FUNCTIONS: &str = "read_csv('path'), read_json('path'), read_parquet('path') and kafka('topic')";

pub(super) fn source_request(function: &str, args: &[FunctionArg], index: usize) -> Result<SourceRequest, CellError> {
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
    Ok(SourceRequest { id: format!("__riffle_source_{index}"), kind })
}

fn literal(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Value(Value::SingleQuotedString(s) | Value::DoubleQuotedString(s)) => Some(s.clone()),
        Expr::Value(Value::Number(n, _)) => Some(n.clone()),
        Expr::Value(Value::Boolean(b)) => Some(b.to_string()),
        Expr::UnaryOp { op: UnaryOperator::Minus, expr } => literal(expr).map(|v| format!("-{v}")),
        Expr::Identifier(ident) => Some(ident.value.clone()),
        _ => None,
    }
}

// ---- json_parse -------------------------------------------------------------

/// Finds `json_parse` calls in a query, innermost first; `base` numbers them.
fn walk_query(query: &mut Query, outer: &[Cte], calls: &mut Vec<JsonCall>, base: usize) -> Result<(), CellError> {
    let mut visible: Vec<Cte> = outer.to_vec();
    if let Some(with) = &mut query.with {
        for cte in &mut with.cte_tables {
            walk_query(&mut cte.query, &visible, calls, base)?;
            visible.push(cte.clone());
        }
    }
    walk_set_expr(&mut query.body, &visible, calls, base)
}

fn walk_set_expr(body: &mut SetExpr, ctes: &[Cte], calls: &mut Vec<JsonCall>, base: usize) -> Result<(), CellError> {
    match body {
        SetExpr::Select(select) => walk_select(select, ctes, calls, base),
        SetExpr::Query(query) => walk_query(query, ctes, calls, base),
        SetExpr::SetOperation { left, right, .. } => {
            walk_set_expr(left, ctes, calls, base)?;
            walk_set_expr(right, ctes, calls, base)
        }
        _ => Ok(()),
    }
}

fn walk_factor(
    factor: &mut TableFactor,
    ctes: &[Cte],
    calls: &mut Vec<JsonCall>,
    base: usize,
) -> Result<(), CellError> {
    match factor {
        TableFactor::Derived { subquery, .. } => walk_query(subquery, ctes, calls, base),
        TableFactor::NestedJoin { table_with_joins, .. } => {
            walk_factor(&mut table_with_joins.relation, ctes, calls, base)?;
            for join in &mut table_with_joins.joins {
                walk_factor(&mut join.relation, ctes, calls, base)?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

fn walk_select(select: &mut Select, ctes: &[Cte], calls: &mut Vec<JsonCall>, base: usize) -> Result<(), CellError> {
    for table in &mut select.from {
        walk_factor(&mut table.relation, ctes, calls, base)?;
        for join in &mut table.joins {
            walk_factor(&mut join.relation, ctes, calls, base)?;
        }
    }
    let mut finder = JsonFinder { found: Vec::new(), next: base + calls.len() };
    let visit = |r: ControlFlow<CellError>| match r {
        ControlFlow::Break(e) => Err(e),
        ControlFlow::Continue(()) => Ok(()),
    };
    visit(select.projection.visit(&mut finder))?;
    visit(select.selection.visit(&mut finder))?;
    visit(select.group_by.visit(&mut finder))?;
    visit(select.having.visit(&mut finder))?;
    if finder.found.is_empty() {
        return Ok(());
    }
    let with = if ctes.is_empty() {
        String::new()
    } else {
        format!("WITH {} ", ctes.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "))
    };
    let from = if select.from.is_empty() {
        String::new()
    } else {
        format!(" FROM {}", select.from.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "))
    };
    for (function, arg) in finder.found {
        let probe = format!("{with}SELECT CAST({arg} AS STRING) AS {PROBE_COLUMN}{from}");
        calls.push(JsonCall { step: 0, function, probe });
    }
    Ok(())
}

struct JsonFinder {
    /// (function name, argument SQL)
    found: Vec<(String, String)>,
    next: usize,
}

impl VisitorMut for JsonFinder {
    type Break = CellError;

    fn post_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<CellError> {
        let Expr::Function(Function { name, args, .. }) = expr else {
            return ControlFlow::Continue(());
        };
        let lower = name.to_string().to_ascii_lowercase();
        if lower != "json_parse" && lower != "json_get" {
            return ControlFlow::Continue(());
        }
        let list = match args {
            FunctionArguments::List(list) => list.args.clone(),
            _ => Vec::new(),
        };
        let exprs: Vec<Expr> = list
            .iter()
            .filter_map(|a| match a {
                FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e.clone()),
                _ => None,
            })
            .collect();
        let function = format!("__riffle_json_{}", self.next + self.found.len());
        let call = |arg: &Expr| {
            let mut f = match expr.clone() {
                Expr::Function(f) => f,
                _ => unreachable!("matched above"),
            };
            f.name = ObjectName(vec![Ident::new(&function)]);
            if let FunctionArguments::List(l) = &mut f.args {
                l.args = vec![FunctionArg::Unnamed(FunctionArgExpr::Expr(arg.clone()))];
            }
            Expr::Function(f)
        };
        let replacement = match (lower.as_str(), exprs.as_slice()) {
            ("json_parse", [arg]) if list.len() == 1 => {
                let r = call(arg);
                self.found.push((function.clone(), arg.to_string()));
                r
            }
            ("json_get", [arg, Expr::Value(Value::SingleQuotedString(path))]) if list.len() == 2 => {
                let fields: Vec<&str> = path.trim_start_matches("$.").split('.').filter(|p| !p.is_empty()).collect();
                if fields.is_empty() {
                    return ControlFlow::Break(CellError::new(
                        "json_get needs a path, such as json_get(value, 'commit.author.name')",
                    ));
                }
                let r = Expr::BinaryOp {
                    left: Box::new(Expr::Nested(Box::new(call(arg)))),
                    op: BinaryOperator::Arrow,
                    right: Box::new(Expr::Value(Value::SingleQuotedString(format!("{{{}}}", fields.join(","))))),
                };
                self.found.push((function.clone(), arg.to_string()));
                r
            }
            ("json_parse", _) => {
                return ControlFlow::Break(CellError::new("json_parse takes one argument: json_parse(value)"));
            }
            _ => {
                return ControlFlow::Break(CellError::new(
                    "json_get takes a value and a path in quotes: json_get(value, 'commit.author.name')",
                ));
            }
        };
        *expr = replacement;
        ControlFlow::Continue(())
    }
}

/// Words a Polars error for the cell.
pub(super) fn polars_error(error: &PolarsError) -> CellError {
    let message = error.to_string();
    let location = CellError::located_in_message(&message);
    CellError::new(message).at(location)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn running_aggregates_are_refused_not_wrong() {
        let Err(err) = rewrite("SELECT zone, SUM(fare) OVER (PARTITION BY zone ORDER BY ts) AS running FROM t") else {
            panic!("a running SUM should be refused");
        };
        assert!(err.message.contains("running aggregate") && err.message.contains("SUM"), "{}", err.message);
        assert!(err.hint.unwrap_or_default().contains("self-join"));
        // Without ORDER BY, a window aggregate is a per-partition total, which Polars computes.
        assert!(rewrite("SELECT zone, SUM(fare) OVER (PARTITION BY zone) AS total FROM t").is_ok());
    }

    #[test]
    fn table_functions_become_sources() {
        let r = rewrite(
            "SELECT * FROM read_csv('a/b.csv', header => false, delimiter => ';') AS t \
             JOIN kafka('events', \"from\" => 'earliest', partitions => '0,1') k ON t.a = k.a JOIN x ON t.a = x.a",
        )
        .unwrap();
        assert_eq!(r.sources.len(), 2);
        let SourceKind::File { path, options, .. } = &r.sources[0].kind else { panic!() };
        assert_eq!(path, "a/b.csv");
        assert_eq!(options.get("delimiter").map(String::as_str), Some(";"));
        let SourceKind::Kafka(range) = &r.sources[1].kind else { panic!() };
        assert_eq!(range.partitions, Some(vec![0, 1]));
        assert!(r.steps[0].sql.contains("__riffle_source_0 AS t"), "{}", r.steps[0].sql);
        assert_eq!(r.relations, vec!["x".to_string()]);
    }

    #[test]
    fn json_calls_get_probes() {
        let r = rewrite(
            "WITH e AS (SELECT json_parse(CAST(value AS STRING)) AS j, \"offset\" FROM kafka('events')) \
             SELECT j.event_type, json_get(raw, 'a.b') AS ab FROM e, other",
        )
        .unwrap();
        assert_eq!(r.json.len(), 2);
        assert_eq!((r.json[0].step, r.json[0].function.as_str()), (0, "__riffle_json_0"));
        assert!(r.json[0].probe.ends_with("FROM __riffle_source_0"), "{}", r.json[0].probe);
        assert_eq!(r.steps[0].name.as_deref(), Some("e"));
        assert_eq!((r.json[1].step, r.json[1].function.as_str()), (1, "__riffle_json_1"));
        assert!(r.json[1].probe.ends_with("FROM e, other"), "{}", r.json[1].probe);
        assert!(r.steps[1].sql.contains("(__riffle_json_1(raw)) -> '{a,b}'"), "{}", r.steps[1].sql);
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
