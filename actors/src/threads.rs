//! Where actors run. By default an actor starts on the arbiter (thread) of whoever starts it,
//! which put every session and chat actor on the main thread: one core for all of them. A pool
//! of arbiters, one per core, spreads them; an actor keeps its arbiter for life, so its messages
//! stay ordered.

use actix::prelude::*;

#[derive(Clone)]
pub struct Arbiters(Vec<ArbiterHandle>);

/// Runs a task that lives as long as the process (a janitor, a copier) on `arbiter`, or on this
/// thread's when `None`.
pub fn spawn_on(arbiter: Option<&ArbiterHandle>, work: impl Future<Output = ()> + Send + 'static) {
    match arbiter {
        Some(arbiter) => {
            arbiter.spawn(work);
        }
        None => {
            actix::spawn(work);
        }
    }
}

impl Arbiters {
    /// One arbiter thread per core (at least two).
    pub fn per_core() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get()).max(2);
        Self((0..cores).map(|_| Arbiter::new().handle()).collect())
    }

    /// How many arbiters (threads) there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The arbiter for the `n`-th actor started: round robin.
    pub fn pick(&self, n: usize) -> Option<&ArbiterHandle> {
        self.0.get(n % self.0.len().max(1))
    }

    /// Starts `actor` on the next arbiter, or here when the pool is empty.
    pub fn start<A>(pool: Option<&Self>, n: usize, actor: A) -> Addr<A>
    where
        A: Actor<Context = Context<A>> + Send,
    {
        match pool.and_then(|p| p.pick(n)) {
            Some(arbiter) => A::start_in_arbiter(arbiter, |_| actor),
            None => actor.start(),
        }
    }
}
