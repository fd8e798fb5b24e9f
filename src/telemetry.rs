//! Logging: one tracing subscriber for the process, JSON in containers or pretty for people.
//! RUST_LOG filters as usual (its default is in the settings table). Libraries that log through the `log` crate reach
//! the same subscriber; the HTTP layer's reports of malformed, oversized or abandoned requests
//! are the clients' mistakes, not ours, and arrive at DEBUG instead of ERROR.

use std::str::FromStr;

use tracing_log::LogTracer;
use tracing_subscriber::EnvFilter;

/// The filter when RUST_LOG is unset or invalid: the setting's default.
const DEFAULT_FILTER: &str = crate::config::table::RUST_LOG.default_value();

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LogFormat {
    Json,
    #[default]
    Pretty,
}

impl FromStr for LogFormat {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "json" => Ok(LogFormat::Json),
            "pretty" => Ok(LogFormat::Pretty),
            other => Err(format!("unknown log format '{other}'")),
        }
    }
}

/// Colour only for a person at a terminal: not when stderr is a pipe or a file, nor when
/// NO_COLOR is set (https://no-color.org).
fn colour_wanted() -> bool {
    use std::io::IsTerminal;
    std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty())
        && std::io::stderr().is_terminal()
}

/// Installs the global subscriber writing to `sink`. Safe to call more than once (later calls
/// are ignored), so tests can call it freely.
pub fn init<W>(format: LogFormat, sink: W)
where
    W: for<'writer> tracing_subscriber::fmt::MakeWriter<'writer> + Send + Sync + 'static,
{
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let max_level = filter
        .max_level_hint()
        .and_then(|level| level.into_level())
        .map_or(log::LevelFilter::Trace, |level| {
            log::LevelFilter::from_str(level.as_str()).unwrap_or(log::LevelFilter::Trace)
        });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(colour_wanted())
        .with_writer(sink);
    let installed = match format {
        LogFormat::Json => tracing::subscriber::set_global_default(
            builder
                .json()
                .flatten_event(true)
                .with_current_span(true)
                .finish(),
        ),
        LogFormat::Pretty => tracing::subscriber::set_global_default(builder.compact().finish()),
    };
    if installed.is_ok() && log::set_boxed_logger(Box::new(LogBridge(LogTracer::new()))).is_ok() {
        log::set_max_level(max_level);
    }
}

/// Forwards `log` records to tracing, with the HTTP connection layer's errors lowered to DEBUG:
/// they report requests a client got wrong (bad syntax, oversized heads, bodies cut short).
struct LogBridge(LogTracer);

/// The module of actix-web's HTTP/1 connection handling.
const HTTP_CONNECTION_LAYER: &str = "actix_http::h1";

impl LogBridge {
    fn lowered(level: log::Level, target: &str) -> log::Level {
        if level <= log::Level::Warn && target.starts_with(HTTP_CONNECTION_LAYER) {
            log::Level::Debug
        } else {
            level
        }
    }
}

impl log::Log for LogBridge {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        let level = Self::lowered(metadata.level(), metadata.target());
        let lowered = log::Metadata::builder()
            .level(level)
            .target(metadata.target())
            .build();
        self.0.enabled(&lowered)
    }

    fn log(&self, record: &log::Record<'_>) {
        let level = Self::lowered(record.level(), record.target());
        if level == record.level() {
            return self.0.log(record);
        }
        self.0.log(
            &log::Record::builder()
                .args(*record.args())
                .level(level)
                .target(record.target())
                .module_path(record.module_path())
                .file(record.file())
                .line(record.line())
                .build(),
        );
    }

    fn flush(&self) {
        self.0.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_http_connection_layers_errors_are_lowered() {
        let lowered = LogBridge::lowered(log::Level::Error, "actix_http::h1::dispatcher");
        assert_eq!(lowered, log::Level::Debug);
        let warned = LogBridge::lowered(log::Level::Warn, "actix_http::h1::decoder");
        assert_eq!(warned, log::Level::Debug);
        let ours = LogBridge::lowered(log::Level::Error, "exception_worker::handler");
        assert_eq!(ours, log::Level::Error);
        let info = LogBridge::lowered(log::Level::Info, "actix_http::h1::dispatcher");
        assert_eq!(info, log::Level::Info);
    }
}
