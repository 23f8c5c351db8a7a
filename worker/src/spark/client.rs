//! A Spark Connect client over gRPC (tonic + prost): ExecutePlan with a SQL
//! relation or a SQL command, streaming the responses back, and Interrupt.

use std::time::Duration;

use tonic::Status;
use tonic::codegen::http::uri::PathAndQuery;
use tonic::metadata::MetadataValue;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};
use tonic_prost::ProstCodec;

use super::proto::{self, ExecutePlanRequest, ExecutePlanResponse, InterruptRequest, InterruptResponse};

const EXECUTE_PLAN: &str = "/spark.connect.SparkConnectService/ExecutePlan";
const INTERRUPT: &str = "/spark.connect.SparkConnectService/Interrupt";
const RELEASE_SESSION: &str = "/spark.connect.SparkConnectService/ReleaseSession";
const CLIENT_TYPE: &str = concat!("riffle/", env!("CARGO_PKG_VERSION"));
/// Spark sends Arrow batches of up to spark.connect.grpc.arrow.maxBatchSize
/// (4 MiB by default) and allows messages up to 128 MiB.
const MAX_MESSAGE: usize = 256 * 1024 * 1024;

/// Where the Spark Connect server is and who we are there: parsed from a
/// `sc://host:port/;user_id=...;token=...` connection string, as Spark documents it.
#[derive(Clone, PartialEq, Eq)]
pub struct SparkUrl {
    pub host: String,
    pub port: u16,
    pub user_id: String,
    pub token: Option<String>,
    /// TLS (`use_ssl=true`), with the system's roots and [`SparkUrl::tls_ca`].
    pub use_ssl: bool,
    /// A fixed session id from the URL (`session_id=`); otherwise a new one per gateway.
    pub session_id: Option<String>,
    /// More trusted certificates for TLS, PEM (`--spark-ca-file`), e.g. a private CA.
    pub tls_ca: Option<String>,
}

/// Without the token, which must reach no log.
impl std::fmt::Debug for SparkUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SparkUrl")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user_id", &self.user_id)
            .field("token", &self.token.as_ref().map(|_| "<hidden>"))
            .field("use_ssl", &self.use_ssl)
            .field("session_id", &self.session_id)
            .finish()
    }
}

/// `localhost`, `127.x.x.x` or `::1`: a token may go there without TLS.
fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost") || bare.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

impl SparkUrl {
    pub const DEFAULT_PORT: u16 = 15002;

    pub fn parse(text: &str) -> Result<SparkUrl, String> {
        let text = text.trim();
        let Some(rest) = text.strip_prefix("sc://") else {
            return Err(format!("the Spark Connect URL {text:?} must start with sc://, e.g. sc://127.0.0.1:15002"));
        };
        let (authority, params) = match rest.split_once('/') {
            Some((a, p)) => (a, p),
            None => (rest, ""),
        };
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || h.starts_with('[') => {
                let port = p
                    .parse::<u16>()
                    .map_err(|_| format!("the Spark Connect URL {text:?} has a port {p:?} that is not a number"))?;
                (h, port)
            }
            _ => (authority, Self::DEFAULT_PORT),
        };
        if host.is_empty() {
            return Err(format!("the Spark Connect URL {text:?} names no host, e.g. sc://127.0.0.1:15002"));
        }
        let mut url = SparkUrl {
            host: host.to_string(),
            port,
            user_id: "riffle".to_string(),
            token: None,
            use_ssl: false,
            session_id: None,
            tls_ca: None,
        };
        for param in params.trim_start_matches(';').split(';').filter(|p| !p.is_empty()) {
            let Some((key, value)) = param.split_once('=') else {
                return Err(format!("the Spark Connect URL {text:?} has a parameter {param:?} without =value"));
            };
            match key {
                "user_id" => url.user_id = value.to_string(),
                "token" => url.token = Some(value.to_string()),
                "use_ssl" => url.use_ssl = value.eq_ignore_ascii_case("true"),
                "session_id" => url.session_id = Some(value.to_string()),
                // Known to Spark's clients, meaningless here.
                "user_agent" | "grpc_max_message_size" => {}
                _ => {
                    return Err(format!(
                        "the Spark Connect URL {text:?} has an unknown parameter {key:?} \
                         (known: user_id, token, use_ssl, session_id, user_agent)"
                    ));
                }
            }
        }
        if url.token.is_some() && !url.use_ssl && !is_loopback(&url.host) {
            return Err(format!(
                "the Spark Connect URL {} has a token but no TLS, so the token would cross the network in the clear; \
                 add ;use_ssl=true, or reach Spark through localhost (an SSH tunnel)",
                url.display()
            ));
        }
        Ok(url)
    }

    /// The URL without its token, for messages and logs.
    pub fn display(&self) -> String {
        format!("sc://{}:{}", self.host, self.port)
    }
}

/// A Spark Connect session: the gateway's own, or one per notebook ([`SparkClient::new_session`]).
#[derive(Clone)]
pub struct SparkClient {
    url: SparkUrl,
    session_id: String,
    grpc: tonic::client::Grpc<Channel>,
}

impl SparkClient {
    /// Makes the client; it connects on first use (and reconnects after a failure).
    pub fn new(url: SparkUrl) -> Result<SparkClient, String> {
        let scheme = if url.use_ssl { "https" } else { "http" };
        let mut endpoint = Endpoint::from_shared(format!("{scheme}://{}:{}", url.host, url.port))
            .map_err(|e| format!("the Spark Connect URL {} is not a valid address: {e}", url.display()))?;
        if url.use_ssl {
            let mut tls = ClientTlsConfig::new()
                .with_native_roots()
                .domain_name(url.host.trim_start_matches('[').trim_end_matches(']'));
            if let Some(pem) = &url.tls_ca {
                tls = tls.ca_certificate(Certificate::from_pem(pem));
            }
            endpoint = endpoint
                .tls_config(tls)
                .map_err(|e| format!("TLS for the Spark Connect URL {} could not be set up: {e}", url.display()))?;
        }
        let endpoint = endpoint
            .connect_timeout(Duration::from_secs(5))
            .tcp_nodelay(true)
            .http2_keep_alive_interval(Duration::from_secs(30));
        let grpc = tonic::client::Grpc::new(endpoint.connect_lazy())
            .max_decoding_message_size(MAX_MESSAGE)
            .max_encoding_message_size(MAX_MESSAGE);
        let session_id = url.session_id.clone().unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        Ok(SparkClient { url, session_id, grpc })
    }

    pub fn url(&self) -> &SparkUrl {
        &self.url
    }

    pub fn session_id(&self) -> &str {
        &self.session_id
    }

    /// The same server and connection, in a new session of its own.
    pub fn new_session(&self) -> SparkClient {
        SparkClient { session_id: uuid::Uuid::new_v4().to_string(), ..self.clone() }
    }

    /// Ends this session on Spark: its temporary views and settings go.
    pub async fn release(&self) -> Result<(), Status> {
        let message = proto::ReleaseSessionRequest {
            session_id: self.session_id.clone(),
            user_context: Some(self.user_context()),
            client_type: Some(CLIENT_TYPE.to_string()),
            allow_reconnect: false,
        };
        let mut grpc = self.ready().await?;
        let codec = ProstCodec::<proto::ReleaseSessionRequest, proto::ReleaseSessionResponse>::default();
        grpc.unary(self.request(message), PathAndQuery::from_static(RELEASE_SESSION), codec).await?;
        Ok(())
    }

    fn user_context(&self) -> proto::UserContext {
        proto::UserContext { user_id: self.url.user_id.clone(), user_name: self.url.user_id.clone() }
    }

    fn request<T>(&self, message: T) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        if let Some(token) = &self.url.token
            && let Ok(value) = MetadataValue::try_from(format!("Bearer {token}"))
        {
            request.metadata_mut().insert("authorization", value);
        }
        request
    }

    /// Connects (or checks the connection): `Unavailable` when Spark cannot be reached.
    pub async fn connect(&self) -> Result<(), Status> {
        self.ready().await.map(|_| ())
    }

    async fn ready(&self) -> Result<tonic::client::Grpc<Channel>, Status> {
        let mut grpc = self.grpc.clone();
        grpc.ready().await.map_err(|e| Status::unavailable(format!("could not connect: {e}")))?;
        Ok(grpc)
    }

    /// Runs a plan and returns the stream of its responses. `operation_id`
    /// must be a UUID; it names the operation for [`SparkClient::interrupt`].
    pub async fn execute(
        &self,
        plan: proto::Plan,
        operation_id: &str,
    ) -> Result<tonic::Streaming<ExecutePlanResponse>, Status> {
        let message = ExecutePlanRequest {
            session_id: self.session_id.clone(),
            user_context: Some(self.user_context()),
            plan: Some(plan),
            client_type: Some(CLIENT_TYPE.to_string()),
            operation_id: Some(operation_id.to_string()),
            tags: vec!["riffle".to_string()],
        };
        let mut grpc = self.ready().await?;
        let codec = ProstCodec::<ExecutePlanRequest, ExecutePlanResponse>::default();
        let response =
            grpc.server_streaming(self.request(message), PathAndQuery::from_static(EXECUTE_PLAN), codec).await?;
        Ok(response.into_inner())
    }

    /// Runs a SQL query as a relation: its rows come back as Arrow batches.
    pub async fn sql(&self, query: &str, operation_id: &str) -> Result<tonic::Streaming<ExecutePlanResponse>, Status> {
        self.execute(sql_plan(query), operation_id).await
    }

    /// Runs a SQL command with no rows to return (CREATE VIEW, INSERT, a
    /// write), eagerly, and waits until it is done.
    pub async fn command(&self, sql: &str, operation_id: &str) -> Result<(), Status> {
        let mut stream = self.execute(command_plan(sql), operation_id).await?;
        while stream.message().await?.is_some() {}
        Ok(())
    }

    /// Interrupts one operation of this session; returns the ids Spark interrupted.
    pub async fn interrupt(&self, operation_id: &str) -> Result<Vec<String>, Status> {
        let message = InterruptRequest {
            session_id: self.session_id.clone(),
            user_context: Some(self.user_context()),
            client_type: Some(CLIENT_TYPE.to_string()),
            interrupt_type: proto::InterruptType::OperationId as i32,
            interrupt: Some(proto::interrupt_request::Interrupt::OperationId(operation_id.to_string())),
        };
        let mut grpc = self.ready().await?;
        let codec = ProstCodec::<InterruptRequest, InterruptResponse>::default();
        let response = grpc.unary(self.request(message), PathAndQuery::from_static(INTERRUPT), codec).await?;
        Ok(response.into_inner().interrupted_ids)
    }
}

fn sql_relation(query: &str) -> proto::Relation {
    proto::Relation {
        common: None,
        rel_type: Some(proto::relation::RelType::Sql(proto::Sql { query: query.to_string() })),
    }
}

/// A plan that evaluates a SQL query as a relation: its rows come back as Arrow batches.
pub fn sql_plan(query: &str) -> proto::Plan {
    proto::Plan { op_type: Some(proto::plan::OpType::Root(sql_relation(query))) }
}

/// A plan that runs SQL as a command, eagerly (DDL, INSERT, CACHE TABLE).
pub fn command_plan(sql: &str) -> proto::Plan {
    proto::Plan {
        op_type: Some(proto::plan::OpType::Command(proto::Command {
            command_type: Some(proto::command::CommandType::SqlCommand(proto::SqlCommand {
                input: Some(sql_relation(sql)),
            })),
        })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_spark_connect_urls() {
        let url = SparkUrl::parse("sc://spark.example:15003/;user_id=ada;token=s3cret;use_ssl=true").ok();
        assert_eq!(
            url,
            Some(SparkUrl {
                host: "spark.example".into(),
                port: 15003,
                user_id: "ada".into(),
                token: Some("s3cret".into()),
                use_ssl: true,
                session_id: None,
                tls_ca: None,
            })
        );
        // A token without TLS only to this machine.
        for host in ["localhost", "127.0.0.1", "[::1]"] {
            assert!(SparkUrl::parse(&format!("sc://{host}:15002/;token=s3cret")).is_ok(), "{host}");
        }
        let debug = format!("{:?}", SparkUrl::parse("sc://localhost/;token=s3cret").unwrap());
        assert!(!debug.contains("s3cret") && debug.contains("<hidden>"), "{debug}");
        let url = SparkUrl::parse("sc://localhost").ok();
        assert_eq!(url.as_ref().map(|u| (u.port, u.user_id.as_str())), Some((15002, "riffle")));
        assert_eq!(url.map(|u| u.display()), Some("sc://localhost:15002".to_string()));
    }

    #[test]
    fn rejects_bad_spark_connect_urls() {
        for (text, needle) in [
            ("http://x:15002", "must start with sc://"),
            ("sc://:15002", "names no host"),
            ("sc://x:port", "not a number"),
            ("sc://x:1/;bogus=1", "unknown parameter"),
            ("sc://x:1/;user_id", "without =value"),
            ("sc://x:1/;token=s3cret", "in the clear"),
            ("sc://10.0.0.7:1/;token=s3cret;use_ssl=false", "use_ssl=true"),
        ] {
            let err = SparkUrl::parse(text).err().unwrap_or_default();
            assert!(err.contains(needle), "{text}: {err}");
        }
    }
}
