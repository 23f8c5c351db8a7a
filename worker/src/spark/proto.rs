//! The few Spark Connect protocol messages the gateway uses, written by hand
//! with prost's derive macros (so no protoc is needed at build time). Field
//! numbers and oneofs follow Spark's published definitions in
//! `spark/connect/base.proto`, `relations.proto` and `commands.proto`
//! (package `spark.connect`). Fields the gateway does not use are left out:
//! protobuf readers skip unknown fields, and a proto3 writer may omit any field.

/// `spark.connect.Plan`: a relation to evaluate, or a command to run.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Plan {
    #[prost(oneof = "plan::OpType", tags = "1, 2")]
    pub op_type: Option<plan::OpType>,
}

pub mod plan {
    #[derive(Clone, PartialEq, prost::Oneof)]
    pub enum OpType {
        #[prost(message, tag = "1")]
        Root(super::Relation),
        #[prost(message, tag = "2")]
        Command(super::Command),
    }
}

/// `spark.connect.UserContext`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct UserContext {
    #[prost(string, tag = "1")]
    pub user_id: String,
    #[prost(string, tag = "2")]
    pub user_name: String,
}

/// `spark.connect.Relation`, with only the SQL relation type.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Relation {
    #[prost(message, optional, tag = "1")]
    pub common: Option<RelationCommon>,
    #[prost(oneof = "relation::RelType", tags = "10")]
    pub rel_type: Option<relation::RelType>,
}

pub mod relation {
    #[derive(Clone, PartialEq, prost::Oneof)]
    pub enum RelType {
        #[prost(message, tag = "10")]
        Sql(super::Sql),
    }
}

/// `spark.connect.RelationCommon`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RelationCommon {
    #[prost(int64, optional, tag = "2")]
    pub plan_id: Option<i64>,
}

/// `spark.connect.SQL`: a relation from a SQL query (no parameters).
#[derive(Clone, PartialEq, prost::Message)]
pub struct Sql {
    #[prost(string, tag = "1")]
    pub query: String,
}

/// `spark.connect.Command`, with only the SQL command type.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Command {
    #[prost(oneof = "command::CommandType", tags = "5")]
    pub command_type: Option<command::CommandType>,
}

pub mod command {
    #[derive(Clone, PartialEq, prost::Oneof)]
    pub enum CommandType {
        #[prost(message, tag = "5")]
        SqlCommand(super::SqlCommand),
    }
}

/// `spark.connect.SqlCommand`: runs a SQL command (DDL, INSERT) eagerly.
/// Since Spark 4 the query travels as `input`, a SQL relation.
#[derive(Clone, PartialEq, prost::Message)]
pub struct SqlCommand {
    #[prost(message, optional, tag = "6")]
    pub input: Option<Relation>,
}

/// `spark.connect.ExecutePlanRequest`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ExecutePlanRequest {
    #[prost(string, tag = "1")]
    pub session_id: String,
    #[prost(message, optional, tag = "2")]
    pub user_context: Option<UserContext>,
    #[prost(message, optional, tag = "3")]
    pub plan: Option<Plan>,
    #[prost(string, optional, tag = "4")]
    pub client_type: Option<String>,
    #[prost(string, optional, tag = "6")]
    pub operation_id: Option<String>,
    #[prost(string, repeated, tag = "7")]
    pub tags: Vec<String>,
}

/// `spark.connect.ExecutePlanResponse` (without metrics and schema, which
/// are Spark's own type descriptions; the Arrow batches carry the schema).
#[derive(Clone, PartialEq, prost::Message)]
pub struct ExecutePlanResponse {
    #[prost(string, tag = "1")]
    pub session_id: String,
    #[prost(string, tag = "15")]
    pub server_side_session_id: String,
    #[prost(string, tag = "12")]
    pub operation_id: String,
    #[prost(string, tag = "13")]
    pub response_id: String,
    #[prost(oneof = "execute_plan_response::ResponseType", tags = "2, 5, 14, 18")]
    pub response_type: Option<execute_plan_response::ResponseType>,
}

pub mod execute_plan_response {
    #[derive(Clone, PartialEq, prost::Oneof)]
    pub enum ResponseType {
        #[prost(message, tag = "2")]
        ArrowBatch(ArrowBatch),
        #[prost(message, tag = "5")]
        SqlCommandResult(SqlCommandResult),
        #[prost(message, tag = "14")]
        ResultComplete(ResultComplete),
        #[prost(message, tag = "18")]
        ExecutionProgress(ExecutionProgress),
    }

    /// Rows as an Arrow IPC stream (schema message, record batches, end).
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct ArrowBatch {
        #[prost(int64, tag = "1")]
        pub row_count: i64,
        #[prost(bytes = "bytes", tag = "2")]
        pub data: bytes::Bytes,
        #[prost(int64, optional, tag = "3")]
        pub start_offset: Option<i64>,
    }

    /// What a SQL command returned: a relation to read its rows from.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct SqlCommandResult {
        #[prost(message, optional, tag = "1")]
        pub relation: Option<super::Relation>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct ResultComplete {}

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct ExecutionProgress {
        #[prost(message, repeated, tag = "1")]
        pub stages: Vec<StageInfo>,
        #[prost(int64, tag = "2")]
        pub num_inflight_tasks: i64,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct StageInfo {
        #[prost(int64, tag = "1")]
        pub stage_id: i64,
        #[prost(int64, tag = "2")]
        pub num_tasks: i64,
        #[prost(int64, tag = "3")]
        pub num_completed_tasks: i64,
        #[prost(int64, tag = "4")]
        pub input_bytes_read: i64,
        #[prost(bool, tag = "5")]
        pub done: bool,
    }
}

/// `spark.connect.InterruptRequest`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct InterruptRequest {
    #[prost(string, tag = "1")]
    pub session_id: String,
    #[prost(message, optional, tag = "2")]
    pub user_context: Option<UserContext>,
    #[prost(string, optional, tag = "3")]
    pub client_type: Option<String>,
    #[prost(enumeration = "InterruptType", tag = "4")]
    pub interrupt_type: i32,
    #[prost(oneof = "interrupt_request::Interrupt", tags = "5, 6")]
    pub interrupt: Option<interrupt_request::Interrupt>,
}

pub mod interrupt_request {
    #[derive(Clone, PartialEq, prost::Oneof)]
    pub enum Interrupt {
        #[prost(string, tag = "5")]
        OperationTag(String),
        #[prost(string, tag = "6")]
        OperationId(String),
    }
}

/// `spark.connect.InterruptRequest.InterruptType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum InterruptType {
    Unspecified = 0,
    All = 1,
    Tag = 2,
    OperationId = 3,
}

/// `spark.connect.ReleaseSessionRequest`: ends a session on the server.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ReleaseSessionRequest {
    #[prost(string, tag = "1")]
    pub session_id: String,
    #[prost(message, optional, tag = "2")]
    pub user_context: Option<UserContext>,
    #[prost(string, optional, tag = "3")]
    pub client_type: Option<String>,
    #[prost(bool, tag = "4")]
    pub allow_reconnect: bool,
}

/// `spark.connect.ReleaseSessionResponse`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ReleaseSessionResponse {
    #[prost(string, tag = "1")]
    pub session_id: String,
    #[prost(string, tag = "2")]
    pub server_side_session_id: String,
}

/// `spark.connect.InterruptResponse`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct InterruptResponse {
    #[prost(string, tag = "1")]
    pub session_id: String,
    #[prost(string, repeated, tag = "2")]
    pub interrupted_ids: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    /// The wire bytes of a SQL plan: field 3 (plan) > field 1 (root) > field 10 (sql) > field 1 (query).
    #[test]
    fn sql_plan_encodes_with_spark_field_numbers() {
        let plan = Plan {
            op_type: Some(plan::OpType::Root(Relation {
                common: None,
                rel_type: Some(relation::RelType::Sql(Sql { query: "SELECT 1".into() })),
            })),
        };
        let bytes = plan.encode_to_vec();
        // 0x0a = field 1, length-delimited; 0x52 = field 10, length-delimited; 0x0a = field 1.
        assert_eq!(bytes, [&[0x0a, 12, 0x52, 10, 0x0a, 8][..], b"SELECT 1"].concat());
        assert_eq!(Plan::decode(bytes.as_slice()).ok(), Some(plan));
    }

    #[test]
    fn unknown_response_types_are_skipped() {
        // A response with an unknown oneof member (field 999, length 0) and an operation id.
        let mut bytes = vec![0xba, 0x3e, 0x00];
        bytes.extend_from_slice(&[0x62, 2, b'o', b'p']);
        let decoded = ExecutePlanResponse::decode(bytes.as_slice()).ok();
        assert_eq!(decoded.map(|r| (r.operation_id, r.response_type)), Some(("op".to_string(), None)));
    }
}
