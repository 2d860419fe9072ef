//! An IAM trust policy as data: statements with their effect, principal, action and condition
//! clauses, each remembering its index, `Sid` and line so every error and finding can point at
//! it. Parsing refuses what IAM itself refuses (an unknown condition operator, a `Resource` in a
//! trust policy, an `Effect` that is neither `Allow` nor `Deny`); what IAM accepts but cannot
//! mean what it says is left to the lints.

use serde_json::{Map, Value};

use super::conditions::Operator;
use crate::error::{Error, Result};
use crate::policy::source::Source;

/// A parsed trust policy.
#[derive(Debug, Clone)]
pub struct TrustPolicy {
    /// `Version`, if given.
    pub version: Option<String>,
    /// The statements, in document order.
    pub statements: Vec<Statement>,
    /// Characters of the document without whitespace (IAM's quota counts these).
    pub size: usize,
}

/// `Allow` or `Deny`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Grants when everything matches.
    Allow,
    /// Refuses when everything matches; wins over any `Allow`.
    Deny,
}

/// One principal entry: its type (`Federated`, `AWS`, `Service`, `CanonicalUser`, or `*` for a
/// bare wildcard) and value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The principal type.
    pub kind: String,
    /// The value (an ARN, a provider, or `*`).
    pub value: String,
}

/// A condition clause: one operator applied to one key with its values (ORed).
#[derive(Debug, Clone)]
pub struct Clause {
    /// The operator.
    pub op: Operator,
    /// The condition key as written.
    pub key: String,
    /// The values, as strings (IAM compares booleans and numbers by their text too).
    pub values: Vec<String>,
    /// The key's line.
    pub line: Option<usize>,
}

/// One statement.
#[derive(Debug, Clone)]
pub struct Statement {
    /// Its position in `Statement`.
    pub index: usize,
    /// Its `Sid`.
    pub sid: Option<String>,
    /// The line it starts on.
    pub line: Option<usize>,
    /// Allow or Deny.
    pub effect: Effect,
    /// `Principal` entries (`None` with `not_principal`).
    pub principals: Vec<Principal>,
    /// Whether the principals came from `NotPrincipal`.
    pub not_principal: bool,
    /// `Action` or `NotAction` patterns.
    pub actions: Vec<String>,
    /// Whether the actions came from `NotAction`.
    pub not_action: bool,
    /// Condition clauses, ANDed.
    pub clauses: Vec<Clause>,
}

impl Statement {
    /// `Statement[0] (Sid X)`, for messages.
    pub fn label(&self) -> String {
        match &self.sid {
            Some(sid) if !sid.is_empty() => format!("Statement[{}] (Sid {sid})", self.index),
            _ => format!("Statement[{}]", self.index),
        }
    }

    /// The label with the line, for errors.
    pub fn label_at(&self) -> String {
        match self.line {
            Some(l) => format!("{} at line {l}", self.label()),
            None => self.label(),
        }
    }
}

const STATEMENT_KEYS: [&str; 9] = [
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Condition",
    "Resource",
    "NotResource",
];

/// Parses a trust policy document.
pub fn parse(src: &Source, doc: &Map<String, Value>) -> Result<TrustPolicy> {
    for key in doc.keys() {
        if !["Version", "Id", "Statement"].contains(&key.as_str()) {
            return Err(err(
                src,
                None,
                key,
                format!(
                    "unknown top-level member `{key}` (a trust policy has Version, Id and Statement)"
                ),
            ));
        }
    }
    let version = match doc.get("Version") {
        None => None,
        Some(Value::String(v)) if v == "2012-10-17" || v == "2008-10-17" => Some(v.clone()),
        Some(other) => {
            return Err(err(
                src,
                None,
                "Version",
                format!("Version must be \"2012-10-17\" (or the old \"2008-10-17\"), not {other}"),
            ));
        }
    };
    let raw: Vec<&Value> = match doc.get("Statement") {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(obj @ Value::Object(_)) => vec![obj],
        Some(_) => {
            return Err(err(
                src,
                None,
                "Statement",
                "Statement must be an object or a list of objects",
            ));
        }
        None => {
            return Err(Error::invalid(
                "policy",
                "the trust policy has no Statement",
            ));
        }
    };
    if raw.is_empty() {
        return Err(Error::invalid(
            "policy",
            "Statement is an empty list: nobody can assume this role",
        ));
    }
    let starts = src.array_elements("Statement");
    let mut statements = Vec::with_capacity(raw.len());
    for (index, value) in raw.into_iter().enumerate() {
        let start = starts.get(index).copied();
        let line = start.map(|o| src.line_of(o));
        statements.push(statement(src, index, start.unwrap_or(0), line, value)?);
    }
    let size = serde_json::to_string(doc)
        .map(|s| s.chars().filter(|c| !c.is_whitespace()).count())
        .unwrap_or(0);
    Ok(TrustPolicy {
        version,
        statements,
        size,
    })
}

fn err(src: &Source, stmt: Option<&str>, key: &str, message: impl Into<String>) -> Error {
    let message = message.into();
    let line = src.key_line(key, 0);
    let place = match (stmt, line) {
        (Some(s), Some(l)) => format!("{s}, line {l}: "),
        (Some(s), None) => format!("{s}: "),
        (None, Some(l)) => format!("line {l}: "),
        (None, None) => String::new(),
    };
    Error::invalid("policy", format!("{place}{message}"))
}

fn statement(
    src: &Source,
    index: usize,
    start: usize,
    line: Option<usize>,
    value: &Value,
) -> Result<Statement> {
    let label = |sid: &Option<String>| {
        let base = match sid {
            Some(s) => format!("Statement[{index}] (Sid {s})"),
            None => format!("Statement[{index}]"),
        };
        match line {
            Some(l) => format!("{base} at line {l}"),
            None => base,
        }
    };
    let Value::Object(obj) = value else {
        return Err(Error::invalid(
            "policy",
            format!("{}: a statement must be a JSON object", label(&None)),
        ));
    };
    let sid = match obj.get("Sid") {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => {
            return Err(Error::invalid(
                "policy",
                format!("{}: Sid must be a string", label(&None)),
            ));
        }
    };
    let here = label(&sid);
    let fail = |key: &str, message: String| -> Error {
        match src.key_line(key, start) {
            Some(l) => Error::invalid("policy", format!("{here}: line {l}: {message}")),
            None => Error::invalid("policy", format!("{here}: {message}")),
        }
    };
    for key in obj.keys() {
        if !STATEMENT_KEYS.contains(&key.as_str()) {
            return Err(fail(key, format!("unknown statement member `{key}`")));
        }
    }
    if obj.contains_key("Resource") || obj.contains_key("NotResource") {
        return Err(fail("Resource", "a role trust policy cannot have Resource or NotResource (IAM refuses it: \"Has prohibited field Resource\")".into()));
    }
    let effect = match obj.get("Effect") {
        Some(Value::String(e)) if e == "Allow" => Effect::Allow,
        Some(Value::String(e)) if e == "Deny" => Effect::Deny,
        Some(other) => {
            return Err(fail(
                "Effect",
                format!("Effect must be \"Allow\" or \"Deny\" (case-sensitive), not {other}"),
            ));
        }
        None => return Err(fail("Statement", "the statement has no Effect".into())),
    };
    let (principal_value, not_principal) = match (obj.get("Principal"), obj.get("NotPrincipal")) {
        (Some(p), None) => (p, false),
        (None, Some(p)) => (p, true),
        (Some(_), Some(_)) => {
            return Err(fail(
                "NotPrincipal",
                "a statement cannot have both Principal and NotPrincipal".into(),
            ));
        }
        (None, None) => {
            return Err(fail(
                "Effect",
                "a trust policy statement needs a Principal".into(),
            ));
        }
    };
    if not_principal && effect == Effect::Allow {
        return Err(fail("NotPrincipal", "NotPrincipal with Allow is refused in a trust policy (it would trust everyone but the listed principals); name the Federated provider in Principal instead".into()));
    }
    let principals = principals(principal_value).map_err(|m| {
        fail(
            if not_principal {
                "NotPrincipal"
            } else {
                "Principal"
            },
            m,
        )
    })?;
    let (action_value, not_action) = match (obj.get("Action"), obj.get("NotAction")) {
        (Some(a), None) => (a, false),
        (None, Some(a)) => (a, true),
        (Some(_), Some(_)) => {
            return Err(fail(
                "NotAction",
                "a statement cannot have both Action and NotAction".into(),
            ));
        }
        (None, None) => {
            return Err(fail(
                "Effect",
                "the statement has no Action (use \"sts:AssumeRoleWithWebIdentity\")".into(),
            ));
        }
    };
    let actions = strings(action_value).map_err(|m| {
        fail(
            if not_action { "NotAction" } else { "Action" },
            format!("Action: {m}"),
        )
    })?;
    let mut clauses = Vec::new();
    match obj.get("Condition") {
        None => {}
        Some(Value::Object(block)) => {
            for (op_name, keys) in block {
                let op = Operator::parse(op_name).map_err(|m| fail(op_name, m))?;
                let Value::Object(keys) = keys else {
                    return Err(fail(
                        op_name,
                        format!("the value of {op_name} must be an object of condition keys"),
                    ));
                };
                let op_at = src.find_key(op_name, start).unwrap_or(start);
                for (key, values) in keys {
                    let values =
                        strings(values).map_err(|m| fail(key, format!("{op_name} {key}: {m}")))?;
                    if key.trim().is_empty() {
                        return Err(fail(
                            op_name,
                            format!("{op_name} has an empty condition key"),
                        ));
                    }
                    op.check_values(&values)
                        .map_err(|m| fail(key, format!("{op_name} {key}: {m}")))?;
                    clauses.push(Clause {
                        op: op.clone(),
                        key: key.clone(),
                        values,
                        line: src.key_line(key, op_at),
                    });
                }
            }
        }
        Some(_) => {
            return Err(fail(
                "Condition",
                "Condition must be an object of operators".into(),
            ));
        }
    }
    Ok(Statement {
        index,
        sid,
        line,
        effect,
        principals,
        not_principal,
        actions,
        not_action,
        clauses,
    })
}

fn principals(value: &Value) -> std::result::Result<Vec<Principal>, String> {
    match value {
        Value::String(s) if s == "*" => Ok(vec![Principal {
            kind: "*".into(),
            value: "*".into(),
        }]),
        Value::String(s) => Err(format!(
            "Principal must be \"*\" or an object such as {{\"Federated\": \"arn:aws:iam::ACCOUNT:oidc-provider/...\"}}, not \"{}\"",
            crate::encoding::printable(s)
        )),
        Value::Object(map) => {
            let mut out = Vec::new();
            for (kind, v) in map {
                if !["Federated", "AWS", "Service", "CanonicalUser"].contains(&kind.as_str()) {
                    return Err(format!(
                        "unknown principal type `{kind}` (Federated, AWS, Service or CanonicalUser)"
                    ));
                }
                for value in strings(v).map_err(|m| format!("Principal.{kind}: {m}"))? {
                    out.push(Principal {
                        kind: kind.clone(),
                        value,
                    });
                }
            }
            if out.is_empty() {
                return Err("Principal names nobody".into());
            }
            Ok(out)
        }
        _ => Err("Principal must be \"*\" or an object".into()),
    }
}

/// A string or a non-empty list of strings (booleans and numbers taken by their JSON text, as
/// IAM does).
fn strings(value: &Value) -> std::result::Result<Vec<String>, String> {
    let one = |v: &Value| match v {
        Value::String(s) => Ok(s.clone()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Number(n) => Ok(n.to_string()),
        other => Err(format!(
            "expected a string or a list of strings, found {}",
            json_kind(other)
        )),
    };
    match value {
        Value::Array(items) if items.is_empty() => Err("an empty list matches nothing".into()),
        Value::Array(items) => items.iter().map(one).collect(),
        v => one(v).map(|s| vec![s]),
    }
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}
