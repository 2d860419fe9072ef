//! Injected time and identifiers: a [`Clock`] and an [`IdSource`].
//!
//! Nothing in the core reads the system clock or the random generator directly for token
//! contents, so tests and the deterministic mode can fix both and get byte-identical tokens.

use std::fmt::Debug;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use uuid::Uuid;

/// A source of the current time, in whole seconds since the Unix epoch.
pub trait Clock: Send + Sync + Debug {
    /// Seconds since 1970-01-01T00:00:00Z.
    fn now(&self) -> i64;

    /// The instant it is stopped at, for a clock that never moves (what a reproduce line must
    /// fix again with `--now`); `None` for a clock that runs.
    fn fixed(&self) -> Option<i64> {
        None
    }
}

/// The real clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> i64 {
        match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            // A clock before 1970 is a broken machine; negative time keeps arithmetic honest.
            Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
        }
    }
}

/// The instants a clock may say, in Unix seconds: 1970-01-01 to 2100-01-01. Certificates made
/// at `now` must end within what X.509 can encode, and a CA lives ten years.
pub const NOW_RANGE: std::ops::RangeInclusive<i64> = 0..=4_102_444_800;

/// A clock stopped at one instant.
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub i64);

impl Clock for FixedClock {
    fn now(&self) -> i64 {
        self.0
    }

    fn fixed(&self) -> Option<i64> {
        Some(self.0)
    }
}

/// Where generated UUIDs (step, pipeline, workspace...) come from.
///
/// Random by default; [`IdSource::seeded`] gives a repeatable sequence (SplitMix64, which is
/// plenty for identifiers that only need to look like Bitbucket's, never to be unguessable).
#[derive(Debug)]
pub struct IdSource {
    seeded: Option<Mutex<u64>>,
}

impl IdSource {
    /// UUIDs from the operating system's secure random generator.
    pub fn random() -> Self {
        IdSource { seeded: None }
    }

    /// A repeatable sequence of UUIDs derived from `seed`.
    pub fn seeded(seed: u64) -> Self {
        IdSource {
            seeded: Some(Mutex::new(seed)),
        }
    }

    /// The next version-4 UUID.
    pub fn uuid(&self) -> Uuid {
        let mut bytes = [0u8; 16];
        match &self.seeded {
            Some(state) => {
                let mut s = state.lock().unwrap_or_else(|p| p.into_inner());
                bytes[..8].copy_from_slice(&splitmix64(&mut s).to_le_bytes());
                bytes[8..].copy_from_slice(&splitmix64(&mut s).to_le_bytes());
            }
            None => {
                if aws_lc_rs::rand::fill(&mut bytes).is_err() {
                    // aws-lc's RNG does not fail on a working OS; fall back to time-derived
                    // bytes rather than panic, since these are identifiers, not secrets.
                    let mut s = SystemClock.now() as u64 ^ u64::from(std::process::id());
                    bytes[..8].copy_from_slice(&splitmix64(&mut s).to_le_bytes());
                    bytes[8..].copy_from_slice(&splitmix64(&mut s).to_le_bytes());
                }
            }
        }
        uuid::Builder::from_random_bytes(bytes).into_uuid()
    }
}

impl Default for IdSource {
    fn default() -> Self {
        Self::random()
    }
}

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_ids_repeat_and_differ_by_seed() {
        let a = IdSource::seeded(7);
        let b = IdSource::seeded(7);
        let c = IdSource::seeded(8);
        let first = a.uuid();
        assert_eq!(first, b.uuid());
        assert_ne!(first, c.uuid());
        assert_ne!(first, a.uuid(), "a sequence, not one value");
        assert_eq!(first.get_version_num(), 4);
    }

    #[test]
    fn random_ids_differ() {
        let ids = IdSource::random();
        assert_ne!(ids.uuid(), ids.uuid());
    }

    #[test]
    fn system_clock_is_after_2020() {
        assert!(SystemClock.now() > 1_577_836_800);
    }
}
