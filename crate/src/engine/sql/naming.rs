//! The column names Spark gives expressions written without an alias.

use polars::prelude::*;
use sqlparser::ast::{self, Expr as E, UnaryOperator, Value as V};

use super::cast;

/// The column name Spark gives an expression without an alias.
pub(crate) fn auto_name(e: &E) -> String {
    match e {
        E::Identifier(i) => i.value.clone(),
        E::CompoundIdentifier(parts) => parts.last().map(|p| p.value.clone()).unwrap_or_default(),
        E::CompoundFieldAccess { root, access_chain } => {
            if access_chain.iter().any(|a| matches!(a, ast::AccessExpr::Subscript(_))) {
                // With a subscript Spark keeps the whole path: payload.items[0].
                let mut out = match root.as_ref() {
                    E::CompoundIdentifier(parts) => parts.iter().map(|p| p.value.clone()).collect::<Vec<_>>().join("."),
                    other => auto_name(other),
                };
                for a in access_chain {
                    match a {
                        ast::AccessExpr::Dot(E::Identifier(f)) => out = format!("{out}.{}", f.value),
                        ast::AccessExpr::Subscript(ast::Subscript::Index { index }) => {
                            out = format!("{out}[{}]", auto_name(index))
                        }
                        other => out = format!("{out}{other}"),
                    }
                }
                return out;
            }
            let mut out = auto_name(root);
            for a in access_chain {
                match a {
                    ast::AccessExpr::Dot(E::Identifier(f)) => out = f.value.clone(),
                    ast::AccessExpr::Subscript(ast::Subscript::Index { index }) => {
                        out = format!("{out}[{}]", auto_name(index));
                    }
                    other => out = format!("{out}{other}"),
                }
            }
            out
        }
        E::Nested(inner) => auto_name(inner),
        E::Value(v) => match &v.value {
            V::SingleQuotedString(s) | V::DoubleQuotedString(s) => s.clone(),
            V::Null => "NULL".into(),
            V::Boolean(b) => b.to_string(),
            other => other.to_string(),
        },
        E::BinaryOp { left, op, right } => format!("({} {} {})", auto_name(left), op, auto_name(right)),
        E::UnaryOp { op: UnaryOperator::Minus, expr } => match expr.as_ref() {
            E::Value(_) => format!("-{}", auto_name(expr)),
            _ => format!("(- {})", auto_name(expr)),
        },
        E::UnaryOp { op, expr } => format!("({op} {})", auto_name(expr)),
        E::IsNull(x) => format!("({} IS NULL)", auto_name(x)),
        E::IsNotNull(x) => format!("({} IS NOT NULL)", auto_name(x)),
        E::Cast { expr, data_type, kind, .. } => {
            let t = super::super::output::spark_type_name(&cast::sql_type(data_type).unwrap_or(DataType::Null))
                .to_uppercase();
            let word = if matches!(kind, ast::CastKind::TryCast) { "TRY_CAST" } else { "CAST" };
            if t == "STRING" && !matches!(kind, ast::CastKind::TryCast) {
                // Spark names a cast to string after its input.
                return auto_name(expr);
            }
            format!("{word}({} AS {t})", auto_name(expr))
        }
        E::Function(f) => {
            let name = f.name.to_string().to_lowercase();
            let (distinct, args) = match &f.args {
                ast::FunctionArguments::List(list) => (
                    matches!(list.duplicate_treatment, Some(ast::DuplicateTreatment::Distinct)),
                    list.args
                        .iter()
                        .map(|a| match a {
                            ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(x)) => auto_name(x),
                            ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Wildcard) => "1".into(),
                            other => other.to_string(),
                        })
                        .collect::<Vec<_>>(),
                ),
                _ => (false, Vec::new()),
            };
            if name.starts_with("__lit_") {
                return args.join("");
            }
            let name = name.trim_start_matches("__").to_string();
            let name = match name.as_str() {
                "count" if args.first().is_some_and(|a| a == "1") && !distinct => "count".into(),
                "mean" => "avg".into(),
                other => other.to_string(),
            };
            let prefix = if distinct { "DISTINCT " } else { "" };
            let mut out = format!("{name}({prefix}{})", args.join(", "));
            if let Some(over) = &f.over {
                out = format!("{out} OVER ({over})");
            }
            out
        }
        E::Case { .. } => e.to_string(),
        other => other.to_string(),
    }
}
