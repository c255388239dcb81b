//! The `org.opencontainers.image.created` time of a push: `SOURCE_DATE_EPOCH` when set (the
//! reproducible-builds convention), else the newest modification time among the sources.

use std::path::PathBuf;

/// The time as RFC 3339 (`2026-11-24T10:40:00Z`), or none without sources.
pub fn created(sources: &[PathBuf]) -> Option<String> {
    if let Ok(epoch) = std::env::var("SOURCE_DATE_EPOCH") {
        return epoch.trim().parse::<i64>().ok().and_then(rfc3339);
    }
    sources
        .iter()
        .filter_map(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok())
        .max()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .and_then(|d| i64::try_from(d.as_secs()).ok())
        .and_then(rfc3339)
}

fn rfc3339(secs: i64) -> Option<String> {
    jiff::Timestamp::from_second(secs)
        .ok()
        .map(|t| t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_dates() {
        assert_eq!(rfc3339(0).unwrap(), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400).unwrap(), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_795_516_800).unwrap(), "2026-11-24T10:40:00Z");
        assert_eq!(rfc3339(i64::MAX), None);
    }
}
