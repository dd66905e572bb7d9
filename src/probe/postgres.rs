//! The postgres probe: log in over a connection that starts on the source
//! host and run `SELECT 1`, with the real client protocol (tokio-postgres,
//! SCRAM or md5 as the server asks). The password never reaches a message.

use std::time::Duration;

use super::DatabaseLogin;
use super::ssh::SshHost;

pub async fn select_one(
    ssh: &SshHost,
    address: &str,
    port: u16,
    login: &DatabaseLogin,
    timeout: Duration,
) -> Result<String, String> {
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
                let tunnel_reason = super::ssh::why_closed(child).await;
                return Err(format!("{reason}: {tunnel_reason}"));
            }
            return Err(reason);
        }
    };
    let driver = tokio::spawn(connection);
    let answer = client.query_one("SELECT 1", &[]).await;
    drop(client);
    let _ = driver.await;
    drop(child);
    let row = answer.map_err(|e| describe(&e, login))?;
    let one: i32 = row.get(0);
    if one == 1 {
        Ok(format!(
            "logged in to {} as {}; SELECT 1 = 1",
            login.name, login.user
        ))
    } else {
        Err(format!("SELECT 1 answered {one}"))
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
        text.replace(secret, crate::model::secret::Secret::REDACTED)
    }
}
