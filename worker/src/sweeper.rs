//! The periodic sweep (issue 17): write sessions unused for too long are
//! aborted and their staging removed, every [`StorageLimits::sweep_every`].
//! It runs while the app's state lives and until shutdown.
//!
//! [`StorageLimits::sweep_every`]: crate::StorageLimits::sweep_every

use std::sync::{Arc, Weak};

use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;

use crate::AppState;
use crate::storage::Stores;
use crate::writes::{self, Writes};

/// Starts the sweep on the current Tokio runtime (none outside one). It
/// holds the state weakly: once the app is dropped, it ends.
pub(crate) fn spawn(state: &AppState, shutdown: CancellationToken) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
    let every = state.limits.sweep_every.max(std::time::Duration::from_millis(10));
    let writes = Arc::downgrade(&state.writes);
    let stores = Arc::downgrade(&state.stores);
    runtime.spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = ticks.tick() => {}
            }
            if !sweep_once(&writes, &stores).await {
                break;
            }
        }
    });
}

/// One sweep; `false` when the app is gone.
async fn sweep_once(writes: &Weak<Writes>, stores: &Weak<Stores>) -> bool {
    let (Some(writes), Some(stores)) = (writes.upgrade(), stores.upgrade()) else { return false };
    let expired = writes::expire_idle(&writes, &stores).await;
    if expired > 0 {
        tracing::info!(expired, "idle writes aborted");
    }
    true
}
