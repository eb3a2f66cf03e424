//! What the command prints: JSON for machines (`--json`, on stdout, errors too), aligned
//! tables and `label: value` lines for people, and a token row in both forms (Tiki's column
//! names in JSON, as the PHP API has them).

use super::exit::Failure;
use serde_json::{Value, json};
use tiki_tokens::store::TokenRow;

/// Prints `value` as JSON on stdout.
pub fn print_json(value: &Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).unwrap_or_else(|_| "null".into())
    );
}

/// Prints a failure: JSON on stdout with `--json`, else a line on stderr.
pub fn print_failure(failure: &Failure, json: bool) {
    if json {
        print_json(&json!({
            "error": {
                "kind": failure.exit.kind(),
                "exit": failure.exit.code(),
                "message": failure.message,
            }
        }));
    } else {
        eprintln!("tiki-tokens: {}", failure.message);
    }
}

/// Prints rows as a table with a header, columns padded to their widest cell.
pub fn print_table(header: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        println!("{}", padded.join("  ").trim_end());
    };
    line(header.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
}

/// Prints `label: value` lines, labels padded.
pub fn print_fields(fields: &[(&str, String)]) {
    let width = fields.iter().map(|(l, _)| l.len()).max().unwrap_or(0) + 1;
    for (label, value) in fields {
        println!("{:<width$} {value}", format!("{label}:"));
    }
}

/// A row as JSON, with Tiki's column names (`user` and `data` only when not NULL).
pub fn row_json(r: &TokenRow) -> Value {
    let mut v = json!({
        "tokenId": r.token_id,
        "creation": r.creation,
        "timeout": r.timeout,
        "expires": expires(&r.creation, r.timeout),
        "hits": r.hits,
        "maxhits": r.max_hits,
        "token": r.token,
        "entry": String::from_utf8_lossy(&r.entry),
        "parameters": r.parameters,
        "groups": r.groups,
        "email": r.email,
        "createUser": r.create_user,
        "userPrefix": r.user_prefix,
    });
    if let Some(map) = v.as_object_mut() {
        for (name, value) in [("user", &r.user), ("data", &r.data)] {
            if let Some(value) = value {
                map.insert(name.into(), Value::from(value.as_str()));
            }
        }
    }
    v
}

/// A row as `label: value` lines for `show`.
pub fn row_fields(r: &TokenRow) -> Vec<(&'static str, String)> {
    let mut out = vec![
        ("tokenId", r.token_id.to_string()),
        (
            "token",
            r.token.clone().unwrap_or_else(|| "(none yet)".into()),
        ),
        ("entry", String::from_utf8_lossy(&r.entry).into_owned()),
        ("parameters", r.parameters.clone()),
        ("groups", r.groups.clone()),
        ("created", r.creation.clone()),
        ("timeout", timeout_text(r.timeout)),
        ("expires", expires(&r.creation, r.timeout)),
        ("hits", hits_text(r.hits, r.max_hits)),
        ("email", r.email.clone()),
        ("createUser", r.create_user.clone()),
        ("userPrefix", r.user_prefix.clone()),
    ];
    if let Some(user) = &r.user {
        out.push(("user", user.clone()));
    }
    if let Some(data) = &r.data {
        out.push(("data", data.clone()));
    }
    out
}

/// A row as a line of `list`'s table: the token shortened to its first 8 characters (`show`
/// and `--json` give it whole).
pub fn row_cells(r: &TokenRow) -> Vec<String> {
    let token = r
        .token
        .as_deref()
        .map_or_else(|| "-".into(), |t| format!("{}…", t.get(..8).unwrap_or(t)));
    vec![
        r.token_id.to_string(),
        r.creation.clone(),
        expires(&r.creation, r.timeout),
        hits_text(r.hits, r.max_hits),
        String::from_utf8_lossy(&r.entry).into_owned(),
        r.parameters.clone(),
        r.groups.clone(),
        token,
    ]
}

/// The header of [`row_cells`].
pub const ROW_HEADER: [&str; 8] = [
    "ID",
    "CREATED",
    "EXPIRES",
    "HITS",
    "ENTRY",
    "PARAMETERS",
    "GROUPS",
    "TOKEN",
];

fn timeout_text(timeout: i64) -> String {
    if timeout == -1 {
        "never expires".into()
    } else {
        format!("{timeout} s")
    }
}

fn hits_text(hits: i64, max: i64) -> String {
    if hits == -1 {
        "unlimited".into()
    } else {
        format!("{hits} of {max} left")
    }
}

/// `creation + timeout` in the database's own rendering (`YYYY-MM-DD HH:MM:SS`, its time
/// zone), `never` for -1; the creation text as is when it does not parse.
pub fn expires(creation: &str, timeout: i64) -> String {
    if timeout == -1 {
        return "never".into();
    }
    parse_datetime(creation)
        .and_then(|t| t.checked_add(timeout))
        .map_or_else(|| creation.to_string(), format_datetime)
}

/// Seconds since 1970-01-01 00:00:00 of a civil date and time (no time zone involved).
fn parse_datetime(text: &str) -> Option<i64> {
    let (date, time) = text.split_once(' ')?;
    let d: Vec<i64> = date
        .split('-')
        .map(str::parse)
        .collect::<Result<_, _>>()
        .ok()?;
    let t: Vec<i64> = time
        .split(':')
        .map(str::parse)
        .collect::<Result<_, _>>()
        .ok()?;
    let ([y, m, day], [h, min, s]) = (d.as_slice(), t.as_slice()) else {
        return None;
    };
    Some(days_from_civil(*y, *m, *day) * 86_400 + h * 3600 + min * 60 + s)
}

fn format_datetime(secs: i64) -> String {
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_is_creation_plus_timeout() {
        assert_eq!(expires("2012-02-03 15:25:07", 5), "2012-02-03 15:25:12");
        assert_eq!(
            expires("2024-02-28 23:00:00", 86_400 + 3600),
            "2024-03-01 00:00:00"
        );
        assert_eq!(expires("1999-12-31 23:59:59", 1), "2000-01-01 00:00:00");
        assert_eq!(expires("2012-02-03 15:25:07", -1), "never");
        assert_eq!(expires("garbage", 5), "garbage");
        for days in [-1000, 0, 11_016, 20_000, 60_000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }
}
