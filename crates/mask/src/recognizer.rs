//! [`Recognizer`]: findings from outside the built-in scanner, e.g. a model.

use crate::Finding;

/// A source of findings a host plugs into a [`Detector`](crate::Detector):
/// a named-entity model (ONNX, a remote service), a rule engine, a lookup in
/// the host's directory. No model ships with the crate.
///
/// The detector calls [`Recognizer::recognize`] on each valid UTF-8 stretch
/// of the input (all of it, for text) and merges the findings with the
/// built-in ones by the same overlap rules ([`resolve`](crate::resolve):
/// higher score, then longer span, then earlier start; a finding that
/// loses an overlap keeps its parts outside the winners, so no part of a
/// found value is left in clear). Findings are
/// checked before they are merged: a span that is empty, out of bounds or
/// not on character boundaries is dropped, a score is clamped to `0..=1`
/// (NaN counts as 0), and findings below the detector's threshold are
/// dropped, so a faulty recognizer cannot make masking panic or cut a
/// character in two.
///
/// ```
/// use std::sync::Arc;
/// use custodia_mask::{Detector, Finding, Kind, Recognizer};
///
/// /// Finds the host's product code names (a stand-in for a model).
/// struct CodeNames;
///
/// impl Recognizer for CodeNames {
///     fn name(&self) -> &str {
///         "code_names"
///     }
///     fn recognize(&self, text: &str, findings: &mut Vec<Finding>) {
///         for (start, _) in text.match_indices("Project Bluebird") {
///             findings.push(Finding {
///                 kind: Kind::custom("CODE_NAME").expect("an upper-case name"),
///                 start,
///                 end: start + "Project Bluebird".len(),
///                 score: 0.9,
///                 recognizer: "code_names".into(),
///             });
///         }
///     }
/// }
///
/// let mut detector = Detector::new();
/// detector.add_recognizer(Arc::new(CodeNames));
/// let found = detector.detect("Project Bluebird ships to jane@example.com");
/// let kinds: Vec<&str> = found.iter().map(|f| f.kind.as_str()).collect();
/// assert_eq!(kinds, ["CODE_NAME", "EMAIL"]);
/// ```
pub trait Recognizer: Send + Sync {
    /// A stable name, for logs and [`Detector`](crate::Detector)'s `Debug`.
    fn name(&self) -> &str;

    /// Appends the findings in `text` (UTF-8 byte offsets into `text`).
    fn recognize(&self, text: &str, findings: &mut Vec<Finding>);
}

/// Runs `recognizer` over the valid UTF-8 stretches of `bytes` and appends
/// its checked findings, in `bytes` offsets, to `out`.
pub(crate) fn run(
    recognizer: &dyn Recognizer,
    bytes: &[u8],
    min_score: f32,
    out: &mut Vec<Finding>,
) {
    let mut offset = 0;
    let mut found = Vec::new();
    for chunk in bytes.utf8_chunks() {
        let text = chunk.valid();
        if !text.is_empty() {
            recognizer.recognize(text, &mut found);
            for mut f in found.drain(..) {
                let on_boundaries = f.start < f.end
                    && f.end <= text.len()
                    && text.is_char_boundary(f.start)
                    && text.is_char_boundary(f.end);
                f.score = if f.score.is_nan() {
                    0.0
                } else {
                    f.score.clamp(0.0, 1.0)
                };
                if on_boundaries && f.score >= min_score {
                    f.start += offset;
                    f.end += offset;
                    out.push(f);
                }
            }
        }
        offset += text.len() + chunk.invalid().len();
    }
}
