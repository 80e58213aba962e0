//! Work over every artifact of an application: stop at the first failure, or, with
//! `--keep-going`, go on with the others and report every failure at the end. Either way
//! a failed batch writes nothing a user reads (no lock, bundle or relocated manifest);
//! what was done stays only where it is useful on its own (the cache, the target registry).

use crate::error::{Error, Result};

/// The failures of one pass over the artifacts.
pub struct Batch {
    keep_going: bool,
    total: usize,
    failures: Vec<(String, Box<Error>)>,
}

impl Batch {
    /// A pass over `total` artifacts.
    pub fn new(keep_going: bool, total: usize) -> Self {
        Batch { keep_going, total, failures: Vec::new() }
    }

    /// `work` for `item`: its result, or `None` when it failed and the pass goes on.
    pub fn run<T>(&mut self, item: &str, work: impl FnOnce() -> Result<T>) -> Result<Option<T>> {
        match work() {
            Ok(done) => Ok(Some(done)),
            Err(e) if self.keep_going => {
                self.failures.push((item.to_string(), Box::new(e)));
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// Every failure at once, or nothing.
    pub fn finish(self) -> Result<()> {
        if self.failures.is_empty() {
            return Ok(());
        }
        Err(Error::Several { what: "artifacts".into(), total: self.total, failures: self.failures })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stops_at_the_first_failure_unless_told_to_keep_going() {
        let fail = |n: u32| if n % 2 == 1 { Err(Error::InvalidInput(format!("no {n}"))) } else { Ok(n) };
        let mut strict = Batch::new(false, 3);
        assert_eq!(strict.run("zero", || fail(0)).unwrap(), Some(0));
        assert_eq!(strict.run("one", || fail(1)).unwrap_err().to_string(), "no 1");

        let mut lenient = Batch::new(true, 4);
        let done: Vec<_> = (0..4).filter_map(|n| lenient.run(&format!("item {n}"), || fail(n)).unwrap()).collect();
        assert_eq!(done, [0, 2]);
        let error = lenient.finish().unwrap_err();
        assert_eq!(error.to_string(), "2 of 4 artifacts failed:\n  item 1: no 1\n  item 3: no 3");
        assert_eq!(error.kind(), crate::error::ErrorKind::InvalidInput);
    }
}
