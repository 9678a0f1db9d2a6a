//! Which machine runs which unit: a pure function of the units, the
//! durations and N, so that every machine of a CI matrix computes the same
//! answer on its own.
//!
//! With durations: greedy longest-processing-time — the longest unit first,
//! each to the machine with the least work so far (the lowest index on a
//! tie). A unit of unknown duration counts as its suite's median (else the
//! median of all known units, else one second).
//!
//! Without: each unit goes to `mix(hash(suite, selector)) mod N` — balanced
//! by count, and adding a test moves no other.

use super::durations::Durations;

/// One thing a machine runs: a test of a listed suite, or a whole suite
/// that could not be listed (`selector: None`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Unit {
    /// The suite's name.
    pub(crate) suite: String,
    /// The test's selector; `None` for the whole suite.
    pub(crate) selector: Option<String>,
}

/// The machine (0-based) of each unit, in the order of `units`, and each
/// machine's expected seconds (`None` without durations).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Assignment {
    pub(crate) machines: Vec<u32>,
    pub(crate) expected: Option<Vec<f64>>,
}

/// Assigns `units` (sorted, without duplicates: the caller's job, since the
/// answer must not depend on the order tools list tests in) to `total`
/// machines.
pub(crate) fn assign(units: &[Unit], total: u32, durations: Option<&Durations>) -> Assignment {
    let total = total.max(1);
    let Some(durations) = durations else {
        let machines = units
            .iter()
            .map(|unit| (mix(stable_hash(unit_key(unit).as_bytes())) % u64::from(total)) as u32)
            .collect();
        return Assignment {
            machines,
            expected: None,
        };
    };
    let seconds = estimates(units, durations);
    let mut order: Vec<usize> = (0..units.len()).collect();
    // Longest first; equal ones in unit order, so the answer is unique.
    order.sort_by(|&a, &b| seconds[b].total_cmp(&seconds[a]).then(a.cmp(&b)));
    let mut load = vec![0.0_f64; total as usize];
    // Tests stored at 0.0 s (faster than the millisecond durations are kept
    // to) load nothing: equal loads go to the machine with fewest tests, so
    // they spread rather than all land on the first.
    let mut tests = vec![0_usize; total as usize];
    let mut machines = vec![0_u32; units.len()];
    for index in order {
        let machine = (0..load.len())
            .min_by(|&a, &b| {
                load[a]
                    .total_cmp(&load[b])
                    .then(tests[a].cmp(&tests[b]))
                    .then(a.cmp(&b))
            })
            .unwrap_or(0);
        machines[index] = machine as u32;
        load[machine] += seconds[index];
        tests[machine] += 1;
    }
    Assignment {
        machines,
        expected: Some(load),
    }
}

/// Each unit's expected seconds (see the module doc).
pub(crate) fn estimates(units: &[Unit], durations: &Durations) -> Vec<f64> {
    let overall = durations.median(None).unwrap_or(1.0);
    let mut suite_medians = std::collections::HashMap::new();
    units
        .iter()
        .map(|unit| {
            durations
                .seconds(&unit.suite, unit.selector.as_deref())
                .or_else(|| {
                    *suite_medians
                        .entry(unit.suite.as_str())
                        .or_insert_with(|| durations.median(Some(&unit.suite)))
                })
                .unwrap_or(overall)
        })
        .collect()
}

/// The median of `values`; `None` when there are none.
pub(crate) fn median(mut values: Vec<f64>) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    Some(if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    })
}

/// `suite NUL selector`, what the hash and the plan's hash see of a unit.
pub(crate) fn unit_key(unit: &Unit) -> String {
    format!("{}\0{}", unit.suite, unit.selector.as_deref().unwrap_or(""))
}

/// FNV-1a (64 bit): the same on every machine and every build, unlike
/// std's hashers, which is what a plan computed on N machines needs.
pub(crate) fn stable_hash(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// MurmurHash3's 64-bit finalizer: every bit of `hash` moves every bit of
/// the result. FNV-1a's low bits are poorly mixed (its lowest bit is the
/// parity of the key's bytes' lowest bits), so `hash mod N` put every one of
/// 40 ids of the shape `tests/test_I.py::test_tI` on one of two machines.
fn mix(mut hash: u64) -> u64 {
    hash ^= hash >> 33;
    hash = hash.wrapping_mul(0xff51_afd7_ed55_8ccd);
    hash ^= hash >> 33;
    hash = hash.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    hash ^ (hash >> 33)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn units(suite: &str, count: usize) -> Vec<Unit> {
        (0..count)
            .map(|i| Unit {
                suite: suite.into(),
                selector: Some(format!("t{i:03}")),
            })
            .collect()
    }

    #[test]
    fn without_durations_adding_a_test_moves_no_other() {
        let before = units("unit", 100);
        let mut after = before.clone();
        after.push(Unit {
            suite: "unit".into(),
            selector: Some("new".into()),
        });
        let a = assign(&before, 4, None);
        let b = assign(&after, 4, None);
        assert_eq!(a.machines[..], b.machines[..100]);
        for machine in 0..4 {
            let count = a.machines.iter().filter(|&&m| m == machine).count();
            assert!((10..=40).contains(&count), "machine {machine} got {count} of 100");
        }
    }

    #[test]
    fn without_durations_ids_alike_but_for_a_number_spread_over_every_machine() {
        // Ids differing only in a number, twice: their bytes' lowest bits
        // have the same parity, which FNV-1a's lowest bit is.
        let list: Vec<Unit> = (0..40)
            .map(|i| Unit {
                suite: "unit".into(),
                selector: Some(format!("tests/test_{i}.py::test_t{i}")),
            })
            .collect();
        for total in [2_u32, 4, 8] {
            let machines = assign(&list, total, None).machines;
            for machine in 0..total {
                let count = machines.iter().filter(|&&m| m == machine).count();
                let fair = 40 / total as usize;
                assert!(
                    (fair / 3..=fair * 2).contains(&count),
                    "machine {machine} of {total} got {count} of 40: {machines:?}"
                );
            }
        }
    }

    #[test]
    fn with_durations_the_slowest_machine_is_near_the_ideal() {
        // Skewed: a few long tests among many short ones.
        let all = units("unit", 60);
        let mut json = String::from(r#"{"suites":{"unit":{"tests":{"#);
        for (i, unit) in all.iter().enumerate() {
            let seconds = if i % 10 == 0 { 20.0 } else { 1.0 + (i % 7) as f64 };
            json.push_str(&format!(
                "\"{}\":{seconds},",
                unit.selector.as_deref().unwrap_or_default()
            ));
        }
        json.pop();
        json.push_str("}}}}");
        let durations = Durations::parse(json.as_bytes()).expect("durations");
        let assignment = assign(&all, 3, Some(&durations));
        let loads = assignment.expected.expect("expected times");
        let total: f64 = loads.iter().sum();
        let slowest = loads.iter().copied().fold(0.0, f64::max);
        assert!(slowest <= total / 3.0 * 1.15, "{loads:?}");
    }

    #[test]
    fn tests_stored_at_zero_seconds_spread_over_the_machines() {
        let all = units("unit", 8);
        let tests: Vec<String> = (all.iter())
            .map(|unit| format!("\"{}\":0.0", unit.selector.as_deref().unwrap_or_default()))
            .collect();
        let json = format!(r#"{{"suites":{{"unit":{{"tests":{{{}}}}}}}}}"#, tests.join(","));
        let durations = Durations::parse(json.as_bytes()).expect("durations");
        let assignment = assign(&all, 2, Some(&durations));
        let first = assignment.machines.iter().filter(|&&m| m == 0).count();
        assert_eq!(first, 4, "{:?}", assignment.machines);
    }

    #[test]
    fn unknown_tests_count_as_their_suites_median() {
        let durations = Durations::parse(br#"{"suites":{"a":{"tests":{"x":1,"y":3,"z":5}}}}"#).expect("durations");
        let list = vec![
            Unit {
                suite: "a".into(),
                selector: Some("new".into()),
            },
            Unit {
                suite: "b".into(),
                selector: None,
            },
        ];
        assert_eq!(estimates(&list, &durations), [3.0, 3.0]);
    }

    #[test]
    fn the_hash_is_fnv1a() {
        assert_eq!(stable_hash(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(stable_hash(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
