//! Giving freed memory back to the system during long runs.
//!
//! Each encoder call allocates and frees megabytes of activations (Whisper-tiny's 30 s
//! window alone is a 2.3 MB output over 9 MB intermediates), while the features kept for
//! the dialogue are small allocations that stay. With glibc's allocator the kept pieces
//! end up between the freed blocks, which then can be neither reused for the next, larger
//! request nor returned to the system: resident memory grew by ~1.6 MB per utterance on a
//! 30-minute video although only ~0.3 MB per utterance is kept. `malloc_trim` returns the
//! free pages inside the heap (not only at its top) to the system, so calling it once per
//! utterance keeps resident memory at the size of what is really held (issue #7).

/// Return free heap pages to the system (glibc); a no-op elsewhere.
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks the allocator's own free lists.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Resident set size of this process in bytes (Linux; `None` elsewhere).
pub fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}
