//! faultline-reports: the results store, SVG plots, the HTML report, CSV
//! export and the index of all runs.

pub mod csv_export;
pub mod error;
pub mod faults;
pub mod history;
pub mod node_logs;
pub mod ops;
pub mod palette;
pub mod plots;
pub mod results;
pub mod stats;
pub mod test_info;
pub mod timestamps;

pub use error::{ReportError, Result};
