//! What every Rust relying party here shares: its arguments, a minimal HTTP/1.1 server that
//! hands the bearer token to the verifier under test, and an HTTPS client trusting only the
//! issuer's CA. The verifiers themselves are in `src/bin/`.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;

/// `--issuer I --audience A --ca PEM --port P`.
pub struct Args {
    pub issuer: String,
    pub audience: String,
    pub ca: String,
    pub port: u16,
}

pub fn args() -> Args {
    let mut a = Args {
        issuer: String::new(),
        audience: String::new(),
        ca: String::new(),
        port: 0,
    };
    let argv: Vec<String> = std::env::args().collect();
    let mut i = 1;
    while i + 1 < argv.len() {
        let v = argv[i + 1].clone();
        match argv[i].as_str() {
            "--issuer" => a.issuer = v,
            "--audience" => a.audience = v,
            "--ca" => a.ca = v,
            "--port" => a.port = v.parse().unwrap_or(0),
            other => panic!("unknown argument {other}"),
        }
        i += 2;
    }
    a
}

/// An HTTPS client that trusts only the CA in `ca_path`.
pub fn client(ca_path: &str) -> reqwest::blocking::Client {
    let pem = std::fs::read(ca_path).expect("CA file");
    let cert = reqwest::Certificate::from_pem(&pem).expect("CA PEM");
    reqwest::blocking::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(cert)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// GETs `url` as JSON.
pub fn get_json(client: &reqwest::blocking::Client, url: &str) -> serde_json::Value {
    client
        .get(url)
        .send()
        .and_then(|r| r.json())
        .unwrap_or(serde_json::Value::Null)
}

/// Serves on 127.0.0.1:`port`, printing `READY <port>`: every request's bearer token goes to
/// `verify`; `Ok` answers 200 `ok`, `Err(reason)` answers 401 with the reason.
pub fn serve(port: u16, verify: impl Fn(&str) -> Result<(), String> + Send + Sync + 'static) {
    let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind");
    println!("READY {}", listener.local_addr().expect("addr").port());
    let _ = std::io::stdout().flush();
    let verify = std::sync::Arc::new(verify);
    for stream in listener.incoming().flatten() {
        let verify = verify.clone();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(match stream.try_clone() {
                Ok(s) => s,
                Err(_) => return,
            });
            let mut stream = stream;
            loop {
                let mut token = None;
                let mut line = String::new();
                let mut first = true;
                loop {
                    line.clear();
                    match reader.read_line(&mut line) {
                        Ok(0) | Err(_) => return,
                        Ok(_) => {}
                    }
                    if line == "\r\n" || line == "\n" {
                        break;
                    }
                    if !first
                        && let Some((name, value)) = line.split_once(':')
                        && name.eq_ignore_ascii_case("authorization")
                    {
                        token = value.trim().strip_prefix("Bearer ").map(str::to_string);
                    }
                    first = false;
                }
                let result = match &token {
                    Some(t) => std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| verify(t)))
                        .unwrap_or_else(|_| Err("the verifier panicked".into())),
                    None => Err("no bearer token".into()),
                };
                let (status, body) = match result {
                    Ok(()) => ("200 OK", "ok".to_string()),
                    Err(e) => ("401 Unauthorized", e.replace(['\r', '\n'], " ")),
                };
                let answer = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                );
                if stream.write_all(answer.as_bytes()).is_err() {
                    return;
                }
            }
        });
    }
}
