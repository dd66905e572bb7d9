//! The catalogue of settings keys: every key `group_vars/all.yml` may hold,
//! whether it is required, its default and whether it is secret. The loader,
//! the overrides (`ARGOS_<KEY>`, `--set key=value`) and the test that keeps
//! `all.sample.yml` complete all read this one list.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    /// Must be present and non-empty.
    Required,
    /// Taken from this default when absent.
    Default(&'static str),
    /// May be absent or empty.
    Optional,
}

#[derive(Debug, Clone, Copy)]
pub struct KeySpec {
    pub name: &'static str,
    pub presence: Presence,
    pub secret: bool,
    /// What the key is for, shown when it is missing.
    pub help: &'static str,
}

const fn key(name: &'static str, presence: Presence, help: &'static str) -> KeySpec {
    KeySpec {
        name,
        presence,
        secret: false,
        help,
    }
}

const fn secret(name: &'static str, presence: Presence, help: &'static str) -> KeySpec {
    KeySpec {
        name,
        presence,
        secret: true,
        help,
    }
}

use Presence::{Default, Optional, Required};

pub const KEYS: &[KeySpec] = &[
    // Identity and access
    key(
        "app_name",
        Required,
        "the app's name, first part of every resource name, e.g. argos",
    ),
    key("region", Required, "the AWS region, e.g. us-east-1"),
    key(
        "key_name",
        Required,
        "the EC2 key pair; its private key is keys/<key_name>.pem",
    ),
    key(
        "ssh_user",
        Default("admin"),
        "the SSH user of the hosts (admin on Debian images)",
    ),
    key(
        "operator_cidr",
        Required,
        "the only IPv4 range allowed to SSH to hosts, e.g. 203.0.113.0/24",
    ),
    key(
        "base_ami",
        Required,
        "the base image (a Debian AMI id) for the image bake and the knowledge host",
    ),
    key(
        "base_ami_root_device",
        Default("/dev/xvda"),
        "the root device name of the base image",
    ),
    key(
        "vpc_cidr",
        Default("10.40.0.0/16"),
        "the environment's VPC range, a.b.0.0/16 (subnets are a.b.0-3.0/24)",
    ),
    // Sizes
    key(
        "app_instance_type",
        Default("t3.small"),
        "EC2 type of the app servers",
    ),
    key(
        "knowledge_instance_type",
        Default("m6i.large"),
        "EC2 type of the knowledge host (Fuseki, NER)",
    ),
    key(
        "knowledge_volume_size",
        Default("100"),
        "root volume of the knowledge host, GiB",
    ),
    key(
        "broker_instance_type",
        Default("t3.small"),
        "EC2 type of the broker",
    ),
    key(
        "worker_instance_type",
        Default("t3.medium"),
        "EC2 type of the workers",
    ),
    key(
        "image_instance_type",
        Default("t3.medium"),
        "EC2 type of the instance the image is baked on",
    ),
    key(
        "app_autoscaling",
        Default("false"),
        "app servers in an autoscaling group behind a load balancer",
    ),
    key(
        "app_min_size",
        Default("1"),
        "least app servers when autoscaling",
    ),
    key(
        "app_max_size",
        Default("4"),
        "most app servers when autoscaling",
    ),
    key(
        "app_health_check_path",
        Default("/health"),
        "the load balancer's health check path",
    ),
    key(
        "tasks_enabled",
        Default("false"),
        "create the broker and the worker group",
    ),
    key("worker_min_size", Default("1"), "least workers"),
    key("worker_max_size", Default("4"), "most workers"),
    // Database
    key(
        "db_name",
        Required,
        "the database name: letters, digits, underscores (no dashes)",
    ),
    key("db_user", Required, "the database's master user"),
    secret("db_pass", Required, "the database's master password"),
    key(
        "db_instance_class",
        Default("db.t4g.micro"),
        "RDS instance class",
    ),
    key("db_allocated_storage", Default("20"), "RDS storage, GiB"),
    key("db_engine_version", Default("16"), "PostgreSQL version"),
    key("db_multi_az", Default("false"), "RDS Multi-AZ"),
    // Application
    key(
        "git_repo",
        Required,
        "where the Argos app comes from: a git URL or a local path",
    ),
    key(
        "git_version",
        Default("HEAD"),
        "the branch, tag or commit of git_repo to deploy",
    ),
    key(
        "app_path",
        Default("/var/www/argos"),
        "where the app is checked out on hosts",
    ),
    key(
        "venv_path",
        Default("/var/env/argos"),
        "the app's Python virtualenv on hosts",
    ),
    secret("secret_key", Required, "the app's Flask secret key"),
    secret("aes_key", Required, "the app's AES key, 32 characters"),
    secret("aes_iv", Required, "the app's AES IV, 16 characters"),
    key("s3_bucket_name", Optional, "the app's S3 bucket"),
    secret(
        "aws_access_key_id",
        Optional,
        "S3 access for the app (prefer an instance role)",
    ),
    secret(
        "aws_secret_access_key",
        Optional,
        "S3 access for the app (prefer an instance role)",
    ),
    key(
        "broker_user",
        Optional,
        "the broker's RabbitMQ user (default: argos)",
    ),
    secret(
        "broker_pass",
        Optional,
        "the broker's password (default: derived from secret_key)",
    ),
    // Mail
    key(
        "email_host",
        Optional,
        "SMTP server for the app's error mail",
    ),
    key("email_port", Default("587"), "SMTP port"),
    key(
        "error_email_user",
        Optional,
        "SMTP user for the app's error mail",
    ),
    secret(
        "error_email_password",
        Optional,
        "SMTP password for the app's error mail",
    ),
    key(
        "error_admins",
        Optional,
        "who gets the app's error mail (a list of addresses)",
    ),
    key(
        "celery_email_user",
        Optional,
        "SMTP user for Celery's error mail",
    ),
    secret(
        "celery_email_password",
        Optional,
        "SMTP password for Celery's error mail",
    ),
    key(
        "celery_admin_name",
        Optional,
        "who gets Celery's error mail",
    ),
    key(
        "celery_admin_email",
        Optional,
        "address for Celery's error mail",
    ),
    // Third-party APIs the app calls
    secret("bizvizz_api_key", Optional, "BizVizz API key"),
    secret("opensecrets_api_key", Optional, "OpenSecrets API key"),
    secret("instagram_client_id", Optional, "Instagram client id"),
    secret("sunlight_api_key", Optional, "Sunlight API key"),
    secret("flickr_client_id", Optional, "Flickr client id"),
    // Local backends
    key(
        "vagrant_provider",
        Default("auto"),
        "the Vagrant provider: auto (docker when its engine runs, else virtualbox, else libvirt), docker, virtualbox or libvirt",
    ),
    key(
        "vagrant_box",
        Default("debian/bookworm64"),
        "the Vagrant box of the virtualbox and libvirt providers",
    ),
    // Structure
    key(
        "topology",
        Required,
        "the groups of an environment in deploy order, e.g. `- {group: app}` (see all.sample.yml)",
    ),
];

impl KeySpec {
    /// A key whose value is a structure (`topology`), read from the file only.
    pub fn structured(&self) -> bool {
        self.name == "topology"
    }
}

pub fn spec(name: &str) -> Option<&'static KeySpec> {
    KEYS.iter().find(|k| k.name == name)
}

/// The environment variable that overrides `key`: `ARGOS_DB_PASS` for `db_pass`.
pub fn env_var(key: &str) -> String {
    format!("ARGOS_{}", key.to_ascii_uppercase())
}

/// The known key closest to a misspelt one, if any is close enough to be a typo.
pub fn suggest(unknown: &str) -> Option<&'static str> {
    KEYS.iter()
        .map(|k| (edit_distance(unknown, k.name), k.name))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, name)| name)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique() {
        let mut names: Vec<_> = KEYS.iter().map(|k| k.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), KEYS.len());
    }

    #[test]
    fn typos_get_a_suggestion() {
        assert_eq!(suggest("db_nmae"), Some("db_name"));
        assert_eq!(suggest("dbpass"), Some("db_pass"));
        assert_eq!(suggest("completely_else"), None);
    }

    #[test]
    fn override_variables_are_upper_case() {
        assert_eq!(env_var("db_pass"), "ARGOS_DB_PASS");
    }
}
