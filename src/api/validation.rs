//! Admission rules that one object can check by itself, as CEL (`x-kubernetes-validations`), and the
//! same checks in Rust where the engine needs them. Each rule's message names the field and the rule.

use kube::core::Rule;

/// The weights of the first pass of the BIN/IIN check digit.
const W1: [u32; 11] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
/// The weights of the second pass, used when the first gives 10.
const W2: [u32; 11] = [3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2];

/// The check digit of the first 11 digits of a BIN/IIN, or `None` when no digit fits (such numbers
/// are never issued).
pub fn bin_check_digit(first11: &[u32; 11]) -> Option<u32> {
    let s1: u32 = first11.iter().zip(W1).map(|(d, w)| d * w).sum::<u32>() % 11;
    if s1 != 10 {
        return Some(s1);
    }
    let s2: u32 = first11.iter().zip(W2).map(|(d, w)| d * w).sum::<u32>() % 11;
    (s2 != 10).then_some(s2)
}

/// p.2, App.3: whether `s` is a well-formed BIN/IIN: 12 digits whose last is the check digit.
pub fn is_valid_bin(s: &str) -> bool {
    if s.len() != 12 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let digits: Vec<u32> = s.bytes().map(|b| u32::from(b - b'0')).collect();
    let mut first = [0u32; 11];
    first.copy_from_slice(&digits[..11]);
    bin_check_digit(&first) == Some(digits[11])
}

/// Completes 11 digits with their check digit, when one exists (used to make test data).
pub fn complete_bin(first11: &str) -> Option<String> {
    if first11.len() != 11 || !first11.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut first = [0u32; 11];
    for (i, b) in first11.bytes().enumerate() {
        first[i] = u32::from(b - b'0');
    }
    bin_check_digit(&first).map(|c| format!("{first11}{c}"))
}

/// The same check as [`is_valid_bin`], as a CEL rule on a string field.
pub fn bin_rule() -> Rule {
    let digit = |i: usize| format!("int(self.substring({i}, {}))", i + 1);
    let sum = |w: &[u32; 11]| {
        w.iter()
            .enumerate()
            .map(|(i, w)| format!("{w} * {}", digit(i)))
            .collect::<Vec<_>>()
            .join(" + ")
    };
    let s1 = format!("(({}) % 11)", sum(&W1));
    let s2 = format!("(({}) % 11)", sum(&W2));
    let last = digit(11);
    let rule = format!(
        "self.matches('^[0-9]{{12}}$') && ({s1} != 10 ? {s1} == {last} : ({s2} != 10 && {s2} == {last}))"
    );
    Rule::new(rule).message("must be a BIN/IIN: 12 digits with a valid check digit (p.2, App.3)")
}

/// DNS-1123 label: the shape of a Kubernetes object name used in references.
pub fn name_rule() -> Rule {
    Rule::new("self.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$') && size(self) <= 63").message(
        "must be a DNS-1123 label (lower-case letters, digits, '-'; at most 63 characters)",
    )
}

/// A backend URL is http or https only (DESIGN §2).
pub fn backend_url_rule() -> Rule {
    Rule::new("isURL(self) && (url(self).getScheme() == 'http' || url(self).getScheme() == 'https') && url(self).getHostname() != ''")
        .message("backend url must be an absolute http:// or https:// URL with a host")
}

/// Every element of a list of CIDRs is a CIDR.
pub fn cidr_list_rule() -> Rule {
    Rule::new("self.all(c, isCIDR(c))")
        .message("every entry must be a CIDR such as 10.0.0.0/24 or 2001:db8::/64")
}

/// A field that may not change once set.
pub fn immutable_rule(what: &str) -> Rule {
    Rule::new("self == oldSelf").message(kube::core::Message::Message(format!(
        "{what} is immutable once set"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_bins() {
        // Check digits computed by hand: 1*1+2*2+...; 12 digits with the right last digit pass.
        let b = complete_bin("99034000123").unwrap();
        assert!(is_valid_bin(&b));
        let mut wrong = b.clone();
        let last = wrong.pop().unwrap().to_digit(10).unwrap();
        wrong.push(char::from_digit((last + 1) % 10, 10).unwrap());
        assert!(!is_valid_bin(&wrong));
        assert!(!is_valid_bin("12345678901"));
        assert!(!is_valid_bin("12345678901a"));
        assert!(!is_valid_bin(""));
    }

    #[test]
    fn second_pass_is_used_when_first_gives_ten() {
        // Find 11 digits whose first pass is 10 and check that the second pass decides.
        let mut found = false;
        for n in 0..2000u64 {
            let s = format!("{:011}", 10_000_000_000u64 + n);
            let mut first = [0u32; 11];
            for (i, b) in s.bytes().enumerate() {
                first[i] = u32::from(b - b'0');
            }
            let s1: u32 = first.iter().zip(W1).map(|(d, w)| d * w).sum::<u32>() % 11;
            if s1 == 10 {
                let s2: u32 = first.iter().zip(W2).map(|(d, w)| d * w).sum::<u32>() % 11;
                assert_eq!(bin_check_digit(&first), (s2 != 10).then_some(s2));
                found = true;
            }
        }
        assert!(found);
    }
}
