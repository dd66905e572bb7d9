//! One container host as data, and the `docker run` it becomes: every host a
//! backend makes (an environment's, a bake host, the emulator's stand-ins,
//! Vagrant's docker provider's) is built here, as testcontainers' requests
//! are, so systemd, the login and the apt cache are alike on all of them.

use std::path::PathBuf;

use super::systemd_run_args;

/// What a host container is made of.
#[derive(Debug, Clone, Default)]
pub struct HostRequest {
    pub name: String,
    pub hostname: String,
    pub image: String,
    pub network: Option<String>,
    pub labels: Vec<(String, String)>,
    /// The `authorized_keys` file the host's sshd trusts.
    pub authorized_keys: Option<PathBuf>,
    /// Ports published on loopback: `127.0.0.1:HOST:CONTAINER`.
    pub published_ports: Vec<String>,
    /// The machine's apt cache's settings for the host's network.
    pub apt_cache: Vec<String>,
    /// A scenario's own `docker run` arguments (checked by its loader).
    pub extra: Vec<String>,
}

impl HostRequest {
    /// A host container `name` from `image`, its hostname its name.
    pub fn new(name: impl Into<String>, image: impl Into<String>) -> Self {
        let name = name.into();
        Self {
            hostname: name.clone(),
            name,
            image: image.into(),
            ..Self::default()
        }
    }

    pub fn hostname(mut self, hostname: impl Into<String>) -> Self {
        self.hostname = hostname.into();
        self
    }

    pub fn network(mut self, network: impl Into<String>) -> Self {
        self.network = Some(network.into());
        self
    }

    pub fn labels(mut self, labels: impl IntoIterator<Item = (String, String)>) -> Self {
        self.labels.extend(labels);
        self
    }

    pub fn login(mut self, authorized_keys: impl Into<PathBuf>) -> Self {
        self.authorized_keys = Some(authorized_keys.into());
        self
    }

    pub fn published_ports(mut self, ports: impl IntoIterator<Item = String>) -> Self {
        self.published_ports.extend(ports);
        self
    }

    pub fn apt_cache(mut self, args: Vec<String>) -> Self {
        self.apt_cache = args;
        self
    }

    pub fn extra(mut self, args: impl IntoIterator<Item = String>) -> Self {
        self.extra.extend(args);
        self
    }

    /// The container's settings, without its name and image: what a
    /// `docker run` or Vagrant's `create_args` is given.
    pub fn container_args(&self) -> Vec<String> {
        let mut args = Vec::new();
        if let Some(network) = &self.network {
            args.extend(["--network".to_owned(), network.clone()]);
        }
        for (key, value) in &self.labels {
            args.extend(["--label".to_owned(), format!("{key}={value}")]);
        }
        args.extend(systemd_run_args());
        if let Some(keys) = &self.authorized_keys {
            args.extend([
                "-v".to_owned(),
                format!("{}:/etc/ssh/authorized_keys:ro", keys.display()),
            ]);
        }
        for port in &self.published_ports {
            args.extend(["-p".to_owned(), port.clone()]);
        }
        args.extend(self.apt_cache.iter().cloned());
        args.extend(self.extra.iter().cloned());
        args
    }

    /// `docker run -d --name ... IMAGE`.
    pub fn run_args(&self) -> Vec<String> {
        let mut args: Vec<String> = [
            "run",
            "-d",
            "--name",
            &self.name,
            "--hostname",
            &self.hostname,
        ]
        .map(str::to_owned)
        .to_vec();
        args.extend(self.container_args());
        args.push(self.image.clone());
        args
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_becomes_one_docker_run_with_systemd_and_the_login() {
        let request = HostRequest::new("argos-dev-app", "argos-host:bookworm")
            .hostname("app")
            .network("argos-dev-network")
            .labels([("Group".to_owned(), "app".to_owned())])
            .login("/keys/authorized_keys")
            .published_ports(["127.0.0.1:8080:80".to_owned()])
            .extra(["--memory=512m".to_owned()]);
        let args = request.run_args();
        assert_eq!(
            &args[..6],
            ["run", "-d", "--name", "argos-dev-app", "--hostname", "app"]
        );
        assert_eq!(args.last().map(String::as_str), Some("argos-host:bookworm"));
        let text = args.join(" ");
        for part in [
            "--network argos-dev-network",
            "--label Group=app",
            "--tmpfs /run",
            "--security-opt seccomp=unconfined",
            "-v /keys/authorized_keys:/etc/ssh/authorized_keys:ro",
            "-p 127.0.0.1:8080:80",
            "--memory=512m",
        ] {
            assert!(text.contains(part), "{part} missing from {text}");
        }
        assert!(
            !request
                .container_args()
                .contains(&"argos-host:bookworm".to_owned())
        );
    }
}
