//! `faultline bugs`: lists every planted bug in the project, its layer, and
//! which test or command catches it.

use anyhow::Result;

use crate::cli::BugsArgs;

use super::EXIT_VALID;

pub fn run(args: &BugsArgs) -> Result<u8> {
    let mut bugs = faultline_raft::bugs::catalogue();
    bugs.extend(faultline_kvnode::bugs::catalogue());
    if args.json {
        println!("{}", serde_json::to_string_pretty(&bugs)?);
    } else {
        for bug in &bugs {
            println!("{:<22} {:<8} {}", bug.name, bug.layer, bug.description);
            println!("{:<22} {:<8} caught by: {}", "", "", bug.caught_by);
        }
    }
    Ok(EXIT_VALID)
}
