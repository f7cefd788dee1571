//! `--system FILE.toml` targets: the system file's text reaches
//! `SystemSpec::parse` as `faultline run --system` hands it over (UTF-8 text;
//! the TOML parse, the field checks and every placeholder template checked),
//! and the lines a client adapter prints reach `adapter::parse_answer`, which
//! turns anything it cannot read into an `info` answer.

use faultline_runner::systems::file::adapter::{Answer, parse_answer};
use faultline_runner::systems::file::spec::SystemSpec;

use super::{InputKind, Target};

pub const SYSTEM_FILE: Target = Target {
    name: "system_file",
    about: "a --system FILE.toml via SystemSpec::parse (TOML, field checks, placeholder templates)",
    kind: InputKind::Text,
    run: system_file,
    seeds: system_seeds,
    dictionary: TOML_TOKENS,
    short_inputs: 20_000,
};

pub const ADAPTER_ANSWER: Target = Target {
    name: "adapter_answer",
    about: "a client adapter's answer lines via adapter::parse_answer",
    kind: InputKind::Text,
    run: adapter_answers,
    seeds: answer_seeds,
    dictionary: ANSWER_TOKENS,
    short_inputs: 30_000,
};

/// `SystemSpec::load` reads the file with `read_to_string`, so input that is
/// not UTF-8 never reaches the parser.
fn system_file(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match SystemSpec::parse(text) {
        Ok(spec) => assert!(!spec.node.command.is_empty(), "a spec without a command"),
        Err(e) => assert!(!e.is_empty(), "an empty system file error"),
    }
}

/// The runner reads an adapter's stdout line by line (lossy UTF-8).
fn adapter_answers(data: &[u8]) {
    for line in String::from_utf8_lossy(data).lines() {
        if let Answer::Info(why) | Answer::Fail(why) = parse_answer(line) {
            assert!(!why.is_empty(), "an empty reason for {line:?}");
        }
    }
}

fn system_seeds() -> Vec<Vec<u8>> {
    let examples = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples");
    let mut seeds: Vec<Vec<u8>> = [
        "tinykv/tinykv.toml",
        "tinykv/tinykv-primary.toml",
        "zookeeper/zookeeper.toml",
        "zookeeper/zookeeper-sync.toml",
    ]
    .iter()
    .filter_map(|f| std::fs::read(format!("{examples}/{f}")).ok())
    .collect();
    seeds.push(
        concat!(
            "name = \"s\"\n[node]\ncommand = [\"x\", \"{addr}\", \"{port1}\", \"{{lit}}\"]\n",
            "ports = 2\nport = 65534\nenv = { A = \"{id}\" }\nlog = \"{data_dir}/l\"\n",
            "[ready]\ncommand = [\"probe\", \"{addr}\"]\ntimeout_s = 0\n",
            "[client]\ncommand = [\"a\", \"{node}\"]\ntimeout_ms = 18446744073709551615\n",
        )
        .as_bytes()
        .to_vec(),
    );
    seeds
}

fn answer_seeds() -> Vec<Vec<u8>> {
    vec![
        b"{\"type\":\"ok\",\"value\":3}\n{\"type\":\"fail\",\"error\":\"not found\"}\n".to_vec(),
        b"{\"type\":\"info\",\"error\":{\"code\":7}}\n{\"type\":\"ok\"}\nnot json\n".to_vec(),
        b"{\"type\":\"ok\",\"value\":[1,2,[3,{\"a\":null}]]}\r\n{\"type\":5}\n".to_vec(),
    ]
}

const TOML_TOKENS: &[&[u8]] = &[
    b"[node]",
    b"[ready]",
    b"[client]",
    b"command = ",
    b"env = { ",
    b"ports = ",
    b"port = ",
    b"log = ",
    b"stop_grace_ms = ",
    b"faketime = ",
    b"tcp = true",
    b"timeout_s = ",
    b"timeout_ms = ",
    b"start_timeout_ms = ",
    b"name = ",
    b"{addr}",
    b"{port0}",
    b"{port9}",
    b"{{",
    b"}}",
    b"{",
    b"}",
    b"\"\"\"",
    b"'''",
    b"\\u00e9",
    b"[[node]]",
    b"-9223372036854775808",
    b"1e400",
    b"\n",
];

const ANSWER_TOKENS: &[&[u8]] = &[
    b"{\"type\":\"ok\"",
    b"{\"type\":\"fail\"",
    b"{\"type\":\"info\"",
    b"\"value\":",
    b"\"error\":",
    b"null",
    b"[[[[[[[[",
    b"\\ud800",
    b"1e999",
    b"\n",
];
