//! The bare HTTPS client: it trusts exactly the CAs it is given and follows no redirects. The
//! validator fetches discovery and JWKS with it, the probe reaches relying parties with it, and
//! the control API's client (`http::client`) is built on it.

use std::sync::Arc;
use std::time::Duration;

use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

use crate::error::{Error, ErrorKind, Result};

/// An HTTPS client trusting only the certificates in `ca_pems` (each a PEM bundle), never
/// following redirects, with a `timeout` per request.
pub fn https_client(ca_pems: &[&[u8]], timeout: Duration) -> Result<reqwest::Client> {
    let mut roots = rustls::RootCertStore::empty();
    for pem in ca_pems {
        for cert in CertificateDer::pem_slice_iter(pem) {
            let cert =
                cert.map_err(|e| Error::invalid("ca", format!("not a PEM certificate: {e}")))?;
            roots
                .add(cert)
                .map_err(|e| Error::invalid("ca", format!("unusable CA certificate: {e}")))?;
        }
    }
    if roots.is_empty() {
        return Err(Error::invalid("ca", "no CA certificate given"));
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(Error::crypto)?
        .with_root_certificates(roots)
        .with_no_client_auth();
    tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .user_agent(concat!("stepmint/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| ErrorKind::Server(format!("building an HTTPS client: {e}")).into())
}
