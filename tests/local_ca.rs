//! The local CA and its data directory: name constraints that keep a stolen CA key from
//! vouching for other hosts (checked by rustls/webpki and by OpenSSL), what happens to a CA made
//! before them and to a later `--san` outside them, data directories open to others, and a real
//! Chromium trusting the issuer once `ca install-browser` put the CA in its NSS database.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use rustls::client::danger::ServerCertVerifier;
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use stepmint::{DataDir, IdSource, Instance, LocalCa, SystemClock};

use crate::util;

const NOW: i64 = 1_800_000_000;
const DAY: i64 = 86_400;

/// Whether a rustls client trusting only `ca` accepts `leaf` for `name` at `NOW`; the error
/// otherwise.
fn webpki(ca: &LocalCa, leaf: &CertificateDer<'static>, name: &str) -> Result<(), String> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca.cert_der().clone()).unwrap();
    let verifier =
        rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
            .build()
            .unwrap();
    let now = UnixTime::since_unix_epoch(Duration::from_secs(NOW as u64 + 60));
    verifier
        .verify_server_cert(
            leaf,
            &[],
            &ServerName::try_from(name.to_string()).unwrap(),
            &[],
            now,
        )
        .map(|_| ())
        .map_err(|e| format!("{e:?}"))
}

fn pem(der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        lines.join("\n")
    )
}

/// `openssl verify` of `leaf` against `ca` for `host` (or `ip`) at `NOW`: its output, and
/// whether it verified.
fn openssl(dir: &Path, ca: &LocalCa, leaf: &CertificateDer<'static>, name: &str) -> (bool, String) {
    let ca_file = dir.join("ca-only.pem");
    let leaf_file = dir.join("leaf-under-test.pem");
    std::fs::write(&ca_file, ca.cert_pem()).unwrap();
    std::fs::write(&leaf_file, pem(leaf)).unwrap();
    let check = if name.parse::<std::net::IpAddr>().is_ok() {
        "-verify_ip"
    } else {
        "-verify_hostname"
    };
    let out = Command::new("openssl")
        .arg("verify")
        .args(["-attime", &(NOW + 60).to_string(), check, name, "-CAfile"])
        .arg(&ca_file)
        .arg(&leaf_file)
        .output()
        .expect("openssl runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn a_stolen_ca_key_cannot_vouch_for_other_hosts() {
    let tmp = util::data_dir();
    let dir = DataDir::open(tmp.path()).unwrap();
    let sans = vec!["api.bitbucket.org".to_string(), "192.0.2.7".to_string()];
    let ca = LocalCa::load_or_create(&dir, &sans, NOW).unwrap();
    assert_eq!(
        ca.permitted().unwrap().describe(),
        "localhost, api.bitbucket.org, 127.0.0.0/8, ::1/128, 192.0.2.7/32"
    );
    // The leaf Stepmint serves is accepted for every name it covers.
    let served = ca.leaf(&dir, &sans, NOW).unwrap();
    for name in [
        "localhost",
        "127.0.0.1",
        "::1",
        "api.bitbucket.org",
        "192.0.2.7",
    ] {
        webpki(&ca, &served.chain[0], name).unwrap_or_else(|e| panic!("{name}: {e}"));
        let (ok, text) = openssl(tmp.path(), &ca, &served.chain[0], name);
        assert!(ok, "{name}: {text}");
    }
    // Whoever holds the CA key can sign a leaf for any name; clients refuse it all the same.
    for name in ["example.com", "bitbucket.org", "8.8.8.8", "10.0.0.1"] {
        let forged = ca.custom_leaf(&[name], NOW - DAY, NOW + 30 * DAY).unwrap();
        let err = webpki(&ca, &forged.chain[0], name).unwrap_err();
        assert!(err.contains("NameConstraint"), "{name}: {err}");
        let (ok, text) = openssl(tmp.path(), &ca, &forged.chain[0], name);
        assert!(!ok, "openssl accepted a leaf for {name}: {text}");
        assert!(
            text.contains("permitted subtree violation"),
            "{name}: {text}"
        );
    }
    // A leaf naming localhost and another host is refused as a whole.
    let mixed = ca
        .custom_leaf(&["localhost", "example.com"], NOW - DAY, NOW + 30 * DAY)
        .unwrap();
    assert!(webpki(&ca, &mixed.chain[0], "localhost").is_err());
}

#[test]
fn a_san_outside_the_ca_is_refused_with_the_fix_and_nothing_is_replaced() {
    let tmp = util::data_dir();
    let dir = DataDir::open(tmp.path()).unwrap();
    let ca = LocalCa::load_or_create(&dir, &[], NOW).unwrap();
    ca.leaf(&dir, &[], NOW).unwrap();
    let files = [dir.ca_cert(), dir.ca_key(), dir.leaf_cert(), dir.leaf_key()];
    let before: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).unwrap()).collect();
    let err = ca
        .leaf(&dir, &["api.bitbucket.org".into()], NOW)
        .unwrap_err()
        .to_string();
    let ca_dir = tmp.path().join("ca").display().to_string();
    assert!(err.contains("api.bitbucket.org is outside"), "{err}");
    assert!(err.contains(&format!("mv {ca_dir} {ca_dir}.old")), "{err}");
    assert!(err.contains("localhost, 127.0.0.0/8, ::1/128"), "{err}");
    let after: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).unwrap()).collect();
    assert_eq!(before, after, "a file was replaced");
    // Names the CA covers are still fine, including new ones under localhost.
    ca.leaf(&dir, &["app.localhost".into(), "127.0.0.2".into()], NOW)
        .unwrap();
    // The fix the message gives works: a CA moved aside is made again for the new names.
    std::fs::rename(tmp.path().join("ca"), tmp.path().join("ca.old")).unwrap();
    let api = vec!["api.bitbucket.org".to_string()];
    let new = LocalCa::load_or_create(&dir, &api, NOW).unwrap();
    let leaf = new.leaf(&dir, &api, NOW).unwrap();
    webpki(&new, &leaf.chain[0], "api.bitbucket.org").unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_with_a_san_outside_its_ca_says_how_to_fix_it() {
    let tmp = util::data_dir();
    let dir = DataDir::open(tmp.path()).unwrap();
    {
        let _lock = dir.lock().unwrap();
        LocalCa::load_or_create(&dir, &[], NOW).unwrap();
    }
    let mut config = util::config(tmp.path(), &[]);
    config.sans = vec!["api.bitbucket.org".into()];
    let err = Instance::start(config, Arc::new(SystemClock), Arc::new(IdSource::random()))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("api.bitbucket.org is outside"), "{err}");
    assert!(err.contains("mv "), "{err}");
}

/// Writes a CA without name constraints, as Stepmint made them before.
fn plant_unconstrained_ca(dir: &DataDir) {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let mut params = rcgen::CertificateParams::default();
    let mut dn = rcgen::DistinguishedName::new();
    dn.push(rcgen::DnType::CommonName, stepmint::CA_COMMON_NAME);
    params.distinguished_name = dn;
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Constrained(0));
    params.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::DigitalSignature,
    ];
    let cert = params.self_signed(&key).unwrap();
    stepmint::write_atomic(&dir.ca_key(), key.serialize_pem().as_bytes()).unwrap();
    stepmint::write_atomic(&dir.ca_cert(), cert.pem().as_bytes()).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ca_made_before_constraints_is_kept_with_a_warning() {
    let tmp = util::data_dir();
    let dir = DataDir::open(tmp.path()).unwrap();
    plant_unconstrained_ca(&dir);
    let planted = std::fs::read(dir.ca_cert()).unwrap();
    let mut config = util::config(tmp.path(), &[]);
    config.sans = vec!["anything.example".into()];
    let instance = Instance::start(config, Arc::new(SystemClock), Arc::new(IdSource::random()))
        .await
        .unwrap();
    assert_eq!(std::fs::read(dir.ca_cert()).unwrap(), planted, "replaced");
    let warnings = instance.warnings().join("\n");
    assert!(warnings.contains("has no name constraints"), "{warnings}");
    assert!(warnings.contains(".old"), "{warnings}");
    instance.stop().await;
    // `stepmint ca` says it too, on stderr, and still prints the path.
    let out = Command::new(util::bin())
        .args(["ca", "path", "--data-dir"])
        .arg(tmp.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("warning: the local CA"), "{stderr}");
    // A CA that Stepmint makes now has constraints and no warning.
    let fresh = util::data_dir();
    let out = Command::new(util::bin())
        .args(["ca", "path", "--data-dir"])
        .arg(fresh.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[cfg(unix)]
#[test]
fn the_cli_refuses_a_data_dir_open_to_others() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = util::data_dir();
    let d = tmp.path().join("shared");
    std::fs::create_dir(&d).unwrap();
    std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o777)).unwrap();
    let out = util::run(&["mint", "--data-dir", d.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("chmod go-w {}", d.display())),
        "{stderr}"
    );
    assert!(!d.join("ca").exists() && !d.join("workspaces").exists());
    std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o700)).unwrap();
    assert!(
        util::run(&["mint", "--data-dir", d.to_str().unwrap()])
            .status
            .success()
    );
}

/// What headless Chromium shows of `url` with `home` as its HOME (where it finds
/// `~/.pki/nssdb`): the page's DOM, or an error page or nothing when TLS is refused.
fn chromium_dom(home: &Path, url: &str) -> String {
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new("timeout")
        .args([
            "60",
            "chromium",
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(["--no-first-run", "--dump-dom", url])
        .env("HOME", home)
        .output()
        .expect("run chromium (scripts/test installs Debian's chromium)");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_trusts_the_issuer_once_install_browser_adds_the_ca() {
    let dir = util::data_dir();
    let instance = util::start(dir.path(), &["acme"]).await;
    let url = format!(
        "{}/2.0/workspaces/acme/pipelines-config/identity/oidc/.well-known/openid-configuration",
        instance.base_url()
    );
    let home = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let home_arg = home.path().to_str().unwrap();

    // Before: Chromium refuses the certificate, so the discovery document never shows.
    assert!(!chromium_dom(home.path(), &url).contains("jwks_uri"));

    let out = util::run(&[
        "--data-dir",
        data,
        "ca",
        "install-browser",
        "--home",
        home_arg,
        "--json",
    ]);
    assert!(out.status.success(), "{}", util::text(&out));
    let report = util::json(&out);
    let nickname = report["nickname"].as_str().unwrap().to_string();
    assert_eq!(report["databases"][0]["browser"], "chromium");
    assert_eq!(report["databases"][0]["created"], true);
    let nssdb = home.path().join(".pki/nssdb");
    assert!(stepmint::nss::trusted(&nssdb, &nickname).unwrap());

    let dom = chromium_dom(home.path(), &url);
    assert!(
        dom.contains("jwks_uri"),
        "Chromium did not load the issuer: {dom}"
    );

    // Again: the same CA replaces itself rather than piling up.
    let again = util::run(&[
        "--data-dir",
        data,
        "ca",
        "install-browser",
        "--home",
        home_arg,
    ]);
    assert!(again.status.success(), "{}", util::text(&again));
    assert!(
        util::text(&again).contains("trusted in"),
        "{}",
        util::text(&again)
    );
    let listed = Command::new("certutil")
        .args(["-L", "-d"])
        .arg(format!("sql:{}", nssdb.display()))
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&listed.stdout)
            .matches(&nickname)
            .count(),
        1
    );

    // Removing it takes the trust away again.
    let out = util::run(&[
        "--data-dir",
        data,
        "ca",
        "install-browser",
        "--home",
        home_arg,
        "--remove",
    ]);
    assert!(out.status.success(), "{}", util::text(&out));
    assert!(!stepmint::nss::trusted(&nssdb, &nickname).unwrap());
    assert!(!chromium_dom(home.path(), &url).contains("jwks_uri"));
}
