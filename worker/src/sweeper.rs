//! The periodic sweep (issue 17), at start and then every
//! [`StorageLimits::sweep_every`]: write sessions unused for too long are
//! aborted and their staging removed, and the debris a killed gateway left in
//! the data directory (staged uploads, `_temporary/<id>` staging) goes once
//! older than [`StorageLimits::debris_grace`]. It runs while the app's state
//! lives and until shutdown.
//!
//! [`StorageLimits::sweep_every`]: crate::StorageLimits::sweep_every
//! [`StorageLimits::debris_grace`]: crate::StorageLimits::debris_grace

use std::sync::{Arc, Weak};

use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;

use crate::AppState;
use crate::storage::{Stores, Swept, Uploads, sweep_debris};
use crate::writes::{self, Writes};

/// What the sweep holds, weakly: once the app is dropped, it ends.
struct Held {
    writes: Weak<Writes>,
    stores: Weak<Stores>,
    uploads: Weak<Uploads>,
    grace: std::time::Duration,
}

/// Starts the sweep on the current Tokio runtime (none outside one); its
/// first round runs at once.
pub(crate) fn spawn(state: &AppState, shutdown: CancellationToken) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
    let every = state.limits.sweep_every.max(std::time::Duration::from_millis(10));
    let held = Held {
        writes: Arc::downgrade(&state.writes),
        stores: Arc::downgrade(&state.stores),
        uploads: Arc::downgrade(&state.uploads),
        grace: state.limits.debris_grace,
    };
    runtime.spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = ticks.tick() => {}
            }
            if !sweep_once(&held).await {
                break;
            }
        }
    });
}

/// One round; `false` when the app is gone.
async fn sweep_once(held: &Held) -> bool {
    let (Some(writes), Some(stores), Some(uploads)) =
        (held.writes.upgrade(), held.stores.upgrade(), held.uploads.upgrade())
    else {
        return false;
    };
    let expired = writes::expire_idle(&writes, &stores).await;
    if expired > 0 {
        tracing::info!(expired, "idle writes aborted");
    }
    let root = stores.local.root().to_path_buf();
    let grace = held.grace;
    let swept = tokio::task::spawn_blocking(move || {
        sweep_debris(&root, grace, &|id| writes.is_open(id) || uploads.contains(id))
    })
    .await
    .unwrap_or_default();
    if swept != Swept::default() {
        tracing::info!(uploads = swept.uploads, staging = swept.staging_dirs, "staging debris removed");
    }
    true
}
