//! `ner`: Stanford NER's socket protocol (`NERServer`), from the source
//! host: one line of text in, the same line with inline XML entity tags
//! out, then the server closes. A protocol probe (any NERServer with an
//! English model answers it), so it lives in the engine.

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::context::ATTEMPT_TIMEOUT;
use super::{ProbeFailure, SshHost};

/// Tag [`SENTENCE`] on `address:port`; the answer must hold a PERSON and a LOCATION.
pub async fn tags(ssh: &SshHost, address: &str, port: u16) -> Result<String, ProbeFailure> {
    let mut tunnel = ssh.connect(address, port, ATTEMPT_TIMEOUT)?;
    let line = match tag(&mut tunnel.stream, SENTENCE).await {
        Ok(line) if !line.is_empty() => line,
        _ => return Err(tunnel.failure().await),
    };
    let missing = missing_tags(&line);
    if missing.is_empty() {
        Ok(line)
    } else {
        Err(ProbeFailure::NerTagsMissing {
            missing,
            answer: line,
        })
    }
}

/// A sentence every NER model tags with a PERSON and a LOCATION.
pub const SENTENCE: &str = "Barack Obama visited Paris .";

/// The tagged line the server answers with.
pub async fn tag<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    sentence: &str,
) -> std::io::Result<String> {
    stream.write_all(format!("{sentence}\n").as_bytes()).await?;
    stream.flush().await?;
    let mut answer = Vec::new();
    // The server closes after one line; read until then or the first newline.
    let mut byte = [0u8; 1];
    while stream.read(&mut byte).await? == 1 {
        if byte[0] == b'\n' {
            break;
        }
        answer.push(byte[0]);
    }
    Ok(String::from_utf8_lossy(&answer).trim().to_owned())
}

/// The tags missing from an answer to [`SENTENCE`]; none when it is right.
fn missing_tags(answer: &str) -> Vec<&'static str> {
    ["PERSON", "LOCATION"]
        .into_iter()
        .filter(|tag| !answer.contains(&format!("<{tag}>")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{ProbeFailure, missing_tags};

    #[test]
    fn wants_a_person_and_a_location() {
        assert!(
            missing_tags("<PERSON>Barack Obama</PERSON> visited <LOCATION>Paris</LOCATION> .")
                .is_empty()
        );
        let answer = "Barack Obama visited <LOCATION>Paris</LOCATION> .";
        assert_eq!(missing_tags(answer), ["PERSON"]);
        let failure = ProbeFailure::NerTagsMissing {
            missing: missing_tags(""),
            answer: String::new(),
        };
        assert_eq!(failure.to_string(), "no PERSON or LOCATION tag in \"\"");
    }
}
