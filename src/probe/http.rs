//! Just enough HTTP/1.1 for probes over a tunnel: one request with
//! `Connection: close`, the response read to its end (chunked or not).

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub body: String,
}

/// Send `method path` (with `body` of `content_type`) and read the answer.
pub async fn request<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    host: &str,
    method: &str,
    path: &str,
    body: Option<(&str, &str)>,
    accept: &str,
) -> std::io::Result<Option<Response>> {
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nAccept: {accept}\r\nUser-Agent: argos-cloud-probe\r\nConnection: close\r\n"
    );
    if let Some((content_type, content)) = body {
        head.push_str(&format!(
            "Content-Type: {content_type}\r\nContent-Length: {}\r\n",
            content.len()
        ));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await?;
    if let Some((_, content)) = body {
        stream.write_all(content.as_bytes()).await?;
    }
    stream.flush().await?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await?;
    Ok(parse(&raw))
}

/// The status and body of a raw HTTP/1.1 response; `None` when it is not one.
pub fn parse(raw: &[u8]) -> Option<Response> {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&raw[..split]).ok()?;
    let mut body = raw[split + 4..].to_vec();
    let mut lines = head.split("\r\n");
    let status_line = lines.next()?;
    let mut parts = status_line.splitn(3, ' ');
    if !parts.next()?.starts_with("HTTP/1.") {
        return None;
    }
    let status = parts.next()?.parse().ok()?;
    let chunked = lines.any(|l| {
        let lower = l.to_ascii_lowercase();
        lower.starts_with("transfer-encoding:") && lower.contains("chunked")
    });
    if chunked {
        body = dechunk(&body)?;
    }
    Some(Response {
        status,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

fn dechunk(mut data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&data[..line_end]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(data.get(..size)?);
        data = data.get(size + 2..)?;
    }
}

#[cfg(test)]
mod tests {
    use super::{Response, parse};

    #[test]
    fn reads_a_plain_and_a_chunked_response() {
        let plain = b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ntrue";
        assert_eq!(
            parse(plain),
            Some(Response {
                status: 200,
                body: "true".into()
            })
        );
        let chunked =
            b"HTTP/1.1 503 Service Unavailable\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n2\r\n:1\r\n0\r\n\r\n";
        assert_eq!(
            parse(chunked),
            Some(Response {
                status: 503,
                body: "{\"a\":1".into()
            })
        );
    }

    #[test]
    fn anything_else_is_not_a_response() {
        assert_eq!(parse(b""), None);
        assert_eq!(parse(b"SSH-2.0-OpenSSH_9.2\r\n\r\n"), None);
        assert_eq!(parse(b"HTTP/1.1 2x0 OK\r\n\r\n"), None);
    }
}
