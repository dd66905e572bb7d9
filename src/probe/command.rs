//! `command`: a command run on the host (by `sh -c`, as the SSH user or
//! with sudo) exits with the expected code, and its output holds what is
//! asked. What the scenario gives is quoted for the remote shell.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::context::ATTEMPT_TIMEOUT;
use super::{HostRef, ProbeFailure, SshHost, excerpt};

/// A command run on the host exits with this code, and its output holds what is asked.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CommandProbe {
    pub host: HostRef,
    /// The command, run by `sh -c` as the SSH user.
    pub run: String,
    #[serde(default)]
    pub exit_code: i32,
    /// Text the standard output must contain.
    #[serde(default)]
    pub stdout_contains: Option<String>,
    /// A regular expression the standard output must match.
    #[serde(default)]
    pub stdout_matches: Option<String>,
    /// Run with sudo.
    #[serde(default, rename = "become")]
    pub sudo: bool,
}

impl CommandProbe {
    pub fn describe(&self) -> String {
        format!("command `{}` on {}", self.run, self.host)
    }

    pub async fn run(&self, ssh: &SshHost) -> Result<String, ProbeFailure> {
        let want = self.exit_code;
        let sudo = if self.sudo { "sudo -n " } else { "" };
        let script = format!("{sudo}sh -c {}", quote("the command", &self.run)?);
        let (code, stdout, stderr) = ssh.run(&script, ATTEMPT_TIMEOUT).await?;
        if code != want {
            let said = if stderr.is_empty() { &stdout } else { &stderr };
            return Err(ProbeFailure::ExitCode {
                code,
                want,
                said: excerpt(said),
            });
        }
        if let Some(text) = &self.stdout_contains
            && !stdout.contains(text.as_str())
        {
            return Err(ProbeFailure::OutputLacks {
                text: text.clone(),
                output: excerpt(&stdout),
            });
        }
        if let Some(pattern) = &self.stdout_matches {
            // The scenario loader checked the pattern; a bad one still fails here, not panics.
            let matches = regex::Regex::new(pattern).is_ok_and(|r| r.is_match(&stdout));
            if !matches {
                return Err(ProbeFailure::OutputDoesNotMatch {
                    pattern: pattern.clone(),
                    output: excerpt(&stdout),
                });
            }
        }
        Ok(format!("exited {code}: {}", excerpt(&stdout)))
    }
}

/// `text` as one word for a POSIX shell (shlex's quoting); `what` names it
/// when it cannot be one (a NUL byte).
pub(super) fn quote(what: &'static str, text: &str) -> Result<String, ProbeFailure> {
    shlex::try_quote(text)
        .map(std::borrow::Cow::into_owned)
        .map_err(|e| ProbeFailure::Unquotable {
            what,
            reason: e.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::quote;

    #[test]
    fn quoting_keeps_a_word_whole_whatever_it_holds() {
        for text in [
            "plain",
            "it's",
            "$(touch /tmp/x)",
            "a b\nc",
            "'",
            "~root",
            "{a,b}",
            "",
        ] {
            let output = std::process::Command::new("sh")
                .arg("-c")
                .arg(format!("printf %s {}", quote("text", text).unwrap()))
                .output()
                .unwrap();
            assert_eq!(String::from_utf8(output.stdout).unwrap(), text);
        }
        let error = quote("the command", "a\0b").unwrap_err().to_string();
        assert!(
            error.starts_with("the command cannot be passed to a shell"),
            "{error}"
        );
    }
}
