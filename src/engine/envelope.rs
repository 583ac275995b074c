//! Lower envelope of a noisy series: the minimum of each fixed-length time bucket,
//! kept in a bounded ring. Values just after a full GC are marked, so an analysis
//! can tell growth that survived a collection from garbage waiting for one.

use super::ring::Ring;

/// What a value is: a plain sample, or a reading right after a full collection (V8's
/// own, which can overstate the live set, or a forced one, which is exact).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reading {
    Sample,
    AfterGc,
    AfterForcedGc,
}

/// One closed bucket: the time and value of its minimum, and the best reading that fell
/// in the bucket.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EnvelopePoint {
    pub t: u64,
    pub value: f64,
    pub reading: Reading,
}

impl EnvelopePoint {
    pub fn after_gc(&self) -> bool {
        self.reading != Reading::Sample
    }
}

#[derive(Debug, Clone, Copy)]
struct Open {
    start: u64,
    min_t: u64,
    min: f64,
    reading: Reading,
}

#[derive(Debug, Clone)]
pub struct Envelope {
    bucket_ms: u64,
    open: Option<Open>,
    points: Ring<EnvelopePoint>,
}

impl Envelope {
    pub fn new(bucket_ms: u64, capacity: usize) -> Envelope {
        Envelope {
            bucket_ms: bucket_ms.max(1),
            open: None,
            points: Ring::new(capacity),
        }
    }

    /// Adds a value; returns true when a bucket closed (time to re-evaluate).
    /// Values that are not finite or go back in time are ignored.
    pub fn add(&mut self, t: u64, value: f64, reading: Reading) -> bool {
        if !value.is_finite() || value < 0.0 {
            return false;
        }
        let mut closed = false;
        match &mut self.open {
            Some(o) if t < o.start => return false,
            Some(o) if t - o.start < self.bucket_ms => {
                if value < o.min {
                    o.min = value;
                    o.min_t = t;
                }
                o.reading = o.reading.max(reading);
                return false;
            }
            Some(o) => {
                self.points.push(EnvelopePoint {
                    t: o.min_t,
                    value: o.min,
                    reading: o.reading,
                });
                closed = true;
            }
            None => {}
        }
        self.open = Some(Open {
            start: t,
            min_t: t,
            min: value,
            reading,
        });
        closed
    }

    pub fn points(&self) -> impl DoubleEndedIterator<Item = &EnvelopePoint> + '_ {
        self.points.iter()
    }

    pub fn len(&self) -> usize {
        self.points.len()
    }

    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    pub fn clear(&mut self) {
        self.points.clear();
        self.open = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_minimum_of_each_bucket() {
        let mut e = Envelope::new(1000, 8);
        assert!(!e.add(0, 5.0, Reading::Sample));
        assert!(!e.add(400, 3.0, Reading::Sample));
        assert!(!e.add(800, 4.0, Reading::AfterGc));
        assert!(e.add(1000, 9.0, Reading::Sample));
        let p: Vec<_> = e.points().copied().collect();
        assert_eq!(
            p,
            vec![EnvelopePoint {
                t: 400,
                value: 3.0,
                reading: Reading::AfterGc
            }]
        );
        assert!(p[0].after_gc());
        assert!(!e.add(1500, 1.0, Reading::AfterForcedGc));
        assert!(!e.add(1600, 1.5, Reading::AfterGc));
        assert!(e.add(2100, 2.0, Reading::Sample));
        let last = *e.points().last().unwrap();
        assert_eq!((last.value, last.reading), (1.0, Reading::AfterForcedGc));
    }

    #[test]
    fn ignores_bad_and_backward_values() {
        let mut e = Envelope::new(1000, 8);
        e.add(5000, 1.0, Reading::Sample);
        assert!(!e.add(4000, 0.5, Reading::Sample));
        assert!(!e.add(5100, f64::NAN, Reading::Sample));
        assert!(!e.add(5200, -1.0, Reading::Sample));
        e.add(6000, 2.0, Reading::Sample);
        assert_eq!(e.points().next().unwrap().value, 1.0);
    }

    #[test]
    fn bounded() {
        let mut e = Envelope::new(10, 4);
        for i in 0..100u64 {
            e.add(i * 10, i as f64, Reading::Sample);
        }
        assert_eq!(e.len(), 4);
        e.clear();
        assert!(e.is_empty());
    }
}
