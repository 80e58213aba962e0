//! `wasmship plan COMMAND…`: what a command would read, write and reach — the paths and
//! their access, the registries, the network — without running it. The same plan the
//! runner asks for before it grants the command anything.

use clap::Parser;

use super::{Cli, Command, OutputFormat, output};
use crate::error::{Error, Result};
use crate::plan::{FsAccess, HostEnv, Planner};

#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    /// Output format (also JSON when the planned command asks for `-o json`).
    #[arg(short = 'o', long, value_enum, default_value_t)]
    output: OutputFormat,
    /// The command to plan, with its arguments (e.g. `push REF FILE`).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, required = true, value_name = "COMMAND")]
    command: Vec<String>,
}

impl PlanArgs {
    /// The output format asked for.
    pub fn output(&self) -> OutputFormat {
        self.output
    }

    /// Planning reads the project files of the working directory, and the directories the
    /// planned command's own planning reads (its mirror configuration, a manifest elsewhere).
    pub fn plan(&mut self, planner: &mut Planner) -> &'static str {
        planner.working_dir(FsAccess::Read, "project files the plan reads");
        let argv = std::iter::once("wasmship".to_owned()).chain(self.command.iter().cloned());
        if let Ok(mut planned) = Cli::try_parse_from(argv)
            && !matches!(planned.command, Command::Plan(_))
            && let Ok(plan) = planned.plan(planner.env())
        {
            for dir in &plan.needs.consult {
                planner.consulted_dir(dir);
            }
        }
        "plan"
    }
}

pub fn run(args: &PlanArgs) -> Result<()> {
    let argv = std::iter::once("wasmship".to_owned()).chain(args.command.iter().cloned());
    let mut planned = Cli::try_parse_from(argv)
        .map_err(|e| Error::Usage(format!("the command to plan: {}", e.render().to_string().trim())))?;
    if matches!(planned.command, Command::Plan(_)) {
        return Err(Error::Usage("plan a command other than plan".into()));
    }
    let plan = planned.plan(&HostEnv::process())?;
    if args.output == OutputFormat::Json || planned.output() == OutputFormat::Json {
        output::print_json(&crate::plan::to_json(&plan));
    } else {
        output::print_text(&crate::plan::to_text(&plan));
    }
    Ok(())
}
