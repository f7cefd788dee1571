use faultline_checker::model::*;
use stateright::Model;
use std::collections::HashSet;
use std::hash::{BuildHasher, Hash};

#[test]
fn scratch2() {
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
    if let Ok(v) = std::env::var("HB") {
        o.heartbeats = v.parse().unwrap();
    }
    let m = RaftModel::new(o).unwrap();
    let bh = std::collections::hash_map::RandomState::new();
    let mut seen = HashSet::new();
    let mut frontier = m.init_states();
    for s in &frontier {
        seen.insert(bh.hash_one(s));
    }
    for depth in 0..200 {
        let mut next = Vec::new();
        for s in &frontier {
            let mut acts = Vec::new();
            m.actions(s, &mut acts);
            for a in acts {
                if let Some(n) = m.next_state(s, a) {
                    if !m.within_boundary(&n) {
                        continue;
                    }
                    if seen.insert(bh.hash_one(&n)) {
                        next.push(n);
                    }
                }
            }
        }
        println!(
            "depth {} new {} total {}",
            depth + 1,
            next.len(),
            seen.len()
        );
        if next.is_empty() {
            break;
        }
        if seen.len()
            > std::env::var("LIM")
                .map(|v| v.parse().unwrap())
                .unwrap_or(3_000_000)
        {
            let cnt = |f: &dyn Fn(&faultline_checker::model::ModelState) -> u64| {
                let h: HashSet<u64> = next.iter().map(|s| f(s)).collect();
                h.len()
            };
            println!("frontier {}", next.len());
            println!("servers {}", cnt(&|s| bh.hash_one(&s.servers)));
            println!(
                "cores {}",
                cnt(&|s| bh.hash_one(s.servers.iter().map(|x| &x.core).collect::<Vec<_>>()))
            );
            println!(
                "status {}",
                cnt(&|s| bh.hash_one(
                    s.servers
                        .iter()
                        .map(|x| (
                            x.core.term(),
                            x.core.vote(),
                            x.core.role(),
                            x.core.leader(),
                            x.core.commit(),
                            x.core.applied(),
                            x.core.log_entries().to_vec(),
                            x.core.progress()
                        ))
                        .collect::<Vec<_>>()
                ))
            );
            println!("network {}", cnt(&|s| bh.hash_one(&s.network)));
            println!(
                "servers+network {}",
                cnt(&|s| bh.hash_one((&s.servers, &s.network)))
            );
            println!("clients {}", cnt(&|s| bh.hash_one(&s.clients)));
            println!("ghost {}", cnt(&|s| bh.hash_one(&s.ghost)));
            println!(
                "all-but-clients {}",
                cnt(&|s| bh.hash_one((&s.servers, &s.network, &s.ghost, s.proposals, s.reads)))
            );
            println!(
                "{}",
                faultline_checker::model::render::state(&next[next.len() - 1])
            );
            let st = &next[next.len() - 1];
            for m in st.network.iter() {
                println!("{}", faultline_checker::model::render::message(m));
            }
            println!("{:#?}", st.servers[2].core);
            println!("{:?}", st.clients);
            break;
        }
        frontier = next;
    }
}
