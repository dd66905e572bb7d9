//! What a run does, as typed events: the engine emits an [`Event`], and
//! reporters consume it: the terminal (a line each, with the seconds since
//! the start), JSON lines (`--message-format json`, one object per event),
//! a collector for tests (which assert on events, never on wording), or
//! nothing. As cargo-nextest's runner emits events its reporters print.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde::Serialize;

/// An event and when it happened.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stamped {
    /// Seconds since the run started.
    pub at: f64,
    #[serde(flatten)]
    pub event: Event,
}

/// Something the engine did or found, as it happens.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    // Container hosts (Docker, Vagrant's docker provider, stand-ins).
    HostImageEnsured {
        image: String,
        script: String,
    },
    NetworkCreated {
        network: String,
    },
    HostStarted {
        host: String,
        image: String,
    },
    /// A platform's image is not on this machine: `docker pull` runs.
    ImagePullStarted {
        image: String,
    },
    ImagePulled {
        image: String,
        seconds: f64,
    },
    /// A role tested outside any project: argos-cloud's home project was
    /// made (or mended) from the files built into the binary.
    HomeProjectMade {
        path: String,
        files: usize,
    },
    BakeHostStarted {
        host: String,
        image: String,
    },
    EnvironmentRemoved {
        stack: String,
        containers: usize,
    },
    AptCacheOff {
        variable: String,
    },
    AptCacheAttached {
        cache: String,
        network: String,
        address: String,
    },
    AptCacheUnavailable {
        reason: String,
    },
    AptCacheNotDetached {
        cache: String,
        network: String,
        reason: String,
    },
    // The local image bake.
    BakeOff {
        variable: String,
        base: String,
    },
    BakeReused {
        image: String,
        roles: Vec<String>,
    },
    BakeReusedMeanwhile {
        image: String,
    },
    BakeSkipped {
        base: String,
        reason: String,
    },
    BakeWaiting {
        image: String,
    },
    BakeStarted {
        image: String,
        host: String,
        roles: Vec<String>,
        variables: Vec<String>,
    },
    BakeFinished {
        image: String,
        seconds: f64,
    },
    // Deploys.
    WaitingForSsh {
        hosts: usize,
    },
    /// The first deploy of this process to run Mitogen: said once, since
    /// ansible-core warns of it on every run (in the log).
    MitogenDeprecation {
        strategy: String,
    },
    PlaybooksTogether {
        playbooks: Vec<String>,
    },
    PlaybookStarted {
        playbook: String,
        log: String,
    },
    /// A line of Ansible's output (a play, a task, a result).
    AnsibleOutput {
        playbook: Option<String>,
        line: String,
    },
    // Vagrant.
    VagrantOutput {
        line: String,
    },
    VagrantBoxForImage {
        host: String,
        provider: String,
        box_name: String,
    },
    VagrantMachinesUp {
        machines: usize,
        provider: String,
    },
    VagrantNotOurs {
        folder: String,
        owner: String,
    },
    VagrantDestroyFailed {
        reason: String,
    },
    // CloudFormation stacks.
    StackCreating {
        stack: String,
        parameters: usize,
        image: String,
    },
    StackTimedOut {
        stack: String,
    },
    StackSettled {
        stack: String,
        status: String,
    },
    StackCreateRecovered {
        stack: String,
    },
    StackKept {
        stack: String,
        status: String,
    },
    StackDeletingFailed {
        stack: String,
    },
    StackUpdating {
        stack: String,
    },
    StackUnchanged {
        stack: String,
    },
    StackMissing {
        stack: String,
    },
    StackDeleting {
        stack: String,
        status: String,
    },
    StackDeleted {
        stack: String,
    },
    StackDeleteReported {
        stack: String,
        error: String,
    },
    StackResource {
        status: String,
        resource_type: String,
        logical_id: String,
        reason: Option<String>,
    },
    StackNotOurs {
        stack: String,
        owner: String,
    },
    StackAbandoned {
        stack: String,
    },
    StackDeleteSent {
        stack: String,
    },
    StackDeleteRefused {
        stack: String,
        reason: String,
    },
    // The AWS image bake.
    ImageReused {
        image: String,
        id: String,
        own: bool,
    },
    ImageBakeWaiting {
        image: String,
    },
    ImageBakeStarted {
        image: String,
        stack: String,
    },
    ImageBakeRaced {
        image: String,
        id: String,
    },
    BakeInstanceRemoving {
        image: String,
        stack: String,
    },
    ProvisionSkipped {
        reason: String,
    },
    Provisioning {
        instance: String,
        address: String,
    },
    ImageCreated {
        image: String,
        id: String,
        instance: String,
    },
    ImageAvailable {
        image: String,
        id: String,
        snapshots: usize,
    },
    ImageLocalCopy {
        copy: String,
        id: String,
    },
    LeftoverBakeStack {
        stack: String,
        status: String,
    },
    LeftoverBakeInstances {
        instances: Vec<String>,
    },
    ImageDeregistering {
        id: String,
        image: String,
    },
    SnapshotDeleting {
        id: String,
    },
    // Sweeps.
    SweepRemoving {
        kind: String,
        id: String,
    },
    // The emulator's data plane.
    StandInsPlacing {
        hosts: usize,
        stack: String,
    },
    StandInsReady {
        hosts: usize,
    },
    // Probes (`check`, and a scenario's verify).
    /// One probe's verdict: what it saw, or why it failed.
    ProbeFinished {
        host: String,
        probe: String,
        passed: bool,
        detail: String,
    },
    // Scenarios.
    StepStarted {
        scenario: String,
        step: String,
        stack: String,
    },
    StepFailed {
        scenario: String,
        step: String,
        reason: String,
    },
    /// A step's end: `passed`, `failed` or `skipped`, with what it said.
    StepFinished {
        scenario: String,
        step: String,
        outcome: String,
        detail: String,
        seconds: f64,
    },
    ScenarioFinished {
        scenario: String,
        passed: bool,
        seconds: f64,
    },
}

impl std::fmt::Display for Event {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use Event::*;
        match self {
            HostImageEnsured { image, script } => write!(f, "docker: ensuring {image} ({script})"),
            NetworkCreated { network } => write!(f, "docker: network {network}"),
            HostStarted { host, image } => write!(f, "docker: host {host} ({image})"),
            ImagePullStarted { image } => write!(f, "docker: pulling {image}"),
            ImagePulled { image, seconds } => write!(f, "docker: pulled {image} in {seconds:.1} s"),
            HomeProjectMade { path, files } => write!(
                f,
                "argos-cloud: home project {path} made ({files} file(s): the host image's recipe, \
                 the sample settings)"
            ),
            BakeHostStarted { host, image } => write!(f, "docker: bake host {host} ({image})"),
            EnvironmentRemoved { stack, containers } => {
                write!(f, "docker: {stack} removed ({containers} container(s))")
            }
            AptCacheOff { variable } => write!(
                f,
                "docker: apt cache off ({variable}=off): hosts download their packages themselves"
            ),
            AptCacheAttached {
                cache,
                network,
                address,
            } => write!(
                f,
                "docker: apt cache {cache} on {network} as {address} (the machine's, kept after the run)"
            ),
            AptCacheUnavailable { reason } => write!(
                f,
                "docker: no apt cache, hosts download their packages themselves: {reason}"
            ),
            AptCacheNotDetached {
                cache,
                network,
                reason,
            } => write!(
                f,
                "docker: the apt cache {cache} could not leave {network}: {reason}"
            ),
            BakeOff { variable, base } => {
                write!(
                    f,
                    "bake: off ({variable}=off): baked groups start from {base}"
                )
            }
            BakeReused { image, roles } => {
                write!(
                    f,
                    "bake: {image} is current (roles {}): reused",
                    roles.join(", ")
                )
            }
            BakeReusedMeanwhile { image } => write!(f, "bake: {image} was baked meanwhile: reused"),
            BakeSkipped { base, reason } => {
                write!(
                    f,
                    "bake: not baked ({reason}): baked groups start from {base}"
                )
            }
            BakeWaiting { image } => {
                write!(f, "bake: another process is baking {image}; waiting for it")
            }
            BakeStarted {
                image,
                host,
                roles,
                variables,
            } => write!(
                f,
                "bake: {image} on {host} (roles {}; variables {})",
                roles.join(", "),
                if variables.is_empty() {
                    "none".to_owned()
                } else {
                    variables.join(", ")
                }
            ),
            BakeFinished { image, seconds } => write!(f, "bake: {image} baked in {seconds:.1} s"),
            WaitingForSsh { hosts } => write!(f, "deploy: waiting for SSH on {hosts} host(s)"),
            MitogenDeprecation { strategy } => write!(
                f,
                "deploy: {strategy}; ansible-core 2.19 deprecates third-party strategy plugins, \
                 naming no release for their removal: when one drops them, `ansible_strategy: \
                 auto` runs linear and says why (said once)"
            ),
            PlaybooksTogether { playbooks } => {
                write!(f, "deploy: {} at the same time", playbooks.join(", "))
            }
            PlaybookStarted { playbook, log } => write!(f, "deploy: {playbook} (log: {log})"),
            AnsibleOutput {
                playbook: Some(playbook),
                line,
            } => write!(f, "  {playbook} | {line}"),
            AnsibleOutput {
                playbook: None,
                line,
            } => write!(f, "  {line}"),
            VagrantOutput { line } => write!(f, "vagrant: {line}"),
            VagrantBoxForImage {
                host,
                provider,
                box_name,
            } => write!(
                f,
                "vagrant: host {host} names an image; on {provider} it boots the box {box_name} instead"
            ),
            VagrantMachinesUp { machines, provider } => {
                write!(f, "vagrant: {machines} machine(s) on {provider}")
            }
            VagrantNotOurs { folder, owner } => write!(
                f,
                "vagrant: {folder} belongs to {owner}, not to this run: left as it is"
            ),
            VagrantDestroyFailed { reason } => {
                write!(f, "vagrant destroy failed, removing by label: {reason}")
            }
            StackCreating {
                stack,
                parameters,
                image,
            } => write!(
                f,
                "create stack {stack} ({parameters} parameters, image {image})"
            ),
            StackTimedOut { stack } => write!(f, "stack {stack} did not finish in time"),
            StackSettled { stack, status } => write!(f, "stack {stack}: {status}"),
            StackCreateRecovered { stack } => write!(
                f,
                "stack {stack}: a retried create found the stack its first attempt made; carrying on"
            ),
            StackKept { stack, status } => {
                write!(f, "keeping failed stack {stack} ({status}) for debugging")
            }
            StackDeletingFailed { stack } => write!(f, "deleting failed stack {stack}"),
            StackUpdating { stack } => write!(f, "update stack {stack}"),
            StackUnchanged { stack } => write!(f, "stack {stack}: no changes to make"),
            StackMissing { stack } => write!(f, "stack {stack} does not exist: nothing to delete"),
            StackDeleting { stack, status } => write!(f, "delete stack {stack} ({status})"),
            StackDeleted { stack } => write!(f, "stack {stack}: deleted"),
            StackDeleteReported { stack, error } => write!(
                f,
                "stack {stack}: the endpoint removed the stack but reported: {error}; resources \
                 of that kind may be left (see `status`)"
            ),
            StackResource {
                status,
                resource_type,
                logical_id,
                reason,
            } => write!(
                f,
                "  {status:<28} {resource_type:<40} {logical_id}{}",
                reason
                    .as_ref()
                    .map(|r| format!(": {r}"))
                    .unwrap_or_default()
            ),
            StackNotOurs { stack, owner } => write!(
                f,
                "stack {stack} is not this run's (argos:run={owner}): left as it is"
            ),
            StackAbandoned { stack } => write!(f, "stack {stack} was left unfinished: deleting it"),
            StackDeleteSent { stack } => write!(
                f,
                "stack {stack}: DeleteStack sent; CloudFormation removes what it made"
            ),
            StackDeleteRefused { stack, reason } => write!(
                f,
                "stack {stack} could not be deleted ({reason}): \
                 `aws cloudformation delete-stack --stack-name {stack}` removes it"
            ),
            ImageReused {
                image,
                id,
                own: false,
            } => write!(f, "image {image}: reusing {id}"),
            ImageReused {
                image,
                id,
                own: true,
            } => write!(f, "image {image}: reusing {id}, this run's own"),
            ImageBakeWaiting { image } => {
                write!(
                    f,
                    "image {image}: another bake is under way; waiting for it"
                )
            }
            ImageBakeStarted { image, stack } => write!(
                f,
                "image {image}: none yet; baking it on a new instance (stack {stack})"
            ),
            ImageBakeRaced { image, id } => {
                write!(f, "image {image}: another bake made {id}; reusing it")
            }
            BakeInstanceRemoving { image, stack } => {
                write!(
                    f,
                    "image {image}: removing the bake instance (stack {stack})"
                )
            }
            ProvisionSkipped { reason } => write!(
                f,
                "provision: skipped: {reason}; the image is the base AMI and deploy installs everything"
            ),
            Provisioning { instance, address } => {
                write!(f, "provision: the image playbook on {instance} ({address})")
            }
            ImageCreated {
                image,
                id,
                instance,
            } => write!(
                f,
                "image {image}: {id} created from {instance}; waiting until available"
            ),
            ImageAvailable {
                image,
                id,
                snapshots,
            } => write!(
                f,
                "image {image}: {id} available, tagged with {snapshots} snapshot(s)"
            ),
            ImageLocalCopy { copy, id } => write!(
                f,
                "data plane: {copy} is {id} here (the bake host, committed)"
            ),
            LeftoverBakeStack { stack, status } => {
                write!(f, "delete leftover bake stack {stack} ({status})")
            }
            LeftoverBakeInstances { instances } => write!(
                f,
                "terminate leftover bake instance(s) {}",
                instances.join(", ")
            ),
            ImageDeregistering { id, image } => write!(f, "deregister image {id} ({image})"),
            SnapshotDeleting { id } => write!(f, "delete snapshot {id}"),
            SweepRemoving { kind, id } => write!(f, "sweep: remove {kind} {id}"),
            StandInsPlacing { hosts, stack } => write!(
                f,
                "data plane: {hosts} host(s) standing in for {stack}'s instances and databases"
            ),
            StandInsReady { hosts } => write!(f, "data plane: {hosts} stand-in host(s) ready"),
            ProbeFinished {
                host,
                probe,
                passed,
                detail,
            } => {
                let mark = if *passed { "ok  " } else { "FAIL" };
                write!(f, "probe: {mark} {probe} on {host}: {detail}")
            }
            StepStarted {
                scenario,
                step,
                stack,
            } => write!(f, "scenario {scenario}: {step} ({stack})"),
            StepFailed {
                scenario,
                step,
                reason,
            } => write!(f, "scenario {scenario}: {step} FAILED: {reason}"),
            StepFinished {
                scenario,
                step,
                outcome,
                seconds,
                ..
            } => write!(f, "scenario {scenario}: {step} {outcome} ({seconds:.1} s)"),
            ScenarioFinished {
                scenario,
                passed,
                seconds,
            } => write!(
                f,
                "scenario {scenario}: {} ({seconds:.1} s)",
                if *passed { "passed" } else { "FAILED" }
            ),
        }
    }
}

/// Where a run's events go.
#[derive(Clone)]
pub struct Progress {
    sink: Arc<dyn Fn(&Stamped) + Send + Sync>,
    started: Instant,
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Progress")
    }
}

impl Progress {
    pub fn new(sink: impl Fn(&Stamped) + Send + Sync + 'static) -> Self {
        Self {
            sink: Arc::new(sink),
            started: Instant::now(),
        }
    }

    /// A line each on stderr, with the seconds since the start.
    pub fn stderr() -> Self {
        Self::new(|stamped| eprintln!("[{:>6.1}s] {}", stamped.at, stamped.event))
    }

    /// One JSON object per event on stdout (`--message-format json`):
    /// `{"at": 1.2, "event": "host_started", "host": "...", ...}`.
    pub fn json() -> Self {
        Self::new(|stamped| {
            let line = serde_json::to_string(stamped).expect("an event serializes");
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{line}");
        })
    }

    pub fn silent() -> Self {
        Self::new(|_| {})
    }

    /// A progress that keeps every event, and the events.
    pub fn collect() -> (Self, Arc<Mutex<Vec<Stamped>>>) {
        let events = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&events);
        let progress =
            Self::new(move |stamped| sink.lock().expect("progress events").push(stamped.clone()));
        (progress, events)
    }

    pub fn emit(&self, event: Event) {
        (self.sink)(&Stamped {
            at: self.started.elapsed().as_secs_f64(),
            event,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_is_a_line_for_people_and_an_object_for_tools() {
        let event = Event::HostStarted {
            host: "argos-dev-app".into(),
            image: "argos-host:bookworm".into(),
        };
        assert_eq!(
            event.to_string(),
            "docker: host argos-dev-app (argos-host:bookworm)"
        );
        let stamped = Stamped { at: 1.5, event };
        let json = serde_json::to_value(&stamped).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"at": 1.5, "event": "host_started",
                               "host": "argos-dev-app", "image": "argos-host:bookworm"})
        );
        let (progress, seen) = Progress::collect();
        progress.emit(Event::StackDeleted {
            stack: "argos-dev".into(),
        });
        assert!(matches!(
            &seen.lock().unwrap()[0].event,
            Event::StackDeleted { stack } if stack == "argos-dev"
        ));
    }
}

#[cfg(test)]
mod documented {
    /// `HostStarted` → `host_started`, as serde names the kind.
    fn snake(name: &str) -> String {
        let mut out = String::new();
        for (i, c) in name.chars().enumerate() {
            if c.is_ascii_uppercase() && i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        }
        out
    }

    /// Every event kind, with its fields, is in the book's events page, and
    /// the page lists no other: (kind, fields) read from this file's enum.
    #[test]
    fn the_book_lists_every_event_with_its_fields() {
        let source = include_str!("progress.rs");
        let page = include_str!("../../docs/src/events.md");
        let body = source
            .split_once("pub enum Event {")
            .and_then(|(_, rest)| rest.split_once("\n}\n"))
            .map(|(body, _)| body)
            .expect("the Event enum");
        let mut kinds: Vec<(String, Vec<String>)> = Vec::new();
        for line in body.lines() {
            let trimmed = line.trim_end();
            let variant = trimmed
                .strip_prefix("    ")
                .filter(|l| l.starts_with(|c: char| c.is_ascii_uppercase()));
            if let Some(variant) = variant {
                let name = variant.trim_end_matches([' ', '{', ',']);
                kinds.push((snake(name), Vec::new()));
            } else if let Some(field) = trimmed.strip_prefix("        ")
                && let Some((name, _)) = field.split_once(':')
                && !field.starts_with("//")
                && let Some((_, fields)) = kinds.last_mut()
            {
                fields.push(name.to_owned());
            }
        }
        assert!(kinds.len() > 50, "only {} kinds read", kinds.len());
        let rows: Vec<&str> = page.lines().filter(|l| l.starts_with("| `")).collect();
        assert_eq!(
            rows.len(),
            kinds.len(),
            "the page's rows and the enum's kinds"
        );
        for (kind, fields) in &kinds {
            let row = rows
                .iter()
                .find(|r| r.starts_with(&format!("| `{kind}` |")))
                .unwrap_or_else(|| panic!("docs/src/events.md lacks `{kind}`"));
            for field in fields {
                assert!(
                    row.contains(&format!("`{field}`")),
                    "{kind}: no `{field}` in {row}"
                );
            }
        }
        assert!(
            page.contains(&format!("The {} kinds", kinds.len())),
            "the page's count"
        );
    }
}
