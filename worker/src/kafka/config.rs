//! Kafka client settings: a bootstrap address plus librdkafka properties
//! passed straight through, so real clusters (TLS, SASL) work as they do with
//! any librdkafka tool.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use rdkafka::ClientConfig;
use rdkafka::consumer::BaseConsumer;

/// The broker the gateway talks to when none is given: `scripts/kafka.sh start`.
pub const DEFAULT_BOOTSTRAP: &str = "127.0.0.1:9092";

/// Environment variables with this prefix are librdkafka settings:
/// `RIFFLE_KAFKA_SECURITY_PROTOCOL=SASL_SSL` is `security.protocol=SASL_SSL`.
const ENV_PREFIX: &str = "RIFFLE_KAFKA_";
/// Ours, not librdkafka's.
const OWN_ENV: &[&str] = &["RIFFLE_KAFKA_BOOTSTRAP", "RIFFLE_KAFKA_PROPERTIES", "RIFFLE_KAFKA_TIMEOUT_MS"];

#[derive(Debug, Clone)]
pub struct KafkaConfig {
    pub bootstrap: String,
    /// librdkafka settings, applied over Riffle's defaults.
    pub properties: BTreeMap<String, String>,
    /// The deadline for metadata and admin calls.
    pub timeout: Duration,
}

impl KafkaConfig {
    pub fn new(bootstrap: impl Into<String>) -> KafkaConfig {
        KafkaConfig { bootstrap: bootstrap.into(), properties: BTreeMap::new(), timeout: Duration::from_secs(5) }
    }

    /// Builds the settings from, lowest first: a Java-style properties file,
    /// `RIFFLE_KAFKA_*` variables, and the bootstrap flag.
    pub fn load(
        bootstrap: Option<String>,
        properties_file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<KafkaConfig> {
        let mut properties = BTreeMap::new();
        if let Some(file) = properties_file {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("could not read the Kafka properties file {}", file.display()))?;
            for (n, line) in text.lines().enumerate() {
                let line = line.trim();
                if line.is_empty() || line.starts_with('#') || line.starts_with('!') {
                    continue;
                }
                let Some((k, v)) = line.split_once('=').or_else(|| line.split_once(':')) else {
                    bail!("{}:{}: expected key=value, found {line:?}", file.display(), n + 1);
                };
                properties.insert(k.trim().to_string(), v.trim().to_string());
            }
        }
        let mut timeout = Duration::from_secs(5);
        for (key, value) in env {
            if key == "RIFFLE_KAFKA_TIMEOUT_MS" {
                let ms: u64 =
                    value.parse().with_context(|| format!("RIFFLE_KAFKA_TIMEOUT_MS={value} is not a number"))?;
                timeout = Duration::from_millis(ms);
            }
            if let Some(name) = key.strip_prefix(ENV_PREFIX) {
                if OWN_ENV.contains(&key.as_str()) || name.is_empty() {
                    continue;
                }
                properties.insert(name.to_ascii_lowercase().replace('_', "."), value);
            }
        }
        let bootstrap = bootstrap
            .filter(|b| !b.is_empty())
            .or_else(|| properties.remove("bootstrap.servers"))
            .unwrap_or_else(|| DEFAULT_BOOTSTRAP.to_string());
        properties.remove("bootstrap.servers");
        let config = KafkaConfig { bootstrap, properties, timeout };
        config.validate()?;
        Ok(config)
    }

    /// Fails at start, not at the first request, on a setting librdkafka does not know.
    fn validate(&self) -> Result<()> {
        let _: BaseConsumer = self.consumer("riffle-validate").create().map_err(|e| {
            anyhow::anyhow!(
                "the Kafka settings are not valid: {e}. RIFFLE_KAFKA_<NAME> sets librdkafka's <name> \
                 (dots as underscores), e.g. RIFFLE_KAFKA_SECURITY_PROTOCOL=SASL_SSL"
            )
        })?;
        Ok(())
    }

    fn base(&self) -> ClientConfig {
        let mut c = ClientConfig::new();
        c.set("bootstrap.servers", &self.bootstrap)
            .set("client.id", "riffle-gateway")
            .set("socket.connection.setup.timeout.ms", "5000")
            .set("reconnect.backoff.max.ms", "2000")
            .set("log.connection.close", "false");
        c
    }

    fn apply_user(&self, c: &mut ClientConfig) {
        for (k, v) in &self.properties {
            c.set(k, v);
        }
    }

    pub fn admin(&self) -> ClientConfig {
        let mut c = self.base();
        self.apply_user(&mut c);
        c
    }

    /// A consumer that is assigned partitions by hand and never commits.
    pub fn consumer(&self, group: &str) -> ClientConfig {
        let mut c = self.base();
        c.set("group.id", group)
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set("enable.partition.eof", "true")
            .set("auto.offset.reset", "error")
            .set("allow.auto.create.topics", "false")
            .set("fetch.wait.max.ms", "100")
            // librdkafka (2.4+) waits this long before fetching again once a
            // partition's local queue is full; its default of 1 s made a
            // 1,000,000-message read take 5.9 s instead of 1.2 s here.
            .set("fetch.queue.backoff.ms", "10");
        self.apply_user(&mut c);
        c
    }

    /// The producer: every record acknowledged by all in-sync replicas, with
    /// idempotence so a retry after a broker restart writes no duplicate.
    pub fn producer(&self) -> ClientConfig {
        let mut c = self.base();
        c.set("acks", "all")
            .set("enable.idempotence", "true")
            .set("linger.ms", "5")
            .set("message.timeout.ms", "60000")
            // After a broker restart librdkafka may cache a partition as
            // leaderless ("new leader -1 not found in cache") and wait for the
            // next full metadata refresh, 5 minutes by default; 10 s bounds that.
            .set("topic.metadata.refresh.interval.ms", "10000")
            .set("queue.buffering.max.messages", "500000")
            .set("queue.buffering.max.kbytes", "1048576");
        self.apply_user(&mut c);
        // Not the user's to turn off: the API promises acks=all and idempotence.
        c.set("acks", "all").set("enable.idempotence", "true");
        c
    }

    /// The producer's limit on one record, as librdkafka checks it.
    pub fn max_message_bytes(&self) -> usize {
        self.properties.get("message.max.bytes").and_then(|v| v.parse().ok()).unwrap_or(1_000_000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_and_file_become_librdkafka_settings() {
        let dir = std::env::temp_dir().join(format!("riffle-kafka-props-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("client.properties");
        std::fs::write(
            &file,
            "# a comment\nbootstrap.servers=broker:9093\nclient.rack = r1\nsocket.keepalive.enable=true\n",
        )
        .unwrap();
        let env = [
            ("RIFFLE_KAFKA_SOCKET_KEEPALIVE_ENABLE".to_string(), "false".to_string()),
            ("RIFFLE_KAFKA_PROPERTIES".to_string(), file.display().to_string()),
            ("RIFFLE_KAFKA_TIMEOUT_MS".to_string(), "1500".to_string()),
            ("HOME".to_string(), "/root".to_string()),
        ];
        let c = KafkaConfig::load(None, Some(&file), env).unwrap();
        assert_eq!(c.bootstrap, "broker:9093");
        assert_eq!(c.properties.get("client.rack").map(String::as_str), Some("r1"));
        assert_eq!(c.properties.get("socket.keepalive.enable").map(String::as_str), Some("false"));
        assert!(!c.properties.contains_key("properties"));
        assert_eq!(c.timeout, Duration::from_millis(1500));
        let flag = KafkaConfig::load(Some("other:1".into()), Some(&file), []).unwrap();
        assert_eq!(flag.bootstrap, "other:1");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn unknown_settings_fail_at_start() {
        let env = [("RIFFLE_KAFKA_NO_SUCH_SETTING".to_string(), "1".to_string())];
        let e = KafkaConfig::load(None, None, env).unwrap_err().to_string();
        assert!(e.contains("no.such.setting"), "{e}");
    }
}
