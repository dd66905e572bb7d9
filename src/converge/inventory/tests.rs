use argos_aws::{DbInstance, Instance};
use serde_json::Value;

use super::*;
use crate::model::names::{AppName, EnvName};

/// The hosts and databases of environment `env` in recorded EC2 and RDS
/// answers, reached where EC2 says, as user `admin`.
fn aws_hosts(
    env: &str,
    instances: &[Instance],
    databases: &[DbInstance],
) -> (Vec<Host>, Vec<DatabaseEndpoint>) {
    from_aws(&names(env), instances, databases, "admin", &ssh_address)
}

fn g(name: &str) -> Group {
    Group::new(name).unwrap()
}

/// Argos's topology, as the sample settings give it, tasks on or off.
fn argos(tasks_enabled: bool) -> Topology {
    let mut topology = Topology::new(
        serde_norway::from_str(
            "[{group: database, singleton: true}, {group: knowledge, singleton: true},
              {group: broker, singleton: true, when: tasks_enabled}, {group: app},
              {group: worker, when: tasks_enabled}]",
        )
        .unwrap(),
    );
    for spec in &mut topology.groups {
        spec.enabled = spec.when.is_none() || tasks_enabled;
    }
    topology
}

fn names(env: &str) -> EnvNames {
    EnvNames::new(AppName::new("argos").unwrap(), EnvName::new(env).unwrap())
}

fn tags(value: &Value) -> Vec<(String, String)> {
    value
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| {
            (
                t["Key"].as_str().unwrap().to_owned(),
                t["Value"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn text(value: &Value) -> Option<String> {
    value.as_str().map(str::to_owned)
}

/// DescribeInstances and DescribeDBInstances as recorded from moto's server
/// after `argos-cloud staging commission` with autoscaling (two app hosts)
/// and tasks (broker, worker) on; read into the engine's types as the SDK
/// would.
fn recorded_aws() -> (Vec<Instance>, Vec<DbInstance>) {
    let ec2: Value =
        serde_json::from_str(include_str!("fixtures/ec2-describe-instances.json")).unwrap();
    let rds: Value =
        serde_json::from_str(include_str!("fixtures/rds-describe-db-instances.json")).unwrap();
    let instances = ec2["Reservations"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["Instances"].as_array().unwrap())
        .map(|i| Instance {
            id: text(&i["InstanceId"]).unwrap(),
            state: text(&i["State"]["Name"]).unwrap(),
            tags: tags(&i["Tags"]),
            image_id: text(&i["ImageId"]),
            instance_type: text(&i["InstanceType"]),
            private_ip: text(&i["PrivateIpAddress"]),
            public_ip: text(&i["PublicIpAddress"]),
            private_dns: text(&i["PrivateDnsName"]),
            public_dns: text(&i["PublicDnsName"]),
        })
        .collect();
    let databases = rds["DBInstances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| DbInstance {
            id: text(&d["DBInstanceIdentifier"]).unwrap(),
            arn: text(&d["DBInstanceArn"]).unwrap_or_default(),
            status: text(&d["DBInstanceStatus"]).unwrap(),
            engine: text(&d["Engine"]).unwrap(),
            address: text(&d["Endpoint"]["Address"]),
            port: d["Endpoint"]["Port"].as_i64().map(|p| p as i32),
            tags: tags(&d["TagList"]),
        })
        .collect();
    (instances, databases)
}

fn tasks_on() -> Expect {
    Expect::environment(&argos(true))
}

#[test]
fn aws_hosts_are_grouped_by_tag_with_the_rds_endpoint_as_the_database() {
    let (instances, databases) = recorded_aws();
    let (hosts, dbs) = aws_hosts("staging", &instances, &databases);
    let inventory = Inventory::new(names("staging"), hosts, dbs, tasks_on()).unwrap();
    let list = inventory.list();

    assert_eq!(
        list["knowledge"]["hosts"],
        serde_json::json!(["argos-staging-knowledge"])
    );
    let apps = list["app"]["hosts"].as_array().unwrap();
    assert_eq!(apps.len(), 2, "two autoscaled app hosts: {list:#}");
    assert!(
        apps.iter()
            .all(|h| h.as_str().unwrap().starts_with("argos-staging-app-i-")),
        "{apps:?}"
    );
    assert_eq!(list["broker"]["hosts"].as_array().unwrap().len(), 1);
    assert_eq!(list["worker"]["hosts"].as_array().unwrap().len(), 1);
    assert!(
        list.get("image").is_none(),
        "the terminated bake instance is not a host"
    );

    let db = list["database"]["hosts"][0].as_str().unwrap();
    assert!(db.ends_with(".rds.amazonaws.com"), "{db}");
    let db_vars = &list["_meta"]["hostvars"][db];
    assert_eq!(db_vars["db_port"], 5432);
    assert_eq!(db_vars["ansible_connection"], "local");

    let knowledge = &list["_meta"]["hostvars"]["argos-staging-knowledge"];
    assert_eq!(knowledge["ansible_user"], "admin");
    assert!(
        knowledge["private_address"]
            .as_str()
            .unwrap()
            .starts_with("10.40."),
        "{knowledge}"
    );
    assert_eq!(inventory.host("argos-staging-knowledge"), *knowledge);
    assert_eq!(inventory.host("no-such-host"), serde_json::json!({}));
    assert_eq!(list["all"]["vars"]["env_name"], "staging");
}

#[test]
fn another_environment_sees_none_of_these_hosts() {
    let (instances, databases) = recorded_aws();
    let (hosts, dbs) = aws_hosts("production", &instances, &databases);
    assert!(hosts.is_empty() && dbs.is_empty());
    let error = Inventory::new(names("production"), hosts, dbs, tasks_on()).unwrap_err();
    let message = error.to_string();
    assert!(
        message.starts_with("environment argos-production has no database host"),
        "{message}"
    );
    assert!(
        message.contains("argos-cloud production status"),
        "{message}"
    );
}

#[test]
fn a_doubled_singleton_group_is_an_error_naming_both_hosts() {
    let (mut instances, databases) = recorded_aws();
    let mut second = instances
        .iter()
        .find(|i| i.tags.iter().any(|(_, v)| v == "argos-staging-knowledge"))
        .unwrap()
        .clone();
    second.id = "i-0second".into();
    instances.push(second);
    let (hosts, dbs) = aws_hosts("staging", &instances, &databases);
    let error = Inventory::new(names("staging"), hosts, dbs, tasks_on()).unwrap_err();
    assert!(
        matches!(&error, InventoryError::Doubled { group, hosts, .. } if hosts.len() == 2 && *group == g("knowledge")),
        "{error}"
    );
    assert!(
        error.to_string().contains("exactly one is expected"),
        "{error}"
    );
}

#[test]
fn a_missing_broker_only_matters_when_tasks_are_on() {
    let (instances, databases) = recorded_aws();
    let without_broker: Vec<Instance> = instances
        .into_iter()
        .filter(|i| !i.tags.iter().any(|(k, v)| k == "Group" && v == "broker"))
        .collect();
    let (hosts, dbs) = aws_hosts("staging", &without_broker, &databases);
    Inventory::new(
        names("staging"),
        hosts.clone(),
        dbs.clone(),
        Expect::environment(&argos(false)),
    )
    .unwrap();
    let error = Inventory::new(names("staging"), hosts, dbs, tasks_on()).unwrap_err();
    assert!(
        matches!(
            &error,
            InventoryError::Missing { group, .. } if *group == g("broker")
        ),
        "{error}"
    );
}

#[test]
fn the_static_file_holds_the_same_hosts_and_vars() {
    let (instances, databases) = recorded_aws();
    let (hosts, dbs) = aws_hosts("staging", &instances, &databases);
    let inventory = Inventory::new(names("staging"), hosts, dbs, tasks_on()).unwrap();
    let file = inventory.static_file();
    let knowledge = &file["all"]["children"]["knowledge"]["hosts"]["argos-staging-knowledge"];
    assert_eq!(*knowledge, inventory.host("argos-staging-knowledge"));
    assert_eq!(file["all"]["vars"]["app_name"], "argos");
}

#[test]
fn vagrant_ssh_config_blocks_become_hosts() {
    // Recorded from `vagrant ssh-config` (Vagrant 2.3.4, docker provider, two
    // machines on the argos-host image): SSH is forwarded to loopback ports.
    let hosts = parse_ssh_config(include_str!("fixtures/vagrant-ssh-config.txt")).unwrap();
    assert_eq!(hosts.len(), 2);
    let app = &hosts[0];
    assert_eq!(
        (
            app.group.clone(),
            app.address.as_str(),
            app.port,
            app.user.as_str()
        ),
        (g("app"), "127.0.0.1", 2200, "admin")
    );
    assert_eq!(
        app.vars["ansible_ssh_private_key_file"],
        "/tmp/vagrant-capture/key/id_ed25519"
    );
    assert_eq!(
        (hosts[1].group.clone(), hosts[1].port),
        (g("knowledge"), 2222)
    );

    let error = parse_ssh_config("Host 9lives\n  HostName 1.2.3.4\n").unwrap_err();
    assert!(
        error
            .to_string()
            .contains("\"9lives\" is not named after a group"),
        "{error}"
    );
    let error = parse_ssh_config("  HostName 1.2.3.4\n").unwrap_err();
    assert!(
        error
            .to_string()
            .contains("line 1: HostName before any Host"),
        "{error}"
    );
}

#[test]
fn docker_containers_are_hosts_on_the_environment_network() {
    // `docker inspect` recorded from `argos-cloud --backend docker dev commission`
    // (the network, then named `argos-dev`, renamed to today's `argos-dev-network`).
    let inspect: Value =
        serde_json::from_str(include_str!("fixtures/docker-inspect.json")).unwrap();
    let containers = inspect.as_array().unwrap();
    let hosts = from_docker_inspect(&names("dev"), containers, "admin");
    let mut groups: Vec<Group> = hosts.iter().map(|h| h.group.clone()).collect();
    groups.sort();
    assert_eq!(groups, [g("app"), g("database"), g("knowledge")]);
    let app = hosts.iter().find(|h| h.group == g("app")).unwrap();
    assert_eq!(app.name, "argos-dev-app");
    assert_eq!(app.address, app.private_address);
    assert!(app.address.starts_with("172."), "{app:?}");
    let inventory = Inventory::new(
        names("dev"),
        hosts,
        Vec::new(),
        Expect::environment(&argos(false)),
    )
    .unwrap();
    assert_eq!(
        inventory.list()["database"]["hosts"][0],
        "argos-dev-database",
        "a database host, not an endpoint"
    );

    assert!(
        from_docker_inspect(&names("other"), containers, "admin").is_empty(),
        "another environment's labels"
    );
    let mut stopped = containers.clone();
    stopped[0]["State"]["Running"] = Value::Bool(false);
    assert_eq!(
        from_docker_inspect(&names("dev"), &stopped, "admin").len(),
        2,
        "stopped containers are not hosts"
    );
}

#[test]
fn a_partial_environment_needs_only_its_own_groups_but_never_two_of_one() {
    let (instances, databases) = recorded_aws();
    let knowledge_only: Vec<Instance> = instances
        .into_iter()
        .filter(|i| i.tags.iter().any(|(k, v)| k == "Group" && v == "knowledge"))
        .collect();
    let (hosts, _) = aws_hosts("staging", &knowledge_only, &databases);
    let inventory = Inventory::new(
        names("staging"),
        hosts.clone(),
        Vec::new(),
        Expect::groups(&argos(false), &[g("knowledge")]),
    )
    .unwrap();
    assert!(inventory.list().get("database").is_none());
    let error = Inventory::new(
        names("staging"),
        hosts,
        Vec::new(),
        Expect::environment(&argos(false)),
    )
    .unwrap_err();
    assert!(
        matches!(
            &error,
            InventoryError::Missing { group, .. } if *group == g("database")
        ),
        "{error}"
    );

    let two = vec![
        DatabaseEndpoint {
            group: g("database"),
            address: "a.rds".into(),
            port: 5432,
        },
        DatabaseEndpoint {
            group: g("database"),
            address: "b.rds".into(),
            port: 5432,
        },
    ];
    let error = Inventory::new(
        names("staging"),
        Vec::new(),
        two,
        Expect::groups(&argos(false), &[]),
    )
    .unwrap_err();
    assert!(
        matches!(&error, InventoryError::Doubled { group, .. } if *group == g("database")),
        "{error}"
    );
}

#[test]
fn a_scenarios_hosts_groups_and_variables_reach_the_inventory() {
    let host = |name: &str, group: &str, groups: &[&str]| Host {
        name: format!("argos-dev-{name}"),
        group: g(group),
        groups: groups.iter().map(|x| g(x)).collect(),
        address: "10.0.0.2".into(),
        port: 22,
        user: "admin".into(),
        private_address: "10.0.0.2".into(),
        vars: BTreeMap::new(),
    };
    let vars = |pairs: &[(&str, Value)]| -> Map<String, Value> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect()
    };
    let inventory = Inventory::new(
        names("dev"),
        vec![
            host("web-1", "web", &["cache_clients"]),
            host("cache", "cache", &[]),
        ],
        Vec::new(),
        Expect::anything(),
    )
    .unwrap()
    .with_vars(InventoryVars {
        all: vars(&[("port", json!(6380))]),
        groups: BTreeMap::from([
            (
                "all".to_owned(),
                vars(&[("motd", json!(["hi"])), ("port", json!(1))]),
            ),
            ("web".to_owned(), vars(&[("workers", json!(4))])),
        ]),
        hosts: BTreeMap::from([(
            "argos-dev-cache".to_owned(),
            vars(&[("role", json!("primary"))]),
        )]),
    });
    let list = inventory.list();
    assert_eq!(list["cache_clients"]["hosts"], json!(["argos-dev-web-1"]));
    assert_eq!(list["web"]["vars"]["workers"], json!(4));
    assert_eq!(
        list["all"]["vars"]["motd"],
        json!(["hi"]),
        "group_vars.all is all's vars"
    );
    assert_eq!(
        list["all"]["vars"]["port"],
        json!(6380),
        "vars win over group_vars.all"
    );
    assert_eq!(
        list["_meta"]["hostvars"]["argos-dev-cache"]["role"],
        json!("primary")
    );
    let file = inventory.static_file();
    assert_eq!(file["all"]["children"]["web"]["vars"]["workers"], json!(4));
    assert_eq!(
        file["all"]["children"]["cache"]["hosts"]["argos-dev-cache"]["role"],
        json!("primary")
    );
}
