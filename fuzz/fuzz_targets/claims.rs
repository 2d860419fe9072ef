//! Structured headers and claims, signed by the real key: the validator's verdict must equal a
//! small model of the rules.

#![no_main]

use std::sync::OnceLock;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value, json};
use stepmint::StepRequest;
use stepmint::validate::{self, Policy};

#[path = "common.rs"]
mod common;

#[derive(Debug, Arbitrary)]
enum Time {
    Missing,
    Offset(i16),
    Float(i16, u8),
    Text(i16),
}

#[derive(Debug, Arbitrary)]
enum Iss {
    Correct,
    Missing,
    TrailingSlash,
    Other(String),
}

#[derive(Debug, Arbitrary)]
enum Aud {
    Correct,
    Missing,
    Wrong(String),
    ArrayWithCorrect(Vec<String>),
    Nested,
    Number(i32),
}

#[derive(Debug, Arbitrary)]
enum Sub {
    Keep,
    Missing,
    Number(i64),
    Text(String),
}

#[derive(Debug, Arbitrary)]
enum Alg {
    Rs256,
    None,
    Hs256,
    Text(String),
}

#[derive(Debug, Arbitrary)]
enum Kid {
    Correct,
    Missing,
    Other(String),
}

#[derive(Debug, Arbitrary)]
enum Extra {
    Harmless,
    Forbidden(u8),
}

#[derive(Debug, Arbitrary)]
struct Input {
    exp: Time,
    nbf: Option<i16>,
    iat: Time,
    iss: Iss,
    aud: Aud,
    sub: Sub,
    alg: Alg,
    kid: Kid,
    extra: Extra,
    leeway: u8,
    skew: i16,
}

struct State {
    fixture: common::Fixture,
    issuer_url: String,
    audience: String,
    kid: String,
}

fn state() -> &'static State {
    static STATE: OnceLock<State> = OnceLock::new();
    STATE.get_or_init(|| {
        let fixture = common::fixture();
        let ws = fixture.issuer.workspace("golden").expect("workspace");
        State {
            issuer_url: ws.issuer.clone(),
            audience: ws.workspace.default_audience(),
            kid: ws.workspace.keys.active().kid().to_string(),
            fixture,
        }
    })
}

fn time(t: &Time) -> (Value, Option<f64>, bool) {
    let now = common::NOW;
    match t {
        Time::Missing => (Value::Null, None, true),
        Time::Offset(o) => (json!(now + i64::from(*o)), Some((now + i64::from(*o)) as f64), true),
        Time::Float(o, f) => {
            let v = (now + i64::from(*o)) as f64 + f64::from(*f) / 256.0;
            (json!(v), Some(v), true)
        }
        Time::Text(o) => (json!((now + i64::from(*o)).to_string()), None, false),
    }
}

fuzz_target!(|input: Input| {
    let s = state();
    let now = common::NOW + i64::from(input.skew);
    let leeway = f64::from(input.leeway);
    let nowf = now as f64;
    let mut claims = Map::new();
    let mut ok = true;

    let (exp, expf, exp_typed) = time(&input.exp);
    claims.insert("exp".into(), exp);
    ok &= exp_typed && expf.is_some_and(|e| nowf < e + leeway);
    let (iat, iatf, iat_typed) = time(&input.iat);
    claims.insert("iat".into(), iat);
    ok &= iat_typed && iatf.is_some_and(|i| i <= nowf + leeway);
    if let Some(n) = input.nbf {
        let nbf = now - i64::from(input.skew) + i64::from(n);
        claims.insert("nbf".into(), json!(nbf));
        ok &= (nbf as f64) <= nowf + leeway;
    }
    match &input.iss {
        Iss::Correct => {}
        Iss::Missing => {
            claims.insert("iss".into(), Value::Null);
            ok = false;
        }
        Iss::TrailingSlash => {
            claims.insert("iss".into(), json!(format!("{}/", s.issuer_url)));
            ok = false;
        }
        Iss::Other(o) => {
            claims.insert("iss".into(), json!(o));
            ok &= *o == s.issuer_url;
        }
    }
    match &input.aud {
        Aud::Correct => {}
        Aud::Missing => {
            claims.insert("aud".into(), Value::Null);
            ok = false;
        }
        Aud::Wrong(w) => {
            claims.insert("aud".into(), json!(w));
            ok &= *w == s.audience;
        }
        Aud::ArrayWithCorrect(more) => {
            let mut all = vec![s.audience.clone()];
            all.extend(more.iter().cloned());
            claims.insert("aud".into(), json!(all));
        }
        Aud::Nested => {
            claims.insert("aud".into(), json!([[s.audience]]));
            ok = false;
        }
        Aud::Number(n) => {
            claims.insert("aud".into(), json!(n));
            ok = false;
        }
    }
    match &input.sub {
        Sub::Keep => {}
        Sub::Missing => {
            claims.insert("sub".into(), Value::Null);
            ok = false;
        }
        Sub::Number(n) => {
            claims.insert("sub".into(), json!(n));
            ok = false;
        }
        Sub::Text(t) => {
            claims.insert("sub".into(), json!(t));
        }
    }
    let mut header = Map::new();
    match &input.alg {
        Alg::Rs256 => {}
        Alg::None => {
            header.insert("alg".into(), json!("none"));
            ok = false;
        }
        Alg::Hs256 => {
            header.insert("alg".into(), json!("HS256"));
            ok = false;
        }
        Alg::Text(t) => {
            header.insert("alg".into(), json!(t));
            ok &= t == "RS256";
        }
    }
    match &input.kid {
        Kid::Correct => {}
        Kid::Missing => {
            header.insert("kid".into(), Value::Null);
            ok = false;
        }
        Kid::Other(k) => {
            header.insert("kid".into(), json!(k));
            ok &= *k == s.kid;
        }
    }
    if let Extra::Forbidden(i) = input.extra {
        let name = validate::FORBIDDEN_HEADERS[usize::from(i) % validate::FORBIDDEN_HEADERS.len()];
        header.insert(name.into(), json!("x"));
        ok = false;
    } else {
        header.insert("x-harmless".into(), json!(true));
    }
    let Ok(minted) = s.fixture.issuer.mint(&StepRequest { claims, header, ..Default::default() }) else {
        return;
    };
    let mut policy = Policy::for_issuer(s.issuer_url.clone(), s.audience.clone());
    policy.leeway = u64::from(input.leeway);
    let ws = s.fixture.issuer.workspace("golden").expect("workspace");
    let report = validate::verify(&minted.token, ws.keyset(), &policy, now);
    assert_eq!(report.accepted, ok, "model and validator disagree on {input:?}: {:?}", report.reason);
});
