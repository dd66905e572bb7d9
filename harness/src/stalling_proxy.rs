//! A loopback HTTP proxy in front of an emulator that loses answers: it
//! forwards every request, but the first time it sees a request whose body
//! contains a given text, it withholds the answer (the emulator has acted
//! on it) until the client gives up and closes the connection. A repeat of
//! the same request (the retry) is answered. That is a create whose answer
//! was lost on the way back: the SDK's attempt timeout fires and it
//! retries the same request.
//!
//! Enough HTTP/1.1 for the AWS query protocol: requests with a
//! `Content-Length` body, answers read whole and sent with one.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

pub struct StallingProxy {
    endpoint: String,
    withheld: Arc<AtomicUsize>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl StallingProxy {
    /// Proxy `upstream` (`http://127.0.0.1:PORT`), losing the answer to the
    /// first copy of each request whose body contains `stall_on`. It serves
    /// from a thread and runtime of its own, so a caller that blocks its own
    /// runtime (a guard's `Drop`) still gets answers.
    pub fn start(upstream: &str, stall_on: &str) -> std::io::Result<Self> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let endpoint = format!("http://{}", listener.local_addr()?);
        let withheld = Arc::new(AtomicUsize::new(0));
        let shared = Arc::new(Shared {
            upstream: upstream.trim_end_matches('/').to_owned(),
            stall_on: stall_on.to_owned(),
            withheld: withheld.clone(),
            seen: Mutex::new(HashSet::new()),
            client: reqwest::Client::new(),
        });
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        std::thread::spawn(move || {
            runtime.block_on(async move {
                let Ok(listener) = TcpListener::from_std(listener) else {
                    return;
                };
                let accept = async {
                    while let Ok((connection, _)) = listener.accept().await {
                        tokio::spawn(serve(connection, shared.clone()));
                    }
                };
                tokio::select! {
                    () = accept => {}
                    _ = stopped => {}
                }
            });
        });
        Ok(Self {
            endpoint,
            withheld,
            stop: Some(stop),
        })
    }

    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// How many answers were withheld.
    pub fn withheld(&self) -> usize {
        self.withheld.load(Ordering::SeqCst)
    }
}

impl Drop for StallingProxy {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

struct Shared {
    upstream: String,
    stall_on: String,
    withheld: Arc<AtomicUsize>,
    /// The bodies seen: a retry repeats one.
    seen: Mutex<HashSet<Vec<u8>>>,
    client: reqwest::Client,
}

struct Request {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

async fn serve(connection: TcpStream, shared: Arc<Shared>) {
    let (read, mut write) = connection.into_split();
    let mut read = BufReader::new(read);
    while let Ok(Some(request)) = read_request(&mut read).await {
        let stall = String::from_utf8_lossy(&request.body).contains(&shared.stall_on)
            && shared
                .seen
                .lock()
                .expect("seen bodies")
                .insert(request.body.clone());
        let Ok(answer) = forward(&shared, request).await else {
            return;
        };
        if stall {
            shared.withheld.fetch_add(1, Ordering::SeqCst);
            // The emulator acted; its answer never arrives. Hold the
            // connection until the client gives up on it.
            let mut rest = Vec::new();
            let _ = read.read_to_end(&mut rest).await;
            return;
        }
        if write.write_all(&answer).await.is_err() {
            return;
        }
    }
}

async fn read_request(
    read: &mut BufReader<tokio::net::tcp::OwnedReadHalf>,
) -> std::io::Result<Option<Request>> {
    let mut line = String::new();
    if read.read_line(&mut line).await? == 0 {
        return Ok(None);
    }
    let mut parts = line.split_whitespace();
    let (Some(method), Some(path)) = (parts.next(), parts.next()) else {
        return Ok(None);
    };
    let (method, path) = (method.to_owned(), path.to_owned());
    let mut headers = Vec::new();
    let mut length = 0;
    loop {
        line.clear();
        read.read_line(&mut line).await?;
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            let (name, value) = (name.trim().to_owned(), value.trim().to_owned());
            if name.eq_ignore_ascii_case("content-length") {
                length = value.parse().unwrap_or(0);
            }
            headers.push((name, value));
        }
    }
    let mut body = vec![0; length];
    read.read_exact(&mut body).await?;
    Ok(Some(Request {
        method,
        path,
        headers,
        body,
    }))
}

/// Send `request` upstream; the answer as HTTP/1.1 bytes.
async fn forward(shared: &Shared, request: Request) -> Result<Vec<u8>, reqwest::Error> {
    let method =
        reqwest::Method::from_bytes(request.method.as_bytes()).unwrap_or(reqwest::Method::POST);
    let mut upstream = shared
        .client
        .request(method, format!("{}{}", shared.upstream, request.path));
    for (name, value) in &request.headers {
        let hop = ["host", "content-length", "connection", "transfer-encoding"];
        if !hop.iter().any(|h| name.eq_ignore_ascii_case(h)) {
            upstream = upstream.header(name, value);
        }
    }
    let response = upstream.body(request.body).send().await?;
    let status = response.status();
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("text/xml")
        .to_owned();
    let body = response.bytes().await?;
    let mut answer = format!(
        "HTTP/1.1 {} {}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\n\r\n",
        status.as_u16(),
        status.canonical_reason().unwrap_or(""),
        body.len()
    )
    .into_bytes();
    answer.extend_from_slice(&body);
    Ok(answer)
}
