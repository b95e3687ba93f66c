//! Token buckets by key (a user, a client address), in this node's memory.
//!
//! The map stays bounded: a bucket that has refilled to its burst is the same as no bucket, so
//! such entries are swept (at most once a second, on the next use). What remains are the keys
//! seen within the last `burst / rate` seconds, and never more than [`MAX_KEYS`]: past that, a
//! key without a bucket is refused until the sweep frees room (docs/configuration.md, "Limits").

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::Rate;

/// Most keys one limit tracks at once (a few MB at worst).
pub const MAX_KEYS: usize = 100_000;
const SWEEP_EVERY: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

#[derive(Debug)]
struct State<K> {
    buckets: HashMap<K, Bucket>,
    swept_at: Instant,
}

#[derive(Debug)]
pub struct Buckets<K> {
    rate: Rate,
    max_keys: usize,
    state: Mutex<State<K>>,
}

impl<K: Hash + Eq + Copy> Buckets<K> {
    pub fn new(rate: Rate) -> Self {
        Self::bounded(rate, MAX_KEYS)
    }

    pub fn bounded(rate: Rate, max_keys: usize) -> Self {
        Self { rate, max_keys, state: Mutex::new(State { buckets: HashMap::new(), swept_at: Instant::now() }) }
    }

    /// Takes one token of `key`'s bucket, or says how long until one is there.
    pub fn take(&self, key: K) -> Result<(), Duration> {
        self.take_at(key, Instant::now())
    }

    fn take_at(&self, key: K, now: Instant) -> Result<(), Duration> {
        let Rate { per_sec, burst } = self.rate;
        // A poisoned lock only means another thread panicked mid-update of plain numbers.
        let mut state = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if now.saturating_duration_since(state.swept_at) >= SWEEP_EVERY {
            state.buckets.retain(|_, b| b.tokens + now.saturating_duration_since(b.at).as_secs_f64() * per_sec < burst);
            state.swept_at = now;
        }
        let full = state.buckets.len() >= self.max_keys;
        let bucket = match state.buckets.get_mut(&key) {
            Some(bucket) => bucket,
            None if full => return Err(SWEEP_EVERY),
            None => state.buckets.entry(key).or_insert(Bucket { tokens: burst, at: now }),
        };
        bucket.tokens = (bucket.tokens + now.saturating_duration_since(bucket.at).as_secs_f64() * per_sec).min(burst);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64(((1.0 - bucket.tokens) / per_sec).min(86_400.0)))
        }
    }

    /// Keys tracked now (tests of the bound).
    pub fn len(&self) -> usize {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner).buckets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_burst_then_the_rate() {
        let buckets = Buckets::new(Rate { per_sec: 2.0, burst: 3.0 });
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(buckets.take_at(1, t0).is_ok());
        }
        let wait = buckets.take_at(1, t0).unwrap_err();
        assert_eq!(wait, Duration::from_millis(500));
        // Another key has its own bucket.
        assert!(buckets.take_at(2, t0).is_ok());
        assert!(buckets.take_at(1, t0 + Duration::from_millis(500)).is_ok());
        assert!(buckets.take_at(1, t0 + Duration::from_millis(500)).is_err());
    }

    #[test]
    fn refilled_buckets_are_swept_and_the_map_is_bounded() {
        let buckets = Buckets::bounded(Rate { per_sec: 1.0, burst: 2.0 }, 3);
        let t0 = Instant::now();
        for key in 0..3 {
            assert!(buckets.take_at(key, t0).is_ok());
        }
        // Full: a new key waits for the sweep, known keys still work.
        assert_eq!(buckets.take_at(99, t0), Err(SWEEP_EVERY));
        assert!(buckets.take_at(0, t0).is_ok());
        // Two seconds on, every bucket has refilled: all swept, the new key gets one.
        assert!(buckets.take_at(99, t0 + Duration::from_secs(2)).is_ok());
        assert_eq!(buckets.len(), 1);
    }
}
