//! The scheduler's time source. The loop asks a [`Clock`] for the time and sleeps through it,
//! so tests drive weeks of schedule with a [`ManualClock`] in milliseconds.
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};

pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
    /// Resolves once the clock reads `t` or later.
    fn sleep_until(&self, t: DateTime<Utc>) -> Sleep;
}

/// The system's clock; sleeps on tokio's timer.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    fn sleep_until(&self, t: DateTime<Utc>) -> Sleep {
        let wait = (t - Utc::now()).to_std().unwrap_or_default();
        Box::pin(tokio::time::sleep(wait))
    }
}

/// A clock that only moves when told to — or when the scheduler sleeps on it, which jumps it
/// straight to the wake-up time. Clones share the time.
#[derive(Debug, Clone)]
pub struct ManualClock {
    now: Arc<Mutex<DateTime<Utc>>>,
}

impl ManualClock {
    pub fn new(start: DateTime<Utc>) -> ManualClock {
        ManualClock {
            now: Arc::new(Mutex::new(start)),
        }
    }

    pub fn set(&self, t: DateTime<Utc>) {
        *self.now.lock().unwrap_or_else(|e| e.into_inner()) = t;
    }

    pub fn advance(&self, d: Duration) {
        let mut now = self.now.lock().unwrap_or_else(|e| e.into_inner());
        *now += d;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn sleep_until(&self, t: DateTime<Utc>) -> Sleep {
        let now = self.now.clone();
        Box::pin(async move {
            {
                let mut now = now.lock().unwrap_or_else(|e| e.into_inner());
                if *now < t {
                    *now = t;
                }
            }
            // Let other tasks (a test watching the clock) run between ticks.
            tokio::task::yield_now().await;
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_manual_clock_jumps_to_the_wake_up_time_and_never_back() {
        let start = Utc::now();
        let clock = ManualClock::new(start);
        clock.sleep_until(start + Duration::days(7)).await;
        assert_eq!(clock.now(), start + Duration::days(7));
        clock.sleep_until(start).await;
        assert_eq!(clock.now(), start + Duration::days(7));
        clock.advance(Duration::seconds(1));
        assert_eq!(
            clock.clone().now(),
            start + Duration::days(7) + Duration::seconds(1)
        );
    }
}
