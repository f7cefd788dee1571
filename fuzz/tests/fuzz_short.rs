//! The suite's short fuzz pass: every target of `faultline_fuzz::TARGETS`
//! fed its `short_inputs` seeded inputs (seed printed; set
//! FAULTLINE_FUZZ_SEED to change it). The long pass is `scripts/fuzz.sh`.

use faultline_fuzz::runner::show_input;
use faultline_fuzz::{RunOptions, TARGETS, run, target};

/// The seed of the short pass: fixed, so the suite is deterministic.
const DEFAULT_SEED: u64 = 20_240_601;

fn seed() -> u64 {
    std::env::var("FAULTLINE_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_SEED)
}

fn short_pass(name: &str) {
    let t = target(name).unwrap_or_else(|| panic!("no fuzz target {name}"));
    let seed = seed();
    println!(
        "fuzz {name}: seed {seed} (FAULTLINE_FUZZ_SEED), {} inputs",
        t.short_inputs
    );
    let opts = RunOptions {
        seed,
        inputs: None,
        time: None,
        progress: None,
    };
    let report = run(t, &opts);
    println!(
        "fuzz {name}: {} inputs, {} panics, {:.0} inputs/s",
        report.inputs,
        report.panics,
        report.rate()
    );
    assert_eq!(report.inputs, t.short_inputs);
    if let Some(site) = report.sites.first() {
        panic!(
            "{name}: {} of {} inputs panicked; first at {}: {}\n  input #{} (seed {seed}): {}\n  \
             write it out with: faultline-fuzz input --seed {seed} --index {} {name} FILE",
            report.panics,
            report.inputs,
            site.location,
            site.message,
            site.first_index,
            show_input(&site.first_input, 300),
            site.first_index
        );
    }
}

macro_rules! short_pass {
    ($($test:ident => $name:literal),* $(,)?) => {
        $(
            #[test]
            fn $test() {
                short_pass($name);
            }
        )*

        #[test]
        fn fuzz_every_target_has_a_short_pass() {
            let here = [$($name),*];
            let registered: Vec<&str> = TARGETS.iter().map(|t| t.name).collect();
            assert_eq!(here.to_vec(), registered, "add a short_pass! line for each target");
        }
    };
}

short_pass! {
    fuzz_jsonl => "jsonl",
    fuzz_porcupine_kv => "porcupine_kv",
    fuzz_jepsen_etcd => "jepsen_etcd",
    fuzz_jepsen_edn => "jepsen_edn",
    fuzz_rpc_stream => "rpc_stream",
    fuzz_rpc_frame => "rpc_frame",
    fuzz_wal_segment => "wal_segment",
    fuzz_wal_records => "wal_records",
    fuzz_hardstate_file => "hardstate_file",
    fuzz_snapshot_file => "snapshot_file",
    fuzz_system_file => "system_file",
    fuzz_adapter_answer => "adapter_answer",
    fuzz_hosts_file => "hosts_file",
}
