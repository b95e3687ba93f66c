//! Part of what waits: the actors that write for many callers at once (presence claims, session
//! loads) take at most a batch and leave the rest for the next round.

use std::collections::HashMap;
use std::hash::Hash;

/// At most `most` entries out of `waiting`; all of them, without copying, when they fit.
pub(crate) fn take_batch<K: Copy + Eq + Hash, V>(waiting: &mut HashMap<K, V>, most: usize) -> HashMap<K, V> {
    if waiting.len() <= most {
        return std::mem::take(waiting);
    }
    let keys: Vec<K> = waiting.keys().take(most).copied().collect();
    keys.into_iter().filter_map(|key| waiting.remove_entry(&key)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_at_most_a_batch_and_leaves_the_rest() {
        let mut waiting: HashMap<u32, u32> = (0..10).map(|k| (k, k * 10)).collect();
        let first = take_batch(&mut waiting, 4);
        assert_eq!((first.len(), waiting.len()), (4, 6));
        assert!(first.iter().all(|(k, v)| *v == k * 10 && !waiting.contains_key(k)));
        let rest = take_batch(&mut waiting, 100);
        assert_eq!((rest.len(), waiting.len()), (6, 0));
    }
}
