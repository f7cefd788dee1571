//! The run folder of DESIGN.md's store layout,
//! `<store>/<test-name>/<YYYYmmddTHHMMSS>/`, the replay command recorded in
//! its `test.json`, and the collection of the nodes' logs into
//! `nodes/<node>/node.log`.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use crate::error::RunnerError;
use crate::plan::Plan;

/// A new, empty run folder named by the current UTC second (waiting for the
/// next second if a run of the same test already took this one).
pub fn create_run_dir(store: &Path, test: &str) -> Result<(PathBuf, DateTime<Utc>), RunnerError> {
    let parent = store.join(test);
    std::fs::create_dir_all(&parent).map_err(|e| RunnerError::io(&parent, e))?;
    loop {
        let now = Utc::now();
        let dir = parent.join(now.format("%Y%m%dT%H%M%S").to_string());
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok((dir, now)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                std::thread::sleep(std::time::Duration::from_millis(200));
            }
            Err(e) => return Err(RunnerError::io(&dir, e)),
        }
    }
}

/// The `faultline run` command that replays this test's choices.
pub fn replay_command(plan: &Plan) -> String {
    let mut cmd = format!(
        "faultline run --workload {} --nemesis {} --time-limit {} --concurrency {} --replicas {} --nemesis-interval {} --keys {} --ops-per-key {} --seed {}",
        plan.workload,
        if plan.nemesis.is_empty() {
            "none".to_string()
        } else {
            plan.nemesis.join(",")
        },
        plan.time_limit_s,
        plan.concurrency,
        plan.replicas,
        plan.nemesis_interval_s,
        plan.keys,
        plan.ops_per_key,
        plan.seed
    );
    if plan.sharded() {
        cmd += &format!(" --groups {}", plan.groups);
    }
    if let Some(rate) = plan.rate {
        cmd += &format!(" --rate {rate}");
    }
    if let Some(bug) = &plan.bug {
        cmd += &format!(" --bug {bug}");
    }
    cmd += &format!(" --attempt-timeout-ms {}", plan.attempt_timeout_ms);
    if plan.no_netns {
        cmd += " --no-netns";
    }
    cmd + &plan.system.replay_flags(plan)
}

/// Copy each node's log to `<run>/nodes/<node>/node.log` (a log already
/// there is left as it is).
pub fn collect_logs(run_dir: &Path, logs: &[(String, PathBuf)]) {
    for (node, src) in logs {
        let dir = run_dir.join("nodes").join(node);
        let dest = dir.join("node.log");
        if dest == *src || !src.exists() {
            continue;
        }
        let copied =
            std::fs::create_dir_all(&dir).and_then(|()| std::fs::copy(src, &dest).map(|_| ()));
        if let Err(e) = copied {
            tracing::warn!(node = %node, log = %src.display(), error = %e, "cannot copy a node log");
        }
    }
}
