//! Dense linear algebra the stages share (small matrices only).

use ndarray::{Array2, ArrayView2};

/// Lower-triangular Cholesky factor $L$ with $A = L L^\top$, or `None` when
/// `a` is not square, not symmetric (relative tolerance 1e-10) or not
/// positive definite.
pub(crate) fn cholesky(a: ArrayView2<'_, f64>) -> Option<Array2<f64>> {
    let n = a.nrows();
    if a.ncols() != n {
        return None;
    }
    let scale = a.iter().fold(0.0f64, |m, v| m.max(v.abs())).max(f64::MIN_POSITIVE);
    for i in 0..n {
        for j in 0..i {
            if (a[[i, j]] - a[[j, i]]).abs() > 1e-10 * scale {
                return None;
            }
        }
    }
    let mut l = Array2::<f64>::zeros((n, n));
    for j in 0..n {
        let mut d = a[[j, j]];
        for k in 0..j {
            d -= l[[j, k]] * l[[j, k]];
        }
        if !(d > 0.0) || !d.is_finite() {
            return None;
        }
        let djj = d.sqrt();
        l[[j, j]] = djj;
        for i in j + 1..n {
            let mut s = a[[i, j]];
            for k in 0..j {
                s -= l[[i, k]] * l[[j, k]];
            }
            l[[i, j]] = s / djj;
        }
    }
    Some(l)
}

/// Whether the symmetric `a` (its lower triangle read) is positive
/// definite: whether it has a Cholesky factor, by faer's blocked
/// factorisation (the factor itself is not kept).
pub(crate) fn is_positive_definite(a: ArrayView2<'_, f64>) -> bool {
    let n = a.nrows();
    a.ncols() == n
        && a.iter().all(|v| v.is_finite())
        && faer::Mat::<f64>::from_fn(n, n, |i, j| a[[i.max(j), i.min(j)]]).llt(faer::Side::Lower).is_ok()
}

/// $X^\top X$ for a tall `x` (`t × n`), exactly symmetric. Above a few
/// tens of millions of multiply-adds only the upper triangle is computed,
/// in column blocks spread over the cores (block $j$ is the product of the
/// columns up to its end with its own columns; blocks $i$ and $B-1-i$ share
/// a thread, which balances the work), then mirrored; every entry is still
/// one dot product over `t`.
pub(crate) fn gram(x: ArrayView2<'_, f64>) -> Array2<f64> {
    let (t, n) = x.dim();
    let threads = std::thread::available_parallelism().map_or(1, |c| c.get());
    if t * n * n < 50_000_000 || n < 8 {
        return x.t().dot(&x);
    }
    let count = (2 * threads).min(n);
    let step = n.div_ceil(count);
    let blocks: Vec<std::ops::Range<usize>> = (0..n).step_by(step).map(|s| s..(s + step).min(n)).collect();
    let b = blocks.len();
    let jobs: Vec<Vec<std::ops::Range<usize>>> =
        (0..b.div_ceil(2))
            .map(|i| {
                if i == b - 1 - i {
                    vec![blocks[i].clone()]
                } else {
                    vec![blocks[i].clone(), blocks[b - 1 - i].clone()]
                }
            })
            .collect();
    let parts = crate::parallel::map("covariance", jobs, |cols| {
        Ok(cols
            .into_iter()
            .map(|c| (c.clone(), x.slice(ndarray::s![.., ..c.end]).t().dot(&x.slice(ndarray::s![.., c]))))
            .collect::<Vec<_>>())
    })
    .expect("matrix products do not fail");
    let mut out = Array2::zeros((n, n));
    for (cols, part) in parts.into_iter().flatten() {
        out.slice_mut(ndarray::s![..cols.end, cols]).assign(&part);
    }
    for i in 0..n {
        for j in 0..i {
            out[[i, j]] = out[[j, i]];
        }
    }
    out
}

/// The sample mean of the rows of `x` (`t × n`) and their sample
/// covariance, divisor $t - 1$ (1 for a single row).
pub(crate) fn sample_moments(x: ArrayView2<'_, f64>) -> (ndarray::Array1<f64>, Array2<f64>) {
    let mean = x.mean_axis(ndarray::Axis(0)).unwrap_or_else(|| ndarray::Array1::zeros(x.ncols()));
    let cov = gram((&x - &mean).view()) / (x.nrows() as f64 - 1.0).max(1.0);
    (mean, cov)
}

/// $x = A^{-1}b$ from the Cholesky factor $L$ of $A$ (forward, then
/// backward substitution).
pub(crate) fn cholesky_solve(l: &Array2<f64>, b: &ndarray::Array1<f64>) -> ndarray::Array1<f64> {
    let k = b.len();
    let mut y = b.clone();
    for i in 0..k {
        for j in 0..i {
            y[i] -= l[[i, j]] * y[j];
        }
        y[i] /= l[[i, i]];
    }
    for i in (0..k).rev() {
        for j in i + 1..k {
            y[i] -= l[[j, i]] * y[j];
        }
        y[i] /= l[[i, i]];
    }
    y
}

/// Eigenvalues of a symmetric matrix in descending order and the matching
/// unit eigenvectors as columns (faer's blocked tridiagonal divide and
/// conquer on the symmetrised matrix); nalgebra's implicit QR where faer
/// reports no convergence.
pub(crate) fn symmetric_eigen(a: &Array2<f64>) -> (Vec<f64>, Array2<f64>) {
    let n = a.nrows();
    let sym = |i: usize, j: usize| 0.5 * (a[[i, j]] + a[[j, i]]);
    let m = faer::Mat::<f64>::from_fn(n, n, sym);
    if let Ok(e) = m.self_adjoint_eigen(faer::Side::Lower) {
        // faer orders the eigenvalues ascending.
        let (s, u) = (e.S(), e.U());
        let values = (0..n).rev().map(|i| s[i]).collect();
        let vectors = Array2::from_shape_fn((n, n), |(r, c)| u[(r, n - 1 - c)]);
        return (values, vectors);
    }
    let e = nalgebra::SymmetricEigen::new(nalgebra::DMatrix::from_fn(n, n, sym));
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&x, &y| e.eigenvalues[y].total_cmp(&e.eigenvalues[x]));
    let values = order.iter().map(|&i| e.eigenvalues[i]).collect();
    let vectors = Array2::from_shape_fn((n, n), |(r, c)| e.eigenvectors[(r, order[c])]);
    (values, vectors)
}

/// The rows `rows` of `a`, in that order (as `a.select(Axis(0), rows)`),
/// copied a run of consecutive rows at a time when `a` is row-major: a
/// split's training rows are a few long runs.
pub(crate) fn take_rows(a: ArrayView2<'_, f64>, rows: &[usize]) -> Array2<f64> {
    let n = a.ncols();
    let Some(flat) = a.as_slice() else {
        return a.select(ndarray::Axis(0), rows);
    };
    let mut out = Vec::with_capacity(rows.len() * n);
    let mut i = 0;
    while i < rows.len() {
        let mut j = i + 1;
        while j < rows.len() && rows[j] == rows[j - 1] + 1 {
            j += 1;
        }
        out.extend_from_slice(&flat[rows[i] * n..(rows[j - 1] + 1) * n]);
        i = j;
    }
    // `out` holds rows.len() × n values by construction.
    Array2::from_shape_vec((rows.len(), n), out).unwrap_or_else(|_| a.select(ndarray::Axis(0), rows))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn factor_reproduces_the_matrix() {
        let a = array![[4.0, 2.0, 0.4], [2.0, 3.0, 0.5], [0.4, 0.5, 1.0]];
        let l = cholesky(a.view()).unwrap();
        let back = l.dot(&l.t());
        for (x, y) in back.iter().zip(a.iter()) {
            assert!((x - y).abs() < 1e-12);
        }
        assert_eq!(l[[0, 1]], 0.0);
    }

    #[test]
    fn rejects_indefinite_and_asymmetric() {
        assert!(cholesky(array![[1.0, 2.0], [2.0, 1.0]].view()).is_none());
        assert!(cholesky(array![[1.0, 0.5], [0.4, 1.0]].view()).is_none());
    }

    #[test]
    fn take_rows_equals_select_on_runs_gaps_repeats_and_views() {
        let a = Array2::from_shape_fn((9, 3), |(i, j)| (10 * i + j) as f64);
        for rows in [vec![], vec![4], vec![0, 1, 2, 6, 7, 8], vec![8, 2, 3, 3, 0]] {
            assert_eq!(take_rows(a.view(), &rows), a.select(ndarray::Axis(0), &rows));
            // A column slice is not row-major: the general path.
            let v = a.slice(ndarray::s![.., 1..]);
            assert_eq!(take_rows(v, &rows), v.select(ndarray::Axis(0), &rows));
        }
    }
}
