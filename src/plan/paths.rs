//! Lexical path clean-up for plans: `.` dropped, `..` resolved, without touching the disk
//! (the planner may not see the paths it names).

use std::path::{Component, Path, PathBuf};

/// `path` with `.` components dropped and `..` resolved against what precedes it; a `..`
/// that would climb above the root (or above the start of a relative path) is kept only for
/// relative paths.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                let last = out.components().next_back();
                match last {
                    Some(Component::Normal(_)) => {
                        out.pop();
                    }
                    Some(Component::RootDir | Component::Prefix(_)) => {}
                    _ => out.push(".."),
                }
            }
            other => out.push(other),
        }
    }
    if out.as_os_str().is_empty() { PathBuf::from(".") } else { out }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_dots_lexically() {
        let n = |p: &str| normalize(Path::new(p)).to_string_lossy().into_owned();
        assert_eq!(n("/a/../../etc"), "/etc");
        assert_eq!(n("/a/./b//c/"), "/a/b/c");
        assert_eq!(n("a/../b"), "b");
        assert_eq!(n("../x/./y"), "../x/y");
        assert_eq!(n("a/.."), ".");
        assert_eq!(n("/.."), "/");
        assert_eq!(n("./"), ".");
    }
}
