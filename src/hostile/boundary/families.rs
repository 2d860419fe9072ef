//! The families: for each declared slot (`aud`, `iss`, `sub`, a claim condition, the times),
//! its cases. Each slot gets the value makers' variants, its absence, and the identities
//! Bitbucket could really issue that the slot tells apart (another workspace for `iss`, another
//! repository or environment for `sub`, UUIDs as Bitbucket never writes them).

use serde_json::{Map, Value};

use super::identity::{Shape, unbraced, upper};
use super::slot::{BoundaryCase, Slot, nth};
use super::values::{FOREIGN, lookalike, replace_first, string_variants, typed_variants};
use crate::token::Edit;
use crate::validate::{Policy, Test, string_like};

fn remove(name: &str) -> Vec<Edit> {
    vec![Edit::RemoveClaim { name: name.into() }]
}

pub(super) fn aud_cases(
    out: &mut Vec<BoundaryCase>,
    policy: &Policy,
    claims: &Map<String, Value>,
    shape: Option<&Shape>,
) {
    let genuine = claims.get("aud").cloned().unwrap_or(Value::Null);
    for (n, aud) in policy.audiences.iter().enumerate() {
        let mut slot = Slot {
            out: &mut *out,
            family: "policy:aud".into(),
            prefix: nth("policy-aud", n),
            what: format!("`aud` vs declared {aud:?}"),
        };
        slot.push_all("aud", &Value::from(aud.as_str()), string_variants(aud));
        // A custom audience is one element of Bitbucket's array (its ARI first): the string
        // variants also take its place there, as a step asking for that audience would get it.
        let at = genuine
            .as_array()
            .and_then(|a| a.iter().position(|v| v.as_str() == Some(aud.as_str())))
            .filter(|i| *i > 0);
        if let (Some(i), Value::Array(items)) = (at, &genuine) {
            let within = string_variants(aud)
                .into_iter()
                .filter_map(|(g, v)| {
                    v.is_string().then(|| {
                        let mut all = items.clone();
                        all[i] = v;
                        (g, Value::Array(all))
                    })
                })
                .collect();
            let prefix = format!("{}-as-custom", slot.prefix);
            let mut custom = Slot {
                out: &mut *slot.out,
                family: slot.family.clone(),
                prefix,
                what: format!("custom audience vs declared {aud:?}"),
            };
            custom.push_all("aud", &genuine, within);
        }
        let mut looks: Vec<Value> = vec![
            format!("{aud}-{FOREIGN}").into(),
            format!("{FOREIGN}-{aud}").into(),
        ];
        let upper = aud.to_uppercase();
        if upper != *aud {
            looks.push(upper.into());
        }
        if let Some(l) = replace_first(aud, lookalike) {
            looks.push(l.into());
        }
        slot.push(
            "only-lookalikes",
            vec![Edit::SetClaim {
                name: "aud".into(),
                value: Value::Array(looks),
            }],
        );
    }
    if policy.audiences.is_empty() {
        return;
    }
    let mut slot = Slot {
        out,
        family: "policy:aud".into(),
        prefix: "policy-aud".into(),
        what: format!("`aud` vs declared {:?}", policy.audiences),
    };
    slot.push("absent", remove("aud"));
    if let Some(shape) = shape {
        slot.push("other-workspace-ari", vec![shape.other_ari(1)]);
        slot.push(
            "other-service",
            vec![shape.other_service("api://another-service")],
        );
    }
}

pub(super) fn iss_cases(out: &mut Vec<BoundaryCase>, policy: &Policy, shape: Option<&Shape>) {
    let Some(iss) = &policy.issuer else { return };
    let mut slot = Slot {
        out,
        family: "policy:iss".into(),
        prefix: "policy-iss".into(),
        what: format!("`iss` vs declared {iss:?}"),
    };
    let mut variants = string_variants(iss);
    variants.push(("trailing-slash", format!("{iss}/").into()));
    if let Some(rest) = iss.strip_prefix("https://") {
        variants.push(("http", format!("http://{rest}").into()));
    }
    slot.push_all("iss", &Value::from(iss.as_str()), variants);
    slot.push("absent", remove("iss"));
    if let Some(shape) = shape {
        slot.push(
            "other-workspace-issuer",
            vec![Edit::SetClaim {
                name: "iss".into(),
                value: shape.other_issuer(1).into(),
            }],
        );
        slot.push("other-workspace", shape.other_workspace(1, &[]));
        slot.push(
            "other-workspace-audience",
            shape.other_workspace(1, &policy.audiences),
        );
        // A relying party may pin the workspace by its UUID claim instead.
        slot.push_named(
            "policy-iss-workspaceUuid",
            "absent",
            remove("workspaceUuid"),
        );
    }
}

pub(super) fn sub_cases(
    out: &mut Vec<BoundaryCase>,
    policy: &Policy,
    claims: &Map<String, Value>,
    shape: Option<&Shape>,
) {
    let Some(sub) = claims.get("sub").and_then(Value::as_str) else {
        return;
    };
    if policy.sub_like.is_empty() {
        return;
    }
    let mut slot = Slot {
        out,
        family: "policy:sub".into(),
        prefix: "policy-sub".into(),
        what: format!("`sub` vs declared patterns {:?}", policy.sub_like),
    };
    let mut variants = string_variants(sub);
    let segments: Vec<&str> = sub.split(':').collect();
    variants.push(("segment-extra", format!("{sub}:{{{FOREIGN}}}").into()));
    if segments.len() >= 2 {
        variants.push((
            "segment-missing",
            segments[..segments.len() - 1].join(":").into(),
        ));
        let mut star = segments.clone();
        if let Some(last) = star.last_mut() {
            *last = "*";
        }
        variants.push(("star-segment", star.join(":").into()));
    }
    if segments.len() == 3 {
        variants.push((
            "env-dropped",
            format!("{}:{}", segments[0], segments[2]).into(),
        ));
        variants.push((
            "env-moved",
            format!("{}:{}:{}", segments[0], segments[2], segments[1]).into(),
        ));
    }
    if let Some(first) = segments.first() {
        let rest = &sub[first.len()..];
        let inner = match first.strip_suffix('}') {
            Some(open) => format!("{open}-{FOREIGN}}}"),
            None => format!("{first}-{FOREIGN}"),
        };
        variants.push(("repository-suffix", format!("{inner}{rest}").into()));
    }
    for p in &policy.sub_like {
        if p.contains(['*', '?']) && !policy.sub_like.iter().any(|q| q != p && string_like(q, p)) {
            variants.push(("literal-pattern", p.clone().into()));
        }
    }
    slot.push_all("sub", &Value::from(sub), variants);
    slot.push("absent", remove("sub"));
    let Some(shape) = shape else { return };
    slot.push("other-repository", shape.other_repository(1));
    match shape.non_deployment() {
        Some(plain) => {
            slot.push("other-environment", shape.other_environment(1));
            slot.push("non-deployment", plain);
            slot.push_named(
                "policy-sub-deploymentEnvironmentUuid",
                "absent",
                remove("deploymentEnvironmentUuid"),
            );
        }
        None => slot.push("deployment", shape.other_environment(1)),
    }
    slot.push("uuid-upper", shape.uuids(claims, upper));
    slot.push("uuid-unbraced", shape.uuids(claims, unbraced));
    // A relying party may pin the repository by its UUID claim instead.
    slot.push_named(
        "policy-sub-repositoryUuid",
        "absent",
        remove("repositoryUuid"),
    );
}

pub(super) fn claim_cases(
    out: &mut Vec<BoundaryCase>,
    policy: &Policy,
    claims: &Map<String, Value>,
    shape: Option<&Shape>,
) {
    for (n, cond) in policy.conditions.iter().enumerate() {
        let same_claim_before = policy.conditions[..n]
            .iter()
            .filter(|c| c.claim == cond.claim)
            .count();
        let base = claims
            .get(&cond.claim)
            .filter(|v| cond.holds(Some(v)))
            .cloned()
            .or_else(|| match &cond.test {
                Test::Equals(v) => Some(v.clone()),
                Test::OneOf(vs) => vs.first().cloned(),
                Test::Like(p) => Some(p.replace(['*', '?'], "x").into()),
            });
        let Some(base) = base else { continue };
        let mut slot = Slot {
            out: &mut *out,
            family: format!("policy:claim:{}", cond.claim),
            prefix: nth(&format!("policy-claim-{}", cond.claim), same_claim_before),
            what: format!("`{}` vs its declared condition", cond.claim),
        };
        let mut variants = match &base {
            Value::String(s) => string_variants(s),
            other => typed_variants(other),
        };
        if let Test::Like(p) = &cond.test
            && p.contains(['*', '?'])
        {
            variants.push(("literal-pattern", p.clone().into()));
        }
        if let Value::String(s) = &base
            && cond.claim.ends_with("Uuid")
        {
            variants.push(("uuid-upper", upper(s).into()));
            variants.push(("uuid-unbraced", unbraced(s).into()));
        }
        slot.push_all(&cond.claim, &base, variants);
        slot.push("absent", remove(&cond.claim));
        let Some(shape) = shape else { continue };
        match cond.claim.as_str() {
            "workspaceUuid" => slot.push("other-workspace", shape.other_workspace(1, &[])),
            "repositoryUuid" => slot.push("other-repository", shape.other_repository(1)),
            "deploymentEnvironmentUuid" => {
                slot.push("other-environment", shape.other_environment(1));
                if let Some(plain) = shape.non_deployment() {
                    slot.push("non-deployment", plain);
                }
            }
            _ => {}
        }
    }
}

/// How far past the declared leeway the "beyond" time cases go: far enough that a relying party
/// whose clock is a little off, or whose leeway a little larger, still must refuse.
pub const BEYOND: i64 = 90;

pub(super) fn time_cases(
    out: &mut Vec<BoundaryCase>,
    policy: &Policy,
    claims: &Map<String, Value>,
) {
    let leeway = i64::try_from(policy.leeway).unwrap_or(i64::MAX / 4);
    let lifetime = lifetime(claims);
    let mut slot = Slot {
        out,
        family: "policy:time".into(),
        prefix: "policy-time".into(),
        what: format!("times vs the declared leeway of {leeway} s"),
    };
    let time = |name: &str, offset: i64| Edit::SetTime {
        name: name.into(),
        offset,
    };
    // An expired token is one issued a lifetime before it expired, as Bitbucket's are.
    let expired_at = -(leeway + BEYOND);
    slot.push(
        "exp-beyond-leeway",
        vec![time("iat", expired_at - lifetime), time("exp", expired_at)],
    );
    if leeway >= 10 {
        slot.push(
            "exp-within-leeway",
            vec![
                time("iat", -(leeway / 2) - lifetime),
                time("exp", -(leeway / 2)),
            ],
        );
    }
    slot.push("nbf-beyond-leeway", vec![time("nbf", leeway + BEYOND)]);
    slot.push(
        "iat-beyond-leeway",
        vec![
            time("iat", leeway + BEYOND),
            time("exp", leeway + BEYOND + lifetime),
        ],
    );
    if let Some(max_age) = policy.max_age.and_then(|m| i64::try_from(m).ok()) {
        let iat = -(max_age.saturating_add(leeway + BEYOND));
        // Still unexpired when Bitbucket's tokens live that long; otherwise one that outlives them.
        let exp = if iat + lifetime > 60 {
            iat + lifetime
        } else {
            600
        };
        slot.push(
            "iat-beyond-max-age",
            vec![time("iat", iat), time("exp", exp)],
        );
    }
}

/// The genuine token's lifetime (`exp - iat`), or an hour when it cannot be read.
pub(super) fn lifetime(claims: &Map<String, Value>) -> i64 {
    match (
        claims.get("iat").and_then(Value::as_i64),
        claims.get("exp").and_then(Value::as_i64),
    ) {
        (Some(iat), Some(exp)) if exp > iat => exp - iat,
        _ => 3600,
    }
}
