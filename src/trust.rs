//! Making clients trust the local CA: the CA bundle and the shell lines for common runtimes.
//!
//! Node's `NODE_EXTRA_CA_CERTS` adds to its roots, so it gets the CA alone. Python `requests`,
//! OpenSSL (`SSL_CERT_FILE`), curl and the AWS SDKs *replace* their roots with the file they are
//! given, so they get a bundle of the system roots plus our CA and other HTTPS keeps working.

use std::path::{Path, PathBuf};

use crate::encoding::shell_quote;
use crate::error::Result;
use crate::store::{self, DataDir};

/// Where Debian, Fedora and macOS-with-OpenSSL keep their system roots.
const SYSTEM_ROOTS: [&str; 4] = [
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/cert.pem",
    "/usr/local/etc/openssl/cert.pem",
];

/// Writes `ca/bundle.pem` (system roots, then our CA) if it differs, and returns its path.
pub fn write_bundle(data: &DataDir, ca_pem: &str) -> Result<PathBuf> {
    let path = data.ca_bundle();
    let mut bundle = SYSTEM_ROOTS
        .iter()
        .find_map(|p| std::fs::read_to_string(p).ok())
        .unwrap_or_default();
    if !bundle.is_empty() && !bundle.ends_with('\n') {
        bundle.push('\n');
    }
    bundle.push_str(ca_pem);
    if store::read_optional(&path)?.as_deref() != Some(bundle.as_bytes()) {
        store::write_atomic(&path, bundle.as_bytes())?;
    }
    Ok(path)
}

/// Environment variables that make common clients trust the CA, as (name, value) pairs.
pub fn env_vars(ca: &Path, bundle: &Path) -> Vec<(&'static str, String)> {
    let ca = ca.display().to_string();
    let bundle = bundle.display().to_string();
    vec![
        ("NODE_EXTRA_CA_CERTS", ca),
        ("REQUESTS_CA_BUNDLE", bundle.clone()),
        ("SSL_CERT_FILE", bundle.clone()),
        ("CURL_CA_BUNDLE", bundle.clone()),
        ("AWS_CA_BUNDLE", bundle),
    ]
}

/// The same as `export` lines for a POSIX shell.
pub fn shell_exports(ca: &Path, bundle: &Path) -> String {
    env_vars(ca, bundle)
        .into_iter()
        .map(|(k, v)| format!("export {k}={}\n", shell_quote(&v)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(shell_quote("/a/b.pem"), "/a/b.pem");
        assert_eq!(shell_quote("/my dir/it's"), r"'/my dir/it'\''s'");
    }

    #[test]
    fn bundle_ends_with_ca_and_is_rewritten_only_on_change() {
        let tmp = tempfile::tempdir().unwrap();
        let data = DataDir::open(tmp.path()).unwrap();
        let p = write_bundle(&data, "CA-PEM\n").unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(text.ends_with("CA-PEM\n"));
        // Atomic writes rename a new file into place: a rewrite shows as a new inode.
        use std::os::unix::fs::MetadataExt;
        let inode = std::fs::metadata(&p).unwrap().ino();
        write_bundle(&data, "CA-PEM\n").unwrap();
        assert_eq!(
            inode,
            std::fs::metadata(&p).unwrap().ino(),
            "unchanged: kept"
        );
        write_bundle(&data, "OTHER-CA\n").unwrap();
        assert_ne!(
            inode,
            std::fs::metadata(&p).unwrap().ino(),
            "changed: rewritten"
        );
        assert!(std::fs::read_to_string(&p).unwrap().ends_with("OTHER-CA\n"));
    }
}
