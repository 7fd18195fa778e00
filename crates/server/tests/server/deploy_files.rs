//! The deployment files (`deploy/compose`, `deploy/k8s`, `deploy/Dockerfile`) checked by a
//! parser: YAML read by Debian's `python3-yaml`, every configuration they give a node
//! loaded by the server's own `Config` (with the environment they give it), and what
//! refers to what: mounted files exist, the load balancer and Prometheus name the nodes
//! and their ports, published media ports match the addresses participants are told,
//! probes ask `/readyz` and `/healthz`, Services and the disruption budget select the pods,
//! every Secret and ConfigMap key used exists.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use kakehashi::config::{Config, Flags};
use serde_json::Value;

fn deploy() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../deploy")
}

/// The YAML documents of `path`, as JSON.
fn yaml(path: &Path) -> Vec<Value> {
    let script = "import json, sys, yaml; print(json.dumps(list(yaml.safe_load_all(open(sys.argv[1])))))";
    let out = std::process::Command::new("python3")
        .args(["-c", script])
        .arg(path)
        .output()
        .expect("Debian's python3 with python3-yaml (scripts/packages.sh installs it)");
    assert!(out.status.success(), "{}: {}", path.display(), String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// `${NAME:-default}` as compose substitutes it with nothing set.
fn defaults(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find('}').expect("a closed ${") + start;
        let inner = &rest[start + 2..end];
        out.push_str(inner.split_once(":-").map_or("", |(_, d)| d));
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

/// The server's configuration from `toml` with `env`, as `kakehashi serve --config` loads it.
fn load(toml: &str, env: &BTreeMap<String, String>) -> Config {
    let file = std::env::temp_dir().join(format!("kakehashi-deploy-{}-{}.toml", std::process::id(), env.len()));
    std::fs::write(&file, toml).unwrap();
    let flags = Flags { config: Some(file.clone()), ..Flags::default() };
    let config = Config::load(&flags, env.clone()).unwrap_or_else(|e| panic!("{e}\n{toml}\n{env:?}"));
    std::fs::remove_file(file).unwrap();
    config
}

#[test]
fn the_compose_file_starts_three_nodes_and_what_they_need() {
    let dir = deploy().join("compose");
    let compose = yaml(&dir.join("compose.yaml")).remove(0);
    let services = compose["services"].as_object().unwrap();
    for name in ["node-a", "node-b", "node-c", "lb", "redis", "postgres", "coturn", "prometheus", "grafana"] {
        assert!(services.contains_key(name), "no service {name}");
    }
    // Every file mounted from the repository exists.
    for (name, service) in services {
        for volume in service["volumes"].as_array().into_iter().flatten() {
            let source = volume.as_str().unwrap().split(':').next().unwrap();
            if source.starts_with('.') {
                assert!(dir.join(source).exists(), "{name} mounts {source}, which is not there");
            }
        }
    }
    let toml = std::fs::read_to_string(dir.join("kakehashi.toml")).unwrap();
    let haproxy = std::fs::read_to_string(dir.join("haproxy.cfg")).unwrap();
    assert!(haproxy.contains("option httpchk GET /readyz") && haproxy.contains("http-check expect status 200"));
    let prometheus = yaml(&dir.join("prometheus.yml")).remove(0);
    let targets = prometheus["scrape_configs"][0]["static_configs"][0]["targets"].clone();
    let mut media = Vec::new();
    for name in ["node-a", "node-b", "node-c"] {
        let node = &services[name];
        assert_eq!(node["hostname"], name, "the node id is the host's name");
        assert_eq!(node["restart"], "unless-stopped", "a deposed writer comes back as a standby");
        for needed in ["postgres", "redis"] {
            assert_eq!(node["depends_on"][needed]["condition"], "service_healthy", "{name} waits for {needed}");
        }
        let env: BTreeMap<String, String> = node["environment"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), defaults(v.as_str().unwrap())))
            .collect();
        let config = load(&toml, &env);
        let cluster = config.cluster.as_ref().expect("[cluster]");
        assert_eq!(cluster.redis, "redis://redis:6379/");
        assert!(config.database.as_deref().unwrap().contains("@postgres:5432/"));
        // Participants are told the port the node publishes, and it listens on it.
        let public = config.media_public.unwrap();
        assert_eq!(public.port(), config.media_listen.port(), "{name}");
        let ports: Vec<&str> = node["ports"].as_array().unwrap().iter().map(|p| p.as_str().unwrap()).collect();
        assert!(ports.contains(&format!("{0}:{0}/udp", public.port()).as_str()), "{name} publishes {ports:?}");
        media.push(public.port());
        // The load balancer checks it; Prometheus scrapes its private port.
        assert!(haproxy.contains(&format!("server {name} {name}:{}", config.listen.port())), "haproxy lacks {name}");
        let private = config.private_listen.expect("the operator's routes apart");
        let target = Value::String(format!("{name}:{}", private.port()));
        assert!(targets.as_array().unwrap().contains(&target), "prometheus does not scrape {target}");
        assert!(config.turn_list().len() == 1 && config.turn_secret.is_some());
    }
    media.dedup();
    assert_eq!(media.len(), 3, "one media port per node");
    let turn = std::fs::read_to_string(dir.join("turnserver.conf")).unwrap();
    let secret = services["node-a"]["environment"]["KAKEHASHI_TURN_SECRET"].as_str().unwrap();
    assert!(turn.contains(&format!("static-auth-secret={secret}")), "coturn and the nodes share the secret");
}

#[test]
fn the_kubernetes_manifests_hold_together() {
    let docs = yaml(&deploy().join("k8s/kakehashi.yaml"));
    let of = |kind: &str| docs.iter().filter(|d| d["kind"] == kind).collect::<Vec<_>>();
    let config_map = of("ConfigMap")[0];
    let secret = of("Secret")[0];
    let set = of("StatefulSet")[0];
    let pod = &set["spec"]["template"];
    let labels = &pod["metadata"]["labels"];
    assert_eq!(&set["spec"]["selector"]["matchLabels"], labels);
    assert_eq!(set["spec"]["replicas"], 3);
    for service in of("Service") {
        let selector = service["spec"]["selector"].as_object().unwrap();
        for (key, value) in labels.as_object().unwrap() {
            assert_eq!(selector.get(key), Some(value), "{}", service["metadata"]["name"]);
        }
    }
    assert_eq!(&of("PodDisruptionBudget")[0]["spec"]["selector"]["matchLabels"], labels);
    let container = &pod["spec"]["containers"][0];
    assert_eq!(container["readinessProbe"]["httpGet"]["path"], "/readyz", "every node serves, and relays media");
    assert_eq!(container["livenessProbe"]["httpGet"]["path"], "/healthz");
    // Every key taken from the Secret or the ConfigMap is there; the environment they
    // make, with the ConfigMap's file, is a configuration the server accepts.
    let mut env = BTreeMap::new();
    for var in container["env"].as_array().unwrap() {
        let from = &var["valueFrom"];
        let value = if let Some(r) = from.get("secretKeyRef") {
            assert_eq!(r["name"], secret["metadata"]["name"]);
            secret["stringData"][r["key"].as_str().unwrap()].clone()
        } else {
            let r = &from["configMapKeyRef"];
            assert_eq!(r["name"], config_map["metadata"]["name"]);
            config_map["data"][r["key"].as_str().unwrap()].clone()
        };
        let value = value.as_str().unwrap_or_else(|| panic!("no value for {}", var["name"])).to_string();
        env.insert(var["name"].as_str().unwrap().to_string(), value);
    }
    // As pod kakehashi-0 (a node's id is its host's name, the pod's).
    let toml = config_map["data"]["kakehashi.toml"].as_str().unwrap();
    assert!(toml.contains("# node: the pod's name"));
    let config = load(&toml.replace("# node: the pod's name", "node = \"kakehashi-0\""), &env);
    assert!(config.cluster.is_some() && config.database.is_some());
    assert!(
        set["spec"]["template"]["spec"]["terminationGracePeriodSeconds"].as_u64().unwrap()
            > u64::from(config.drain_secs),
        "live calls drain before the pod is killed"
    );
    // The ports the container declares are the ones it listens on; the media Service
    // carries both of the relay's protocols.
    let declared: Vec<(u64, &str)> = container["ports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["containerPort"].as_u64().unwrap(), p["protocol"].as_str().unwrap()))
        .collect();
    let media = u64::from(config.media_listen.port());
    for want in [(u64::from(config.listen.port()), "TCP"), (media, "UDP"), (media, "TCP")] {
        assert!(declared.contains(&want), "{want:?} not in {declared:?}");
    }
    // Every pod runs a relay (ADR 0022): each has its own media Service, and the
    // configuration gives each pod, by its name, a public address on the relay's port.
    let media_services: Vec<_> = of("Service").into_iter().filter(|s| s["spec"]["type"] == "LoadBalancer").collect();
    assert_eq!(media_services.len(), 3, "one media Service per pod");
    let cluster = config.cluster.as_ref().unwrap();
    let mut publics = Vec::new();
    for service in media_services {
        let pod = service["spec"]["selector"]["statefulset.kubernetes.io/pod-name"].as_str().expect("one pod");
        let public = *cluster.media_public.get(pod).unwrap_or_else(|| panic!("no media_public for {pod}"));
        assert_eq!(public.port(), config.media_listen.port(), "{pod}");
        assert_eq!(service["spec"]["ports"][0]["port"].as_u64(), Some(u64::from(public.port())), "{pod}");
        let protocols: Vec<&str> =
            service["spec"]["ports"].as_array().unwrap().iter().map(|p| p["protocol"].as_str().unwrap()).collect();
        assert_eq!(protocols, ["UDP", "TCP"]);
        publics.push(public);
    }
    publics.dedup();
    assert_eq!(publics.len(), 3, "an address per pod");
    // The notes' key comes from the Secret, where the configuration looks for it.
    let mounts = container["volumeMounts"].as_array().unwrap();
    let keys = mounts.iter().find(|m| m["name"] == "keys").unwrap()["mountPath"].as_str().unwrap();
    assert_eq!(config.notes_key_path(), Path::new(keys).join("notes.key"));
    assert!(secret["stringData"]["notes.key"].as_str().unwrap().len() == 32, "an example key of 32 bytes");
}

#[test]
fn the_image_runs_the_configuration_the_deployments_mount() {
    let dockerfile = std::fs::read_to_string(deploy().join("Dockerfile")).unwrap();
    assert!(dockerfile.contains("cargo build --release --locked -p kakehashi --bin kakehashi"));
    assert!(dockerfile.contains(r#"CMD ["serve", "--config", "/etc/kakehashi/kakehashi.toml"]"#));
    let compose = yaml(&deploy().join("compose/compose.yaml")).remove(0);
    let volumes = compose["x-node"]["volumes"].as_array().unwrap();
    assert!(volumes.iter().any(|v| v.as_str().unwrap().ends_with(":/etc/kakehashi/kakehashi.toml:ro")));
    // The compose file builds it from the repository's root.
    assert_eq!(compose["x-node"]["build"]["dockerfile"], "deploy/Dockerfile");
    assert!(
        deploy()
            .join("compose")
            .join(compose["x-node"]["build"]["context"].as_str().unwrap())
            .join("Cargo.toml")
            .exists()
    );
}
