//! Handing freed heap memory back to the system, for long-running commands (`serve`, `top`,
//! `watch`) once start-up work (detection, parsing) is over.

/// Returns free heap pages to the kernel (glibc's `malloc_trim`); nothing on other C libraries.
pub fn release_free() {
    #[cfg(target_env = "gnu")]
    // SAFETY: malloc_trim only releases free heap memory; no pointer is involved.
    unsafe {
        libc::malloc_trim(0);
    }
}
