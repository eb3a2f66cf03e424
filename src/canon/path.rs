//! URL path → entry: what the web server hands PHP as `PHP_SELF` for that path.

/// The entry for a raw URL path (as it appears in the URL, e.g. `/tiki/tiki%20index.php`):
/// percent-decoded once (`+` stays `+`; invalid escapes stay literal) and with `.` and `..`
/// segments resolved.
#[must_use]
pub fn entry_from_url_path(raw_path: &[u8]) -> Vec<u8> {
    let _ = raw_path;
    todo!("canon::path::entry_from_url_path")
}
