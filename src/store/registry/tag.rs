//! Tag listing (`GET /v2/<name>/tags/list`), following `Link` pagination.

use serde::Deserialize;

use super::RegistryStore;
use crate::error::{Error, Result};
use crate::http::{Method, Request};

const TAG_LIST_MAX_BYTES: u64 = 16 * 1024 * 1024;
const MAX_PAGES: usize = 1000;

#[derive(Deserialize)]
struct TagList {
    #[serde(default)]
    tags: Option<Vec<String>>,
}

pub(super) fn list(store: &RegistryStore) -> Result<Vec<String>> {
    let mut tags = Vec::new();
    let mut url = store.client.url(&store.path("tags/list"));
    for _ in 0..MAX_PAGES {
        let mut response = store.client.send(&|| Request::new(Method::Get, url.clone()))?;
        if response.status != 200 {
            return Err(store.client.unexpected(response, "list tags of", &store.repository));
        }
        let next = response.header("link").and_then(next_link).map(str::to_string);
        let body = response.read_body(TAG_LIST_MAX_BYTES).map_err(|e| Error::Transport {
            target: store.client.registry().to_string(),
            detail: format!("list tags of {}: {e}", store.repository),
        })?;
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
fn next_link(header: &str) -> Option<&str> {
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
    #[test]
    fn finds_next_link() {
        assert_eq!(super::next_link(r#"</v2/a/tags/list?last=x&n=2>; rel="next""#), Some("/v2/a/tags/list?last=x&n=2"));
        assert_eq!(super::next_link(r#"</x>; rel="prev""#), None);
    }
}
