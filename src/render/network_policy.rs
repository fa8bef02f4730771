//! NetworkPolicy `S-C` (DESIGN §3): default deny; ingress only from the networks of connections
//! active in the contour (and their in-cluster namespace selectors) and from the metrics scraper;
//! egress only to the backend and to cluster DNS.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::networking::v1::{
    IPBlock, NetworkPolicy, NetworkPolicyEgressRule, NetworkPolicyIngressRule, NetworkPolicyPeer,
    NetworkPolicyPort, NetworkPolicySpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::api::ObjectMeta;

use super::route::{COMPONENT, route_name, selector};
use super::{RenderSettings, labels, owner_ref};
use crate::api::{Contour, IntegrationService};
use crate::route::config::PORT;
use crate::snapshot::Key;

/// Who may reach a route: CIDRs and in-cluster namespace selectors, from active connections.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Peers {
    /// Source CIDRs (normalized, deduplicated, sorted).
    pub cidrs: BTreeSet<String>,
    /// Namespace selectors.
    pub namespace_selectors: Vec<LabelSelector>,
}

/// A CIDR in canonical form (host bits cleared), or `None` when it does not parse.
pub fn normalize_cidr(s: &str) -> Option<String> {
    s.parse::<ipnet::IpNet>()
        .ok()
        .map(|n| n.trunc().to_string())
}

fn tcp(port: i32) -> NetworkPolicyPort {
    NetworkPolicyPort {
        port: Some(IntOrString::Int(port)),
        protocol: Some("TCP".into()),
        ..Default::default()
    }
}

fn ip_peer(cidr: &str) -> NetworkPolicyPeer {
    NetworkPolicyPeer {
        ip_block: Some(IPBlock {
            cidr: cidr.to_string(),
            except: None,
        }),
        ..Default::default()
    }
}

fn namespace_peer(name: &str) -> NetworkPolicyPeer {
    NetworkPolicyPeer {
        namespace_selector: Some(LabelSelector {
            match_labels: Some(BTreeMap::from([(
                "kubernetes.io/metadata.name".to_string(),
                name.to_string(),
            )])),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// The egress peers and port of a backend: its own address when the URL holds an IP, else the owner
/// system's networks for the contour, else any address (a NetworkPolicy cannot name a DNS host).
pub fn backend_egress(url: &str, owner_cidrs: &[String]) -> (Vec<String>, i32) {
    let parsed = url::Url::parse(url).ok();
    let port = parsed
        .as_ref()
        .and_then(|u| u.port_or_known_default())
        .map(i32::from)
        .unwrap_or(443);
    let host_ip = parsed.as_ref().and_then(|u| match u.host() {
        Some(url::Host::Ipv4(ip)) => Some(format!("{ip}/32")),
        Some(url::Host::Ipv6(ip)) => Some(format!("{ip}/128")),
        _ => None,
    });
    let mut cidrs: BTreeSet<String> = owner_cidrs
        .iter()
        .filter_map(|c| normalize_cidr(c))
        .collect();
    if let Some(ip) = host_ip {
        cidrs.insert(ip);
    }
    if cidrs.is_empty() {
        cidrs.insert("0.0.0.0/0".into());
        cidrs.insert("::/0".into());
    }
    (cidrs.into_iter().collect(), port)
}

/// NetworkPolicy `S-C`.
pub fn network_policy(
    key: &Key,
    svc: &IntegrationService,
    c: Contour,
    peers: &Peers,
    owner_cidrs: &[String],
    settings: &RenderSettings,
) -> NetworkPolicy {
    let name = route_name(&key.1, c);
    let mut ingress = Vec::new();
    let mut from: Vec<NetworkPolicyPeer> = peers.cidrs.iter().map(|c| ip_peer(c)).collect();
    from.extend(peers.namespace_selectors.iter().map(|s| NetworkPolicyPeer {
        namespace_selector: Some(s.clone()),
        ..Default::default()
    }));
    // An ingress rule with no peers would admit everyone: it is only written when there are peers.
    if !from.is_empty() {
        ingress.push(NetworkPolicyIngressRule {
            from: Some(from),
            ports: Some(vec![tcp(PORT)]),
        });
    }
    ingress.push(NetworkPolicyIngressRule {
        from: Some(vec![namespace_peer(&settings.metrics_namespace)]),
        ports: Some(vec![tcp(PORT)]),
    });
    let mut egress = Vec::new();
    if let Some(b) = svc.spec.backends.get(c) {
        let (cidrs, port) = backend_egress(&b.url, owner_cidrs);
        egress.push(NetworkPolicyEgressRule {
            to: Some(cidrs.iter().map(|c| ip_peer(c)).collect()),
            ports: Some(vec![tcp(port)]),
        });
    }
    let mut dns_ns = namespace_peer(&settings.dns_namespace);
    dns_ns.pod_selector = Some(LabelSelector {
        match_labels: Some(BTreeMap::from([(
            "k8s-app".to_string(),
            "kube-dns".to_string(),
        )])),
        ..Default::default()
    });
    egress.push(NetworkPolicyEgressRule {
        to: Some(vec![dns_ns]),
        ports: Some(vec![
            NetworkPolicyPort {
                port: Some(IntOrString::Int(53)),
                protocol: Some("UDP".into()),
                ..Default::default()
            },
            tcp(53),
        ]),
    });
    NetworkPolicy {
        metadata: ObjectMeta {
            name: Some(name.clone()),
            namespace: Some(key.0.clone()),
            labels: Some(labels(COMPONENT, &name, &key.1, c)),
            owner_references: owner_ref(svc),
            ..Default::default()
        },
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(LabelSelector {
                match_labels: Some(selector(&name)),
                ..Default::default()
            }),
            policy_types: Some(vec!["Ingress".into(), "Egress".into()]),
            ingress: Some(ingress),
            egress: Some(egress),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_egress_prefers_the_ip_and_owner_networks() {
        assert_eq!(
            backend_egress("https://10.20.0.5:8443/ws", &[]),
            (vec!["10.20.0.5/32".to_string()], 8443)
        );
        assert_eq!(
            backend_egress("http://backend.example:8080/x", &["10.1.0.7/16".into()]),
            (vec!["10.1.0.0/16".to_string()], 8080)
        );
        assert_eq!(
            backend_egress("https://backend.example/x", &[]),
            (vec!["0.0.0.0/0".to_string(), "::/0".to_string()], 443)
        );
    }

    #[test]
    fn cidrs_are_normalized() {
        assert_eq!(
            normalize_cidr("192.168.1.77/24").as_deref(),
            Some("192.168.1.0/24")
        );
        assert_eq!(
            normalize_cidr("2001:db8::1/64").as_deref(),
            Some("2001:db8::/64")
        );
        assert_eq!(normalize_cidr("nope"), None);
    }
}
