//! Tag listing (`GET /v2/<name>/tags/list`), following `Link` pagination.

use serde::Deserialize;

use super::RegistryStore;
use crate::error::{Error, Result};
use crate::http::{Method, Request};

/// The most one page of a tag list may hold.
const TAG_LIST_MAX_BYTES: u64 = 16 * 1024 * 1024;
/// The most all pages of a tag list may hold together (a registry paging forever, or with
/// millions of tags, must not exhaust memory).
const TAG_LIST_MAX_TOTAL_BYTES: u64 = 64 * 1024 * 1024;
/// The most pages a tag list may have.
const MAX_PAGES: usize = 1000;

/// What a tag listing has taken so far, across its pages.
#[derive(Debug, Default)]
struct Budget {
    pages: usize,
    bytes: u64,
}

impl Budget {
    /// Counts one more page of `len` bytes, or says which limit it breaks.
    fn charge(&mut self, len: u64, registry: &str, repository: &str) -> Result<()> {
        self.pages += 1;
        self.bytes += len;
        let what = |detail: String| format!("the tag list of {registry}/{repository} ({detail})");
        if len > TAG_LIST_MAX_BYTES {
            return Err(Error::SizeLimitExceeded { what: what("one page".into()), limit: TAG_LIST_MAX_BYTES });
        }
        if self.bytes > TAG_LIST_MAX_TOTAL_BYTES {
            let detail = format!("{} pages", self.pages);
            return Err(Error::SizeLimitExceeded { what: what(detail), limit: TAG_LIST_MAX_TOTAL_BYTES });
        }
        if self.pages > MAX_PAGES {
            return Err(Error::Registry {
                registry: registry.to_string(),
                action: "list tags of".into(),
                subject: repository.to_string(),
                status: 200,
                code: None,
                message: Some(format!("more than {MAX_PAGES} pages; the registry keeps paging")),
            });
        }
        Ok(())
    }
}

#[derive(Deserialize)]
struct TagList {
    #[serde(default)]
    tags: Option<Vec<String>>,
}

pub(super) fn list(store: &RegistryStore) -> Result<Vec<String>> {
    let mut tags = Vec::new();
    let mut url = store.client.url(&store.path("tags/list"));
    let mut budget = Budget::default();
    loop {
        let mut response = store.client.send(&|| Request::new(Method::Get, url.clone()))?;
        if response.status != 200 {
            return Err(store.client.unexpected(response, "list tags of", &store.repository));
        }
        let next = response.header("link").and_then(next_link).map(str::to_string);
        let body = response.read_body(TAG_LIST_MAX_BYTES + 1).map_err(|e| Error::Transport {
            target: store.client.registry().to_string(),
            detail: format!("list tags of {}: {e}", store.repository),
        })?;
        budget.charge(body.len() as u64, store.client.registry(), &store.repository)?;
        let page: TagList = serde_json::from_slice(&body).map_err(|e| Error::Registry {
            registry: store.client.registry().to_string(),
            action: "list tags of".into(),
            subject: store.repository.clone(),
            status: 200,
            code: None,
            message: Some(format!("invalid tag list: {e}")),
        })?;
        tags.extend(page.tags.unwrap_or_default());
        match next.and_then(|n| url.join(&n)) {
            Some(n) => url = n,
            None => break,
        }
    }
    Ok(tags)
}

/// The target of `rel="next"` in a `Link` header.
pub(super) fn next_link(header: &str) -> Option<&str> {
    header.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        params
            .split(';')
            .any(|p| matches!(p.trim().replace(' ', "").as_str(), "rel=\"next\"" | "rel=next"))
            .then(|| target.trim().trim_start_matches('<').trim_end_matches('>'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tag_list_has_bounded_pages_and_bytes() {
        let mut budget = Budget::default();
        assert!(budget.charge(TAG_LIST_MAX_BYTES, "r", "a").is_ok());
        assert!(matches!(budget.charge(TAG_LIST_MAX_BYTES + 1, "r", "a"), Err(Error::SizeLimitExceeded { .. })));
        let mut budget = Budget::default();
        let page = TAG_LIST_MAX_TOTAL_BYTES / 4;
        let results: Vec<bool> = (0..5).map(|_| budget.charge(page, "r", "a").is_ok()).collect();
        assert_eq!(results, [true, true, true, true, false], "issue 11: endless pages reached 2.9 GB");
        let mut budget = Budget::default();
        assert!((0..MAX_PAGES).all(|_| budget.charge(10, "r", "a").is_ok()));
        let error = budget.charge(10, "r", "a").unwrap_err().to_string();
        assert!(error.contains("keeps paging"), "{error}");
    }

    #[test]
    fn finds_next_link() {
        assert_eq!(super::next_link(r#"</v2/a/tags/list?last=x&n=2>; rel="next""#), Some("/v2/a/tags/list?last=x&n=2"));
        assert_eq!(super::next_link(r#"</x>; rel="prev""#), None);
    }
}
