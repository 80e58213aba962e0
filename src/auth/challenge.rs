//! `WWW-Authenticate` challenges (RFC 7235): `Basic realm="…"` or
//! `Bearer realm="…",service="…",scope="…"`, several per header.

use std::collections::BTreeMap;

/// One challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// Lowercased scheme: `basic` or `bearer`.
    pub scheme: String,
    /// Lowercased parameter names to values.
    pub params: BTreeMap<String, String>,
}

impl Challenge {
    /// Parse a header value into its challenges.
    pub fn parse_all(header: &str) -> Vec<Challenge> {
        let mut challenges: Vec<Challenge> = Vec::new();
        let mut rest = header.trim();
        while !rest.is_empty() {
            // A token followed by '=' is a parameter of the current challenge;
            // a token followed by space or end starts a new challenge.
            let token_end = rest.find(|c: char| c == '=' || c == ',' || c.is_whitespace()).unwrap_or(rest.len());
            let token = &rest[..token_end];
            let after = rest[token_end..].trim_start();
            if let Some(value_part) = after.strip_prefix('=').filter(|_| !challenges.is_empty()) {
                let (value, remaining) = parse_value(value_part.trim_start());
                if let Some(current) = challenges.last_mut() {
                    current.params.insert(token.to_ascii_lowercase(), value);
                }
                rest = remaining.trim_start().trim_start_matches(',').trim_start();
            } else if token.is_empty() {
                // A separator with no token before it: a stray ',' or, before any
                // challenge, a stray '=' (which no challenge can take as a parameter).
                rest = after.trim_start_matches([',', '=']).trim_start();
            } else {
                challenges.push(Challenge { scheme: token.to_ascii_lowercase(), params: BTreeMap::new() });
                rest = after.trim_start_matches(',').trim_start();
            }
        }
        challenges
    }

    /// A parameter's value.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }
}

/// A quoted string or a token; the rest of the input.
fn parse_value(input: &str) -> (String, &str) {
    if let Some(quoted) = input.strip_prefix('"') {
        let mut value = String::new();
        let mut chars = quoted.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => {
                    if let Some((_, escaped)) = chars.next() {
                        value.push(escaped);
                    }
                }
                '"' => return (value, &quoted[i + 1..]),
                c => value.push(c),
            }
        }
        (value, "")
    } else {
        let end = input.find(|c: char| c == ',' || c.is_whitespace()).unwrap_or(input.len());
        (input[..end].to_string(), &input[end..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bearer_with_commas_in_scope() {
        let h = r#"Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:a/b:pull,push""#;
        let c = Challenge::parse_all(h);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].scheme, "bearer");
        assert_eq!(c[0].param("realm"), Some("https://auth.example.com/token"));
        assert_eq!(c[0].param("service"), Some("registry.example.com"));
        assert_eq!(c[0].param("scope"), Some("repository:a/b:pull,push"));
    }

    #[test]
    fn parses_basic_and_several_challenges() {
        let c = Challenge::parse_all(r#"Basic realm="Registry Realm""#);
        assert_eq!(c[0].scheme, "basic");
        assert_eq!(c[0].param("realm"), Some("Registry Realm"));
        let c = Challenge::parse_all(r#"Basic realm="x", Bearer realm="https://t",service=s"#);
        assert_eq!(c.len(), 2);
        assert_eq!(c[1].param("service"), Some("s"));
    }

    /// Found by the `www_authenticate` fuzz target: a header starting with `=` looped forever.
    #[test]
    fn a_stray_equals_sign_before_any_challenge_is_skipped() {
        let (done, finished) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let parsed = [Challenge::parse_all("="), Challenge::parse_all(r#"=Basic realm="x", =, Bearer realm=y"#)];
            let _ = done.send(parsed);
        });
        let [empty, two] = finished.recv_timeout(std::time::Duration::from_secs(5)).expect("parse_all returns");
        assert!(empty.is_empty());
        assert_eq!(two.len(), 2);
        assert_eq!(two[0].scheme, "basic");
        assert_eq!(two[0].param("realm"), Some("x"));
        assert_eq!(two[1].param("realm"), Some("y"));
    }
}
