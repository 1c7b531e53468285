//! The C allocator's two settings that decide how much of a long-lived server's memory is
//! freed memory it still holds (glibc on Linux; elsewhere these do nothing).
//!
//! glibc gives each thread that allocates concurrently an arena of its own, up to eight per
//! core, and keeps what is freed in each. A server runs the async runtime's workers, the
//! embedding pools and the indexing threads: measured on a 1k-entry store after a start-up
//! index run (2 cores), two arenas and giving free pages back after the run took its
//! resident memory from 202 MB to 183 MB.

/// Arenas a server may use. More threads than arenas share their locks: on this 2-core
/// machine that cost nothing measurable in the allocation-heavy code index (`tacit bench
/// index`, tree-sitter's trees: commander 1.42–1.45x raw parsing with two arenas and 1.43x
/// with eight, zustand 1.36–1.38x and 1.38x, alternated twice); a many-core one is not
/// measured (`GLIBC_TUNABLES=glibc.malloc.arena_max=N` overrides this).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const ARENAS: libc::c_int = 2;

/// Limits the allocator's arenas, unless the user set `glibc.malloc.arena_max` in
/// `GLIBC_TUNABLES`. Called at start, before the runtime starts its threads.
pub fn limit_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let set_by_user = std::env::var("GLIBC_TUNABLES").is_ok_and(|t| t.contains("arena_max"));
        if !set_by_user {
            // SAFETY: mallopt only changes a parameter of the allocator; it returns 0 when
            // it refuses, which leaves the default in place.
            unsafe { libc::mallopt(libc::M_ARENA_MAX, ARENAS) };
        }
    }
}

/// Gives the pages that an index run allocated and freed back to the operating system;
/// without it glibc keeps them for the next run, which may be hours away.
pub fn release_free_pages() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free memory of the allocator's arenas to the system.
    unsafe {
        libc::malloc_trim(0);
    }
}
