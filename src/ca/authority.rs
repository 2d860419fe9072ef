//! The local certificate authority and the TLS identity the issuer serves with.
//!
//! One CA ("Stepmint Local CA", ECDSA P-256, ten years) is created once per data directory and
//! reused forever, so relying parties keep trusting it across restarts. It is made with name
//! constraints for the names it serves (see `names`), so its key cannot vouch for other hosts.
//! The leaf certificate covers `localhost`, `127.0.0.1`, `::1` and any extra SANs; it is
//! reissued (by the same CA) when the SAN set changes, when it is within 30 days of expiry, or
//! when it was not signed by the CA on disk. Unreadable files are errors that name the file,
//! never silently replaced; so is a CA that cannot cover a new SAN (the error says how to make
//! one that does). A CA made before constraints is still used, with a warning saying how to
//! replace it: relying parties trust it, and only its owner can decide to change that.

use std::collections::BTreeSet;
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, PKCS_ECDSA_P256_SHA256, SerialNumber,
};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use time::{Duration, OffsetDateTime};
use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};

use super::names::{Permitted, ip_from_bytes, san_set};
use crate::error::{Error, Result};
use crate::store::{self, DataDir};

/// The CA's common name, as relying parties and trust stores will show it.
pub const CA_COMMON_NAME: &str = "Stepmint Local CA";

const CA_LIFETIME_DAYS: i64 = 3650;
const LEAF_LIFETIME_DAYS: i64 = 397;
const LEAF_RENEW_BEFORE_DAYS: i64 = 30;

/// The local CA: its certificate and signing key.
pub struct LocalCa {
    cert_pem: String,
    cert_der: CertificateDer<'static>,
    key: KeyPair,
    /// Its name constraints; `None` for a CA made before Stepmint added them.
    permitted: Option<Permitted>,
}

impl std::fmt::Debug for LocalCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalCa").finish_non_exhaustive()
    }
}

/// The certificate chain and key the HTTPS listener presents.
pub struct TlsIdentity {
    /// Leaf first, then the CA.
    pub chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    /// The names the leaf covers.
    pub sans: Vec<String>,
}

impl std::fmt::Debug for TlsIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsIdentity")
            .field("sans", &self.sans)
            .finish_non_exhaustive()
    }
}

impl LocalCa {
    /// The CA certificate, PEM.
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// The CA certificate, DER.
    pub fn cert_der(&self) -> &CertificateDer<'static> {
        &self.cert_der
    }

    /// Loads the CA from `dir`, creating it if neither file exists. A new CA may vouch for
    /// `localhost`, the loopback addresses and `sans` only (its name constraints).
    ///
    /// The caller should hold the directory lock.
    pub fn load_or_create(dir: &DataDir, sans: &[String], now: i64) -> Result<LocalCa> {
        let cert_path = dir.ca_cert();
        let key_path = dir.ca_key();
        let cert = store::read_optional_text(&cert_path)?;
        let key = store::read_optional_text(&key_path)?;
        let permitted = || san_set(sans).map(|s| Permitted::for_sans(&s));
        match (cert, key) {
            (Some(cert_pem), Some(key_pem)) => Self::load(dir, cert_pem, &key_pem, now),
            (None, None) => {
                let permitted = permitted()?;
                let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(Error::crypto)?;
                // The key first: a crash before the certificate is written leaves the case
                // below, which finishes the job, never a certificate without its key.
                store::write_atomic(&key_path, key.serialize_pem().as_bytes())?;
                let ca = Self::certify(key, now, CA_COMMON_NAME, Some(permitted))?;
                store::write_atomic(&cert_path, ca.cert_pem.as_bytes())?;
                Ok(ca)
            }
            (None, Some(key_pem)) => {
                // Creation stopped between the two writes (or the certificate was deleted):
                // certify the key that is there rather than refuse to start or replace it.
                let permitted = permitted()?;
                let key = KeyPair::from_pem(&key_pem).map_err(|e| {
                    Error::corrupt(&key_path, format!("not a usable private key: {e}"))
                })?;
                let ca = Self::certify(key, now, CA_COMMON_NAME, Some(permitted))?;
                store::write_atomic(&cert_path, ca.cert_pem.as_bytes())?;
                Ok(ca)
            }
            (Some(_), None) => Err(Error::corrupt(
                &cert_path,
                format!("its private key {} is missing", key_path.display()),
            )),
        }
    }

    fn create_named(now: i64, common_name: &str) -> Result<LocalCa> {
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(Error::crypto)?;
        Self::certify(key, now, common_name, None)
    }

    /// A self-signed CA certificate for `key`, limited to `permitted` names when given.
    fn certify(
        key: KeyPair,
        now: i64,
        common_name: &str,
        permitted: Option<Permitted>,
    ) -> Result<LocalCa> {
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, common_name);
        dn.push(DnType::OrganizationName, "Stepmint");
        params.distinguished_name = dn;
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        params.name_constraints = permitted.as_ref().map(Permitted::to_rcgen);
        params.serial_number = Some(random_serial()?);
        let start = datetime(now)?;
        params.not_before = start - Duration::days(1);
        params.not_after = start
            .checked_add(Duration::days(CA_LIFETIME_DAYS))
            .ok_or_else(|| Error::invalid("now", "the CA's validity would end past year 9999"))?;
        let cert = params.self_signed(&key).map_err(Error::crypto)?;
        Ok(LocalCa {
            cert_pem: cert.pem(),
            cert_der: cert.der().clone(),
            key,
            permitted,
        })
    }

    fn load(dir: &DataDir, cert_pem: String, key_pem: &str, now: i64) -> Result<LocalCa> {
        let cert_path = dir.ca_cert();
        let cert_der = CertificateDer::from_pem_slice(cert_pem.as_bytes())
            .map_err(|e| Error::corrupt(&cert_path, format!("no PEM certificate: {e}")))?;
        let key = KeyPair::from_pem(key_pem)
            .map_err(|e| Error::corrupt(dir.ca_key(), format!("not a usable private key: {e}")))?;
        let (_, x509) = X509Certificate::from_der(&cert_der)
            .map_err(|e| Error::corrupt(&cert_path, format!("not an X.509 certificate: {e}")))?;
        if x509.public_key().subject_public_key.data.as_ref() != key.public_key_raw() {
            return Err(Error::corrupt(
                &cert_path,
                format!("it does not match the key in {}", dir.ca_key().display()),
            ));
        }
        if x509.validity().not_after.timestamp() <= now {
            return Err(Error::corrupt(
                &cert_path,
                "the CA certificate has expired; remove the ca/ directory to create a new CA \
                 (relying parties must then trust the new one)",
            ));
        }
        let permitted = Permitted::of(&x509).map_err(|e| Error::corrupt(&cert_path, e))?;
        Ok(LocalCa {
            cert_pem,
            cert_der,
            key,
            permitted,
        })
    }

    /// The names this CA may vouch for; `None` when it has no name constraints.
    pub fn permitted(&self) -> Option<&Permitted> {
        self.permitted.as_ref()
    }

    /// For a CA without name constraints (made by an earlier Stepmint): what that means and how
    /// to replace it. Such a CA is still used: relying parties trust it, and replacing it is
    /// for its owner to decide.
    pub fn unconstrained_warning(&self, dir: &DataDir) -> Option<String> {
        if self.permitted.is_some() {
            return None;
        }
        let ca_dir = ca_dir(dir);
        Some(format!(
            "the local CA in {} has no name constraints (an earlier Stepmint made it): its key \
             can vouch for any host to whatever trusts it (ca/bundle.pem, which `stepmint ca \
             env` hands to curl, Python, OpenSSL and the AWS SDKs). To replace it with a CA \
             limited to localhost, loopback and your --san names: stop Stepmint, `mv {ca_dir} \
             {ca_dir}.old`, start it again with the same --san flags, then trust the new CA \
             (`eval \"$(stepmint ca env)\"`)",
            ca_dir
        ))
    }

    /// A CA that lives only in memory (for the untrusted-CA fault).
    pub fn throwaway(now: i64) -> Result<LocalCa> {
        // Another name too: a CA named like ours would be tried against our key (BadSignature)
        // instead of being unknown.
        Self::create_named(now, "Stepmint Untrusted Test CA")
    }

    /// A leaf for `names` with the given validity, in memory only (for TLS faults).
    pub fn custom_leaf(
        &self,
        names: &[&str],
        not_before: i64,
        not_after: i64,
    ) -> Result<TlsIdentity> {
        let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
        Ok(self.sign_leaf(names, not_before, not_after)?.0)
    }

    /// Issues a server leaf for `names`, valid from `not_before` to `not_after`; also returns
    /// its key and certificate as PEM for persisting.
    fn sign_leaf(
        &self,
        names: Vec<String>,
        not_before: i64,
        not_after: i64,
    ) -> Result<(TlsIdentity, String, String)> {
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(Error::crypto)?;
        let mut params = CertificateParams::new(names.clone())
            .map_err(|e| Error::invalid("san", format!("{e}")))?;
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, "Stepmint issuer");
        dn.push(DnType::OrganizationName, "Stepmint");
        params.distinguished_name = dn;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        params.serial_number = Some(random_serial()?);
        params.not_before = datetime(not_before)?;
        params.not_after = datetime(not_after)?;
        let issuer = Issuer::from_ca_cert_der(&self.cert_der, &self.key).map_err(Error::crypto)?;
        let cert = params.signed_by(&key, &issuer).map_err(Error::crypto)?;
        let key_der = PrivateKeyDer::try_from(key.serialize_der())
            .map_err(|e| Error::crypto(format!("leaf key: {e}")))?;
        let identity = TlsIdentity {
            chain: vec![cert.der().clone(), self.cert_der.clone()],
            key: key_der,
            sans: names,
        };
        Ok((
            identity,
            key.serialize_pem(),
            format!("{}{}", cert.pem(), self.cert_pem),
        ))
    }

    /// Loads the TLS leaf from `dir`, (re)issuing it when it does not fit `extra_sans` or `now`.
    ///
    /// The caller should hold the directory lock.
    pub fn leaf(&self, dir: &DataDir, extra_sans: &[String], now: i64) -> Result<TlsIdentity> {
        let sans = san_set(extra_sans)?;
        self.check_covers(dir, &sans)?;
        let cert_path = dir.leaf_cert();
        let key_path = dir.leaf_key();
        let cert = store::read_optional(&cert_path)?;
        let key = store::read_optional(&key_path)?;
        if let (Some(cert), Some(key)) = (&cert, &key) {
            let leaf_der = CertificateDer::from_pem_slice(cert)
                .map_err(|e| Error::corrupt(&cert_path, format!("no PEM certificate: {e}")))?;
            let key_der = PrivateKeyDer::from_pem_slice(key)
                .map_err(|e| Error::corrupt(&key_path, format!("no PEM private key: {e}")))?;
            if self.leaf_still_fits(&leaf_der, &sans, now, &cert_path)?
                && leaf_key_matches(&leaf_der, key)
            {
                return Ok(TlsIdentity {
                    chain: vec![leaf_der, self.cert_der.clone()],
                    key: key_der,
                    sans: sans.into_iter().collect(),
                });
            }
        }
        self.issue_leaf(dir, sans, now)
    }

    fn leaf_still_fits(
        &self,
        leaf_der: &CertificateDer<'_>,
        wanted: &BTreeSet<String>,
        now: i64,
        path: &std::path::Path,
    ) -> Result<bool> {
        let (_, leaf) = X509Certificate::from_der(leaf_der)
            .map_err(|e| Error::corrupt(path, format!("not an X.509 certificate: {e}")))?;
        let (_, ca) = X509Certificate::from_der(&self.cert_der)
            .map_err(|e| Error::corrupt(path, format!("CA certificate unreadable: {e}")))?;
        if leaf.verify_signature(Some(ca.public_key())).is_err() {
            return Ok(false);
        }
        let validity = leaf.validity();
        if validity.not_before.timestamp() > now
            || validity.not_after.timestamp() <= now + LEAF_RENEW_BEFORE_DAYS * 86_400
        {
            return Ok(false);
        }
        let mut present = BTreeSet::new();
        if let Ok(Some(ext)) = leaf.subject_alternative_name() {
            for name in &ext.value.general_names {
                match name {
                    GeneralName::DNSName(d) => {
                        present.insert(d.to_ascii_lowercase());
                    }
                    GeneralName::IPAddress(bytes) => {
                        if let Some(ip) = ip_from_bytes(bytes) {
                            present.insert(ip.to_string());
                        }
                    }
                    _ => {}
                }
            }
        }
        Ok(&present == wanted)
    }

    /// Refuses names this CA's constraints leave out: a leaf for them would be refused by every
    /// relying party, and the CA is never replaced behind its owner's back.
    fn check_covers(&self, dir: &DataDir, sans: &BTreeSet<String>) -> Result<()> {
        let Some(permitted) = &self.permitted else {
            return Ok(());
        };
        let outside: Vec<&str> = sans
            .iter()
            .filter(|n| !permitted.covers(n))
            .map(String::as_str)
            .collect();
        if outside.is_empty() {
            return Ok(());
        }
        let ca_dir = ca_dir(dir);
        Err(Error::invalid(
            "san",
            format!(
                "{} is outside what the local CA in {ca_dir} may vouch for ({}; fixed when it \
                 was made), so relying parties would refuse a certificate for it. To serve it, \
                 make a new CA that covers it: stop Stepmint, `mv {ca_dir} {ca_dir}.old`, start \
                 again with the same --san flags, then trust the new CA (`eval \"$(stepmint ca \
                 env)\"`)",
                outside.join(", "),
                permitted.describe()
            ),
        ))
    }

    // Written key first, then certificate: a crash between the two leaves a new key beside the
    // old certificate, which `leaf_key_matches` catches and the next start reissues.
    fn issue_leaf(&self, dir: &DataDir, sans: BTreeSet<String>, now: i64) -> Result<TlsIdentity> {
        let (identity, key_pem, chain_pem) = self.sign_leaf(
            sans.into_iter().collect(),
            now - 86_400,
            now + LEAF_LIFETIME_DAYS * 86_400,
        )?;
        store::write_atomic(&dir.leaf_key(), key_pem.as_bytes())?;
        store::write_atomic(&dir.leaf_cert(), chain_pem.as_bytes())?;
        Ok(identity)
    }
}

impl TlsIdentity {
    /// A rustls server configuration (TLS 1.2 and 1.3, ALPN `h2` and `http/1.1`).
    pub fn server_config(&self) -> Result<Arc<rustls::ServerConfig>> {
        self.server_config_with(rustls::DEFAULT_VERSIONS)
    }

    /// A rustls server configuration offering only `versions`.
    pub fn server_config_with(
        &self,
        versions: &[&'static rustls::SupportedProtocolVersion],
    ) -> Result<Arc<rustls::ServerConfig>> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(versions)
            .map_err(Error::crypto)?
            .with_no_client_auth()
            .with_single_cert(self.chain.clone(), self.key.clone_key())
            .map_err(Error::crypto)?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}

/// Whether the leaf key file holds the private half of the leaf certificate's public key.
fn leaf_key_matches(leaf_der: &CertificateDer<'_>, key_pem: &[u8]) -> bool {
    let Some(key) = std::str::from_utf8(key_pem)
        .ok()
        .and_then(|pem| KeyPair::from_pem(pem).ok())
    else {
        return false;
    };
    X509Certificate::from_der(leaf_der).is_ok_and(|(_, cert)| {
        cert.public_key().subject_public_key.data.as_ref() == key.public_key_raw()
    })
}

/// The CA's directory, shell-quoted for the commands in messages.
fn ca_dir(dir: &DataDir) -> String {
    let path = dir.ca_cert();
    let parent = path.parent().unwrap_or(dir.root());
    crate::encoding::shell_quote(&parent.display().to_string())
}

fn random_serial() -> Result<SerialNumber> {
    let mut bytes = [0u8; 16];
    aws_lc_rs::rand::fill(&mut bytes).map_err(|_| Error::crypto("no randomness for a serial"))?;
    bytes[0] &= 0x7f; // a positive INTEGER
    Ok(SerialNumber::from_slice(&bytes))
}

fn datetime(unix: i64) -> Result<OffsetDateTime> {
    // Checked before any certificate arithmetic: outside it the DER encoder cannot write a time.
    let lo = *crate::clock::NOW_RANGE.start() - 86_400;
    let hi = *crate::clock::NOW_RANGE.end() + (CA_LIFETIME_DAYS + 1) * 86_400;
    if !(lo..=hi).contains(&unix) {
        return Err(Error::invalid(
            "now",
            format!(
                "{unix} is outside 1970-01-01..2100-01-01, the times certificates are made for"
            ),
        ));
    }
    OffsetDateTime::from_unix_timestamp(unix).map_err(|e| Error::invalid("now", e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;

    #[test]
    fn ca_and_leaf_are_reused_and_reissued_on_san_change() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = DataDir::open(tmp.path()).unwrap();
        let api = vec!["api.bitbucket.org".to_string()];
        let ca = LocalCa::load_or_create(&dir, &api, NOW).unwrap();
        let again = LocalCa::load_or_create(&dir, &[], NOW).unwrap();
        assert_eq!(ca.cert_der(), again.cert_der());

        let leaf = ca.leaf(&dir, &[], NOW).unwrap();
        let same = ca.leaf(&dir, &[], NOW + 10).unwrap();
        assert_eq!(leaf.chain[0], same.chain[0]);
        let more = ca.leaf(&dir, &["api.bitbucket.org".into()], NOW).unwrap();
        assert_ne!(leaf.chain[0], more.chain[0]);
        assert!(more.sans.contains(&"api.bitbucket.org".to_string()));
        // Near expiry the leaf is renewed.
        let later = ca
            .leaf(&dir, &["api.bitbucket.org".into()], NOW + 380 * 86_400)
            .unwrap();
        assert_ne!(more.chain[0], later.chain[0]);
    }

    #[test]
    fn corrupt_ca_key_is_an_error_naming_the_file() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = DataDir::open(tmp.path()).unwrap();
        LocalCa::load_or_create(&dir, &[], NOW).unwrap();
        std::fs::write(dir.ca_key(), "garbage").unwrap();
        let err = LocalCa::load_or_create(&dir, &[], NOW).unwrap_err();
        assert!(err.to_string().contains("ca-key.pem"), "{err}");
        assert_eq!(std::fs::read_to_string(dir.ca_key()).unwrap(), "garbage");
    }

    #[test]
    fn a_crash_between_the_ca_writes_is_finished_not_fatal() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = DataDir::open(tmp.path()).unwrap();
        let first = LocalCa::load_or_create(&dir, &[], NOW).unwrap();
        let key = std::fs::read_to_string(dir.ca_key()).unwrap();
        // As if killed after the key was written and before the certificate.
        std::fs::remove_file(dir.ca_cert()).unwrap();
        let ca = LocalCa::load_or_create(&dir, &[], NOW).unwrap();
        assert_eq!(std::fs::read_to_string(dir.ca_key()).unwrap(), key);
        assert_eq!(ca.key.public_key_raw(), first.key.public_key_raw());
        let again = LocalCa::load_or_create(&dir, &[], NOW).unwrap();
        assert_eq!(again.cert_der(), ca.cert_der());
        // A certificate without its key is not guessed at.
        std::fs::remove_file(dir.ca_key()).unwrap();
        let err = LocalCa::load_or_create(&dir, &[], NOW).unwrap_err();
        assert!(err.to_string().contains("ca.pem"), "{err}");
    }

    #[test]
    fn a_leaf_key_that_does_not_match_its_certificate_is_reissued() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = DataDir::open(tmp.path()).unwrap();
        let ca = LocalCa::load_or_create(&dir, &[], NOW).unwrap();
        let leaf = ca.leaf(&dir, &[], NOW).unwrap();
        // As if killed after a reissue wrote its new key and before its certificate.
        let other = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
        std::fs::write(dir.leaf_key(), other.serialize_pem()).unwrap();
        let fixed = ca.leaf(&dir, &[], NOW).unwrap();
        assert_ne!(fixed.chain[0], leaf.chain[0]);
        let on_disk = std::fs::read(dir.leaf_cert()).unwrap();
        let cert = CertificateDer::from_pem_slice(&on_disk).unwrap();
        assert_eq!(cert, fixed.chain[0]);
        assert!(leaf_key_matches(
            &cert,
            &std::fs::read(dir.leaf_key()).unwrap()
        ));
        // And the pair serves TLS.
        fixed.server_config().unwrap();
    }
}
