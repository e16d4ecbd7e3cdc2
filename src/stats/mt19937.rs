//! numpy's legacy `RandomState` integer draws (MT19937), for reproducing published analyses
//! bit for bit — never for new randomness (use [`crate::stats::rng`]).
//!
//! Implemented: seeding `RandomState(seed)` for an integer seed (`init_genrand`), the
//! tempered 32-bit output, the legacy bounded draw in `[0, max]` (smallest all-ones mask,
//! reject values above `max`) and `permutation(n)` / `shuffle` (Fisher–Yates from the last
//! element down). This is what `sklearn.model_selection.KFold(shuffle=True,
//! random_state=seed)` uses for its fold order.

/// A numpy-legacy MT19937 generator.
#[derive(Clone, Debug)]
pub struct LegacyMt19937 {
    mt: Box<[u32; 624]>,
    index: usize,
}

impl LegacyMt19937 {
    /// `numpy.random.RandomState(seed)` for an integer seed below 2³².
    ///
    /// # Example
    /// ```
    /// let mut g = neuropop::stats::mt19937::LegacyMt19937::new(5489);
    /// assert_eq!(g.next_u32(), 3499211612); // the MT19937 reference value for seed 5489
    /// ```
    pub fn new(seed: u32) -> Self {
        let mut mt = Box::new([0u32; 624]);
        mt[0] = seed;
        for i in 1..624 {
            mt[i] = 1_812_433_253u32
                .wrapping_mul(mt[i - 1] ^ (mt[i - 1] >> 30))
                .wrapping_add(i as u32);
        }
        LegacyMt19937 { mt, index: 624 }
    }

    /// The next tempered 32-bit output.
    ///
    /// ```
    /// // numpy.random.RandomState(320).randint(2**32, dtype=np.uint64) draws the same value.
    /// assert_eq!(neuropop::stats::mt19937::LegacyMt19937::new(320).next_u32(), 3068126989);
    /// ```
    pub fn next_u32(&mut self) -> u32 {
        if self.index >= 624 {
            for k in 0..624 {
                let y = (self.mt[k] & 0x8000_0000) | (self.mt[(k + 1) % 624] & 0x7fff_ffff);
                self.mt[k] =
                    self.mt[(k + 397) % 624] ^ (y >> 1) ^ if y & 1 == 1 { 0x9908_b0df } else { 0 };
            }
            self.index = 0;
        }
        let mut y = self.mt[self.index];
        self.index += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^= y >> 18;
        y
    }

    /// Uniform integer in `[0, max]` with numpy's legacy masked rejection (no draw when `max == 0`).
    ///
    /// ```
    /// let mut g = neuropop::stats::mt19937::LegacyMt19937::new(1);
    /// assert!((0..100).all(|_| g.bounded(6) <= 6));
    /// ```
    pub fn bounded(&mut self, max: u32) -> u32 {
        if max == 0 {
            return 0;
        }
        let mut mask = max;
        for s in [1, 2, 4, 8, 16] {
            mask |= mask >> s;
        }
        loop {
            let v = self.next_u32() & mask;
            if v <= max {
                return v;
            }
        }
    }

    /// `RandomState.permutation(n)`.
    ///
    /// # Example
    /// ```
    /// let p = neuropop::stats::mt19937::LegacyMt19937::new(320).permutation(5);
    /// let mut s = p.clone();
    /// s.sort();
    /// assert_eq!(s, vec![0, 1, 2, 3, 4]);
    /// ```
    pub fn permutation(&mut self, n: usize) -> Vec<usize> {
        let mut a: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            let j = self.bounded(i as u32) as usize;
            a.swap(i, j);
        }
        a
    }
}

/// Test folds of `sklearn.model_selection.KFold(n_splits=k, shuffle=True, random_state=seed)`
/// over `n` items: a fresh `RandomState(seed)` permutation cut into k consecutive chunks, the
/// first `n mod k` one longer. Each fold's indices are returned sorted.
///
/// # Example
/// ```
/// let folds = neuropop::stats::mt19937::sklearn_kfold_test_folds(12, 5, 320);
/// assert_eq!(folds.iter().map(Vec::len).collect::<Vec<_>>(), vec![3, 3, 2, 2, 2]);
/// ```
pub fn sklearn_kfold_test_folds(n: usize, k: usize, seed: u32) -> Vec<Vec<usize>> {
    let perm = LegacyMt19937::new(seed).permutation(n);
    let mut folds = Vec::with_capacity(k);
    let mut start = 0;
    for f in 0..k {
        let size = n / k + usize::from(f < n % k);
        let mut fold = perm[start..start + size].to_vec();
        fold.sort_unstable();
        folds.push(fold);
        start += size;
    }
    folds
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_outputs_seed_5489() {
        // First outputs of the reference mt19937ar.c with init_genrand(5489).
        let mut g = LegacyMt19937::new(5489);
        assert_eq!(
            [g.next_u32(), g.next_u32(), g.next_u32()],
            [3_499_211_612, 581_869_302, 3_890_346_734]
        );
    }
}
