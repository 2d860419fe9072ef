//! IAM condition operators and how one clause holds against the request context, as the IAM
//! documentation states it: values of one key are ORed; a key absent from the request makes a
//! clause false, except for the negated operators (true), `...IfExists` (true) and `Null`;
//! `ForAnyValue:` is false on an absent key and `ForAllValues:` is TRUE on one. IAM does not
//! document a plain (unqualified) operator against a key with several values; here a positive
//! operator holds when any value matches and a negated one when none does, and the lints warn.

use std::net::IpAddr;

use crate::validate::string_like;

/// The operator family and its sense.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Base {
    /// `StringEquals`.
    StringEquals,
    /// `StringNotEquals`.
    StringNotEquals,
    /// `StringEqualsIgnoreCase`.
    StringEqualsIgnoreCase,
    /// `StringNotEqualsIgnoreCase`.
    StringNotEqualsIgnoreCase,
    /// `StringLike` (`*` any run, `?` one character).
    StringLike,
    /// `StringNotLike`.
    StringNotLike,
    /// `NumericEquals` and friends.
    Numeric(Cmp, bool),
    /// `DateEquals` and friends.
    Date(Cmp, bool),
    /// `Bool`.
    Bool,
    /// `ArnEquals` / `ArnLike` (both match wildcards).
    ArnLike,
    /// `ArnNotEquals` / `ArnNotLike`.
    ArnNotLike,
    /// `IpAddress`.
    IpAddress,
    /// `NotIpAddress`.
    NotIpAddress,
    /// `Null`: `true` means the key must be absent.
    Null,
}

/// A comparison for the numeric and date operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    /// `=`.
    Eq,
    /// `<`.
    Lt,
    /// `<=`.
    Le,
    /// `>`.
    Gt,
    /// `>=`.
    Ge,
}

/// `ForAnyValue:` or `ForAllValues:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetQualifier {
    /// At least one request value matches.
    ForAnyValue,
    /// Every request value matches (vacuously true when the key is absent).
    ForAllValues,
}

/// A parsed operator name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operator {
    /// As written.
    pub name: String,
    /// Set qualifier, if any.
    pub qualifier: Option<SetQualifier>,
    /// The base operator.
    pub base: Base,
    /// `...IfExists`.
    pub if_exists: bool,
}

impl Operator {
    /// Parses an operator name; an unknown one is an error naming the known ones.
    pub fn parse(name: &str) -> Result<Operator, String> {
        let (qualifier, rest) = if let Some(r) = name.strip_prefix("ForAnyValue:") {
            (Some(SetQualifier::ForAnyValue), r)
        } else if let Some(r) = name.strip_prefix("ForAllValues:") {
            (Some(SetQualifier::ForAllValues), r)
        } else {
            (None, name)
        };
        let (rest, if_exists) = match rest.strip_suffix("IfExists") {
            Some(r) if r != "Null" => (r, true),
            _ => (rest, false),
        };
        use Base::*;
        let base = match rest {
            "StringEquals" => StringEquals,
            "StringNotEquals" => StringNotEquals,
            "StringEqualsIgnoreCase" => StringEqualsIgnoreCase,
            "StringNotEqualsIgnoreCase" => StringNotEqualsIgnoreCase,
            "StringLike" => StringLike,
            "StringNotLike" => StringNotLike,
            "NumericEquals" => Numeric(Cmp::Eq, false),
            "NumericNotEquals" => Numeric(Cmp::Eq, true),
            "NumericLessThan" => Numeric(Cmp::Lt, false),
            "NumericLessThanEquals" => Numeric(Cmp::Le, false),
            "NumericGreaterThan" => Numeric(Cmp::Gt, false),
            "NumericGreaterThanEquals" => Numeric(Cmp::Ge, false),
            "DateEquals" => Date(Cmp::Eq, false),
            "DateNotEquals" => Date(Cmp::Eq, true),
            "DateLessThan" => Date(Cmp::Lt, false),
            "DateLessThanEquals" => Date(Cmp::Le, false),
            "DateGreaterThan" => Date(Cmp::Gt, false),
            "DateGreaterThanEquals" => Date(Cmp::Ge, false),
            "Bool" => Bool,
            "ArnEquals" | "ArnLike" => ArnLike,
            "ArnNotEquals" | "ArnNotLike" => ArnNotLike,
            "IpAddress" => IpAddress,
            "NotIpAddress" => NotIpAddress,
            "Null" if !if_exists => Null,
            _ => {
                let hint = crate::pipelines::closest(rest, KNOWN.iter().copied())
                    .map(|c| format!(" (did you mean {c}?)"))
                    .unwrap_or_default();
                return Err(format!(
                    "unknown condition operator `{}`{hint}; IAM refuses the policy. Known: \
                     String*, Numeric*, Date*, Bool, Arn*, IpAddress, NotIpAddress, Null, with \
                     ForAnyValue:/ForAllValues: and ...IfExists",
                    crate::encoding::printable(name)
                ));
            }
        };
        Ok(Operator {
            name: name.to_string(),
            qualifier,
            base,
            if_exists,
        })
    }

    /// Whether this is a negated operator (true on an absent key).
    pub fn negated(&self) -> bool {
        matches!(
            self.base,
            Base::StringNotEquals
                | Base::StringNotEqualsIgnoreCase
                | Base::StringNotLike
                | Base::ArnNotLike
                | Base::NotIpAddress
                | Base::Numeric(_, true)
                | Base::Date(_, true)
        )
    }

    /// Whether this is a string operator that compares exactly (where `*` is a literal).
    pub fn is_exact_string(&self) -> bool {
        matches!(
            self.base,
            Base::StringEquals
                | Base::StringEqualsIgnoreCase
                | Base::StringNotEquals
                | Base::StringNotEqualsIgnoreCase
        )
    }

    /// Checks the policy values once, at parse time: what IAM would refuse.
    pub fn check_values(&self, values: &[String]) -> Result<(), String> {
        for v in values {
            let ok = match self.base {
                Base::Numeric(..) => v.trim().parse::<f64>().is_ok(),
                Base::Date(..) => parse_date(v).is_some(),
                Base::Bool | Base::Null => {
                    v.eq_ignore_ascii_case("true") || v.eq_ignore_ascii_case("false")
                }
                Base::IpAddress | Base::NotIpAddress => parse_cidr(v).is_some(),
                _ => true,
            };
            if !ok {
                return Err(format!(
                    "`{}` is not a valid value for {}",
                    crate::encoding::printable(v),
                    self.name
                ));
            }
        }
        Ok(())
    }

    /// Whether the clause holds for the request's values of its key (`None`: key absent).
    pub fn holds(&self, request: Option<&[String]>, policy: &[String]) -> bool {
        if self.base == Base::Null {
            let want_absent = policy.iter().any(|v| v.eq_ignore_ascii_case("true"));
            let want_present = policy.iter().any(|v| v.eq_ignore_ascii_case("false"));
            let absent = request.is_none_or(|r| r.is_empty());
            return (want_absent && absent) || (want_present && !absent);
        }
        let values = match request {
            Some(v) if !v.is_empty() => v,
            _ => {
                return match self.qualifier {
                    Some(SetQualifier::ForAllValues) => true,
                    Some(SetQualifier::ForAnyValue) => self.if_exists,
                    None => self.if_exists || self.negated(),
                };
            }
        };
        let one = |v: &String| self.value_matches(v, policy);
        match self.qualifier {
            Some(SetQualifier::ForAllValues) => values.iter().all(one),
            Some(SetQualifier::ForAnyValue) => values.iter().any(one),
            None if self.negated() => values.iter().all(one),
            None => values.iter().any(one),
        }
    }

    /// Whether one request value satisfies the operator against the policy values (ORed for a
    /// positive operator; for a negated one, the value must match none of them).
    fn value_matches(&self, v: &str, policy: &[String]) -> bool {
        use Base::*;
        let any = |f: &dyn Fn(&str) -> bool| policy.iter().any(|p| f(p));
        match self.base {
            StringEquals => any(&|p| p == v),
            StringNotEquals => !any(&|p| p == v),
            StringEqualsIgnoreCase => any(&|p| p.to_lowercase() == v.to_lowercase()),
            StringNotEqualsIgnoreCase => !any(&|p| p.to_lowercase() == v.to_lowercase()),
            StringLike | ArnLike => any(&|p| string_like(p, v)),
            StringNotLike | ArnNotLike => !any(&|p| string_like(p, v)),
            Numeric(cmp, neg) => match v.trim().parse::<f64>() {
                Ok(x) => {
                    let m = any(&|p| p.trim().parse::<f64>().is_ok_and(|y| compare(cmp, x, y)));
                    m != neg
                }
                Err(_) => false,
            },
            Date(cmp, neg) => match parse_date(v) {
                Some(x) => {
                    let m =
                        any(&|p| parse_date(p).is_some_and(|y| compare(cmp, x as f64, y as f64)));
                    m != neg
                }
                None => false,
            },
            Bool => any(&|p| p.eq_ignore_ascii_case(v)),
            IpAddress => any(&|p| ip_in(v, p)),
            NotIpAddress => !any(&|p| ip_in(v, p)),
            Null => false,
        }
    }
}

const KNOWN: [&str; 22] = [
    "StringEquals",
    "StringNotEquals",
    "StringEqualsIgnoreCase",
    "StringNotEqualsIgnoreCase",
    "StringLike",
    "StringNotLike",
    "NumericEquals",
    "NumericNotEquals",
    "NumericLessThan",
    "NumericLessThanEquals",
    "NumericGreaterThan",
    "NumericGreaterThanEquals",
    "DateEquals",
    "DateNotEquals",
    "DateLessThan",
    "DateGreaterThan",
    "Bool",
    "ArnEquals",
    "ArnLike",
    "ArnNotLike",
    "IpAddress",
    "Null",
];

fn compare(cmp: Cmp, x: f64, y: f64) -> bool {
    match cmp {
        Cmp::Eq => x == y,
        Cmp::Lt => x < y,
        Cmp::Le => x <= y,
        Cmp::Gt => x > y,
        Cmp::Ge => x >= y,
    }
}

/// A date as IAM accepts it: RFC 3339 / ISO 8601 (`2026-01-01T00:00:00Z`, or a bare date) or
/// Unix epoch seconds. Unix seconds out.
pub fn parse_date(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Ok(n) = s.parse::<i64>() {
        return Some(n);
    }
    if let Ok(t) = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339) {
        return Some(t.unix_timestamp());
    }
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(s, &fmt)
        .ok()
        .map(|d| d.midnight().assume_utc().unix_timestamp())
}

fn parse_cidr(s: &str) -> Option<(IpAddr, u8)> {
    let (addr, bits) = match s.split_once('/') {
        Some((a, b)) => (a, b.parse::<u8>().ok()?),
        None => (s, if s.contains(':') { 128 } else { 32 }),
    };
    let addr: IpAddr = addr.trim().parse().ok()?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    (bits <= max).then_some((addr, bits))
}

fn ip_in(v: &str, cidr: &str) -> bool {
    let (Ok(ip), Some((net, bits))) = (v.trim().parse::<IpAddr>(), parse_cidr(cidr)) else {
        return false;
    };
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(b)) => {
            let mask = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - u32::from(bits))
            };
            u32::from(a) & mask == u32::from(b) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(b)) => {
            let mask = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - u32::from(bits))
            };
            u128::from(a) & mask == u128::from(b) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(s: &str) -> Operator {
        Operator::parse(s).unwrap()
    }
    fn v(xs: &[&str]) -> Vec<String> {
        xs.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn absent_keys() {
        assert!(!op("StringEquals").holds(None, &v(&["a"])));
        assert!(op("StringNotEquals").holds(None, &v(&["a"])));
        assert!(op("StringEqualsIfExists").holds(None, &v(&["a"])));
        assert!(op("ForAllValues:StringEquals").holds(None, &v(&["a"])));
        assert!(!op("ForAnyValue:StringEquals").holds(None, &v(&["a"])));
        assert!(op("Null").holds(None, &v(&["true"])));
        assert!(!op("Null").holds(Some(&v(&["x"])), &v(&["true"])));
        assert!(op("Null").holds(Some(&v(&["x"])), &v(&["false"])));
    }

    #[test]
    fn multivalued() {
        let req = v(&["a", "b"]);
        assert!(op("ForAnyValue:StringEquals").holds(Some(&req), &v(&["b"])));
        assert!(!op("ForAllValues:StringEquals").holds(Some(&req), &v(&["b"])));
        assert!(op("ForAllValues:StringEquals").holds(Some(&req), &v(&["a", "b", "c"])));
        assert!(op("StringLike").holds(Some(&v(&["main"])), &v(&["ma?n"])));
        assert!(!op("StringLike").holds(Some(&v(&["maain"])), &v(&["ma?n"])));
        assert!(op("StringEqualsIgnoreCase").holds(Some(&v(&["MAIN"])), &v(&["main"])));
        assert!(!op("StringEquals").holds(Some(&v(&["MAIN"])), &v(&["main"])));
        assert!(!op("StringEquals").holds(Some(&v(&["repo:x"])), &v(&["repo:*"])));
    }

    #[test]
    fn unknown_and_bad_values() {
        assert!(
            Operator::parse("StringEqual")
                .unwrap_err()
                .contains("StringEquals")
        );
        assert!(op("NumericLessThan").check_values(&v(&["x"])).is_err());
        assert!(op("IpAddress").holds(Some(&v(&["10.1.2.3"])), &v(&["10.0.0.0/8"])));
        assert!(
            op("DateGreaterThan").holds(Some(&v(&["2026-02-01T00:00:00Z"])), &v(&["2026-01-01"]))
        );
    }
}
