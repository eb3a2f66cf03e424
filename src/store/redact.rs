//! The one redactor: what may be shown of a DSN (for `Debug`, logs, phpinfo, exception
//! messages), and the scrubbing of a DSN's password out of any text.

/// The DSN with its password (and the value of any option whose name mentions a password or a
/// secret) replaced by `***`, for `Debug`, logs and phpinfo: the one redactor of the crate. A
/// DSN that does not parse is not shown at all (where its password would be cannot be told). A
/// DSN naming several servers is redacted as its first server's, shown with every server.
#[must_use]
pub fn dsn(text: &str) -> String {
    let Some(hosts) = super::hostlist::hosts(text) else {
        return one_server(text);
    };
    let first = super::hostlist::split(text).swap_remove(0);
    let shown = one_server(&first);
    let first_host = hosts.split(',').next().unwrap_or_default().trim();
    match shown.find(&format!("@{first_host}")) {
        Some(at) => format!(
            "{}@{hosts}{}",
            &shown[..at],
            &shown[at + 1 + first_host.len()..]
        ),
        None => match shown.find("://") {
            Some(s) if !first.contains('@') && shown[s + 3..].starts_with(first_host) => format!(
                "{}{hosts}{}",
                &shown[..s + 3],
                &shown[s + 3 + first_host.len()..]
            ),
            _ => "<a DSN that does not parse>".into(),
        },
    }
}

/// [`dsn`] of a DSN naming one server.
fn one_server(text: &str) -> String {
    let Ok(mut url) = url::Url::parse(text) else {
        return "<a DSN that does not parse>".into();
    };
    if url.password().is_some() {
        let _ = url.set_password(Some("***"));
    }
    let sensitive = |k: &str| {
        let k = k.to_ascii_lowercase();
        k.contains("pass") || k.contains("secret") || k.contains("pwd")
    };
    if url.query_pairs().any(|(k, _)| sensitive(&k)) {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                let v = if sensitive(&k) {
                    "***".to_string()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    url.to_string()
}

/// `text` with every occurrence of `password` replaced by `***` (passwords shorter than 4
/// characters are left: they would scrub ordinary words out of messages, and no message is
/// known to hold the password at all; this makes sure).
pub(crate) fn scrub(text: &str, password: Option<&str>) -> String {
    match password {
        Some(p) if p.len() >= 4 => text.replace(p, "***"),
        _ => text.to_string(),
    }
}

/// The password of the DSN, to scrub it from any error text (belt and braces: the mysql crate's
/// messages are not known to contain it).
pub(crate) fn password(dsn: &str) -> Option<String> {
    let url = url::Url::parse(dsn).ok()?;
    let raw = url.password()?;
    let decoded = percent_encoding_decode(raw);
    (!decoded.is_empty()).then_some(decoded)
}

/// Percent-decoding of a URL component, lossy (only used to find the password in messages).
fn percent_encoding_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).ok();
            if let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_hides_passwords() {
        let r = dsn("mysql://tiki:s3cr%40t@db.example:3306/tiki?socket=/x&password=p2");
        assert!(!r.contains("s3cr"), "{r}");
        assert!(!r.contains("p2"), "{r}");
        assert!(r.contains("tiki:***@db.example:3306/tiki"), "{r}");
        assert_eq!(dsn("not a url"), "<a DSN that does not parse>");
        assert_eq!(
            dsn("mysql://u:hunter22@h1:3311,h2:3312/tiki?x=1"),
            "mysql://u:***@h1:3311,h2:3312/tiki?x=1"
        );
        assert_eq!(dsn("mysql://h1,h2/tiki"), "mysql://h1,h2/tiki");
        // Passwords with the URL's own delimiters in them: the DSN does not parse, and nothing
        // of it is shown.
        for text in ["mysql://u:pa/ss@h/db", "mysql://u:p@ss:w0rd?x@h/db"] {
            assert_eq!(dsn(text), "<a DSN that does not parse>", "{text}");
        }
        let r = dsn("mysql://u@h/db?Secret_Key=s1&PWD=s2&x=1");
        assert!(
            !r.contains("s1") && !r.contains("s2") && r.contains("x=1"),
            "{r}"
        );
        assert_eq!(dsn("mysql://root@h/db"), "mysql://root@h/db");
    }

    #[test]
    fn password_is_decoded() {
        assert_eq!(
            password("mysql://u:s3cr%40t@h/db").as_deref(),
            Some("s3cr@t")
        );
        assert_eq!(password("mysql://u@h/db"), None);
    }
}
