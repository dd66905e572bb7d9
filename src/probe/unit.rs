//! `unit`: a systemd unit on the host is active (`systemctl is-active`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::context::ATTEMPT_TIMEOUT;
use super::{HostRef, ProbeFailure, SshHost};

/// A systemd unit is active.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UnitProbe {
    pub host: HostRef,
    pub name: String,
}

impl UnitProbe {
    pub fn describe(&self) -> String {
        format!("unit {} on {} is active", self.name, self.host)
    }

    pub async fn run(&self, ssh: &SshHost) -> Result<String, ProbeFailure> {
        // The scenario loader allows only systemd's own unit-name characters.
        let unit = &self.name;
        let (_, state, _) = ssh
            .run(&format!("systemctl is-active '{unit}'"), ATTEMPT_TIMEOUT)
            .await?;
        if state == "active" {
            Ok("active".into())
        } else {
            Err(ProbeFailure::UnitInactive {
                unit: unit.clone(),
                state,
            })
        }
    }
}
