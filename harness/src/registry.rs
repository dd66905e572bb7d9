//! A container registry on loopback: Debian's `docker-registry` (the CNCF
//! Distribution registry), a stand-in for Docker Hub or a team's own
//! registry, so the pull path of a platform image is tested where no
//! registry is reachable. Docker trusts a registry on 127.0.0.0/8 over
//! plain HTTP, so nothing is configured on the engine.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The registry's program, as Debian installs it.
pub const PROGRAM: &str = "docker-registry";

/// A running registry, stopped (and its storage removed) when dropped.
pub struct Registry {
    child: Child,
    /// `127.0.0.1:PORT`: an image's name starts with it.
    pub address: String,
    _storage: tempfile::TempDir,
}

impl Registry {
    /// Whether the program is installed (else the caller skips loudly).
    pub fn installed() -> bool {
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
            .map(|dir| dir.join(PROGRAM))
            .chain([PathBuf::from("/usr/bin").join(PROGRAM)])
            .any(|path| path.is_file())
    }

    /// Start one on a free loopback port; ready when its API answers.
    pub fn start() -> Result<Self, String> {
        let storage = tempfile::Builder::new()
            .prefix("argos-registry-")
            .tempdir()
            .map_err(|e| format!("making the registry's storage: {e}"))?;
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .map_err(|e| format!("finding a free port: {e}"))?
            .port();
        let address = format!("127.0.0.1:{port}");
        let config = storage.path().join("config.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    \
                 rootdirectory: {}\nhttp:\n  addr: {address}\n",
                storage.path().join("data").display()
            ),
        )
        .map_err(|e| format!("writing {}: {e}", config.display()))?;
        let child = Command::new(PROGRAM)
            .arg("serve")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("starting {PROGRAM}: {e}"))?;
        let mut registry = Self {
            child,
            address,
            _storage: storage,
        };
        registry.wait_ready(Duration::from_secs(30))?;
        Ok(registry)
    }

    /// `127.0.0.1:PORT/<path>`.
    pub fn image(&self, path: &str) -> String {
        format!("{}/{path}", self.address)
    }

    /// Until `GET /v2/` answers 200, the registry exits, or `deadline`.
    fn wait_ready(&mut self, deadline: Duration) -> Result<(), String> {
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("{PROGRAM} exited at start ({status})"));
            }
            if self.answers() {
                return Ok(());
            }
            if started.elapsed() > deadline {
                return Err(format!(
                    "{PROGRAM} on {} did not answer within {deadline:?}",
                    self.address
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn answers(&self) -> bool {
        let Ok(mut stream) = TcpStream::connect(&self.address) else {
            return false;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
        let request = format!("GET /v2/ HTTP/1.0\r\nHost: {}\r\n\r\n", self.address);
        if stream.write_all(request.as_bytes()).is_err() {
            return false;
        }
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        answer.starts_with("HTTP/1.0 200") || answer.starts_with("HTTP/1.1 200")
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
