//! History targets: the text reaches `parse_str` exactly as `faultline check`
//! hands it over (UTF-8 text, the format forced, and auto-detected), and a
//! parsed history goes on to `ops::pair`, the next step of every check.

use faultline_checker::{Format, ops, parse_str};

use super::{InputKind, Target};

pub const JSONL: Target = Target {
    name: "jsonl",
    about: "faultline history.jsonl via parse_str(--format jsonl and auto) then ops::pair",
    kind: InputKind::Text,
    run: |data| parse_as(Format::Jsonl, data),
    seeds: jsonl_seeds,
    dictionary: JSON_TOKENS,
    short_inputs: 20_000,
};

pub const PORCUPINE_KV: Target = Target {
    name: "porcupine_kv",
    about: "Porcupine KV EDN lines via parse_str(--format porcupine-kv and auto) then ops::pair",
    kind: InputKind::Text,
    run: |data| parse_as(Format::PorcupineKv, data),
    seeds: porcupine_seeds,
    dictionary: EDN_TOKENS,
    short_inputs: 20_000,
};

pub const JEPSEN_ETCD: Target = Target {
    name: "jepsen_etcd",
    about: "Jepsen etcd logs via parse_str(--format jepsen-etcd and auto) then ops::pair",
    kind: InputKind::Text,
    run: |data| parse_as(Format::JepsenEtcd, data),
    seeds: etcd_seeds,
    dictionary: ETCD_TOKENS,
    short_inputs: 20_000,
};

pub const JEPSEN_EDN: Target = Target {
    name: "jepsen_edn",
    about: "Jepsen history.edn via parse_str(--format jepsen-edn and auto) then ops::pair",
    kind: InputKind::Text,
    run: |data| parse_as(Format::JepsenEdn, data),
    seeds: edn_seeds,
    dictionary: EDN_TOKENS,
    short_inputs: 20_000,
};

/// `faultline check` reads the file with `read_to_string`, so input that is
/// not UTF-8 never reaches a parser.
fn parse_as(format: Format, data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for format in [Some(format), None] {
        match parse_str(text, "fuzz-input", format) {
            Ok((history, _)) => {
                if let Err(e) = ops::pair(&history) {
                    assert!(!e.to_string().is_empty(), "an empty pairing error");
                }
            }
            Err(e) => assert!(!e.to_string().is_empty(), "an empty parse error"),
        }
    }
}

fn lines(text: &str) -> Vec<u8> {
    text.as_bytes().to_vec()
}

fn jsonl_seeds() -> Vec<Vec<u8>> {
    vec![
        lines(concat!(
            "{\"index\":0,\"time\":1203344,\"process\":3,\"type\":\"invoke\",\"f\":\"cas\",\"key\":\"k7\",\"value\":[1,2]}\n",
            "{\"index\":1,\"time\":9087121,\"process\":3,\"type\":\"ok\",\"f\":\"cas\",\"key\":\"k7\",\"value\":[1,2],\"node\":\"n1\"}\n",
            "{\"index\":2,\"time\":9100000,\"process\":\"nemesis\",\"type\":\"invoke\",\"f\":\"start-partition\",\"value\":{\"grudge\":\"majorities-ring\"}}\n",
            "{\"index\":3,\"time\":9200000,\"process\":4,\"type\":\"invoke\",\"f\":\"get\",\"key\":7,\"value\":null}\n",
            "{\"index\":4,\"time\":9300000,\"process\":4,\"type\":\"info\",\"f\":\"get\",\"key\":7,\"value\":null,\"error\":\"timeout\"}\n",
        )),
        lines(concat!(
            "{\"process\":0,\"type\":\"invoke\",\"f\":\"append\",\"key\":\"a\",\"value\":\"x\"}\n",
            "{\"process\":0,\"type\":\"ok\",\"f\":\"append\",\"key\":\"a\",\"value\":\"x\"}\n",
            "{\"process\":1,\"type\":\"invoke\",\"f\":\"put\",\"key\":\"a\",\"value\":5}\n",
            "{\"process\":1,\"type\":\"fail\",\"f\":\"put\",\"key\":\"a\",\"value\":5,\"error\":{\"code\":3}}\n",
            "{\"process\":2,\"type\":\"invoke\",\"f\":\"get\",\"key\":\"a\"}\n",
            "{\"process\":2,\"type\":\"ok\",\"f\":\"get\",\"key\":\"a\",\"value\":[true,[1,\"y\"]]}\n",
        )),
    ]
}

fn porcupine_seeds() -> Vec<Vec<u8>> {
    vec![lines(concat!(
        "{:process 0, :type :invoke, :f :append, :key \"0\", :value \"x 0 0 y\"}\n",
        "{:process 0, :type :ok, :f :append, :key \"0\", :value \"x 0 0 y\"}\n",
        "{:process 1, :type :invoke, :f :put, :key \"1\", :value \"x 1 0 y\"}\n",
        "{:process 2, :type :invoke, :f :get, :key \"1\", :value nil}\n",
        "{:process 1, :type :ok, :f :put, :key \"1\", :value \"x 1 0 y\"}\n",
        "{:process 2, :type :ok, :f :get, :key \"1\", :value \"x 1 0 y\"}\n",
    ))]
}

fn etcd_seeds() -> Vec<Vec<u8>> {
    vec![lines(concat!(
        "INFO  jepsen.core - Running test\n",
        "INFO  jepsen.util - 4\t:invoke\t:read\tnil\n",
        "INFO  jepsen.util - 4\t:ok\t:read\tnil\n",
        "INFO  jepsen.util - 1\t:invoke\t:write\t1\n",
        "INFO  jepsen.util - 2\t:invoke\t:cas\t[2 4]\n",
        "INFO  jepsen.util - 1\t:ok\t:write\t1\n",
        "INFO  jepsen.util - 2\t:fail\t:cas\t[2 4]\n",
        "INFO  jepsen.util - 3\t:invoke\t:read\tnil\n",
        "INFO  jepsen.util - 3\t:info\t:read\t:timed-out\n",
        "INFO  jepsen.util - :nemesis\t:info\t:start\t{:n1 [:n2]}\n",
    ))]
}

fn edn_seeds() -> Vec<Vec<u8>> {
    vec![
        lines(concat!(
            "[{:type :invoke, :f :write, :value [5 1], :process 0, :time 10, :index 0}\n",
            " {:type :ok, :f :write, :value [5 1], :process 0, :time 20, :index 1}\n",
            " {:type :info, :f :start, :value nil, :process :nemesis, :time 25}\n",
            " {:type :invoke, :f :cas, :value [5 [1 2]], :process 1, :time 30}\n",
            " {:type :ok, :f :cas, :value [5 [1 2]], :process 1, :time 40}\n",
            " {:type :invoke, :f :read, :value [5 nil], :process 0, :time 50}\n",
            " {:type :ok, :f :read, :value [5 1], :process 0, :time 60}]\n",
        )),
        lines(concat!(
            "; a comment\n",
            "{:process 0 :type :invoke :f :read :key :k1 :value nil :time 1}\n",
            "{:process 0 :type :ok :f :read :key :k1 :value 3 :time 2 :node \"n1\"}\n",
            "#_ {:ignored true}\n",
            "{:process 1 :type :invoke :f :write :key \"k2\" :value 4N :time #inst \"2020-01-01\"}\n",
            "{:process 1 :type :fail :f :write :key \"k2\" :value 4 :error [:timeout \"a\\\"b\"]}\n",
            "(:x #{1 2} \\newline 2.5M -7 +3)\n",
        )),
    ]
}

const JSON_TOKENS: &[&[u8]] = &[
    b"{\"",
    b"\"process\":",
    b"\"type\":",
    b"\"invoke\"",
    b"\"ok\"",
    b"\"fail\"",
    b"\"info\"",
    b"\"f\":",
    b"\"cas\"",
    b"\"key\":",
    b"\"value\":",
    b"\"index\":",
    b"\"time\":",
    b"\"node\":",
    b"\"error\":",
    b"\"nemesis\"",
    b"null",
    b"true",
    b"false",
    b"[",
    b"]",
    b"{",
    b"}",
    b",",
    b":",
    b"\\u0000",
    b"\\ud800",
    b"1e999",
    b"-1",
    b"-0.0",
    b"18446744073709551615",
    b"18446744073709551616",
    b"9223372036854775808",
    b"-9223372036854775809",
    b"\n",
    "\u{e9}\u{1f600}".as_bytes(),
];

const EDN_TOKENS: &[&[u8]] = &[
    b"{:process 0 :type :invoke :f :read :value nil}",
    b":process",
    b":type",
    b":invoke",
    b":ok",
    b":fail",
    b":info",
    b":f",
    b":cas",
    b":read",
    b":write",
    b":append",
    b":get",
    b":key",
    b":value",
    b":index",
    b":time",
    b":nemesis",
    b":error",
    b"#_",
    b"#{",
    b"#inst",
    b"\\newline",
    b"\\",
    b";",
    b"nil",
    b"true",
    b"[",
    b"]",
    b"(",
    b")",
    b"{",
    b"}",
    b"\"",
    b"\\\"",
    b"1N",
    b"2.5M",
    b"-",
    b"+1",
    b"9223372036854775808",
    b"-9223372036854775808",
    b"[1 [2 3]]",
    b"\n",
    "\u{e9}\u{1f600}".as_bytes(),
];

const ETCD_TOKENS: &[&[u8]] = &[
    b"INFO  jepsen.util - ",
    b"jepsen.util -",
    b"\t",
    b":invoke",
    b":ok",
    b":fail",
    b":info",
    b":read",
    b":write",
    b":cas",
    b":timed-out",
    b":nemesis",
    b"nil",
    b"[1 2]",
    b"[",
    b"]",
    b"\"",
    b"#_",
    b"18446744073709551616",
    b"-1",
    b"\n",
];
