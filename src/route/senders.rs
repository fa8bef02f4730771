//! Authentication of senders against `senders.yaml` (p.53.2: the operator issues a login and
//! password per connection and contour; DESIGN §4: "authenticate in constant time").
//!
//! The password's SHA-256 is computed for every message, whether or not the sender id is known, and
//! compared with [`subtle`]'s constant-time equality, so the time of a refusal says nothing about
//! which part was wrong.

use std::collections::HashMap;
use std::sync::Arc;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::config::SendersFile;
use super::fault::{ErrorCode, Refusal};
use super::soap::Password;
use crate::api::Contour;

/// A sender allowed in this contour.
#[derive(Debug)]
pub struct ActiveSender {
    /// The login.
    pub sender_id: Arc<str>,
    /// `namespace/name` of its ServiceConnection.
    pub connection: Arc<str>,
    digest: [u8; 32],
}

/// A sender of the service that may not send in this contour.
#[derive(Debug)]
struct InactiveSender {
    connection: String,
    reason: String,
}

/// The senders of one route, ready for lookups.
#[derive(Debug, Default)]
pub struct Senders {
    active: HashMap<String, ActiveSender>,
    inactive: HashMap<String, InactiveSender>,
}

/// A digest no password has (all ones), compared against when the sender id is unknown.
const NO_DIGEST: [u8; 32] = [0xff; 32];

impl Senders {
    /// Builds the lookup tables; refuses a file whose hashes are not 64 hex digits.
    pub fn from_file(f: &SendersFile) -> Result<Senders, String> {
        let mut active = HashMap::with_capacity(f.senders.len());
        for (i, s) in f.senders.iter().enumerate() {
            let mut digest = [0u8; 32];
            hex::decode_to_slice(&s.password_sha256, &mut digest).map_err(|e| {
                format!(
                    "senders[{i}].passwordSha256 of '{}': not 64 hex digits ({e})",
                    s.sender_id
                )
            })?;
            if active
                .insert(
                    s.sender_id.clone(),
                    ActiveSender {
                        sender_id: s.sender_id.as_str().into(),
                        connection: s.connection.as_str().into(),
                        digest,
                    },
                )
                .is_some()
            {
                return Err(format!(
                    "senders[{i}].senderId '{}' appears twice",
                    s.sender_id
                ));
            }
        }
        let inactive = f
            .inactive
            .iter()
            .filter(|s| !active.contains_key(&s.sender_id))
            .map(|s| {
                (
                    s.sender_id.clone(),
                    InactiveSender {
                        connection: s.connection.clone(),
                        reason: s.reason.clone(),
                    },
                )
            })
            .collect();
        Ok(Senders { active, inactive })
    }

    /// How many senders may send.
    pub fn len(&self) -> usize {
        self.active.len()
    }

    /// Whether none may.
    pub fn is_empty(&self) -> bool {
        self.active.is_empty()
    }

    /// The sender, if `sender_id` is allowed here and `password` is its password.
    pub fn authenticate(
        &self,
        sender_id: &str,
        password: Option<&Password>,
        contour: Contour,
    ) -> Result<&ActiveSender, Refusal> {
        let given: [u8; 32] =
            Sha256::digest(password.map(|p| p.0.as_bytes()).unwrap_or(b"")).into();
        let found = self.active.get(sender_id);
        let expected = found.map(|s| &s.digest).unwrap_or(&NO_DIGEST);
        let matches: bool = given.ct_eq(expected).into();
        match found {
            Some(s) if matches && password.is_some() => Ok(s),
            _ => Err(match self.inactive.get(sender_id) {
                Some(i) => Refusal::new(
                    ErrorCode::SenderNotActive,
                    format!(
                        "sender '{sender_id}' (connection {}) may not send in the {contour} contour: {}",
                        i.connection, i.reason
                    ),
                ),
                None if password.is_none() => Refusal::new(
                    ErrorCode::AuthenticationFailed,
                    "requestInfo/sender/password is required (p.53.2: the operator-issued login and password)",
                ),
                None => Refusal::new(
                    ErrorCode::AuthenticationFailed,
                    format!(
                        "sender '{}' is not known in the {contour} contour or the password does not match (p.53.2: use the login and password of your connection's {contour} credentials)",
                        super::soap::clip(sender_id)
                    ),
                ),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::route::config::{InactiveSender as Inactive, SenderEntry};

    fn senders() -> Senders {
        Senders::from_file(&SendersFile {
            senders: vec![SenderEntry {
                sender_id: "bank.conn".into(),
                password_sha256: hex::encode(Sha256::digest(b"right")),
                connection: "bank/conn".into(),
            }],
            inactive: vec![Inactive {
                sender_id: "other.conn".into(),
                connection: "other/conn".into(),
                reason: "suspended: SecurityProtocolRevoked".into(),
            }],
        })
        .unwrap()
    }

    #[test]
    fn only_the_right_password_of_an_active_sender_passes() {
        let s = senders();
        let pw = |p: &str| Some(Password(p.into()));
        let ok = s
            .authenticate("bank.conn", pw("right").as_ref(), Contour::Production)
            .unwrap();
        assert_eq!(&*ok.connection, "bank/conn");
        for (id, p) in [
            ("bank.conn", pw("wrong")),
            ("bank.conn", pw("")),
            ("nobody", pw("right")),
        ] {
            let e = s.authenticate(id, p.as_ref(), Contour::Test).unwrap_err();
            assert_eq!(e.code, ErrorCode::AuthenticationFailed, "{id}");
            assert!(!e.message.contains("right"));
        }
        let e = s
            .authenticate("bank.conn", None, Contour::Test)
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::AuthenticationFailed);
        let e = s
            .authenticate("other.conn", pw("x").as_ref(), Contour::Production)
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::SenderNotActive);
        assert!(e.message.contains("SecurityProtocolRevoked") && e.message.contains("production"));
    }

    #[test]
    fn bad_files_are_refused() {
        let mut f = SendersFile::default();
        f.senders.push(SenderEntry {
            sender_id: "a".into(),
            password_sha256: "zz".into(),
            connection: "x/y".into(),
        });
        assert!(
            Senders::from_file(&f)
                .unwrap_err()
                .contains("senders[0].passwordSha256")
        );
    }
}
