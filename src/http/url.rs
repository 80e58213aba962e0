//! URLs as the registry client needs them: scheme, authority, path and
//! query; `Location` headers resolved against the request URL.

use std::fmt;

/// `http` or `https`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Http,
    Https,
}

/// An absolute URL split into the parts an HTTP request needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    pub scheme: Scheme,
    pub authority: String,
    /// Path and query, starting with `/`.
    pub path_and_query: String,
}

impl Url {
    /// A URL from its parts.
    pub fn new(scheme: Scheme, authority: impl Into<String>, path_and_query: impl Into<String>) -> Self {
        Url { scheme, authority: authority.into(), path_and_query: path_and_query.into() }
    }

    /// Parse an absolute `http://` or `https://` URL.
    pub fn parse(s: &str) -> Option<Url> {
        let (scheme, rest) = if let Some(r) = s.strip_prefix("https://") {
            (Scheme::Https, r)
        } else if let Some(r) = s.strip_prefix("http://") {
            (Scheme::Http, r)
        } else {
            return None;
        };
        let split = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, path) = rest.split_at(split);
        // `user:password@host`: credentials never travel in a URL (nor get printed with it).
        if authority.is_empty() || authority.contains('@') {
            return None;
        }
        let path = if path.is_empty() {
            "/".to_string()
        } else if path.starts_with('?') {
            format!("/{path}")
        } else {
            path.to_string()
        };
        Some(Url::new(scheme, authority, path))
    }

    /// Resolve a `Location` header value (absolute, or relative to this URL).
    pub fn join(&self, location: &str) -> Option<Url> {
        if location.starts_with("http://") || location.starts_with("https://") {
            return Url::parse(location);
        }
        if let Some(rest) = location.strip_prefix("//") {
            let scheme = match self.scheme {
                Scheme::Http => "http://",
                Scheme::Https => "https://",
            };
            return Url::parse(&format!("{scheme}{rest}"));
        }
        if location.starts_with('/') {
            return Some(Url::new(self.scheme, self.authority.clone(), location));
        }
        let path = self.path_and_query.split('?').next().unwrap_or("/");
        let base = &path[..path.rfind('/').map_or(0, |i| i + 1)];
        Some(Url::new(self.scheme, self.authority.clone(), format!("{base}{location}")))
    }

    /// Append a query parameter (value already encoded).
    pub fn with_query(mut self, key: &str, value: &str) -> Self {
        let sep = if self.path_and_query.contains('?') { '&' } else { '?' };
        self.path_and_query = format!("{}{sep}{key}={value}", self.path_and_query);
        self
    }
}

impl fmt::Display for Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = match self.scheme {
            Scheme::Http => "http",
            Scheme::Https => "https",
        };
        write!(f, "{scheme}://{}{}", self.authority, self.path_and_query)
    }
}

/// `url` with any `user:password@` before its host replaced by `…@`, to be shown.
pub fn scrub_userinfo(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_string() };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    match rest[..authority_end].rsplit_once('@') {
        Some((_, host)) => format!("{scheme}://…@{host}{}", &rest[authority_end..]),
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_with_credentials_are_refused_and_scrubbed_when_shown() {
        assert!(Url::parse("https://user:secret@evil.example/x").is_none());
        let base = Url::parse("https://r.io/v2/").unwrap();
        assert!(base.join("https://user:secret@evil.example/x").is_none());
        assert_eq!(scrub_userinfo("https://user:secret@evil.example/x?y"), "https://…@evil.example/x?y");
        assert_eq!(scrub_userinfo("https://r.io/a@b"), "https://r.io/a@b");
        assert_eq!(scrub_userinfo("/relative"), "/relative");
    }

    #[test]
    fn joins_locations() {
        let base = Url::parse("http://127.0.0.1:5000/v2/a/blobs/uploads/").unwrap();
        assert_eq!(
            base.join("/v2/a/blobs/uploads/123?_state=x").unwrap().to_string(),
            "http://127.0.0.1:5000/v2/a/blobs/uploads/123?_state=x"
        );
        assert_eq!(
            base.join("https://storage.example.com/b?sig=1").unwrap().to_string(),
            "https://storage.example.com/b?sig=1"
        );
        assert_eq!(base.join("456").unwrap().to_string(), "http://127.0.0.1:5000/v2/a/blobs/uploads/456");
    }

    #[test]
    fn adds_query_parameters() {
        let u = Url::parse("https://r.io/v2/a/blobs/uploads/1?_state=x").unwrap();
        assert_eq!(
            u.with_query("digest", "sha256:00").to_string(),
            "https://r.io/v2/a/blobs/uploads/1?_state=x&digest=sha256:00"
        );
    }
}
