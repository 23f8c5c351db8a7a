//! Riffle's SQL on top of Polars SQL: table functions are cut out of the
//! statement and replaced by names the host's bytes are registered under.

use std::collections::BTreeMap;
use std::ops::ControlFlow;

use polars::prelude::PolarsError;
use sqlparser::ast::{
    Expr, FunctionArg, FunctionArgExpr, Ident, ObjectName, Statement, TableFactor, UnaryOperator, Value,
    VisitMut, VisitorMut,
};
use sqlparser::dialect::GenericDialect;
use sqlparser::parser::{Parser, ParserOptions};

use super::source::{SourceFormat, SourceRequest};
use crate::CellError;

pub(super) struct Rewritten {
    pub sql: String,
    pub sources: Vec<SourceRequest>,
    /// Every plain table name the statement mentions.
    pub relations: Vec<String>,
}

pub(super) fn rewrite(source: &str) -> Result<Rewritten, CellError> {
    let mut statements = Parser::new(&GenericDialect)
        .with_options(ParserOptions { trailing_commas: true, ..Default::default() })
        .try_with_sql(source)
        .and_then(|mut p| p.parse_statements())
        .map_err(|e| {
            let message = e.to_string();
            let location = CellError::located_in_message(&message);
            CellError::new(message).at(location)
        })?;
    let mut statement = match statements.len() {
        0 => return Err(CellError::new("the cell is empty").hint("write a query, such as SELECT 1 + 1 AS two")),
        1 => statements.remove(0),
        n => {
            return Err(CellError::new(format!("the cell holds {n} statements; a SQL cell runs one"))
                .hint("split it into several cells; each cell's result is a table the next can read"));
        }
    };
    if !matches!(statement, Statement::Query(_)) {
        return Err(CellError::new("only queries (SELECT, WITH, VALUES) run in a cell for now"));
    }
    let mut visitor = SourceVisitor::default();
    if let ControlFlow::Break(error) = statement.visit(&mut visitor) {
        return Err(error);
    }
    Ok(Rewritten { sql: statement.to_string(), sources: visitor.sources, relations: visitor.relations })
}

#[derive(Default)]
struct SourceVisitor {
    sources: Vec<SourceRequest>,
    relations: Vec<String>,
}

impl VisitorMut for SourceVisitor {
    type Break = CellError;

    fn pre_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<CellError> {
        let TableFactor::Table { name, args, .. } = factor else { return ControlFlow::Continue(()) };
        let Some(function_args) = args.take() else {
            let relation = name.to_string();
            if !self.relations.contains(&relation) {
                self.relations.push(relation);
            }
            return ControlFlow::Continue(());
        };
        let function = name.to_string();
        let Some(format) = SourceFormat::from_function_name(&function) else {
            return ControlFlow::Break(
                CellError::new(format!("unknown table function {function}()")).hint("sources are read_csv('path')"),
            );
        };
        match source_request(format, &function_args.args, self.sources.len()) {
            Ok(request) => {
                *name = ObjectName(vec![Ident::new(&request.id)]);
                self.sources.push(request);
                ControlFlow::Continue(())
            }
            Err(e) => ControlFlow::Break(e),
        }
    }
}

fn source_request(format: SourceFormat, args: &[FunctionArg], index: usize) -> Result<SourceRequest, CellError> {
    let function = format.function_name();
    let mut path = None;
    let mut options = BTreeMap::new();
    for arg in args {
        match arg {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) if path.is_none() => {
                path = Some(literal(e).ok_or_else(|| {
                    CellError::new(format!("{function}(): the path must be a string literal, such as '{}'", "trips.csv"))
                })?);
            }
            FunctionArg::Named { name, arg: FunctionArgExpr::Expr(e), .. } => {
                let value = literal(e).ok_or_else(|| {
                    CellError::new(format!("{function}(): option {name} must be a literal (a string, number or boolean)"))
                })?;
                options.insert(name.value.to_ascii_lowercase(), value);
            }
            other => {
                return Err(CellError::new(format!("{function}(): unexpected argument {other}"))
                    .hint(format!("write {function}('path', option => value)")));
            }
        }
    }
    let path = path.ok_or_else(|| CellError::new(format!("{function}() needs a path, such as {function}('trips.csv')")))?;
    Ok(SourceRequest { id: format!("__riffle_source_{index}"), format, path, options })
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
    fn read_csv_becomes_a_source() {
        let r = rewrite("SELECT * FROM read_csv('a/b.csv', header => false, delimiter => ';') AS t JOIN x ON t.a = x.a")
            .unwrap();
        assert_eq!(r.sources.len(), 1);
        assert_eq!(r.sources[0].path, "a/b.csv");
        assert_eq!(r.sources[0].options.get("header").map(String::as_str), Some("false"));
        assert_eq!(r.sources[0].options.get("delimiter").map(String::as_str), Some(";"));
        assert!(r.sql.contains("__riffle_source_0 AS t"), "{}", r.sql);
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
