//! Hosts from `vagrant ssh-config`: one `Host` block per machine, named
//! after its group (`app`, or `app-2` for a second one).
//!
//! The block says how to connect, which on most providers is a port
//! forwarded to 127.0.0.1: the private address the other hosts use stays
//! `HostName` here, and the Vagrant backend replaces it with the machine's
//! own address.

use std::collections::BTreeMap;

use super::Host;
use crate::model::names::Group;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SshConfigError {
    #[error("vagrant ssh-config, line {line}: {problem}")]
    Malformed { line: usize, problem: String },
    #[error(
        "vagrant machine {machine:?} is not named after a group, and no machine list says its group"
    )]
    UnknownMachine { machine: String },
}

#[derive(Default)]
struct Block {
    name: String,
    fields: BTreeMap<String, String>,
}

pub fn parse_ssh_config(text: &str) -> Result<Vec<Host>, SshConfigError> {
    let mut blocks: Vec<Block> = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = line
            .split_once(char::is_whitespace)
            .map(|(k, v)| (k, v.trim()))
            .ok_or_else(|| SshConfigError::Malformed {
                line: index + 1,
                problem: format!("{line:?} is not `Key value`"),
            })?;
        if key == "Host" {
            blocks.push(Block {
                name: value.to_owned(),
                ..Block::default()
            });
        } else {
            let block = blocks.last_mut().ok_or_else(|| SshConfigError::Malformed {
                line: index + 1,
                problem: format!("{key} before any Host"),
            })?;
            block
                .fields
                .insert(key.to_owned(), value.trim_matches('"').to_owned());
        }
    }
    blocks.into_iter().map(host).collect()
}

fn host(block: Block) -> Result<Host, SshConfigError> {
    let group_name = match block.name.rsplit_once('-') {
        Some((base, n)) if n.chars().all(|c| c.is_ascii_digit()) => base,
        _ => block.name.as_str(),
    };
    // The machine list, when there is one, says the groups; the name is
    // the group of a machine made for one (`app`, `app-2`).
    let group = Group::parse(group_name)
        .or_else(|| Group::parse(&group_name.replace('-', "_")))
        .ok_or_else(|| SshConfigError::UnknownMachine {
            machine: block.name.clone(),
        })?;
    let field = |key: &str| block.fields.get(key).cloned();
    let address = field("HostName").ok_or_else(|| SshConfigError::Malformed {
        line: 0,
        problem: format!("machine {} has no HostName", block.name),
    })?;
    let port = field("Port").and_then(|p| p.parse().ok()).unwrap_or(22);
    let mut vars = BTreeMap::new();
    if let Some(key) = field("IdentityFile") {
        vars.insert("ansible_ssh_private_key_file".to_owned(), key);
    }
    Ok(Host {
        name: block.name.clone(),
        group,
        groups: Vec::new(),
        private_address: address.clone(),
        address,
        port,
        user: field("User").unwrap_or_else(|| "vagrant".to_owned()),
        vars,
    })
}
