//! The AWS backend end to end against a real AWS API implementation (moto's
//! server, one per test). Every test checks what is left with independent
//! reads after it, not just what the engine reported.

use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use argos_cloud::backend::Backend;
use argos_cloud::backend::aws::{
    ApiTimeouts, Aws, AwsBackend, AwsHosts, AwsOptions, Decommissioned, EngineError, Provisioner,
    SweepFilter, Target, Timeouts, Updated,
};
use argos_cloud::cfn::template::Formations;
use argos_cloud::converge::deploy::AnsiblePlaybook;
use argos_cloud::model::names::{EnvName, EnvNames, Group, RunTags};
use argos_cloud::model::project::Project;
use argos_cloud::model::settings::{self, Overrides, Settings};
use argos_cloud::sys::progress::{Event, Progress, Stamped};
use argos_cloud::sys::wait::{self, Backoff, Poll};
use argos_harness::engine::backend::aws::is_loopback;
use argos_harness::{Emulator, StallingProxy};

/// An AMI moto knows (its images are the base for everything here).
const MOTO_AMI: &str = "ami-1e749f67";

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

fn settings(extra: &[(&str, &str)]) -> Settings {
    let root = workspace();
    let text = std::fs::read_to_string(root.join(Project::SAMPLE_SETTINGS)).unwrap();
    let mut overrides = Overrides::default();
    overrides.flag("base_ami", MOTO_AMI);
    for (key, value) in extra {
        overrides.flag(key, value);
    }
    settings::parse(Path::new("all.sample.yml"), &text, &overrides).unwrap()
}

fn formations_in(root: &Path) -> Formations {
    Formations::load(&Project::open(root).unwrap()).unwrap()
}

struct Fixture {
    backend: AwsBackend,
    events: Arc<Mutex<Vec<Stamped>>>,
}

impl Fixture {
    /// Whether the backend emitted an event `pick` accepts.
    fn emitted(&self, pick: impl Fn(&Event) -> bool) -> bool {
        self.events.lock().unwrap().iter().any(|s| pick(&s.event))
    }

    /// Every event so far, as lines, for a failing assertion's message.
    fn said(&self) -> String {
        let events = self.events.lock().unwrap();
        events.iter().map(|s| format!("{}\n", s.event)).collect()
    }
}

async fn backend(emulator: &Emulator, extra: &[(&str, &str)], run: Option<RunTags>) -> Fixture {
    backend_with(emulator, extra, run, formations_in(&workspace())).await
}

async fn backend_with(
    emulator: &Emulator,
    extra: &[(&str, &str)],
    run: Option<RunTags>,
    formations: Formations,
) -> Fixture {
    let settings = settings(extra);
    let options = emulator.aws_options(&settings.region);
    backend_on(options, settings, run, formations).await
}

/// The fixture's backend on `options` (an emulator, or a proxy in front of one).
async fn backend_on(
    options: AwsOptions,
    settings: Settings,
    run: Option<RunTags>,
    formations: Formations,
) -> Fixture {
    let (progress, events) = Progress::collect();
    let aws = Aws::connect(&options).await;
    let minute = Duration::from_secs(60);
    Fixture {
        backend: AwsBackend {
            timeouts: Timeouts {
                stack: 2 * minute,
                delete: 2 * minute,
                image: 2 * minute,
            },
            run,
            ..AwsBackend::new(aws, settings, formations, progress)
        },
        events,
    }
}

fn env(name: &str) -> EnvName {
    EnvName::new(name).unwrap()
}

fn tag<'a>(tags: &'a [(String, String)], key: &str) -> Option<&'a str> {
    tags.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// The four tags `names.rs` decides, as key/value pairs.
fn expected_tags(names: &EnvNames, group: Group) -> Vec<(String, String)> {
    names
        .tags(&group)
        .into_iter()
        .map(|t| (t.key, t.value))
        .collect()
}

/// What is left of an environment, read straight from the API.
#[derive(Debug, Default)]
struct Leftovers {
    stacks: Vec<String>,
    instances: Vec<String>,
    databases: Vec<String>,
    images: Vec<String>,
    snapshots: Vec<String>,
}

impl Leftovers {
    fn is_empty(&self) -> bool {
        self.stacks.is_empty()
            && self.instances.is_empty()
            && self.databases.is_empty()
            && self.images.is_empty()
            && self.snapshots.is_empty()
    }
}

/// What is left of environment `env` and of every image bake: the shared
/// `<app>-image` and the run-scoped `<app>-image-<run>`.
async fn leftovers(emulator: &Emulator, app: &str, env: &str) -> Leftovers {
    let aws = Aws::connect(&emulator.aws_options("us-east-1")).await;
    let shared = format!("{app}-image");
    let image = format!("{app}-image*");
    let stack = format!("{app}-{env}");
    Leftovers {
        stacks: aws
            .stacks()
            .await
            .unwrap()
            .into_iter()
            .filter(|s| s.name == stack || s.name.starts_with(&shared))
            .map(|s| format!("{} {}", s.name, s.status))
            .collect(),
        instances: aws
            .instances(&[argos_aws_filter("tag:Env", env)])
            .await
            .unwrap()
            .into_iter()
            .chain(
                aws.instances(&[argos_aws_filter("tag:Name", &image)])
                    .await
                    .unwrap(),
            )
            .filter(|i| i.state != "terminated")
            .map(|i| format!("{} {}", i.id, i.state))
            .collect(),
        databases: aws
            .db_instances()
            .await
            .unwrap()
            .into_iter()
            .filter(|d| d.tag("Env") == Some(env))
            .map(|d| d.id)
            .collect(),
        images: aws
            .images(&[argos_aws_filter("name", &image)])
            .await
            .unwrap()
            .into_iter()
            .map(|i| i.id)
            .collect(),
        snapshots: aws
            .snapshots(&[argos_aws_filter("tag:Name", &image)])
            .await
            .unwrap()
            .into_iter()
            .map(|s| s.id)
            .collect(),
    }
}

fn argos_aws_filter(name: &str, value: &str) -> (String, Vec<String>) {
    (name.to_owned(), vec![value.to_owned()])
}

#[tokio::test]
async fn a_full_cycle_tags_everything_and_leaves_nothing_behind() {
    let emulator = Emulator::start().await.unwrap();
    assert!(is_loopback(emulator.endpoint()));
    // Autoscaling on, so the update can change a property moto can update.
    let fixture = backend(&emulator, &[("app_autoscaling", "true")], None).await;
    let backend = &fixture.backend;
    let cycle = env("cycle");
    let names = backend.names(&cycle);

    let stack = backend.commission(&cycle, false).await.unwrap();
    assert_eq!(stack.status, "CREATE_COMPLETE");
    assert!(
        stack
            .outputs
            .iter()
            .any(|(k, v)| k == "DatabasePort" && v == "5432"),
        "{:?}",
        stack.outputs
    );
    assert!(
        fixture.emitted(|e| matches!(
            e,
            Event::ProvisionSkipped { reason } if reason.contains("no data plane on the emulator")
        )),
        "{}",
        fixture.said()
    );
    assert!(
        fixture.emitted(|e| matches!(
            e,
            Event::StackResource { status, .. } if status == "CREATE_COMPLETE"
        )),
        "the stack's events are streamed:\n{}",
        fixture.said()
    );

    // The image is baked, tagged, and its bake instance is gone.
    let during = leftovers(&emulator, "argos", "cycle").await;
    assert_eq!(during.images.len(), 1, "{during:?}");
    assert!(
        !during.snapshots.is_empty(),
        "the image's snapshots carry its Name tag: {during:?}"
    );
    assert!(
        !during.stacks.iter().any(|s| s.starts_with("argos-image")),
        "bake stack left: {during:?}"
    );
    let images = backend
        .aws
        .images(&[argos_aws_filter("name", "argos-image")])
        .await
        .unwrap();
    assert_eq!(tag(&images[0].tags, "Group"), Some("image"));
    assert_eq!(tag(&images[0].tags, "App"), Some("argos"));

    // Every instance and the database carry the four tags with the right values.
    let status = backend.status(&cycle).await.unwrap();
    assert_eq!(status.stack.as_ref().unwrap().status, "CREATE_COMPLETE");
    let groups: Vec<&str> = status
        .instances
        .iter()
        .filter_map(|i| i.group.as_deref())
        .collect();
    assert!(
        groups.contains(&"app") && groups.contains(&"knowledge"),
        "{groups:?}"
    );
    for instance in &status.instances {
        let group = Group::parse(instance.group.as_deref().unwrap()).unwrap();
        for (key, value) in expected_tags(&names, group) {
            assert_eq!(
                tag(&instance.tags, &key),
                Some(value.as_str()),
                "{} tag {key}",
                instance.id
            );
        }
    }
    assert_eq!(status.databases.len(), 1);
    let database = &status.databases[0];
    assert_eq!(database.port, Some(5432));
    for (key, value) in expected_tags(&names, Group::new("database").unwrap()) {
        assert_eq!(
            tag(&database.tags, &key),
            Some(value.as_str()),
            "database tag {key}"
        );
    }

    // Update a property moto can update: the app group's maximum size.
    let mut bigger = backend.clone();
    bigger.settings = settings(&[("app_autoscaling", "true"), ("app_max_size", "6")]);
    match bigger.update(&cycle).await.unwrap() {
        Updated::Changed(stack) => assert_eq!(stack.status, "UPDATE_COMPLETE"),
        Updated::NoChanges => panic!("the max size changed"),
    }

    assert_eq!(
        backend.decommission(&cycle).await.unwrap(),
        Decommissioned::Deleted {
            stack: "argos-cycle".into()
        }
    );
    assert_eq!(
        backend.decommission(&cycle).await.unwrap(),
        Decommissioned::NotFound {
            stack: "argos-cycle".into()
        },
        "decommission is idempotent"
    );
    let cleaned = backend.clean().await.unwrap();
    assert_eq!(cleaned.images.len(), 1);

    let after = leftovers(&emulator, "argos", "cycle").await;
    assert!(after.is_empty(), "left behind: {after:?}");
}

/// The nightly's way in: `operator_cidr` is the runner's own address as a
/// /32, found at run time. The rule that admits it is on every group SSH
/// reaches, names the environment (the run), admits nothing wider, and goes
/// with the stack. A documentation address: nothing ever connects to it.
#[tokio::test]
async fn the_operator_address_alone_may_ssh_and_its_rule_goes_with_the_stack() {
    const RUNNER: &str = "198.51.100.7/32";
    let emulator = Emulator::start().await.unwrap();
    // Tasks on: all four groups SSH reaches (app, knowledge, broker, worker).
    let fixture = backend(
        &emulator,
        &[("operator_cidr", RUNNER), ("tasks_enabled", "true")],
        None,
    )
    .await;
    let backend = &fixture.backend;
    // Shaped like a nightly run's environment, n<run id>-<attempt>-<id>.
    let run = env("n4242-1-op");
    let by_env = [argos_aws_filter("tag:Env", run.as_str())];

    backend.commission(&run, false).await.unwrap();
    let groups = backend.aws.security_groups(&by_env).await.unwrap();
    let description = format!("SSH from the operator, environment {run}");
    let mut reached: Vec<&str> = Vec::new();
    for group in &groups {
        let ssh: Vec<_> = group.ingress.iter().filter(|r| r.admits_tcp(22)).collect();
        // Only the runner's /32 may reach port 22, on any group of the stack.
        for rule in &ssh {
            assert_eq!(rule.cidr, RUNNER, "{} ({}): {rule:?}", group.name, group.id);
        }
        let Some(rule) = ssh.first() else { continue };
        assert_eq!(ssh.len(), 1, "{}: {ssh:?}", group.name);
        assert_eq!(
            (rule.protocol.as_str(), rule.from_port, rule.to_port),
            ("tcp", Some(22), Some(22)),
            "{}",
            group.name
        );
        assert_eq!(
            rule.description.as_deref(),
            Some(description.as_str()),
            "{}: the rule names the run",
            group.name
        );
        reached.push(tag(&group.tags, "Group").unwrap_or("(no Group tag)"));
    }
    reached.sort_unstable();
    assert_eq!(
        reached,
        ["app", "broker", "knowledge", "worker"],
        "groups SSH reaches, of {groups:?}"
    );
    // The bake's own group (and its rule) went with the bake's stack.
    let bake = backend
        .aws
        .security_groups(&[argos_aws_filter("tag:Group", "image")])
        .await
        .unwrap();
    assert!(bake.is_empty(), "the bake's group is left: {bake:?}");

    backend.decommission(&run).await.unwrap();
    let after = backend.aws.security_groups(&by_env).await.unwrap();
    assert!(after.is_empty(), "groups left: {after:?}");
    let everywhere = backend.aws.security_groups(&[]).await.unwrap();
    let admitting: Vec<_> = everywhere
        .iter()
        .filter(|g| g.ingress.iter().any(|r| r.cidr == RUNNER))
        .collect();
    assert!(
        admitting.is_empty(),
        "the runner is still let in: {admitting:?}"
    );
    backend.clean().await.unwrap();
    let left = leftovers(&emulator, "argos", run.as_str()).await;
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[tokio::test]
async fn a_failing_create_names_the_reason_and_leaves_no_stack_and_no_instance() {
    let emulator = Emulator::start().await.unwrap();
    // A copy of the project with one formation moto rejects: a subnet
    // outside its VPC, created after the environment's instances.
    let root = tempfile::tempdir().unwrap();
    let formations = root.path().join("formations");
    std::fs::create_dir_all(&formations).unwrap();
    std::fs::create_dir_all(root.path().join("playbooks")).unwrap();
    for entry in std::fs::read_dir(workspace().join("formations")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), formations.join(entry.file_name())).unwrap();
    }
    std::fs::write(
        formations.join("zz-broken.json"),
        r#"{"Resources": {"BrokenSubnet": {"Type": "AWS::EC2::Subnet",
            "DependsOn": ["KnowledgeInstance", "AppServerInstance"],
            "Properties": {"VpcId": {"Ref": "Vpc"}, "CidrBlock": "192.168.0.0/24"}}}}"#,
    )
    .unwrap();
    let fixture = backend_with(&emulator, &[], None, formations_in(root.path())).await;
    let backend = &fixture.backend;
    let broken = env("broken");

    let error = backend.commission(&broken, false).await.unwrap_err();
    assert!(
        matches!(error, EngineError::CreateFailed { kept: false, .. }),
        "{error}"
    );
    let message = error.to_string();
    assert!(
        message.contains("creating stack argos-broken failed"),
        "{message}"
    );
    assert!(
        message.contains("192.168.0.0/24"),
        "the reason is named: {message}"
    );

    let after = leftovers(&emulator, "argos", "broken").await;
    assert!(after.stacks.is_empty(), "stack left: {after:?}");
    assert!(after.instances.is_empty(), "instances left: {after:?}");
    assert!(after.databases.is_empty(), "database left: {after:?}");
}

/// A bake provisioner with the project's Ansible, giving a new instance
/// `reach_timeout` to answer SSH; `None`, said loudly, without Ansible
/// (never under CI).
fn provisioner(reach_timeout: Duration) -> Option<Provisioner> {
    argos_harness::tools::venv_or_skip()?;
    let project = Project::open(workspace()).unwrap();
    match AnsiblePlaybook::locate(&project) {
        Ok(ansible) => Some(Provisioner {
            project,
            ansible,
            extra_vars: Default::default(),
            reach_timeout,
            strategy: Default::default(),
        }),
        Err(error) => {
            argos_harness::skip::missing("ansible-playbook (bake provisioning)", error);
            None
        }
    }
}

/// A loopback port that accepts connections and never says a word: a bake
/// instance that never finishes booting. Stops when the test ends.
async fn silent_listener() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((connection, _)) = listener.accept().await {
            held.push(connection);
        }
    });
    port
}

/// Provision the bake as on AWS, with every instance placed on `port` of
/// loopback: moto's own addresses are invented, and never connected to.
fn provision_on_loopback(fixture: &mut Fixture, provisioner: Provisioner, port: u16) {
    fixture.backend.provisioner = Some(provisioner);
    fixture.backend.resolver = fixture
        .backend
        .resolver
        .clone()
        .placing(move |_| Some(("127.0.0.1".to_owned(), port)));
}

#[tokio::test]
async fn a_bake_whose_provisioning_fails_leaves_no_instance_no_image_and_no_stack() {
    // The bake instance never answers SSH (a silent loopback port stands in
    // for it), so the bake must fail, then clean up after itself.
    let Some(provisioner) = provisioner(Duration::from_secs(3)) else {
        return;
    };
    let emulator = Emulator::start().await.unwrap();
    let mut fixture = backend(&emulator, &[], None).await;
    provision_on_loopback(&mut fixture, provisioner, silent_listener().await);
    let backend = &fixture.backend;
    let baked = env("baked");

    let error = backend.commission(&baked, false).await.unwrap_err();
    let message = error.to_string();
    assert!(matches!(error, EngineError::Image { .. }), "{message}");
    assert!(
        message.contains("provisioning bake instance i-"),
        "the bake instance is named: {message}"
    );
    assert!(
        fixture.emitted(
            |e| matches!(e, Event::Provisioning { instance, .. } if instance.starts_with("i-"))
        ),
        "{}",
        fixture.said()
    );
    assert!(
        fixture.emitted(|e| matches!(e, Event::BakeInstanceRemoving { .. })),
        "the bake cleans up after a failure: {}",
        fixture.said()
    );

    assert!(
        message.contains("127.0.0.1"),
        "reached on loopback: {message}"
    );

    let after = leftovers(&emulator, "argos", "baked").await;
    assert!(after.is_empty(), "left behind: {after:?}");
}

#[tokio::test]
async fn a_bake_on_an_emulator_never_connects_to_an_address_the_emulator_invented() {
    // No placement: the bake instance has only moto's invented addresses.
    let Some(provisioner) = provisioner(Duration::from_secs(120)) else {
        return;
    };
    let emulator = Emulator::start().await.unwrap();
    let mut fixture = backend(&emulator, &[], None).await;
    fixture.backend.provisioner = Some(provisioner);
    let backend = &fixture.backend;
    let refused = env("refused");

    let error = backend.commission(&refused, false).await.unwrap_err();
    let message = error.to_string();
    assert!(matches!(error, EngineError::Image { .. }), "{message}");
    assert!(
        message.contains("refusing to connect to argos-image at ")
            && message.contains(emulator.endpoint())
            && message.contains("only loopback"),
        "the refusal names the host, the address and why: {message}"
    );
    assert!(
        !fixture.emitted(|e| matches!(e, Event::WaitingForSsh { .. })),
        "refused before any probe: {}",
        fixture.said()
    );

    let after = leftovers(&emulator, "argos", "refused").await;
    assert!(after.is_empty(), "left behind: {after:?}");
}

/// Ctrl-C in the CLI drops the commission's future: a bake dropped while it
/// provisions must not leave its instance running.
#[tokio::test]
async fn a_bake_dropped_half_way_deletes_its_stack() {
    // Longer than the test waits: the bake is still probing SSH when dropped.
    let Some(provisioner) = provisioner(Duration::from_secs(120)) else {
        return;
    };
    let emulator = Emulator::start().await.unwrap();
    let mut fixture = backend(&emulator, &[], None).await;
    provision_on_loopback(&mut fixture, provisioner, silent_listener().await);
    let events = fixture.events.clone();
    let provisioning = wait::until(
        "the bake to reach provisioning",
        Duration::from_secs(60),
        Backoff::CONTROL_PLANE,
        || async {
            let probing = events
                .lock()
                .unwrap()
                .iter()
                .any(|s| matches!(s.event, Event::WaitingForSsh { .. }));
            Ok::<_, Infallible>(if probing {
                Poll::Ready(())
            } else {
                Poll::Pending
            })
        },
    );
    let dropped = env("dropped");
    tokio::select! {
        outcome = fixture.backend.commission(&dropped, false) => {
            panic!("the commission ended before it was dropped: {outcome:?}")
        }
        reached = provisioning => reached.unwrap(),
    }

    assert!(
        fixture.emitted(|e| matches!(e, Event::StackAbandoned { stack } if stack == "argos-image"))
            && fixture.emitted(
                |e| matches!(e, Event::StackDeleteSent { stack } if stack == "argos-image")
            ),
        "{}",
        fixture.said()
    );
    let after = leftovers(&emulator, "argos", "dropped").await;
    assert!(after.is_empty(), "left behind: {after:?}");
}

/// Options that reach `emulator` through `proxy`.
fn proxied(emulator: &Emulator, proxy: &StallingProxy) -> AwsOptions {
    AwsOptions {
        endpoint: Some(proxy.endpoint().to_owned()),
        ..emulator.aws_options("us-east-1")
    }
}

#[tokio::test]
async fn a_create_whose_answer_is_lost_is_retried_into_one_stack_of_its_own() {
    // The first answer to each CreateStack (the bake's, then the
    // environment's) is lost after moto made the stack; the SDK retries
    // after its attempt timeout, and moto answers AlreadyExists.
    let emulator = Emulator::start().await.unwrap();
    let proxy = StallingProxy::start(emulator.endpoint(), "Action=CreateStack").unwrap();
    let mut options = proxied(&emulator, &proxy);
    options.timeouts.attempt = Duration::from_secs(2);
    let run = RunTags::new("r-lost-answer", Duration::from_secs(3600));
    let fixture = backend_on(
        options,
        settings(&[]),
        Some(run.clone()),
        formations_in(&workspace()),
    )
    .await;
    let backend = &fixture.backend;
    let lost = env("lost");

    let stack = backend.commission(&lost, false).await.unwrap();
    assert_eq!(stack.status, "CREATE_COMPLETE");
    assert_eq!(proxy.withheld(), 2, "both creates lost their first answer");
    for name in ["argos-image-r-lost-answer", "argos-lost"] {
        assert!(
            fixture
                .emitted(|e| matches!(e, Event::StackCreateRecovered { stack } if stack == name)),
            "{}",
            fixture.said()
        );
    }
    let during = leftovers(&emulator, "argos", "lost").await;
    assert_eq!(
        during.stacks,
        vec!["argos-lost CREATE_COMPLETE".to_owned()],
        "one environment stack, and the bake's is gone: {during:?}"
    );

    backend.decommission(&lost).await.unwrap();
    let filter = SweepFilter {
        run: Some(run.run_id.clone()),
        now: SystemTime::now(),
        kinds: None,
    };
    backend.sweep(&filter, true).await.unwrap();
    let after = leftovers(&emulator, "argos", "lost").await;
    assert!(after.is_empty(), "left behind: {after:?}");
}

#[tokio::test]
async fn a_bake_dropped_while_its_create_is_in_flight_deletes_its_stack() {
    // moto makes the bake's stack, and its answer never comes back: the
    // commission is dropped (Ctrl-C) while CreateStack is still waiting.
    let emulator = Emulator::start().await.unwrap();
    let proxy = StallingProxy::start(emulator.endpoint(), "Action=CreateStack").unwrap();
    let fixture = backend_on(
        proxied(&emulator, &proxy),
        settings(&[]),
        None,
        formations_in(&workspace()),
    )
    .await;
    let backend = &fixture.backend;
    let in_flight = wait::until(
        "CreateStack to be in flight",
        Duration::from_secs(60),
        Backoff::CONTROL_PLANE,
        || async {
            Ok::<_, Infallible>(if proxy.withheld() > 0 {
                Poll::Ready(())
            } else {
                Poll::Pending
            })
        },
    );
    let dropped = env("inflight");
    tokio::select! {
        outcome = backend.commission(&dropped, false) => {
            panic!("the commission ended before it was dropped: {outcome:?}")
        }
        reached = in_flight => reached.unwrap(),
    }

    assert!(
        fixture.emitted(|e| matches!(e, Event::StackAbandoned { stack } if stack == "argos-image")),
        "{}",
        fixture.said()
    );
    let after = leftovers(&emulator, "argos", "inflight").await;
    assert!(after.is_empty(), "left behind: {after:?}");
}

/// A scenario run's backend, as `scenario run --backend aws` builds it.
fn run_hosts(emulator: &Emulator, env: &EnvName, run: &RunTags) -> AwsHosts {
    AwsHosts::connect(
        Project::open(workspace()).unwrap(),
        settings(&[]),
        env,
        Target {
            endpoint: Some(emulator.endpoint().to_owned()),
            data_plane: false,
        },
        Progress::silent(),
        Some(run.clone()),
        Default::default(),
    )
    .unwrap()
}

async fn image_named(emulator: &Emulator, name: &str) -> Vec<String> {
    let aws = Aws::connect(&emulator.aws_options("us-east-1")).await;
    aws.images(&[argos_aws_filter("name", name)])
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.id)
        .collect()
}

#[tokio::test]
async fn a_test_run_never_deletes_the_image_environments_stand_on() {
    let emulator = Emulator::start().await.unwrap();
    let hour = Duration::from_secs(3600);
    let operator = backend(&emulator, &[], None).await;
    let staging = env("staging");

    // A run that finds no shared image bakes its own; staging, commissioned
    // while the run is live, bakes the shared one; the run's teardown
    // removes only its own.
    let early = RunTags::new("t-early-1", hour);
    let early_env = env("t-early-1");
    let early_run = run_hosts(&emulator, &early_env, &early);
    early_run.commission(&early_env, &[]).unwrap();
    let run_image = image_named(&emulator, "argos-image-t-early-1").await;
    operator.backend.commission(&staging, false).await.unwrap();
    let shared = image_named(&emulator, "argos-image").await;
    assert_eq!(shared.len(), 1, "staging stands on the shared image");
    early_run.decommission(&early_env).unwrap();
    assert_eq!(
        image_named(&emulator, "argos-image").await,
        shared,
        "staging's image survives the run's teardown"
    );
    assert_eq!(run_image.len(), 1, "the run baked its own image");
    assert!(
        image_named(&emulator, "argos-image-t-early-1")
            .await
            .is_empty(),
        "the run removed the image it baked"
    );

    // A run that finds the shared image reuses it and never owns it.
    let late = RunTags::new("t-late-1", hour);
    let late_env = env("t-late-1");
    let late_run = run_hosts(&emulator, &late_env, &late);
    late_run.commission(&late_env, &[]).unwrap();
    assert!(
        image_named(&emulator, "argos-image-t-late-1")
            .await
            .is_empty()
    );
    late_run.decommission(&late_env).unwrap();
    assert_eq!(
        image_named(&emulator, "argos-image").await,
        shared,
        "staging's image outlives every run"
    );
    let images = operator
        .backend
        .aws
        .images(&[argos_aws_filter("name", "argos-image")])
        .await
        .unwrap();
    assert_eq!(tag(&images[0].tags, "argos:run"), None, "no run owns it");

    operator.backend.decommission(&staging).await.unwrap();
    operator.backend.clean().await.unwrap();
    for env in ["staging", "t-early-1", "t-late-1"] {
        let after = leftovers(&emulator, "argos", env).await;
        assert!(after.is_empty(), "left behind by {env}: {after:?}");
    }
}

#[tokio::test]
async fn a_second_commission_of_one_environment_is_an_error_not_an_update() {
    let emulator = Emulator::start().await.unwrap();
    let fixture = backend(&emulator, &[], None).await;
    let twice = env("twice");
    fixture.backend.commission(&twice, false).await.unwrap();
    let error = fixture.backend.commission(&twice, false).await.unwrap_err();
    assert!(
        error
            .to_string()
            .contains("stack argos-twice already exists (CREATE_COMPLETE): use `update`"),
        "{error}"
    );
    let error = fixture.backend.update(&env("never")).await.unwrap_err();
    assert!(
        error
            .to_string()
            .contains("argos-never does not exist: `commission` it first"),
        "{error}"
    );
}

#[tokio::test]
async fn parallel_commissions_of_two_environments_do_not_see_each_other() {
    let emulator = Emulator::start().await.unwrap();
    let left = backend(&emulator, &[], None).await;
    let right = backend(&emulator, &[], None).await;
    let (left_env, right_env) = (env("left"), env("right"));
    let (a, b) = tokio::join!(
        left.backend.commission(&left_env, false),
        right.backend.commission(&right_env, false)
    );
    a.unwrap();
    b.unwrap();
    // One image was baked; the second commission waited for or reused it.
    assert_eq!(leftovers(&emulator, "argos", "left").await.images.len(), 1);

    let left_status = left.backend.status(&env("left")).await.unwrap();
    let right_status = right.backend.status(&env("right")).await.unwrap();
    for (status, mine) in [(&left_status, "left"), (&right_status, "right")] {
        assert!(status.instances.len() >= 2, "{status}");
        assert_eq!(status.databases.len(), 1, "{status}");
        for instance in &status.instances {
            assert_eq!(
                tag(&instance.tags, "Env"),
                Some(mine),
                "{} in {mine}'s status",
                instance.id
            );
        }
        assert_eq!(tag(&status.databases[0].tags, "Env"), Some(mine));
    }
    let left_ids: Vec<_> = left_status.instances.iter().map(|i| &i.id).collect();
    assert!(
        right_status
            .instances
            .iter()
            .all(|i| !left_ids.contains(&&i.id))
    );

    left.backend.decommission(&env("left")).await.unwrap();
    assert!(
        right
            .backend
            .status(&env("right"))
            .await
            .unwrap()
            .stack
            .is_some(),
        "deleting left kept right"
    );
    right.backend.decommission(&env("right")).await.unwrap();
    left.backend.clean().await.unwrap();
    assert!(leftovers(&emulator, "argos", "left").await.is_empty());
    assert!(leftovers(&emulator, "argos", "right").await.is_empty());
}

#[tokio::test]
async fn sweep_deletes_only_expired_or_named_harness_environments() {
    let emulator = Emulator::start().await.unwrap();
    let hour = Duration::from_secs(3600);
    let expired = RunTags {
        run_id: "run-old".into(),
        expires: SystemTime::now() - hour,
        kept: None,
    };
    let fresh = RunTags::new("run-fresh", hour);
    let old = backend(&emulator, &[], Some(expired)).await;
    let young = backend(&emulator, &[], Some(fresh)).await;
    let manual = backend(&emulator, &[], None).await;
    old.backend.commission(&env("old"), false).await.unwrap();
    young
        .backend
        .commission(&env("young"), false)
        .await
        .unwrap();
    manual
        .backend
        .commission(&env("manual"), false)
        .await
        .unwrap();

    let now = SweepFilter {
        run: None,
        now: SystemTime::now(),
        kinds: None,
    };
    let dry = manual.backend.sweep(&now, false).await.unwrap();
    let stacks: Vec<&str> = dry
        .items
        .iter()
        .filter(|i| i.kind == "stack")
        .map(|i| i.id.as_str())
        .collect();
    assert_eq!(stacks, ["argos-old"], "{dry}");
    assert!(dry.to_string().contains("dry run"), "{dry}");
    assert!(
        manual
            .backend
            .status(&env("old"))
            .await
            .unwrap()
            .stack
            .is_some(),
        "a dry run deletes nothing"
    );

    let swept = manual.backend.sweep(&now, true).await.unwrap();
    assert_eq!(swept.failures(), 0, "{swept}");
    assert!(leftovers(&emulator, "argos", "old").await.stacks.is_empty());
    assert!(
        leftovers(&emulator, "argos", "old")
            .await
            .instances
            .is_empty()
    );
    assert!(
        manual
            .backend
            .status(&env("young"))
            .await
            .unwrap()
            .stack
            .is_some(),
        "not expired yet"
    );
    assert!(
        manual
            .backend
            .status(&env("manual"))
            .await
            .unwrap()
            .stack
            .is_some(),
        "no harness tags"
    );

    let named = SweepFilter {
        run: Some("run-fresh".into()),
        now: SystemTime::now(),
        kinds: None,
    };
    manual.backend.sweep(&named, true).await.unwrap();
    assert!(
        leftovers(&emulator, "argos", "young")
            .await
            .stacks
            .is_empty()
    );
    assert!(
        manual
            .backend
            .status(&env("manual"))
            .await
            .unwrap()
            .stack
            .is_some(),
        "never touched"
    );
}

#[tokio::test]
async fn a_half_open_endpoint_fails_within_its_timeouts_instead_of_hanging() {
    // Accepts connections and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let silent = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let aws = Aws::connect(&AwsOptions {
        region: "us-east-1".into(),
        endpoint: Some(endpoint),
        emulator_credentials: true,
        timeouts: ApiTimeouts {
            connect: Duration::from_secs(1),
            attempt: Duration::from_millis(500),
            operation: Duration::from_secs(2),
        },
    })
    .await;
    let started = std::time::Instant::now();
    let result = tokio::time::timeout(Duration::from_secs(30), aws.stack("argos-anything")).await;
    let error = result
        .expect("the call must give up on its own")
        .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    assert!(error.to_string().contains("timeout"), "{error}");
    silent.abort();
}

/// A new user's machine: a stale `moto_server` elsewhere on `PATH`, no venv
/// yet (here `ARGOS_VENV`, an empty folder but for the lock file an install
/// killed half-way leaves). The emulator installs the pinned tools into the
/// venv and runs moto from there, never the foreign one; a second caller
/// meanwhile waits for that one install instead of starting its own.
///
/// pip installs from a local wheelhouse of the pins with no index (PyPI's
/// stand-in: pip's own `--find-links`), so the test sends nothing beyond
/// the machine and runs under the connect audit; `.ci/run` makes it.
#[tokio::test]
async fn the_emulator_makes_its_venv_and_never_runs_a_foreign_moto() {
    let wheelhouse = argos_harness::workspace_root().join("target/wheelhouse");
    let has_wheels = std::fs::read_dir(&wheelhouse).is_ok_and(|entries| {
        entries
            .flatten()
            .any(|e| e.path().extension().is_some_and(|x| x == "whl"))
    });
    if !has_wheels {
        argos_harness::skip::missing(
            "a wheelhouse of the pinned Python tools",
            format!(
                "{} holds no wheel: `.venv/bin/pip wheel -r .ci/requirements.txt -w target/wheelhouse` makes it (.ci/run does)",
                wheelhouse.display()
            ),
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let venv = dir.path().join("venv");
    std::fs::create_dir_all(&venv).unwrap();
    std::fs::write(venv.join(".argos-install.lock"), "").unwrap();
    let foreign = dir.path().join("foreign");
    std::fs::create_dir_all(&foreign).unwrap();
    let ran = dir.path().join("the-foreign-moto-ran");
    let script = foreign.join("moto_server");
    std::fs::write(
        &script,
        format!("#!/bin/sh\ntouch '{}'\nexit 1\n", ran.display()),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let path = std::env::join_paths(
        std::iter::once(foreign.clone()).chain(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        )),
    )
    .unwrap();
    // SAFETY: nothing else runs yet in this test's process (nextest gives
    // every test a process of its own), so nothing reads the environment
    // while it changes.
    unsafe {
        std::env::set_var("ARGOS_VENV", &venv);
        std::env::set_var("PATH", path);
        std::env::remove_var("ARGOS_MOTO_SERVER");
        std::env::remove_var("ARGOS_EMULATOR_URL");
        std::env::remove_var("ARGOS_EMULATOR");
        std::env::set_var("PIP_NO_INDEX", "1");
        std::env::set_var("PIP_FIND_LINKS", &wheelhouse);
    }
    let second = std::thread::spawn(|| argos_harness::tools::Venv::project().ensure());
    let emulator = Emulator::start().await.unwrap_or_else(|e| panic!("{e}"));
    emulator.reset().await.unwrap();
    assert_eq!(second.join().unwrap().unwrap(), venv.join("bin"));
    for tool in [
        "moto_server",
        "ansible-playbook",
        "ansible-lint",
        "cfn-lint",
    ] {
        assert!(
            venv.join("bin").join(tool).is_file(),
            "{tool} is not in the venv"
        );
    }
    assert!(!ran.exists(), "the foreign moto_server on PATH was run");
    let log = std::fs::read_to_string(venv.join("argos-install.log")).unwrap();
    assert_eq!(
        log.lines()
            .filter(|l| l.starts_with("argos-harness: ") && l.contains("pip install"))
            .count(),
        1,
        "one install for both callers:\n{log}"
    );
}

/// A signal while a scenario's AWS step is in flight (here a commission
/// whose endpoint accepts the connection and never answers, so the SDK
/// would wait out its 30 s attempt timeout, and retry): the synchronous
/// step returns "interrupted" at once, and cleanup after it is not stopped.
#[test]
fn a_signal_ends_a_synchronous_aws_step_at_once() {
    use argos_cloud::backend::{Backend, BackendError};
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", silent.local_addr().unwrap());
    let project = Project::open(workspace()).unwrap();
    let name = env("sigaws");
    let hosts = argos_cloud::backend::aws::AwsHosts::connect(
        project,
        settings(&[]),
        &name,
        argos_cloud::backend::aws::Target {
            endpoint: Some(endpoint),
            data_plane: false,
        },
        Progress::silent(),
        Some(RunTags::new("sigaws", Duration::from_secs(600))),
        Default::default(),
    )
    .unwrap();
    // The signal comes once the engine's first request has arrived.
    let signaller = std::thread::spawn(move || {
        let (connection, _) = silent.accept().unwrap();
        argos_cloud::sys::signal::stop("SIGINT");
        connection
    });
    let started = std::time::Instant::now();
    let outcome = hosts.commission(&name, &argos_harness::scenarios::hosts(&["app"]));
    let took = started.elapsed();
    let _connection = signaller.join().unwrap();
    assert!(
        matches!(outcome, Err(BackendError::Interrupted { signal: "SIGINT" })),
        "{outcome:?}"
    );
    assert!(took < Duration::from_secs(10), "took {took:?}");
    // Teardown after the signal is cleanup: it is not stopped (it fails
    // here only because nothing answers, after its own timeouts).
    let cleanup = argos_cloud::sys::signal::cleanup(|| hosts.labelled(Some("sigaws")));
    assert!(
        !matches!(cleanup, Err(BackendError::Interrupted { .. })),
        "{cleanup:?}"
    );
}

/// The tests that make environments (containers, machines, the data plane's
/// stand-ins): the nextest profiles put every test of an `environments`
/// module in the `environments` test group, two at a time.
mod environments {
    use super::*;

    /// On the emulator's data plane the image bake runs for real: the bake
    /// instance's host is provisioned with the image playbook and committed as
    /// the AMI's local copy, and an app host started from that AMI already has
    /// the app's code and venv before any deploy. Hosts are reached only at
    /// their stand-ins' addresses: an instance whose stand-in is gone keeps the
    /// address the emulator invented, which the inventory refuses by name. A
    /// stack deleted behind the harness's back leaves no stand-in after the
    /// next sweep, and the teardown no container, network or AMI copy.
    #[test]
    fn on_the_data_plane_the_bake_is_real_and_only_stand_ins_are_reached() {
        use argos_cloud::backend::choose::LocalKind;
        use argos_cloud::converge::inventory::Expect;
        use argos_cloud::scenario::guard::EnvironmentGuard;
        use argos_harness::scenarios::{self, docker};
        if !scenarios::available(LocalKind::Docker) {
            return;
        }
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let emulator = runtime.block_on(Emulator::start()).unwrap();
        let name = env("t-dplane-2");
        let run = RunTags::new("t-dplane-2", Duration::from_secs(3600));
        let hosts = AwsHosts::connect(
            Project::open(workspace()).unwrap(),
            settings(&[]),
            &name,
            Target {
                endpoint: Some(emulator.endpoint().to_owned()),
                data_plane: true,
            },
            Progress::silent(),
            Some(run.clone()),
            Default::default(),
        )
        .unwrap();
        let mut guard = EnvironmentGuard::new(Box::new(hosts), name, &run, false);
        guard.commission(&[]).unwrap_or_else(|e| panic!("{e}"));

        let by_run = format!("label=argos:run={}", run.run_id);
        let ami = runtime.block_on(image_named(&emulator, "argos-image-t-dplane-2"));
        assert_eq!(ami.len(), 1, "the run baked its own image: {ami:?}");
        let copy = format!("argos-ami:{}", ami[0]);
        docker(&["image", "inspect", &copy]).unwrap_or_else(|e| panic!("no {copy}: {e}"));
        let app = docker(&[
            "ps",
            "--filter",
            &by_run,
            "--filter",
            "label=Group=app",
            "--format",
            "{{.Image}} {{.Names}}",
        ])
        .unwrap();
        let (image, container) = app.split_once(' ').expect("an app host");
        assert_eq!(image, copy, "the app host starts from the baked AMI");
        for baked in [
            "/var/env/argos/bin/python",
            "/var/www/argos/standin_application.py",
        ] {
            docker(&["exec", container, "test", "-e", baked])
                .unwrap_or_else(|e| panic!("{baked} is not on the app host before deploy: {e}"));
        }

        let knowledge = docker(&[
            "ps",
            "-q",
            "--filter",
            &by_run,
            "--filter",
            "label=Group=knowledge",
        ])
        .unwrap();
        docker(&["rm", "-f", &knowledge]).unwrap();
        let inventory = guard
            .backend()
            .inventory(guard.env(), Expect::anything())
            .unwrap();
        let refused: Vec<String> = inventory
            .refused()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(refused.len(), 1, "{refused:?}");
        assert!(
            refused[0].contains("refusing to connect to argos-t-dplane-2-knowledge")
                && refused[0].contains("the address came from the AWS emulator"),
            "{refused:?}"
        );

        // The stack deleted behind the harness's back: the next sweep finds
        // the stand-ins of what went with it by their labels.
        runtime.block_on(async {
            let aws = Aws::connect(&emulator.aws_options("us-east-1")).await;
            // moto removes the stack yet may answer DependencyViolation for its
            // VPC (the engine's decommission says so too): the wait decides.
            let _ = aws.delete_stack("argos-t-dplane-2").await;
            wait::until(
                "the stack to go",
                Duration::from_secs(60),
                Backoff::CONTROL_PLANE,
                || async {
                    Ok::<_, argos_cloud::backend::aws::AwsError>(
                        match aws.stack("argos-t-dplane-2").await?.map(|s| s.status) {
                            None => Poll::Ready(()),
                            Some(status) if status == "DELETE_COMPLETE" => Poll::Ready(()),
                            Some(_) => Poll::Pending,
                        },
                    )
                },
            )
            .await
            .unwrap();
        });
        let swept = guard
            .backend()
            .sweep(None, std::time::SystemTime::now())
            .unwrap();
        let stand_ins = docker(&["ps", "-a", "-q", "--filter", &by_run]).unwrap();
        assert_eq!(stand_ins, "", "stand-ins of a deleted stack are left");
        let mut removed: Vec<&str> = swept
            .removed
            .iter()
            .filter(|o| o.kind == "container")
            .map(|o| o.name.as_str())
            .collect();
        removed.sort();
        // The knowledge host's stand-in went above; tasks are off (no broker).
        assert_eq!(
            removed,
            ["argos-t-dplane-2-app", "argos-t-dplane-2-database"],
            "{:?}",
            swept.removed
        );

        drop(guard);
        for kind in [&["ps", "-a", "-q"][..], &["network", "ls", "-q"][..]] {
            let mut args = kind.to_vec();
            args.extend(["--filter", by_run.as_str()]);
            assert_eq!(docker(&args).unwrap(), "", "docker {kind:?} left");
        }
        assert!(
            docker(&["image", "inspect", &copy]).is_err(),
            "{copy} is left"
        );
        let after = runtime.block_on(leftovers(&emulator, "argos", "t-dplane-2"));
        assert!(after.is_empty(), "left on the emulator: {after:?}");
    }
}
