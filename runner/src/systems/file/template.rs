//! The `{name}` placeholders of a system file's commands and environment:
//! [`render`] replaces each with its value (`{{` and `}}` are literal
//! braces); an unknown name is an error naming it and the names there are.

use std::collections::BTreeMap;

/// The placeholders of a node's command, environment, log and ready
/// command (`{port0}`, `{port1}`, ... are added per port).
pub const NODE_VARS: &[&str] = &[
    "id",
    "name",
    "host",
    "port",
    "addr",
    "peers",
    "data_dir",
    "run_dir",
    "system_dir",
];

/// The placeholders of the client adapter's command and environment.
pub const CLIENT_VARS: &[&str] = &[
    "process",
    "node",
    "node_id",
    "nodes",
    "run_dir",
    "system_dir",
];

/// Values by placeholder name.
pub type Vars = BTreeMap<String, String>;

/// `template` with every `{name}` replaced by `vars[name]`.
pub fn render(template: &str, vars: &Vars) -> Result<String, String> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(i) = rest.find(['{', '}']) {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        if let Some(after) = tail.strip_prefix("{{") {
            out.push('{');
            rest = after;
        } else if let Some(after) = tail.strip_prefix("}}") {
            out.push('}');
            rest = after;
        } else if tail.starts_with('}') {
            return Err(format!(
                "{template:?}: a lone `}}` (write `}}}}` for a literal brace)"
            ));
        } else {
            let end = tail.find('}').ok_or_else(|| {
                format!("{template:?}: `{{` is not closed (write `{{{{` for a literal brace)")
            })?;
            let name = &tail[1..end];
            let value = vars.get(name).ok_or_else(|| {
                let known: Vec<&str> = vars.keys().map(String::as_str).collect();
                format!(
                    "{template:?}: unknown placeholder {{{name}}}; known: {}",
                    known.join(", ")
                )
            })?;
            out.push_str(value);
            rest = &tail[end + 1..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// Placeholder values that only check a template's names.
pub fn dummy(names: &[&str], ports: usize) -> Vars {
    let mut vars: Vars = names.iter().map(|n| (n.to_string(), "x".into())).collect();
    if names.contains(&"port") {
        for i in 0..ports {
            vars.insert(format!("port{i}"), "1".into());
        }
    }
    vars
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> Vars {
        [("id", "3"), ("port", "7000")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn placeholders_are_replaced_and_braces_escaped() {
        assert_eq!(
            render("n{id}:{port} {{x}}", &vars()).unwrap(),
            "n3:7000 {x}"
        );
        assert_eq!(render("plain", &vars()).unwrap(), "plain");
    }

    #[test]
    fn unknown_and_unclosed_placeholders_are_named() {
        let e = render("{idd}", &vars()).unwrap_err();
        assert!(e.contains("{idd}") && e.contains("known: id, port"), "{e}");
        assert!(render("{id", &vars()).unwrap_err().contains("not closed"));
        assert!(render("a}b", &vars()).unwrap_err().contains("lone"));
    }
}
