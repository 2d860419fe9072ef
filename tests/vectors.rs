//! Third-party vectors through the validator with a structure-and-signature policy:
//! Google Wycheproof's JWS and JWK tests, and the RFC 7520 (JOSE cookbook) JWS examples.

use serde_json::Value;
use stepmint::validate::{self, KeySet, Policy};

const SUPPORTED: [&str; 12] = [
    "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256",
    "ES384", "EdDSA",
];
/// Marked valid, but their MAC matches only a lenient base64 decoding (see tests/vectors/README.md).
const EITHER_WAY: [u64; 2] = [372, 373];
/// RFC 7520 Figure 20 (PS384) verified with a key labelled `alg: PS256`, marked valid, while the
/// ps512 group marks PS256/PS384 tokens under a PS512-labelled key invalid. We follow the latter
/// (a key's `alg` must equal the token's), so these two are refused; see tests/vectors/README.md.
const KEY_ALG_CONFLICT: [u64; 2] = [346, 350];

fn load(path: &str) -> Value {
    let full = format!("{}/tests/vectors/{path}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_slice(&std::fs::read(&full).unwrap_or_else(|e| panic!("{full}: {e}"))).unwrap()
}

fn header_alg(jws: &str) -> Option<String> {
    let d = stepmint::decode_unverified(jws).ok()?;
    d.header.get("alg")?.as_str().map(str::to_string)
}

#[derive(Default, Debug)]
struct Tally {
    valid_accepted: usize,
    invalid_refused: usize,
    either_way: usize,
    unsupported: Vec<String>,
    contradictory: Vec<String>,
    wrong: Vec<String>,
}

fn run_wycheproof(file: &str) -> Tally {
    let doc = load(file);
    let policy = Policy::signature_only(&SUPPORTED);
    let mut t = Tally::default();
    for group in doc["testGroups"].as_array().unwrap() {
        let keys_json = group.get("public").unwrap_or(&group["private"]).clone();
        let keys = KeySet::from_value(keys_json).expect("every group's key set parses");
        let comment = group["comment"].as_str().unwrap_or_default();
        let tests = group["tests"].as_array().unwrap();
        for test in tests {
            let id = test["tcId"].as_u64().unwrap();
            let jws = test["jws"].as_str().unwrap();
            let valid = test["result"] == "valid";
            let report = validate::verify(jws, &keys, &policy, 0);
            if EITHER_WAY.contains(&id) {
                t.either_way += 1;
                continue;
            }
            if KEY_ALG_CONFLICT.contains(&id) {
                assert!(
                    !report.accepted,
                    "tcId {id}: a PS256-labelled key must not verify PS384"
                );
                t.contradictory.push(format!(
                    "tcId {id} {} (key alg PS256, token PS384)",
                    test["comment"]
                ));
                continue;
            }
            // A few vectors repeat a valid test's token byte for byte but say `invalid` (their
            // padding was lost upstream); no verifier can satisfy both, so they are listed.
            let twin = tests
                .iter()
                .any(|o| o["jws"] == test["jws"] && o["result"] != test["result"]);
            if twin && !valid {
                t.contradictory
                    .push(format!("tcId {id} {}", test["comment"]));
                continue;
            }
            let alg = header_alg(jws).unwrap_or_default();
            if valid && !SUPPORTED.contains(&alg.as_str()) {
                assert!(
                    !report.accepted,
                    "tcId {id}: unsupported {alg} must not be accepted"
                );
                t.unsupported.push(format!("{comment} tcId {id} ({alg})"));
                continue;
            }
            match (valid, report.accepted) {
                (true, true) => t.valid_accepted += 1,
                (false, false) => t.invalid_refused += 1,
                _ => t.wrong.push(format!(
                    "tcId {id} {comment}/{}: expected {}, got {} ({})",
                    test["comment"],
                    test["result"],
                    report.verdict,
                    report.reason.unwrap_or_default()
                )),
            }
        }
    }
    t
}

#[test]
fn wycheproof_json_web_signature() {
    let t = run_wycheproof("wycheproof/json_web_signature_test.json");
    println!(
        "wycheproof JWS: {} valid accepted, {} invalid refused, {} either-way, {} contradictory {:?}, {} unsupported: {:?}",
        t.valid_accepted,
        t.invalid_refused,
        t.either_way,
        t.contradictory.len(),
        t.contradictory,
        t.unsupported.len(),
        t.unsupported
    );
    assert!(t.wrong.is_empty(), "{:#?}", t.wrong);
    assert_eq!(
        t.valid_accepted
            + t.invalid_refused
            + t.either_way
            + t.contradictory.len()
            + t.unsupported.len(),
        401
    );
    assert!(t.contradictory.len() <= 4, "{:?}", t.contradictory);
    assert!(t.invalid_refused >= 353, "every invalid test ran: {t:?}");
    assert!(
        t.unsupported.iter().all(|u| u.contains("ES512")),
        "only ES512 is unsupported: {:?}",
        t.unsupported
    );
}

#[test]
fn wycheproof_json_web_key() {
    let t = run_wycheproof("wycheproof/json_web_key_test.json");
    println!(
        "wycheproof JWK: {} valid accepted, {} invalid refused, unsupported: {:?}",
        t.valid_accepted, t.invalid_refused, t.unsupported
    );
    assert!(t.wrong.is_empty(), "{:#?}", t.wrong);
    assert_eq!(t.valid_accepted, 5);
    assert_eq!(t.invalid_refused, 21);
}

#[test]
fn rfc7520_jws_examples() {
    let mut accepted = Vec::new();
    let mut unsupported = Vec::new();
    let dir = format!(
        "{}/tests/vectors/jose-cookbook/jws",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for path in files {
        let doc: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let Some(compact) = doc["output"]["compact"].as_str() else {
            unsupported.push(format!("{name}: JSON serialization only"));
            // The validator takes compact tokens only; the JSON forms must be refused.
            let json = doc["output"]["json"].to_string();
            let keys = KeySet::from_value(doc["input"]["key"].clone())
                .unwrap_or_else(|_| KeySet::from_value(serde_json::json!({"keys": []})).unwrap());
            assert!(
                !validate::verify(&json, &keys, &Policy::signature_only(&SUPPORTED), 0).accepted
            );
            continue;
        };
        let keys = KeySet::from_value(doc["input"]["key"].clone()).unwrap();
        let alg = doc["input"]["alg"].as_str().unwrap();
        let report = validate::verify(compact, &keys, &Policy::signature_only(&SUPPORTED), 0);
        if name.starts_with("4_5") {
            // Detached content: the compact form has an empty payload the signature does not cover.
            assert!(!report.accepted);
            unsupported.push(format!("{name}: detached content"));
        } else if !SUPPORTED.contains(&alg) {
            assert!(!report.accepted);
            unsupported.push(format!("{name}: {alg}"));
        } else {
            assert!(report.accepted, "{name}: {:?}", report.reason);
            accepted.push(name.clone());
            // One flipped bit in the signature must be refused.
            let mut bad = compact.to_string();
            let last = bad.pop().unwrap();
            bad.push(if last == 'A' { 'B' } else { 'A' });
            assert!(
                !validate::verify(&bad, &keys, &Policy::signature_only(&SUPPORTED), 0).accepted,
                "{name} tampered"
            );
        }
    }
    println!("RFC 7520: accepted {accepted:?}; not applicable {unsupported:?}");
    assert_eq!(accepted.len(), 3, "RS256, PS384 and HS256 examples verify");
}
