//! Which node log lines the page embeds when they would exceed the byte
//! bound ([`crate::limits::LOG_BYTES`]): every ERROR line first, then the
//! lines closest in time to the moments that matter (the run's start and
//! end, each fault's start and end, the counterexample), so the page keeps
//! unbroken windows around them. Deterministic; nodes/*/node.log keep
//! every line.

use serde::Serialize;

/// The lines kept.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LineSelection {
    /// Positions in the merged lines, ascending (time order).
    pub kept: Vec<usize>,
    pub total: usize,
    /// ERROR lines kept, of how many.
    pub errors_kept: usize,
    pub errors: usize,
    /// When thinned: every other kept line is at most this far (ms) from a
    /// moment that matters.
    pub window_ms: Option<f64>,
}

impl LineSelection {
    pub fn thinned(&self) -> bool {
        self.kept.len() < self.total
    }
}

/// One line as the selection sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LineCost {
    /// Time in ms since the run began (`None`: before any timestamp,
    /// counted as the run's start).
    pub t_ms: Option<f64>,
    pub error: bool,
    /// Bytes the line takes in the embedded data.
    pub bytes: usize,
}

/// Chooses lines totalling at most `budget` bytes; `moments` are the
/// times (ms since the run began) the windows centre on.
pub fn select_lines(lines: &[LineCost], moments: &[f64], budget: usize) -> LineSelection {
    let total = lines.len();
    let errors = lines.iter().filter(|l| l.error).count();
    if lines.iter().map(|l| l.bytes).sum::<usize>() <= budget {
        return LineSelection {
            kept: (0..total).collect(),
            total,
            errors_kept: errors,
            errors,
            window_ms: None,
        };
    }
    let mut moments: Vec<f64> = moments.iter().copied().filter(|m| m.is_finite()).collect();
    moments.sort_by(f64::total_cmp);
    let distance = |l: &LineCost| {
        let t = l.t_ms.unwrap_or(0.0);
        let at = moments.partition_point(|m| *m < t);
        let after = moments.get(at).map(|m| m - t);
        let before = at.checked_sub(1).map(|k| t - moments[k]);
        after
            .into_iter()
            .chain(before)
            .fold(f64::INFINITY, f64::min)
    };
    let dist: Vec<f64> = lines.iter().map(distance).collect();
    let mut order: Vec<usize> = (0..total).collect();
    order.sort_by(|&a, &b| {
        (!lines[a].error)
            .cmp(&!lines[b].error)
            .then(dist[a].total_cmp(&dist[b]))
            .then(a.cmp(&b))
    });
    let (mut used, mut kept, mut errors_kept, mut window) = (0, Vec::new(), 0, None);
    for i in order {
        if used + lines[i].bytes > budget {
            break;
        }
        used += lines[i].bytes;
        kept.push(i);
        if lines[i].error {
            errors_kept += 1;
        } else {
            window = Some(dist[i]);
        }
    }
    kept.sort_unstable();
    LineSelection {
        kept,
        total,
        errors_kept,
        errors,
        window_ms: window,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A line every 10 ms for 10 s, 100 bytes each; every 250th an ERROR.
    fn lines() -> Vec<LineCost> {
        (0..1000)
            .map(|i| LineCost {
                t_ms: Some(i as f64 * 10.0),
                error: i % 250 == 0,
                bytes: 100,
            })
            .collect()
    }

    #[test]
    fn everything_when_it_fits() {
        let s = select_lines(&lines(), &[], 100_000);
        assert!(!s.thinned());
        assert_eq!((s.errors_kept, s.errors, s.window_ms), (4, 4, None));
    }

    #[test]
    fn errors_first_then_windows_around_the_moments() {
        let s = select_lines(&lines(), &[0.0, 5_000.0, 9_990.0], 10_000);
        assert_eq!(s.kept.len(), 100);
        assert_eq!((s.errors_kept, s.errors), (4, 4));
        for error_line in [0, 250, 500, 750] {
            assert!(s.kept.contains(&error_line));
        }
        // 96 more lines: each 10 ms step out adds one after the start, two
        // around 5 s and one before the end, so ±240 ms, unbroken.
        assert!((480..=520).all(|i| s.kept.contains(&i)), "{:?}", s.kept);
        assert!((0..=20).all(|i| s.kept.contains(&i)));
        assert!((977..=999).all(|i| s.kept.contains(&i)));
        assert!(!s.kept.contains(&300) && !s.kept.contains(&700));
        let w = s.window_ms.unwrap();
        assert!((230.0..=250.0).contains(&w), "{w}");
        assert!(s.kept.windows(2).all(|p| p[0] < p[1]));
        assert_eq!(s, select_lines(&lines(), &[0.0, 5_000.0, 9_990.0], 10_000));
    }

    #[test]
    fn untimed_lines_count_as_the_run_start_and_no_moments_still_works() {
        let mut l = lines();
        l[999].t_ms = None;
        let s = select_lines(&l, &[], 1_000);
        // No moments: distance is infinite for all; the first lines win.
        assert_eq!(s.kept.len(), 10);
        let s = select_lines(&l, &[0.0], 1_000);
        assert!(s.kept.contains(&999), "an untimed line sits at the start");
    }
}
