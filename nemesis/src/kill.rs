//! `kill`: SIGKILL the target nodes; stopping the fault restarts them on
//! their data directories (crash-recovery from what they fsynced).

use faultline_workloads::Db;
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

use crate::error::NemesisError;
use crate::package::{Package, PackageInfo};
use crate::targets::{Target, resolve};

#[derive(Debug, Default)]
pub struct Kill {
    /// Nodes killed and not restarted yet.
    down: Vec<String>,
}

impl Kill {
    /// Name, plot colour and needs of this package.
    pub const INFO: PackageInfo = PackageInfo {
        name: "kill",
        colour: "#d62728",
        needs_network: false,
        needs_shards: false,
    };
}

impl Package for Kill {
    fn info(&self) -> PackageInfo {
        Self::INFO
    }

    fn start(&mut self, db: &dyn Db, rng: &mut ChaCha8Rng) -> Result<Value, NemesisError> {
        let target = Target::draw(rng);
        let nodes = resolve(target, db, rng);
        for n in &nodes {
            db.kill(n)?;
            self.down.push(n.clone());
        }
        Ok(json!({"target": target.name(), "nodes": nodes}))
    }

    fn stop(&mut self, db: &dyn Db) -> Result<Value, NemesisError> {
        let mut restarted = Vec::new();
        while let Some(n) = self.down.first().cloned() {
            db.restart(&n)?;
            self.down.remove(0);
            restarted.push(n);
        }
        Ok(json!({"nodes": restarted}))
    }

    fn active(&self) -> bool {
        !self.down.is_empty()
    }
}
