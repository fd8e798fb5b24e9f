//! Giving memory back: after a burst (a flood of connections, a large batch) the allocator
//! keeps the freed pages mapped, so RSS stays at the burst's peak. glibc's `malloc_trim` returns
//! free pages of every arena to the system; the process calls it every few seconds.

/// Returns the allocator's free pages to the system (glibc on Linux; elsewhere a no-op).
pub fn give_back_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases memory the allocator holds free; it takes no pointers.
    unsafe {
        libc::malloc_trim(0);
    }
}
