//! The typed layer programs are written in: a [`Var`] or a [`Block`] of
//! them is what [`Program::var`](super::Program::var) and
//! [`Program::vars`](super::Program::vars) hand out, a [`Lin`] is a linear
//! expression in them built with `+`, `-` and `*`, and an [`Affine`] adds a
//! constant (a cone's entry). A risk measure's file then reads like its
//! formula: `p.ge(u.at(s) + alpha + w.dot(r.row(s)), 0.0)` for
//! $u_s \ge -r_s^\top w - \alpha$. Only `problem.rs` sees the indices.

use std::ops::{Add, AddAssign, Mul, Neg, Sub, SubAssign};

/// One variable of a program.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Var(pub(in crate::optimize::problem) usize);

/// Consecutive variables added together ([`Program::vars`](super::Program::vars)):
/// the weights, one per scenario, asset or peak. Entry `k` is `block.at(k)`,
/// checked against the block's length in debug builds (every test), so an
/// off-by-one fails where it is made rather than as a wrong answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Block {
    pub(in crate::optimize::problem) first: usize,
    pub(in crate::optimize::problem) len: usize,
}

impl Block {
    /// The variable of entry `k`.
    pub fn at(self, k: usize) -> Var {
        debug_assert!(k < self.len, "entry {k} of a block of {}", self.len);
        Var(self.first + k)
    }

    /// How many variables the block holds.
    pub fn len(self) -> usize {
        self.len
    }

    /// Its variables in order.
    pub fn vars(self) -> impl Iterator<Item = Var> + Clone {
        (self.first..self.first + self.len).map(Var)
    }

    /// $\sum_k c_k x_k$ for coefficients in block order (zeros left out);
    /// there must be one per entry.
    pub fn dot<'a>(self, c: impl IntoIterator<Item = &'a f64>) -> Lin {
        let mut count = 0;
        let terms = c
            .into_iter()
            .inspect(|_| count += 1)
            .enumerate()
            .filter(|(_, v)| **v != 0.0)
            .map(|(k, v)| (self.first + k, *v))
            .collect();
        debug_assert_eq!(count, self.len, "{count} coefficients for a block of {}", self.len);
        Lin(terms)
    }

    /// $\sum_k c(k)\,x_k$ over the block.
    pub fn weighted(self, c: impl Fn(usize) -> f64) -> Lin {
        Lin((0..self.len).map(|k| (self.first + k, c(k))).collect())
    }

    /// $\sum_k x_k$.
    pub fn sum(self) -> Lin {
        self.weighted(|_| 1.0)
    }

    /// The block's values in a solution `x`.
    pub fn values(self, x: &[f64]) -> Vec<f64> {
        x[self.first..self.first + self.len].to_vec()
    }
}

impl Var {
    /// Its value in a solution `x`.
    pub fn value(self, x: &[f64]) -> f64 {
        x[self.0]
    }
}

/// A linear expression $\sum_j c_j x_j$ (a variable may appear more than
/// once: the terms add up).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Lin(pub(in crate::optimize::problem) Vec<(usize, f64)>);

impl Lin {
    /// The expression 0.
    pub fn zero() -> Lin {
        Lin(Vec::new())
    }

    /// Its value at a solution `x`.
    #[cfg(test)]
    fn value(&self, x: &[f64]) -> f64 {
        self.0.iter().map(|&(j, c)| c * x[j]).sum()
    }
}

impl From<Var> for Lin {
    fn from(v: Var) -> Lin {
        Lin(vec![(v.0, 1.0)])
    }
}

/// An affine expression $a^\top x + c$: a cone's entry.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Affine {
    pub(crate) lin: Lin,
    pub(crate) constant: f64,
}

impl From<Lin> for Affine {
    fn from(lin: Lin) -> Affine {
        Affine { lin, constant: 0.0 }
    }
}

impl From<Var> for Affine {
    fn from(v: Var) -> Affine {
        Lin::from(v).into()
    }
}

impl From<f64> for Affine {
    fn from(constant: f64) -> Affine {
        Affine { lin: Lin::zero(), constant }
    }
}

impl Mul<f64> for Var {
    type Output = Lin;
    fn mul(self, c: f64) -> Lin {
        Lin(vec![(self.0, c)])
    }
}

impl Mul<f64> for Lin {
    type Output = Lin;
    fn mul(mut self, c: f64) -> Lin {
        for t in &mut self.0 {
            t.1 *= c;
        }
        self
    }
}

impl Neg for Lin {
    type Output = Lin;
    fn neg(self) -> Lin {
        self * -1.0
    }
}

impl Neg for Var {
    type Output = Lin;
    fn neg(self) -> Lin {
        self * -1.0
    }
}

impl<T: Into<Lin>> AddAssign<T> for Lin {
    fn add_assign(&mut self, rhs: T) {
        self.0.extend(rhs.into().0);
    }
}

impl<T: Into<Lin>> SubAssign<T> for Lin {
    fn sub_assign(&mut self, rhs: T) {
        self.0.extend(rhs.into().0.into_iter().map(|(j, c)| (j, -c)));
    }
}

impl<T: Into<Lin>> Add<T> for Lin {
    type Output = Lin;
    fn add(mut self, rhs: T) -> Lin {
        self += rhs;
        self
    }
}

impl<T: Into<Lin>> Sub<T> for Lin {
    type Output = Lin;
    fn sub(mut self, rhs: T) -> Lin {
        self -= rhs;
        self
    }
}

impl<T: Into<Lin>> Add<T> for Var {
    type Output = Lin;
    fn add(self, rhs: T) -> Lin {
        Lin::from(self) + rhs
    }
}

impl<T: Into<Lin>> Sub<T> for Var {
    type Output = Lin;
    fn sub(self, rhs: T) -> Lin {
        Lin::from(self) - rhs
    }
}

impl std::iter::Sum for Lin {
    fn sum<I: Iterator<Item = Lin>>(it: I) -> Lin {
        it.fold(Lin::zero(), |a, b| a + b)
    }
}

impl Lin {
    /// The affine expression `self + c`.
    pub fn plus(self, c: f64) -> Affine {
        Affine { lin: self, constant: c }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expressions_add_up_term_by_term() {
        let (x, y) = (Var(0), Var(1));
        let e = x * 2.0 + y - x * 0.5;
        assert_eq!(e.value(&[1.0, 10.0]), 11.5);
        assert_eq!((-e).value(&[1.0, 10.0]), -11.5);
        let b = Block { first: 2, len: 3 };
        let z = [0.0, 0.0, 1.0, 2.0, 3.0];
        assert_eq!(b.dot(&[1.0, 0.0, 2.0]).value(&z), 7.0);
        assert_eq!(b.dot(&[1.0, 0.0, 2.0]).0.len(), 2, "zeros are left out");
        assert_eq!(b.sum().value(&z), 6.0);
        assert_eq!(b.values(&z), vec![1.0, 2.0, 3.0]);
        assert_eq!([b.at(0) * 1.0, b.at(2) * 1.0].into_iter().sum::<Lin>().value(&z), 4.0);
        let a = ((x + y) * 2.0).plus(2.0);
        assert_eq!(a.lin.value(&[1.0, 10.0]) + a.constant, 24.0);
    }

    #[test]
    #[should_panic(expected = "entry 3 of a block of 3")]
    #[cfg(debug_assertions)]
    fn a_block_refuses_an_entry_past_its_end() {
        Block { first: 0, len: 3 }.at(3);
    }
}
