//! The AWS engine's full cycle on the emulator (moto's server) against the
//! same API calls made directly, measured in the same run: what the
//! engine's waiting, event streaming and checks cost on top of the calls.
//!
//! engine: commission (image bake + stack) → status → update → decommission → clean.
//! direct: CreateStack image, DescribeStacks, CreateImage, DescribeImages,
//! CreateTags, DeleteStack image, CreateStack env, DescribeStacks,
//! DescribeStackResources, DescribeInstances, DescribeDBInstances,
//! UpdateStack, DeleteStack env, DeregisterImage, DeleteSnapshot: each once,
//! no polling (moto settles every call before it answers).
//!
//! `cargo bench -p argos-harness --bench engine [-- --rounds N]` (needs
//! `.venv`, which the emulator fixture makes). Prints figures; asserts
//! nothing about speed.

use std::path::Path;
use std::time::{Duration, Instant};

use argos_aws::{Aws, CreateStack, filter};
use argos_cloud::backend::aws::{AwsBackend, Updated};
use argos_cloud::cfn::plan::Plan;
use argos_cloud::cfn::template::Formations;
use argos_cloud::model::names::{EnvName, EnvNames};
use argos_cloud::model::project::Project;
use argos_cloud::model::settings::{self, Overrides, Settings};
use argos_cloud::sys::progress::Progress;
use argos_harness::{Emulator, workspace_root};

/// An AMI moto knows.
const MOTO_AMI: &str = "ami-1e749f67";

fn settings(max_size: u32) -> Settings {
    let root = workspace_root();
    let text = std::fs::read_to_string(root.join(Project::SAMPLE_SETTINGS)).expect("sample");
    let mut overrides = Overrides::default();
    overrides.flag("base_ami", MOTO_AMI);
    overrides.flag("app_autoscaling", "true");
    overrides.flag("app_max_size", &max_size.to_string());
    settings::parse(Path::new("all.sample.yml"), &text, &overrides).expect("sample settings")
}

fn backend(aws: &Aws, formations: &Formations, max_size: u32) -> AwsBackend {
    AwsBackend::new(
        aws.clone(),
        settings(max_size),
        formations.clone(),
        Progress::silent(),
    )
}

async fn engine_cycle(aws: &Aws, formations: &Formations, env: &EnvName) -> Duration {
    let started = Instant::now();
    let engine = backend(aws, formations, 4);
    engine.commission(env, false).await.expect("commission");
    engine.status(env).await.expect("status");
    let bigger = backend(aws, formations, 6);
    match bigger.update(env).await.expect("update") {
        Updated::Changed(_) => {}
        Updated::NoChanges => panic!("the update changes the app group's maximum size"),
    }
    engine.decommission(env).await.expect("decommission");
    engine.clean().await.expect("clean");
    started.elapsed()
}

async fn direct_cycle(aws: &Aws, formations: &Formations, env: &EnvName) -> Duration {
    let started = Instant::now();
    let settings = settings(4);
    let names = EnvNames::new(settings.app_name.clone(), env.clone());
    let image_plan = Plan::image(
        &settings,
        &formations.image,
        &settings.app_name.image_name(),
    );
    let image_body = formations.image.to_json();
    let bake = aws
        .create_stack(CreateStack {
            name: &image_plan.stack_name,
            template_body: &image_body,
            parameters: image_plan.parameter_values(),
            tags: image_plan.tag_pairs(),
            keep_on_failure: false,
            client_request_token: &format!("bench-image-{env}"),
        })
        .await
        .expect("CreateStack image");
    let bake_stack = aws
        .stack(&bake)
        .await
        .expect("DescribeStacks")
        .expect("bake");
    let instance = bake_stack
        .outputs
        .iter()
        .find(|(key, _)| key == "ImageInstanceId")
        .map(|(_, value)| value.clone())
        .expect("ImageInstanceId");
    let image_name = settings.app_name.image_name();
    let image = aws
        .create_image(
            &instance,
            &image_name,
            "bench",
            &image_plan.tag_pairs(),
            false,
        )
        .await
        .expect("CreateImage");
    let described = aws
        .images(&[filter("image-id", &[&image])])
        .await
        .expect("DescribeImages");
    let snapshots: Vec<String> = described
        .iter()
        .flat_map(|i| i.snapshot_ids.clone())
        .collect();
    aws.create_tags(&snapshots, &image_plan.tag_pairs())
        .await
        .expect("CreateTags");
    aws.delete_stack(&bake).await.expect("DeleteStack image");

    let body = formations.environment.to_json();
    let plan = Plan::environment(&settings, &names, &formations.environment, &image, None);
    let stack = aws
        .create_stack(CreateStack {
            name: &plan.stack_name,
            template_body: &body,
            parameters: plan.parameter_values(),
            tags: plan.tag_pairs(),
            keep_on_failure: false,
            client_request_token: &format!("bench-{env}"),
        })
        .await
        .expect("CreateStack env");
    aws.stack(&stack).await.expect("DescribeStacks");
    aws.stack_resources(&stack)
        .await
        .expect("DescribeStackResources");
    aws.instances(&[filter("tag:Env", &[env.as_str()])])
        .await
        .expect("DescribeInstances");
    aws.db_instances().await.expect("DescribeDBInstances");
    let bigger = Plan::environment(
        &self::settings(6),
        &names,
        &formations.environment,
        &image,
        None,
    );
    aws.update_stack(&stack, &body, &bigger.parameter_values())
        .await
        .expect("UpdateStack");
    // moto removes the stack, then answers DependencyViolation for the VPC
    // pieces it cannot delete (docs/src/backends/aws.md: what moto cannot do).
    match aws.delete_stack(&stack).await {
        Ok(()) => {}
        Err(e) if e.is_code("DependencyViolation") => {}
        Err(e) => panic!("DeleteStack env: {e}"),
    }
    aws.deregister_image(&image).await.expect("DeregisterImage");
    for snapshot in &snapshots {
        aws.delete_snapshot(snapshot).await.expect("DeleteSnapshot");
    }
    started.elapsed()
}

/// Median, fastest and slowest, in seconds.
fn spread(mut times: Vec<Duration>) -> (f64, f64, f64) {
    times.sort();
    let secs = |d: Duration| d.as_secs_f64();
    (
        secs(times[times.len() / 2]),
        secs(times[0]),
        secs(times[times.len() - 1]),
    )
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let rounds: usize = args
        .iter()
        .position(|a| a == "--rounds")
        .and_then(|i| args.get(i + 1))
        .map(|n| n.parse().expect("--rounds N"))
        .unwrap_or(15);
    let emulator = Emulator::start().await.expect("emulator");
    let aws = Aws::connect(&emulator.aws_options("us-east-1")).await;
    let project = Project::open(workspace_root()).expect("project");
    let formations = Formations::load(&project).expect("formations");
    let mut engine = Vec::new();
    let mut direct = Vec::new();
    // Alternate, each on a fresh emulator state, so neither side gets a
    // warmer (or fuller) server; round 0 warms moto up (its first calls
    // load its models) and is not counted.
    for round in 0..=rounds {
        let env = EnvName::new(&format!("bench{round}")).expect("env name");
        emulator.reset().await.expect("reset");
        let by_engine = engine_cycle(&aws, &formations, &env).await;
        emulator.reset().await.expect("reset");
        let by_hand = direct_cycle(&aws, &formations, &env).await;
        if round > 0 {
            engine.push(by_engine);
            direct.push(by_hand);
        }
    }
    let (engine, direct) = (spread(engine), spread(direct));
    println!("full cycle on moto's server, {rounds} rounds: median (fastest-slowest)");
    println!(
        "  engine (waits, events, checks) {:>6.2} s ({:.2}-{:.2})",
        engine.0, engine.1, engine.2
    );
    println!(
        "  the same calls, direct         {:>6.2} s ({:.2}-{:.2})",
        direct.0, direct.1, direct.2
    );
    println!(
        "  engine / direct                {:>6.2}",
        engine.0 / direct.0
    );
}
