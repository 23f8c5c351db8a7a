//! A cell's result: its frame, its schema in Spark's words, and the Arrow IPC
//! bytes of its first rows for display.

use polars::prelude::*;
use polars_io::SerWriter;
use polars_io::ipc::IpcStreamWriter;

use crate::CellError;
use crate::protocol::ColumnInfo;

/// The result of a cell, registered in the catalog under `name`.
#[derive(Debug, Clone)]
pub struct ResultTable {
    pub name: String,
    pub df: DataFrame,
}

impl ResultTable {
    pub fn new(name: String, df: DataFrame) -> Self {
        ResultTable { name, df }
    }

    pub fn rows(&self) -> usize {
        self.df.height()
    }

    pub fn schema(&self) -> Vec<ColumnInfo> {
        self.df
            .get_columns()
            .iter()
            .map(|c| ColumnInfo { name: c.name().to_string(), dtype: spark_type_name(c.dtype()) })
            .collect()
    }

    /// The first `rows` rows as an Arrow IPC stream. Strings and binaries are
    /// written in Arrow's classic layouts, which every Arrow reader knows.
    pub fn preview_ipc(&self, rows: usize) -> Result<Vec<u8>, CellError> {
        let mut head = self.df.head(Some(rows));
        head.align_chunks_par();
        let mut bytes = Vec::new();
        IpcStreamWriter::new(&mut bytes)
            .with_compat_level(CompatLevel::oldest())
            .finish(&mut head)
            .map_err(|e| CellError::new(format!("could not encode the result as Arrow: {e}")))?;
        Ok(bytes)
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
        DataType::Duration(_) => "interval".into(),
        DataType::Time => "time".into(),
        DataType::Decimal(p, s) => format!("decimal({},{})", p.unwrap_or(38), s.unwrap_or(0)),
        DataType::List(inner) | DataType::Array(inner, _) => format!("array<{}>", spark_type_name(inner)),
        DataType::Struct(fields) => {
            let inner: Vec<String> =
                fields.iter().map(|f| format!("{}:{}", f.name(), spark_type_name(f.dtype()))).collect();
            format!("struct<{}>", inner.join(","))
        }
        DataType::Null => "void".into(),
        other => other.to_string(),
    }
}
