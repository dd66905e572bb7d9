//! Stanford NER's socket protocol (`NERServer`): one line of text in, the
//! same line with inline XML entity tags out, then the server closes.

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

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

/// What is missing from a tagged answer to [`SENTENCE`]; `None` when it is right.
pub fn missing_tags(answer: &str) -> Option<String> {
    let missing: Vec<&str> = ["PERSON", "LOCATION"]
        .into_iter()
        .filter(|tag| !answer.contains(&format!("<{tag}>")))
        .collect();
    (!missing.is_empty()).then(|| format!("no {} tag in {answer:?}", missing.join(" or ")))
}

#[cfg(test)]
mod tests {
    use super::missing_tags;

    #[test]
    fn wants_a_person_and_a_location() {
        assert_eq!(
            missing_tags("<PERSON>Barack Obama</PERSON> visited <LOCATION>Paris</LOCATION> ."),
            None
        );
        let reason = missing_tags("Barack Obama visited <LOCATION>Paris</LOCATION> .").unwrap();
        assert!(reason.contains("no PERSON tag"), "{reason}");
        assert!(missing_tags("").unwrap().contains("PERSON or LOCATION"));
    }
}
