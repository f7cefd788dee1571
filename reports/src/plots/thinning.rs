//! Thinning of scatter points beyond a bound: one point per square grid
//! cell of pixels (per series), with the smallest cell that meets the
//! bound. Deterministic: the first point (in input order) of each cell is
//! kept, so isolated points, such as latency outliers, always stay.

use std::collections::HashSet;

/// Which points were kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thinned {
    /// Positions of the kept points in the input, ascending.
    pub kept: Vec<usize>,
    /// Side of the grid cell in pixels; 0 when nothing was thinned.
    pub cell: i32,
}

/// Keeps every point when there are at most `bound`; else one per
/// (series, `cell`×`cell` pixel square) for the smallest `cell` (1, 2, 3 …
/// up to `max_cell`) that keeps at most `bound`. `points` are (series,
/// pixel x, pixel y). At `max_cell` the result is kept even when over the
/// bound (only with more series than `bound / 4`).
pub fn thin(points: &[(usize, i32, i32)], bound: usize, max_cell: i32) -> Thinned {
    if points.len() <= bound {
        return Thinned {
            kept: (0..points.len()).collect(),
            cell: 0,
        };
    }
    let mut best = Vec::new();
    for cell in 1..=max_cell.max(1) {
        let mut seen = HashSet::with_capacity(bound * 2);
        best = points
            .iter()
            .enumerate()
            .filter(|(_, (series, x, y))| {
                seen.insert((*series, x.div_euclid(cell), y.div_euclid(cell)))
            })
            .map(|(i, _)| i)
            .collect();
        if best.len() <= bound {
            return Thinned { kept: best, cell };
        }
    }
    Thinned {
        kept: best,
        cell: max_cell.max(1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn under_the_bound_nothing_is_thinned() {
        let pts = vec![(0, 1, 1), (0, 1, 1), (1, 5, 5)];
        assert_eq!(
            thin(&pts, 3, 100),
            Thinned {
                kept: vec![0, 1, 2],
                cell: 0
            }
        );
    }

    #[test]
    fn exact_duplicates_go_first_and_outliers_stay() {
        // 100 points on one pixel, one far away, per series.
        let mut pts: Vec<(usize, i32, i32)> = (0..100).map(|_| (0, 10, 10)).collect();
        pts.push((0, 500, 3));
        pts.push((1, 10, 10));
        let t = thin(&pts, 5, 100);
        assert_eq!(t.cell, 1);
        assert_eq!(t.kept, vec![0, 100, 101]);
    }

    #[test]
    fn cells_grow_until_the_bound_holds_and_the_result_is_deterministic() {
        let pts: Vec<(usize, i32, i32)> = (0..10_000)
            .map(|i| (i % 3, (i * 7 % 1000) as i32, (i * 13 % 300) as i32))
            .collect();
        let a = thin(&pts, 2_000, 1100);
        assert!(a.kept.len() <= 2_000 && a.cell > 1, "{}", a.cell);
        assert!(a.kept.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(a, thin(&pts, 2_000, 1100));
        // One cell smaller would not have met the bound.
        let mut seen = HashSet::new();
        let c = a.cell - 1;
        let smaller = pts
            .iter()
            .filter(|(s, x, y)| seen.insert((*s, x / c, y / c)))
            .count();
        assert!(smaller > 2_000);
    }
}
