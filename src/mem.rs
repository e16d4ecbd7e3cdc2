//! Large scratch buffers.

/// A vector of `n` default values whose memory the kernel is asked to back with transparent
/// huge pages before it is first touched: the buffers of a hot loop (Gram matrices, RDMs,
/// ranks of a 1600-sample RDM) then take one page fault per 2 MiB instead of per 4 KiB, and
/// their random writes stay within the TLB's reach. Only a hint: elsewhere it is a plain
/// allocation.
pub(crate) fn huge_vec<T: Copy + Default>(n: usize) -> Vec<T> {
    // Zero values come from a zeroed allocation (fresh pages, which the kernel clears on
    // first touch) instead of a second pass that writes them.
    let v: Vec<T> = vec![T::default(); n];
    #[cfg(target_os = "linux")]
    {
        const HUGE: usize = 2 << 20;
        let bytes = n * std::mem::size_of::<T>();
        let start = v.as_ptr() as usize;
        let first = start.next_multiple_of(HUGE);
        let end = (start + bytes) / HUGE * HUGE;
        if end > first {
            // SAFETY: [first, end) lies inside the allocation just made (untouched when it is a
            // fresh mapping, as large zeroed allocations are);
            // MADV_HUGEPAGE is only a hint and changes neither its contents nor its validity.
            unsafe {
                libc::madvise(first as *mut libc::c_void, end - first, libc::MADV_HUGEPAGE);
            }
        }
    }
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

/// `n` zeros starting on a cache-line (64-byte) boundary, on huge pages where large: the
/// 256-bit loads and stores of a kernel that walks it in whole lines then never straddle two.
pub(crate) struct CacheAligned {
    buf: Vec<f64>,
    at: usize,
    len: usize,
}

impl CacheAligned {
    pub(crate) fn zeroed(n: usize) -> CacheAligned {
        const LINE: usize = 64 / std::mem::size_of::<f64>();
        let buf: Vec<f64> = huge_vec(n + LINE);
        let at = buf.as_ptr().align_offset(64).min(LINE);
        CacheAligned { buf, at, len: n }
    }

    pub(crate) fn slice(&self) -> &[f64] {
        &self.buf[self.at..self.at + self.len]
    }

    pub(crate) fn slice_mut(&mut self) -> &mut [f64] {
        &mut self.buf[self.at..self.at + self.len]
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
        for n in [0, 1, 1000] {
            let mut a = CacheAligned::zeroed(n);
            assert_eq!(a.slice().len(), n);
            assert!(a.slice_mut().iter().all(|&x| x == 0.0));
            assert_eq!(a.slice().as_ptr() as usize % 64, 0);
        }
    }
}
