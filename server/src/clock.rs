//! One clock for the domain, the audit log, sessions and grant checks. In production it is the
//! system clock; a test makes one it can move forward (the system clock plus an offset it sets),
//! so that a grant window or an idle timeout is crossed without sleeping.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

#[derive(Clone, Debug, Default)]
pub struct Clock {
    /// Milliseconds added to the system time; `None` for the plain system clock.
    offset_ms: Option<Arc<AtomicI64>>,
}

impl Clock {
    pub fn system() -> Clock {
        Clock { offset_ms: None }
    }

    /// The system clock, which `advance` can move forward (tests).
    pub fn movable() -> Clock {
        Clock { offset_ms: Some(Arc::new(AtomicI64::new(0))) }
    }

    /// Milliseconds since the Unix epoch, now.
    pub fn now_ms(&self) -> i64 {
        let nanos = time::OffsetDateTime::now_utc().unix_timestamp_nanos();
        let system = (nanos / 1_000_000) as i64;
        system + self.offset_ms.as_ref().map_or(0, |offset| offset.load(Ordering::SeqCst))
    }

    /// Moves a movable clock forward; the system clock cannot be moved.
    pub fn advance(&self, ms: i64) {
        let offset = self.offset_ms.as_ref().expect("only a movable clock can be moved");
        offset.fetch_add(ms, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_movable_clock_jumps_forward_and_its_copies_follow() {
        let clock = Clock::movable();
        let copy = clock.clone();
        let before = copy.now_ms();
        clock.advance(31 * 60_000);
        assert!(copy.now_ms() >= before + 31 * 60_000);
        assert!(Clock::system().now_ms() < copy.now_ms());
    }
}
