//! The environment a plan is made for: the process's own (a command that runs), or one
//! handed over by a host that asks before it runs the command (`plan.capabilities`).

/// Variables by name; empty values count as unset.
#[derive(Debug, Clone, Default)]
pub struct HostEnv {
    vars: Vec<(String, String)>,
}

impl HostEnv {
    /// This process's environment.
    pub fn process() -> Self {
        Self { vars: std::env::vars().collect() }
    }

    /// The given variables.
    pub fn from_pairs(vars: Vec<(String, String)>) -> Self {
        Self { vars }
    }

    /// The value of `name`, unless unset or empty.
    pub fn var(&self, name: &str) -> Option<String> {
        self.vars.iter().rev().find(|(n, v)| n == name && !v.is_empty()).map(|(_, v)| v.clone())
    }

    /// Whether `name` is set at all (empty included).
    pub fn is_set(&self, name: &str) -> bool {
        self.vars.iter().any(|(n, _)| n == name)
    }

    /// A lookup function over these variables, for code that takes one.
    pub fn lookup(&self) -> impl Fn(&str) -> Option<String> + '_ {
        move |name| self.var(name)
    }
}
