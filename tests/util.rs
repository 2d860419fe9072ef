//! Test helpers: temp data directories, in-process servers on port 0, a client that trusts only
//! our CA, and a runner for the built `stepmint` binary.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;
use stepmint::{Config, FixedClock, IdSource, Instance, SystemClock, WorkspaceSpec};

/// The built CLI.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_stepmint"))
}

/// A fresh data directory.
pub fn data_dir() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

/// A config on port 0 in `dir` serving `workspaces` (empty: the default).
pub fn config(dir: &Path, workspaces: &[&str]) -> Config {
    Config {
        data_dir: Some(dir.to_path_buf()),
        port: 0,
        workspaces: workspaces
            .iter()
            .map(|w| WorkspaceSpec::parse(w).expect("spec"))
            .collect(),
        ..Config::default()
    }
}

/// An in-process issuer on port 0, real TLS.
pub async fn start(dir: &Path, workspaces: &[&str]) -> Instance {
    Instance::start(
        config(dir, workspaces),
        Arc::new(SystemClock),
        Arc::new(IdSource::random()),
    )
    .await
    .expect("start instance")
}

/// As [`start`], with the clock fixed at `now` and seeded UUIDs.
pub async fn start_fixed(dir: &Path, now: i64, seed: u64) -> Instance {
    Instance::start(
        config(dir, &[]),
        Arc::new(FixedClock(now)),
        Arc::new(IdSource::seeded(seed)),
    )
    .await
    .expect("start instance")
}

/// An HTTPS client that trusts our CA and nothing else, and never follows redirects.
pub fn client(ca_pem: &[u8]) -> reqwest::Client {
    client_builder(ca_pem).build().expect("client")
}

/// A client of `instance`'s owner: trusts its CA and sends its control token with every
/// request (the relying-party paths ignore it).
pub fn owner(instance: &Instance) -> reqwest::Client {
    owner_builder(instance).build().expect("client")
}

/// The builder behind [`owner`].
pub fn owner_builder(instance: &Instance) -> reqwest::ClientBuilder {
    let mut headers = reqwest::header::HeaderMap::new();
    let token = instance
        .control_token()
        .expect("a server has a control token");
    headers.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {token}").parse().expect("header value"),
    );
    client_builder(&ca_pem(instance)).default_headers(headers)
}

/// The builder behind [`client`], for tests that need more (HTTP/1.1 only, a resolve entry).
pub fn client_builder(ca_pem: &[u8]) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(ca_pem).expect("CA PEM"))
        .redirect(reqwest::redirect::Policy::none())
}

/// The body of a `GET`, whatever its status; any transport error fails the test.
pub async fn get_bytes(client: &reqwest::Client, url: impl reqwest::IntoUrl) -> Vec<u8> {
    let response = client.get(url).send().await.expect("GET sent");
    response.bytes().await.expect("body read").to_vec()
}

/// The body of a `GET` as text.
pub async fn get_text(client: &reqwest::Client, url: impl reqwest::IntoUrl) -> String {
    String::from_utf8(get_bytes(client, url).await).expect("UTF-8 body")
}

/// The body of a `GET` as JSON (a `Value` or any type that reads it).
pub async fn get_json<T: serde::de::DeserializeOwned>(
    client: &reqwest::Client,
    url: impl reqwest::IntoUrl,
) -> T {
    serde_json::from_slice(&get_bytes(client, url).await).expect("JSON body")
}

/// A genuine token from `instance`'s first workspace for `audience`.
pub fn mint_for(instance: &Instance, audience: &str) -> stepmint::MintedToken {
    instance
        .issuer()
        .mint(&stepmint::StepRequest {
            audiences: vec![audience.into()],
            ..Default::default()
        })
        .expect("minted")
}

/// The CA PEM of a running instance.
pub fn ca_pem(instance: &Instance) -> Vec<u8> {
    std::fs::read(instance.ca_path()).expect("CA file")
}

/// A command's exit status, stdout and stderr, for assertion messages.
pub fn text(out: &std::process::Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A command's stdout as JSON (the whole output named when it is not).
pub fn json(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(out)))
}

/// No terminal control: no C0 but newline, no DEL, no C1, no bidi override.
pub fn terminal_safe(s: &str) -> bool {
    s.chars().all(|c| c == '\n' || !stepmint::is_unprintable(c))
}

/// Runs `stepmint ARGS` to completion.
pub fn run(args: &[&str]) -> std::process::Output {
    Command::new(bin())
        .args(args)
        .env_remove("STEPMINT_DATA_DIR")
        .output()
        .expect("run stepmint")
}

/// Runs `stepmint ARGS` with `stdin` as input.
pub fn run_with_stdin(args: &[&str], stdin: &str) -> std::process::Output {
    use std::io::Write;
    let mut child = Command::new(bin())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn stepmint");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("wait")
}

/// A `stepmint serve --json` child process, killed on drop.
pub struct ServeProcess {
    pub child: Child,
    pub info: Value,
    pub stderr: mpsc::Receiver<String>,
}

impl ServeProcess {
    /// Starts `stepmint serve --json --port 0 --data-dir DIR EXTRA...` and waits (up to 60 s)
    /// for its first stdout line.
    pub fn start(dir: &Path, extra: &[&str]) -> Result<ServeProcess, String> {
        Self::start_with_env(dir, extra, &[])
    }

    /// [`ServeProcess::start`] with these environment variables set.
    pub fn start_with_env(
        dir: &Path,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> Result<ServeProcess, String> {
        let mut child = Command::new(bin())
            .args(["serve", "--json", "--port", "0", "--data-dir"])
            .arg(dir)
            .args(extra)
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| e.to_string())?;
        let stdout = child.stdout.take().expect("stdout");
        let stderr = child.stderr.take().expect("stderr");
        let (line_tx, line_rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut first = String::new();
            let mut reader = BufReader::new(stdout);
            let _ = reader.read_line(&mut first);
            let _ = line_tx.send(first);
            // Keep draining so the child never blocks on a full pipe.
            let _ = std::io::copy(&mut reader, &mut std::io::sink());
        });
        let (err_tx, err_rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if err_tx.send(line).is_err() {
                    break;
                }
            }
        });
        let first = match line_rx.recv_timeout(Duration::from_secs(60)) {
            Ok(line) if !line.trim().is_empty() => line,
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                let errors: Vec<String> = err_rx.try_iter().collect();
                return Err(format!(
                    "serve printed no JSON line; stderr: {}",
                    errors.join("\n")
                ));
            }
        };
        let info: Value = serde_json::from_str(&first).map_err(|e| format!("{e}: {first}"))?;
        Ok(ServeProcess {
            child,
            info,
            stderr: err_rx,
        })
    }

    pub fn listening(&self) -> &str {
        self.info["listening"].as_str().expect("listening")
    }

    /// Sends SIGTERM and waits for the exit status.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        self.child.wait().expect("wait serve")
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Names of JWK private members, which must never be served.
pub const PRIVATE_MEMBERS: [&str; 6] = ["d", "p", "q", "dp", "dq", "qi"];

/// Panics if `value` contains an object with a private JWK member, anywhere.
pub fn assert_no_private_members(value: &Value, context: &str) {
    match value {
        Value::Object(map) => {
            for m in PRIVATE_MEMBERS {
                assert!(
                    !map.contains_key(m),
                    "{context}: private member `{m}` in {value}"
                );
            }
            map.values()
                .for_each(|v| assert_no_private_members(v, context));
        }
        Value::Array(items) => items
            .iter()
            .for_each(|v| assert_no_private_members(v, context)),
        Value::String(s) => assert!(
            !s.contains("PRIVATE KEY"),
            "{context}: a private key in {s}"
        ),
        _ => {}
    }
}

/// A clock the test moves by hand.
#[derive(Debug)]
pub struct ManualClock(pub std::sync::atomic::AtomicI64);

impl stepmint::Clock for ManualClock {
    fn now(&self) -> i64 {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// A public key as PEM text, 64 characters a line, as the catalogue's key-confusion cases key
/// their HMAC with it.
pub fn pem_public(der: &[u8]) -> String {
    use base64::Engine as _;
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        lines.join("\n")
    )
}

/// A TLS connection to our server on `port` (trusting `ca`, offering `alpn`), from the local
/// address `from` (`127.0.0.2` and the rest of 127/8 reach loopback on Linux), for tests that
/// speak raw HTTP; an error when the server refuses it.
pub async fn try_tls_connect(
    from: std::net::IpAddr,
    port: u16,
    ca: &[u8],
    alpn: &[u8],
) -> std::io::Result<tokio_rustls::client::TlsStream<tokio::net::TcpStream>> {
    let mut roots = rustls::RootCertStore::empty();
    for c in rustls_pki_types::pem::PemObject::pem_slice_iter(ca) {
        roots.add(c.expect("CA PEM")).expect("CA certificate");
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![alpn.to_vec()];
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.bind(std::net::SocketAddr::new(from, 0))?;
    let tcp = socket
        .connect(std::net::SocketAddr::from(([127, 0, 0, 1], port)))
        .await?;
    tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(
            rustls_pki_types::ServerName::try_from("localhost").expect("name"),
            tcp,
        )
        .await
}

/// [`try_tls_connect`] from `127.0.0.1`, which must succeed.
pub async fn tls_connect(
    port: u16,
    ca: &[u8],
    alpn: &[u8],
) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
    try_tls_connect([127, 0, 0, 1].into(), port, ca, alpn)
        .await
        .expect("TLS connection")
}

/// A request's bearer token, empty when there is none.
pub fn bearer(headers: &axum::http::HeaderMap) -> String {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default()
        .to_string()
}

/// What a relying party in these tests reads from a request: the bearer token (empty when
/// there is none) and the keys its issuer serves for the token's `kid` (`None` when they
/// cannot be fetched).
pub async fn bearer_and_keys(
    keys: &stepmint::validate::RemoteKeys,
    headers: &axum::http::HeaderMap,
) -> (String, Option<stepmint::validate::KeySet>) {
    let token = bearer(headers);
    let kid = stepmint::decode_unverified(&token)
        .ok()
        .and_then(|d| d.header["kid"].as_str().map(str::to_string));
    let keys = keys.keys_for(kid.as_deref()).await.ok();
    (token, keys)
}

/// `stepmint serve` running on a fresh data directory, with what a probe test needs of it.
pub struct Served {
    /// The data directory.
    pub dir: tempfile::TempDir,
    /// The data directory as text, for `--data-dir`.
    pub d: String,
    /// The server.
    pub serve: ServeProcess,
    /// The first workspace's issuer URL.
    pub issuer: String,
    /// The CA certificate (PEM).
    pub ca: Vec<u8>,
    /// The audience a genuine token carries, as the CLI mints it.
    pub aud: String,
    /// A runtime for the test's relying parties.
    pub runtime: tokio::runtime::Runtime,
}

/// Starts `stepmint serve` on a fresh data directory (see [`Served`]).
pub fn served() -> Served {
    let dir = data_dir();
    let d = dir.path().to_str().unwrap().to_string();
    let serve = ServeProcess::start(dir.path(), &[]).expect("serve");
    let issuer = serve.info["workspaces"][0]["issuer"]
        .as_str()
        .unwrap()
        .to_string();
    let ca = std::fs::read(serve.info["ca"].as_str().unwrap()).unwrap();
    let token = String::from_utf8(run(&["mint", "--data-dir", &d]).stdout).unwrap();
    let aud = stepmint::decode_unverified(token.trim()).unwrap().claims["aud"]
        .as_str()
        .unwrap()
        .to_string();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    Served {
        dir,
        d,
        serve,
        issuer,
        ca,
        aud,
        runtime,
    }
}

/// A token of `instance`'s workspace `ws` for its default audience that expired 5 s ago.
pub fn expired_token(instance: &Instance, ws: &stepmint::ServedWorkspace) -> String {
    let mut claims = serde_json::Map::new();
    claims.insert(
        "exp".into(),
        serde_json::json!(instance.issuer().clock().now() - 5),
    );
    instance
        .issuer()
        .mint(&stepmint::StepRequest {
            audiences: vec![ws.workspace.default_audience()],
            claims,
            ..Default::default()
        })
        .expect("minted")
        .token
}
