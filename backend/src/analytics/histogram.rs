//! Fixed latency buckets, so that percentiles can be read from hourly rollups, which can be
//! added together (across hours, users and servers) where raw latencies can't.

/// Each bucket's upper bound in milliseconds (inclusive); the last bucket has none.
pub const BOUNDS_MS: [i64; 15] = [5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000, 120_000, 300_000];

/// How many buckets, and so how many `hNN` columns a rollup has.
pub const BUCKETS: usize = BOUNDS_MS.len() + 1;

/// The bucket a latency falls in.
pub fn bucket(latency_ms: i64) -> usize {
    BOUNDS_MS.iter().position(|&bound| latency_ms <= bound).unwrap_or(BOUNDS_MS.len())
}

/// The rollup's column names, `h00` to `h15`.
pub fn columns() -> impl Iterator<Item = String> {
    (0..BUCKETS).map(|i| format!("h{i:02}"))
}

/// The `p`th percentile (0–100) of the latencies counted in `counts`, interpolated linearly
/// inside its bucket. Latencies past the last bound are reported as that bound. `0` when empty.
pub fn percentile(counts: &[i64; BUCKETS], p: f64) -> f64 {
    let total: i64 = counts.iter().sum();
    if total <= 0 {
        return 0.0;
    }
    let rank = ((p / 100.0) * total as f64).ceil().max(1.0);
    let mut before = 0.0;
    for (i, &count) in counts.iter().enumerate() {
        let count = count as f64;
        if count > 0.0 && before + count >= rank {
            let lower = if i == 0 { 0.0 } else { BOUNDS_MS[i - 1] as f64 };
            let Some(&upper) = BOUNDS_MS.get(i) else { return lower };
            return lower + (upper as f64 - lower) * (rank - before) / count;
        }
        before += count;
    }
    BOUNDS_MS[BOUNDS_MS.len() - 1] as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(latencies: &[i64]) -> [i64; BUCKETS] {
        let mut counts = [0; BUCKETS];
        for &l in latencies {
            counts[bucket(l)] += 1;
        }
        counts
    }

    #[test]
    fn bounds_are_inclusive_and_the_last_bucket_takes_the_rest() {
        assert_eq!(bucket(0), 0);
        assert_eq!(bucket(5), 0);
        assert_eq!(bucket(6), 1);
        assert_eq!(bucket(1_000), 7);
        assert_eq!(bucket(10_000_000), BUCKETS - 1);
        assert_eq!(columns().last().unwrap(), "h15");
    }

    #[test]
    fn the_p95_of_nothing_is_zero() {
        assert_eq!(percentile(&[0; BUCKETS], 95.0), 0.0);
    }

    #[test]
    fn the_p95_falls_in_the_bucket_of_the_95th_latency() {
        // 95 fast requests and 5 slow ones: the 95th is fast, the 96th slow.
        let mut latencies = vec![20; 95];
        latencies.extend([4_000; 5]);
        let p95 = percentile(&of(&latencies), 95.0);
        assert!((10.0..=25.0).contains(&p95), "{p95}");
        latencies.push(4_000);
        let p95 = percentile(&of(&latencies), 95.0);
        assert!((2_500.0..=5_000.0).contains(&p95), "{p95}");
    }

    #[test]
    fn a_percentile_stays_within_its_bucket() {
        let p = percentile(&of(&[300; 10]), 95.0);
        assert!((250.0..=500.0).contains(&p), "{p}");
        assert_eq!(percentile(&of(&[1_000_000]), 95.0), 300_000.0);
    }
}
