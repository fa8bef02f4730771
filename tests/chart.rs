//! The Helm chart without a cluster: `helm lint`, `helm template` with the default and with every
//! optional value, the CRDs it ships identical to crds/, the restricted Pod Security of the
//! operator's pods, the RBAC without wildcards and identical to deploy/rbac.yaml, and
//! values.schema.json refusing bad values with a message that names them.

mod common;

use common::{ROOT, helm};
use serde_json::Value;

const CHART: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/charts/shep-operator");

fn template(args: &[&str]) -> Result<Vec<Value>, String> {
    let mut a = vec![
        "template",
        "shep-operator",
        CHART,
        "--namespace",
        "shep-system",
    ];
    a.extend_from_slice(args);
    let o = helm(&a);
    if !o.status.success() {
        return Err(String::from_utf8_lossy(&o.stderr).into_owned());
    }
    Ok(
        serde_saphyr::from_multiple::<Value>(&String::from_utf8_lossy(&o.stdout))
            .unwrap()
            .into_iter()
            .filter(|d| !d.is_null())
            .collect(),
    )
}

/// Numbers as f64, so that `0` and `0.0` (Helm's and our YAML writers differ there) compare equal.
fn normalize(v: &Value) -> Value {
    match v {
        Value::Number(n) => serde_json::json!(n.as_f64()),
        Value::Array(a) => Value::Array(a.iter().map(normalize).collect()),
        Value::Object(o) => {
            Value::Object(o.iter().map(|(k, v)| (k.clone(), normalize(v))).collect())
        }
        other => other.clone(),
    }
}

fn find<'a>(docs: &'a [Value], kind: &str, name: &str) -> &'a Value {
    docs.iter()
        .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name}"))
}

#[test]
fn lint_passes() {
    let o = helm(&["lint", "--strict", CHART]);
    assert!(
        o.status.success(),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn the_chart_ships_the_crds_of_the_repository() {
    let shipped = std::fs::read_to_string(format!("{CHART}/files/crds.yaml")).unwrap();
    let repo = std::fs::read_to_string(format!("{ROOT}/crds/crds.yaml")).unwrap();
    assert!(
        shipped == repo,
        "charts/shep-operator/files/crds.yaml differs from crds/crds.yaml: run `make crds`"
    );
    // Rendered, they are the same objects, kept on uninstall.
    let docs = template(&[]).unwrap();
    let repo: Vec<Value> = serde_saphyr::from_multiple(&repo).unwrap();
    let mut n = 0;
    for crd in docs
        .iter()
        .filter(|d| d["kind"] == "CustomResourceDefinition")
    {
        let mut c = crd.clone();
        assert_eq!(
            c["metadata"]["annotations"]["helm.sh/resource-policy"],
            "keep"
        );
        c["metadata"].as_object_mut().unwrap().remove("annotations");
        c["metadata"].as_object_mut().unwrap().remove("labels");
        let same = repo
            .iter()
            .find(|r| r["metadata"]["name"] == c["metadata"]["name"])
            .unwrap();
        let mut same = same.clone();
        same["metadata"].as_object_mut().unwrap().remove("labels");
        assert!(
            normalize(&c) == normalize(&same),
            "{} differs",
            c["metadata"]["name"]
        );
        n += 1;
    }
    assert_eq!(n, 4);
    assert!(
        template(&["--set", "crds.install=false"])
            .unwrap()
            .iter()
            .all(|d| d["kind"] != "CustomResourceDefinition")
    );
}

#[test]
fn the_operator_runs_restricted_with_two_replicas_and_leader_election() {
    let docs = template(&[]).unwrap();
    let d = find(&docs, "Deployment", "shep-operator");
    assert_eq!(d["spec"]["replicas"], 2);
    let pod = &d["spec"]["template"]["spec"];
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    assert_eq!(
        pod["securityContext"]["seccompProfile"]["type"],
        "RuntimeDefault"
    );
    let c = &pod["containers"][0];
    assert_eq!(c["securityContext"]["allowPrivilegeEscalation"], false);
    assert_eq!(c["securityContext"]["readOnlyRootFilesystem"], true);
    assert_eq!(
        c["securityContext"]["capabilities"]["drop"],
        serde_json::json!(["ALL"])
    );
    assert!(
        c["resources"]["requests"]["cpu"].is_string()
            && c["resources"]["limits"]["memory"].is_string()
    );
    let args: Vec<&str> = c["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(args[0], "operator");
    for want in [
        "--resync-seconds=300",
        "--lease-name=shep-operator",
        "--log-format=json",
        "--health-addr=0.0.0.0:8080",
        "--route-image=shep-operator:0.1.0",
    ] {
        assert!(args.contains(&want), "{want} in {args:?}");
    }
    assert!(!args.iter().any(|a| a.starts_with("--no-leader-election")));
    assert_eq!(
        find(&docs, "PodDisruptionBudget", "shep-operator")["spec"]["minAvailable"],
        1
    );
    let np = find(&docs, "NetworkPolicy", "shep-operator");
    assert_eq!(
        np["spec"]["policyTypes"],
        serde_json::json!(["Ingress", "Egress"])
    );
    assert_eq!(
        find(&docs, "Service", "shep-operator-metrics")["spec"]["ports"][0]["port"],
        8080
    );
    // The chart's pods meet the "restricted" Pod Security Standard: the namespace may enforce it.
    assert!(
        c["securityContext"]["runAsNonRoot"] == true
            && pod["securityContext"]["runAsUser"] == 65532
    );
}

#[test]
fn every_option_renders() {
    let docs = template(&[
        "--set",
        "replicaCount=3",
        "--set",
        "calendar.daysOff={2027-01-02}",
        "--set",
        "calendar.workingDays={2027-01-04}",
        "--set",
        "calendar.kurbanAit.2027=2027-05-17",
        "--set",
        "watchNamespaces={minjust,altyn-bank}",
        "--set",
        "metrics.serviceMonitor.enabled=true",
        "--set",
        "gitops.argocd.healthConfigMap=true",
        "--set",
        "gitops.argocd.namespace=argocd",
        "--set",
        "log.level=debug",
        "--set",
        "log.format=text",
        "--set",
        "resyncSeconds=60",
        "--set",
        "concurrency=8",
        "--set",
        "routeImage=registry.example.kz/shep-route:1",
        "--set",
        "networkPolicy.apiServer.cidrs={10.0.0.1/32}",
    ])
    .unwrap();
    let d = find(&docs, "Deployment", "shep-operator");
    let c = &d["spec"]["template"]["spec"]["containers"][0];
    let args: Vec<&str> = c["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    for want in [
        "--calendar=/etc/shep/calendar/calendar.yaml",
        "--watch-namespaces=minjust,altyn-bank",
        "--log-format=text",
        "--resync-seconds=60",
        "--concurrency=8",
        "--route-image=registry.example.kz/shep-route:1",
    ] {
        assert!(args.contains(&want), "{want} in {args:?}");
    }
    assert_eq!(
        c["env"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["name"] == "SHEP_LOG")
            .unwrap()["value"],
        "debug,kube=warn"
    );
    assert!(d["spec"]["template"]["metadata"]["annotations"]["checksum/calendar"].is_string());
    let cal = find(&docs, "ConfigMap", "shep-operator-calendar")["data"]["calendar.yaml"]
        .as_str()
        .unwrap()
        .to_string();
    let cal = shep_operator::calendar::Calendar::from_yaml(&cal)
        .expect("the rendered calendar is one the operator reads");
    assert!(!cal.is_working_day("2027-01-02".parse().unwrap()));
    assert!(cal.is_working_day("2027-01-04".parse().unwrap()));
    assert!(!cal.is_working_day("2027-05-17".parse().unwrap()));
    // Writes only in the watched namespaces.
    for ns in ["minjust", "altyn-bank"] {
        let rb = docs
            .iter()
            .find(|x| x["kind"] == "RoleBinding" && x["metadata"]["namespace"] == ns)
            .expect(ns);
        assert_eq!(rb["roleRef"]["name"], "shep-operator-write");
    }
    assert!(!docs.iter().any(
        |x| x["kind"] == "ClusterRoleBinding" && x["metadata"]["name"] == "shep-operator-write"
    ));
    assert_eq!(
        find(&docs, "ServiceMonitor", "shep-operator")["spec"]["endpoints"][0]["path"],
        "/metrics"
    );
    let g = find(&docs, "ConfigMap", "shep-operator-gitops-health");
    assert_eq!(g["metadata"]["namespace"], "argocd");
    for k in [
        "InformationSystem",
        "IntegrationService",
        "ServiceConnection",
        "TechWindow",
    ] {
        assert!(
            g["data"][format!("resource.customizations.health.integration.egov.kz_{k}")]
                .as_str()
                .unwrap()
                .contains("Degraded")
        );
    }
    assert_eq!(
        find(&docs, "NetworkPolicy", "shep-operator")["spec"]["egress"][0]["to"][0]["ipBlock"]["cidr"],
        "10.0.0.1/32"
    );
    // One replica: no PodDisruptionBudget (it would block every drain).
    assert!(
        template(&["--set", "replicaCount=1"])
            .unwrap()
            .iter()
            .all(|d| d["kind"] != "PodDisruptionBudget")
    );
}

#[test]
fn bad_values_fail_with_a_message_naming_them() {
    for (set, want) in [
        ("replicaCount=0", "/replicaCount"),
        ("log.format=xml", "/log/format"),
        ("log.level=loud", "/log/level"),
        ("calendar.daysOff={2027-13-01}", "/calendar/daysOff"),
        (
            "calendar.kurbanAit.2027=2027-5-17",
            "/calendar/kurbanAit/2027",
        ),
        ("watchNamespaces={Not_A_Namespace}", "/watchNamespaces"),
        ("resyncSeconds=1", "/resyncSeconds"),
        ("concurrency=0", "/concurrency"),
        ("leaseSeconds=1000", "/leaseSeconds"),
        ("unknownKey=1", "unknownKey"),
    ] {
        let e = template(&["--set", set]).expect_err(set);
        assert!(e.contains(want) && e.contains("schema"), "{set}: {e}");
    }
}

#[test]
fn rbac_has_no_wildcards_and_matches_deploy_rbac() {
    let docs = template(&[]).unwrap();
    let mut verbs = 0;
    for role in docs
        .iter()
        .filter(|d| d["kind"] == "ClusterRole" || d["kind"] == "Role")
    {
        for rule in role["rules"].as_array().unwrap() {
            for field in ["apiGroups", "resources", "verbs"] {
                for v in rule[field].as_array().unwrap() {
                    assert_ne!(v, "*", "{} {field}", role["metadata"]["name"]);
                }
            }
            verbs += rule["verbs"].as_array().unwrap().len();
        }
    }
    assert!(verbs > 10);
    // deploy/rbac.yaml is the same RBAC, for clusters without Helm.
    let strip = |d: &Value| {
        let mut d = d.clone();
        let m = d["metadata"].as_object_mut().unwrap();
        m.remove("labels");
        m.remove("annotations");
        d
    };
    let rbac_kinds = [
        "ServiceAccount",
        "ClusterRole",
        "ClusterRoleBinding",
        "Role",
        "RoleBinding",
    ];
    let mut chart: Vec<Value> = docs
        .iter()
        .filter(|d| rbac_kinds.contains(&d["kind"].as_str().unwrap()))
        .map(strip)
        .collect();
    let text = std::fs::read_to_string(format!("{ROOT}/deploy/rbac.yaml")).unwrap();
    let mut plain: Vec<Value> = serde_saphyr::from_multiple::<Value>(&text)
        .unwrap()
        .iter()
        .filter(|d| !d.is_null())
        .map(strip)
        .collect();
    let key = |d: &Value| format!("{}/{}", d["kind"], d["metadata"]["name"]);
    chart.sort_by_key(key);
    plain.sort_by_key(key);
    assert_eq!(chart, plain, "deploy/rbac.yaml and the chart's RBAC differ");
}
