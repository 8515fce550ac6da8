//! Rate limits (GCRA through the `governor` crate), per API key and per
//! client address, so one client cannot starve the others and unauthenticated
//! floods never reach the database.
//!
//! Limits live in each server process: with several instances behind a
//! load balancer, a client gets up to the limit from every instance.

use std::hash::Hash;
use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};

use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::DefaultKeyedStateStore;
use governor::Quota;

/// Requests per second and burst allowed per key of a limiter; a rate of 0
/// disables limiting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Sustained requests per second per key (0: unlimited).
    pub per_second: u32,
    /// Requests a key may send at once after being idle.
    pub burst: u32,
}

impl Default for RateLimit {
    /// The per-API-key default: 100 requests per second, bursts of 200.
    fn default() -> Self {
        RateLimit {
            per_second: 100,
            burst: 200,
        }
    }
}

impl RateLimit {
    /// The per-client-address default for requests the key cache cannot
    /// answer (no key, a bad key, a key's first use in a cache period):
    /// 10 per second, bursts of 50.
    pub fn client_default() -> Self {
        RateLimit {
            per_second: 10,
            burst: 50,
        }
    }
}

/// How often (in checks) the limiter forgets keys whose buckets are full
/// again, so a stream of new keys cannot grow its memory without bound.
const SWEEP_EVERY: u64 = 4096;

type Keyed<K> = governor::RateLimiter<K, DefaultKeyedStateStore<K>, DefaultClock>;

/// A keyed limiter: one bucket per key (an API key id, a client address).
pub struct RateLimiter<K: Hash + Eq + Clone> {
    limiter: Option<Keyed<K>>,
    checks: AtomicU64,
}

impl<K: Hash + Eq + Clone> std::fmt::Debug for RateLimiter<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter")
            .field("enabled", &self.limiter.is_some())
            .finish()
    }
}

impl<K: Hash + Eq + Clone> RateLimiter<K> {
    /// A limiter enforcing `limit`.
    pub fn new(limit: RateLimit) -> Self {
        let limiter = NonZeroU32::new(limit.per_second).map(|rate| {
            let burst = NonZeroU32::new(limit.burst).unwrap_or(NonZeroU32::MIN);
            governor::RateLimiter::keyed(Quota::per_second(rate).allow_burst(burst))
        });
        RateLimiter {
            limiter,
            checks: AtomicU64::new(0),
        }
    }

    /// Takes one request from `key`'s bucket; `Err(seconds)` says when to retry.
    pub fn check(&self, key: &K) -> Result<(), u64> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
        limiter.check_key(key).map_err(|not_until| {
            let wait = not_until.wait_time_from(limiter.clock().now());
            // Whole seconds for Retry-After, rounded up, at least 1.
            (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
        })
    }
}

/// The bucket a client address falls in: the address itself for IPv4, its
/// /64 network for IPv6 (one subscriber usually holds a whole /64, so
/// rotating addresses inside it must not buy fresh buckets).
pub fn client_bucket(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V4(_) => addr,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_its_burst_then_refuses_per_key() {
        let limiter = RateLimiter::new(RateLimit {
            per_second: 1,
            burst: 3,
        });
        assert!((0..3).all(|_| limiter.check(&"a").is_ok()));
        assert_eq!(limiter.check(&"a"), Err(1));
        assert!(limiter.check(&"b").is_ok(), "keys have separate buckets");
        let off = RateLimiter::new(RateLimit {
            per_second: 0,
            burst: 0,
        });
        assert!((0..10_000).all(|_| off.check(&"a").is_ok()));
    }

    #[test]
    fn retry_after_rounds_the_wait_up_to_whole_seconds() {
        let limiter = RateLimiter::new(RateLimit {
            per_second: 1,
            burst: 1,
        });
        assert!(limiter.check(&1).is_ok());
        assert_eq!(limiter.check(&1), Err(1), "a wait under a second is 1 s");
        let slow = RateLimiter::new(RateLimit {
            per_second: 1,
            burst: 5,
        });
        assert!((0..5).all(|_| slow.check(&1).is_ok()));
        assert_eq!(slow.check(&1), Err(1));
    }

    #[test]
    fn ipv6_clients_share_a_bucket_per_64_and_mapped_ipv4_is_ipv4() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(client_bucket(a), client_bucket(b));
        assert_ne!(client_bucket(a), client_bucket(c));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(client_bucket(mapped), "192.0.2.7".parse::<IpAddr>().unwrap());
    }
}
