//! `test.json` of a run, read through the store's schema
//! ([`crate::schema::TestRecord`]) into what the report shows: the test's
//! name, seed, start and end, every option as text, and the nemesis
//! packages' colours.

use std::path::Path;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::error::Result;
use crate::schema::{TestRecord, read_json};
use crate::timestamps::parse_rfc3339;

/// What the report shows of `test.json`.
#[derive(Debug, Clone, PartialEq)]
pub struct TestInfo {
    pub name: Option<String>,
    pub seed: Option<String>,
    pub start: Option<DateTime<Utc>>,
    pub end: Option<DateTime<Utc>>,
    /// Every option as (name, value text): the schema's options in order,
    /// then what else the record says (mode, system, run id, replay...).
    pub options: Vec<(String, String)>,
    /// `nemesis_packages` as (package name, colour text), in file order:
    /// the colour each fault kind is drawn in.
    pub nemesis_packages: Vec<(String, String)>,
    /// The options as recorded.
    pub record: TestRecord,
}

impl TestInfo {
    /// The `concurrency` option (number of client workers), if recorded.
    pub fn concurrency(&self) -> Option<u64> {
        Some(self.record.options.concurrency as u64).filter(|n| *n > 0)
    }
}

/// Reads `test.json`.
pub fn read_test_info(path: &Path) -> Result<TestInfo> {
    Ok(test_info_from(read_json(path)?))
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The report's view of a test record.
pub fn test_info_from(record: TestRecord) -> TestInfo {
    let mut options: Vec<(String, String)> = match serde_json::to_value(&record.options) {
        Ok(Value::Object(map)) => map
            .iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| (k.clone(), text(v)))
            .collect(),
        _ => Vec::new(),
    };
    let mut more = |k: &str, v: &str| {
        if !v.is_empty() {
            options.push((k.to_string(), v.to_string()));
        }
    };
    more("mode", &record.mode);
    more("system", record.system.as_deref().unwrap_or(""));
    more("run_id", &record.run_id);
    more("netns_run", record.netns_run.as_deref().unwrap_or(""));
    more("faultline_version", &record.versions.faultline);
    more("replay", &record.replay);
    more("error", record.error.as_deref().unwrap_or(""));
    TestInfo {
        name: Some(record.name.clone()).filter(|n| !n.is_empty()),
        seed: Some(record.seed.to_string()),
        start: parse_rfc3339(&record.start),
        end: record.end.as_deref().and_then(parse_rfc3339),
        options,
        nemesis_packages: record
            .nemesis_packages
            .iter()
            .map(|p| (p.name.clone(), p.colour.clone()))
            .collect(),
        record,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn info(v: Value) -> TestInfo {
        test_info_from(serde_json::from_value(v).unwrap())
    }

    #[test]
    fn reads_the_schema_and_keeps_extra_options() {
        let i = info(json!({
            "name": "register-kill",
            "seed": 42,
            "mode": "netns",
            "options": {"nemesis": ["kill"], "concurrency": 5, "note": "<b>"},
            "start": "2024-05-01T12:00:00Z",
            "end": "2024-05-01T12:00:30Z",
        }));
        assert_eq!(i.name.as_deref(), Some("register-kill"));
        assert_eq!(i.seed.as_deref(), Some("42"));
        assert_eq!((i.end.unwrap() - i.start.unwrap()).num_seconds(), 30);
        assert!(i.options.contains(&("nemesis".into(), "[\"kill\"]".into())));
        assert!(i.options.contains(&("note".into(), "<b>".into())));
        assert!(i.options.contains(&("mode".into(), "netns".into())));
        assert_eq!(i.concurrency(), Some(5));
        assert_eq!(info(json!({})).concurrency(), None);
    }

    #[test]
    fn reads_nemesis_package_colours() {
        let i = info(json!({"nemesis_packages": [
            {"name": "kill", "colour": "#d62728"},
            {"name": "packet", "colour": "#2ca02c"},
        ]}));
        assert_eq!(
            i.nemesis_packages,
            vec![
                ("kill".to_string(), "#d62728".to_string()),
                ("packet".to_string(), "#2ca02c".to_string())
            ]
        );
        assert!(info(json!({})).nemesis_packages.is_empty());
    }

    #[test]
    fn rejects_what_does_not_fit_the_schema_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("test.json");
        for bad in [
            "[1,2]",
            "{",
            r#"{"seed": "many"}"#,
            r#"{"nemesis_packages": "kill"}"#,
        ] {
            std::fs::write(&path, bad).unwrap();
            let err = read_test_info(&path).unwrap_err().to_string();
            assert!(err.contains("test.json"), "{bad}: {err}");
        }
    }
}
