//! Logging through `tracing`, as text or JSON; Prometheus metrics
//! ([`metrics`]); OpenTelemetry traces over OTLP/HTTP ([`otlp`]). Request
//! and response bodies are never logged, so secrets in them never reach the
//! logs, the metrics or the traces.

pub mod metrics;
pub mod otlp;

use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer as _};

use crate::config::LogFormat;

/// Installs the global subscriber: the log formatter (filtered by
/// `filter`), the database-pool acquire timer of [`metrics`], and a slot
/// that exports traces once [`otlp::enable`] is called.
pub fn init(format: LogFormat, filter: &str) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let fmt = tracing_subscriber::fmt::layer();
    let fmt = match format {
        // The writer escapes every control byte, so the formatter's own
        // colour codes are off.
        LogFormat::Text => fmt
            .with_ansi(false)
            .with_writer(EscapedStderr)
            .with_filter(filter)
            .boxed(),
        LogFormat::Json => fmt
            .with_writer(std::io::stderr)
            .json()
            .flatten_event(true)
            .with_filter(filter)
            .boxed(),
    };
    let _ = tracing_subscriber::registry()
        .with(otlp::layer())
        .with(fmt)
        .with(metrics::AcquireTimer::layer())
        .try_init();
    log_panics_once();
}

/// Panics are logged as one error event with their location, and no
/// backtrace is captured (see `api::panics`).
fn log_panics_once() {
    std::panic::set_hook(Box::new(|info| {
        let location = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        tracing::error!(panic.location = %location, "panic while handling a request");
    }));
}

/// Standard error for text logs, with every control character inside an
/// event escaped, so that a path or header with a newline or an escape
/// sequence cannot forge a log line or drive the terminal. The formatter
/// writes each event, ending in its newline, with one write.
#[derive(Clone, Copy)]
struct EscapedStderr;

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for EscapedStderr {
    type Writer = EscapedWriter;

    fn make_writer(&'a self) -> Self::Writer {
        EscapedWriter
    }
}

struct EscapedWriter;

impl std::io::Write for EscapedWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let (line, newline) = match buf.strip_suffix(b"\n") {
            Some(line) => (line, true),
            None => (buf, false),
        };
        let mut out = escape_controls(line);
        if newline {
            out.push(b'\n');
        }
        std::io::stderr().lock().write_all(&out)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

/// `\n`, `\r`, ESC and every other C0 control (and DEL) as `\xNN`.
fn escape_controls(line: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(line.len());
    for &b in line {
        if (b < 0x20 && b != b'\t') || b == 0x7f {
            out.extend_from_slice(format!("\\x{b:02x}").as_bytes());
        } else {
            out.push(b);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn control_characters_cannot_forge_lines() {
        let escaped = super::escape_controls(b"GET /a\nforged line \x1b[31mred");
        assert_eq!(escaped, b"GET /a\\x0aforged line \\x1b[31mred".to_vec());
    }
}
