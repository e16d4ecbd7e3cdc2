//! Gram matrices `X Xᵀ` through BLAS `dsyrk` (OpenBLAS, linked by ndarray-linalg).
//!
//! A Gram matrix is symmetric, so `dsyrk` computes one triangle: half the multiply-adds of a
//! general product, with OpenBLAS's tuned kernels. Used wherever an estimator's cost is its
//! Gram products (trajectory tangling, RDMs over many samples).

use ndarray::{Array2, ArrayView2};

// CBLAS enums (cblas.h).
const CBLAS_ROW_MAJOR: i32 = 101;
const CBLAS_UPPER: i32 = 121;
const CBLAS_NO_TRANS: i32 = 111;
const CBLAS_TRANS: i32 = 112;

unsafe extern "C" {
    fn cblas_dsyrk(
        order: i32,
        uplo: i32,
        trans: i32,
        n: i32,
        k: i32,
        alpha: f64,
        a: *const f64,
        lda: i32,
        beta: f64,
        c: *mut f64,
        ldc: i32,
    );
}

unsafe extern "C" {
    fn openblas_set_num_threads(n: std::ffi::c_int);
}

/// Makes OpenBLAS run every call on the calling thread, and stops its idle worker threads.
///
/// neuropop's parallelism is rayon over sessions, areas and repetitions, each task calling
/// BLAS on small products; OpenBLAS's own threads inside those tasks would only oversubscribe
/// the cores. Setting the thread count is not enough: the pthread build starts its workers
/// when the library loads, and they spin (`sched_yield`) for about 0.1 s before sleeping —
/// on a 2-core machine that took a third of a 0.13 s split-half run. Where the library exports
/// its pool shutdown (`blas_thread_shutdown_`, which it uses itself around `fork`), the
/// workers are joined; a later multi-threaded call would start them again.
///
/// # Example
/// ```
/// neuropop::stats::gram::use_single_threaded_blas();
/// let g = neuropop::stats::gram::gram(ndarray::array![[1.0, 2.0]].view());
/// assert_eq!(g[[0, 0]], 5.0);
/// ```
pub fn use_single_threaded_blas() {
    // SAFETY: a plain setter with no preconditions.
    unsafe { openblas_set_num_threads(1) };
    // Looked up at run time: not every OpenBLAS build (serial, OpenMP) has the symbol.
    // SAFETY: dlsym with RTLD_DEFAULT and a NUL-terminated name only reads the loaded
    // libraries' symbol tables.
    let sym = unsafe { libc::dlsym(libc::RTLD_DEFAULT, c"blas_thread_shutdown_".as_ptr()) };
    if !sym.is_null() {
        // SAFETY: OpenBLAS defines `int blas_thread_shutdown_(void)`; it takes the server
        // lock, tells each worker to exit and joins it, and is a no-op when no pool runs.
        let shutdown: unsafe extern "C" fn() -> std::ffi::c_int =
            unsafe { std::mem::transmute(sym) };
        unsafe { shutdown() };
    }
}

/// The upper triangle of `C = A Aᵀ` by OpenBLAS `dsyrk` (beta = 0: C is only written).
///
/// # Safety
/// `a` must hold `n × k` row-major values and `c` point to `n × n` writable values.
unsafe fn dsyrk_upper(a: &[f64], n: i32, k: i32, c: *mut f64) {
    // SAFETY: forwarded from the caller (lda = k, ldc = n).
    unsafe { dsyrk_raw(CBLAS_NO_TRANS, a, n, k, k, c) }
}

/// `cblas_dsyrk` (row-major, upper, alpha = 1, beta = 0) with `trans` and `lda`.
///
/// # Safety
/// `a` must hold the `n × k` (`NoTrans`) or `k × n` (`Trans`) row-major matrix with leading
/// dimension `lda`, and `c` point to `n × n` writable values.
unsafe fn dsyrk_raw(trans: i32, a: &[f64], n: i32, k: i32, lda: i32, c: *mut f64) {
    // SAFETY: forwarded from the caller.
    unsafe {
        cblas_dsyrk(
            CBLAS_ROW_MAJOR,
            CBLAS_UPPER,
            trans,
            n,
            k,
            1.0,
            a.as_ptr(),
            lda,
            0.0,
            c,
            n,
        );
    }
}

/// `X Xᵀ` (rows × rows) of `x`, both triangles filled (the lower one mirrored from the
/// upper, so the result is exactly symmetric).
///
/// Falls back to a general product when a dimension does not fit a BLAS integer.
///
/// # Example
/// ```
/// use ndarray::array;
/// let g = neuropop::stats::gram::gram(array![[1.0, 2.0], [3.0, 4.0], [0.0, 1.0]].view());
/// assert_eq!(g, array![[5.0, 11.0, 2.0], [11.0, 25.0, 4.0], [2.0, 4.0, 1.0]]);
/// ```
pub fn gram(x: ArrayView2<f64>) -> Array2<f64> {
    let (n, k) = x.dim();
    if n == 0 || k == 0 {
        return Array2::zeros((n, n));
    }
    let (Ok(ni), Ok(ki)) = (i32::try_from(n), i32::try_from(k)) else {
        return x.dot(&x.t());
    };
    let owned;
    let a: &[f64] = match x.as_slice() {
        Some(s) => s,
        None => {
            owned = x.as_standard_layout().into_owned();
            owned.as_slice().expect("standard layout")
        }
    };
    // No zero-fill: with beta = 0 BLAS never reads C, dsyrk writes the upper triangle and the
    // loop below the lower one, so every element is written before the length is set. (A
    // zeroed n × n buffer per call cost as much as the product itself in the tangling loop.)
    let mut c: Vec<f64> = Vec::with_capacity(n * n);
    let p = c.as_mut_ptr();
    // SAFETY: `a` holds n × k row-major values (lda = k); `p` points to capacity for n × n
    // values (ldc = n), which dsyrk only writes (beta = 0) in the upper triangle.
    unsafe {
        dsyrk_upper(a, ni, ki, p);
        // Lower triangle from the (now initialised) upper one; then all n × n are set.
        for i in 1..n {
            for j in 0..i {
                *p.add(i * n + j) = *p.add(j * n + i);
            }
        }
        c.set_len(n * n);
    }
    Array2::from_shape_vec((n, n), c).expect("n × n values")
}

/// `X Xᵀ` for `x` (row-major, `n` rows of `k` values, each row starting `lda ≥ k` values
/// after the previous one), written into `out` as an `n × n` row-major matrix, both triangles
/// (`out[j][i]` is the same number as `out[i][j]`). Made for the few dozen rows of one
/// split-half repetition: with AVX2 and FMA (see [`simd`](super::simd)) and
/// `n ≤` [`SMALL_GRAM_MAX`] a register-blocked kernel reads the rows where they lie (BLAS
/// would first copy them into its packed layout, which for 40 rows costs as much as the
/// product); otherwise BLAS `dsyrk` computes the upper triangle and it is mirrored. The two
/// paths add in different orders, so they agree to rounding (each within γ_k Σ|aᵢbᵢ| of the
/// exact product, γ_k = kε/(1 − kε)), and exactly where every sum is exact (integers).
///
/// # Panics
/// If `lda < k` or `x` is shorter than `n` rows (a programming error).
pub(crate) fn gram_of_rows_into(x: &[f64], n: usize, k: usize, lda: usize, out: &mut Vec<f64>) {
    gram_of_rows_with(x, (n, k, lda), out, super::simd::avx2_fma_available());
}

/// [`gram_of_rows_into`] with the kernel chosen by `fma` (the small-Gram kernel where the CPU
/// has AVX2 and FMA) instead of the process-wide switch.
pub(crate) fn gram_of_rows_with(
    x: &[f64],
    (n, k, lda): (usize, usize, usize),
    out: &mut Vec<f64>,
    fma: bool,
) {
    assert!(
        lda >= k && (n == 0 || x.len() >= (n - 1) * lda + k),
        "gram_of_rows_into: x must hold n rows of k values, lda apart"
    );
    crate::mem::resize_huge(out, n * n);
    #[cfg(target_arch = "x86_64")]
    {
        if fma && n > 0 && n <= SMALL_GRAM_MAX && super::simd::avx2_fma_detected() {
            // SAFETY: AVX2 and FMA are available (checked just above); `x` holds n rows of k
            // values lda apart (checked above) and `out` n × n values.
            unsafe { small_gram_fma(x, n, k, lda, out) };
            return;
        }
    }
    let _ = fma;
    match (i32::try_from(n), i32::try_from(k), i32::try_from(lda)) {
        // SAFETY: `x` holds n rows of k values lda apart (checked above) and `out` n × n
        // (ldc = n).
        (Ok(ni), Ok(ki), Ok(ldai)) if n > 0 && k > 0 => unsafe {
            dsyrk_raw(CBLAS_NO_TRANS, x, ni, ki, ldai, out.as_mut_ptr())
        },
        _ => {
            for i in 0..n {
                let xi = &x[i * lda..i * lda + k];
                for j in i..n {
                    let xj = &x[j * lda..j * lda + k];
                    // From +0.0, as the kernels: an empty product is +0, not Sum's −0.
                    out[i * n + j] = xi.iter().zip(xj).fold(0.0, |s, (a, b)| s + a * b);
                }
            }
        }
    }
    // The lower triangle from the upper, as the small kernel writes it.
    for i in 1..n {
        for j in 0..i {
            out[i * n + j] = out[j * n + i];
        }
    }
}

/// Most rows [`gram_of_rows_into`] gives to its own kernel: its blocks re-read rows from
/// cache, which suits a few dozen rows, not thousands.
pub(crate) const SMALL_GRAM_MAX: usize = 256;

/// The kernel of [`gram_of_rows_into`], by blocks of three rows `i0..i0 + 3`: their products
/// with the rows below `i0` by [`block_3xm`] (four at a time, then the one to three left),
/// and among themselves by [`triangle_3`], so that each product on or below the diagonal is
/// computed once. A last block of one or two rows takes its products with the rows above it
/// by blocks of three of those (rows beyond `n` in its triangle repeat row `n − 1`, their
/// products dropped); `G[j][i]` is set to the same number as `G[i][j]`.
///
/// # Safety
/// AVX2 and FMA are available; `0 < n`, `x` holds n rows of k values lda apart and `out`
/// holds n × n values.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn small_gram_fma(x: &[f64], n: usize, k: usize, lda: usize, out: &mut [f64]) {
    let row = |i: usize| x[i.min(n - 1) * lda..].as_ptr();
    let mut put = |i: usize, j: usize, v: f64| {
        if i < n {
            out[i * n + j] = v;
            out[j * n + i] = v;
        }
    };
    for i0 in (0..n).step_by(3) {
        let a = [row(i0), row(i0 + 1), row(i0 + 2)];
        let mut j0 = 0;
        // A last block of one or two rows takes its products with the rows above it three
        // of those at a time (`i0` is a multiple of 3), rather than repeating its last row.
        // SAFETY (all kernels): every pointer starts a row of k values (the caller's bounds).
        match n - i0 {
            1 => {
                for j0 in (0..i0).step_by(3) {
                    let c = [row(j0), row(j0 + 1), row(j0 + 2)];
                    put_block(&mut put, unsafe { block_3xm(c, [row(i0)], k) }, j0, i0);
                }
                j0 = i0;
            }
            2 => {
                for j0 in (0..i0).step_by(3) {
                    let c = [row(j0), row(j0 + 1), row(j0 + 2)];
                    let b = [row(i0), row(i0 + 1)];
                    put_block(&mut put, unsafe { block_3xm(c, b, k) }, j0, i0);
                }
                j0 = i0;
            }
            _ => {}
        }
        while j0 + 4 <= i0 {
            let b = [row(j0), row(j0 + 1), row(j0 + 2), row(j0 + 3)];
            put_block(&mut put, unsafe { block_3xm(a, b, k) }, i0, j0);
            j0 += 4;
        }
        // The one to three rows left below i0.
        match i0 - j0 {
            1 => put_block(&mut put, unsafe { block_3xm(a, [row(j0)], k) }, i0, j0),
            2 => put_block(
                &mut put,
                unsafe { block_3xm(a, [row(j0), row(j0 + 1)], k) },
                i0,
                j0,
            ),
            3 => {
                let b = [row(j0), row(j0 + 1), row(j0 + 2)];
                put_block(&mut put, unsafe { block_3xm(a, b, k) }, i0, j0);
            }
            _ => {}
        }
        let [g00, g10, g11, g20, g21, g22] = unsafe { triangle_3(a, k) };
        for (i, j, v) in [
            (0, 0, g00),
            (1, 0, g10),
            (1, 1, g11),
            (2, 0, g20),
            (2, 1, g21),
            (2, 2, g22),
        ] {
            if i0 + j < n {
                put(i0 + i, i0 + j, v);
            }
        }
    }
}

/// Hands the products of rows `i0..i0 + 3` with rows `j0..j0 + M` to `put(i, j, value)`.
#[cfg(target_arch = "x86_64")]
fn put_block<const M: usize>(
    put: &mut impl FnMut(usize, usize, f64),
    block: [[f64; M]; 3],
    i0: usize,
    j0: usize,
) {
    for (ii, products) in block.iter().enumerate() {
        for (jj, &v) in products.iter().enumerate() {
            put(i0 + ii, j0 + jj, v);
        }
    }
}

/// `out[i · ldo + j] = ⟨a_i, b_j⟩` for the `n_a` rows of `a` (`lda` apart) and the `n_b`
/// rows of `b` (`ldb` apart), `k` values each: the products of a few dozen rows with a few
/// dozen others, by [`block_3xm`] where AVX2 and FMA are available (BLAS is several times
/// slower at these shapes) and the [`simd`](super::simd) switch allows, otherwise by a plain
/// loop (the two agree to rounding, as in [`gram_of_rows_into`]).
///
/// # Panics
/// If a row stride is below `k`, an input is shorter than its rows or `out` shorter than
/// `n_a` rows of `n_b` values `ldo` apart (a programming error).
pub(crate) fn products_of_rows_into(
    a: (&[f64], usize, usize),
    b: (&[f64], usize, usize),
    k: usize,
    out: &mut [f64],
    ldo: usize,
) {
    products_of_rows_with(a, b, (k, ldo), out, super::simd::avx2_fma_available());
}

/// [`products_of_rows_into`] with the kernel chosen by `fma` instead of the process-wide
/// switch.
pub(crate) fn products_of_rows_with(
    (a, n_a, lda): (&[f64], usize, usize),
    (b, n_b, ldb): (&[f64], usize, usize),
    (k, ldo): (usize, usize),
    out: &mut [f64],
    fma: bool,
) {
    let holds = |v: &[f64], n: usize, ld: usize, width: usize| {
        ld >= width && (n == 0 || v.len() >= (n - 1) * ld + width)
    };
    assert!(
        holds(a, n_a, lda, k) && holds(b, n_b, ldb, k) && holds(out, n_a, ldo, n_b),
        "products_of_rows_into: inputs must hold their rows"
    );
    if n_a == 0 || n_b == 0 {
        return;
    }
    #[cfg(target_arch = "x86_64")]
    {
        if fma && super::simd::avx2_fma_detected() {
            // SAFETY: AVX2 and FMA are available (checked just above); the rows are in bounds
            // (checked above).
            unsafe { products_fma((a, n_a, lda), (b, n_b, ldb), k, out, ldo) };
            return;
        }
    }
    let _ = fma;
    for i in 0..n_a {
        for j in 0..n_b {
            let (ai, bj) = (&a[i * lda..i * lda + k], &b[j * ldb..j * ldb + k]);
            // From +0.0, as the kernel: an empty product is +0, not Sum's −0.
            out[i * ldo + j] = ai.iter().zip(bj).fold(0.0, |s, (x, y)| s + x * y);
        }
    }
}

/// The kernel of [`products_of_rows_into`].
///
/// # Safety
/// AVX2 and FMA are available; `0 < n_a, n_b` and the rows are in bounds.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn products_fma(
    (a, n_a, lda): (&[f64], usize, usize),
    (b, n_b, ldb): (&[f64], usize, usize),
    k: usize,
    out: &mut [f64],
    ldo: usize,
) {
    let row_a = |i: usize| a[i.min(n_a - 1) * lda..].as_ptr();
    let row_b = |j: usize| b[j.min(n_b - 1) * ldb..].as_ptr();
    for i0 in (0..n_a).step_by(3) {
        let ra = [row_a(i0), row_a(i0 + 1), row_a(i0 + 2)];
        for j0 in (0..n_b).step_by(4) {
            let rb = [row_b(j0), row_b(j0 + 1), row_b(j0 + 2), row_b(j0 + 3)];
            // SAFETY: every pointer starts a row of k values (the caller's bounds).
            let block = unsafe { block_3xm(ra, rb, k) };
            for (ii, products) in block.iter().enumerate() {
                for (jj, &v) in products.iter().enumerate() {
                    let (i, j) = (i0 + ii, j0 + jj);
                    if i < n_a && j < n_b {
                        out[i * ldo + j] = v;
                    }
                }
            }
        }
    }
}

/// The dot products of rows `a[0..3]` with rows `b[0..M]` (`M ≤ 4`), `k` values each, at
/// once in 3·M 256-bit accumulators (the three `a` rows held in registers, the `b` rows
/// streamed): each is four lane sums reduced in a fixed order, plus the last `k mod 4` terms.
///
/// # Safety
/// AVX2 and FMA are available, and every pointer starts `k` readable values.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn block_3xm<const M: usize>(
    a: [*const f64; 3],
    b: [*const f64; M],
    k: usize,
) -> [[f64; M]; 3] {
    use std::arch::x86_64::{_mm256_fmadd_pd, _mm256_loadu_pd, _mm256_setzero_pd};
    let k4 = k / 4 * 4;
    let mut acc = [[_mm256_setzero_pd(); M]; 3];
    let mut f = 0;
    while f < k4 {
        // SAFETY: f + 4 ≤ k values from every row start (the caller's bound).
        unsafe {
            let r = quarter_of_3(a, f);
            for (jj, bj) in b.iter().enumerate() {
                let v = _mm256_loadu_pd(bj.add(f));
                for ii in 0..3 {
                    acc[ii][jj] = _mm256_fmadd_pd(r[ii], v, acc[ii][jj]);
                }
            }
        }
        f += 4;
    }
    let mut out = [[0.0; M]; 3];
    for (ii, row) in out.iter_mut().enumerate() {
        for (jj, v) in row.iter_mut().enumerate() {
            // SAFETY: the tail values lie within k of the row starts (the caller's bound).
            *v = unsafe { finish(acc[ii][jj], a[ii], b[jj], k4, k) };
        }
    }
    out
}

/// The six products among three rows, `⟨a_i, a_j⟩` for j ≤ i in the order (0,0), (1,0),
/// (1,1), (2,0), (2,1), (2,2), summed as in [`block_3xm`].
///
/// # Safety
/// AVX2 and FMA are available, and every pointer starts `k` readable values.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn triangle_3(a: [*const f64; 3], k: usize) -> [f64; 6] {
    use std::arch::x86_64::{_mm256_fmadd_pd, _mm256_setzero_pd};
    const PAIRS: [(usize, usize); 6] = [(0, 0), (1, 0), (1, 1), (2, 0), (2, 1), (2, 2)];
    let k4 = k / 4 * 4;
    let mut acc = [_mm256_setzero_pd(); 6];
    let mut f = 0;
    while f < k4 {
        // SAFETY: f + 4 ≤ k values from every row start (the caller's bound).
        unsafe {
            let r = quarter_of_3(a, f);
            for (p, &(i, j)) in PAIRS.iter().enumerate() {
                acc[p] = _mm256_fmadd_pd(r[i], r[j], acc[p]);
            }
        }
        f += 4;
    }
    std::array::from_fn(|p| {
        let (i, j) = PAIRS[p];
        // SAFETY: the tail values lie within k of the row starts (the caller's bound).
        unsafe { finish(acc[p], a[i], a[j], k4, k) }
    })
}

/// Values `f..f + 4` of three rows, one 256-bit register each.
///
/// # Safety
/// AVX2 is available, and every row has values up to `f + 4`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
unsafe fn quarter_of_3(a: [*const f64; 3], f: usize) -> [std::arch::x86_64::__m256d; 3] {
    // SAFETY: the caller's bound.
    a.map(|row| unsafe { std::arch::x86_64::_mm256_loadu_pd(row.add(f)) })
}

/// Four lane sums reduced in a fixed order, plus the terms `k4..k` of rows `a` and `b`.
///
/// # Safety
/// AVX2 is available, and both pointers start `k` readable values.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn finish(
    v: std::arch::x86_64::__m256d,
    a: *const f64,
    b: *const f64,
    k4: usize,
    k: usize,
) -> f64 {
    use std::arch::x86_64::{
        _mm_add_pd, _mm_cvtsd_f64, _mm_unpackhi_pd, _mm256_castpd256_pd128, _mm256_extractf128_pd,
    };
    let s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd::<1>(v));
    let mut sum = _mm_cvtsd_f64(_mm_add_pd(s, _mm_unpackhi_pd(s, s)));
    for f in k4..k {
        // SAFETY: f < k (the caller's bound).
        unsafe { sum += *a.add(f) * *b.add(f) };
    }
    sum
}

/// The upper triangle of `Xᵀ X` for `xt` (row-major, `k` rows of `n` values: the columns of
/// the `n × k` matrix `X` stored one after another), written into `out` as an `n × n`
/// row-major matrix; entries below the diagonal are left as they were.
///
/// # Panics
/// If `xt.len() != k * n` (a programming error).
pub(crate) fn gram_of_columns_into(xt: &[f64], k: usize, n: usize, out: &mut Vec<f64>) {
    assert_eq!(
        xt.len(),
        n * k,
        "gram_of_columns_into: xt must hold k × n values"
    );
    crate::mem::resize_huge(out, n * n);
    if n == 0 {
        return;
    }
    match (i32::try_from(n), i32::try_from(k)) {
        // SAFETY: `xt` holds k × n row-major values (lda = n) and `out` n × n (ldc = n).
        (Ok(ni), Ok(ki)) if k > 0 => unsafe {
            dsyrk_raw(CBLAS_TRANS, xt, ni, ki, ni, out.as_mut_ptr())
        },
        _ => {
            for i in 0..n {
                out[i * n + i..(i + 1) * n].fill(0.0);
            }
            for row in xt.chunks_exact(n) {
                for i in 0..n {
                    let (v, dst) = (row[i], &mut out[i * n..(i + 1) * n]);
                    for j in i..n {
                        dst[j] += v * row[j];
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equals_the_general_product() {
        let x = Array2::from_shape_fn((37, 53), |(i, j)| ((i * 31 + j * 17) as f64 * 0.13).sin());
        let g = gram(x.view());
        let d = x.dot(&x.t());
        assert!(g.iter().zip(&d).all(|(a, b)| (a - b).abs() < 1e-12));
        assert_eq!(g, g.t());
        // Non-contiguous input.
        let t = x.t();
        let gt = gram(t);
        assert!(
            gt.iter()
                .zip(&t.dot(&x))
                .all(|(a, b)| (a - b).abs() < 1e-12)
        );
    }

    #[test]
    fn gram_of_columns_matches_and_reuses() {
        let x = Array2::from_shape_fn((9, 5), |(i, j)| ((i * 7 + j * 3) as f64 * 0.21).cos());
        let d = x.dot(&x.t());
        // The columns of x stored one after another.
        let xt = x.t().as_standard_layout().into_owned();
        let mut out = vec![f64::NAN; 3];
        let upper_is_d =
            |g: &[f64]| (0..9).all(|i| (i..9).all(|j| (g[i * 9 + j] - d[[i, j]]).abs() < 1e-12));
        for _ in 0..2 {
            gram_of_columns_into(xt.as_slice().unwrap(), 5, 9, &mut out);
            assert!(upper_is_d(&out));
        }
        gram_of_columns_into(&[], 0, 4, &mut out);
        assert!((0..4).all(|i| (i..4).all(|j| out[i * 4 + j] == 0.0)));
        let mut rows = Vec::new();
        gram_of_rows_into(x.as_slice().unwrap(), 9, 5, 5, &mut rows);
        assert!(upper_is_d(&rows));
        gram_of_rows_into(&[], 3, 0, 0, &mut rows);
        assert!((0..3).all(|i| (i..3).all(|j| rows[i * 3 + j] == 0.0)));
    }

    /// Inputs for the kernel-against-kernel tests: real values (with an offset, as firing
    /// rates), or small integers (spike counts) whose products and sums are all exact.
    fn rows(len: usize, integers: bool) -> Vec<f64> {
        (0..len)
            .map(|t| {
                let v = ((t * 37 % 101) as f64 * 0.173).sin() * 50.0 + 20.0;
                if integers { v.round() } else { v }
            })
            .collect()
    }

    /// The documented tolerance between two summation orders of ⟨a, b⟩ (k terms): each is
    /// within γ_k Σ|aᵢbᵢ| of the exact value (Higham, Accuracy and Stability of Numerical
    /// Algorithms, §3.1; an FMA only removes roundings), so they are within twice that.
    fn two_orders(a: &[f64], b: &[f64]) -> f64 {
        let k = a.len() as f64;
        let gamma = k * f64::EPSILON / 2.0 / (1.0 - k * f64::EPSILON / 2.0);
        2.0 * gamma * a.iter().zip(b).map(|(x, y)| (x * y).abs()).sum::<f64>()
    }

    #[test]
    fn small_rows_kernel_and_blas_fill_both_triangles_alike() {
        // Row counts around the 3 × 4 blocks, depths around the 4-wide steps, padded rows;
        // n = 257 is past SMALL_GRAM_MAX, where both settings take BLAS.
        for n in [1usize, 2, 3, 4, 5, 7, 12, 13, 40, 257] {
            for k in [0usize, 1, 3, 4, 5, 17, 130] {
                if n == 257 && k > 5 {
                    continue;
                }
                let lda = k + 3;
                for integers in [false, true] {
                    let x = rows(n * lda, integers);
                    let row = |i: usize| &x[i * lda..i * lda + k];
                    let (mut fma, mut blas) = (vec![f64::NAN; 2], vec![f64::NAN; 2]);
                    gram_of_rows_with(&x, (n, k, lda), &mut fma, true);
                    gram_of_rows_with(&x, (n, k, lda), &mut blas, false);
                    for i in 0..n {
                        for j in 0..n {
                            let want: f64 = row(i).iter().zip(row(j)).map(|(a, b)| a * b).sum();
                            let tol = two_orders(row(i), row(j));
                            for (path, g) in [("fma", &fma), ("blas", &blas)] {
                                let got = g[i * n + j];
                                assert!(
                                    (got - want).abs() <= tol,
                                    "{path} n {n} k {k} ({i}, {j}): {got} vs {want}"
                                );
                                // Both triangles, the same number.
                                assert_eq!(got.to_bits(), g[j * n + i].to_bits(), "{path}");
                            }
                            let (a, b) = (fma[i * n + j], blas[i * n + j]);
                            if integers {
                                assert_eq!(a.to_bits(), b.to_bits(), "n {n} k {k} ({i}, {j})");
                            } else {
                                assert!((a - b).abs() <= tol, "n {n} k {k} ({i}, {j}): {a} vs {b}");
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn products_kernel_and_plain_loop_agree() {
        for (n_a, n_b, k) in [
            (1usize, 1usize, 0usize),
            (2, 5, 3),
            (7, 4, 9),
            (50, 40, 130),
        ] {
            let (lda, ldb, ldo) = (k + 2, k + 1, n_b + 3);
            for integers in [false, true] {
                let (a, b) = (rows(n_a * lda, integers), rows(n_b * ldb + 7, integers));
                let b = &b[7..];
                let run = |fma: bool| {
                    let mut out = vec![f64::NAN; n_a * ldo];
                    products_of_rows_with((&a, n_a, lda), (b, n_b, ldb), (k, ldo), &mut out, fma);
                    out
                };
                let (fma, plain) = (run(true), run(false));
                for i in 0..n_a {
                    for j in 0..n_b {
                        let (x, y) = (fma[i * ldo + j], plain[i * ldo + j]);
                        let tol = two_orders(&a[i * lda..i * lda + k], &b[j * ldb..j * ldb + k]);
                        if integers {
                            assert_eq!(x.to_bits(), y.to_bits(), "({i}, {j})");
                        } else {
                            assert!((x - y).abs() <= tol, "({i}, {j}): {x} vs {y}");
                        }
                    }
                    // Neither writes past the n_b products of a row.
                    for out in [&fma, &plain] {
                        assert!(out[i * ldo + n_b..(i + 1) * ldo].iter().all(|v| v.is_nan()));
                    }
                }
            }
        }
    }

    #[test]
    fn products_of_rows_match_the_definition() {
        for (n_a, n_b, k) in [
            (1usize, 1usize, 0usize),
            (2, 5, 3),
            (7, 4, 9),
            (50, 40, 130),
        ] {
            let (lda, ldb, ldo) = (k + 2, k + 1, n_b + 3);
            let a: Vec<f64> = (0..n_a * lda)
                .map(|t| ((t * 13 % 29) as f64).sin())
                .collect();
            let b: Vec<f64> = (0..n_b * ldb)
                .map(|t| ((t * 7 % 31) as f64).cos())
                .collect();
            let mut out = vec![f64::NAN; n_a * ldo];
            products_of_rows_into((&a, n_a, lda), (&b, n_b, ldb), k, &mut out, ldo);
            for i in 0..n_a {
                for j in 0..n_b {
                    let want: f64 = (0..k).map(|f| a[i * lda + f] * b[j * ldb + f]).sum();
                    let got = out[i * ldo + j];
                    assert!((got - want).abs() < 1e-12, "({i}, {j}): {got} vs {want}");
                }
                // Nothing written past the n_b products of a row.
                assert!(out[i * ldo + n_b..(i + 1) * ldo].iter().all(|v| v.is_nan()));
            }
        }
    }

    #[test]
    fn empty() {
        assert_eq!(
            gram(Array2::<f64>::zeros((3, 0)).view()),
            Array2::<f64>::zeros((3, 3))
        );
        assert_eq!(gram(Array2::<f64>::zeros((0, 4)).view()).dim(), (0, 0));
    }
}
