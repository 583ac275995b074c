//! Serializers that keep numbers numbers: NaN becomes 0, ±∞ the largest finite value.
//! Every `f64` that JS sees as `number` is written through these: serde_json would write
//! a NaN or an infinity as `null`, which the types in index.d.ts do not allow.

use serde::Serializer;

pub fn clamp(x: f64) -> f64 {
    if x.is_nan() {
        0.0
    } else {
        x.clamp(f64::MIN, f64::MAX)
    }
}

pub fn num<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(clamp(*x))
}

/// `Option<f64>`: a non-finite value is "unknown", i.e. `null`, which the type allows.
pub fn opt<S: Serializer>(x: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    match x {
        Some(v) if v.is_finite() => s.serialize_some(v),
        _ => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    #[derive(serde::Serialize)]
    struct T {
        #[serde(serialize_with = "super::num")]
        a: f64,
        #[serde(serialize_with = "super::num")]
        b: f64,
        #[serde(serialize_with = "super::opt")]
        c: Option<f64>,
        #[serde(serialize_with = "super::opt")]
        d: Option<f64>,
    }

    #[test]
    fn non_finite_numbers_stay_numbers_or_become_null_where_allowed() {
        let v = serde_json::to_value(T {
            a: f64::NAN,
            b: f64::INFINITY,
            c: Some(f64::NEG_INFINITY),
            d: Some(2.5),
        })
        .unwrap();
        assert_eq!(v["a"], 0.0);
        assert_eq!(v["b"], f64::MAX);
        assert!(v["c"].is_null());
        assert_eq!(v["d"], 2.5);
    }
}
