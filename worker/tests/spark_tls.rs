//! `sc://...;use_ssl=true`: the gateway reaches Spark Connect over TLS.
//!
//! The real Spark Connect server speaks plain gRPC, so the test puts a TLS
//! front before it, as a cluster's ingress does: a certificate for
//! `localhost` signed by a throwaway CA (made with the `openssl` tool), ALPN
//! h2, and each connection copied through to Spark's port. Needs
//! `RIFFLE_SPARK` as the other Spark tests do.

#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use riffle_gateway::spark::SparkUrl;
use riffle_gateway::{Config, app};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;
use tower::ServiceExt;

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl").args(args).current_dir(dir).output().expect("the openssl tool runs");
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// A CA, and a server certificate for localhost that it signed: (CA PEM, leaf PEM, leaf key PEM).
fn certificates(dir: &Path) -> (String, Vec<u8>, Vec<u8>) {
    std::fs::create_dir_all(dir).unwrap();
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=riffle test CA",
        ],
    );
    std::fs::write(
        dir.join("leaf.ext"),
        "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n\
         extendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(
        dir,
        &["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "leaf.key", "-out", "leaf.csr", "-subj", "/CN=localhost"],
    );
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "leaf.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "leaf.pem",
            "-days",
            "2",
            "-extfile",
            "leaf.ext",
        ],
    );
    let read = |name: &str| std::fs::read(dir.join(name)).unwrap();
    (String::from_utf8(read("ca.pem")).unwrap(), read("leaf.pem"), read("leaf.key"))
}

/// A TLS front on 127.0.0.1 for the Spark Connect server at `spark`; its port.
async fn tls_front(spark: &SparkUrl, leaf: &[u8], key: &[u8]) -> u16 {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(leaf).map(Result::unwrap).collect();
    let key = PrivateKeyDer::from_pem_slice(key).unwrap();
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    config.alpn_protocols = vec![b"h2".to_vec()];
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let target = format!("{}:{}", spark.host, spark.port);
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, target) = (acceptor.clone(), target.clone());
            tokio::spawn(async move {
                // A client that does not trust the certificate ends the handshake: nothing to copy.
                let Ok(mut tls) = acceptor.accept(tcp).await else { return };
                let Ok(mut upstream) = tokio::net::TcpStream::connect(&target).await else { return };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut upstream).await;
            });
        }
    });
    port
}

/// `SELECT 1L AS one` through a gateway with Spark at `url`: the status and the body.
async fn select_one(url: SparkUrl) -> (StatusCode, String) {
    let dir = std::env::temp_dir().join(format!("riffle-spark-tls-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(dir.join("dist")).unwrap();
    std::fs::create_dir_all(dir.join("data")).unwrap();
    let router = app(Config::new(dir.join("dist"), dir.join("data"), None).unwrap().with_spark(url));
    let request = Request::post("/api/spark/run")
        .header("content-type", "application/json")
        .body(Body::from(r#"{"statements": ["SELECT 1L AS one"]}"#))
        .unwrap();
    let response = router.oneshot(request).await.unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let _ = std::fs::remove_dir_all(&dir);
    (status, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test]
async fn spark_over_tls() {
    let Some(spark) = common::spark_url() else { return };
    let dir = std::env::temp_dir().join(format!("riffle-spark-tls-certs-{}", uuid::Uuid::new_v4()));
    let (ca, leaf, key) = certificates(&dir);
    let port = tls_front(&spark, &leaf, &key).await;

    // Trusting the CA, the run goes through TLS and answers.
    let mut url = SparkUrl::parse(&format!("sc://localhost:{port}/;use_ssl=true")).unwrap();
    url.tls_ca = Some(ca);
    let (status, body) = select_one(url.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // The summary frame, last, has no error.
    assert!(body.contains("\"rows\":1") && !body.contains("\"kind\":"), "{body}");

    // Not trusting it (the system's roots only), the gateway does not talk to it.
    url.tls_ca = None;
    let (status, body) = select_one(url).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");

    // Plain gRPC to the TLS port is no answer either.
    let (status, body) = select_one(SparkUrl::parse(&format!("sc://localhost:{port}")).unwrap()).await;
    assert!(status != StatusCode::OK || body.contains("\"kind\":\"unreachable\""), "{status} {body}");
    let _ = std::fs::remove_dir_all(&dir);
}
