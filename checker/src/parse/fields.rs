//! Reading the fields of one history record, whatever its syntax (a JSON
//! object, an EDN map): a field is required or optional, converts to a typed
//! value or fails with a malformed-line error that names the file, the line,
//! what was expected and what was found. The format modules say only how a
//! syntax value converts.

use serde_json::Value as Json;

use super::edn::Edn;
use super::malformed;
use crate::error::ParseError;

/// A syntax tree value a record field can hold.
pub(crate) trait FieldValue {
    /// Whether the value is the syntax's null (`null`, `nil`).
    fn is_null(&self) -> bool;
    /// The value as a reader would quote it in an error.
    fn describe(&self) -> String;
}

impl FieldValue for Json {
    fn is_null(&self) -> bool {
        self.is_null()
    }
    fn describe(&self) -> String {
        self.to_string()
    }
}

impl FieldValue for Edn {
    fn is_null(&self) -> bool {
        matches!(self, Edn::Nil)
    }
    fn describe(&self) -> String {
        Edn::describe(self)
    }
}

/// How a missing field is quoted in errors.
pub(crate) fn show<V: FieldValue>(v: Option<&V>) -> String {
    v.map_or_else(|| "nothing".to_string(), FieldValue::describe)
}

/// The position of the record being read, for errors.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fields<'f> {
    pub file: &'f str,
    pub line: usize,
}

impl Fields<'_> {
    /// A field that must be present and convert with `conv`.
    pub fn required<V: FieldValue, T>(
        self,
        v: Option<&V>,
        expected: &str,
        conv: impl FnOnce(&V) -> Option<T>,
    ) -> Result<T, ParseError> {
        v.and_then(conv)
            .ok_or_else(|| malformed(self.file, self.line, expected, show(v)))
    }

    /// A field that may be absent or null (then `None`); otherwise it must
    /// convert with `conv`.
    pub fn optional<V: FieldValue, T>(
        self,
        v: Option<&V>,
        expected: &str,
        conv: impl FnOnce(&V) -> Option<T>,
    ) -> Result<Option<T>, ParseError> {
        match v {
            None => Ok(None),
            Some(x) if x.is_null() => Ok(None),
            Some(x) => conv(x)
                .map(Some)
                .ok_or_else(|| malformed(self.file, self.line, expected, x.describe())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AT: Fields<'static> = Fields {
        file: "h.jsonl",
        line: 7,
    };

    #[test]
    fn required_converts_or_names_expectation_and_found() {
        let v = Json::from(5u64);
        assert_eq!(AT.required(Some(&v), "a number", Json::as_u64).unwrap(), 5);
        let err = AT
            .required(Some(&Json::from("x")), "a number", Json::as_u64)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("h.jsonl:7") && err.contains("a number") && err.contains("\"x\""),
            "{err}"
        );
        let err = AT
            .required(None::<&Json>, "a number", Json::as_u64)
            .unwrap_err()
            .to_string();
        assert!(err.contains("nothing"), "{err}");
    }

    #[test]
    fn optional_treats_absent_and_null_alike_and_rejects_wrong_types() {
        assert_eq!(AT.optional(None::<&Json>, "n", Json::as_u64).unwrap(), None);
        assert_eq!(
            AT.optional(Some(&Json::Null), "n", Json::as_u64).unwrap(),
            None
        );
        assert_eq!(
            AT.optional(Some(&Edn::Nil), "n", |_| Some(1)).unwrap(),
            None
        );
        assert_eq!(
            AT.optional(Some(&Json::from(3u64)), "n", Json::as_u64)
                .unwrap(),
            Some(3)
        );
        let err = AT
            .optional(Some(&Edn::Bool(true)), ":time an integer", |_| None::<u64>)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(":time an integer") && err.contains("true"),
            "{err}"
        );
    }
}
