//! `sparql-ask`: POST `ASK {}` to a SPARQL endpoint (Apache Fuseki's
//! `/knowledge/query` by default) from the source host; the answer must be
//! the SPARQL JSON result `true`. A protocol probe: any SPARQL 1.1 server
//! answers it, so it lives in the engine, not in the Argos profile.

use super::context::ATTEMPT_TIMEOUT;
use super::{ProbeFailure, SshHost, excerpt, http_client};

/// The endpoint path when the scenario names none (Fuseki's dataset `knowledge`).
pub const DEFAULT_PATH: &str = "/knowledge/query";

pub async fn ask(
    ssh: &SshHost,
    address: &str,
    port: u16,
    path: &str,
) -> Result<String, ProbeFailure> {
    let mut tunnel = ssh.connect(address, port, ATTEMPT_TIMEOUT)?;
    let answer = http_client::request(
        &mut tunnel.stream,
        address,
        "POST",
        path,
        Some(("application/sparql-query", "ASK {}")),
        "application/sparql-results+json",
    )
    .await;
    let response = match answer {
        Ok(Some(response)) => response,
        Ok(None) | Err(_) => return Err(tunnel.failure().await),
    };
    if response.status != 200 {
        return Err(ProbeFailure::SparqlStatus {
            path: path.to_owned(),
            status: response.status,
            body: excerpt(&response.body),
        });
    }
    let json: serde_json::Value =
        serde_json::from_str(&response.body).map_err(|e| ProbeFailure::NotSparqlResults {
            reason: e.to_string(),
            body: excerpt(&response.body),
        })?;
    match json.get("boolean") {
        Some(serde_json::Value::Bool(true)) => Ok("ASK {} = true".into()),
        other => Err(ProbeFailure::AskNotTrue {
            answer: other.map_or("no boolean".to_owned(), ToString::to_string),
        }),
    }
}
