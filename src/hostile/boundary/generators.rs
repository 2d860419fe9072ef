//! The table of policy-boundary generators: each value transformation's name (the last part of
//! the cases it makes), what it applies to, and what it makes, as `stepmint cases --generators`
//! lists them.

/// A value transformation, as `stepmint cases` lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Generator {
    /// Its name, the last part of each case it makes (`policy-aud-suffix`).
    pub name: &'static str,
    /// What it is applied to: `string`, `any`, `sub`, `aud`, `iss`, `uuid`, `time`, `typed`.
    pub applies_to: &'static str,
    /// What it makes.
    pub description: &'static str,
}

const fn g(name: &'static str, applies_to: &'static str, description: &'static str) -> Generator {
    Generator {
        name,
        applies_to,
        description,
    }
}

/// Every generator, in the order cases are made.
pub static GENERATORS: &[Generator] = &[
    g(
        "suffix",
        "string",
        "the declared value with `-evil` appended (prefix comparison)",
    ),
    g(
        "prefix",
        "string",
        "`evil-` prepended (suffix comparison, unanchored pattern)",
    ),
    g(
        "embedded",
        "string",
        "inside a longer value (substring comparison)",
    ),
    g(
        "case-upper",
        "string",
        "upper-cased (case-insensitive comparison)",
    ),
    g(
        "case-lower",
        "string",
        "lower-cased (case-insensitive comparison)",
    ),
    g(
        "lookalike",
        "string",
        "one letter replaced by a Cyrillic look-alike",
    ),
    g(
        "fullwidth",
        "string",
        "one character in its full-width form (NFKC folds it back)",
    ),
    g(
        "zero-width",
        "string",
        "a zero-width space inside (stripped by some normalisers)",
    ),
    g(
        "whitespace",
        "string",
        "surrounded by spaces (trimming comparison)",
    ),
    g("newline", "string", "a trailing CR LF"),
    g("nul", "string", "`\\0evil` appended (C-string comparison)"),
    g(
        "truncated",
        "string",
        "the last character dropped (reverse prefix comparison)",
    ),
    g(
        "half",
        "string",
        "the first half only (reverse substring comparison)",
    ),
    g(
        "array-alone",
        "string",
        "an array holding only the value, where a string is expected",
    ),
    g(
        "array-foreign-first",
        "string",
        "an array: a foreign value, then the declared one",
    ),
    g(
        "array-foreign-last",
        "string",
        "an array: the declared value, then a foreign one",
    ),
    g("number", "string", "a number (its numeric reading, or 0)"),
    g(
        "boolean",
        "string",
        "a boolean (`true`, or its own reading)",
    ),
    g("object", "string", "an object holding the value"),
    g("null", "string", "JSON null"),
    g(
        "absent",
        "any",
        "the claim left out (a check that runs only when the claim is present)",
    ),
    g(
        "only-lookalikes",
        "aud",
        "an `aud` array holding only look-alikes of the declared value",
    ),
    g(
        "other-workspace-ari",
        "aud",
        "another workspace's ARI `ari:cloud:bitbucket::workspace/{uuid}` in place of this one's",
    ),
    g(
        "other-service",
        "aud",
        "this workspace's token asking for another custom audience, not the declared one",
    ),
    g("trailing-slash", "iss", "the issuer with a trailing `/`"),
    g("http", "iss", "the issuer over `http://`"),
    g(
        "other-workspace-issuer",
        "iss",
        "another workspace's issuer on the same host, the other claims this workspace's",
    ),
    g(
        "other-workspace",
        "iss",
        "another workspace's token as Bitbucket issues it (issuer, workspace, ARI audience, repository)",
    ),
    g(
        "other-workspace-audience",
        "iss",
        "another workspace's token asking for the declared audiences as custom audiences",
    ),
    g("segment-extra", "sub", "an extra `:` segment appended"),
    g("segment-missing", "sub", "the last `:` segment dropped"),
    g("env-dropped", "sub", "the environment segment dropped"),
    g(
        "env-moved",
        "sub",
        "the environment segment moved to the end",
    ),
    g(
        "other-repository",
        "sub",
        "another repository's step token (`sub` and `repositoryUuid`, as Bitbucket issues them)",
    ),
    g(
        "other-environment",
        "sub",
        "a step deploying to another environment (`sub` and `deploymentEnvironmentUuid`)",
    ),
    g(
        "non-deployment",
        "sub",
        "a step that is no deployment: no environment in `sub`, no `deploymentEnvironmentUuid`",
    ),
    g(
        "deployment",
        "sub",
        "a deployment step where the genuine one is none (an environment in `sub` and its claim)",
    ),
    g(
        "repository-suffix",
        "sub",
        "text appended to the repository segment",
    ),
    g(
        "literal-pattern",
        "sub",
        "the declared pattern itself, `*` and `?` as literal text",
    ),
    g(
        "star-segment",
        "sub",
        "the last segment replaced by a literal `*`",
    ),
    g(
        "uuid-upper",
        "uuid",
        "the UUIDs upper-cased (Bitbucket writes them lower-case)",
    ),
    g(
        "uuid-unbraced",
        "uuid",
        "the UUIDs without their braces (Bitbucket writes them in braces)",
    ),
    g(
        "coerced-string",
        "typed",
        "a declared number or boolean sent as its string",
    ),
    g(
        "exp-beyond-leeway",
        "time",
        "`exp` 90 s further in the past than the declared leeway",
    ),
    g(
        "exp-within-leeway",
        "time",
        "`exp` in the past by half the declared leeway",
    ),
    g(
        "nbf-beyond-leeway",
        "time",
        "`nbf` 90 s further in the future than the leeway",
    ),
    g(
        "iat-beyond-leeway",
        "time",
        "`iat` 90 s further in the future than the leeway",
    ),
    g(
        "iat-beyond-max-age",
        "time",
        "`iat` 90 s older than the declared maximum age",
    ),
];

/// A generator's description, or nothing for a name that is none.
pub fn description(name: &str) -> &'static str {
    GENERATORS
        .iter()
        .find(|g| g.name == name)
        .map_or("", |g| g.description)
}
