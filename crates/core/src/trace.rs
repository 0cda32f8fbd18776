//! Spans for Custodia operations, for the crates' `tracing` features.

/// Opens a span for one Custodia operation named `$name` at `$level` (a `tracing::Level` constant name:
/// `DEBUG`, `TRACE`, …) for the rest of the enclosing block, with the given
/// fields (`field = value` or `field = tracing::field::Empty` for one
/// recorded later). Nothing when the calling crate's `tracing` feature is
/// off.
///
/// Each crate that traces declares a `tracing` feature (`["dep:tracing"]`)
/// and opens a span per operation with [`op_span!`](crate::op_span), then
/// records counts with [`op_record!`](crate::op_record). The macros expand
/// to nothing when the calling crate's `tracing` feature is off (the `cfg`
/// is evaluated in the caller), so an untraced build carries no cost and no
/// `tracing` dependency.
///
/// The rule the spans keep: **counts, sizes, kinds, versions and outcomes,
/// never a personal value** — no text, no identifier of a subject, no key
/// material. Timings come from the span itself (a subscriber's close event,
/// e.g. `tracing_subscriber::fmt().with_span_events(FmtSpan::CLOSE)`
/// prints `time.busy`). Span names start with `custodia.` and the crate,
/// e.g. `custodia.mask.detect`; the target is the calling module.
#[macro_export]
macro_rules! op_span {
    ($level:ident, $name:literal $(, $($fields:tt)*)?) => {
        #[cfg(feature = "tracing")]
        let _custodia_span = ::tracing::span!(::tracing::Level::$level, $name $(, $($fields)*)?).entered();
    };
}

/// Records `field = value` on the current span (one opened by
/// [`op_span!`](crate::op_span) with the field declared `Empty`). Nothing
/// when the calling crate's `tracing` feature is off.
#[macro_export]
macro_rules! op_record {
    ($($field:ident = $value:expr),+ $(,)?) => {
        #[cfg(feature = "tracing")]
        {
            let span = ::tracing::Span::current();
            $(span.record(stringify!($field), $value);)+
        }
    };
}

/// [`op_span!`](crate::op_span) for a future: `$fut` instrumented with the
/// span (entered on every poll, so the span's time is the future's, not the
/// runtime's). `$fut` unchanged when the calling crate's `tracing` feature
/// is off.
#[macro_export]
macro_rules! op_future {
    ($fut:expr, $level:ident, $name:literal $(, $($fields:tt)*)?) => {{
        let future = $fut;
        #[cfg(feature = "tracing")]
        let future = ::tracing::Instrument::instrument(
            future,
            ::tracing::span!(::tracing::Level::$level, $name $(, $($fields)*)?),
        );
        future
    }};
}
