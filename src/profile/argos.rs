//! What is Argos's own, in one place: the named stand-ins its roles switch
//! on where the internet is out of reach, and the standard probes `check`
//! runs on an Argos environment. The engine knows no group by name; this
//! module does, and only for these two jobs.

use serde_json::{Map, Value};

use crate::probe::{Connection, Expectations, HealthProbe, HttpProbe, ProbeKind};

/// Switch on the roles' named stand-ins on a local backend: Fuseki, Stanford
/// NER and the Argos app cannot be fetched here (the real ones stay the
/// roles' defaults on AWS).
pub fn with_standins(mut extra_vars: Map<String, Value>) -> Map<String, Value> {
    extra_vars.insert("knowledge_standin".into(), Value::Bool(true));
    extra_vars.insert("app_source".into(), Value::String("standin".into()));
    extra_vars
}

/// `vars` for hosts that `stand_in` for the internet's services (a
/// backend says whether its hosts do), as [`with_standins`]; as they are
/// otherwise.
pub fn ansible_vars(stand_in: bool, vars: Map<String, Value>) -> Map<String, Value> {
    if stand_in { with_standins(vars) } else { vars }
}

/// What `check` probes on an Argos environment with hosts in `groups`:
/// every connection Argos depends on, and the app's own health check.
pub fn standard_expectations(groups: &[String]) -> Expectations {
    let has = |g: &str| groups.iter().any(|x| x == g);
    let connect = |from: &str, to: &str, probe, port: Option<u16>| Connection {
        from: from.to_owned(),
        to: to.to_owned(),
        probe,
        port,
        path: None,
        status: None,
        password: None,
    };
    let mut expect = Expectations {
        tags: false,
        ..Default::default()
    };
    for client in ["app", "worker"] {
        if !has(client) {
            continue;
        }
        if has("database") {
            expect
                .connectivity
                .push(connect(client, "database", ProbeKind::Postgres, None));
        }
        if has("knowledge") {
            expect
                .connectivity
                .push(connect(client, "knowledge", ProbeKind::SparqlAsk, None));
            expect
                .connectivity
                .push(connect(client, "knowledge", ProbeKind::Ner, None));
        }
        if has("broker") {
            for port in [5672, 6379] {
                expect
                    .connectivity
                    .push(connect(client, "broker", ProbeKind::Tcp, Some(port)));
            }
        }
    }
    if has("app") {
        expect.health.push(HealthProbe::Http(HttpProbe {
            host: "app".into(),
            port: 80,
            path: "/health".into(),
            status: 200,
            body_contains: None,
        }));
    }
    expect
}
