//! The load generator: closed-loop runs for the maximum throughput, and
//! fixed-rate runs whose latency is measured from each request's intended
//! send time (so a stalled server cannot hide its queue: no coordinated
//! omission).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use crate::http::{Client, Request};
use crate::seed::{invoice_id, Seeded};

/// Hands out invoices of the main set, each exactly once, so every write
/// scenario (and pgbench) works on its own invoices.
#[derive(Debug)]
pub struct Supply {
    next: AtomicU64,
    end: u64,
}

impl Supply {
    /// Invoices `1..=end`.
    pub fn new(end: u64) -> Supply {
        Supply {
            next: AtomicU64::new(1),
            end,
        }
    }

    /// The next unused invoice, or `None` when all are used.
    pub fn take(&self) -> Option<u64> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        (n <= self.end).then_some(n)
    }

    /// Reserves `count` consecutive invoices (for pgbench); `None` if too few remain.
    pub fn reserve(&self, count: u64) -> Option<std::ops::RangeInclusive<u64>> {
        let start = self.next.fetch_add(count, Ordering::Relaxed);
        (start + count - 1 <= self.end).then(|| start..=start + count - 1)
    }
}

/// What each request of a scenario does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `GET /healthz`: the HTTP ceiling of the same binary.
    Healthz,
    /// `GET /v1/invoices/{id}` of a random seeded invoice.
    Get,
    /// `GET /v1/invoices?limit=50` of listing tenant `i`.
    List(usize),
    /// Full cancel of a fresh seeded invoice.
    FullCancel,
    /// Full cancel of a fresh invoice made through the API (create, finalize).
    FullCancelMade,
    /// Cancel of line `p2` of a fresh invoice.
    LineCancel,
    /// Void of a fresh invoice.
    Void,
    /// 80 % `Get`, 20 % `FullCancel`.
    Mix,
}

impl Op {
    /// Scenario name in the report.
    pub fn name(self) -> String {
        match self {
            Op::Healthz => "GET /healthz".into(),
            Op::Get => "GET invoice".into(),
            Op::List(_) => "GET /v1/invoices?limit=50".into(),
            Op::FullCancel => "full cancel".into(),
            Op::FullCancelMade => "full cancel (invoices made through the API)".into(),
            Op::LineCancel => "line cancel".into(),
            Op::Void => "void".into(),
            Op::Mix => "80/20 read/write".into(),
        }
    }
}

/// Everything a client thread needs to build requests.
pub struct Target {
    /// Server address.
    pub addr: SocketAddr,
    /// Seeded data.
    pub seeded: Seeded,
    /// Fresh invoices for writes.
    pub supply: Arc<Supply>,
    /// Invoices made through the API: (id, index of its key), each used once.
    pub made: Arc<Made>,
}

/// Invoices made through the API, handed out once each.
#[derive(Debug, Default)]
pub struct Made {
    list: Vec<(String, usize)>,
    next: AtomicU64,
}

impl Made {
    /// Wraps a list of (id, key index).
    pub fn new(list: Vec<(String, usize)>) -> Made {
        Made {
            list,
            next: AtomicU64::new(0),
        }
    }

    fn take(&self) -> Option<&(String, usize)> {
        let i = self.next.fetch_add(1, Ordering::Relaxed);
        self.list.get(usize::try_from(i).ok()?)
    }
}

/// The create body of an invoice like the seeded template (five lines),
/// with its own external reference (seeded invoice `n` has `SUP-n`, and
/// references are unique per tenant).
fn create_body(i: u64) -> String {
    let lines: Vec<String> = (0..crate::seed::LINES)
        .map(|k| {
            format!(
                r#"{{"product_id":"p{k}","description":"Freight leg {k}","quantity":{},"unit_amount":{},"tax_rate":"19"}}"#,
                k + 1,
                12_345 + 1_000 * k
            )
        })
        .collect();
    format!(
        r#"{{"currency":"EUR","customer":{{"id":"cust-1","name":"ACME GmbH","email":"ap@acme.example","tax_number":"DE811907980"}},"issuer":{{"id":"trp-001","name":"ABC Transport Ltd"}},"lines":[{}],"due_date":"2026-12-31","external_reference":"API-{i}","metadata":{{"loadCount":"3"}}}}"#,
        lines.join(",")
    )
}

/// Makes `count` open invoices through the API (create, then finalize),
/// spread over the main tenants, with `clients` connections.
pub fn make_through_api(
    addr: SocketAddr,
    seeded: &Seeded,
    count: u64,
    clients: usize,
) -> Result<Vec<(String, usize)>, String> {
    let next = AtomicU64::new(0);
    let out = Mutex::new(Vec::new());
    let failed = Mutex::new(None::<String>);
    std::thread::scope(|scope| {
        for _ in 0..clients.max(1) {
            scope.spawn(|| {
                let mut c = Client::new(addr);
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= count || failed.lock().expect("lock").is_some() {
                        break;
                    }
                    let k = usize::try_from(i % crate::seed::TENANTS).unwrap_or(0);
                    let key = &seeded.keys[k];
                    let made = c
                        .send(&Request::post("/v1/invoices".into(), key, &create_body(i)))
                        .map_err(|e| e.to_string())
                        .and_then(|r| {
                            let v: serde_json::Value = serde_json::from_str(&r.body).map_err(|e| e.to_string())?;
                            match (r.status, v["id"].as_str()) {
                                (201, Some(id)) => Ok(id.to_string()),
                                _ => Err(format!("create: {} {}", r.status, r.body)),
                            }
                        })
                        .and_then(|id| {
                            let r = c
                                .send(&Request::post(format!("/v1/invoices/{id}/finalize"), key, "{}"))
                                .map_err(|e| e.to_string())?;
                            if r.status == 200 {
                                Ok(id)
                            } else {
                                Err(format!("finalize: {} {}", r.status, r.body))
                            }
                        });
                    match made {
                        Ok(id) => out.lock().expect("lock").push((id, k)),
                        Err(e) => *failed.lock().expect("lock") = Some(e),
                    }
                }
            });
        }
    });
    if let Some(e) = failed.into_inner().expect("lock") {
        return Err(e);
    }
    let mut list = out.into_inner().expect("lock");
    // Cancel them in the order they were made, as the seeded ones are.
    list.sort();
    Ok(list)
}

/// Full cancel body.
pub const CANCEL_BODY: &str = r#"{"reason":"bench"}"#;
/// Line cancel body.
pub const LINE_CANCEL_BODY: &str = r#"{"reason":"bench","lines":[{"product_id":"p2"}]}"#;
/// Void body.
pub const VOID_BODY: &str = r#"{"reason":"bench"}"#;

/// The cancel request for invoice `n`.
pub fn cancel_request(seeded: &Seeded, n: u64) -> Request {
    Request::post(
        format!("/v1/invoices/{}/cancel", invoice_id(n)),
        seeded.key_for(n),
        CANCEL_BODY,
    )
}

/// A small, fast PRNG (xorshift64*) per client thread.
pub struct Rng(u64);

impl Rng {
    /// Seeded from the client index.
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// Next value.
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

impl Target {
    /// The next request of `op`, or `None` when invoices ran out.
    fn request(&self, op: Op, rng: &mut Rng) -> Option<Request> {
        let s = &self.seeded;
        Some(match op {
            Op::Healthz => Request::get("/healthz".into(), None),
            Op::Get => {
                let n = 1 + rng.next() % s.invoices;
                Request::get(format!("/v1/invoices/{}", invoice_id(n)), Some(s.key_for(n)))
            }
            Op::List(i) => Request::get("/v1/invoices?limit=50".into(), Some(&s.listing[i].2)),
            Op::FullCancel => cancel_request(s, self.supply.take()?),
            Op::FullCancelMade => {
                let (id, k) = self.made.take()?;
                Request::post(format!("/v1/invoices/{id}/cancel"), &s.keys[*k], CANCEL_BODY)
            }
            Op::LineCancel => {
                let n = self.supply.take()?;
                Request::post(
                    format!("/v1/invoices/{}/cancel", invoice_id(n)),
                    s.key_for(n),
                    LINE_CANCEL_BODY,
                )
            }
            Op::Void => {
                let n = self.supply.take()?;
                Request::post(format!("/v1/invoices/{}/void", invoice_id(n)), s.key_for(n), VOID_BODY)
            }
            Op::Mix => {
                if rng.next() % 5 == 0 {
                    return self.request(Op::FullCancel, rng);
                }
                return self.request(Op::Get, rng);
            }
        })
    }
}

/// How a run paces its requests.
#[derive(Debug, Clone, Copy)]
pub enum Pace {
    /// Closed loop: each client sends its next request as soon as the last answered.
    Max,
    /// Open loop at this many requests per second in total.
    Rate(f64),
}

/// The outcome of one run.
#[derive(Debug, Clone)]
pub struct RunStats {
    /// Successful requests (or transactions).
    pub ok: u64,
    /// Failed requests: unexpected status or transport error.
    pub errors: u64,
    /// Failed requests by HTTP status (0: transport error).
    pub error_statuses: BTreeMap<u16, u64>,
    /// Wall time of the run.
    pub seconds: f64,
    /// Latency in microseconds.
    pub hist: Histogram<u64>,
    /// Set when the run ended early because invoices ran out.
    pub exhausted: bool,
}

impl RunStats {
    /// Successful requests per second.
    pub fn throughput(&self) -> f64 {
        self.ok as f64 / self.seconds.max(1e-9)
    }

    /// A latency quantile in milliseconds.
    pub fn ms(&self, q: f64) -> f64 {
        self.hist.value_at_quantile(q) as f64 / 1000.0
    }
}

/// A histogram of microseconds from 1 µs to 10 minutes, 3 significant digits.
pub fn new_hist() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 600_000_000, 3).expect("valid histogram bounds")
}

/// Runs `op` with `clients` threads for `duration` at `pace`.
pub fn run(target: &Arc<Target>, op: Op, clients: usize, duration: Duration, pace: Pace) -> RunStats {
    let start_barrier = Arc::new(Barrier::new(clients + 1));
    let origin = Arc::new(Mutex::new(None::<Instant>));
    let handles: Vec<_> = (0..clients)
        .map(|k| {
            let target = Arc::clone(target);
            let barrier = Arc::clone(&start_barrier);
            let origin = Arc::clone(&origin);
            std::thread::spawn(move || {
                let mut client = Client::new(target.addr);
                let mut rng = Rng::new(k as u64 + 1);
                let mut hist = new_hist();
                let (mut ok, mut exhausted) = (0u64, false);
                let mut errors: BTreeMap<u16, u64> = BTreeMap::new();
                barrier.wait();
                let start = origin.lock().expect("origin lock").expect("origin set");
                let deadline = start + duration;
                // Open loop: each client sends on a Poisson schedule of rate/clients
                // (like pgbench -R), so together they form a Poisson stream at `rate`.
                let mut next_at = 0.0_f64;
                loop {
                    let intended = match pace {
                        Pace::Max => Instant::now(),
                        Pace::Rate(rate) => {
                            let u = (rng.next() >> 11) as f64 / (1u64 << 53) as f64;
                            next_at += -(1.0 - u).ln() * clients as f64 / rate;
                            let at = start + Duration::from_secs_f64(next_at);
                            let now = Instant::now();
                            if at > now {
                                std::thread::sleep(at - now);
                            }
                            at
                        }
                    };
                    if intended >= deadline || Instant::now() >= deadline {
                        break;
                    }
                    let Some(req) = target.request(op, &mut rng) else {
                        exhausted = true;
                        break;
                    };
                    match client.send(&req) {
                        Ok(r) if r.status == 200 => {
                            ok += 1;
                            let us = intended.elapsed().as_micros() as u64;
                            hist.saturating_record(us.max(1));
                        }
                        Ok(r) => *errors.entry(r.status).or_default() += 1,
                        Err(_) => *errors.entry(0).or_default() += 1,
                    }
                }
                (hist, ok, errors, exhausted, Instant::now())
            })
        })
        .collect();
    *origin.lock().expect("origin lock") = Some(Instant::now() + Duration::from_millis(20));
    start_barrier.wait();
    let start = origin.lock().expect("origin lock").expect("origin set");
    let mut total = RunStats {
        ok: 0,
        errors: 0,
        error_statuses: BTreeMap::new(),
        seconds: 0.0,
        hist: new_hist(),
        exhausted: false,
    };
    let mut end = start;
    for h in handles {
        let (hist, ok, errors, exhausted, finished) = h.join().expect("client thread");
        total.hist.add(hist).expect("same histogram bounds");
        total.ok += ok;
        for (status, count) in errors {
            total.errors += count;
            *total.error_statuses.entry(status).or_default() += count;
        }
        total.exhausted |= exhausted;
        end = end.max(finished);
    }
    total.seconds = end.duration_since(start).as_secs_f64();
    total
}

/// The result of the hot-spot run.
#[derive(Debug, Clone)]
pub struct HotSpot {
    /// Latency and counts over all requests (200s count as `ok`).
    pub stats: RunStats,
    /// Rounds played.
    pub rounds: u64,
    /// 200 answers.
    pub winners: u64,
    /// 409 answers (the rules refused a cancel that lost the race).
    pub refusals: u64,
    /// Rounds where an invoice did not have exactly one winner.
    pub bad_rounds: u64,
}

/// `clients` clients all try to fully cancel the same `invoices` invoices,
/// round after round; each invoice must have exactly one winner.
pub fn hot_spot(target: &Arc<Target>, clients: usize, invoices: usize, reserved: &[u64]) -> HotSpot {
    let rounds = (reserved.len() / invoices) as u64;
    let mut stats = RunStats {
        ok: 0,
        errors: 0,
        error_statuses: BTreeMap::new(),
        seconds: 0.0,
        hist: new_hist(),
        exhausted: false,
    };
    let (mut winners, mut refusals, mut bad_rounds, mut played) = (0, 0, 0, 0);
    let started = Instant::now();
    for round in 0..rounds {
        let start = round as usize * invoices;
        let ns = Arc::new(reserved[start..start + invoices].to_vec());
        let barrier = Arc::new(Barrier::new(clients));
        let handles: Vec<_> = (0..clients)
            .map(|k| {
                let target = Arc::clone(target);
                let ns = Arc::clone(&ns);
                let barrier = Arc::clone(&barrier);
                std::thread::spawn(move || {
                    let mut client = Client::new(target.addr);
                    let mut rng = Rng::new(round * 1000 + k as u64 + 7);
                    let mut order: Vec<usize> = (0..ns.len()).collect();
                    for i in (1..order.len()).rev() {
                        order.swap(i, (rng.next() % (i as u64 + 1)) as usize);
                    }
                    // Connect before the race starts.
                    let _ = client.send(&Request::get("/healthz".into(), None));
                    let mut hist = new_hist();
                    let mut wins = vec![0u64; ns.len()];
                    let (mut refused, mut errors) = (0u64, 0u64);
                    barrier.wait();
                    for &i in &order {
                        let t0 = Instant::now();
                        match client.send(&cancel_request(&target.seeded, ns[i])) {
                            Ok(r) if r.status == 200 => wins[i] += 1,
                            Ok(r) if r.status == 409 => refused += 1,
                            _ => {
                                errors += 1;
                                continue;
                            }
                        }
                        hist.saturating_record((t0.elapsed().as_micros() as u64).max(1));
                    }
                    (hist, wins, refused, errors)
                })
            })
            .collect();
        let mut wins = vec![0u64; invoices];
        for h in handles {
            let (hist, w, refused, errors) = h.join().expect("client thread");
            stats.hist.add(hist).expect("same histogram bounds");
            for (a, b) in wins.iter_mut().zip(w) {
                *a += b;
            }
            refusals += refused;
            stats.errors += errors;
        }
        winners += wins.iter().sum::<u64>();
        if wins.iter().any(|&w| w != 1) {
            bad_rounds += 1;
        }
        played += 1;
    }
    stats.seconds = started.elapsed().as_secs_f64();
    stats.ok = winners + refusals;
    HotSpot {
        stats,
        rounds: played,
        winners,
        refusals,
        bad_rounds,
    }
}
