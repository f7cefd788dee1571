//! faultline-reports: the results store, SVG plots, the HTML report, CSV
//! export and the index of all runs.
