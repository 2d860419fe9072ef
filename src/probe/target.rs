//! Where the relying party is and how a token reaches it: HTTP templates, commands, and the
//! placeholders both take (`{token}`, `{token_json}`, `{token_url}`, `{issuer}`, `{audience}`,
//! `{ca}`).
//!
//! A `--shell` command never has a value pasted into its text: each placeholder becomes a
//! reference to an environment variable holding the value (`"${STEPMINT_TOKEN}"`, written to
//! suit the quotes it stands in), so whatever a token, branch name or audience holds (`$(...)`,
//! backticks, quotes, `;`, newlines) reaches the command byte for byte and is never shell
//! syntax.

use std::ops::RangeInclusive;

use crate::error::{Error, Result};

/// Where the relying party is.
#[derive(Debug, Clone)]
pub enum Target {
    /// An HTTP(S) endpoint.
    Http {
        /// URL template.
        url: String,
        /// HTTP method.
        method: String,
        /// `Name: value` templates.
        headers: Vec<(String, String)>,
        /// Body template.
        body: Option<String>,
        /// Statuses that mean "accepted".
        accept: RangeInclusive<u16>,
        /// Extra CA certificates (PEM) to trust, beyond the system roots and Stepmint's CA.
        ca: Vec<Vec<u8>>,
    },
    /// A command: argv templates; exit 0 accepts.
    Exec {
        /// Program and arguments.
        argv: Vec<String>,
        /// Whether `argv` is `sh -c TEXT` made by [`Target::shell`]: placeholders then become
        /// environment variable references ([`shell_script`]), never pasted text.
        shell: bool,
    },
}

impl Target {
    /// An HTTP target with `Name: value` header lines. With no header, no body and no `{token}`
    /// in the URL, the token goes where relying parties look for it: `Authorization: Bearer`.
    /// A URL without `http://` or `https://`, a bad method or header line is a usage error.
    pub fn http(
        url: String,
        method: &str,
        header_lines: &[String],
        body: Option<String>,
        accept: RangeInclusive<u16>,
        ca: Vec<Vec<u8>>,
    ) -> Result<Target> {
        check_url(&url)?;
        let method = method.to_uppercase();
        if method.is_empty() || !method.bytes().all(|b| b.is_ascii_alphabetic() || b == b'-') {
            return Err(Error::invalid(
                "method",
                format!("`{method}` is not an HTTP method"),
            ));
        }
        let mut headers = Vec::new();
        for line in header_lines {
            let (name, value) = line.split_once(':').ok_or_else(|| {
                Error::invalid("header", format!("`{line}`: expected `Name: value`"))
            })?;
            let name = name.trim();
            if name.is_empty()
                || !name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
            {
                return Err(Error::invalid(
                    "header",
                    format!("`{line}`: `{name}` is not a header name"),
                ));
            }
            if value.chars().any(|c| c.is_control() && c != '\t') {
                return Err(Error::invalid(
                    "header",
                    format!("`{name}`: control characters in the value"),
                ));
            }
            headers.push((name.to_string(), value.trim().to_string()));
        }
        if headers.is_empty() && body.is_none() && !url.contains("{token") {
            headers.push(("Authorization".into(), "Bearer {token}".into()));
        }
        Ok(Target::Http {
            url,
            method,
            headers,
            body,
            accept,
            ca,
        })
    }

    /// A command given as one line, split into words here (quotes group, a backslash escapes;
    /// no shell: `;`, `|`, `>` and `$VAR` are plain text).
    pub fn exec(line: &str) -> Result<Target> {
        Ok(Target::Exec {
            argv: split_command(line)?,
            shell: false,
        })
    }

    /// A command line run by `sh -c`, so pipes, redirections and `$VARS` work. Placeholders
    /// become references to environment variables holding their values ([`shell_script`]).
    pub fn shell(line: &str) -> Result<Target> {
        if line.trim().is_empty() {
            return Err(Error::invalid("exec", "empty command"));
        }
        Ok(Target::Exec {
            argv: vec!["sh".into(), "-c".into(), line.to_string()],
            shell: true,
        })
    }
}

fn check_url(url: &str) -> Result<()> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| {
            Error::invalid("url", format!("`{url}` is not an http:// or https:// URL"))
        })?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if host.is_empty() || url.chars().any(|c| c.is_control() || c == ' ') {
        return Err(Error::invalid(
            "url",
            format!("`{url}` has no host, or has spaces or control characters"),
        ));
    }
    Ok(())
}

/// What the placeholders stand for.
#[derive(Debug, Clone, Default)]
pub struct Vars {
    /// The token being sent.
    pub token: String,
    /// The issuer URL the tokens carry.
    pub issuer: String,
    /// The first declared audience.
    pub audience: String,
    /// The CA certificate file.
    pub ca: String,
}

/// Fills a template: `{token}` as it is, `{token_json}` as a JSON string (quoted and escaped, for
/// JSON bodies: some hostile tokens contain quotes), `{token_url}` percent-encoded (for query
/// strings), `{issuer}`, `{audience}` and `{ca}` as they are. Not for shell text: see
/// [`shell_script`].
pub fn fill(template: &str, vars: &Vars) -> String {
    // One pass, so a value that itself holds `{token}` (a hostile token can) is not filled again.
    let mut out = String::with_capacity(template.len() + vars.token.len());
    let mut rest = template;
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        let at = &rest[i..];
        match placeholder_at(at) {
            Some(name) => {
                out.push_str(&value(name, vars));
                rest = &at[name.len()..];
            }
            None => {
                out.push('{');
                rest = &at[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The placeholders [`fill`] knows, longest first where one is a prefix of another.
pub const PLACEHOLDERS: [&str; 6] = [
    "{token_json}",
    "{token_url}",
    "{token}",
    "{issuer}",
    "{audience}",
    "{ca}",
];

/// The environment variable each placeholder stands for in a `--shell` command.
pub const SHELL_VARS: [(&str, &str); 6] = [
    ("{token_json}", "STEPMINT_TOKEN_JSON"),
    ("{token_url}", "STEPMINT_TOKEN_URL"),
    ("{token}", "STEPMINT_TOKEN"),
    ("{issuer}", "STEPMINT_ISSUER"),
    ("{audience}", "STEPMINT_AUDIENCE"),
    ("{ca}", "STEPMINT_CA"),
];

fn placeholder_at(text: &str) -> Option<&'static str> {
    PLACEHOLDERS.iter().copied().find(|p| text.starts_with(p))
}

fn value(placeholder: &str, vars: &Vars) -> String {
    match placeholder {
        "{token_json}" => serde_json::to_string(&vars.token).unwrap_or_default(),
        "{token_url}" => percent_encode(&vars.token),
        "{issuer}" => vars.issuer.clone(),
        "{audience}" => vars.audience.clone(),
        "{ca}" => vars.ca.clone(),
        _ => vars.token.clone(),
    }
}

/// A `--shell` command's text with its placeholders as variable references, and the variables
/// to run it with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShellScript {
    /// The text for `sh -c`: the template with no value in it.
    pub text: String,
    /// The variables it refers to, with their values.
    pub env: Vec<(&'static str, String)>,
}

/// Turns a `--shell` template into a script that reads every value from the environment. Each
/// placeholder becomes a reference that expands to exactly its value where it stands:
/// `"${VAR}"` outside quotes, `${VAR}` inside double quotes, and `'"${VAR}"'` inside single
/// quotes (the quotes closed around it). Quoting is followed as POSIX `sh` reads it, into
/// `$(...)` and backticks; a backslash before a placeholder keeps it as text, as the shell would.
/// Where the text fools that reading (a `)` in a `case` pattern inside `$(...)`), a value may
/// at worst be split into words: only fixed variable names are ever put in the text, so whatever
/// a value holds, it is never read as shell syntax.
pub fn shell_script(template: &str, vars: &Vars) -> ShellScript {
    #[derive(Clone, Copy, PartialEq)]
    enum Quote {
        None,
        Single,
        Double,
    }
    // What encloses the text being read: command substitutions, each with the quoting it
    // interrupted (`true` for a backtick one).
    let mut outer: Vec<(Quote, bool)> = Vec::new();
    let mut text = String::with_capacity(template.len() + 32);
    let mut env: Vec<(&'static str, String)> = Vec::new();
    let mut quote = Quote::None;
    let mut rest = template;
    while let Some(c) = rest.chars().next() {
        if c == '{'
            && let Some((name, var)) = SHELL_VARS.iter().find(|(p, _)| rest.starts_with(p))
        {
            match quote {
                Quote::None => text.push_str(&format!("\"${{{var}}}\"")),
                Quote::Double => text.push_str(&format!("${{{var}}}")),
                Quote::Single => text.push_str(&format!("'\"${{{var}}}\"'")),
            }
            if !env.iter().any(|(v, _)| v == var) {
                env.push((var, value(name, vars)));
            }
            rest = &rest[name.len()..];
            continue;
        }
        text.push(c);
        rest = &rest[c.len_utf8()..];
        match (quote, c) {
            (Quote::None, '\'') => quote = Quote::Single,
            (Quote::None, '"') => quote = Quote::Double,
            (Quote::Single, '\'') | (Quote::Double, '"') => quote = Quote::None,
            (Quote::None | Quote::Double, '\\') => {
                // The next character is taken as it is (even a placeholder's brace).
                if let Some(n) = rest.chars().next() {
                    text.push(n);
                    rest = &rest[n.len_utf8()..];
                }
            }
            (Quote::None | Quote::Double, '$') if rest.starts_with('(') => {
                text.push('(');
                rest = &rest[1..];
                outer.push((quote, false));
                quote = Quote::None;
            }
            (Quote::None, ')') if outer.last().is_some_and(|(_, tick)| !tick) => {
                quote = outer.pop().map_or(Quote::None, |(q, _)| q);
            }
            (Quote::None, '`') if outer.last().is_some_and(|(_, tick)| *tick) => {
                quote = outer.pop().map_or(Quote::None, |(q, _)| q);
            }
            (Quote::None | Quote::Double, '`') => {
                outer.push((quote, true));
                quote = Quote::None;
            }
            _ => {}
        }
    }
    ShellScript { text, env }
}

/// Fills `{token}`, `{token_json}` and `{token_url}` only.
pub fn fill_template(template: &str, token: &str) -> String {
    let vars = Vars {
        token: token.to_string(),
        ..Vars::default()
    };
    fill(template, &vars)
}

fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Splits a command template into arguments: whitespace separates, single and double quotes
/// group, a backslash escapes the next character outside single quotes.
pub fn split_command(text: &str) -> Result<Vec<String>> {
    let mut args = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = text.chars();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some('\''), c) => cur.push(c),
            (_, '\\') => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                    in_word = true;
                }
            }
            (Some(_), c) => cur.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    args.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            (None, c) => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if quote.is_some() {
        return Err(Error::invalid("exec", "unterminated quote"));
    }
    if in_word {
        args.push(cur);
    }
    if args.is_empty() {
        return Err(Error::invalid("exec", "empty command"));
    }
    Ok(args)
}

/// Parses an accept range: `200-299` or `200`.
pub fn parse_range(text: &str) -> Result<RangeInclusive<u16>> {
    let bad = || {
        Error::invalid(
            "accept-status",
            format!("`{text}` is not a status or a range like 200-299"),
        )
    };
    let (a, b) = match text.split_once('-') {
        Some((a, b)) => (
            a.trim().parse().map_err(|_| bad())?,
            b.trim().parse().map_err(|_| bad())?,
        ),
        None => {
            let v: u16 = text.trim().parse().map_err(|_| bad())?;
            (v, v)
        }
    };
    if a > b || !(100..=599).contains(&a) || b > 599 {
        return Err(bad());
    }
    Ok(a..=b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_splitting() {
        assert_eq!(
            split_command("python3 v.py {token}").unwrap(),
            ["python3", "v.py", "{token}"]
        );
        assert_eq!(
            split_command(r#"sh -c 'echo "$X" {token}' "a b" c\ d"#).unwrap(),
            ["sh", "-c", "echo \"$X\" {token}", "a b", "c d"]
        );
        assert!(split_command("'open").is_err());
        assert!(split_command("   ").is_err());
    }

    #[test]
    fn templates() {
        let t = r#"{"protected":"a","x":"b\c"}"#;
        assert_eq!(fill_template("Bearer {token}", "a.b.c"), "Bearer a.b.c");
        let body = fill_template(r#"{"token":{token_json}}"#, t);
        let v: serde_json::Value = serde_json::from_str(&body).expect("still JSON");
        assert_eq!(v["token"], t);
        assert_eq!(fill_template("/x?t={token_url}", "a b/c"), "/x?t=a%20b%2Fc");
        let vars = Vars {
            token: "a'b".into(),
            issuer: "https://i".into(),
            audience: "api://x".into(),
            ca: "/c a.pem".into(),
        };
        assert_eq!(
            fill("{issuer} {audience} {ca} {token}", &vars),
            "https://i api://x /c a.pem a'b"
        );
        // One pass: a token holding a placeholder is not filled again.
        let odd = Vars {
            token: "{issuer}".into(),
            ..vars
        };
        assert_eq!(fill("{token} {x}", &odd), "{issuer} {x}");
    }

    #[test]
    fn shell_placeholders_become_variable_references_fit_for_their_quotes() {
        let vars = Vars {
            token: "t".into(),
            issuer: "i".into(),
            audience: "a".into(),
            ca: "c".into(),
        };
        let s = shell_script(
            r#"v {token} "x{audience}y" 'p{ca}q' \{issuer} {token} "\"{issuer}" {nope}"#,
            &vars,
        );
        assert_eq!(
            s.text,
            r#"v "${STEPMINT_TOKEN}" "x${STEPMINT_AUDIENCE}y" 'p'"${STEPMINT_CA}"'q' \{issuer} "${STEPMINT_TOKEN}" "\"${STEPMINT_ISSUER}" {nope}"#
        );
        assert_eq!(
            s.env,
            [
                ("STEPMINT_TOKEN", "t".to_string()),
                ("STEPMINT_AUDIENCE", "a".to_string()),
                ("STEPMINT_CA", "c".to_string()),
                ("STEPMINT_ISSUER", "i".to_string()),
            ]
        );
    }

    /// Every shell metacharacter, and a command that leaves a mark if any of it ever runs.
    fn hostile(canary: &std::path::Path, tag: &str) -> String {
        let c = canary.display();
        format!(
            "{tag}'\"$(touch {c})`touch {c}`;touch {c}|touch {c}&touch {c}\ntouch {c}\r\t \
             *?[a-z]~ $HOME ${{PATH}} \\ \\' {{issuer}} %s -n <x >x 2>&1 #end"
        )
    }

    #[cfg(unix)]
    #[test]
    fn shell_commands_get_every_value_byte_for_byte_and_run_none_of_it() {
        let dir = tempfile::tempdir().unwrap();
        let canary = dir.path().join("ran");
        let vars = Vars {
            token: hostile(&canary, "token"),
            issuer: hostile(&canary, "issuer"),
            audience: hostile(&canary, "audience"),
            ca: hostile(&canary, "ca"),
        };
        let out = |n: usize| dir.path().join(format!("out{n}"));
        // Each placeholder in each quoting a command line may give it.
        let cases: Vec<(String, String)> = vec![
            ("{token}".into(), vars.token.clone()),
            ("\"{audience}\"".into(), vars.audience.clone()),
            ("'{issuer}'".into(), vars.issuer.clone()),
            ("x{ca}y".into(), format!("x{}y", vars.ca)),
            ("\"x{token}y\"".into(), format!("x{}y", vars.token)),
            ("'x{audience}y'".into(), format!("x{}y", vars.audience)),
            (
                "{token_json}".into(),
                serde_json::to_string(&vars.token).unwrap(),
            ),
            ("'{token_url}'".into(), percent_encode(&vars.token)),
            ("\"$(printf '%s' {ca})\"".into(), vars.ca.clone()),
            ("\"`printf '%s' \"{issuer}\"`\"".into(), vars.issuer.clone()),
            // Quotes inside a quoted command substitution are its own.
            (
                "\"$(printf '%s' \"x{audience}\")\"".into(),
                format!("x{}", vars.audience),
            ),
        ];
        let mut line = String::new();
        for (i, (arg, _)) in cases.iter().enumerate() {
            line.push_str(&format!("printf '%s' {arg} > '{}'\n", out(i).display()));
        }
        let script = shell_script(&line, &vars);
        for (_, v) in &script.env {
            assert!(!script.text.contains(v.as_str()), "a value was pasted");
        }
        let status = std::process::Command::new("sh")
            .arg("-c")
            .arg(&script.text)
            .envs(script.env.iter().map(|(k, v)| (*k, v.as_str())))
            .status()
            .unwrap();
        assert!(status.success());
        for (i, (arg, want)) in cases.iter().enumerate() {
            let got = std::fs::read(out(i)).unwrap();
            assert_eq!(String::from_utf8_lossy(&got), *want, "{arg}");
        }
        assert!(!canary.exists(), "a value ran as a command");
    }

    #[test]
    fn ranges() {
        assert_eq!(parse_range("200-299").unwrap(), 200..=299);
        assert_eq!(parse_range("204").unwrap(), 204..=204);
        for bad in ["x", "300-200", "99", "200-700"] {
            assert!(parse_range(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn http_targets_parse_header_lines_and_default_to_a_bearer_token() {
        let headers = |t: Target| match t {
            Target::Http { headers, .. } => headers,
            Target::Exec { .. } => unreachable!(),
        };
        let t = Target::http("https://rp/".into(), "get", &[], None, 200..=299, vec![]).unwrap();
        assert_eq!(
            headers(t),
            [("Authorization".into(), "Bearer {token}".into())]
        );
        let lines = ["X-Token : {token} ".to_string()];
        let t = Target::http("https://rp/".into(), "GET", &lines, None, 200..=299, vec![]);
        assert_eq!(headers(t.unwrap()), [("X-Token".into(), "{token}".into())]);
        let t = Target::http(
            "https://rp/?t={token}".into(),
            "GET",
            &[],
            None,
            200..=299,
            vec![],
        );
        assert!(headers(t.unwrap()).is_empty());
        for (url, lines) in [
            ("https://rp/", vec!["nocolon".to_string()]),
            ("https://rp/", vec!["Bad Name: x".to_string()]),
            ("localhost:8080/check", vec![]),
            ("https:///x", vec![]),
            ("ftp://rp/", vec![]),
        ] {
            let err = Target::http(url.into(), "GET", &lines, None, 200..=299, vec![]).unwrap_err();
            assert!(
                matches!(err.kind(), crate::ErrorKind::InvalidInput { .. }),
                "{url}: {err}"
            );
        }
        assert!(Target::http("https://rp/".into(), "G ET", &[], None, 200..=299, vec![]).is_err());
    }
}
