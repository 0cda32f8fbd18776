//! With feature `tracing`: a span per operation, with counts, and never a
//! personal value in what a subscriber writes.
#![cfg(feature = "tracing")]

use std::io::Write;
use std::sync::{Arc, Mutex};

use custodia_mask::{Detector, Masker};
use tracing_subscriber::fmt::format::FmtSpan;

/// A writer into a shared buffer, for the subscriber.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn spans_carry_counts_and_timings_not_values() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_span_events(FmtSpan::CLOSE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let ticket = "Hi Sarah Whitfield, card 4111 1111 1111 1111, mail sarah.w@example.com";
    tracing::subscriber::with_default(subscriber, || {
        let masked = Masker::new(Detector::new()).mask(ticket).unwrap();
        assert_eq!(masked.report.total(), 3);
        let mut out = Vec::new();
        Masker::new(Detector::new())
            .mask_stream(ticket.as_bytes(), &mut out, None, None)
            .unwrap();
    });
    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    for span in [
        "custodia.mask.detect",
        "custodia.mask.apply",
        "custodia.mask.stream",
    ] {
        assert!(log.contains(span), "no {span} in {log}");
    }
    assert!(log.contains("findings=3"), "{log}");
    assert!(log.contains("time.busy"), "{log}");
    for value in ["Sarah", "Whitfield", "4111", "example.com"] {
        assert!(!log.contains(value), "{value} leaked into {log}");
    }
}
