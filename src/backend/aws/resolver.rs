//! The one place an EC2 instance becomes an address to connect to, and
//! the rule for which addresses may be connected to at all. The inventory
//! (deploy, `check`, scenarios) and the image bake all ask it.
//!
//! On AWS an instance is reached at its public address, else its private
//! one. On an emulator the addresses are invented: an instance is reached
//! only where something of the project's stands in for it (a placement: a
//! container, or a test's loopback listener), and every other address is
//! refused before a packet leaves (see [`Destinations`]).

use std::fmt;
use std::sync::Arc;

use argos_aws::Instance;

use super::is_loopback;
use crate::converge::destinations::Destinations;

/// Where an instance that does not live where EC2 says is reached instead.
pub type Placement = Arc<dyn Fn(&Instance) -> Option<(String, u16)> + Send + Sync>;

#[derive(Clone, Default)]
pub struct Resolver {
    destinations: Destinations,
    placement: Option<Placement>,
}

impl fmt::Debug for Resolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Resolver")
            .field("destinations", &self.destinations)
            .field("placement", &self.placement.as_ref().map(|_| "…"))
            .finish()
    }
}

impl Resolver {
    /// The resolver for AWS (`None`, or an AWS endpoint) or for an emulator
    /// on this machine.
    pub fn for_endpoint(endpoint: Option<&str>) -> Self {
        match endpoint {
            Some(endpoint) if is_loopback(endpoint) => Self {
                destinations: Destinations::emulator(endpoint),
                placement: None,
            },
            _ => Self::default(),
        }
    }

    /// Reach instances where `placement` says, when it says anything.
    pub fn placing(
        mut self,
        placement: impl Fn(&Instance) -> Option<(String, u16)> + Send + Sync + 'static,
    ) -> Self {
        self.placement = Some(Arc::new(placement));
        self
    }

    /// Which addresses may be connected to.
    pub fn destinations(&self) -> &Destinations {
        &self.destinations
    }

    /// Where this process connects to `instance` over SSH: its placement,
    /// else what EC2 reports. Whether that may be connected to is the
    /// [`Destinations`]' call, asked by whoever connects.
    pub fn ssh_address(&self, instance: &Instance) -> Option<(String, u16)> {
        self.placement
            .as_ref()
            .and_then(|place| place(instance))
            .or_else(|| crate::converge::inventory::ssh_address(instance))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn instance(public: Option<&str>, private: Option<&str>) -> Instance {
        Instance {
            id: "i-1".into(),
            state: "running".into(),
            tags: Vec::new(),
            image_id: None,
            instance_type: None,
            private_ip: private.map(str::to_owned),
            public_ip: public.map(str::to_owned),
            private_dns: None,
            public_dns: None,
        }
    }

    #[test]
    fn aws_reaches_the_public_address_first() {
        let aws = Resolver::for_endpoint(None);
        let both = instance(Some("54.1.2.3"), Some("10.0.1.4"));
        assert_eq!(aws.ssh_address(&both), Some(("54.1.2.3".into(), 22)));
        let private = instance(None, Some("10.0.1.4"));
        assert_eq!(aws.ssh_address(&private), Some(("10.0.1.4".into(), 22)));
        assert_eq!(aws.destinations(), &Destinations::Any);
    }

    #[test]
    fn an_emulator_refuses_the_addresses_it_invented_unless_placed() {
        let emulator = Resolver::for_endpoint(Some("http://127.0.0.1:5000"));
        let invented = instance(Some("54.214.17.3"), Some("10.0.1.4"));
        let (address, _) = emulator.ssh_address(&invented).unwrap();
        let refused = emulator.destinations().check("i-1", &address).unwrap_err();
        assert!(refused.to_string().contains("54.214.17.3"), "{refused}");

        let placed = emulator.placing(|_| Some(("127.0.0.1".into(), 2222)));
        let (address, port) = placed.ssh_address(&invented).unwrap();
        assert_eq!((address.as_str(), port), ("127.0.0.1", 2222));
        assert_eq!(placed.destinations().check("i-1", &address), Ok(()));
    }
}
