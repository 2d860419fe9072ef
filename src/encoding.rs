//! Small encodings shared by the token and key code: base64url and PEM; and the two ways text
//! is made safe to show: on a terminal ([`printable`]) and in a POSIX shell ([`shell_quote`]).

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

/// Unpadded base64url, as JOSE uses everywhere.
pub fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes unpadded base64url (padding and other alphabets are refused).
pub fn b64url_decode(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text).ok()
}

/// PEM with 64-column lines.
pub fn pem_encode(label: &str, der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in body.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// Whether `c` would act on a terminal instead of showing: C0 and C1 controls, DEL, and the
/// bidirectional controls that reorder what follows (Trojan Source), line separators.
pub fn is_unprintable(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{2028}' | '\u{2029}'
        )
}

/// `text` safe to print on a terminal: every [unprintable](is_unprintable) character shown as
/// an escape (`\n`, `\u{1b}`), everything else as it is. Untrusted text (a token's `kid`, a
/// YAML step name, a request path) goes through this before it reaches human-readable output.
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    // Printable ASCII, what nearly every log line is, needs no per-character decoding.
    if text.bytes().all(|b| (0x20..0x7f).contains(&b)) || !text.chars().any(is_unprintable) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if is_unprintable(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Quotes `s` for a POSIX shell.
pub fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-+:=@%,".contains(&b))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_escapes_what_a_terminal_would_act_on() {
        assert_eq!(printable("plain é ✓"), "plain é ✓");
        assert_eq!(
            printable("a\nACCEPTED\u{1b}]0;x\u{7}\u{9b}2J\u{202e}z"),
            "a\\nACCEPTED\\u{1b}]0;x\\u{7}\\u{9b}2J\\u{202e}z"
        );
        assert!(!printable("\u{0}\u{7f}\u{2028}").chars().any(is_unprintable));
    }
}
