//! The physical models around the core: how long things take and how memory grows. Pure
//! functions and small state machines with integer arithmetic (or IEEE-exact float operations
//! only) so that a run is byte-identical on every platform: no `exp`/`ln` from the platform's
//! libm, whose last bits differ between native and wasm32.

/// Bytes a rate allows in `dt_ms`, carrying the fractional remainder between calls so that
/// many small steps add up to exactly `rate * total time`.
#[derive(Clone, Debug, Default)]
pub struct RateCarry {
    /// Remainder in byte-milliseconds (bytes * 1000).
    rem: u128,
}

impl RateCarry {
    pub fn take(&mut self, rate_per_s: u64, dt_ms: u64) -> u64 {
        let total = rate_per_s as u128 * dt_ms as u128 + self.rem;
        self.rem = total % 1000;
        (total / 1000) as u64
    }
}

/// Microseconds needed to move `bytes` at `rate` bytes/s (rounded up, at least 1 for > 0 bytes).
pub fn transfer_us(bytes: u64, rate: u64) -> u64 {
    if bytes == 0 {
        return 0;
    }
    if rate == 0 {
        return u64::MAX / 4;
    }
    ((bytes as u128 * 1_000_000).div_ceil(rate as u128)) as u64
}

/// Bytes that `rate` moves in `us` microseconds (rounded down).
pub fn bytes_in_us(rate: u64, us: u64) -> u64 {
    ((rate as u128 * us as u128) / 1_000_000) as u64
}

/// Milliseconds to process `bytes` at `rate` bytes/s (rounded up, at least 1).
pub fn duration_ms(bytes: u64, rate: u64) -> u64 {
    (transfer_us(bytes, rate).div_ceil(1000)).max(1)
}

/// `e^x` for `x <= 0` using only +, -, *, / (deterministic on every target): halve the
/// argument until small, sum a Taylor series, square back.
pub fn det_exp_neg(x: f64) -> f64 {
    if x.is_nan() || x > 0.0 {
        return 1.0;
    }
    if x < -745.0 {
        return 0.0;
    }
    let mut y = x;
    let mut halvings = 0;
    while y < -0.125 {
        y /= 2.0;
        halvings += 1;
    }
    let mut term = 1.0;
    let mut sum = 1.0;
    for k in 1..=12 {
        term *= y / k as f64;
        sum += term;
    }
    for _ in 0..halvings {
        sum *= sum;
    }
    sum
}

/// Copy-on-write during a BGSAVE: each write touches one random page of the dataset; a page is
/// copied the first time it is touched after the fork. With `n` writes over `P` pages the
/// expected copied fraction is `1 - (1 - 1/P)^n ~= 1 - e^(-n/P)`, so memory grows fast at
/// first and levels off at the dataset size.
#[derive(Clone, Debug, Default)]
pub struct CowModel {
    pub writes: u64,
    pub current: u64,
    pub peak: u64,
}

impl CowModel {
    pub fn on_writes(&mut self, writes: u64, dataset: u64, page: u64) {
        self.writes += writes;
        let pages = (dataset / page.max(1)).max(1) as f64;
        let frac = 1.0 - det_exp_neg(-(self.writes as f64) / pages);
        let bytes = (frac * dataset as f64) as u64;
        self.current = bytes.min(dataset);
        self.peak = self.peak.max(self.current);
    }
}

/// Fork pause: `time_per_gb` for each GiB of dataset (page tables are copied), at least 1 ms.
pub fn fork_ms(dataset: u64, time_per_gb_ms: u64) -> u64 {
    ((dataset as u128 * time_per_gb_ms as u128).div_ceil(1 << 30) as u64).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_carry_adds_up_exactly() {
        let mut c = RateCarry::default();
        let total: u64 = (0..1000).map(|_| c.take(12_345, 7)).sum();
        assert_eq!(total, 12_345 * 7);
    }

    #[test]
    fn det_exp_matches_libm_closely() {
        for x in [0.0, -0.01, -0.5, -1.0, -3.3, -10.0, -50.0] {
            let a = det_exp_neg(x);
            let b = f64::exp(x);
            assert!(
                (a - b).abs() <= 1e-12 * b.max(1e-300) + 1e-300,
                "{x}: {a} vs {b}"
            );
        }
        assert_eq!(det_exp_neg(-1000.0), 0.0);
    }

    #[test]
    fn cow_grows_then_levels_off_at_the_dataset() {
        let mut c = CowModel::default();
        let d = 1u64 << 30;
        c.on_writes(1000, d, 4096);
        let early = c.current;
        assert!(early > 3_000_000 && early <= 1000 * 4096, "{early}");
        c.on_writes(100_000_000, d, 4096);
        assert!(c.current > d / 100 * 99);
        assert!(c.peak >= c.current);
    }

    #[test]
    fn timings() {
        assert_eq!(transfer_us(125, 125_000_000), 1);
        assert_eq!(duration_ms(2 << 30, 400 << 20), 5120);
        assert_eq!(fork_ms(2 << 30, 15), 30);
        assert_eq!(bytes_in_us(1_000_000, 1500), 1500);
    }
}
