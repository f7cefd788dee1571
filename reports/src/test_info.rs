//! `test.json` of a run: the test's name, seed, options and start/end time,
//! read leniently (unknown fields are kept and shown as options).

use std::path::Path;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::error::{ReportError, Result};
use crate::timestamps::parse_time_value;

/// What the report shows of `test.json`.
#[derive(Debug, Clone, PartialEq)]
pub struct TestInfo {
    pub name: Option<String>,
    pub seed: Option<String>,
    pub start: Option<DateTime<Utc>>,
    pub end: Option<DateTime<Utc>>,
    /// Every option as (name, value text), in file order.
    pub options: Vec<(String, String)>,
    /// `nemesis_packages` as (package name, colour text), in file order:
    /// the colour each fault kind is drawn in.
    pub nemesis_packages: Vec<(String, String)>,
}

const NAME_KEYS: [&str; 3] = ["name", "test", "test_name"];
const START_KEYS: [&str; 4] = ["start", "start_time", "started_at", "start_ms"];
const END_KEYS: [&str; 4] = ["end", "end_time", "ended_at", "end_ms"];

impl TestInfo {
    /// The `concurrency` option (number of client workers), if recorded.
    pub fn concurrency(&self) -> Option<u64> {
        self.options
            .iter()
            .find(|(k, _)| k == "concurrency")
            .and_then(|(_, v)| v.parse().ok())
            .filter(|n| *n > 0)
    }
}

/// Reads `test.json`; it must be a JSON object.
pub fn read_test_info(path: &Path) -> Result<TestInfo> {
    let text = std::fs::read_to_string(path).map_err(|e| ReportError::io(path, e))?;
    let value: Value = serde_json::from_str(&text).map_err(|source| ReportError::Json {
        path: path.to_path_buf(),
        line: None,
        source,
    })?;
    let Value::Object(map) = value else {
        return Err(ReportError::malformed(path, None, "expected a JSON object"));
    };
    Ok(test_info_from(&map))
}

/// Extracts the fields from a parsed `test.json` object.
pub fn test_info_from(map: &Map<String, Value>) -> TestInfo {
    let options_obj = map.get("options").and_then(Value::as_object);
    let find = |keys: &[&str]| -> Option<&Value> {
        keys.iter()
            .find_map(|k| map.get(*k).or_else(|| options_obj.and_then(|o| o.get(*k))))
    };
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let mut options = Vec::new();
    if let Some(o) = options_obj {
        options.extend(o.iter().map(|(k, v)| (k.clone(), text(v))));
    }
    for (k, v) in map {
        if k != "options" && !START_KEYS.contains(&k.as_str()) && !END_KEYS.contains(&k.as_str()) {
            options.push((k.clone(), text(v)));
        }
    }
    TestInfo {
        name: find(&NAME_KEYS).map(text),
        seed: find(&["seed"]).map(text),
        start: find(&START_KEYS).and_then(parse_time_value),
        end: find(&END_KEYS).and_then(parse_time_value),
        options,
        nemesis_packages: map
            .get("nemesis_packages")
            .map(nemesis_packages)
            .unwrap_or_default(),
    }
}

/// Reads `[{"name": ..., "colour": "#rrggbb"}, ...]` (`color` also
/// accepted); entries without both strings are skipped with a warning.
fn nemesis_packages(value: &Value) -> Vec<(String, String)> {
    let Some(list) = value.as_array() else {
        tracing::warn!("test.json: nemesis_packages is not a list; using default fault colours");
        return Vec::new();
    };
    list.iter()
        .filter_map(|entry| {
            let name = entry.get("name").and_then(Value::as_str);
            let colour = entry
                .get("colour")
                .or_else(|| entry.get("color"))
                .and_then(Value::as_str);
            match (name, colour) {
                (Some(n), Some(c)) => Some((n.to_string(), c.to_string())),
                _ => {
                    tracing::warn!(%entry, "test.json: nemesis_packages entry without a name and a colour; skipped");
                    None
                }
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finds_fields_at_top_level_or_in_options() {
        let v = json!({
            "name": "register-kill",
            "options": {"seed": 42, "nemesis": "kill", "concurrency": 5},
            "start": "2024-05-01T12:00:00Z",
            "end_ms": 1_714_564_830_000u64,
        });
        let info = test_info_from(v.as_object().unwrap());
        assert_eq!(info.name.as_deref(), Some("register-kill"));
        assert_eq!(info.seed.as_deref(), Some("42"));
        let secs = (info.end.unwrap() - info.start.unwrap()).num_seconds();
        assert_eq!(secs, 30);
        assert!(info.options.contains(&("nemesis".into(), "kill".into())));
        assert!(
            info.options
                .contains(&("name".into(), "register-kill".into()))
        );
        assert!(!info.options.iter().any(|(k, _)| k == "start"));
        assert_eq!(info.concurrency(), Some(5));
        assert_eq!(
            test_info_from(json!({"concurrency": "0"}).as_object().unwrap()).concurrency(),
            None
        );
    }

    #[test]
    fn reads_nemesis_package_colours() {
        let v = json!({"nemesis_packages": [
            {"name": "kill", "colour": "#d62728"},
            {"name": "packet", "color": "#17becf"},
            {"name": "broken"},
        ]});
        let info = test_info_from(v.as_object().unwrap());
        assert_eq!(
            info.nemesis_packages,
            vec![
                ("kill".to_string(), "#d62728".to_string()),
                ("packet".to_string(), "#17becf".to_string())
            ]
        );
        let none = test_info_from(json!({"nemesis_packages": "kill"}).as_object().unwrap());
        assert!(none.nemesis_packages.is_empty());
        assert!(test_info_from(&Map::new()).nemesis_packages.is_empty());
    }

    #[test]
    fn rejects_non_objects_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("test.json");
        std::fs::write(&path, "[1,2]").unwrap();
        let err = read_test_info(&path).unwrap_err().to_string();
        assert!(err.contains("test.json") && err.contains("object"), "{err}");
        std::fs::write(&path, "{").unwrap();
        assert!(
            read_test_info(&path)
                .unwrap_err()
                .to_string()
                .contains("malformed JSON")
        );
    }
}
