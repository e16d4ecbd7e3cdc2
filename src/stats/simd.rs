//! One switch for every kernel that has a SIMD path (AVX2, AVX2 + FMA) beside its portable one.
//!
//! The release build targets baseline x86-64 (SSE2), so a kernel that needs AVX2 (or AVX-512)
//! is compiled for it separately and chosen at run time. Every such choice in neuropop goes
//! through [`avx2_available`], [`avx2_fma_available`] or [`avx512_available`], which answer
//! `false` when the portable paths are forced — by the environment variable [`PORTABLE_ENV`] (`NEUROPOP_PORTABLE_KERNELS=1`,
//! read once, at the first question) or by [`force_portable`] — so that the whole test suite,
//! or a user who suspects a kernel, can run every kernel on the path a CPU without AVX2 takes:
//!
//! | kernel | SIMD path | portable path | same bits? |
//! |---|---|---|---|
//! | `rsa::rdm` Euclidean / squared Euclidean and the split loops' Euclidean RDMs (`stats::sqdiff`) | the same loop compiled for AVX-512 or AVX2 | the loop for SSE2 | yes |
//! | random split-half subset-sum tables and half sums (`rsa::shesha::random_split`) | AVX2 adds, streaming stores | scalar loops | yes (the same adds in the same order) |
//! | Gram matrix of a few dozen rows (`stats::gram`, split-half Gram route) | register-blocked FMA kernel | BLAS `dsyrk` | to rounding: both within γ_k Σ\|aᵢbᵢ\| of the exact product |
//! | products of two sets of rows (`stats::gram`) | the same FMA kernel | a plain loop | to rounding, as above |
//! | sorting 64–2,048 words for Spearman ranks (`stats::bitonic`) | AVX2 bitonic network | `sort_unstable` | yes (a sorted list is unique) |
//!
//! The kernel-against-kernel tests call each kernel's two paths directly (they do not flip
//! this switch, which is global to the process).

use std::sync::atomic::{AtomicU8, Ordering};

/// The environment variable that forces the portable kernels: any value but empty or `0`.
pub const PORTABLE_ENV: &str = "NEUROPOP_PORTABLE_KERNELS";

const UNSET: u8 = 0;
const NATIVE: u8 = 1;
const PORTABLE: u8 = 2;

/// UNSET until the environment is read or [`force_portable`] is called.
static MODE: AtomicU8 = AtomicU8::new(UNSET);

/// Whether the portable paths are forced ([`PORTABLE_ENV`] at the first call, or the last
/// [`force_portable`]).
///
/// # Example
/// ```
/// neuropop::stats::simd::force_portable(true);
/// assert!(neuropop::stats::simd::portable_forced());
/// assert!(!neuropop::stats::simd::avx2_available());
/// ```
pub fn portable_forced() -> bool {
    match MODE.load(Ordering::Relaxed) {
        PORTABLE => true,
        NATIVE => false,
        _ => {
            let from_env = match std::env::var(PORTABLE_ENV) {
                Ok(v) => !v.is_empty() && v != "0",
                Err(_) => false,
            };
            // A concurrent `force_portable` wins over the environment.
            let _ = MODE.compare_exchange(
                UNSET,
                if from_env { PORTABLE } else { NATIVE },
                Ordering::Relaxed,
                Ordering::Relaxed,
            );
            MODE.load(Ordering::Relaxed) == PORTABLE
        }
    }
}

/// Forces the portable kernels (`true`) or lets the CPU's SIMD paths run again (`false`,
/// whatever [`PORTABLE_ENV`] says), for every thread of the process from the next kernel
/// call on. Results of a kernel whose two paths round differently (see the module table)
/// may then change in their last bits.
///
/// # Example
/// ```
/// use neuropop::stats::simd;
/// simd::force_portable(true);
/// assert!(simd::portable_forced());
/// simd::force_portable(false);
/// assert!(!simd::portable_forced());
/// ```
pub fn force_portable(on: bool) {
    MODE.store(if on { PORTABLE } else { NATIVE }, Ordering::Relaxed);
}

/// The CPU has AVX2, whatever the switch says (for a kernel's own two-path tests).
#[inline]
pub(crate) fn avx2_detected() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// The CPU has AVX2 and FMA, whatever the switch says.
#[inline]
pub(crate) fn avx2_fma_detected() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        avx2_detected() && std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// The CPU has AVX-512F, whatever the switch says.
#[inline]
pub(crate) fn avx512_detected() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512f")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// AVX-512 (F) kernels may run: the CPU has it and the portable paths are not forced.
///
/// # Example
/// ```
/// neuropop::stats::simd::force_portable(true);
/// assert!(!neuropop::stats::simd::avx512_available());
/// ```
#[inline]
pub fn avx512_available() -> bool {
    !portable_forced() && avx512_detected()
}

/// The widest copy of a kernel compiled at several vector widths (the same operations at
/// every width) that may run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Level {
    /// Baseline x86-64 (SSE2), or any other architecture.
    Portable,
    /// 256-bit AVX2.
    Avx2,
    /// 512-bit AVX-512F.
    Avx512,
}

/// The widest [`Level`] the CPU has and the switch allows.
pub(crate) fn vector_level() -> Level {
    if avx512_available() {
        Level::Avx512
    } else if avx2_available() {
        Level::Avx2
    } else {
        Level::Portable
    }
}

/// AVX2 kernels may run: the CPU has AVX2 and the portable paths are not forced.
///
/// # Example
/// ```
/// // On a CPU without AVX2 this is false whatever the switch says.
/// neuropop::stats::simd::force_portable(true);
/// assert!(!neuropop::stats::simd::avx2_available());
/// ```
#[inline]
pub fn avx2_available() -> bool {
    !portable_forced() && avx2_detected()
}

/// AVX2 + FMA kernels may run: the CPU has both and the portable paths are not forced.
///
/// # Example
/// ```
/// neuropop::stats::simd::force_portable(true);
/// assert!(!neuropop::stats::simd::avx2_fma_available());
/// ```
#[inline]
pub fn avx2_fma_available() -> bool {
    !portable_forced() && avx2_fma_detected()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_environment_sets_the_switch() {
        // No test of this binary calls `force_portable` (the kernel tests call each path
        // directly), so the switch is what NEUROPOP_PORTABLE_KERNELS says: a forced-portable
        // run of the suite (`NEUROPOP_PORTABLE_KERNELS=1 cargo test`) is checked to be one.
        let from_env = std::env::var(PORTABLE_ENV).is_ok_and(|v| !v.is_empty() && v != "0");
        assert_eq!(portable_forced(), from_env);
        if from_env {
            assert!(!avx2_available() && !avx2_fma_available() && !avx512_available());
            assert_eq!(vector_level(), Level::Portable);
        } else {
            assert_eq!(avx2_available(), avx2_detected());
        }
    }
}
