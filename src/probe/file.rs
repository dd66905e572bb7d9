//! `file`: a file on the host exists (or not) with the mode, owner, group
//! and content asked. Checked as root, so a file only its owner may read
//! is still checked.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::command::quote;
use super::context::ATTEMPT_TIMEOUT;
use super::{HostRef, ProbeFailure, SshHost, excerpt};

/// A file on the host exists (or not) with this mode, owner and content.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FileProbe {
    pub host: HostRef,
    pub path: String,
    #[serde(default = "yes")]
    pub exists: bool,
    /// Octal permission bits, e.g. "0640".
    #[serde(default)]
    pub mode: Option<String>,
    #[serde(default)]
    pub owner: Option<String>,
    #[serde(default)]
    pub group: Option<String>,
    /// Text the file must contain.
    #[serde(default)]
    pub contains: Option<String>,
}

fn yes() -> bool {
    true
}

impl FileProbe {
    pub fn describe(&self) -> String {
        format!("file {} on {}", self.path, self.host)
    }

    pub async fn run(&self, ssh: &SshHost) -> Result<String, ProbeFailure> {
        let quoted = quote("the path", &self.path)?;
        let (code, stat, stderr) = ssh
            .run(
                &format!("sudo -n stat -c '%a %U %G %F' -- {quoted}"),
                ATTEMPT_TIMEOUT,
            )
            .await?;
        match (code == 0, self.exists) {
            (false, false) => return Ok("does not exist".into()),
            (true, false) => return Err(ProbeFailure::FileExists { stat }),
            (false, true) => {
                return Err(ProbeFailure::FileMissing {
                    said: excerpt(&stderr),
                });
            }
            (true, true) => {}
        }
        let mut fields = stat.split_whitespace();
        let (mode, owner, group) = (
            fields.next().unwrap_or_default(),
            fields.next().unwrap_or_default(),
            fields.next().unwrap_or_default(),
        );
        let differs = |field: &'static str, got: String, want: &str| ProbeFailure::FileAttribute {
            field,
            got,
            want: want.to_owned(),
        };
        if let Some(want) = &self.mode {
            let normal = |m: &str| m.trim_start_matches('0').to_owned();
            if normal(mode) != normal(want) {
                return Err(differs("mode", format!("{mode:0>4}"), want));
            }
        }
        if let Some(want) = &self.owner
            && owner != want
        {
            return Err(differs("owner", owner.to_owned(), want));
        }
        if let Some(want) = &self.group
            && group != want
        {
            return Err(differs("group", group.to_owned(), want));
        }
        if let Some(text) = &self.contains {
            let (code, _, _) = ssh
                .run(
                    &format!("sudo -n grep -qF -- {} {quoted}", quote("the text", text)?),
                    ATTEMPT_TIMEOUT,
                )
                .await?;
            if code != 0 {
                return Err(ProbeFailure::FileLacks { text: text.clone() });
            }
        }
        Ok(stat)
    }
}
