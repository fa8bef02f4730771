//! The Prometheus text exposition format (version 0.0.4), shared by the operator's `/metrics`
//! (DESIGN §5) and each route's (DESIGN §4).

use std::fmt::Write as _;

/// A cumulative histogram with fixed upper bounds.
#[derive(Clone, Debug)]
pub struct Histogram {
    bounds: &'static [f64],
    counts: Vec<u64>,
    count: u64,
    sum: f64,
}

impl Histogram {
    /// An empty histogram over `bounds` (ascending, seconds or whatever the metric measures).
    pub fn new(bounds: &'static [f64]) -> Self {
        Self {
            bounds,
            counts: vec![0; bounds.len()],
            count: 0,
            sum: 0.0,
        }
    }

    /// Records one observation.
    pub fn observe(&mut self, v: f64) {
        self.count += 1;
        self.sum += v;
        if let Some(i) = self.bounds.iter().position(|b| v <= *b) {
            self.counts[i] += 1;
        }
    }

    /// How many observations.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Writes `name_bucket`, `name_sum` and `name_count` with extra `labels` (`k="v",...` or empty).
    pub fn write(&self, out: &mut String, name: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        let mut cumulative = 0;
        for (b, c) in self.bounds.iter().zip(&self.counts) {
            cumulative += c;
            let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"{b}\"}} {cumulative}");
        }
        let _ = writeln!(
            out,
            "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {}",
            self.count
        );
        let braces = |s: &str| {
            if s.is_empty() {
                String::new()
            } else {
                format!("{{{s}}}")
            }
        };
        let _ = writeln!(out, "{name}_sum{} {}", braces(labels), self.sum);
        let _ = writeln!(out, "{name}_count{} {}", braces(labels), self.count);
    }
}

/// Writes the `# HELP` and `# TYPE` lines of a metric.
pub fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// Escapes a label value (backslash, quote, newline).
pub fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_cumulative() {
        static B: [f64; 3] = [0.1, 1.0, 10.0];
        let mut h = Histogram::new(&B);
        h.observe(0.05);
        h.observe(0.5);
        h.observe(50.0);
        let mut o = String::new();
        h.write(&mut o, "x", "k=\"v\"");
        assert!(o.contains("x_bucket{k=\"v\",le=\"0.1\"} 1\n"));
        assert!(o.contains("x_bucket{k=\"v\",le=\"1\"} 2\n"));
        assert!(o.contains("x_bucket{k=\"v\",le=\"10\"} 2\n"));
        assert!(o.contains("x_bucket{k=\"v\",le=\"+Inf\"} 3\n"));
        assert!(o.contains("x_count{k=\"v\"} 3\n"));
        let mut o = String::new();
        h.write(&mut o, "y", "");
        assert!(o.contains("y_bucket{le=\"0.1\"} 1\n") && o.contains("y_count 3\n"));
        assert_eq!(label("a\"b\\"), "a\\\"b\\\\");
    }
}
