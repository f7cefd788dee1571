//! A system described in a file: `faultline run --system FILE.toml` tests
//! any replicated store, with no Rust written by its user. The file
//! ([`spec`]) says how to start one node (a command template with `{id}`,
//! `{addr}`, `{port}`, `{peers}`, `{data_dir}`, ... [`template`]), how to
//! know it is ready ([`ready`]), where its log goes and which client
//! adapter to run; [`db`] runs the nodes on the harness's generic process
//! launcher (loopback or network namespaces, so every nemesis applies),
//! [`clients`] gives each client process its own adapter speaking the
//! JSON-lines protocol of [`adapter`] (started through [`spawner`] so
//! adapters die with the runner).
//!
//! [`FileSystem`] is the registry entry (`--db file`); the CLI's
//! `--system FILE` selects it and records the file's path in test.json
//! (`system_file`), where `validate` and `build` read it.

pub mod adapter;
pub mod clients;
pub mod db;
pub mod ready;
pub mod spawner;
pub mod spec;
pub mod template;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use crate::error::{RunnerError, bad_option};
use crate::plan::Plan;
use crate::system::{SystemContext, SystemKind, SystemUnderTest};

pub use db::FileDb;
pub use spec::{SpecError, SystemSpec};

/// The test.json option holding the system file's path.
pub const SYSTEM_FILE_OPTION: &str = "system_file";

/// The registry entry of systems described by a file.
#[derive(Debug)]
pub struct FileSystem;

/// The system file a plan names.
pub fn system_file(plan: &Plan) -> Result<PathBuf, RunnerError> {
    plan.extra
        .get(SYSTEM_FILE_OPTION)
        .and_then(|v| v.as_str())
        .map(PathBuf::from)
        .ok_or_else(|| {
            bad_option("--db file runs the system a file describes: give --system FILE.toml (see README, \"Testing your own system\")")
        })
}

fn load(plan: &Plan) -> Result<(PathBuf, SystemSpec), RunnerError> {
    let file = system_file(plan)?;
    let spec = SystemSpec::load(&file).map_err(|e| bad_option(e.to_string()))?;
    Ok((file, spec))
}

impl SystemKind for FileSystem {
    fn name(&self) -> &'static str {
        "file"
    }

    fn about(&self) -> &'static str {
        "the system a file describes (--system FILE.toml): your nodes as processes, your client adapter over JSON lines"
    }

    fn validate(&self, plan: &Plan) -> Result<(), RunnerError> {
        let (file, spec) = load(plan)?;
        if !spec.node.faketime && plan.has_package("clock") {
            return Err(bad_option(format!(
                "--nemesis clock needs the nodes under libfaketime, but {} sets node.faketime = false; drop clock from --nemesis",
                file.display()
            )));
        }
        if plan.bug.is_some() {
            return Err(bad_option(
                "--bug plants bugs in faultline's own KV stack; it does not go with --system",
            ));
        }
        if plan.sharded() {
            return Err(bad_option(
                "--groups runs the sharded kvnode stack; it does not go with --system",
            ));
        }
        Ok(())
    }

    fn test_name_prefix(&self, plan: &Plan) -> String {
        let name = load(plan).ok().and_then(|(file, spec)| {
            spec.name
                .or_else(|| file.file_stem().map(|s| s.to_string_lossy().into_owned()))
        });
        format!("{}-", name.unwrap_or_else(|| "system".into()))
    }

    fn replay_flags(&self, plan: &Plan) -> String {
        system_file(plan)
            .map(|f| format!(" --system {}", f.display()))
            .unwrap_or_default()
    }

    fn build(&self, ctx: &SystemContext) -> Result<Box<dyn SystemUnderTest>, RunnerError> {
        let (file, spec) = load(&ctx.plan)?;
        // The file as run, beside the results.
        let copy = ctx.run_dir.join("system.toml");
        if let Err(e) =
            std::fs::create_dir_all(&ctx.run_dir).and_then(|()| std::fs::copy(&file, &copy))
        {
            tracing::warn!(file = %file.display(), error = %e, "cannot copy the system file into the run folder");
        }
        Ok(Box::new(FileDb {
            spec,
            system_dir: db::absolute(&spec::system_dir(&file)),
            run_dir: db::absolute(&ctx.run_dir),
            members: ctx.plan.replicas,
            netns: ctx.plan.netns,
            int_values: ctx.plan.int_values(),
            group: Mutex::new(None),
            net: OnceLock::new(),
            endpoints: OnceLock::new(),
        }))
    }
}

/// The absolute path of a system file given on the command line.
pub fn resolve(file: &Path) -> PathBuf {
    db::absolute(file)
}
