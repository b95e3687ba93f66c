//! How many avatar uploads are decoded at once. One decode may hold up to
//! [`DECODE_BUDGET`](crate::domain::avatar::DECODE_BUDGET) bytes, so the slots bound the memory
//! all uploads together can take; an upload that finds every slot taken waits its turn, but not
//! for long: past the wait it is refused (503) rather than queued without end.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

#[derive(Debug, Clone)]
pub struct AvatarDecodes {
    slots: Arc<Semaphore>,
    wait: Duration,
}

/// Every slot stayed taken for the whole wait.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("too many images are being processed")]
pub struct Busy;

impl AvatarDecodes {
    pub fn new(slots: usize, wait: Duration) -> Self {
        Self { slots: Arc::new(Semaphore::new(slots)), wait }
    }

    /// A slot, held until the permit is dropped: move it into the blocking task that decodes, so
    /// that it is released when the decode ends, even if the client has gone away before.
    pub async fn slot(&self) -> Result<OwnedSemaphorePermit, Busy> {
        match tokio::time::timeout(self.wait, self.slots.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            // Closed (never: the semaphore is not closed) or timed out.
            Ok(Err(_)) | Err(_) => Err(Busy),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_decode_waits_for_a_free_slot_and_is_refused_when_none_frees_up() {
        let decodes = AvatarDecodes::new(1, Duration::ZERO);
        let first = decodes.slot().await.unwrap();
        assert_eq!(decodes.slot().await.unwrap_err(), Busy, "the only slot is taken");
        drop(first);
        let again = decodes.slot().await;
        assert!(again.is_ok(), "a released slot is free again");
    }
}
