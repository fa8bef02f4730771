//! The route of a service in one contour (DESIGN §3): ConfigMap `S-C` (route config), Secret
//! `S-C-senders`, Deployment `S-C` running `shep route`, and Service `S-C`.

use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec};
use k8s_openapi::api::core::v1::{
    Capabilities, ConfigMap, ConfigMapVolumeSource, Container, ContainerPort, EnvVar,
    HTTPGetAction, KeyToPath, PodSecurityContext, PodSpec, PodTemplateSpec, Probe,
    ResourceRequirements, SeccompProfile, Secret, SecretVolumeSource, SecurityContext, Service,
    ServicePort, ServiceSpec, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::api::ObjectMeta;

use super::{LABEL_INSTANCE, LABEL_NAME, RenderSettings, labels, name_with_suffix, owner_ref};
use crate::api::{Contour, IntegrationService, Mode, Protocol};
use crate::decide::Break;
use crate::route::config::{
    BACKEND_AUTH_DIR, BACKEND_CA_DIR, BackendConfig, InactiveSender, PORT, ROUTE_DIR, ROUTE_FILE,
    RouteConfig, SENDERS_DIR, SENDERS_FILE, SenderEntry, SendersFile, WindowConfig,
};
use crate::snapshot::Key;

/// Component label of route children.
pub const COMPONENT: &str = "shep-route";

/// The name of a service's route in a contour: `S-C`.
pub fn route_name(service: &str, c: Contour) -> String {
    name_with_suffix(service, c.as_str())
}

/// The request path of a route by protocol and mode (WIRE.md: `/bip-sync-wss-gost/` for the sync
/// SOAP channel, `/bip-async` for the async one; App.1 REST on `/rest`).
pub fn request_path(svc: &IntegrationService) -> &'static str {
    match (svc.spec.protocol, svc.spec.mode) {
        (Protocol::Rest, _) => "/rest",
        (Protocol::Soap, Mode::Sync) => "/bip-sync-wss-gost/",
        (Protocol::Soap, Mode::Async) => "/bip-async",
    }
}

/// The in-cluster endpoint initiators call.
pub fn endpoint(key: &Key, svc: &IntegrationService, c: Contour) -> String {
    format!(
        "http://{}.{}.svc:80{}",
        route_name(&key.1, c),
        key.0,
        request_path(svc)
    )
}

/// The selector labels of a route's pods.
pub fn selector(name: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        (LABEL_NAME.to_string(), COMPONENT.to_string()),
        (LABEL_INSTANCE.to_string(), name.to_string()),
    ])
}

/// The route config of a service in a contour.
pub fn config(
    key: &Key,
    svc: &IntegrationService,
    c: Contour,
    breaks: &[Break],
) -> Option<RouteConfig> {
    let backend = svc.spec.backends.get(c)?;
    Some(RouteConfig {
        service_key: svc.spec.service_key.clone(),
        service: format!("{}/{}", key.0, key.1),
        contour: c,
        mode: svc.spec.mode,
        protocol: svc.spec.protocol,
        route_key: svc.spec.routing.as_ref().map(|r| r.route_key.clone()),
        backend: BackendConfig {
            url: backend.url.clone(),
            timeout_seconds: svc.spec.sla.max_processing_seconds,
            auth_dir: backend
                .auth_secret_ref
                .as_ref()
                .map(|_| BACKEND_AUTH_DIR.to_string()),
            ca_file: backend
                .ca_secret_ref
                .as_ref()
                .map(|r| format!("{BACKEND_CA_DIR}/{}", r.key.as_deref().unwrap_or("ca.crt"))),
        },
        sla: svc.spec.sla.clone(),
        windows: breaks
            .iter()
            .filter(|b| b.contours.contains(&c))
            .map(|b| WindowConfig {
                source: b.source.clone(),
                kind: b.kind.clone(),
                start: b.start,
                end: b.end,
                reason: b.reason.clone(),
            })
            .collect(),
        listen: format!("0.0.0.0:{PORT}"),
    })
}

fn meta(key: &Key, name: &str, svc: &IntegrationService, c: Contour) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_string()),
        namespace: Some(key.0.clone()),
        labels: Some(labels(COMPONENT, name, &key.1, c)),
        owner_references: owner_ref(svc),
        ..Default::default()
    }
}

/// ConfigMap `S-C` with `route.yaml`.
pub fn config_map(key: &Key, svc: &IntegrationService, c: Contour, cfg: &RouteConfig) -> ConfigMap {
    let name = route_name(&key.1, c);
    let yaml = serde_saphyr::to_string(cfg).unwrap_or_default();
    ConfigMap {
        metadata: meta(key, &name, svc, c),
        data: Some(BTreeMap::from([(ROUTE_FILE.to_string(), yaml)])),
        ..Default::default()
    }
}

/// Secret `S-C-senders` with `senders.yaml`: the connections active in this contour.
pub fn senders_secret(
    key: &Key,
    svc: &IntegrationService,
    c: Contour,
    senders: &SendersFile,
) -> Secret {
    let name = name_with_suffix(&key.1, &format!("{}-senders", c.as_str()));
    let yaml = serde_saphyr::to_string(senders).unwrap_or_default();
    Secret {
        metadata: meta(key, &name, svc, c),
        type_: Some("Opaque".into()),
        data: Some(BTreeMap::from([(
            SENDERS_FILE.to_string(),
            ByteString(yaml.into_bytes()),
        )])),
        ..Default::default()
    }
}

/// The senders file from the senders open in the contour and the service's other connections,
/// both sorted by sender id.
pub fn senders_file(
    mut entries: Vec<SenderEntry>,
    mut inactive: Vec<InactiveSender>,
) -> SendersFile {
    entries.sort_by(|a, b| a.sender_id.cmp(&b.sender_id));
    inactive.sort_by(|a, b| a.sender_id.cmp(&b.sender_id));
    SendersFile {
        senders: entries,
        inactive,
    }
}

fn mount(name: &str, path: &str) -> VolumeMount {
    VolumeMount {
        name: name.into(),
        mount_path: path.into(),
        read_only: Some(true),
        ..Default::default()
    }
}

fn secret_volume(name: &str, secret: &str, items: Option<Vec<KeyToPath>>) -> Volume {
    Volume {
        name: name.into(),
        secret: Some(SecretVolumeSource {
            secret_name: Some(secret.into()),
            items,
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn probe(path: &str) -> Probe {
    Probe {
        http_get: Some(HTTPGetAction {
            path: Some(path.into()),
            port: IntOrString::String("http".into()),
            ..Default::default()
        }),
        period_seconds: Some(5),
        ..Default::default()
    }
}

fn default_resources() -> ResourceRequirements {
    ResourceRequirements {
        requests: Some(BTreeMap::from([
            ("cpu".to_string(), Quantity("50m".into())),
            ("memory".to_string(), Quantity("32Mi".into())),
        ])),
        limits: Some(BTreeMap::from([(
            "memory".to_string(),
            Quantity("128Mi".into()),
        )])),
        ..Default::default()
    }
}

/// Deployment `S-C` running `shep route`: non-root, read-only root filesystem, no privilege
/// escalation, all capabilities dropped, seccomp RuntimeDefault, probes on `/readyz` and `/healthz`.
pub fn deployment(
    key: &Key,
    svc: &IntegrationService,
    c: Contour,
    settings: &RenderSettings,
) -> Deployment {
    let name = route_name(&key.1, c);
    let senders = name_with_suffix(&key.1, &format!("{}-senders", c.as_str()));
    let mut volumes = vec![
        Volume {
            name: "config".into(),
            config_map: Some(ConfigMapVolumeSource {
                name: name.clone(),
                ..Default::default()
            }),
            ..Default::default()
        },
        secret_volume("senders", &senders, None),
    ];
    let mut mounts = vec![mount("config", ROUTE_DIR), mount("senders", SENDERS_DIR)];
    if let Some(b) = svc.spec.backends.get(c) {
        if let Some(auth) = &b.auth_secret_ref {
            volumes.push(secret_volume("backend-auth", &auth.name, None));
            mounts.push(mount("backend-auth", BACKEND_AUTH_DIR));
        }
        if let Some(ca) = &b.ca_secret_ref {
            let k = ca.key.clone().unwrap_or_else(|| "ca.crt".into());
            volumes.push(secret_volume(
                "backend-ca",
                &ca.name,
                Some(vec![KeyToPath {
                    key: k.clone(),
                    path: k,
                    ..Default::default()
                }]),
            ));
            mounts.push(mount("backend-ca", BACKEND_CA_DIR));
        }
    }
    let mut pod_labels = labels(COMPONENT, &name, &key.1, c);
    pod_labels.extend(selector(&name));
    let grace = i64::from(svc.spec.sla.max_processing_seconds) + 5;
    Deployment {
        metadata: meta(key, &name, svc, c),
        spec: Some(DeploymentSpec {
            replicas: Some(svc.spec.route.replicas),
            selector: LabelSelector {
                match_labels: Some(selector(&name)),
                ..Default::default()
            },
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(pod_labels),
                    ..Default::default()
                }),
                spec: Some(PodSpec {
                    automount_service_account_token: Some(false),
                    enable_service_links: Some(false),
                    termination_grace_period_seconds: Some(grace),
                    security_context: Some(PodSecurityContext {
                        run_as_non_root: Some(true),
                        run_as_user: Some(65532),
                        run_as_group: Some(65532),
                        seccomp_profile: Some(SeccompProfile {
                            type_: "RuntimeDefault".into(),
                            ..Default::default()
                        }),
                        ..Default::default()
                    }),
                    containers: vec![Container {
                        name: "route".into(),
                        image: Some(settings.route_image.clone()),
                        args: Some(vec![
                            "route".into(),
                            "--config".into(),
                            format!("{ROUTE_DIR}/{ROUTE_FILE}"),
                            "--senders".into(),
                            format!("{SENDERS_DIR}/{SENDERS_FILE}"),
                        ]),
                        env: Some(vec![EnvVar {
                            name: "SHEP_LOG_FORMAT".into(),
                            value: Some("json".into()),
                            ..Default::default()
                        }]),
                        ports: Some(vec![ContainerPort {
                            name: Some("http".into()),
                            container_port: PORT,
                            protocol: Some("TCP".into()),
                            ..Default::default()
                        }]),
                        readiness_probe: Some(probe("/readyz")),
                        liveness_probe: Some(probe("/healthz")),
                        resources: Some(
                            svc.spec
                                .route
                                .resources
                                .clone()
                                .unwrap_or_else(default_resources),
                        ),
                        security_context: Some(SecurityContext {
                            allow_privilege_escalation: Some(false),
                            read_only_root_filesystem: Some(true),
                            run_as_non_root: Some(true),
                            capabilities: Some(Capabilities {
                                drop: Some(vec!["ALL".into()]),
                                ..Default::default()
                            }),
                            ..Default::default()
                        }),
                        volume_mounts: Some(mounts),
                        ..Default::default()
                    }],
                    volumes: Some(volumes),
                    ..Default::default()
                }),
            },
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Service `S-C`: the endpoint initiators reach, port 80 to the route's `http` port.
pub fn service(key: &Key, svc: &IntegrationService, c: Contour) -> Service {
    let name = route_name(&key.1, c);
    Service {
        metadata: meta(key, &name, svc, c),
        spec: Some(ServiceSpec {
            selector: Some(selector(&name)),
            ports: Some(vec![ServicePort {
                name: Some("http".into()),
                port: 80,
                target_port: Some(IntOrString::String("http".into())),
                protocol: Some("TCP".into()),
                ..Default::default()
            }]),
            type_: Some("ClusterIP".into()),
            ..Default::default()
        }),
        ..Default::default()
    }
}
