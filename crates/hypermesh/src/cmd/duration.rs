//! The one duration syntax of the command line: `--interval`, `--duration` and the like.

use std::time::Duration;

/// Parses a duration: a number of seconds, milliseconds, minutes or hours (`5`, `0.5s`,
/// `250ms`, `2m`, `1h`), or any form humantime reads (`1h 30m`, `2min`).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let scale = match unit {
        "" | "s" => Some(1.0),
        "ms" => Some(1e-3),
        "m" => Some(60.0),
        "h" => Some(3600.0),
        _ => None,
    };
    match (number.parse::<f64>(), scale) {
        (Ok(n), Some(scale)) => Duration::try_from_secs_f64(n * scale).map_err(|e| format!("{text:?}: {e}")),
        _ => humantime::parse_duration(text).map_err(|e| format!("{text:?}: {e} (try 500ms, 1s, 2m)")),
    }
}

/// Parses an interval between two readings: a [`parse_duration`] between 10 ms and one day.
pub fn parse_interval(text: &str) -> Result<Duration, String> {
    let d = parse_duration(text)?;
    if d < Duration::from_millis(10) || d > Duration::from_secs(86_400) {
        return Err(format!("{text:?}: the interval must be between 10ms and 24h"));
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("5"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("0.5s"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("1.5m"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("1h 30m"), Ok(Duration::from_secs(5400)));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("5 parsecs").is_err());
    }

    #[test]
    fn intervals() {
        assert_eq!(parse_interval("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_interval("2m"), Ok(Duration::from_secs(120)));
        assert!(parse_interval("1ms").is_err());
        assert!(parse_interval("soon").is_err());
    }
}
