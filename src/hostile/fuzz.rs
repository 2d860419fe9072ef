//! Generative tokens: structured, seeded mutations of the genuine token. Header and claim
//! members added, removed, retyped and edited; values drawn from the declared policy and its
//! boundaries; identities Bitbucket really issues to others (another workspace's issuer and ARI
//! audience, another repository, environment or step, a pushed branch or tag, UUIDs re-cased or
//! unbraced), each claim consistent with the rest; time claims around the edges of the validity
//! window; encoding, signature and key variations; several combined. The same seed gives the
//! same sequence of edit lists.
//!
//! A generated token is only a list of [`Edit`]s, so a finding can be shrunk (edits dropped
//! one by one while the relying party still accepts it), saved as a recipe and replayed.

use serde_json::{Map, Value, json};

use super::boundary::identity::{Shape, unbraced, upper};
use super::boundary::{BEYOND, BoundaryCase, boundary_cases, lifetime};
use crate::token::{Edit, EncodingEdit, Signer};
use crate::validate::Policy;

/// A small, fast, seedable generator (SplitMix64): the same seed, the same sequence on every
/// platform, which is what a reproducible fuzz run needs.
#[derive(Debug, Clone)]
pub struct SeededRng(u64);

impl SeededRng {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> SeededRng {
        SeededRng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// One of `items`.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Claims a mutation may touch besides the policy's: the registered ones and the step's.
const CLAIMS: [&str; 12] = [
    "iss",
    "aud",
    "sub",
    "exp",
    "iat",
    "nbf",
    "branchName",
    "repositoryUuid",
    "workspaceUuid",
    "pipelineUuid",
    "stepUuid",
    "deploymentEnvironmentUuid",
];

const ALGS: [&str; 9] = [
    "none", "None", "HS256", "RS384", "RS512", "PS256", "ES256", "rs256", "",
];

/// Makes edit lists for one declared policy and genuine token shape.
#[derive(Debug, Clone)]
pub struct Mutator {
    rng: SeededRng,
    pool: Vec<BoundaryCase>,
    identities: Vec<Vec<Edit>>,
    claims: Vec<String>,
    leeway: i64,
    lifetime: i64,
}

impl Mutator {
    /// A mutator for tokens judged under `policy`, shaped like `claims`, seeded by `seed`.
    pub fn new(policy: &Policy, claims: &Map<String, Value>, seed: u64) -> Mutator {
        let mut names: Vec<String> = CLAIMS.iter().map(|c| c.to_string()).collect();
        for c in claims
            .keys()
            .chain(policy.conditions.iter().map(|c| &c.claim))
        {
            if !names.contains(c) {
                names.push(c.clone());
            }
        }
        Mutator {
            rng: SeededRng::new(seed),
            pool: boundary_cases(policy, claims),
            identities: identities(policy, claims),
            claims: names,
            leeway: i64::try_from(policy.leeway).unwrap_or(i64::MAX / 4),
            lifetime: lifetime(claims),
        }
    }

    /// The next generated token: one to three mutations, each one or two edits.
    pub fn generate(&mut self) -> Vec<Edit> {
        let n = match self.rng.below(10) {
            0..=4 => 1,
            5..=7 => 2,
            _ => 3,
        };
        let mut edits = Vec::new();
        for _ in 0..n {
            edits.extend(self.mutation());
        }
        edits
    }

    fn claim(&mut self) -> String {
        let i = self.rng.below(self.claims.len());
        self.claims[i].clone()
    }

    fn any_value(&mut self) -> Value {
        match self.rng.below(9) {
            0 => Value::Null,
            1 => true.into(),
            2 => 0.into(),
            3 => (-1).into(),
            4 => 1e300.into(),
            5 => "".into(),
            6 => json!([]),
            7 => json!({}),
            _ => "x".repeat(1 + self.rng.below(300)).into(),
        }
    }

    fn mutation(&mut self) -> Vec<Edit> {
        let roll = self.rng.below(100);
        match roll {
            // A declared value's boundary (the most likely place for a flaw).
            0..=29 if !self.pool.is_empty() => {
                let i = self.rng.below(self.pool.len());
                self.pool[i].edits.clone()
            }
            // Someone else's identity, as Bitbucket would issue it.
            0..=41 if !self.identities.is_empty() => {
                let i = self.rng.below(self.identities.len());
                self.identities[i].clone()
            }
            0..=47 => vec![Edit::RemoveClaim { name: self.claim() }],
            48..=54 => {
                let name = self.claim();
                vec![Edit::SetClaim {
                    name,
                    value: self.any_value(),
                }]
            }
            55..=66 => self.time_mutation(),
            67..=69 => vec![Edit::SetClaim {
                name: format!("x-{}", self.rng.below(1000)),
                value: self.any_value(),
            }],
            70..=81 => self.header_mutation(),
            82..=92 => self.signer_mutation(),
            _ => vec![Edit::Encoding {
                change: *self.rng.pick(&EncodingEdit::GENERATED),
            }],
        }
    }

    fn time_mutation(&mut self) -> Vec<Edit> {
        let l = self.leeway;
        // Around the validity window's edges, never within a few seconds of one: the relying
        // party judges a moment after the validator, on its own clock.
        let offsets = [
            -l - 3600,
            -l - BEYOND,
            -(l / 2),
            0,
            5,
            l + BEYOND,
            l + 3600,
            400 * 86_400,
        ];
        let offset = *self.rng.pick(&offsets);
        let time = |name: &str, offset: i64| Edit::SetTime {
            name: name.into(),
            offset,
        };
        if self.rng.below(3) == 0 {
            // A whole token moved in time, as Bitbucket signs them: issued a lifetime before it
            // expires (an old one kept past its expiry, or one dated ahead).
            return vec![time("iat", offset - self.lifetime), time("exp", offset)];
        }
        let name = *self.rng.pick(&["exp", "nbf", "iat"]);
        vec![time(name, offset)]
    }

    fn header_mutation(&mut self) -> Vec<Edit> {
        let set = |name: &str, value: Value| Edit::SetHeader {
            name: name.into(),
            value,
        };
        match self.rng.below(9) {
            0 => vec![Edit::RemoveHeader { name: "kid".into() }],
            1 => vec![set("kid", "unknown-kid".into())],
            2 => vec![set("kid", "../../../../dev/null".into())],
            3 => vec![set("alg", (*self.rng.pick(&ALGS)).into())],
            4 => vec![Edit::RemoveHeader { name: "alg".into() }],
            5 => vec![set("typ", (*self.rng.pick(&["at+jwt", "JWE", ""])).into())],
            6 => vec![set("crit", json!(["exp"]))],
            7 => {
                let member: &&str = self.rng.pick(&["jku", "x5u"]);
                vec![set(member, "https://attacker.invalid/keys".into())]
            }
            _ => vec![set("kid", self.any_value())],
        }
    }

    fn signer_mutation(&mut self) -> Vec<Edit> {
        let sign = |with: Signer| Edit::Sign { with };
        let alg = |a: &str| Edit::SetHeader {
            name: "alg".into(),
            value: a.into(),
        };
        match self.rng.below(7) {
            0 => vec![sign(Signer::None)],
            1 => vec![sign(Signer::None), alg("none")],
            2 => vec![sign(Signer::AttackerRs256)],
            3 => vec![sign(Signer::Hs256PublicPem), alg("HS256")],
            4 => vec![sign(Signer::Hs256PublicDer), alg("HS256")],
            5 => vec![sign(Signer::Ps256), alg("PS256")],
            _ => vec![sign(Signer::Hs256("secret".into())), alg("HS256")],
        }
    }
}

/// Other identities Bitbucket issues, shaped after the genuine claims: another workspace (its
/// issuer on the same host and its ARI audience, asking for this token's and the declared
/// audiences or not), another repository, environment or step kind, a branch or tag anyone can
/// push, and UUIDs as Bitbucket never writes them. Also each workspace member alone, so a
/// relying party loose on one slot shows even when the others are pinned.
fn identities(policy: &Policy, claims: &Map<String, Value>) -> Vec<Vec<Edit>> {
    let Some(s) = Shape::of(claims) else {
        return Vec::new();
    };
    let set = |name: &str, value: Value| Edit::SetClaim {
        name: name.into(),
        value,
    };
    let branch = |b: String| set("branchName", b.into());
    let mut out = Vec::new();
    for n in 1..=2 {
        out.push(s.other_workspace(n, &[]));
        if !s.audiences.is_empty() {
            out.push(s.other_workspace(n, &s.audiences));
        }
        if !policy.audiences.is_empty() && policy.audiences != s.audiences {
            out.push(s.other_workspace(n, &policy.audiences));
        }
        out.push(vec![set("iss", s.other_issuer(n).into())]);
        out.push(vec![s.other_ari(n)]);
        out.push(s.other_repository(n));
        out.push(s.other_environment(n));
    }
    let pushed = s.attacker_branch();
    if let Some(plain) = s.non_deployment() {
        out.push(plain.clone());
        out.push([plain, vec![branch(pushed.clone())]].concat());
    }
    out.push([s.other_environment(1), vec![branch(pushed.clone())]].concat());
    out.push(vec![s.other_service("api://another-service")]);
    out.push(vec![branch(pushed.clone())]);
    out.push(vec![branch(format!("{pushed}/x"))]);
    out.push(vec![branch(format!("release/../{pushed}"))]);
    out.push(vec![Edit::RemoveClaim {
        name: "branchName".into(),
    }]);
    out.push(s.uuids(claims, upper));
    out.push(s.uuids(claims, unbraced));
    for name in [
        "workspaceUuid",
        "repositoryUuid",
        "deploymentEnvironmentUuid",
    ] {
        if let Some(v) = claims.get(name).and_then(Value::as_str) {
            out.push(vec![set(name, upper(v).into())]);
            out.push(vec![set(name, unbraced(v).into())]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_edits() {
        let claims: Map<String, Value> =
            json!({"sub": "{a}:{b}", "aud": "x", "branchName": "main"})
                .as_object()
                .cloned()
                .unwrap_or_default();
        let policy = Policy {
            audiences: vec!["x".into()],
            ..Policy::default()
        };
        let run = |seed| {
            let mut m = Mutator::new(&policy, &claims, seed);
            (0..200).map(|_| m.generate()).collect::<Vec<_>>()
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
        let all = run(1);
        assert!(all.iter().all(|e| !e.is_empty() && e.len() <= 6));
        // Every kind of mutation shows up in a few hundred draws.
        let flat: Vec<String> = all.iter().flatten().map(Edit::member).collect();
        for m in ["claims.aud", "signature", "header.alg"] {
            assert!(flat.iter().any(|f| f == m), "{m} never drawn");
        }
        assert!(flat.iter().any(|f| f.starts_with("encoding.")));
    }

    #[test]
    fn another_workspaces_token_is_drawn_whole() {
        let ws = "{0b5f3c1e-2f3a-4d4b-9a55-1b2c3d4e5f60}";
        let claims: Map<String, Value> = json!({
            "iss": "https://localhost:8443/2.0/workspaces/acme/pipelines-config/identity/oidc",
            "aud": crate::hostile::reach::ari(ws),
            "sub": "{22222222-2f3a-4d4b-9a55-1b2c3d4e5f60}:{55555555-2f3a-4d4b-9a55-1b2c3d4e5f60}",
            "iat": 1_800_000_000,
            "exp": 1_800_003_600,
            "workspaceUuid": ws,
            "repositoryUuid": "{22222222-2f3a-4d4b-9a55-1b2c3d4e5f60}",
            "pipelineUuid": "{66666666-2f3a-4d4b-9a55-1b2c3d4e5f60}",
            "stepUuid": "{55555555-2f3a-4d4b-9a55-1b2c3d4e5f60}",
            "branchName": "main",
        })
        .as_object()
        .cloned()
        .unwrap_or_default();
        let mut m = Mutator::new(&Policy::default(), &claims, 1);
        let other_workspace = (0..500)
            .map(|_| m.generate())
            .filter(|e| {
                crate::hostile::reach(&claims, e).by == crate::hostile::ExploitableBy::AnyWorkspace
            })
            .count();
        assert!(
            other_workspace > 0,
            "another workspace's whole token in 500 draws"
        );
    }

    #[test]
    fn below_stays_in_range() {
        let mut r = SeededRng::new(0);
        for n in 1..50 {
            assert!(r.below(n) < n);
        }
        assert_eq!(r.below(0), 0);
    }
}
