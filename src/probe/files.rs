//! Probes that are not about any one service: a command's exit code and
//! output, and a file's existence, mode, owner and content, on the host,
//! over SSH. What the scenario gives is quoted for the remote shell.

use super::{ATTEMPT_TIMEOUT, CommandProbe, FileProbe, SshHost, excerpt};

/// `text` as one word for a POSIX shell.
pub fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

pub async fn command(ssh: &SshHost, probe: &CommandProbe) -> Result<String, String> {
    let exit_code = probe.exit_code;
    let sudo = if probe.sudo { "sudo -n " } else { "" };
    let script = format!("{sudo}sh -c {}", shell_quote(&probe.run));
    let (code, stdout, stderr) = ssh.run(&script, ATTEMPT_TIMEOUT).await?;
    if code != exit_code {
        let said = if stderr.is_empty() { &stdout } else { &stderr };
        return Err(format!(
            "exited {code} (expected {exit_code}): {}",
            excerpt(said)
        ));
    }
    if let Some(text) = &probe.stdout_contains
        && !stdout.contains(text.as_str())
    {
        return Err(format!("its output lacks {text:?}: {}", excerpt(&stdout)));
    }
    if let Some(pattern) = &probe.stdout_matches {
        // The scenario loader checked the pattern.
        let regex = regex::Regex::new(pattern).map_err(|e| e.to_string())?;
        if !regex.is_match(&stdout) {
            return Err(format!(
                "its output does not match /{pattern}/: {}",
                excerpt(&stdout)
            ));
        }
    }
    Ok(format!("exited {code}: {}", excerpt(&stdout)))
}

pub async fn file(ssh: &SshHost, want: &FileProbe) -> Result<String, String> {
    let quoted = shell_quote(&want.path);
    // As root: a file only its owner may read is still checked.
    let (code, stat, stderr) = ssh
        .run(
            &format!("sudo -n stat -c '%a %U %G %F' -- {quoted}"),
            ATTEMPT_TIMEOUT,
        )
        .await?;
    match (code == 0, want.exists) {
        (false, false) => return Ok("does not exist".into()),
        (true, false) => return Err(format!("exists ({stat}) and must not")),
        (false, true) => return Err(format!("does not exist: {}", excerpt(&stderr))),
        (true, true) => {}
    }
    let mut fields = stat.split_whitespace();
    let (mode, owner, group) = (
        fields.next().unwrap_or_default(),
        fields.next().unwrap_or_default(),
        fields.next().unwrap_or_default(),
    );
    if let Some(want_mode) = &want.mode {
        let normal = |m: &str| m.trim_start_matches('0').to_owned();
        if normal(mode) != normal(want_mode) {
            return Err(format!("mode is {mode:0>4}, expected {want_mode}"));
        }
    }
    if let Some(want_owner) = &want.owner
        && owner != want_owner
    {
        return Err(format!("owner is {owner}, expected {want_owner}"));
    }
    if let Some(want_group) = &want.group
        && group != want_group
    {
        return Err(format!("group is {group}, expected {want_group}"));
    }
    if let Some(text) = &want.contains {
        let (code, _, _) = ssh
            .run(
                &format!("sudo -n grep -qF -- {} {quoted}", shell_quote(text)),
                ATTEMPT_TIMEOUT,
            )
            .await?;
        if code != 0 {
            return Err(format!("does not contain {text:?}"));
        }
    }
    Ok(stat)
}

#[cfg(test)]
mod tests {
    use super::shell_quote;

    #[test]
    fn quoting_keeps_a_word_whole_whatever_it_holds() {
        for text in ["plain", "it's", "$(touch /tmp/x)", "a b\nc", "'"] {
            let output = std::process::Command::new("sh")
                .arg("-c")
                .arg(format!("printf %s {}", shell_quote(text)))
                .output()
                .unwrap();
            assert_eq!(String::from_utf8(output.stdout).unwrap(), text);
        }
    }
}
