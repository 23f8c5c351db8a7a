//! A translated SQL expression: a Polars [`Expr`] with its Spark type, and
//! its value when it is a constant. Every function family works on these.

use polars::prelude::*;

use crate::CellError;

pub(crate) type SqlResult<T> = Result<T, CellError>;

/// A constant, folded at plan time (function arguments such as patterns,
/// digits or JSON paths must be constants).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Lit {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// Unscaled value and scale: `1.50` is `Decimal(150, 2)`.
    Decimal(i128, usize),
    Str(String),
}

/// An expression and its type. `dtype` is the Polars type the expression
/// evaluates to, which is also how its Spark type is named
/// ([`crate::engine::spark_type_name`]): Int32 is `int`, Int64 `bigint`,
/// Datetime(us, UTC) `timestamp`, List `array`, and so on.
#[derive(Debug, Clone)]
pub(crate) struct Typed {
    pub expr: Expr,
    pub dtype: DataType,
    pub lit: Option<Lit>,
}

/// What a function may need from the query around it.
#[derive(Debug, Clone)]
pub(crate) struct Cx {
    /// `current_timestamp()`, microseconds since the epoch, fixed per query.
    pub now_micros: i64,
}

/// Spark's `timestamp`: microseconds, in the session time zone (UTC).
pub(crate) fn timestamp_type() -> DataType {
    DataType::Datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))
}

impl Typed {
    pub fn new(expr: Expr, dtype: DataType) -> Typed {
        Typed { expr, dtype, lit: None }
    }

    /// A constant of the given value.
    pub fn constant(lit: Lit) -> Typed {
        let (expr, dtype) = match &lit {
            Lit::Null => (Expr::Literal(LiteralValue::untyped_null()), DataType::Null),
            Lit::Bool(b) => (lit_expr(*b), DataType::Boolean),
            Lit::Int(n) => match i32::try_from(*n) {
                Ok(small) => (lit_expr(small), DataType::Int32),
                Err(_) => (lit_expr(*n), DataType::Int64),
            },
            Lit::Float(x) => (lit_expr(*x), DataType::Float64),
            Lit::Decimal(unscaled, scale) => {
                let digits = unscaled.unsigned_abs().to_string().len().max(*scale).max(1);
                let dtype = DataType::Decimal(Some(digits), Some(*scale));
                (lit_expr(decimal_text(*unscaled, *scale)).cast(dtype.clone()), dtype)
            }
            Lit::Str(s) => (lit_expr(s.clone()), DataType::String),
        };
        Typed { expr, dtype, lit: Some(lit) }
    }

    pub fn is_null_literal(&self) -> bool {
        matches!(self.lit, Some(Lit::Null)) || self.dtype == DataType::Null
    }

    pub fn lit_str(&self) -> Option<&str> {
        match &self.lit {
            Some(Lit::Str(s)) => Some(s),
            _ => None,
        }
    }

    pub fn lit_int(&self) -> Option<i64> {
        match &self.lit {
            Some(Lit::Int(n)) => Some(*n),
            _ => None,
        }
    }

    pub fn lit_bool(&self) -> Option<bool> {
        match &self.lit {
            Some(Lit::Bool(b)) => Some(*b),
            _ => None,
        }
    }

    /// A lenient cast (a value that does not convert becomes null), keeping
    /// nothing of the constant.
    pub fn cast_to(self, dtype: DataType) -> Typed {
        if self.dtype == dtype {
            return self;
        }
        Typed::new(self.expr.cast(dtype.clone()), dtype)
    }

    pub fn is_numeric(&self) -> bool {
        self.dtype.is_primitive_numeric() || matches!(self.dtype, DataType::Decimal(..))
    }

    pub fn is_string(&self) -> bool {
        self.dtype == DataType::String
    }
}

fn lit_expr<L: Literal>(value: L) -> Expr {
    polars::prelude::lit(value)
}

/// `150, 2` as `1.50`.
pub(crate) fn decimal_text(unscaled: i128, scale: usize) -> String {
    let digits = unscaled.unsigned_abs().to_string();
    let sign = if unscaled < 0 { "-" } else { "" };
    if scale == 0 {
        return format!("{sign}{digits}");
    }
    let digits = format!("{digits:0>width$}", width = scale + 1);
    let (whole, frac) = digits.split_at(digits.len() - scale);
    format!("{sign}{whole}.{frac}")
}

/// A refusal that names what the engine does not do and what to write instead.
pub(crate) fn refuse(what: impl Into<String>, instead: impl Into<String>) -> CellError {
    CellError::new(what.into()).hint(instead.into())
}

/// An error in the arguments of a function, as Spark words it.
pub(crate) fn bad_args(function: &str, want: &str) -> CellError {
    CellError::new(format!("{function}: wrong arguments")).hint(format!("write {want}"))
}

/// Words a Polars error for the cell.
pub(crate) fn polars_error(error: &PolarsError) -> CellError {
    let message = error.to_string();
    let location = CellError::located_in_message(&message);
    CellError::new(message).at(location)
}

/// An element-wise function of whole columns, with a fixed output type:
/// the way to compute what the lazy DSL has no expression for.
pub(crate) fn map_columns(
    inputs: Vec<Expr>,
    dtype: DataType,
    function: impl Fn(&mut [Column]) -> PolarsResult<Column> + Send + Sync + 'static,
) -> Expr {
    let out = dtype.clone();
    polars::prelude::map_multiple(function, inputs, move |_: &Schema, fields: &[Field]| {
        Ok(Field::new(fields.first().map(|f| f.name().clone()).unwrap_or_default(), out.clone()))
    })
}

/// `value`, unless `bad` is true on some row: then the query fails with
/// `message` (Spark's ANSI runtime errors: division by zero, a cast that
/// does not convert, an index out of bounds).
pub(crate) fn fail_if(value: Typed, bad: Expr, message: impl Into<String>) -> Typed {
    fail_if_showing(value, bad, None, message)
}

/// [`fail_if`], naming the first offending value: `{value}` in `message`
/// becomes the text of `shown` at the first bad row.
pub(crate) fn fail_if_showing(value: Typed, bad: Expr, shown: Option<Expr>, message: impl Into<String>) -> Typed {
    let message: String = message.into();
    let dtype = value.dtype.clone();
    let mut inputs = vec![value.expr, bad];
    let showing = shown.is_some();
    inputs.extend(shown.map(|s| s.cast(DataType::String)));
    let expr = map_columns(inputs, dtype.clone(), move |columns: &mut [Column]| {
        let bad = columns[1].as_materialized_series().bool()?.clone();
        if bad.any() {
            let first = bad.into_iter().position(|b| b == Some(true)).unwrap_or(0);
            let text = if showing {
                let shown = columns[2].as_materialized_series();
                let at = if shown.len() == 1 { 0 } else { first };
                match shown.str()?.get(at) {
                    Some(v) => format!("'{}'", v.chars().take(80).collect::<String>()),
                    None => "NULL".to_string(),
                }
            } else {
                String::new()
            };
            polars_bail!(ComputeError: "{}", message.replace("{value}", &text));
        }
        Ok(std::mem::take(&mut columns[0]))
    });
    Typed::new(expr, dtype)
}

/// Points an error without a place at `span` in the cell.
pub(crate) fn at_span(err: CellError, span: sqlparser::tokenizer::Span) -> CellError {
    if err.location.is_some() || span.start.line == 0 {
        return err;
    }
    err.at(Some(crate::Location { line: span.start.line as u32, column: span.start.column as u32 }))
}
