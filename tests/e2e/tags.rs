//! `wasmship tags`: every pushed tag, as text (one per line) and as JSON (`{"tags": […]}`),
//! and `Link` pagination followed to the end. docker-registry 2.8 ignores `?n=` on tag lists,
//! so pagination is served by the fault proxy, which pages the registry's real list.

use crate::util::{FaultProxy, Registry, TestDir, demo_component, str_list};

const TAGS: [&str; 3] = ["1.0.0", "1.1.0", "2.0.0-rc.1"];

/// A registry holding `demo/tagged` under every tag in `TAGS`.
fn tagged() -> (TestDir, Registry) {
    let dir = TestDir::new();
    let reg = Registry::start(&dir);
    dir.write("demo.wasm", &demo_component());
    for tag in TAGS {
        dir.run(&["push", &reg.reference(&format!("demo/tagged:{tag}")), "demo.wasm"]).success();
    }
    assert_eq!(reg.tags("demo/tagged"), Some(TAGS.map(str::to_owned).to_vec()));
    (dir, reg)
}

fn sorted(mut tags: Vec<String>) -> Vec<String> {
    tags.sort();
    tags
}

#[test]
fn tags_lists_every_pushed_tag_as_text_and_json() {
    let (dir, reg) = tagged();
    // Any tag in the reference is ignored: the repository is what counts.
    for reference in [reg.reference("demo/tagged"), reg.reference("demo/tagged:1.0.0")] {
        let text = dir.run(&["tags", &reference]).success();
        assert!(text.stdout.ends_with('\n'), "{text}");
        assert_eq!(sorted(text.stdout.lines().map(str::to_owned).collect()), TAGS, "{text}");

        let json = dir.run(&["tags", &reference, "-o", "json"]).success();
        assert_eq!(sorted(str_list(&json.stdout_json(), "tags")), TAGS, "{json}");
    }
}

#[test]
fn tags_of_an_unknown_repository_fail_clearly() {
    let (dir, reg) = tagged();
    let run = dir.run(&["tags", &reg.reference("demo/missing")]).failure();
    assert!(run.stderr.contains("demo/missing"), "the message names the repository: {run}");
}

#[test]
fn tags_follows_link_pagination_to_the_end() {
    let (dir, reg) = tagged();
    let proxy = FaultProxy::start(reg.port());
    proxy.paginate_tags(1);

    let text = dir.run(&["tags", &proxy.reference("demo/tagged")]).success();
    assert_eq!(text.stdout.lines().collect::<Vec<_>>(), TAGS, "each page once, in order: {text}");
    let pages: Vec<_> = proxy.exchanges().into_iter().filter(|e| e.path().ends_with("/tags/list")).collect();
    assert_eq!(pages.len(), TAGS.len(), "one request per page: {pages:#?}");
    assert!(pages[1..].iter().all(|e| e.target.contains("last=")), "later pages follow the Link: {pages:#?}");

    let json = dir.run(&["tags", &proxy.reference("demo/tagged"), "-o", "json"]).success();
    assert_eq!(str_list(&json.stdout_json(), "tags"), TAGS, "{json}");
}
