//! A DSN naming several servers, as for a MariaDB Galera cluster:
//! `mysql://user:pass@h1:3306,h2:3306,h3:3306/tiki?opts` → one DSN per server, each with the
//! same user, database and options, in the order given.
//!
//! The host list is what lies between the last `@` of the authority (or `://`) and the path:
//! user names and passwords may hold `,` (and so may not be split), host names never do.

/// The host list of a DSN that names several servers (`h1:3306,h2:3306`), `None` otherwise.
#[must_use]
pub fn hosts(dsn: &str) -> Option<&str> {
    parts(dsn)
        .map(|(_, hosts, _)| hosts)
        .filter(|h| h.contains(','))
}

/// The DSNs of each server a DSN names, in order: the DSN itself when it names one.
#[must_use]
pub fn split(dsn: &str) -> Vec<String> {
    match parts(dsn) {
        Some((head, hosts, tail)) if hosts.contains(',') => hosts
            .split(',')
            .map(|host| format!("{head}{}{tail}", host.trim()))
            .collect(),
        _ => vec![dsn.to_string()],
    }
}

/// `(everything before the hosts, the hosts, everything after)`, when the DSN has a scheme. The
/// authority ends at the first `/`, `?` or `#` (a password holding one of those makes a DSN that
/// does not parse anyway); the hosts follow its last `@`.
fn parts(dsn: &str) -> Option<(&str, &str, &str)> {
    let start = dsn.find("://")? + 3;
    let rest = &dsn[start..];
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let host_start = rest[..end].rfind('@').map_or(0, |a| a + 1);
    Some((
        &dsn[..start + host_start],
        &rest[host_start..end],
        &rest[end..],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_dsn_per_host_with_the_same_user_database_and_options() {
        assert_eq!(
            split("mysql://u:p@h1:3306,h2:3307, h3/tiki?prefer_socket=false"),
            vec![
                "mysql://u:p@h1:3306/tiki?prefer_socket=false",
                "mysql://u:p@h2:3307/tiki?prefer_socket=false",
                "mysql://u:p@h3/tiki?prefer_socket=false",
            ]
        );
        assert_eq!(split("mysql://u@h/db"), vec!["mysql://u@h/db"]);
        assert_eq!(
            split("mysql://h1,h2/db"),
            vec!["mysql://h1/db", "mysql://h2/db"]
        );
    }

    #[test]
    fn commas_in_the_user_info_are_not_hosts() {
        assert_eq!(
            split("mysql://u:p,w@h1,h2/db"),
            vec!["mysql://u:p,w@h1/db", "mysql://u:p,w@h2/db"]
        );
        assert_eq!(split("mysql://u:p,w@h/db"), vec!["mysql://u:p,w@h/db"]);
        assert_eq!(split("not a dsn, at all"), vec!["not a dsn, at all"]);
    }
}
