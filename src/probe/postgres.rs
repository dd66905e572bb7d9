//! The postgres probe: log in over a connection that starts on the source
//! host and run `SELECT 1`, with the real client protocol (tokio-postgres,
//! SCRAM or md5 as the server asks). The password never reaches a message.

use std::time::Duration;

use super::ProbeFailure;
use super::ssh::SshHost;
use crate::model::secret::Secret;

/// The database login the postgres probe uses.
#[derive(Debug, Clone)]
pub struct DatabaseLogin {
    pub name: String,
    pub user: String,
    pub password: Secret,
}

impl DatabaseLogin {
    /// The login the settings give the app: `db_name`, `db_user` and
    /// `db_pass` (empty where the settings have none; a probe may name
    /// its own).
    pub fn of(settings: &crate::model::settings::Settings) -> Self {
        Self {
            name: settings.text("db_name").unwrap_or_default(),
            user: settings.text("db_user").unwrap_or_default(),
            password: settings.secret("db_pass").unwrap_or_default(),
        }
    }
}

pub async fn select_one(
    ssh: &SshHost,
    address: &str,
    port: u16,
    login: &DatabaseLogin,
    timeout: Duration,
) -> Result<String, ProbeFailure> {
    let tunnel = ssh.connect(address, port, timeout)?;
    let mut config = tokio_postgres::Config::new();
    config
        .user(&login.user)
        .password(login.password.expose())
        .dbname(&login.name)
        .application_name("argos-cloud-probe")
        .connect_timeout(timeout);
    let super::Tunnel {
        child,
        group: _group,
        stream,
    } = tunnel;
    let (client, connection) = match config.connect_raw(stream, tokio_postgres::NoTls).await {
        Ok(pair) => pair,
        Err(error) => {
            let reason = describe(&error, login);
            // A refused or unreachable port shows as a closed stream; ssh says why.
            if error.as_db_error().is_none() {
                let closed = super::ssh::why_closed(child).await;
                return Err(ProbeFailure::Postgres {
                    reason: format!("{reason}: {closed}"),
                });
            }
            return Err(ProbeFailure::Postgres { reason });
        }
    };
    let driver = tokio::spawn(connection);
    let answer = client.query_one("SELECT 1", &[]).await;
    drop(client);
    let _ = driver.await;
    drop(child);
    let row = answer.map_err(|e| ProbeFailure::Postgres {
        reason: describe(&e, login),
    })?;
    let one: i32 = row.get(0);
    if one == 1 {
        Ok(format!(
            "logged in to {} as {}; SELECT 1 = 1",
            login.name, login.user
        ))
    } else {
        Err(ProbeFailure::SelectOne { got: one })
    }
}

/// The server's own words ("password authentication failed for user ...").
fn describe(error: &tokio_postgres::Error, login: &DatabaseLogin) -> String {
    let text = match error.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => error.to_string(),
    };
    let secret = login.password.expose();
    if secret.is_empty() {
        text
    } else {
        text.replace(secret, Secret::REDACTED)
    }
}
