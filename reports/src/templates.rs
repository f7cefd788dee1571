//! The HTML templates (files in `reports/templates/`, compiled in) and the
//! minijinja environment that renders them with HTML auto-escaping.

use minijinja::{Environment, Value};
use serde::Serialize;

use crate::error::{ReportError, Result};

/// The per-run report page.
pub const REPORT: &str = "report.html";
/// The store's index of runs.
pub const STORE_INDEX: &str = "store_index.html";

const REPORT_SRC: &str = include_str!("../templates/report.html");
const STORE_INDEX_SRC: &str = include_str!("../templates/store_index.html");
/// Style sheet shared by both pages, inlined.
pub const CSS: &str = include_str!("../templates/report.css");
/// Script of the report page, inlined.
pub const REPORT_JS: &str = include_str!("../templates/report.js");
/// Script of the store index (table sorting), inlined.
pub const STORE_INDEX_JS: &str = include_str!("../templates/store_index.js");
/// Error recorder loaded first by both pages (window.onerror, console.error).
pub const ERRORS_JS: &str = include_str!("../templates/errors.js");

/// An environment with both templates; `.html` names auto-escape.
pub fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env.add_template(REPORT, REPORT_SRC)
        .expect("report.html is a valid template");
    env.add_template(STORE_INDEX, STORE_INDEX_SRC)
        .expect("store_index.html is a valid template");
    env
}

/// Renders `template` with `context`.
pub fn render<S: Serialize>(template: &str, context: S) -> Result<String> {
    let env = environment();
    let wrap = |source| ReportError::Template {
        template: template.to_string(),
        source,
    };
    env.get_template(template)
        .map_err(wrap)?
        .render(context)
        .map_err(wrap)
}

/// Trusted text inserted without escaping: the compiled-in CSS and JS, and
/// JSON already made safe by `page_data::script_json`.
pub fn trusted(text: impl Into<String>) -> Value {
    Value::from_safe_string(text.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_parse_and_inline_assets_cannot_break_out() {
        let env = environment();
        assert!(env.get_template(REPORT).is_ok());
        assert!(env.get_template(STORE_INDEX).is_ok());
        for asset in [CSS, REPORT_JS, STORE_INDEX_JS, ERRORS_JS] {
            assert!(!asset.to_ascii_lowercase().contains("</script"));
            assert!(!asset.to_ascii_lowercase().contains("</style"));
        }
    }

    #[test]
    fn values_are_html_escaped() {
        let out = render(
            STORE_INDEX,
            minijinja::context! {
                title => "<b>x</b>",
                css => trusted(""),
                errors_js => trusted(""),
                js => trusted(""),
                runs => Vec::<()>::new(),
                generated => "now",
                store => "s",
                latest => (),
                trend => crate::trend::TrendTable::default(),
                warnings => vec!["<i>w</i>"],
            },
        )
        .unwrap();
        assert!(out.contains("&lt;b&gt;x&lt;&#x2f;b&gt;"), "{out}");
        assert!(!out.contains("<b>x</b>"));
        assert!(out.contains("&lt;i&gt;w&lt;&#x2f;i&gt;") && !out.contains("<i>w</i>"));
    }
}
