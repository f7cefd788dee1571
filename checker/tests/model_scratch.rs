use faultline_checker::model::*;

#[test]
fn scratch() {
    let mut o = RaftModelOptions::default();
    if let Ok(v) = std::env::var("MT") {
        o.max_term = v.parse().unwrap();
    }
    if let Ok(v) = std::env::var("ML") {
        o.max_log = v.parse().unwrap();
    }
    if let Ok(v) = std::env::var("CR") {
        o.crashes = v.parse().unwrap();
    }
    if let Ok(v) = std::env::var("PR") {
        o.proposals = v.parse().unwrap();
    }
    if let Ok(v) = std::env::var("RD") {
        o.reads = v.parse().unwrap();
    }
    if let Ok(v) = std::env::var("BUG") {
        o.bugs.insert(v.parse().unwrap());
    }
    let th = std::env::var("TH").map(|v| v.parse().unwrap()).unwrap_or(1);
    let r = check(
        o,
        SearchOptions {
            threads: th,
            stop: StopWhen::FirstViolation,
        },
    )
    .unwrap();
    println!(
        "complete {} unique {} states {} depth {} {:.2}s {:.0}/s",
        r.complete, r.unique_states, r.states, r.max_depth, r.elapsed_s, r.states_per_s
    );
    for p in &r.properties {
        println!(
            "{} {:?} {:?}",
            p.name,
            p.holds,
            p.trace.as_ref().map(|t| t.len())
        );
        if p.holds == Some(false) {
            for s in p.trace.as_ref().unwrap() {
                println!("  {}\n      {}", s.step, s.state.replace('\n', "\n      "));
            }
        }
    }
}
