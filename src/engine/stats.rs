//! Robust statistics over (time, value) series. Nothing here returns NaN:
//! too little data is `None`.

/// Largest series the pairwise statistics look at; longer series are thinned evenly
/// (O(n²) pairs: 128 points are 8128 pairs).
pub const MAX_PAIRWISE_POINTS: usize = 128;

/// Arithmetic mean; `None` when empty or not finite.
pub fn mean(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let m = values.iter().sum::<f64>() / values.len() as f64;
    m.is_finite().then_some(m)
}

/// The q-quantile (0..=1) by linear interpolation between order statistics.
pub fn quantile(values: &[f64], q: f64) -> Option<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() || !q.is_finite() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let pos = q.clamp(0.0, 1.0) * (v.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    Some(v[lo] + (v[hi] - v[lo]) * (pos - lo as f64))
}

pub fn median(values: &[f64]) -> Option<f64> {
    quantile(values, 0.5)
}

/// Evenly thins a series to at most `max` points, keeping the first and last.
pub fn thin(points: &[(f64, f64)], max: usize) -> Vec<(f64, f64)> {
    if points.len() <= max || max < 2 {
        return points.to_vec();
    }
    let step = (points.len() - 1) as f64 / (max - 1) as f64;
    (0..max)
        .map(|i| points[((i as f64 * step).round() as usize).min(points.len() - 1)])
        .collect()
}

/// A robust trend: Theil–Sen slope with its confidence interval and the
/// Mann–Kendall test of monotonic trend.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Trend {
    /// Median of pairwise slopes, in value units per time unit.
    pub slope: f64,
    /// Lower and upper bounds of the slope's ~95 % confidence interval.
    pub slope_low: f64,
    pub slope_high: f64,
    /// Mann–Kendall S statistic normalised to a z score (positive: rising).
    pub z: f64,
    /// Kendall's tau in -1..=1: the share of concordant minus discordant pairs.
    pub tau: f64,
    /// Points used (after thinning).
    pub n: usize,
}

/// Theil–Sen and Mann–Kendall over (t, value); needs at least `min_points` points with
/// distinct times. Points are thinned to `MAX_PAIRWISE_POINTS`.
pub fn trend(points: &[(f64, f64)], min_points: usize) -> Option<Trend> {
    let pts: Vec<(f64, f64)> = thin(
        &points
            .iter()
            .copied()
            .filter(|(t, v)| t.is_finite() && v.is_finite())
            .collect::<Vec<_>>(),
        MAX_PAIRWISE_POINTS,
    );
    let n = pts.len();
    if n < min_points.max(3) {
        return None;
    }
    let mut slopes = Vec::with_capacity(n * (n - 1) / 2);
    let mut s: i64 = 0;
    for i in 0..n {
        for j in (i + 1)..n {
            let dt = pts[j].0 - pts[i].0;
            let dv = pts[j].1 - pts[i].1;
            if dt != 0.0 {
                slopes.push(dv / dt);
                s += (dv * dt.signum()).partial_cmp(&0.0).map_or(0, |o| o as i64);
            }
        }
    }
    if slopes.len() < 3 {
        return None;
    }
    slopes.sort_by(f64::total_cmp);
    let m = slopes.len();
    let nf = n as f64;
    let var_s = nf * (nf - 1.0) * (2.0 * nf + 5.0) / 18.0;
    let sd = var_s.sqrt();
    let z = if s > 0 {
        (s as f64 - 1.0) / sd
    } else if s < 0 {
        (s as f64 + 1.0) / sd
    } else {
        0.0
    };
    let c = 1.96 * sd;
    let lo = (((m as f64 - c) / 2.0).floor().max(0.0) as usize).min(m - 1);
    let hi = (((m as f64 + c) / 2.0).ceil() as usize).min(m - 1);
    let slope = median(&slopes)?;
    Some(Trend {
        slope,
        slope_low: slopes[lo],
        slope_high: slopes[hi],
        z,
        tau: s as f64 / m as f64,
        n,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Small deterministic generator (xorshift) so the property tests need no crate.
    pub(crate) struct Rng(u64);
    impl Rng {
        pub(crate) fn new(seed: u64) -> Rng {
            Rng(seed.wrapping_mul(0x9E3779B97F4A7C15) | 1)
        }
        pub(crate) fn next_f64(&mut self) -> f64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    fn line(n: usize, a: f64, b: f64) -> Vec<(f64, f64)> {
        (0..n).map(|i| (i as f64, a + b * i as f64)).collect()
    }

    #[test]
    fn empty_and_short_input() {
        assert_eq!(mean(&[]), None);
        assert_eq!(median(&[]), None);
        assert_eq!(trend(&[], 3), None);
        assert_eq!(trend(&line(2, 0.0, 1.0), 2), None);
        assert!(trend(&line(3, 0.0, 1.0), 3).is_some());
        assert_eq!(trend(&[(1.0, 1.0), (1.0, 2.0), (1.0, 3.0)], 3), None);
        assert_eq!(quantile(&[f64::NAN], 0.5), None);
    }

    #[test]
    fn quantiles() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[1.0, 2.0, 3.0, 4.0]), Some(2.5));
        assert_eq!(quantile(&[1.0, 2.0, 3.0, 4.0, 5.0], 0.95), Some(4.8));
        assert_eq!(quantile(&[7.0], 0.95), Some(7.0));
    }

    #[test]
    fn exact_line() {
        let t = trend(&line(50, 10.0, 2.5), 10).unwrap();
        assert_eq!(t.slope, 2.5);
        assert_eq!((t.slope_low, t.slope_high), (2.5, 2.5));
        assert!(t.z > 5.0);
        assert_eq!(t.tau, 1.0);
    }

    #[test]
    fn flat_noise_has_no_significant_trend() {
        let mut rng = Rng::new(7);
        let pts: Vec<(f64, f64)> = (0..120)
            .map(|i| (i as f64, 100.0 + rng.next_f64() * 10.0))
            .collect();
        let t = trend(&pts, 10).unwrap();
        assert!(t.slope_low <= 0.0 && t.slope_high >= 0.0, "{t:?}");
        assert!(t.z.abs() < 3.0);
    }

    #[test]
    fn robust_to_outliers() {
        let mut pts = line(60, 0.0, 1.0);
        for i in (0..60).step_by(10) {
            pts[i].1 += 1e9;
        }
        let t = trend(&pts, 10).unwrap();
        assert!((t.slope - 1.0).abs() < 1e-9, "{t:?}");
    }

    #[test]
    fn thinning_keeps_ends() {
        let pts = line(1000, 0.0, 1.0);
        let t = thin(&pts, 128);
        assert_eq!(t.len(), 128);
        assert_eq!(t[0], pts[0]);
        assert_eq!(t[127], pts[999]);
    }

    /// Property: shifting values or times leaves the slope unchanged; scaling values
    /// scales it; results are never NaN; the interval contains the slope.
    #[test]
    fn property_shift_scale_and_no_nan() {
        let mut rng = Rng::new(42);
        for case in 0..300 {
            let n = 3 + (rng.next_f64() * 150.0) as usize;
            let slope = (rng.next_f64() - 0.5) * 1e6;
            let noise = rng.next_f64() * 1e7;
            let pts: Vec<(f64, f64)> = (0..n)
                .map(|i| {
                    let t = i as f64 * 0.25 + rng.next_f64() * 0.01;
                    (t, 1e8 + slope * t + (rng.next_f64() - 0.5) * noise)
                })
                .collect();
            let Some(base) = trend(&pts, 3) else { continue };
            for v in [
                base.slope,
                base.slope_low,
                base.slope_high,
                base.z,
                base.tau,
            ] {
                assert!(v.is_finite(), "case {case}: {base:?}");
            }
            assert!(base.slope_low <= base.slope && base.slope <= base.slope_high);
            assert!((-1.0..=1.0).contains(&base.tau));
            let shifted: Vec<_> = pts.iter().map(|(t, v)| (t + 1000.0, v + 5e8)).collect();
            let s = trend(&shifted, 3).unwrap();
            let tol = 1e-6 * (1.0 + base.slope.abs());
            assert!(
                (s.slope - base.slope).abs() <= tol * 1e3,
                "case {case}: {s:?} vs {base:?}"
            );
            assert_eq!(s.z, base.z);
            let scaled: Vec<_> = pts.iter().map(|(t, v)| (*t, v * 3.0)).collect();
            let k = trend(&scaled, 3).unwrap();
            assert!(
                (k.slope - 3.0 * base.slope).abs() <= 3.0 * tol,
                "case {case}"
            );
            assert_eq!(k.z, base.z);
        }
    }

    #[test]
    fn never_panics_on_odd_input() {
        let odd = [
            f64::NAN,
            f64::INFINITY,
            -f64::INFINITY,
            0.0,
            -0.0,
            1e308,
            -1e308,
        ];
        let mut pts = Vec::new();
        for (i, a) in odd.iter().enumerate() {
            for b in odd {
                pts.push((*a, b));
                pts.push((i as f64, b));
            }
        }
        let _ = trend(&pts, 3);
        let vals: Vec<f64> = pts.iter().map(|p| p.1).collect();
        let _ = quantile(&vals, 0.95);
        assert!(mean(&vals).is_none_or(f64::is_finite));
    }
}
