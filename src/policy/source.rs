//! Reading a policy file safely: a size cap and a nesting cap checked on the raw bytes before
//! any parser recurses, duplicate members refused, and a line index so errors and findings can
//! name the line a statement or key sits on.

use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::validate::parse_object;

/// The largest policy file read (bytes). IAM's own limit for a trust policy is a few kB; a
/// megabyte leaves room for any real document and refuses a 10 MB one before parsing it.
pub const MAX_POLICY_BYTES: usize = 1 << 20;
/// The deepest nesting accepted. Real policies nest four or five levels.
pub const MAX_POLICY_DEPTH: usize = 32;

/// A policy's text with its line index.
#[derive(Debug, Clone)]
pub struct Source {
    text: String,
    line_starts: Vec<usize>,
}

impl Source {
    /// Checks `text`'s size and nesting, then parses it as one JSON object.
    pub fn parse(text: &str) -> Result<(Source, Map<String, Value>)> {
        if text.len() > MAX_POLICY_BYTES {
            return Err(Error::invalid(
                "policy",
                format!(
                    "the file is {} bytes; policies larger than {} bytes are refused (an IAM trust \
                     policy is at most a few kilobytes)",
                    text.len(),
                    MAX_POLICY_BYTES
                ),
            ));
        }
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        if let Some((line, col)) = too_deep(text, MAX_POLICY_DEPTH) {
            return Err(Error::invalid(
                "policy",
                format!(
                    "line {line} column {col}: nested deeper than {MAX_POLICY_DEPTH} levels (no \
                     policy needs that; refused before parsing)"
                ),
            ));
        }
        if text.trim().is_empty() {
            return Err(Error::invalid("policy", "the file is empty"));
        }
        let first = text.trim_start().chars().next().unwrap_or(' ');
        if first != '{' {
            return Err(Error::invalid(
                "policy",
                format!(
                    "not a JSON policy document: it starts with `{}` where a `{{` was expected",
                    crate::encoding::printable(&first.to_string())
                ),
            ));
        }
        let map = parse_object(text.as_bytes(), MAX_POLICY_DEPTH + 1)
            .map_err(|e| Error::invalid("policy", format!("invalid JSON: {e}")))?;
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Ok((
            Source {
                text: text.to_string(),
                line_starts,
            },
            map,
        ))
    }

    /// A source for a document built in code (no file): every line lookup answers `None`.
    pub fn synthetic() -> Source {
        Source {
            text: String::new(),
            line_starts: vec![0],
        }
    }

    /// The 1-based line of byte `offset`.
    pub fn line_of(&self, offset: usize) -> usize {
        self.line_starts.partition_point(|&s| s <= offset)
    }

    /// The byte offset of the `n`th (0-based) occurrence of the JSON member name `key` (quoted,
    /// followed by a colon) at or after `from`, if any.
    pub fn find_key(&self, key: &str, from: usize) -> Option<usize> {
        let quoted = serde_json::to_string(key).ok()?;
        let mut at = from.min(self.text.len());
        while let Some(i) = self.text.get(at..)?.find(&quoted) {
            let pos = at + i;
            let rest = self.text[pos + quoted.len()..].trim_start();
            if rest.starts_with(':') {
                return Some(pos);
            }
            at = pos + quoted.len();
        }
        None
    }

    /// The line of member `key` at or after `from`.
    pub fn key_line(&self, key: &str, from: usize) -> Option<usize> {
        if self.text.is_empty() {
            return None;
        }
        self.find_key(key, from).map(|o| self.line_of(o))
    }

    /// The byte offsets where each element of the top-level array member `key` starts, in
    /// order (empty when it is not an array, or when the document is synthetic).
    pub fn array_elements(&self, key: &str) -> Vec<usize> {
        let Some(start) = self.find_key(key, 0) else {
            return Vec::new();
        };
        let bytes = self.text.as_bytes();
        let mut i = start + key.len() + 2;
        while i < bytes.len() && bytes[i] != b':' {
            i += 1;
        }
        i += 1;
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= bytes.len() {
            return Vec::new();
        }
        if bytes[i] != b'[' {
            return vec![i];
        }
        let mut out = Vec::new();
        let mut depth = 0usize;
        let mut in_str = false;
        let mut escaped = false;
        let mut expect_value = true;
        for (j, &b) in bytes.iter().enumerate().skip(i) {
            if in_str {
                match (escaped, b) {
                    (true, _) => escaped = false,
                    (false, b'\\') => escaped = true,
                    (false, b'"') => in_str = false,
                    _ => {}
                }
                continue;
            }
            match b {
                b'[' | b'{' => {
                    if depth == 1 && expect_value {
                        out.push(j);
                        expect_value = false;
                    }
                    depth += 1;
                }
                b']' | b'}' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        break;
                    }
                }
                b',' if depth == 1 => expect_value = true,
                b'"' => {
                    if depth == 1 && expect_value {
                        out.push(j);
                        expect_value = false;
                    }
                    in_str = true;
                }
                c if depth == 1 && expect_value && !c.is_ascii_whitespace() => {
                    out.push(j);
                    expect_value = false;
                }
                _ => {}
            }
        }
        out
    }
}

/// Where nesting first exceeds `max` (1-based line and column), scanning strings correctly.
fn too_deep(text: &str, max: usize) -> Option<(usize, usize)> {
    let (mut depth, mut line, mut col) = (0usize, 1usize, 0usize);
    let (mut in_str, mut escaped) = (false, false);
    for c in text.chars() {
        col += 1;
        if c == '\n' {
            line += 1;
            col = 0;
        }
        if in_str {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_str = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_str = true,
            '[' | '{' => {
                depth += 1;
                if depth > max {
                    return Some((line, col));
                }
            }
            ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statement_offsets_and_lines() {
        let text = "{\n \"Statement\": [\n  {\"Sid\": \"a\"},\n  {\"Sid\": \"b\"}\n ]\n}";
        let (src, _) = Source::parse(text).unwrap();
        let starts = src.array_elements("Statement");
        assert_eq!(starts.len(), 2);
        assert_eq!(src.line_of(starts[0]), 3);
        assert_eq!(src.line_of(starts[1]), 4);
        assert_eq!(src.key_line("Sid", starts[1]), Some(4));
    }

    #[test]
    fn depth_and_size_caps() {
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        let e = Source::parse(&format!("{{\"a\": {deep}}}")).unwrap_err();
        assert!(e.to_string().contains("nested deeper"), "{e}");
        let big = format!("{{\"a\": \"{}\"}}", "x".repeat(MAX_POLICY_BYTES));
        assert!(
            Source::parse(&big)
                .unwrap_err()
                .to_string()
                .contains("bytes")
        );
        assert!(
            Source::parse("not json")
                .unwrap_err()
                .to_string()
                .contains("not a JSON")
        );
        let e = Source::parse("{\n\"a\": 1,\n\"a\": 2}")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line"), "{e}");
    }
}
