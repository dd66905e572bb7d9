//! Which addresses this process may open a connection to. Every connection
//! to a host (deploy's SSH probe and Ansible, the probes, the image bake)
//! asks its inventory's [`Destinations`] first.
//!
//! On real AWS and on the local backends any address the backend gave is
//! the project's own. An AWS emulator invents instance and database
//! addresses, often public ones: a packet to one goes to a stranger on the
//! internet. Against an emulator only loopback and the networks of the
//! project's own containers are reached, and anything else is refused
//! before a packet leaves.

use std::fmt;
use std::net::IpAddr;

/// An IP network, `address/prefix`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subnet {
    network: IpAddr,
    prefix: u8,
}

impl Subnet {
    /// `10.0.0.0/8`, `fd00::/8`; `None` for anything else.
    pub fn parse(cidr: &str) -> Option<Self> {
        let (address, prefix) = cidr.split_once('/')?;
        let network: IpAddr = address.parse().ok()?;
        let prefix: u8 = prefix.parse().ok()?;
        let bits = if network.is_ipv4() { 32 } else { 128 };
        (prefix <= bits).then_some(Self { network, prefix })
    }

    pub fn contains(&self, address: IpAddr) -> bool {
        let keep = |bits: u32| -> u128 {
            let prefix = u32::from(self.prefix);
            if prefix == 0 {
                0
            } else {
                (u128::MAX << (bits - prefix)) & (u128::MAX >> (128 - bits))
            }
        };
        match (self.network, address) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = keep(32);
                u128::from(u32::from(net)) & mask == u128::from(u32::from(ip)) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = keep(128);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl fmt::Display for Subnet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// Where connections may go.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Destinations {
    /// Every address the backend gave is the project's (real AWS, Docker,
    /// Vagrant).
    #[default]
    Any,
    /// Loopback and `networks` (the project's container networks) only.
    Local {
        networks: Vec<Subnet>,
        /// Why, for the error: e.g. which emulator invented the addresses.
        because: String,
    },
}

/// A connection that was not made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "refusing to connect to {host} at {address}: {because}; only loopback{} is reached",
    if networks.is_empty() { String::new() } else { format!(" and the project's container networks ({})", networks.join(", ")) }
)]
pub struct Refused {
    pub host: String,
    pub address: String,
    pub because: String,
    pub networks: Vec<String>,
}

impl Destinations {
    /// Loopback only, because an emulator at `endpoint` gave the addresses.
    pub fn emulator(endpoint: &str) -> Self {
        Self::Local {
            networks: Vec::new(),
            because: format!(
                "the address came from the AWS emulator at {endpoint}, which invents instance \
                 addresses (a packet to one would go to a stranger)"
            ),
        }
    }

    /// Also allow `network` (a container network the project made).
    pub fn with_network(mut self, network: Subnet) -> Self {
        if let Self::Local { networks, .. } = &mut self {
            networks.push(network);
        }
        self
    }

    /// May `host` be reached at `address` (an IP literal or a host name)?
    /// Against an emulator a host name is refused too: where it resolves
    /// is not the project's to say.
    pub fn check(&self, host: &str, address: &str) -> Result<(), Refused> {
        let Self::Local { networks, because } = self else {
            return Ok(());
        };
        let literal = address.trim_start_matches('[').trim_end_matches(']');
        let allowed = match literal.parse::<IpAddr>() {
            Ok(ip) => ip.is_loopback() || networks.iter().any(|n| n.contains(ip)),
            Err(_) => literal == "localhost",
        };
        if allowed {
            return Ok(());
        }
        Err(Refused {
            host: host.to_owned(),
            address: address.to_owned(),
            because: because.clone(),
            networks: networks.iter().map(ToString::to_string).collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anything_goes_where_every_address_is_the_projects() {
        assert_eq!(Destinations::Any.check("app", "54.214.1.2"), Ok(()));
    }

    #[test]
    fn an_emulator_reaches_loopback_and_the_projects_networks_only() {
        let network = Subnet::parse("172.30.0.0/16").unwrap();
        let local = Destinations::emulator("http://127.0.0.1:5000").with_network(network);
        for allowed in [
            "127.0.0.1",
            "127.8.9.10",
            "::1",
            "[::1]",
            "localhost",
            "172.30.4.2",
        ] {
            assert_eq!(local.check("h", allowed), Ok(()), "{allowed}");
        }
        for refused in [
            "54.214.17.3",
            "10.0.1.5",
            "172.31.0.2",
            "192.168.56.11",
            "ec2-54-214-17-3.compute-1.amazonaws.com",
            "2001:db8::1",
        ] {
            let error = local.check("bake", refused).unwrap_err();
            let message = error.to_string();
            assert!(
                message.contains(refused)
                    && message.contains("http://127.0.0.1:5000")
                    && message.contains("172.30.0.0/16"),
                "{message}"
            );
        }
    }

    #[test]
    fn subnets_match_by_prefix() {
        let net = Subnet::parse("10.1.0.0/16").unwrap();
        assert!(net.contains("10.1.255.3".parse().unwrap()));
        assert!(!net.contains("10.2.0.1".parse().unwrap()));
        assert!(!net.contains("::1".parse().unwrap()));
        assert!(
            Subnet::parse("0.0.0.0/0")
                .unwrap()
                .contains("8.8.8.8".parse().unwrap())
        );
        assert!(
            Subnet::parse("fd00::/8")
                .unwrap()
                .contains("fd12::1".parse().unwrap())
        );
        assert_eq!(Subnet::parse("10.0.0.0/33"), None);
        assert_eq!(Subnet::parse("10.0.0.0"), None);
    }
}
