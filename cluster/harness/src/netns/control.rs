//! The workloads' [`NetControl`] protocol over a [`Network`]: node names are
//! [`Network::name`]s (node ids in decimal unless the network was given
//! names, as a sharded deployment's is), errors become [`WorkloadError::Db`].

use std::time::Duration;

use faultline_workloads::{NetControl, WorkloadError};

use super::error::NetnsError;
use super::firewall::Purpose;
use super::network::Network;

fn db(e: NetnsError) -> WorkloadError {
    WorkloadError::Db(e.to_string())
}

impl NetControl for Network {
    fn run_id(&self) -> Option<String> {
        Some(Network::run_id(self).to_string())
    }

    fn describe(&self) -> String {
        let ids = self.node_ids();
        let run = Network::run_id(self);
        format!(
            "{} .. {}",
            run.namespace(ids.first().copied().unwrap_or(1)),
            run.namespace(ids.last().copied().unwrap_or(1))
        )
    }

    fn cut(&self, pairs: &[(String, String)]) -> Result<usize, WorkloadError> {
        for (from, to) in pairs {
            let (a, b) = (
                self.node_named(from).map_err(db)?.id,
                self.node_named(to).map_err(db)?.id,
            );
            self.cut(a, b).map_err(db)?;
        }
        Ok(pairs.len())
    }

    fn heal_cuts(&self) -> Result<usize, WorkloadError> {
        self.remove_rules(Purpose::Partition).map_err(db)
    }

    fn set_loss(&self, probability: f64) -> Result<usize, WorkloadError> {
        Network::set_loss(self, probability).map_err(db)
    }

    fn heal_loss(&self) -> Result<usize, WorkloadError> {
        self.remove_rules(Purpose::Loss).map_err(db)
    }

    fn set_clock(&self, node: &str, offset_ms: i64) -> Result<(), WorkloadError> {
        let id = self.node_named(node).map_err(db)?.id;
        Network::set_clock(self, id, offset_ms).map_err(db)
    }

    fn clock(&self, node: &str) -> Result<i64, WorkloadError> {
        let id = self.node_named(node).map_err(db)?.id;
        Network::clock(self, id).map_err(db)
    }

    fn strobe_clock(
        &self,
        node: &str,
        offsets_ms: (i64, i64),
        period: Duration,
        duration: Duration,
    ) -> Result<(), WorkloadError> {
        let id = self.node_named(node).map_err(db)?.id;
        Network::strobe_clock(self, id, offsets_ms, period, duration).map_err(db)
    }

    fn drift_clock(
        &self,
        node: &str,
        rate_pct: u32,
        duration: Duration,
    ) -> Result<(), WorkloadError> {
        let id = self.node_named(node).map_err(db)?.id;
        Network::drift_clock(self, id, rate_pct, duration).map_err(db)
    }

    fn reset_clocks(&self) -> Result<(), WorkloadError> {
        Network::reset_clocks(self).map_err(db)
    }
}
