//! What a probe stages it takes away: a case such as `kid-not-yet-published` signs with a staged
//! key the issuer makes and persists on first use, which would otherwise stay in the workspace's
//! ring for good (listed by `keys list`, published by the next `keys rotate`).

use std::sync::Arc;

use crate::issuer::Issuer;

/// Retires, when dropped (the run's end, its error or its cancellation alike), every staged key
/// of the workspace that was not there when it was made. A key someone staged before the run
/// (the probe reuses it) stays.
pub(super) struct StagedCleanup {
    issuer: Arc<Issuer>,
    slug: String,
    before: Vec<String>,
}

impl StagedCleanup {
    pub(super) fn new(issuer: Arc<Issuer>, slug: &str) -> StagedCleanup {
        let before = staged(&issuer, slug);
        StagedCleanup {
            issuer,
            slug: slug.to_string(),
            before,
        }
    }
}

fn staged(issuer: &Issuer, slug: &str) -> Vec<String> {
    issuer
        .workspace(slug)
        .map(|w| w.workspace.keys.staged_unscheduled())
        .unwrap_or_default()
}

impl Drop for StagedCleanup {
    fn drop(&mut self) {
        let new: Vec<String> = staged(&self.issuer, &self.slug)
            .into_iter()
            .filter(|kid| !self.before.contains(kid))
            .collect();
        if new.is_empty() {
            return;
        }
        // Best effort: a drop cannot fail, and a key left behind is untidy, not unsafe.
        let _ = self.issuer.update_keys(&self.slug, |ring, _| {
            for kid in &new {
                if ring.staged_unscheduled().contains(kid) {
                    ring.retire(kid)?;
                }
            }
            Ok(())
        });
    }
}
