//! The `shard-move` package against the fake controller: every stop
//! restores the configuration, the heal joins every group, an unknown
//! outcome is settled, an unsharded system is refused.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde_json::json;

use super::ShardMove;
use super::fake::FakeDb;
use super::stall::involved;
use crate::package::Package;

#[test]
fn each_stop_restores_the_configuration_and_the_heal_joins_every_group() {
    let db = FakeDb::new(&[1, 2, 3]);
    let start = db.0.latest();
    let mut p = ShardMove::default();
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    let (mut leaves, mut moves, mut stalls) = (0, 0, 0);
    for _ in 0..20 {
        let v = p.start(&db, &mut rng).unwrap();
        assert!(p.active());
        if let Some(st) = v.get("stalled") {
            // The group's followers are stopped, and a receiver's leader too.
            stalls += 1;
            let gid = st["gid"].as_u64().unwrap();
            let side = match st["role"].as_str().unwrap() {
                "receiver" => "to",
                "giver" => "from",
                r => panic!("stall role {r}"),
            };
            assert!(involved(&v, side).contains(&gid), "{v}");
            assert_eq!(st["leader"], format!("g{gid}n2"));
            let mut expect = vec![format!("g{gid}n1"), format!("g{gid}n3")];
            if side == "to" {
                expect.push(format!("g{gid}n2"));
            }
            assert_eq!(db.paused(), expect);
            assert_eq!(st["leader_killed"].as_bool().unwrap_or(false), side == "to");
        } else {
            assert!(db.paused().is_empty());
        }
        assert!(!v["moved"].as_array().unwrap().is_empty(), "{v}");
        assert_eq!(v["from_config"].as_u64().unwrap() + 1, v["config"]);
        match v["op"].as_str().unwrap() {
            "leave" => leaves += 1,
            "move" => moves += 1,
            op => panic!("start made a {op}"),
        }
        let back = p.stop(&db).unwrap();
        assert!(!p.active());
        assert!(
            db.paused().is_empty(),
            "a stop brings back what a stall stopped"
        );
        assert!(matches!(back["op"].as_str(), Some("join" | "move")));
        let now = db.0.latest();
        assert_eq!(
            (&now.owners, &now.joined),
            (&start.owners, &start.joined),
            "after {v} and {back}"
        );
    }
    assert!(leaves > 0 && moves > 0, "{leaves} leaves, {moves} moves");
    assert!((6..=19).contains(&stalls), "{stalls} stalls of 20");
    // A fault left in force at the end: the heal undoes it and joins all.
    p.start(&db, &mut rng).unwrap();
    assert!(p.needs_heal());
    let healed = p.heal(&db).unwrap();
    assert_eq!(healed["op"], "join");
    assert_eq!(healed["gids"], json!([1, 2, 3]));
    assert_eq!(db.0.latest().joined, vec![1, 2, 3]);
    assert!(db.paused().is_empty());
    assert!(!p.needs_heal());
}

#[test]
fn a_change_with_an_unknown_outcome_is_settled_by_joining_every_group() {
    let db = FakeDb::new(&[1, 2, 3]);
    let mut p = ShardMove::default();
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    *db.0.fail_next.lock().unwrap() = true;
    assert!(p.start(&db, &mut rng).is_err());
    assert!(p.active(), "an unknown outcome must be healed");
    let v = p.stop(&db).unwrap();
    assert_eq!(v["op"], "join");
    assert_eq!(v["gids"], json!([1, 2, 3]));
    assert!(!p.active() && !p.needs_heal());
}

#[test]
fn an_unsharded_db_is_refused_with_the_reason() {
    let plain = crate::test_support::FakeDb::single(3, false);
    let err = ShardMove::default()
        .start(&plain, &mut ChaCha8Rng::seed_from_u64(1))
        .unwrap_err()
        .to_string();
    assert!(err.contains("--groups"), "{err}");
}
