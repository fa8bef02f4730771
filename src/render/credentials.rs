//! The login and password the operator issues to each connection per contour (p.53.2: authorization
//! by operator-issued login and password). Generated once, kept across reconciles, rotated when
//! `spec.credentialsRotation` changes.

use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use kube::api::ObjectMeta;
use sha2::{Digest, Sha256};

use super::{LABEL_CONNECTION, labels, name_with_suffix, owner_ref};
use crate::api::{Contour, ServiceConnection};
use crate::snapshot::Key;

/// Annotation that records which `spec.credentialsRotation` a password was issued for.
pub const ROTATION_ANNOTATION: &str = "integration.egov.kz/credentials-rotation";
/// Component label of credential Secrets.
pub const COMPONENT: &str = "shep-credentials";

/// An issued credential.
#[derive(Clone, PartialEq, Eq)]
pub struct Credential {
    /// The login.
    pub sender_id: String,
    /// The password (never logged: `Debug` hides it).
    pub password: String,
    /// The rotation it was issued for.
    pub rotation: i64,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("sender_id", &self.sender_id)
            .field("password", &"<redacted>")
            .field("rotation", &self.rotation)
            .finish()
    }
}

/// The name of the credential Secret of a connection in a contour: `<connection>-<contour>-credentials`.
pub fn secret_name(connection: &str, c: Contour) -> String {
    name_with_suffix(connection, &format!("{}-credentials", c.as_str()))
}

/// 32 characters from [A-Za-z0-9] (about 190 bits), from the operating system's random source.
pub fn generate_password() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut out = String::with_capacity(32);
    let mut buf = [0u8; 64];
    while out.len() < 32 {
        if getrandom::fill(&mut buf).is_err() {
            // No entropy source is a broken host; fail loudly rather than issue a weak password.
            panic!("the operating system's random source is unavailable");
        }
        for b in buf {
            // Rejection sampling keeps the distribution uniform (62 * 4 = 248).
            if b < 248 && out.len() < 32 {
                out.push(ALPHABET[(b % 62) as usize] as char);
            }
        }
    }
    out
}

/// Hex SHA-256 of a password, as the senders file holds it.
pub fn password_sha256(password: &str) -> String {
    hex::encode(Sha256::digest(password.as_bytes()))
}

fn get(secret: &Secret, key: &str) -> Option<String> {
    if let Some(b) = secret.data.as_ref().and_then(|d| d.get(key)) {
        return String::from_utf8(b.0.clone()).ok();
    }
    secret
        .string_data
        .as_ref()
        .and_then(|d| d.get(key))
        .cloned()
}

/// The credential an existing Secret holds, if it is complete.
pub fn from_secret(secret: &Secret) -> Option<Credential> {
    let sender_id = get(secret, "senderId")?;
    let password = get(secret, "password").filter(|p| !p.is_empty())?;
    let rotation = secret
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(ROTATION_ANNOTATION))
        .and_then(|r| r.parse().ok())
        .unwrap_or(0);
    Some(Credential {
        sender_id,
        password,
        rotation,
    })
}

/// The credential for a connection in a contour: the existing one when it matches the sender id
/// and rotation, otherwise a new one.
pub fn resolve(sender_id: &str, rotation: i64, existing: Option<&Secret>) -> Credential {
    if let Some(c) = existing.and_then(from_secret)
        && c.sender_id == sender_id
        && c.rotation == rotation
    {
        return c;
    }
    Credential {
        sender_id: sender_id.to_string(),
        password: generate_password(),
        rotation,
    }
}

/// The credential Secret in the initiator's namespace, owned by the connection.
pub fn secret(
    conn: &ServiceConnection,
    key: &Key,
    service: &str,
    c: Contour,
    cred: &Credential,
    endpoint: &str,
) -> Secret {
    let name = secret_name(&key.1, c);
    let mut l = labels(COMPONENT, &name, service, c);
    l.insert(
        LABEL_CONNECTION.to_string(),
        super::name_with_suffix(&key.1, ""),
    );
    Secret {
        metadata: ObjectMeta {
            name: Some(name),
            namespace: Some(key.0.clone()),
            labels: Some(l),
            annotations: Some(BTreeMap::from([(
                ROTATION_ANNOTATION.to_string(),
                cred.rotation.to_string(),
            )])),
            owner_references: owner_ref(conn),
            ..Default::default()
        },
        type_: Some("Opaque".into()),
        data: Some(BTreeMap::from([
            (
                "senderId".to_string(),
                ByteString(cred.sender_id.clone().into_bytes()),
            ),
            (
                "password".to_string(),
                ByteString(cred.password.clone().into_bytes()),
            ),
            (
                "endpoint".to_string(),
                ByteString(endpoint.as_bytes().to_vec()),
            ),
        ])),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_long_random_and_alphanumeric() {
        let a = generate_password();
        let b = generate_password();
        assert_eq!(a.len(), 32);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, b);
    }

    #[test]
    fn existing_credentials_are_kept_until_rotation() {
        let cred = resolve("ns.conn", 0, None);
        let conn = ServiceConnection::new("conn", serde_json::from_value(serde_json::json!({
            "serviceRef": {"name": "s"}, "systemRef": {"name": "x"}, "basis": {"document": "law"}
        })).unwrap());
        let s = secret(
            &conn,
            &("ns".into(), "conn".into()),
            "s",
            Contour::Test,
            &cred,
            "http://x",
        );
        let again = resolve("ns.conn", 0, Some(&s));
        assert_eq!(again.password, cred.password);
        let rotated = resolve("ns.conn", 1, Some(&s));
        assert_ne!(rotated.password, cred.password);
        assert_eq!(rotated.rotation, 1);
        assert!(!format!("{cred:?}").contains(&cred.password));
    }
}
