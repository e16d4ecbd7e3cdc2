//! Large scratch buffers.

/// A vector of `n` default values whose memory the kernel is asked to back with transparent
/// huge pages before it is first touched: the buffers of a hot loop (Gram matrices, RDMs,
/// ranks of a 1600-sample RDM) then take one page fault per 2 MiB instead of per 4 KiB, and
/// their random writes stay within the TLB's reach. Only a hint: elsewhere it is a plain
/// allocation.
pub(crate) fn huge_vec<T: Copy + Default>(n: usize) -> Vec<T> {
    let mut v: Vec<T> = Vec::with_capacity(n);
    #[cfg(target_os = "linux")]
    {
        const HUGE: usize = 2 << 20;
        let bytes = n * std::mem::size_of::<T>();
        let start = v.as_ptr() as usize;
        let first = start.next_multiple_of(HUGE);
        let end = (start + bytes) / HUGE * HUGE;
        if end > first {
            // SAFETY: [first, end) lies inside the allocation just made and not yet touched;
            // MADV_HUGEPAGE is only a hint and changes neither its contents nor its validity.
            unsafe {
                libc::madvise(first as *mut libc::c_void, end - first, libc::MADV_HUGEPAGE);
            }
        }
    }
    v.resize(n, T::default());
    v
}

/// Resizes `v` to `n` values, replacing it by a [`huge_vec`] when it has to grow beyond its
/// capacity (so a reused buffer is set up once, on huge pages).
pub(crate) fn resize_huge<T: Copy + Default>(v: &mut Vec<T>, n: usize) {
    if v.capacity() < n {
        *v = huge_vec(n);
    } else {
        v.resize(n, T::default());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_contents() {
        let v: Vec<f64> = huge_vec(3 << 20);
        assert_eq!(v.len(), 3 << 20);
        assert!(v.iter().all(|&x| x == 0.0));
        let mut w = vec![1u32; 4];
        resize_huge(&mut w, 2);
        assert_eq!(w, vec![1, 1]);
        resize_huge(&mut w, 10);
        assert_eq!(w, vec![0; 10]);
    }
}
