//! Running `vagrant` in an environment's folder with a deadline, watching
//! its output for the failures Vagrant itself would sit on: an SSH key the
//! machine refuses (Vagrant retries that until its boot timeout), a missing
//! provider, box or image.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::VagrantError;
use crate::sys::progress::{Event, Progress};

/// How many of the last output lines an error shows.
const TAIL: usize = 15;

pub struct Vagrant<'a> {
    pub dir: &'a Path,
    pub progress: &'a Progress,
}

impl Vagrant<'_> {
    /// Run `vagrant ARGS`; its stdout on success. `what` says what for, in errors.
    pub fn run(
        &self,
        args: &[&str],
        what: &str,
        deadline: Duration,
    ) -> Result<String, VagrantError> {
        self.run_with(args, what, deadline, false)
    }

    /// [`Self::run`], showing Vagrant's lines as progress (for up and destroy).
    pub fn run_shown(
        &self,
        args: &[&str],
        what: &str,
        deadline: Duration,
    ) -> Result<String, VagrantError> {
        self.run_with(args, what, deadline, true)
    }

    fn run_with(
        &self,
        args: &[&str],
        what: &str,
        deadline: Duration,
        show: bool,
    ) -> Result<String, VagrantError> {
        let command_line = format!("vagrant {}", args.join(" "));
        let mut command = Command::new("vagrant");
        command
            .args(args)
            .current_dir(self.dir)
            // No update check against HashiCorp's servers, no colours in errors.
            .env("VAGRANT_CHECKPOINT_DISABLE", "1")
            .env("VAGRANT_NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // Its own process group, which a signal ends (see crate::sys::signal):
        // Ctrl-C reaches argos-cloud alone, which stops this at once and
        // then removes the environment.
        let (mut child, group) = crate::sys::signal::spawn(&mut command).map_err(|source| {
            if source.kind() == std::io::ErrorKind::NotFound {
                VagrantError::NotInstalled
            } else {
                VagrantError::Io {
                    what: "starting vagrant",
                    source,
                }
            }
        })?;
        let (sender, lines) = mpsc::channel();
        let readers = [
            spawn_reader(child.stdout.take(), Stream::Out, sender.clone()),
            spawn_reader(child.stderr.take(), Stream::Err, sender),
        ];
        let started = Instant::now();
        let mut stdout = String::new();
        let mut all: Vec<String> = Vec::new();
        let mut stop: Option<VagrantError> = None;
        loop {
            let left = deadline.saturating_sub(started.elapsed());
            match lines.recv_timeout(left) {
                Ok((stream, line)) => {
                    if stream == Stream::Out {
                        stdout.push_str(&line);
                        stdout.push('\n');
                    }
                    if let Some(machine) = refused_key(&line) {
                        stop = Some(VagrantError::SshAuthentication {
                            machine,
                            command: command_line.clone(),
                        });
                    }
                    if show && !line.trim().is_empty() {
                        self.progress.emit(Event::VagrantOutput {
                            line: line.trim_end().to_owned(),
                        });
                    }
                    all.push(line);
                    if stop.is_some() {
                        break;
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    stop = Some(VagrantError::Timeout {
                        what: what.to_owned(),
                        command: command_line.clone(),
                        seconds: deadline.as_secs(),
                        tail: tail(&all),
                    });
                    break;
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
        }
        if let Some(error) = stop {
            // Ends vagrant and whatever it started (its process group).
            drop(group);
            let _ = child.wait();
            return Err(error);
        }
        for reader in readers {
            let _ = reader.join();
        }
        let status = child.wait().map_err(|source| VagrantError::Io {
            what: "waiting for vagrant",
            source,
        })?;
        if let Some(signal) = group.interrupted() {
            return Err(VagrantError::Interrupted {
                what: what.to_owned(),
                command: command_line,
                signal,
            });
        }
        if status.success() {
            Ok(stdout)
        } else {
            Err(recognise(what, &command_line, &status.to_string(), &all))
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stream {
    Out,
    Err,
}

fn spawn_reader(
    pipe: Option<impl Read + Send + 'static>,
    stream: Stream,
    sender: mpsc::Sender<(Stream, String)>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let Some(pipe) = pipe else { return };
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            if sender.send((stream, line)).is_err() {
                break;
            }
        }
    })
}

/// Vagrant's own words for a refused key: `app: Warning: Authentication failure. Retrying...`.
fn refused_key(line: &str) -> Option<String> {
    let (machine, rest) = line.trim().split_once(':')?;
    rest.contains("Authentication failure")
        .then(|| machine.trim().trim_start_matches("==>").trim().to_owned())
}

fn tail(lines: &[String]) -> String {
    let start = lines.len().saturating_sub(TAIL);
    lines[start..].join("\n")
}

/// A failed command as the error a user can act on.
fn recognise(what: &str, command: &str, status: &str, lines: &[String]) -> VagrantError {
    let text = lines.join("\n");
    let quoted = |after: &str| -> Option<String> {
        let rest = &text[text.find(after)? + after.len()..];
        let start = rest.find(['\'', '"'])?;
        let quote = rest[start..].chars().next()?;
        let rest = &rest[start + 1..];
        Some(rest[..rest.find(quote)?].to_owned())
    };
    if text.contains("provider") && text.contains("could not be found") {
        return VagrantError::ProviderMissing {
            provider: quoted("provider").unwrap_or_else(|| "?".into()),
            reason: tail(lines),
        };
    }
    if text.contains("box") && (text.contains("could not be found") || text.contains("not found")) {
        return VagrantError::BoxMissing {
            name: quoted("box").unwrap_or_else(|| "?".into()),
        };
    }
    if text.contains("Unable to find image") || text.contains("No such image") {
        return VagrantError::ImageMissing {
            image: quoted("image").unwrap_or_else(|| "?".into()),
        };
    }
    VagrantError::Failed {
        what: what.to_owned(),
        command: command.to_owned(),
        status: status.to_owned(),
        tail: tail(lines),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<String> {
        text.lines().map(str::to_owned).collect()
    }

    #[test]
    fn a_refused_key_names_the_machine() {
        assert_eq!(
            refused_key("    app: Warning: Authentication failure. Retrying..."),
            Some("app".into())
        );
        assert_eq!(
            refused_key("==> knowledge: Warning: Authentication failure. Retrying..."),
            Some("knowledge".into())
        );
        assert_eq!(refused_key("    app: SSH auth method: private key"), None);
    }

    #[test]
    fn known_failures_become_their_own_errors() {
        let provider = recognise(
            "bringing machines up",
            "vagrant up",
            "exit status: 1",
            &lines(
                "The provider 'hyperv' could not be found, but was requested to\nback the machine 'app'.",
            ),
        );
        assert!(
            matches!(&provider, VagrantError::ProviderMissing { provider, .. } if provider == "hyperv"),
            "{provider:?}"
        );
        let missing_box = recognise(
            "bringing machines up",
            "vagrant up",
            "exit status: 1",
            &lines(
                "The box 'debian/bookworm64' could not be found or\ncould not be accessed in the remote catalog.",
            ),
        );
        assert!(
            matches!(&missing_box, VagrantError::BoxMissing { name } if name == "debian/bookworm64"),
            "{missing_box:?}"
        );
        let image = recognise(
            "bringing machines up",
            "vagrant up",
            "exit status: 1",
            &lines("Unable to find image 'argos-vagrant:bookworm' locally"),
        );
        assert!(
            matches!(&image, VagrantError::ImageMissing { image } if image == "argos-vagrant:bookworm"),
            "{image:?}"
        );
        let other = recognise(
            "x",
            "vagrant up",
            "exit status: 1",
            &lines("something else"),
        );
        assert!(matches!(other, VagrantError::Failed { .. }), "{other:?}");
    }
}
