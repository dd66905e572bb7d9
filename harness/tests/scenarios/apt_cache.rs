//! The machine's apt cache on the Docker backend: hosts download their
//! packages through it, and neither a decommission nor a run's sweep
//! removes it or trips over it. These use the machine's own cache, as every
//! run does, and never remove it; `argos-cloud cache remove` is tested on a
//! cache of its own in tests/cli/cache.rs.

use std::time::{Duration, SystemTime};

use argos_cloud::backend::Backend;
use argos_cloud::backend::choose::LocalKind;
use argos_cloud::backend::containers::apt_cache::{self, AptCache};
use argos_cloud::model::names::{Group, RunTags};
use argos_cloud::scenario::guard::EnvironmentGuard;
use argos_cloud::scenario::run::unique_env_name;
use argos_harness::scenarios::{self, docker};

/// The machine's cache, when these tests can run: Docker and Ansible's
/// tools here, and the cache not switched off.
fn machine_cache() -> Option<AptCache> {
    if !scenarios::available(LocalKind::Docker) {
        return None;
    }
    if AptCache::switched_off() {
        argos_harness::skip::missing(
            "the apt cache",
            format!("it is switched off ({}=off)", apt_cache::SWITCH_VAR),
        );
        return None;
    }
    Some(AptCache::machine())
}

/// A Docker backend acting for `run`, with the database scenario's settings.
fn backend(run: &RunTags) -> Box<dyn Backend> {
    let options = scenarios::options_on(LocalKind::Docker);
    let scenario = scenarios::load(&scenarios::workspace_root().join("scenarios/database.yaml"));
    scenarios::observer(&options, &scenario, Some(run.clone()))
}

fn running(cache: &AptCache) -> bool {
    docker(&["inspect", "-f", "{{.State.Running}}", cache.name()]).as_deref() == Ok("true")
}

/// The networks the cache is on.
fn networks_of(cache: &AptCache) -> String {
    docker(&[
        "inspect",
        "-f",
        "{{range $name, $_ := .NetworkSettings.Networks}}{{$name}} {{end}}",
        cache.name(),
    ])
    .unwrap()
}

fn network_exists(network: &str) -> bool {
    docker(&["network", "inspect", network]).is_ok()
}

/// The cache's transfer log from byte `from` on (one line per file served:
/// `time|O|size|client|path`, and `time|I|...` for one fetched upstream).
fn log_from(cache: &AptCache, from: u64) -> String {
    docker(&[
        "exec",
        cache.name(),
        "tail",
        "-c",
        &format!("+{}", from + 1),
        apt_cache::TRANSFER_LOG,
    ])
    .unwrap()
}

fn log_size(cache: &AptCache) -> u64 {
    docker(&[
        "exec",
        cache.name(),
        "stat",
        "-c",
        "%s",
        apt_cache::TRANSFER_LOG,
    ])
    .unwrap()
    .parse()
    .unwrap()
}

/// Whether the log has a `kind` line (O: served, I: fetched upstream) for
/// client `address` and a file whose path contains `file`.
fn logged(log: &str, kind: &str, address: &str, file: &str) -> bool {
    log.lines().any(|line| {
        let fields: Vec<&str> = line.split('|').collect();
        fields.len() == 5 && fields[1] == kind && fields[3] == address && fields[4].contains(file)
    })
}

/// Two hosts download the same package, one after the other: both through
/// the cache (its log names each host's address), the second served from
/// it. The setting is a read-only mount, invisible to a role. Decommission
/// removes the network and leaves the cache running.
#[test]
fn hosts_download_through_the_machine_cache_and_decommission_leaves_it() {
    let Some(cache) = machine_cache() else {
        return;
    };
    let env = unique_env_name("aptcache");
    let run = RunTags::new(env.as_str(), Duration::from_secs(3600));
    let mut guard = EnvironmentGuard::new(backend(&run), env.clone(), &run, false);
    guard
        .commission(&scenarios::hosts(&["database", "knowledge"]))
        .unwrap();
    let network = guard.backend().names(&env).resource(Group::NETWORK);
    assert!(
        networks_of(&cache).split_whitespace().any(|n| n == network),
        "the cache joins {network}: {}",
        networks_of(&cache)
    );
    // Its way out stays its own network, whatever environments it joins:
    // one that goes away must not take the cache's downloads with it.
    let home_gateway = docker(&[
        "network",
        "inspect",
        "-f",
        "{{range .IPAM.Config}}{{.Gateway}}{{end}}",
        &cache.home_network(),
    ])
    .unwrap();
    let route = docker(&["exec", cache.name(), "ip", "route", "show", "default"]).unwrap();
    assert!(
        route.starts_with(&format!("default via {home_gateway} ")),
        "the cache routes through {}: {route}",
        cache.home_network()
    );
    let hosts = guard.backend().status(&env).unwrap();
    assert_eq!(hosts.len(), 2, "{hosts:?}");
    let mark = log_size(&cache);
    for host in &hosts {
        let out = docker(&[
            "exec",
            &host.name,
            "sh",
            "-c",
            // Booted first (as a run's SSH waits for it): systemd empties
            // /tmp, where apt checks signatures, while it boots. A probe
            // with a 60 s deadline (`--wait` gives up before D-Bus is up).
            &format!(
                "for i in $(seq 300); do case $(systemctl is-system-running 2>/dev/null) in \
                 running|degraded) break;; esac; sleep 0.2; done; \
                 apt-config dump | grep -i Acquire::http::Proxy && test ! -w {} && cd /tmp && \
                 apt-get update -q >/dev/null && apt-get download -q hello",
                apt_cache::HOST_CONF
            ),
        ])
        .unwrap_or_else(|e| panic!("{}: {e}", host.name));
        assert!(
            out.contains(r#"Acquire::http::Proxy "http://apt-cache:3142";"#),
            "{}: {out}",
            host.name
        );
    }
    let log = log_from(&cache, mark);
    for host in &hosts {
        let address = host.address.as_deref().unwrap();
        assert!(
            logged(&log, "O", address, "/hello_"),
            "{} ({address}) downloaded hello through the cache:\n{log}",
            host.name
        );
    }
    let second = hosts[1].address.as_deref().unwrap();
    assert!(
        !logged(&log, "I", second, "/hello_"),
        "the second download is served from the cache:\n{log}"
    );

    let left = guard.destroy().unwrap();
    assert!(left.is_empty(), "left behind: {left:?}");
    assert!(!network_exists(&network), "{network} is removed");
    assert!(running(&cache), "the cache outlives the environment");
    let labelled = guard.backend().labelled(None).unwrap();
    assert!(
        labelled.iter().all(|o| o.name != cache.name()),
        "the cache is never a run's: {labelled:?}"
    );
}

/// A run's sweep (what a teardown falls back to) removes the run's network
/// although the cache is on it, and leaves the cache running.
#[test]
fn a_runs_sweep_removes_its_network_and_leaves_the_cache() {
    let Some(cache) = machine_cache() else {
        return;
    };
    let env = unique_env_name("aptsweep");
    let run = RunTags::new(env.as_str(), Duration::from_secs(3600));
    let mut guard = EnvironmentGuard::new(backend(&run), env.clone(), &run, false);
    guard.commission(&scenarios::hosts(&["database"])).unwrap();
    let network = guard.backend().names(&env).resource(Group::NETWORK);
    assert!(
        networks_of(&cache).split_whitespace().any(|n| n == network),
        "the cache joins {network}"
    );
    let report = guard
        .backend()
        .sweep(Some(env.as_str()), SystemTime::now())
        .unwrap();
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    assert!(
        report
            .removed
            .iter()
            .any(|o| o.kind == "network" && o.name == network),
        "{:?}",
        report.removed
    );
    assert!(!network_exists(&network), "{network} is removed");
    assert!(running(&cache), "the sweep leaves the cache running");
    assert!(guard.destroy().unwrap().is_empty());
}
