//! A cell's result: its frame, its schema in Spark's words, and the Arrow IPC
//! bytes of its first rows for display.

use polars::prelude::*;

use crate::CellError;
use crate::protocol::ColumnInfo;

/// The result of a cell: a table, plus what the user should know about it.
#[derive(Debug, Clone)]
pub struct ResultTable {
    pub name: String,
    pub df: DataFrame,
    /// Short remarks: bad JSON rows, an empty Kafka range, what a write did.
    pub notes: Vec<String>,
    /// Text to show as is, such as `DESCRIBE`'s printSchema tree.
    pub text: Option<String>,
}

impl ResultTable {
    pub fn new(name: String, df: DataFrame) -> Self {
        ResultTable { name, df, notes: Vec::new(), text: None }
    }

    pub fn rows(&self) -> usize {
        self.df.height()
    }

    pub fn schema(&self) -> Vec<ColumnInfo> {
        schema_of(&self.df)
    }

    /// The first `rows` rows as an Arrow IPC stream.
    pub fn preview_ipc(&self, rows: usize) -> Result<Vec<u8>, CellError> {
        super::ipc::write_stream(&self.df, rows)
    }
}

/// A type's name as Spark's `printSchema` writes it.
pub fn spark_type_name(dtype: &DataType) -> String {
    match dtype {
        DataType::Boolean => "boolean".into(),
        DataType::Int8 => "tinyint".into(),
        DataType::Int16 => "smallint".into(),
        DataType::Int32 => "int".into(),
        DataType::Int64 => "bigint".into(),
        DataType::Int128 => "hugeint".into(),
        DataType::UInt8 => "tinyint unsigned".into(),
        DataType::UInt16 => "smallint unsigned".into(),
        DataType::UInt32 => "int unsigned".into(),
        DataType::UInt64 => "bigint unsigned".into(),
        DataType::Float32 => "float".into(),
        DataType::Float64 => "double".into(),
        DataType::String => "string".into(),
        DataType::Binary | DataType::BinaryOffset => "binary".into(),
        DataType::Date => "date".into(),
        DataType::Datetime(_, None) => "timestamp_ntz".into(),
        DataType::Datetime(_, Some(_)) => "timestamp".into(),
        DataType::Duration(_) => "interval day to second".into(),
        DataType::Time => "time".into(),
        DataType::Decimal(p, s) => format!("decimal({},{})", p.unwrap_or(38), s.unwrap_or(0)),
        DataType::List(inner) if map_entry(inner).is_some() => {
            let (k, v) = map_entry(inner).unwrap_or((&DataType::Null, &DataType::Null));
            format!("map<{},{}>", spark_type_name(k), spark_type_name(v))
        }
        DataType::List(inner) | DataType::Array(inner, _) => {
            format!("array<{}>", spark_type_name(inner))
        }
        DataType::Struct(fields) => {
            let inner: Vec<String> =
                fields.iter().map(|f| format!("{}:{}", f.name(), spark_type_name(f.dtype()))).collect();
            format!("struct<{}>", inner.join(","))
        }
        DataType::Null => "void".into(),
        other => other.to_string(),
    }
}

/// A map is held as a list of `{key, value}` structs: the key and value types
/// when `entry` is such a struct.
pub fn map_entry(entry: &DataType) -> Option<(&DataType, &DataType)> {
    match entry {
        DataType::Struct(fields) if fields.len() == 2 && fields[0].name() == "key" && fields[1].name() == "value" => {
            Some((fields[0].dtype(), fields[1].dtype()))
        }
        _ => None,
    }
}

/// The schema as Spark's `printSchema()` prints it:
///
/// ```text
/// root
///  |-- key: binary (nullable = true)
///  |-- commit: struct (nullable = true)
///  |    |-- message: string (nullable = true)
/// ```
pub fn print_schema(schema: &Schema) -> String {
    let mut out = String::from("root\n");
    for (name, dtype) in schema.iter() {
        print_field(&mut out, 1, name, dtype);
    }
    out
}

fn print_field(out: &mut String, depth: usize, name: &str, dtype: &DataType) {
    let indent = " |   ".repeat(depth - 1);
    let short = match dtype {
        DataType::Struct(_) => "struct".to_string(),
        DataType::List(_) | DataType::Array(..) => "array".to_string(),
        other => spark_type_name(other),
    };
    out.push_str(&format!("{indent} |-- {name}: {short} (nullable = true)\n"));
    match dtype {
        DataType::Struct(fields) => {
            for f in fields {
                print_field(out, depth + 1, f.name(), f.dtype());
            }
        }
        DataType::List(inner) | DataType::Array(inner, _) => {
            let indent = " |   ".repeat(depth);
            let short = match inner.as_ref() {
                DataType::Struct(_) => "struct".to_string(),
                DataType::List(_) | DataType::Array(..) => "array".to_string(),
                other => spark_type_name(other),
            };
            out.push_str(&format!("{indent} |-- element: {short} (containsNull = true)\n"));
            if let DataType::Struct(fields) = inner.as_ref() {
                for f in fields {
                    print_field(out, depth + 2, f.name(), f.dtype());
                }
            }
        }
        _ => {}
    }
}

/// A frame's columns with their types as Spark users read them.
pub fn schema_of(df: &DataFrame) -> Vec<ColumnInfo> {
    df.get_columns()
        .iter()
        .map(|c| ColumnInfo { name: c.name().to_string(), dtype: spark_type_name(c.dtype()) })
        .collect()
}
