//! `pause`: SIGSTOP the target nodes (they keep their sockets but answer
//! nothing, like a long GC pause); stopping the fault sends SIGCONT.

use faultline_workloads::Db;
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

use crate::error::NemesisError;
use crate::package::{Package, PackageInfo};
use crate::targets::{Target, resolve};

#[derive(Debug, Default)]
pub struct Pause {
    /// Nodes paused and not resumed yet.
    paused: Vec<String>,
}

impl Pause {
    /// Name, plot colour and needs of this package.
    pub const INFO: PackageInfo = PackageInfo {
        name: "pause",
        colour: "#ff7f0e",
        needs_network: false,
        needs_shards: false,
    };
}

impl Package for Pause {
    fn info(&self) -> PackageInfo {
        Self::INFO
    }

    fn start(&mut self, db: &dyn Db, rng: &mut ChaCha8Rng) -> Result<Value, NemesisError> {
        let target = Target::draw(rng);
        let nodes = resolve(target, db, rng);
        for n in &nodes {
            db.pause(n)?;
            self.paused.push(n.clone());
        }
        Ok(json!({"target": target.name(), "nodes": nodes}))
    }

    fn stop(&mut self, db: &dyn Db) -> Result<Value, NemesisError> {
        // Resume every paused node even if one fails (e.g. it was killed by
        // another package meanwhile); report the first error.
        let mut resumed = Vec::new();
        let mut first_err = None;
        for n in std::mem::take(&mut self.paused) {
            match db.resume(&n) {
                Ok(()) => resumed.push(n),
                Err(e) => {
                    tracing::warn!(node = %n, error = %e, "resume failed");
                    first_err.get_or_insert(e);
                }
            }
        }
        match first_err {
            Some(e) => Err(e.into()),
            None => Ok(json!({"nodes": resumed})),
        }
    }

    fn active(&self) -> bool {
        !self.paused.is_empty()
    }
}
