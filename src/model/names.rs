//! Names and tags: the one place that decides what every Argos resource is
//! called and how it is tagged, and which names are acceptable at all.
//!
//! An environment name ends up in a CloudFormation stack name, an RDS
//! identifier, Docker network and container names, DNS labels and Ansible
//! group names. Each of those has its own rules; a name is checked against
//! all of them here, before any API call, so a bad name is an error that says
//! which rule it breaks instead of a half-made environment.

use std::borrow::Cow;
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Longest app or environment name. The formations' `AllowedPattern`s use the
/// same bound, and it keeps `<app>-<env>-knowledge` (the longest resource
/// name) within the 63 characters of an RDS identifier or a DNS label.
pub const MAX_NAME_LEN: usize = 24;

/// Longest group or host name: a host's name is its hostname, a DNS label.
/// (Where a resource name `<app>-<env>-<group>` must fit an RDS identifier,
/// on AWS, the formations' own constraints and CloudFormation check it.)
pub const MAX_PART_LEN: usize = 63;

/// Tag keys. `Name`, `Group`, `Env` and `App` are on every resource;
/// `argos:run` and `argos:expires` only on environments the harness makes.
pub mod tag_keys {
    pub const NAME: &str = "Name";
    pub const GROUP: &str = "Group";
    pub const ENV: &str = "Env";
    pub const APP: &str = "App";
    pub const RUN: &str = "argos:run";
    pub const EXPIRES: &str = "argos:expires";
    /// A local host's further Ansible groups, comma-separated (Docker label).
    pub const GROUPS: &str = "argos:groups";
    /// What belongs to the machine, not to a run or an environment (the apt
    /// cache): no teardown or sweep removes it.
    pub const MACHINE: &str = "argos:machine";
    /// A kept environment of the development loop (`argos-cloud converge`):
    /// its scenario's folder. No sweep removes it unless asked by its run id;
    /// `argos-cloud destroy` does.
    pub const KEPT: &str = "argos:kept";
    /// `docker` on a local host whose image has no sshd: Ansible reaches it
    /// by its docker connection (`docker exec`), as Molecule does.
    pub const CONNECTION: &str = "argos:connection";
}

/// Words that cannot be environment names: every CLI command (so
/// `argos-cloud deploy` is never read as an environment called "deploy"),
/// and `image`, whose names (`<app>-image`) belong to the shared image.
pub const RESERVED_ENV_NAMES: &[&str] = &[
    "image",
    "commission",
    "deploy",
    "update",
    "decommission",
    "clean",
    "status",
    "inventory",
    "check",
    "sweep",
    "validate",
    "template",
    "completions",
    "scenario",
    "test",
    "create",
    "converge",
    "idempotence",
    "verify",
    "login",
    "destroy",
    "list",
    "cache",
    "help",
];

/// A group of hosts: the value of the `Group` tag, an Ansible group, and the
/// last part of the `Name` tag. Which groups a project has is data (its
/// formations, playbooks and settings: see [`crate::model::topology`]); the engine
/// itself knows only the two it makes: the environment's network and the
/// image bake.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Group(Cow<'static, str>);

impl Group {
    /// The environment's network (a Docker network, a VPC).
    pub const NETWORK: Group = Group(Cow::Borrowed("network"));
    /// The instance an image is baked on; shared by every environment.
    pub const IMAGE: Group = Group(Cow::Borrowed("image"));

    /// A group name: 1 to [`MAX_NAME_LEN`] lowercase letters, digits and
    /// underscores, starting with a letter, so it is an Ansible group name
    /// and fits a resource name.
    pub fn new(value: &str) -> Result<Group, NameError> {
        check_name(NameKind::Group, value).map(|()| Group(Cow::Owned(value.to_owned())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A group read from a tag or a label: None when it is no group name.
    pub fn parse(value: &str) -> Option<Group> {
        Group::new(value).ok()
    }
}

impl AsRef<str> for Group {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Group {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl serde::Serialize for Group {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Group {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Group::new(&text).map_err(serde::de::Error::custom)
    }
}

impl schemars::JsonSchema for Group {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Group".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "A group name: lowercase letters, digits and underscores, starting with a letter",
            "pattern": "^[a-z][a-z0-9_]*$",
            "maxLength": MAX_NAME_LEN,
        })
    }
}

/// What a name is for, so an error can say "environment name" or "app name".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameKind {
    App,
    Env,
    Group,
    Host,
}

impl fmt::Display for NameKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NameKind::App => "app name",
            NameKind::Env => "environment name",
            NameKind::Group => "group name",
            NameKind::Host => "host name",
        })
    }
}

/// A rule a name can break, with the downstream system that imposes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameRule {
    Empty,
    TooLong { len: usize, longest: usize },
    MustStartWithLetter,
    InvalidCharacter { found: char, kind: NameKind },
    TrailingHyphen,
    DoubleHyphen,
    Reserved,
}

impl fmt::Display for NameRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NameRule::Empty => f.write_str("it is empty"),
            NameRule::TooLong { len, longest } if *longest == MAX_NAME_LEN => write!(
                f,
                "it is {len} characters long; at most {longest} keep `<app>-<env>-<group>` \
                 within the 63 characters of RDS identifiers and DNS labels"
            ),
            NameRule::TooLong { len, longest } => write!(
                f,
                "it is {len} characters long; at most {longest}, the length of a DNS label"
            ),
            NameRule::MustStartWithLetter => f.write_str(
                "it must start with a lowercase letter (CloudFormation stack names and RDS \
                 identifiers begin with a letter)",
            ),
            NameRule::InvalidCharacter {
                found,
                kind: NameKind::Group,
            } => write!(
                f,
                "{found:?} is not allowed: use lowercase letters, digits and underscores (a group \
                 is an Ansible group name, where hyphens are invalid)"
            ),
            NameRule::InvalidCharacter { found, .. } => write!(
                f,
                "{found:?} is not allowed: use lowercase letters, digits and single hyphens \
                 (Docker and DNS names are lowercase, Ansible turns other characters into `_` \
                 and the hosts would match no group)"
            ),
            NameRule::TrailingHyphen => {
                f.write_str("it must not end with a hyphen (RDS identifiers cannot)")
            }
            NameRule::DoubleHyphen => {
                f.write_str("it must not contain two hyphens in a row (RDS identifiers cannot)")
            }
            NameRule::Reserved => f.write_str(
                "it is reserved: command names and `image` (the shared `<app>-image`) cannot \
                 name an environment",
            ),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} {value:?} is not valid: {rule}")]
pub struct NameError {
    pub kind: NameKind,
    pub value: String,
    pub rule: NameRule,
}

fn check_name(kind: NameKind, value: &str) -> Result<(), NameError> {
    let fail = |rule| {
        Err(NameError {
            kind,
            value: value.to_owned(),
            rule,
        })
    };
    let Some(first) = value.chars().next() else {
        return fail(NameRule::Empty);
    };
    let longest = match kind {
        NameKind::App | NameKind::Env => MAX_NAME_LEN,
        NameKind::Group | NameKind::Host => MAX_PART_LEN,
    };
    if value.chars().count() > longest {
        return fail(NameRule::TooLong {
            len: value.chars().count(),
            longest,
        });
    }
    if !first.is_ascii_lowercase() {
        return fail(NameRule::MustStartWithLetter);
    }
    // Groups are Ansible group names, where a hyphen is invalid.
    let separator = if kind == NameKind::Group { '_' } else { '-' };
    if let Some(found) = value
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == separator))
    {
        return fail(NameRule::InvalidCharacter { found, kind });
    }
    if value.ends_with('-') {
        return fail(NameRule::TrailingHyphen);
    }
    if value.contains("--") {
        return fail(NameRule::DoubleHyphen);
    }
    if kind == NameKind::Env && RESERVED_ENV_NAMES.contains(&value) {
        return fail(NameRule::Reserved);
    }
    Ok(())
}

/// A host's own name (a scenario's `hosts[].name`): like an environment
/// name, at most [`MAX_PART_LEN`] characters, and no word is reserved.
pub fn check_host_name(value: &str) -> Result<(), NameError> {
    check_name(NameKind::Host, value)
}

/// A validated application name (`app_name` in the settings).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AppName(String);

impl AppName {
    pub fn new(value: &str) -> Result<Self, NameError> {
        check_name(NameKind::App, value).map(|()| Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The shared image and the instance it is baked on: `<app>-image`.
    pub fn image_name(&self) -> String {
        format!("{}-image", self.0)
    }
}

impl fmt::Display for AppName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A validated environment name (`staging`, `production`, `t-app-1a2b`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EnvName(String);

impl EnvName {
    pub fn new(value: &str) -> Result<Self, NameError> {
        check_name(NameKind::Env, value).map(|()| Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Environments whose loss would hurt; commands that destroy ask first.
    pub fn looks_like_production(&self) -> bool {
        self.0.starts_with("prod") || self.0.starts_with("live")
    }
}

impl fmt::Display for EnvName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One key/value tag, as every backend stores it (AWS tags, Docker labels).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

impl Tag {
    pub fn new(key: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            value: value.into(),
        }
    }
}

/// The first 12 letters and digits of `text`, lowercased (`x` if none):
/// the readable part of a run's environment name (`t-<label>-<id>`).
pub fn label_of(text: &str) -> String {
    let label: String = text
        .chars()
        .map(|c| c.to_ascii_lowercase())
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        .take(12)
        .collect();
    if label.is_empty() { "x".into() } else { label }
}

/// The marks of an environment the harness made: which run made it and when
/// it may be swept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunTags {
    pub run_id: String,
    pub expires: SystemTime,
    /// The scenario folder of a kept environment (the development loop).
    pub kept: Option<String>,
}

/// The longest life a run's environment may be given: one that needs more
/// is a leak, and `argos:expires` must stay a date RFC 3339 can write.
pub const MAX_TIME_TO_LIVE: Duration = Duration::from_secs(30 * 24 * 3600);

impl RunTags {
    /// Tags of run `run_id`, expiring `time_to_live` from now, at most
    /// [`MAX_TIME_TO_LIVE`] (the CLI refuses more with an error naming `--ttl`).
    pub fn new(run_id: impl Into<String>, time_to_live: Duration) -> Self {
        Self {
            run_id: run_id.into(),
            expires: SystemTime::now() + time_to_live.min(MAX_TIME_TO_LIVE),
            kept: None,
        }
    }

    /// The tags of a kept environment of the scenario in `folder`: it
    /// carries its run id and is never swept unless asked by it.
    pub fn kept(run_id: impl Into<String>, folder: impl Into<String>) -> Self {
        Self {
            kept: Some(folder.into()),
            ..Self::new(run_id, MAX_TIME_TO_LIVE)
        }
    }

    pub fn tags(&self) -> Vec<Tag> {
        let mut tags = vec![
            Tag::new(tag_keys::RUN, &self.run_id),
            Tag::new(tag_keys::EXPIRES, rfc3339(self.expires)),
        ];
        if let Some(folder) = &self.kept {
            tags.push(Tag::new(tag_keys::KEPT, folder));
        }
        tags
    }
}

/// The names of one environment of one app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvNames {
    pub app: AppName,
    pub env: EnvName,
}

impl EnvNames {
    pub fn new(app: AppName, env: EnvName) -> Self {
        Self { app, env }
    }

    /// The CloudFormation stack (and Docker network, and Vagrant project): `<app>-<env>`.
    pub fn stack(&self) -> String {
        format!("{}-{}", self.app, self.env)
    }

    /// A group's resources, or one host's: `<app>-<env>-<group or host>`.
    pub fn resource(&self, part: impl AsRef<str>) -> String {
        format!("{}-{}-{}", self.app, self.env, part.as_ref())
    }

    /// The four tags every resource of `group` carries.
    pub fn tags(&self, group: &Group) -> [Tag; 4] {
        self.host_tags(group.as_str(), group)
    }

    /// The four tags of host `host` of `group`: its Name is the host's.
    pub fn host_tags(&self, host: &str, group: &Group) -> [Tag; 4] {
        [
            Tag::new(tag_keys::NAME, self.resource(host)),
            Tag::new(tag_keys::GROUP, group.as_str()),
            Tag::new(tag_keys::ENV, self.env.as_str()),
            Tag::new(tag_keys::APP, self.app.as_str()),
        ]
    }

    /// Tags on the stack itself; CloudFormation copies them to every resource
    /// it makes, which is how harness environments carry `argos:run`.
    pub fn stack_tags(&self, run: Option<&RunTags>) -> Vec<Tag> {
        let mut tags = vec![
            Tag::new(tag_keys::ENV, self.env.as_str()),
            Tag::new(tag_keys::APP, self.app.as_str()),
        ];
        tags.extend(run.into_iter().flat_map(RunTags::tags));
        tags
    }
}

/// `time` as RFC 3339 in UTC, to the second (`2026-12-06T10:00:00Z`): the
/// form of `argos:expires` tags.
pub fn rfc3339(time: SystemTime) -> String {
    let secs = time
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let at = time::OffsetDateTime::from_unix_timestamp(i64::try_from(secs).unwrap_or(i64::MAX))
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    at.format(&time::format_description::well_known::Rfc3339)
        .expect("a UTC time to the second formats as RFC 3339")
}

/// Parse an RFC 3339 time, as found in `argos:expires` tags (any offset;
/// fractions of a second are dropped).
pub fn parse_rfc3339(text: &str) -> Option<SystemTime> {
    let at =
        time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()?;
    let secs = u64::try_from(at.unix_timestamp()).ok()?;
    Some(UNIX_EPOCH + Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_rule(value: &str) -> NameRule {
        EnvName::new(value).expect_err(value).rule
    }

    #[test]
    fn accepts_ordinary_names() {
        for name in ["staging", "production", "t-app-1a2b", "dev2", "a"] {
            EnvName::new(name).unwrap();
        }
        let longest = "a".repeat(MAX_NAME_LEN);
        EnvName::new(&longest).unwrap();
    }

    #[test]
    fn each_rule_is_named_when_broken() {
        assert_eq!(env_rule(""), NameRule::Empty);
        assert_eq!(
            env_rule(&"a".repeat(MAX_NAME_LEN + 1)),
            NameRule::TooLong {
                len: MAX_NAME_LEN + 1,
                longest: MAX_NAME_LEN
            }
        );
        assert_eq!(env_rule("1staging"), NameRule::MustStartWithLetter);
        assert_eq!(env_rule("Staging"), NameRule::MustStartWithLetter);
        assert_eq!(
            env_rule("stag_ing"),
            NameRule::InvalidCharacter {
                found: '_',
                kind: NameKind::Env
            }
        );
        assert_eq!(
            env_rule("stag.ing"),
            NameRule::InvalidCharacter {
                found: '.',
                kind: NameKind::Env
            }
        );
        assert_eq!(
            env_rule("staGing"),
            NameRule::InvalidCharacter {
                found: 'G',
                kind: NameKind::Env
            }
        );
        assert_eq!(env_rule("staging-"), NameRule::TrailingHyphen);
        assert_eq!(env_rule("stag--ing"), NameRule::DoubleHyphen);
        assert_eq!(env_rule("image"), NameRule::Reserved);
        assert_eq!(env_rule("deploy"), NameRule::Reserved);
        // The role tester's commands: `argos-cloud converge` is never an
        // environment called "converge".
        for word in [
            "test",
            "create",
            "converge",
            "idempotence",
            "verify",
            "login",
            "destroy",
            "list",
        ] {
            assert_eq!(env_rule(word), NameRule::Reserved, "{word}");
        }
    }

    #[test]
    fn errors_say_which_rule_and_why() {
        let message = EnvName::new("stag_ing").unwrap_err().to_string();
        assert!(
            message.contains("environment name \"stag_ing\""),
            "{message}"
        );
        assert!(message.contains("'_' is not allowed"), "{message}");
        assert!(message.contains("Ansible"), "{message}");
        let message = AppName::new("Argos").unwrap_err().to_string();
        assert!(message.starts_with("app name \"Argos\""), "{message}");
    }

    #[test]
    fn reserved_words_are_only_reserved_for_environments() {
        AppName::new("image").unwrap();
    }

    #[test]
    fn names_and_tags_follow_the_convention() {
        let names = EnvNames::new(
            AppName::new("argos").unwrap(),
            EnvName::new("staging").unwrap(),
        );
        assert_eq!(names.stack(), "argos-staging");
        assert_eq!(names.app.image_name(), "argos-image");
        let group = |name| Group::new(name).unwrap();
        assert_eq!(
            names.resource(group("knowledge")),
            "argos-staging-knowledge"
        );
        let tags = names.tags(&group("database"));
        let pairs: Vec<_> = tags
            .iter()
            .map(|t| (t.key.as_str(), t.value.as_str()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("Name", "argos-staging-database"),
                ("Group", "database"),
                ("Env", "staging"),
                ("App", "argos"),
            ]
        );
    }

    #[test]
    fn longest_names_fit_rds_identifiers() {
        let longest = "a".repeat(MAX_NAME_LEN);
        let names = EnvNames::new(
            AppName::new(&longest).unwrap(),
            EnvName::new(&longest).unwrap(),
        );
        for group in ["database", "knowledge", "collector"] {
            let group = Group::new(group).unwrap();
            assert!(names.resource(&group).len() <= 63, "{group}");
        }
        assert!(Group::new(&"g".repeat(MAX_PART_LEN)).is_ok());
        let error = Group::new(&"g".repeat(MAX_PART_LEN + 1)).unwrap_err();
        assert!(
            error.to_string().contains("the length of a DNS label"),
            "{error}"
        );
    }

    #[test]
    fn run_tags_carry_an_rfc3339_expiry() {
        let run = RunTags {
            run_id: "r-1".into(),
            expires: UNIX_EPOCH + Duration::from_secs(1_795_000_000),
            kept: None,
        };
        let names = EnvNames::new(AppName::new("argos").unwrap(), EnvName::new("t-1").unwrap());
        let tags = names.stack_tags(Some(&run));
        assert_eq!(tags[2], Tag::new("argos:run", "r-1"));
        assert_eq!(tags[3], Tag::new("argos:expires", "2026-11-18T11:06:40Z"));
        assert_eq!(names.stack_tags(None).len(), 2);
    }

    #[test]
    fn rfc3339_round_trips() {
        for secs in [0, 951_782_400, 1_709_251_199, 1_795_000_000, 4_102_444_800] {
            let time = UNIX_EPOCH + Duration::from_secs(secs);
            assert_eq!(parse_rfc3339(&rfc3339(time)), Some(time), "{secs}");
        }
        assert_eq!(parse_rfc3339("2026-13-01T00:00:00Z"), None);
        assert_eq!(parse_rfc3339("tomorrow"), None);
        // Any offset is RFC 3339, as the `time` crate reads it.
        assert_eq!(
            parse_rfc3339("2026-11-25T11:46:06+01:00"),
            parse_rfc3339("2026-11-25T10:46:06Z")
        );
    }

    #[test]
    fn rfc3339_handles_leap_years_and_epoch() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        // 2024-02-29T23:59:59Z
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_secs(1_709_251_199)),
            "2024-02-29T23:59:59Z"
        );
    }
}
