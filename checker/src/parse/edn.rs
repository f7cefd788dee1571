//! A small EDN reader for the subset Jepsen and Porcupine histories use: maps,
//! vectors, lists, sets, keywords, symbols, strings, integers, floats, `nil`,
//! booleans, tagged literals (`#inst "..."`), comments and `#_` discards.
//! Nesting (collections, tags, discards) is limited to [`MAX_DEPTH`] levels,
//! so hostile input gets an error instead of overflowing the stack.

/// The deepest nesting the reader accepts (as serde_json's default limit);
/// histories nest a handful of levels.
pub const MAX_DEPTH: usize = 128;

/// An EDN value.
#[derive(Debug, Clone, PartialEq)]
pub enum Edn {
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    /// A keyword, without its leading `:`.
    Keyword(String),
    Symbol(String),
    Vector(Vec<Edn>),
    List(Vec<Edn>),
    Set(Vec<Edn>),
    Map(Vec<(Edn, Edn)>),
    Tagged(String, Box<Edn>),
}

impl Edn {
    /// Looks up a keyword key in a map.
    pub fn get(&self, keyword: &str) -> Option<&Edn> {
        match self {
            Edn::Map(entries) => entries
                .iter()
                .find(|(k, _)| matches!(k, Edn::Keyword(s) if s == keyword))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// A short rendering for error messages.
    pub fn describe(&self) -> String {
        match self {
            Edn::Nil => "nil".into(),
            Edn::Bool(b) => b.to_string(),
            Edn::Int(i) => i.to_string(),
            Edn::Float(x) => x.to_string(),
            Edn::Str(s) => format!("{s:?}"),
            Edn::Keyword(k) => format!(":{k}"),
            Edn::Symbol(s) => s.clone(),
            Edn::Vector(v) => format!("a vector of {}", v.len()),
            Edn::List(v) => format!("a list of {}", v.len()),
            Edn::Set(v) => format!("a set of {}", v.len()),
            Edn::Map(v) => format!("a map of {}", v.len()),
            Edn::Tagged(t, _) => format!("#{t}"),
        }
    }
}

/// A syntax error: the 1-based line, what was expected and what was found.
#[derive(Debug, Clone, PartialEq)]
pub struct EdnError {
    pub line: usize,
    pub expected: String,
    pub found: String,
}

/// Reads top-level EDN forms one at a time, tracking line numbers.
pub struct EdnReader<'a> {
    src: &'a [u8],
    pos: usize,
    line: usize,
    /// Values being read around the current position (nesting level).
    depth: usize,
}

impl<'a> EdnReader<'a> {
    pub fn new(text: &'a str) -> Self {
        EdnReader {
            src: text.as_bytes(),
            pos: 0,
            line: 1,
            depth: 0,
        }
    }

    /// The current line (1-based).
    pub fn line(&self) -> usize {
        self.line
    }

    /// Reads the next top-level form and the line it starts on; `None` at the end.
    pub fn next_form(&mut self) -> Result<Option<(Edn, usize)>, EdnError> {
        self.skip_ws()?;
        if self.pos >= self.src.len() {
            return Ok(None);
        }
        let line = self.line;
        let form = self.read()?;
        Ok(Some((form, line)))
    }

    fn err<T>(&self, expected: &str) -> Result<T, EdnError> {
        let rest = &self.src[self.pos.min(self.src.len())..];
        let end = rest
            .iter()
            .position(|&b| b == b'\n')
            .unwrap_or(rest.len())
            .min(40);
        let found = if rest.is_empty() {
            "end of input".to_string()
        } else {
            format!("{:?}", String::from_utf8_lossy(&rest[..end]))
        };
        Err(EdnError {
            line: self.line,
            expected: expected.to_string(),
            found,
        })
    }

    fn peek(&self) -> Option<u8> {
        self.src.get(self.pos).copied()
    }

    fn skip_ws(&mut self) -> Result<(), EdnError> {
        while let Some(b) = self.peek() {
            match b {
                b'\n' => {
                    self.line += 1;
                    self.pos += 1;
                }
                b' ' | b'\t' | b'\r' | b',' => self.pos += 1,
                b';' => {
                    while let Some(c) = self.peek() {
                        if c == b'\n' {
                            break;
                        }
                        self.pos += 1;
                    }
                }
                b'#' if self.src.get(self.pos + 1) == Some(&b'_') => {
                    self.pos += 2;
                    // `read` skips the whitespace itself and counts the
                    // nesting, so chained discards cannot recurse unbounded.
                    self.read()?;
                }
                _ => break,
            }
        }
        Ok(())
    }

    /// Reads one value; every recursion (collections, tags, discards) goes
    /// through here, so the depth check bounds the stack.
    fn read(&mut self) -> Result<Edn, EdnError> {
        if self.depth >= MAX_DEPTH {
            return self.err(&format!(
                "values nested at most {MAX_DEPTH} deep (collections, tags and #_ discards)"
            ));
        }
        self.depth += 1;
        let value = self.read_value();
        self.depth -= 1;
        value
    }

    fn read_value(&mut self) -> Result<Edn, EdnError> {
        self.skip_ws()?;
        let Some(b) = self.peek() else {
            return self.err("an EDN value");
        };
        match b {
            b'{' => {
                self.pos += 1;
                let items = self.read_seq(b'}')?;
                if items.len() % 2 != 0 {
                    return self.err("a map with an even number of forms");
                }
                let mut entries = Vec::with_capacity(items.len() / 2);
                let mut it = items.into_iter();
                while let (Some(k), Some(v)) = (it.next(), it.next()) {
                    entries.push((k, v));
                }
                Ok(Edn::Map(entries))
            }
            b'[' => {
                self.pos += 1;
                Ok(Edn::Vector(self.read_seq(b']')?))
            }
            b'(' => {
                self.pos += 1;
                Ok(Edn::List(self.read_seq(b')')?))
            }
            b'#' => {
                self.pos += 1;
                if self.peek() == Some(b'{') {
                    self.pos += 1;
                    return Ok(Edn::Set(self.read_seq(b'}')?));
                }
                let tag = self.token();
                if tag.is_empty() {
                    return self.err("a tag, a set or a discard after #");
                }
                let value = self.read()?;
                Ok(Edn::Tagged(tag, Box::new(value)))
            }
            b'"' => self.read_string(),
            b':' => {
                self.pos += 1;
                let name = self.token();
                if name.is_empty() {
                    return self.err("a keyword name after ':'");
                }
                Ok(Edn::Keyword(name))
            }
            b'\\' => {
                self.pos += 1;
                let name = self.token();
                let c = match name.as_str() {
                    "newline" => "\n".to_string(),
                    "space" => " ".to_string(),
                    "tab" => "\t".to_string(),
                    "" => return self.err("a character after '\\'"),
                    s => s.to_string(),
                };
                Ok(Edn::Str(c))
            }
            b'}' | b']' | b')' => self.err("an EDN value"),
            _ => {
                let start_line = self.line;
                let tok = self.token();
                if tok.is_empty() {
                    return self.err("an EDN value");
                }
                atom(&tok).ok_or_else(|| EdnError {
                    line: start_line,
                    expected: "an EDN value".to_string(),
                    found: format!("{tok:?}"),
                })
            }
        }
    }

    fn read_seq(&mut self, close: u8) -> Result<Vec<Edn>, EdnError> {
        let opened = self.line;
        let mut items = Vec::new();
        loop {
            self.skip_ws()?;
            match self.peek() {
                None => {
                    return Err(EdnError {
                        line: opened,
                        expected: format!(
                            "'{}' to close the collection opened on this line",
                            close as char
                        ),
                        found: "end of input".to_string(),
                    });
                }
                Some(b) if b == close => {
                    self.pos += 1;
                    return Ok(items);
                }
                Some(_) => items.push(self.read()?),
            }
        }
    }

    fn read_string(&mut self) -> Result<Edn, EdnError> {
        self.pos += 1;
        let mut out = Vec::new();
        loop {
            let Some(b) = self.peek() else {
                return self.err("a closing '\"'");
            };
            self.pos += 1;
            match b {
                b'"' => break,
                b'\\' => {
                    let Some(e) = self.peek() else {
                        return self.err("an escape character");
                    };
                    self.pos += 1;
                    out.push(match e {
                        b'n' => b'\n',
                        b't' => b'\t',
                        b'r' => b'\r',
                        other => other,
                    });
                }
                b'\n' => {
                    self.line += 1;
                    out.push(b);
                }
                _ => out.push(b),
            }
        }
        match String::from_utf8(out) {
            Ok(s) => Ok(Edn::Str(s)),
            Err(_) => self.err("a UTF-8 string"),
        }
    }

    fn token(&mut self) -> String {
        let start = self.pos;
        while let Some(b) = self.peek() {
            if b.is_ascii_whitespace()
                || matches!(
                    b,
                    b',' | b'{' | b'}' | b'[' | b']' | b'(' | b')' | b'"' | b';'
                )
            {
                break;
            }
            self.pos += 1;
        }
        String::from_utf8_lossy(&self.src[start..self.pos]).into_owned()
    }
}

fn atom(tok: &str) -> Option<Edn> {
    match tok {
        "nil" => return Some(Edn::Nil),
        "true" => return Some(Edn::Bool(true)),
        "false" => return Some(Edn::Bool(false)),
        _ => {}
    }
    let first = tok.as_bytes()[0];
    let numeric = first.is_ascii_digit()
        || ((first == b'-' || first == b'+')
            && tok.len() > 1
            && tok.as_bytes()[1].is_ascii_digit());
    if numeric {
        let t = tok.trim_end_matches(['N', 'M']);
        if let Ok(i) = t.parse::<i64>() {
            return Some(Edn::Int(i));
        }
        return t.parse::<f64>().ok().map(Edn::Float);
    }
    Some(Edn::Symbol(tok.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(s: &str) -> Result<Vec<Edn>, EdnError> {
        let mut r = EdnReader::new(s);
        let mut out = Vec::new();
        while let Some((f, _)) = r.next_form()? {
            out.push(f);
        }
        Ok(out)
    }

    #[test]
    fn reads_a_porcupine_line() {
        let forms =
            read_all("{:process 0, :type :invoke, :f :append, :key \"0\", :value \"x 0 0 y\"}")
                .unwrap();
        assert_eq!(forms.len(), 1);
        let m = &forms[0];
        assert_eq!(m.get("process"), Some(&Edn::Int(0)));
        assert_eq!(m.get("f"), Some(&Edn::Keyword("append".into())));
        assert_eq!(m.get("value"), Some(&Edn::Str("x 0 0 y".into())));
        assert_eq!(m.get("missing"), None);
    }

    #[test]
    fn reads_nested_collections_tags_and_comments() {
        let forms =
            read_all("; c\n[1 -2 3.5 nil true #{:a} (x y) #inst \"2020\" #_ :gone \"a\\\"b\"]")
                .unwrap();
        let Edn::Vector(v) = &forms[0] else {
            panic!("not a vector")
        };
        assert_eq!(v[0], Edn::Int(1));
        assert_eq!(v[1], Edn::Int(-2));
        assert_eq!(v[2], Edn::Float(3.5));
        assert_eq!(v[3], Edn::Nil);
        assert_eq!(v[4], Edn::Bool(true));
        assert_eq!(v[5], Edn::Set(vec![Edn::Keyword("a".into())]));
        assert_eq!(
            v[6],
            Edn::List(vec![Edn::Symbol("x".into()), Edn::Symbol("y".into())])
        );
        assert_eq!(
            v[7],
            Edn::Tagged("inst".into(), Box::new(Edn::Str("2020".into())))
        );
        assert_eq!(v[8], Edn::Str("a\"b".into()));
        assert_eq!(v.len(), 9);
    }

    #[test]
    fn nesting_is_limited_instead_of_overflowing_the_stack() {
        let nested = |open: &str, close: &str, n: usize| open.repeat(n) + &close.repeat(n);
        assert!(read_all(&nested("[", "]", MAX_DEPTH)).is_ok());
        for (open, close) in [
            ("[", "]"),
            ("(", ")"),
            ("{:a ", "}"),
            ("#{", "}"),
            ("#t ", ""),
        ] {
            for n in [MAX_DEPTH + 1, 200_000] {
                let err = read_all(&format!("\n{}", nested(open, close, n))).unwrap_err();
                assert_eq!(err.line, 2, "{open}");
                assert!(
                    err.expected.contains("nested at most 128"),
                    "{open}: {err:?}"
                );
            }
        }
        // Chained discards recurse too.
        let err = read_all(&("#_ ".repeat(200_000) + "1")).unwrap_err();
        assert!(err.expected.contains("nested"), "{err:?}");
        assert_eq!(read_all("#_ #_ 1 2 3").unwrap(), vec![Edn::Int(3)]);
    }

    #[test]
    fn reports_the_line_of_an_error() {
        let err = read_all("{:a 1}\n{:b 2\n").unwrap_err();
        assert_eq!(err.line, 2);
        assert!(err.expected.contains("'}'"), "{err:?}");
        let err = read_all("{:a 1}\n{:b}\n").unwrap_err();
        assert_eq!(err.line, 2);
        assert!(err.expected.contains("even"), "{err:?}");
    }
}
