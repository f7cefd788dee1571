//! faultline-reports: the results store, SVG plots, the HTML report, CSV
//! export and the index of all runs.
//!
//! Entry points: [`write_run_report`] (a run folder's history.csv, plots and
//! index.html), [`rebuild_store_index`] (store/index.html with the nightly
//! trend table of [`trend`], and store/latest), [`nightly`] (the summaries
//! `faultline nightly` writes) and [`static_files`] (the rules
//! `faultline serve` follows).

pub mod counterexample;
pub mod csv_export;
pub mod error;
pub mod faults;
pub mod history;
pub mod limits;
pub mod log_thinning;
pub mod nightly;
pub mod node_logs;
pub mod ops;
pub mod page_data;
pub mod page_notes;
pub mod palette;
pub mod plots;
pub mod report_page;
pub mod results;
pub mod run_data;
pub mod run_report;
pub mod schema;
pub mod static_files;
pub mod stats;
pub mod store_index;
pub mod templates;
pub mod test_info;
pub mod timeline_thinning;
pub mod timestamps;
pub mod trend;

pub use error::{ReportError, Result};
pub use run_report::{RunReport, store_of, write_run_and_store_reports, write_run_report};
pub use store_index::{StoreIndex, rebuild_store_index};
