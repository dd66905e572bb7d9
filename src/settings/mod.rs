//! Settings: `playbooks/group_vars/all.yml`, the file Ansible reads too, typed
//! and validated, with overrides from `ARGOS_<KEY>` variables and `--set`.
//!
//! Every problem is reported with the file and line (or the variable or flag)
//! it came from, all at once, before anything is created. Secrets are
//! [`Secret`]s, so no `Debug` or error shows them.

mod checks;
pub mod keys;
mod source;

use std::fmt;
use std::path::{Path, PathBuf};

pub use source::{Origin, Overrides};

use crate::names::AppName;
use crate::project::Project;
use crate::secret::Secret;
use crate::topology::{GroupSpec, Topology};
use source::{Reader, SettingsFile};

#[derive(Debug, Clone)]
pub struct Settings {
    /// The file the settings were read from.
    pub source: PathBuf,
    pub app_name: AppName,
    pub region: String,
    pub access: Access,
    pub sizes: Sizes,
    pub database: Database,
    pub application: Application,
    pub vagrant: VagrantSettings,
    /// The groups of an environment, in deploy order (the `topology` list).
    pub topology: Topology,
}

/// How the Vagrant backend makes machines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VagrantSettings {
    pub provider: VagrantProvider,
    pub box_name: String,
}

/// The Vagrant provider setting; `Auto` picks what the machine has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VagrantProvider {
    Auto,
    Docker,
    Virtualbox,
    Libvirt,
}

impl VagrantProvider {
    pub const NAMES: [&'static str; 4] = ["auto", "docker", "virtualbox", "libvirt"];

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "auto" => Some(Self::Auto),
            "docker" => Some(Self::Docker),
            "virtualbox" => Some(Self::Virtualbox),
            "libvirt" => Some(Self::Libvirt),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        Self::NAMES[self as usize]
    }
}

impl fmt::Display for VagrantProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How hosts are reached and what they start from.
#[derive(Debug, Clone)]
pub struct Access {
    pub key_name: String,
    pub ssh_user: String,
    pub operator_cidr: String,
    pub base_ami: String,
    pub base_ami_root_device: String,
    pub vpc_cidr: String,
}

#[derive(Debug, Clone)]
pub struct Sizes {
    pub app_instance_type: String,
    pub knowledge_instance_type: String,
    pub knowledge_volume_size: u32,
    pub broker_instance_type: String,
    pub worker_instance_type: String,
    pub image_instance_type: String,
    pub app_autoscaling: bool,
    pub app_min_size: u32,
    pub app_max_size: u32,
    pub app_health_check_path: String,
    pub tasks_enabled: bool,
    pub worker_min_size: u32,
    pub worker_max_size: u32,
}

#[derive(Debug, Clone)]
pub struct Database {
    pub name: String,
    pub user: String,
    pub password: Secret,
    pub instance_class: String,
    pub allocated_storage: u32,
    pub engine_version: String,
    pub multi_az: bool,
}

/// What the app role writes into the Argos configuration.
#[derive(Debug, Clone)]
pub struct Application {
    pub git_repo: String,
    pub git_version: String,
    pub app_path: String,
    pub venv_path: String,
    pub secret_key: Secret,
    pub aes_key: Secret,
    pub aes_iv: Secret,
    pub s3_bucket_name: String,
    pub aws_access_key_id: Secret,
    pub aws_secret_access_key: Secret,
    pub broker_user: String,
    pub broker_pass: Secret,
    pub mail: Mail,
    pub api_keys: ApiKeys,
}

#[derive(Debug, Clone)]
pub struct Mail {
    pub host: String,
    pub port: u16,
    pub error_user: String,
    pub error_password: Secret,
    pub error_admins: Vec<String>,
    pub celery_user: String,
    pub celery_password: Secret,
    pub celery_admin_name: String,
    pub celery_admin_email: String,
}

#[derive(Debug, Clone)]
pub struct ApiKeys {
    pub bizvizz: Secret,
    pub opensecrets: Secret,
    pub instagram: Secret,
    pub sunlight: Secret,
    pub flickr: Secret,
}

/// Settings and what the user should know about how they were read.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub settings: Settings,
    pub notices: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error(
        "neither {} nor {} exists: create the settings file (see the README, \"Configure\")",
        settings.display(),
        sample.display()
    )]
    NoSettings { settings: PathBuf, sample: PathBuf },
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}{}: YAML syntax error: {message}", path.display(), at.as_deref().unwrap_or(""))]
    Syntax {
        path: PathBuf,
        /// `:line:column` when the parser knows it.
        at: Option<String>,
        message: String,
    },
    #[error("{}: the top level must be a mapping of keys to values", path.display())]
    NotAMapping { path: PathBuf },
    #[error("{}: missing key `{key}`: {help}", path.display())]
    Missing {
        path: PathBuf,
        key: String,
        help: &'static str,
    },
    #[error("{origin}: `{key}`: {problem}")]
    Invalid {
        origin: Origin,
        key: String,
        problem: String,
    },
    #[error("{origin}: unknown key `{key}`{}", suggestion.map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default())]
    UnknownKey {
        origin: Origin,
        key: String,
        suggestion: Option<&'static str>,
    },
    #[error("--set {text:?}: expected KEY=VALUE")]
    BadAssignment { text: String },
    #[error("--set-file {text:?}: expected KEY=PATH, a file holding the value")]
    BadFileAssignment { text: String },
    #[error("--set-file {key}={}: cannot read the file: {source}", path.display())]
    SetFile {
        key: String,
        path: PathBuf,
        source: std::io::Error,
    },
}

impl SettingsError {
    fn syntax(path: &Path, error: &serde_norway::Error) -> Self {
        let message = error.to_string();
        // The parser appends " at line L column C"; the prefix says it already.
        let message = match message.find(" at line ") {
            Some(cut) => message[..cut].to_owned(),
            None => message,
        };
        Self::Syntax {
            path: path.to_owned(),
            at: error
                .location()
                .map(|l| format!(":{}:{}", l.line(), l.column())),
            message,
        }
    }
}

/// Every problem found in the settings, one per line.
#[derive(Debug, thiserror::Error)]
pub struct SettingsErrors(pub Vec<SettingsError>);

impl fmt::Display for SettingsErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl From<SettingsError> for SettingsErrors {
    fn from(error: SettingsError) -> Self {
        Self(vec![error])
    }
}

/// Load the project's settings. When `all.yml` does not exist yet it is made
/// from `all.sample.yml`, as operators of the original tool expect.
pub fn load(project: &Project, overrides: &Overrides) -> Result<Loaded, SettingsErrors> {
    let path = project.path(Project::SETTINGS);
    let sample_path = project.path(Project::SAMPLE_SETTINGS);
    let mut notices = Vec::new();
    if !path.exists() {
        if !sample_path.exists() {
            return Err(SettingsError::NoSettings {
                settings: path,
                sample: sample_path,
            }
            .into());
        }
        copy_private(&sample_path, &path).map_err(|source| SettingsError::Read {
            path: path.clone(),
            source,
        })?;
        notices.push(format!(
            "created {} from {}: edit it before commissioning a real environment",
            path.display(),
            sample_path.display()
        ));
    }
    let file = read_file(&path)?;
    let sample = if sample_path.exists() {
        read_file(&sample_path).ok()
    } else {
        None
    };
    notices.extend(typo_notices(&file));
    let settings = from_file(&file, overrides)?;
    if let Some(sample) = &sample {
        notices.extend(placeholder_notices(&file, sample, overrides));
    }
    Ok(Loaded { settings, notices })
}

/// Copy the sample to a file only its owner can read: `all.yml` is where
/// the secrets go.
fn copy_private(sample: &Path, path: &Path) -> std::io::Result<()> {
    let text = std::fs::read(sample)?;
    std::io::Write::write_all(&mut crate::secret::private_file(path)?, &text)
}

/// Settings from YAML text, without touching the file system beyond `path`
/// (used in messages only).
pub fn parse(path: &Path, text: &str, overrides: &Overrides) -> Result<Settings, SettingsErrors> {
    let file = SettingsFile::parse(path, text.to_owned())?;
    from_file(&file, overrides)
}

fn read_file(path: &Path) -> Result<SettingsFile, SettingsError> {
    let text = std::fs::read_to_string(path).map_err(|source| SettingsError::Read {
        path: path.to_owned(),
        source,
    })?;
    SettingsFile::parse(path, text)
}

/// Unknown keys are allowed (operators keep their own variables for their
/// playbooks), but one that looks like a misspelt known key is worth a word.
fn typo_notices(file: &SettingsFile) -> Vec<String> {
    file.keys()
        .filter(|key| keys::spec(key).is_none())
        .filter_map(|key| {
            keys::suggest(key).map(|known| {
                format!(
                    "{}: unknown key `{key}`: did you mean `{known}`?",
                    file.origin(key)
                )
            })
        })
        .collect()
}

/// Secrets still equal to the sample's placeholders.
fn placeholder_notices(
    file: &SettingsFile,
    sample: &SettingsFile,
    overrides: &Overrides,
) -> Vec<String> {
    keys::KEYS
        .iter()
        .filter(|k| k.secret && k.presence == keys::Presence::Required)
        .filter(|k| !overrides.provides(k.name))
        .filter(|k| matches!((file.get(k.name), sample.get(k.name)), (Some(a), Some(b)) if a == b))
        .map(|k| {
            format!(
                "{}: `{}` still has the sample's placeholder value: change it before \
                 commissioning a real environment",
                file.origin(k.name),
                k.name
            )
        })
        .collect()
}

fn from_file(file: &SettingsFile, overrides: &Overrides) -> Result<Settings, SettingsErrors> {
    let mut r = Reader::new(file, overrides);

    let app_name = r.parse("app_name", |s| {
        AppName::new(s).map_err(|e| e.rule.to_string())
    });
    let region = r.parse("region", checks::region);
    let access = access(&mut r);
    let sizes = sizes(&mut r);
    let database = database(&mut r);
    let application = application(&mut r);
    let vagrant = vagrant(&mut r);
    let topology = topology(&mut r);

    let settings = (|| {
        Some(Settings {
            source: file.path.clone(),
            app_name: app_name?,
            region: region?,
            access: access?,
            sizes: sizes?,
            database: database?,
            application: application?,
            vagrant: vagrant?,
            topology: topology?,
        })
    })();
    match settings {
        Some(settings) if r.errors.is_empty() => Ok(settings),
        _ => Err(SettingsErrors(r.errors)),
    }
}

/// The `topology` list: structured, so read from the file only (no
/// override can replace it), with the line of a problem within it.
fn topology(r: &mut Reader<'_>) -> Option<Topology> {
    const KEY: &str = "topology";
    let file = r.file;
    let Some(value) = file.get(KEY).filter(|v| !v.is_null()) else {
        r.errors.push(SettingsError::Missing {
            path: file.path.clone(),
            key: KEY.into(),
            help: keys::spec(KEY).map_or("", |k| k.help),
        });
        return None;
    };
    let origin = file.origin(KEY);
    let groups: Vec<GroupSpec> = match serde_path_to_error::deserialize(value.clone()) {
        Ok(groups) => groups,
        Err(error) => {
            // The path within the list: `[2].memory_mb`.
            let at = error.path().to_string();
            let at = if at == "." { String::new() } else { at };
            r.errors.push(SettingsError::Invalid {
                origin,
                key: format!("{KEY}{at}"),
                problem: error.into_inner().to_string(),
            });
            return None;
        }
    };
    let mut topology = Topology::new(groups);
    for spec in &mut topology.groups {
        spec.enabled = spec.when.as_deref().is_none_or(|key| r.switch(key));
    }
    if let Err(problem) = topology.check(|key| file.get(key).is_some() || keys::spec(key).is_some())
    {
        r.errors.push(SettingsError::Invalid {
            origin,
            key: KEY.into(),
            problem: problem.to_string(),
        });
        return None;
    }
    Some(topology)
}

fn vagrant(r: &mut Reader<'_>) -> Option<VagrantSettings> {
    let provider = r.parse("vagrant_provider", |s| {
        VagrantProvider::parse(s)
            .ok_or_else(|| format!("{s:?} is not one of {}", VagrantProvider::NAMES.join(", ")))
    });
    let box_name = r.parse("vagrant_box", |s| {
        if s.is_empty() || s.contains(char::is_whitespace) {
            Err(format!("{s:?} is not a box name such as debian/bookworm64"))
        } else {
            Ok(s.to_owned())
        }
    });
    Some(VagrantSettings {
        provider: provider?,
        box_name: box_name?,
    })
}

fn access(r: &mut Reader<'_>) -> Option<Access> {
    let key_name = r.parse("key_name", checks::key_pair_name);
    let ssh_user = r.parse("ssh_user", checks::unix_user);
    let operator_cidr = r.parse("operator_cidr", |s| checks::ipv4_cidr(s, 0..=32));
    let base_ami = r.parse("base_ami", checks::ami_id);
    let base_ami_root_device = r.parse("base_ami_root_device", checks::absolute_path);
    let vpc_cidr = r.parse("vpc_cidr", checks::vpc_cidr);
    Some(Access {
        key_name: key_name?,
        ssh_user: ssh_user?,
        operator_cidr: operator_cidr?,
        base_ami: base_ami?,
        base_ami_root_device: base_ami_root_device?,
        vpc_cidr: vpc_cidr?,
    })
}

fn database(r: &mut Reader<'_>) -> Option<Database> {
    let name = r.parse("db_name", checks::db_identifier);
    let user = r.parse("db_user", checks::db_identifier);
    let password = r.secret("db_pass", checks::db_password);
    let instance_class = r.parse("db_instance_class", checks::db_instance_class);
    let allocated_storage = r.parse("db_allocated_storage", checks::number(20..=1024));
    let engine_version = r.parse("db_engine_version", checks::postgres_version);
    let multi_az = r.parse("db_multi_az", checks::boolean);
    Some(Database {
        name: name?,
        user: user?,
        password: password?,
        instance_class: instance_class?,
        allocated_storage: allocated_storage?,
        engine_version: engine_version?,
        multi_az: multi_az?,
    })
}

fn sizes(r: &mut Reader<'_>) -> Option<Sizes> {
    // Read every key before giving up, so all problems are reported together.
    let app_instance_type = r.parse("app_instance_type", checks::instance_type);
    let knowledge_instance_type = r.parse("knowledge_instance_type", checks::instance_type);
    let knowledge_volume_size = r.parse("knowledge_volume_size", checks::number(8..=16_384));
    let broker_instance_type = r.parse("broker_instance_type", checks::instance_type);
    let worker_instance_type = r.parse("worker_instance_type", checks::instance_type);
    let image_instance_type = r.parse("image_instance_type", checks::instance_type);
    let app_autoscaling = r.parse("app_autoscaling", checks::boolean);
    let app_min_size = r.parse("app_min_size", checks::number(1..=100));
    let app_max_size = r.parse("app_max_size", checks::number(1..=100));
    let app_health_check_path = r.parse("app_health_check_path", |s| {
        if s.starts_with('/') {
            Ok(s.to_owned())
        } else {
            Err(format!("{s:?} must start with /"))
        }
    });
    let tasks_enabled = r.parse("tasks_enabled", checks::boolean);
    let worker_min_size = r.parse("worker_min_size", checks::number(0..=100));
    let worker_max_size = r.parse("worker_max_size", checks::number(1..=100));
    for (min_key, min, max_key, max) in [
        ("app_min_size", app_min_size, "app_max_size", app_max_size),
        (
            "worker_min_size",
            worker_min_size,
            "worker_max_size",
            worker_max_size,
        ),
    ] {
        if let (Some(min), Some(max)) = (min, max)
            && min > max
        {
            r.problem(min_key, format!("{min} is more than `{max_key}` ({max})"));
        }
    }
    Some(Sizes {
        app_instance_type: app_instance_type?,
        knowledge_instance_type: knowledge_instance_type?,
        knowledge_volume_size: knowledge_volume_size?,
        broker_instance_type: broker_instance_type?,
        worker_instance_type: worker_instance_type?,
        image_instance_type: image_instance_type?,
        app_autoscaling: app_autoscaling?,
        app_min_size: app_min_size?,
        app_max_size: app_max_size?,
        app_health_check_path: app_health_check_path?,
        tasks_enabled: tasks_enabled?,
        worker_min_size: worker_min_size?,
        worker_max_size: worker_max_size?,
    })
}

fn application(r: &mut Reader<'_>) -> Option<Application> {
    let git_repo = r.parse("git_repo", checks::git_source);
    let git_version = r.parse("git_version", checks::git_source);
    let app_path = r.parse("app_path", checks::absolute_path);
    let venv_path = r.parse("venv_path", checks::absolute_path);
    let secret_key = r.secret("secret_key", checks::non_empty_secret);
    let aes_key = r.secret("aes_key", checks::exact_length(32));
    let aes_iv = r.secret("aes_iv", checks::exact_length(16));
    let s3_bucket_name = r.string("s3_bucket_name");
    let aws_access_key_id = r.secret("aws_access_key_id", checks::non_empty_secret);
    let aws_secret_access_key = r.secret("aws_secret_access_key", checks::non_empty_secret);
    let broker_user = r.string("broker_user");
    let broker_pass = r.secret("broker_pass", checks::non_empty_secret);
    let mail = mail(r);
    let bizvizz = r.secret("bizvizz_api_key", checks::non_empty_secret);
    let opensecrets = r.secret("opensecrets_api_key", checks::non_empty_secret);
    let instagram = r.secret("instagram_client_id", checks::non_empty_secret);
    let sunlight = r.secret("sunlight_api_key", checks::non_empty_secret);
    let flickr = r.secret("flickr_client_id", checks::non_empty_secret);
    let api_keys = Some(ApiKeys {
        bizvizz: bizvizz?,
        opensecrets: opensecrets?,
        instagram: instagram?,
        sunlight: sunlight?,
        flickr: flickr?,
    });
    Some(Application {
        git_repo: git_repo?,
        git_version: git_version?,
        app_path: app_path?,
        venv_path: venv_path?,
        secret_key: secret_key?,
        aes_key: aes_key?,
        aes_iv: aes_iv?,
        s3_bucket_name: s3_bucket_name?,
        aws_access_key_id: aws_access_key_id?,
        aws_secret_access_key: aws_secret_access_key?,
        broker_user: broker_user?,
        broker_pass: broker_pass?,
        mail: mail?,
        api_keys: api_keys?,
    })
}

fn mail(r: &mut Reader<'_>) -> Option<Mail> {
    let host = r.string("email_host");
    let port = r.parse("email_port", checks::port);
    let error_user = r.string("error_email_user");
    let error_password = r.secret("error_email_password", checks::non_empty_secret);
    let error_admins = r.list("error_admins");
    if let Some(admins) = &error_admins {
        for admin in admins {
            if let Err(problem) = checks::email(admin) {
                r.problem("error_admins", problem);
            }
        }
    }
    let celery_user = r.string("celery_email_user");
    let celery_password = r.secret("celery_email_password", checks::non_empty_secret);
    let celery_admin_name = r.string("celery_admin_name");
    let celery_admin_email = r.parse("celery_admin_email", checks::email);
    Some(Mail {
        host: host?,
        port: port?,
        error_user: error_user?,
        error_password: error_password?,
        error_admins: error_admins?,
        celery_user: celery_user?,
        celery_password: celery_password?,
        celery_admin_name: celery_admin_name?,
        celery_admin_email: celery_admin_email?,
    })
}

#[cfg(test)]
mod tests;
