//! The two threads a query's forward pass runs on: the thread that asks, and a partner that
//! takes the second half of each layer split in two.
//!
//! A rayon pool did this before, and between two queries its threads were asleep: a query
//! woke one to run the pass (the asking thread then slept until it finished and had to be
//! woken in turn), and the first split woke the other. A server's queries come after idle
//! time (the client reading the reply, the search, the scoring), so it paid those wakes on
//! every query: in `tacit bench latency` at 10k entries the server's embedding took 2.6–2.8
//! ms, and 1.4–1.7 ms with this pair (README, "A query's two threads"). Here the asking
//! thread runs the pass itself, and the partner is woken when the pass starts and spins
//! between splits until it ends, then parks: no thread is woken in the middle of a pass and
//! none spins between queries.

use std::any::Any;
use std::cell::UnsafeCell;
use std::marker::PhantomData;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};

/// No half posted.
const IDLE: u8 = 0;
/// A half posted by the asking thread, not taken yet.
const POSTED: u8 = 1;
/// The partner is running the posted half.
const TAKEN: u8 = 2;
/// The partner ran it (or it panicked there: see `Shared::panic`).
const DONE: u8 = 3;

/// Spins of a waiting thread before it yields its CPU between checks: the halves of a
/// split are equal, so a wait is usually short.
const SPINS_BEFORE_YIELD: u32 = 1 << 12;

/// A posted half: a closure on the asking thread's stack, erased to a pointer. Valid until
/// the asking thread sees `DONE` or takes the half back, which it does before its frame ends.
struct Job {
    slot: *const (),
    run: unsafe fn(*const ()),
}

// SAFETY: a posted half is `Send` (`Session::join` requires it), and its slot is only
// touched by the thread that moved the state to `TAKEN`, or by the asking thread after
// `DONE` or a take-back.
unsafe impl Send for Job {}

struct Shared {
    state: AtomicU8,
    job: UnsafeCell<Option<Job>>,
    panic: UnsafeCell<Option<Box<dyn Any + Send>>>,
    /// A pass is running: the partner spins for the next half instead of parking.
    active: AtomicBool,
    stop: AtomicBool,
}

// SAFETY: `job` is written by the asking thread before it publishes `POSTED` (release) and
// read by the partner only after it moves `POSTED` to `TAKEN` (acquire); `panic` is written
// by the partner before it publishes `DONE` (release) and read by the asking thread after it
// sees `DONE` (acquire). A `Session` holds the lock, so there is one asking thread at a time.
unsafe impl Sync for Shared {}

pub(super) struct ThreadPair {
    shared: Arc<Shared>,
    /// One pass at a time: a second query waits for the first (about 2 ms) rather than
    /// running its own at half speed next to it.
    busy: Mutex<()>,
    partner: Option<JoinHandle<()>>,
}

impl ThreadPair {
    pub(super) fn new(name: &str) -> std::io::Result<ThreadPair> {
        let shared = Arc::new(Shared {
            state: AtomicU8::new(IDLE),
            job: UnsafeCell::new(None),
            panic: UnsafeCell::new(None),
            active: AtomicBool::new(false),
            stop: AtomicBool::new(false),
        });
        let theirs = Arc::clone(&shared);
        let partner = thread::Builder::new()
            .name(name.to_string())
            .spawn(move || partner(&theirs))?;
        Ok(ThreadPair {
            shared,
            busy: Mutex::new(()),
            partner: Some(partner),
        })
    }

    /// Wakes the partner for a pass; it parks again when the session ends.
    pub(super) fn session(&self) -> Session<'_> {
        let lock = self.busy.lock().unwrap_or_else(PoisonError::into_inner);
        self.shared.active.store(true, Ordering::Release);
        if let Some(partner) = &self.partner {
            partner.thread().unpark();
        }
        Session {
            shared: &self.shared,
            _lock: lock,
            _asking_thread_only: PhantomData,
        }
    }
}

impl Drop for ThreadPair {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Release);
        if let Some(partner) = self.partner.take() {
            partner.thread().unpark();
            let _ = partner.join();
        }
    }
}

pub(super) struct Session<'a> {
    shared: &'a Shared,
    _lock: MutexGuard<'a, ()>,
    /// Neither `Send` nor `Sync`: only the asking thread posts halves, so a half running on
    /// the partner cannot post one of its own (`job` has room for one).
    _asking_thread_only: PhantomData<*const ()>,
}

impl Drop for Session<'_> {
    fn drop(&mut self) {
        self.shared.active.store(false, Ordering::Release);
    }
}

impl Session<'_> {
    /// Runs `mine` here and `theirs` on the partner, and returns when both are done. A half
    /// the partner has not started when `mine` is done (it may not have been scheduled yet)
    /// is taken back and run here.
    pub(super) fn join(&self, mine: impl FnOnce(), theirs: impl FnOnce() + Send) {
        let slot = UnsafeCell::new(Some(theirs));
        // SAFETY: see `Shared`; the slot outlives every use of the pointer, since
        // `Collect::drop` below does not return before the partner is done with it.
        unsafe {
            *self.shared.job.get() = Some(Job {
                slot: (&raw const slot).cast(),
                run: run_slot_of(&slot),
            });
        }
        self.shared.state.store(POSTED, Ordering::Release);
        let collect = Collect {
            shared: self.shared,
            slot: &slot,
        };
        mine();
        drop(collect);
    }
}

/// The type-erased entry of a posted half.
unsafe fn run_slot<F: FnOnce()>(slot: *const ()) {
    // SAFETY: `slot` points to the `UnsafeCell<Option<F>>` of a `join` still waiting.
    let slot = unsafe { &*slot.cast::<UnsafeCell<Option<F>>>() };
    if let Some(f) = unsafe { (*slot.get()).take() } {
        f();
    }
}

/// `run_slot` for the closure type in `slot`, which has no name to write.
fn run_slot_of<F: FnOnce()>(_: &UnsafeCell<Option<F>>) -> unsafe fn(*const ()) {
    run_slot::<F>
}

/// Waits for the posted half, also when the asking thread's own half panicked: the posted
/// one borrows its stack.
struct Collect<'a, F: FnOnce()> {
    shared: &'a Shared,
    slot: &'a UnsafeCell<Option<F>>,
}

impl<F: FnOnce()> Drop for Collect<'_, F> {
    fn drop(&mut self) {
        let state = &self.shared.state;
        if state
            .compare_exchange(POSTED, IDLE, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            // Taken back before the partner started it.
            // SAFETY: the partner never reads a job it did not move to `TAKEN`.
            unsafe { *self.shared.job.get() = None };
            if !thread::panicking() {
                if let Some(f) = unsafe { (*self.slot.get()).take() } {
                    f();
                }
            }
            return;
        }
        let mut spins = 0u32;
        while state.load(Ordering::Acquire) != DONE {
            spin_or_yield(&mut spins);
        }
        state.store(IDLE, Ordering::Release);
        // SAFETY: written by the partner before it published `DONE`.
        let panic = unsafe { (*self.shared.panic.get()).take() };
        if let Some(panic) = panic {
            if !thread::panicking() {
                resume_unwind(panic);
            }
        }
    }
}

fn spin_or_yield(spins: &mut u32) {
    if *spins < SPINS_BEFORE_YIELD {
        *spins += 1;
        std::hint::spin_loop();
    } else {
        thread::yield_now();
    }
}

fn partner(shared: &Shared) {
    let mut spins = 0u32;
    loop {
        if shared
            .state
            .compare_exchange(POSTED, TAKEN, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            // SAFETY: see `Shared`.
            let job = unsafe { (*shared.job.get()).take() };
            if let Some(job) = job {
                let ran = catch_unwind(AssertUnwindSafe(|| unsafe { (job.run)(job.slot) }));
                if let Err(panic) = ran {
                    unsafe { *shared.panic.get() = Some(panic) };
                }
            }
            shared.state.store(DONE, Ordering::Release);
            spins = 0;
        } else if shared.stop.load(Ordering::Acquire) {
            return;
        } else if shared.active.load(Ordering::Acquire) {
            spin_or_yield(&mut spins);
        } else {
            spins = 0;
            // An `unpark` between the check above and this call makes it return at once.
            thread::park();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    /// Busy for `micros`, as a half of a layer is.
    fn work(micros: u64) {
        let until = Instant::now() + Duration::from_micros(micros);
        while Instant::now() < until {
            std::hint::spin_loop();
        }
    }

    #[test]
    fn each_half_runs_once_and_the_partner_takes_its_halves() {
        let pair = ThreadPair::new("pair-test").unwrap();
        let here = thread::current().id();
        let mut on_partner = 0;
        for round in 0..500 {
            let session = pair.session();
            let mut halves = [0u32; 2];
            let (mine, theirs) = halves.split_at_mut(1);
            let mut ran_on = here;
            session.join(
                || {
                    work(20);
                    mine[0] += 1;
                },
                || {
                    theirs[0] += 1;
                    ran_on = thread::current().id();
                },
            );
            assert_eq!(halves, [1, 1], "round {round}");
            on_partner += usize::from(ran_on != here);
        }
        // The partner spins while the session lasts, so it takes nearly every half; the
        // asking thread takes one back only when the partner was not scheduled in time.
        assert!(on_partner > 0, "the partner ran none of 500 halves");
    }

    #[test]
    fn a_panic_in_the_partners_half_reaches_the_asking_thread_and_the_pair_still_works() {
        let pair = ThreadPair::new("pair-test").unwrap();
        let caught = catch_unwind(AssertUnwindSafe(|| {
            let session = pair.session();
            session.join(|| work(200), || panic!("in the partner's half"));
        }));
        let message = caught.expect_err("the panic was lost");
        assert_eq!(
            message.downcast_ref::<&str>(),
            Some(&"in the partner's half")
        );
        let mut both = (false, false);
        pair.session().join(|| both.0 = true, || both.1 = true);
        assert_eq!(both, (true, true));
    }
}
