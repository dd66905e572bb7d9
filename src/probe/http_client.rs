//! One HTTP/1.1 request for a probe, over a stream that is already open (a
//! tunnel through a host), with hyper's client: `Connection: close`, the
//! answer read to its end however it is framed (length, chunks, close).

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1;
use hyper::header::{ACCEPT, CONNECTION, CONTENT_TYPE, HOST, USER_AGENT};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub body: String,
}

/// Send `method path` (with `body` of `content_type`) and read the answer;
/// `None` when what came back is not an HTTP response (another protocol,
/// or the connection closed before a whole head), an error when the
/// connection failed midway (a body cut short).
pub async fn request<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    host: &str,
    method: &str,
    path: &str,
    body: Option<(&str, &str)>,
    accept: &str,
) -> std::io::Result<Option<Response>> {
    let method = Method::from_bytes(method.as_bytes()).map_err(std::io::Error::other)?;
    let mut request = Request::builder()
        .method(method)
        .uri(path)
        .header(HOST, host)
        .header(ACCEPT, accept)
        .header(USER_AGENT, "argos-cloud-probe")
        .header(CONNECTION, "close");
    let content = match body {
        Some((content_type, content)) => {
            request = request.header(CONTENT_TYPE, content_type);
            Bytes::copy_from_slice(content.as_bytes())
        }
        None => Bytes::new(),
    };
    let request = request
        .body(Full::new(content))
        .map_err(std::io::Error::other)?;

    let (mut sender, connection) = http1::handshake(TokioIo::new(stream))
        .await
        .map_err(std::io::Error::other)?;
    let exchange = async move {
        let response = sender.send_request(request).await?;
        let status = response.status().as_u16();
        let body = response.into_body().collect().await?.to_bytes();
        Ok::<_, hyper::Error>(Response {
            status,
            body: String::from_utf8_lossy(&body).into_owned(),
        })
    };
    // The connection is driven here, beside the exchange, not spawned: it
    // borrows the caller's stream, and it ends with the answer (keep-alive
    // is off and the sender is gone).
    let (answer, _connection) = tokio::join!(exchange, connection);
    match answer {
        Ok(response) => Ok(Some(response)),
        Err(e) if e.is_parse() || e.is_incomplete_message() || e.is_canceled() => Ok(None),
        Err(e) => Err(std::io::Error::other(e)),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    use super::{Response, request};

    /// A server on loopback for one connection: it reads the request (its
    /// head and a `Content-Length` body), answers `answer` as raw bytes and
    /// closes. Returns its address and what it read.
    async fn serve_once(answer: &'static [u8]) -> (String, tokio::task::JoinHandle<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let server = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut read = Vec::new();
            let mut buffer = [0u8; 4096];
            loop {
                let n = socket.read(&mut buffer).await.unwrap();
                assert!(n > 0, "the client closed before a whole request");
                read.extend_from_slice(&buffer[..n]);
                let text = String::from_utf8_lossy(&read);
                if let Some(end) = text.find("\r\n\r\n") {
                    let length = text[..end]
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse::<usize>().unwrap())
                        })
                        .unwrap_or(0);
                    if read.len() >= end + 4 + length {
                        break;
                    }
                }
            }
            socket.write_all(answer).await.unwrap();
            socket.shutdown().await.unwrap();
            String::from_utf8(read).unwrap()
        });
        (address, server)
    }

    /// `request` to a server answering `answer`, over a stream shaped like
    /// an ssh tunnel's (a reader and a writer joined), within a deadline.
    async fn ask(
        answer: &'static [u8],
        method: &str,
        body: Option<(&str, &str)>,
    ) -> (std::io::Result<Option<Response>>, String) {
        let (address, server) = serve_once(answer).await;
        let (reader, writer) = TcpStream::connect(&address).await.unwrap().into_split();
        let mut stream = tokio::io::join(reader, writer);
        let result = tokio::time::timeout(
            Duration::from_secs(10),
            request(&mut stream, "knowledge", method, "/health", body, "*/*"),
        )
        .await
        .expect("an answer within 10 s");
        let seen = tokio::time::timeout(Duration::from_secs(10), server)
            .await
            .expect("the server done within 10 s")
            .unwrap();
        (result, seen)
    }

    #[tokio::test]
    async fn reads_a_response_by_length_and_sends_a_closing_request() {
        let (result, seen) = ask(
            b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ntrue",
            "GET",
            None,
        )
        .await;
        assert_eq!(
            result.unwrap(),
            Some(Response {
                status: 200,
                body: "true".into()
            })
        );
        let seen = seen.to_ascii_lowercase();
        assert!(seen.starts_with("get /health http/1.1\r\n"), "{seen}");
        for header in [
            "host: knowledge\r\n",
            "accept: */*\r\n",
            "user-agent: argos-cloud-probe\r\n",
            "connection: close\r\n",
        ] {
            assert!(seen.contains(header), "no {header:?} in {seen}");
        }
    }

    #[tokio::test]
    async fn reads_a_chunked_response() {
        let (result, _) = ask(
            b"HTTP/1.1 503 Service Unavailable\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n2\r\n:1\r\n0\r\n\r\n",
            "GET",
            None,
        )
        .await;
        assert_eq!(
            result.unwrap(),
            Some(Response {
                status: 503,
                body: "{\"a\":1".into()
            })
        );
    }

    #[tokio::test]
    async fn reads_a_response_that_ends_when_the_server_closes() {
        let (result, _) = ask(b"HTTP/1.1 200 OK\r\n\r\nno length", "GET", None).await;
        assert_eq!(
            result.unwrap(),
            Some(Response {
                status: 200,
                body: "no length".into()
            })
        );
    }

    #[tokio::test]
    async fn posts_a_body_with_its_type_and_length() {
        let (result, seen) = ask(
            b"HTTP/1.1 200 OK\r\nContent-Length: 16\r\n\r\n{\"boolean\":true}",
            "POST",
            Some(("application/sparql-query", "ASK {}")),
        )
        .await;
        assert_eq!(result.unwrap().unwrap().body, "{\"boolean\":true}");
        let lower = seen.to_ascii_lowercase();
        assert!(lower.starts_with("post /health http/1.1\r\n"), "{seen}");
        assert!(
            lower.contains("content-type: application/sparql-query\r\n"),
            "{seen}"
        );
        assert!(lower.contains("content-length: 6\r\n"), "{seen}");
        assert!(seen.ends_with("\r\n\r\nASK {}"), "{seen}");
    }

    #[tokio::test]
    async fn anything_else_is_not_a_response() {
        for answer in [
            &b""[..],
            b"SSH-2.0-OpenSSH_9.2\r\n",
            b"HTTP/1.1 2x0 OK\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Le",
        ] {
            let (result, _) = ask(answer, "GET", None).await;
            assert_eq!(
                result.unwrap(),
                None,
                "{:?}",
                String::from_utf8_lossy(answer)
            );
        }
    }

    #[tokio::test]
    async fn a_body_cut_short_is_an_error_not_an_answer() {
        let (result, _) = ask(
            b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\ncut",
            "GET",
            None,
        )
        .await;
        let error = result.expect_err("3 bytes of 10 are no answer");
        assert!(error.to_string().contains("body"), "{error}");
    }
}
