//! The AFL++ harness: feeds AFL's inputs to the faultline-fuzz target named
//! by `FAULTLINE_FUZZ_TARGET`, in persistent mode. A panic is a crash to AFL.

fn main() {
    let name = std::env::var("FAULTLINE_FUZZ_TARGET").unwrap_or_default();
    let Some(target) = faultline_fuzz::target(&name) else {
        let names: Vec<&str> = faultline_fuzz::TARGETS.iter().map(|t| t.name).collect();
        eprintln!(
            "faultline-fuzz-afl: set FAULTLINE_FUZZ_TARGET to one of: {}",
            names.join(", ")
        );
        std::process::exit(2);
    };
    afl::fuzz!(|data: &[u8]| {
        (target.run)(data);
    });
}
