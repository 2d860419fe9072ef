//! Names in a pipelines file: a ref name a trigger's glob pattern matches (to mint a step's
//! token for a run it would make) and the "did you mean" suggestions for misspelt keys.

/// A ref name that Bitbucket's glob `pattern` matches: the first alternative of each `{a,b}`
/// group, the first character of each `[...]` class, and `x` for each `*`, `**` or `?`.
pub fn example_ref(pattern: &str) -> String {
    let mut out = String::new();
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '*' => {
                while chars.peek() == Some(&'*') {
                    chars.next();
                }
                out.push('x');
            }
            '?' => out.push('x'),
            '{' => {
                // Keep the first alternative; skip the rest up to the matching `}`.
                let mut depth = 1;
                let mut first = String::new();
                let mut in_first = true;
                for c in chars.by_ref() {
                    match c {
                        '{' => depth += 1,
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        ',' if depth == 1 => in_first = false,
                        _ => {}
                    }
                    if in_first {
                        first.push(c);
                    }
                }
                out.push_str(&example_ref(&first));
            }
            '[' => {
                let class: String = chars.by_ref().take_while(|c| *c != ']').collect();
                if let Some(first) = class.trim_start_matches(['!', '^']).chars().next() {
                    out.push(first);
                }
            }
            c => out.push(c),
        }
    }
    out
}

/// Levenshtein distance, for "did you mean".
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            cur.push(
                (prev[j] + usize::from(ca != *cb))
                    .min(prev[j + 1] + 1)
                    .min(cur[j] + 1),
            );
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The closest of `options` to `word`, if it is close enough to be a typo of it.
pub fn closest<'a>(word: &str, options: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    options
        .into_iter()
        .map(|o| (distance(&word.to_lowercase(), &o.to_lowercase()), o))
        .filter(|(d, o)| *d <= (o.chars().count() / 3).max(2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, o)| o)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_refs_match_their_patterns() {
        assert_eq!(example_ref("main"), "main");
        assert_eq!(example_ref("feature/*"), "feature/x");
        assert_eq!(example_ref("release/**"), "release/x");
        assert_eq!(example_ref("{main,release/*}"), "main");
        assert_eq!(example_ref("{release/*,main}"), "release/x");
        assert_eq!(example_ref("hotfix/{a,b}-?"), "hotfix/a-x");
        assert_eq!(example_ref("v[0-9]*"), "v0x");
    }
}
