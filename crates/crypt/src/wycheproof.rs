//! Test support: runs a Wycheproof vector file through a checker.

use serde_json::Value;

/// Checks every test of the Wycheproof file `json` (whose algorithm must be
/// `algorithm`) with `check`, after `group` looked at each test group, and
/// returns how many were valid and how many invalid.
pub(crate) fn tally(
    json: &str,
    algorithm: &str,
    group: impl Fn(&Value),
    check: impl Fn(&Value) -> bool,
) -> (u64, u64) {
    let file: Value = serde_json::from_str(json).unwrap();
    assert_eq!(file["algorithm"], algorithm);
    let (mut valid, mut invalid) = (0, 0);
    for g in file["testGroups"].as_array().unwrap() {
        group(g);
        for test in g["tests"].as_array().unwrap() {
            if check(test) {
                valid += 1;
            } else {
                invalid += 1;
            }
        }
    }
    assert_eq!(valid + invalid, file["numberOfTests"].as_u64().unwrap());
    (valid, invalid)
}
