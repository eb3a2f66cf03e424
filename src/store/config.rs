//! How to reach the database and which defaults apply: the one place that holds the
//! extension's defaults (the PHP binding's INI entries take theirs from here).

use super::redact;
use crate::canon::route::PathForm;
use crate::token::Secret;
use std::fmt;
use std::time::Duration;

/// Tiki's pref `auth_token_access_maxtimeout` default: cap on a token's timeout, in seconds.
pub const DEFAULT_MAX_TIMEOUT: i64 = 604_800;
/// Tiki's pref `auth_token_access_maxhits` default: cap on a token's hits.
pub const DEFAULT_MAX_HITS: i64 = 10;
/// TCP connect timeout (and the wait for a free pooled connection).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// Read and write timeout of each statement, and the time budget of one lookup (its purge, SELECT
/// and UPDATE together).
pub const DEFAULT_IO_TIMEOUT: Duration = Duration::from_secs(5);
/// Seconds between two purges of one process ([`super::handle::Store::purge_if_due`]). Not Tiki's
/// "before every lookup": a lookup checks expiry itself, so the purge is housekeeping only
/// (table size, temporary users); once a minute per worker keeps the table small without a
/// DELETE on every token request.
pub const DEFAULT_PURGE_INTERVAL: i64 = 60;
/// The longest timeout a configuration may set: a timeout beyond a day is a mistake.
pub const MAX_CONFIGURED_TIMEOUT: Duration = Duration::from_secs(86_400);

/// Causal reads on a MariaDB Galera node (`wsrep_sync_wait = 1` for the store's sessions).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum CausalReads {
    /// On when the server runs Galera (`@@wsrep_on`), off otherwise.
    #[default]
    Auto,
    /// Always (MariaDB).
    On,
    /// Never: a node that lags may grant a token revoked on another node for a few
    /// milliseconds (more under load or after a pause); for MariaDB builds without Galera
    /// support, whose sessions lack the variable.
    Off,
}

impl CausalReads {
    /// `auto`, `on` or `off`.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "auto" => Some(Self::Auto),
            "on" | "1" | "yes" | "true" => Some(Self::On),
            "off" | "0" | "no" | "false" => Some(Self::Off),
            _ => None,
        }
    }
}

/// How to reach the database and which defaults apply.
#[derive(Clone)]
pub struct StoreConfig {
    /// `mysql://user:pass@host:port/db[?opts]` or `mysql://user:pass@localhost/db?socket=/path`.
    /// `Debug` of the whole config never shows the password (see `dsn`).
    pub dsn: String,
    /// TCP connect timeout.
    pub connect_timeout: Duration,
    /// Read and write timeout of each statement, and the time budget of one lookup: its purge
    /// (when due), SELECT and UPDATE together answer within it, and a lookup denied for lack of
    /// time consumes no hit.
    pub io_timeout: Duration,
    /// A signing secret given by the configuration (the `secret` option). It wins over the
    /// other sources; rotation is refused (change it where it is configured).
    pub secret: Option<Secret>,
    /// The value of Tiki's `auth_token_secret` preference as the calling Tiki holds it in its
    /// preference cache (`global $prefs`): used for signing and verifying like a configured
    /// secret, so a lookup needs no subquery on `tiki_preferences`; a rotation writes the table
    /// (and the store then reads the table until the caller brings the new value). `None` and
    /// no `secret` = the secret is read from `tiki_preferences` in the lookup's own SELECT, so a
    /// rotation made by another process counts at once.
    pub preference_secret: Option<Secret>,
    /// Cap on a token's timeout in seconds (Tiki pref `auth_token_access_maxtimeout`).
    pub max_timeout: i64,
    /// Cap on a token's hits (Tiki pref `auth_token_access_maxhits`).
    pub max_hits: i64,
    /// Mint legacy MD5 tokens even where signed ones are possible (only when told to).
    pub force_legacy: bool,
    /// Causal reads on a Galera node.
    pub causal_reads: CausalReads,
    /// The URL path of the Tiki installation (`/tiki/`, Tiki's `$tikiroot`): with it, minting
    /// resolves a SEF URL (`/tiki/HomePage`) as Tiki's route.php will and binds the token to
    /// what the target script checks (`/tiki/tiki-index.php`, `{"page":"HomePage"}`); without
    /// it, a URL's path is bound as it is.
    pub site_root: Option<String>,
    /// How the web server hands route.php the path: raw (`REQUEST_URI`: nginx, `php -S`, Apache
    /// with Tiki's `.htaccess`) or decoded (`SCRIPT_URL`: Apache with `RewriteEngine on` at
    /// server level).
    pub path_form: PathForm,
}

impl StoreConfig {
    /// A configuration with the defaults above and the secret from `tiki_preferences`.
    #[must_use]
    pub fn new(dsn: impl Into<String>) -> Self {
        Self {
            dsn: dsn.into(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            io_timeout: DEFAULT_IO_TIMEOUT,
            secret: None,
            preference_secret: None,
            max_timeout: DEFAULT_MAX_TIMEOUT,
            max_hits: DEFAULT_MAX_HITS,
            force_legacy: false,
            causal_reads: CausalReads::Auto,
            site_root: None,
            path_form: PathForm::Raw,
        }
    }
}

/// Never shows the DSN's password nor the secret.
impl fmt::Debug for StoreConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreConfig")
            .field("dsn", &redact::dsn(&self.dsn))
            .field("connect_timeout", &self.connect_timeout)
            .field("io_timeout", &self.io_timeout)
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .field(
                "preference_secret",
                &self.preference_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("max_timeout", &self.max_timeout)
            .field("max_hits", &self.max_hits)
            .field("force_legacy", &self.force_legacy)
            .field("causal_reads", &self.causal_reads)
            .field("site_root", &self.site_root)
            .field("path_form", &self.path_form)
            .finish()
    }
}

/// A configured timeout in seconds as a duration: more than 0 and at most
/// [`MAX_CONFIGURED_TIMEOUT`].
///
/// # Errors
/// A message naming the setting when the number is out of range or not finite.
pub fn timeout_setting(secs: f64, name: &str) -> Result<Duration, String> {
    let max = MAX_CONFIGURED_TIMEOUT.as_secs_f64();
    if !(secs.is_finite() && secs > 0.0 && secs <= max) {
        return Err(format!(
            "{name} must be more than 0 and at most {max} seconds, got {secs}"
        ));
    }
    Duration::try_from_secs_f64(secs).map_err(|e| format!("{name}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_are_positive_and_at_most_a_day() {
        assert_eq!(
            timeout_setting(1.5, "x").unwrap(),
            Duration::from_millis(1500)
        );
        for bad in [0.0, -1.0, 86_400.5, f64::NAN, f64::INFINITY] {
            let e = timeout_setting(bad, "ioTimeout").unwrap_err();
            assert!(e.contains("ioTimeout") && e.contains("86400"), "{e}");
        }
    }
}
