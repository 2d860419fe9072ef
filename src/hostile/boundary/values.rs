//! The value makers: what a loose comparison could take for a declared value (longer,
//! shorter, re-cased, look-alike, normalised, wrapped, retyped), one `(generator, value)` pair
//! each.

use serde_json::{Value, json};

/// What the generators add or wrap around a declared value.
pub(super) const FOREIGN: &str = "evil";

/// The Cyrillic look-alike of a Latin letter.
pub(super) fn lookalike(c: char) -> Option<char> {
    Some(match c {
        'a' => 'а',
        'c' => 'с',
        'e' => 'е',
        'o' => 'о',
        'p' => 'р',
        'x' => 'х',
        'y' => 'у',
        'i' => 'і',
        's' => 'ѕ',
        'A' => 'А',
        'B' => 'В',
        'C' => 'С',
        'E' => 'Е',
        'H' => 'Н',
        'K' => 'К',
        'M' => 'М',
        'O' => 'О',
        'P' => 'Р',
        'T' => 'Т',
        'X' => 'Х',
        _ => return None,
    })
}

/// `v` with the first character `f` maps replaced.
pub(super) fn replace_first(v: &str, f: impl Fn(char) -> Option<char>) -> Option<String> {
    let (i, c, r) = v
        .char_indices()
        .find_map(|(i, c)| f(c).map(|r| (i, c, r)))?;
    Some(format!("{}{r}{}", &v[..i], &v[i + c.len_utf8()..]))
}

fn first_half(v: &str) -> String {
    let n = v.chars().count();
    v.chars().take(n / 2).collect()
}

/// The string generators applied to `v`: (generator, value).
pub(super) fn string_variants(v: &str) -> Vec<(&'static str, Value)> {
    let mut out: Vec<(&'static str, Value)> = vec![
        ("suffix", format!("{v}-{FOREIGN}").into()),
        ("prefix", format!("{FOREIGN}-{v}").into()),
        ("embedded", format!("{FOREIGN}-{v}-{FOREIGN}").into()),
        ("case-upper", v.to_uppercase().into()),
        ("case-lower", v.to_lowercase().into()),
    ];
    if let Some(s) = replace_first(v, lookalike) {
        out.push(("lookalike", s.into()));
    }
    if let Some(s) = replace_first(v, |c| {
        c.is_ascii_alphanumeric()
            .then(|| char::from_u32(c as u32 + 0xFEE0))
            .flatten()
    }) {
        out.push(("fullwidth", s.into()));
    }
    if let Some((i, c)) = v.char_indices().next() {
        let at = i + c.len_utf8();
        out.push((
            "zero-width",
            format!("{}\u{200B}{}", &v[..at], &v[at..]).into(),
        ));
    }
    out.push(("whitespace", format!(" {v} ").into()));
    out.push(("newline", format!("{v}\r\n").into()));
    out.push(("nul", format!("{v}\u{0}{FOREIGN}").into()));
    if v.chars().count() >= 2 {
        let mut t: Vec<char> = v.chars().collect();
        t.pop();
        out.push(("truncated", t.into_iter().collect::<String>().into()));
    }
    if v.chars().count() >= 4 {
        out.push(("half", first_half(v).into()));
    }
    out.push(("array-alone", json!([v])));
    out.push(("array-foreign-first", json!([FOREIGN, v])));
    out.push(("array-foreign-last", json!([v, FOREIGN])));
    let number = v
        .trim()
        .parse::<i64>()
        .map(Value::from)
        .or_else(|_| v.trim().parse::<f64>().map(Value::from))
        .unwrap_or_else(|_| Value::from(0));
    out.push(("number", number));
    let boolean = !matches!(v.trim(), "false" | "False" | "0");
    out.push(("boolean", boolean.into()));
    out.push(("object", json!({ "value": v })));
    out.push(("null", Value::Null));
    out
}

/// Variants of a declared non-string value (number, boolean): its string form, wrapped, null.
pub(super) fn typed_variants(v: &Value) -> Vec<(&'static str, Value)> {
    let text = match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    vec![
        ("coerced-string", text.into()),
        ("array-alone", json!([v])),
        ("array-foreign-first", json!([FOREIGN, v])),
        ("object", json!({ "value": v })),
        ("null", Value::Null),
    ]
}
