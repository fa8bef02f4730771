//! Reading the facts of a transport certificate (App.6) from its Secret: expiry and the subject's
//! serial number, which for NCA certificates carries the IIN/BIN (`IIN…`/`BIN…`).

use jiff::Timestamp;
use k8s_openapi::api::core::v1::Secret;

use crate::policy::suspension::CertificateFacts;

/// The default key of the certificate in its Secret.
pub const DEFAULT_KEY: &str = "tls.crt";

/// OID 2.5.4.5, the X.520 serialNumber attribute.
const SERIAL_NUMBER_OID: &str = "2.5.4.5";

/// Reads a PEM (or DER) certificate.
pub fn read(bytes: &[u8]) -> CertificateFacts {
    let der = if bytes.starts_with(b"-----") {
        match x509_parser::pem::parse_x509_pem(bytes) {
            Ok((_, pem)) => pem.contents,
            Err(e) => return CertificateFacts::Unreadable(format!("not a PEM certificate: {e}")),
        }
    } else {
        bytes.to_vec()
    };
    let cert = match x509_parser::parse_x509_certificate(&der) {
        Ok((_, c)) => c,
        Err(e) => return CertificateFacts::Unreadable(format!("not an X.509 certificate: {e}")),
    };
    let not_after = match Timestamp::from_second(cert.validity().not_after.timestamp()) {
        Ok(t) => t,
        Err(e) => {
            return CertificateFacts::Unreadable(format!("certificate expiry out of range: {e}"));
        }
    };
    let subject_serial = cert
        .subject()
        .iter_attributes()
        .find(|a| a.attr_type().to_id_string() == SERIAL_NUMBER_OID)
        .and_then(|a| a.as_str().ok().map(str::to_string));
    CertificateFacts::Read {
        not_after,
        subject_serial,
    }
}

/// Reads the certificate a Secret holds under `key`.
pub fn from_secret(secret: Option<&Secret>, name: &str, key: &str) -> CertificateFacts {
    let Some(secret) = secret else {
        return CertificateFacts::NotFound(format!(
            "Secret {name} with the transport certificate was not found"
        ));
    };
    if let Some(b) = secret.data.as_ref().and_then(|d| d.get(key)) {
        return read(&b.0);
    }
    if let Some(s) = secret.string_data.as_ref().and_then(|d| d.get(key)) {
        return read(s.as_bytes());
    }
    CertificateFacts::NotFound(format!("Secret {name} has no key {key}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn make(serial: &str, not_after: (i32, u8, u8)) -> String {
        let mut p = rcgen::CertificateParams::new(vec!["bank.example".into()]).unwrap();
        p.distinguished_name
            .push(rcgen::DnType::CommonName, "Bank IS");
        p.distinguished_name.push(
            rcgen::DnType::CustomDnType(vec![2, 5, 4, 5]),
            rcgen::DnValue::PrintableString(serial.try_into().unwrap()),
        );
        p.not_after = rcgen::date_time_ymd(not_after.0, not_after.1, not_after.2);
        let key = rcgen::KeyPair::generate().unwrap();
        p.self_signed(&key).unwrap().pem()
    }

    #[test]
    fn reads_expiry_and_subject_serial() {
        let pem = make("BIN990340001236", (2028, 1, 31));
        match read(pem.as_bytes()) {
            CertificateFacts::Read {
                not_after,
                subject_serial,
            } => {
                assert_eq!(not_after.to_string(), "2028-01-31T00:00:00Z");
                assert_eq!(subject_serial.as_deref(), Some("BIN990340001236"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn garbage_is_unreadable_not_a_panic() {
        assert!(matches!(
            read(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
            CertificateFacts::Unreadable(_)
        ));
        assert!(matches!(
            read(b"\x30\x03\x02\x01"),
            CertificateFacts::Unreadable(_)
        ));
        assert!(matches!(read(b""), CertificateFacts::Unreadable(_)));
    }
}
