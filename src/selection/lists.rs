//! Posting-list arithmetic: lists of (candidate, score) sorted by candidate, as the
//! matchers keep them, joined (a phrase and its learned expansion) or intersected (the
//! parts of `A AND B`).

/// `a` and `b` as one list, the scores of a paper in both added.
pub(crate) fn union_sum(a: &[(u32, f64)], b: &[(u32, f64)]) -> Vec<(u32, f64)> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        match (a.get(i), b.get(j)) {
            (Some(x), Some(y)) if x.0 == y.0 => {
                out.push((x.0, x.1 + y.1));
                i += 1;
                j += 1;
            }
            (Some(x), Some(y)) if x.0 < y.0 => {
                out.push(*x);
                i += 1;
            }
            (Some(_) | None, Some(y)) => {
                out.push(*y);
                j += 1;
            }
            (Some(x), None) => {
                out.push(*x);
                i += 1;
            }
            (None, None) => break,
        }
    }
    out
}

/// The papers in both `a` and `b`, their scores added.
pub(crate) fn intersect_sum(a: &[(u32, f64)], b: &[(u32, f64)]) -> Vec<(u32, f64)> {
    let mut out = Vec::new();
    let (mut i, mut j) = (0, 0);
    while let (Some(x), Some(y)) = (a.get(i), b.get(j)) {
        match x.0.cmp(&y.0) {
            std::cmp::Ordering::Equal => {
                out.push((x.0, x.1 + y.1));
                i += 1;
                j += 1;
            }
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_combine_by_paper() {
        let a = [(1, 1.0), (3, 2.0), (5, 4.0)];
        let b = [(3, 0.5), (4, 1.0), (5, 1.0)];
        assert_eq!(union_sum(&a, &b), [(1, 1.0), (3, 2.5), (4, 1.0), (5, 5.0)]);
        assert_eq!(intersect_sum(&a, &b), [(3, 2.5), (5, 5.0)]);
        assert_eq!(intersect_sum(&a, &[]), []);
    }
}
