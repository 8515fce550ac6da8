//! [`RetryPolicy`]: when a failed delivery is tried again, and when an
//! endpoint that keeps failing is disabled.

use std::time::Duration;

use rand::Rng;

/// The retry schedule and the endpoint-disabling thresholds.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// The wait before each retry: `schedule[0]` after the first failed
    /// attempt, `schedule[1]` after the second… A delivery gets
    /// `schedule.len() + 1` attempts, then is marked failed.
    pub schedule: Vec<Duration>,
    /// Random extra wait added to each step, as a fraction of it (0.1 adds
    /// up to 10 %), so endpoints that failed together do not retry together.
    pub jitter: f64,
    /// An endpoint is disabled after this many deliveries in a row failed
    /// for good (0 turns this rule off).
    pub disable_after_failed_deliveries: u32,
    /// An endpoint is also disabled when every attempt has failed for this
    /// long since its last success.
    pub disable_after_failing_for: Duration,
}

impl Default for RetryPolicy {
    /// About three days: 5 s, 5 min, 30 min, 2 h, 5 h, then 10 h six times
    /// (≈ 2.8 days, ≈ 3 with jitter); endpoints are disabled after 5 failed
    /// deliveries in a row or 24 h of nothing but failures.
    fn default() -> Self {
        let (s, m, h) = (1, 60, 3600);
        RetryPolicy {
            schedule: [
                5 * s,
                5 * m,
                30 * m,
                2 * h,
                5 * h,
                10 * h,
                10 * h,
                10 * h,
                10 * h,
                10 * h,
                10 * h,
            ]
            .into_iter()
            .map(Duration::from_secs)
            .collect(),
            jitter: 0.1,
            disable_after_failed_deliveries: 5,
            disable_after_failing_for: Duration::from_secs(24 * h),
        }
    }
}

impl RetryPolicy {
    /// A schedule of milliseconds for tests: four attempts within about
    /// half a second, no jitter, endpoints disabled after 3 failed deliveries.
    pub fn fast() -> Self {
        RetryPolicy {
            schedule: [50, 100, 150].into_iter().map(Duration::from_millis).collect(),
            jitter: 0.0,
            disable_after_failed_deliveries: 3,
            disable_after_failing_for: Duration::from_secs(3600),
        }
    }

    /// How many attempts a delivery gets before it is marked failed. The
    /// dispatcher asks `delay_after` whether to try again, so only the
    /// tests of the schedule count the attempts.
    #[cfg(test)]
    fn max_attempts(&self) -> u32 {
        self.schedule.len() as u32 + 1
    }

    /// The wait after failed attempt number `attempt` (1-based), jitter
    /// included, or `None` when that was the last attempt.
    pub fn delay_after(&self, attempt: u32) -> Option<Duration> {
        let base = *self.schedule.get(attempt.checked_sub(1)? as usize)?;
        let jitter = self.jitter.clamp(0.0, 1.0);
        if jitter == 0.0 {
            return Some(base);
        }
        let extra = base.mul_f64(rand::thread_rng().gen_range(0.0..=jitter));
        Some(base + extra)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_schedule_spans_about_three_days() {
        let p = RetryPolicy::default();
        let total: Duration = p.schedule.iter().sum();
        let days = total.as_secs_f64() / 86_400.0;
        assert!((2.5..=3.0).contains(&days), "{days}");
        assert_eq!(p.max_attempts(), 12);
    }

    #[test]
    fn delays_follow_the_schedule_with_bounded_jitter() {
        let p = RetryPolicy::default();
        for _ in 0..100 {
            let d = p.delay_after(1).unwrap();
            assert!(
                d >= Duration::from_secs(5) && d <= Duration::from_millis(5_500),
                "{d:?}"
            );
        }
        assert_eq!(p.delay_after(0), None);
        assert_eq!(p.delay_after(12), None);
        assert_eq!(RetryPolicy::fast().delay_after(2), Some(Duration::from_millis(100)));
    }
}
