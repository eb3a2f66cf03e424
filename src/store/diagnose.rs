//! The store's look at itself, for an admin: the server, the table's layout and engine, the
//! token index and whether the lookup's plan uses it, the scheme and the pending migration, rows
//! waiting for a purge, the clock difference, and a Galera node's state ([`Store::diagnose`]);
//! and the judgement of what was found ([`Diagnosis::findings`]), shared by the admin command's
//! doctor and phpinfo.
//!
//! A diagnosis counts the unusable rows (one scan of the table): it is an admin's tool, never
//! part of a request.

use super::handle::Store;
use super::model::{
    ClusterNode, Diagnosis, Finding, GaleraState, LookupPlan, RowCounts, Severity, TableDiagnosis,
    TableLayout,
};
use super::pool::{Conn, Retry};
use super::schema::Schema;
use super::sql::{self, Plain, PlanRow, TABLE};
use crate::error::{Error, Result};
use crate::token::Scheme;
use std::time::{SystemTime, UNIX_EPOCH};

/// Tiki's name of the index on `token`.
pub(crate) const TOKEN_INDEX: &str = "tiki_auth_tokens_token";

/// A clock difference up to this many seconds is as good as none.
const CLOCK_TOLERANCE: f64 = 5.0;

impl Store {
    /// Looks at the server and the table (see the module docs). A table that is missing or
    /// lacks a required column is part of the answer ([`Diagnosis::table`]), not an error.
    ///
    /// # Errors
    /// The database cannot be reached or a statement fails ([`Error::Database`]); the
    /// connection has no database selected ([`Error::Config`]).
    pub fn diagnose(&self) -> Result<Diagnosis> {
        self.guarded(|| {
            let mut conn = self.conn.checkout();
            let clock_offset = self.clock_offset(&mut conn)?;
            let head = conn
                .text_rows::<sql::Head>(sql::HEAD)
                .map_err(|e| self.db_error(e))?
                .into_iter()
                .next();
            let server_version = head.as_ref().map(|h| h.version.clone()).unwrap_or_default();
            let Some(database) = head.and_then(|h| h.database) else {
                return Err(Error::Config(
                    "the connection has no database selected".into(),
                ));
            };
            let galera = self.galera(&mut conn)?;
            let table = match self.detect_schema(&mut conn) {
                Ok(schema) => Ok(self.diagnose_table(&mut conn, &schema)?),
                Err(Error::Schema(m)) => Err(m),
                Err(e) => return Err(e),
            };
            Ok(Diagnosis {
                server_version,
                database,
                clock_offset,
                galera,
                table,
            })
        })
    }

    /// Every row, and the rows a purge would remove (database clock). Scans the table.
    ///
    /// # Errors
    /// Database or schema failure.
    pub fn row_counts(&self) -> Result<RowCounts> {
        self.guarded(|| {
            self.schema()?;
            self.count_rows(&mut self.conn.checkout())
        })
    }

    fn count_rows(&self, conn: &mut Conn<'_>) -> Result<RowCounts> {
        let row = conn
            .text_rows::<Plain>(&sql::row_counts())
            .map_err(|e| self.db_error(e))?
            .into_iter()
            .next();
        let count = |i| {
            row.as_ref()
                .and_then(|r| r.int(i))
                .and_then(|n| u64::try_from(n).ok())
                .unwrap_or(0)
        };
        Ok(RowCounts {
            total: count(0),
            unusable: count(1),
        })
    }

    fn diagnose_table(&self, conn: &mut Conn<'_>, schema: &Schema) -> Result<TableDiagnosis> {
        let engine = conn
            .text_rows::<Plain>(&sql::table_engine())
            .map_err(|e| self.db_error(e))?
            .first()
            .and_then(|r| r.text(0));
        let token_indexes = conn
            .text_rows::<Plain>(&sql::token_indexes())
            .map_err(|e| self.db_error(e))?
            .iter()
            .filter_map(|r| r.text(0))
            .collect();
        Ok(TableDiagnosis {
            layout: layout_of(schema),
            engine,
            token_indexes,
            lookup_plan: self.lookup_plan(conn, schema)?,
            scheme: self.scheme_info()?,
            rows: self.count_rows(conn)?,
        })
    }

    /// `EXPLAIN` of the SELECT a lookup sends for a token as wide as the column, with a value
    /// of that width: the plan's row for the token table.
    fn lookup_plan(&self, conn: &mut Conn<'_>, schema: &Schema) -> Result<LookupPlan> {
        let scheme = if schema.can_sign() {
            Scheme::Signed
        } else {
            Scheme::Legacy
        };
        let statement = if scheme == Scheme::Signed && self.config.secret.is_none() {
            &schema.sql.by_token_with_secret
        } else {
            &schema.sql.by_token
        };
        let probe = "0".repeat(scheme.width());
        let rows: Vec<PlanRow> = conn
            .rows(Retry::IfBroken, &sql::explain(statement), (probe,))
            .map_err(|e| self.db_error(e))?;
        let row = rows
            .iter()
            .find(|r| r.table.as_deref() == Some(TABLE))
            .or_else(|| rows.first())
            .cloned()
            .unwrap_or_default();
        Ok(LookupPlan {
            access: row.access,
            key: row.key,
            rows: row.rows,
            extra: row.extra.unwrap_or_default(),
        })
    }

    /// Seconds the database clock is ahead of this host's, against the middle of the round trip.
    fn clock_offset(&self, conn: &mut Conn<'_>) -> Result<f64> {
        let before = unix_now();
        let rows = conn
            .text_rows::<Plain>(sql::CLOCK)
            .map_err(|e| self.db_error(e))?;
        let after = unix_now();
        let db = rows.first().and_then(|r| r.float(0)).ok_or_else(|| {
            Error::Database("the server did not tell its clock (UNIX_TIMESTAMP(NOW(6)))".into())
        })?;
        Ok(db - (before + after) / 2.0)
    }

    /// The Galera node the server is, with the table's engine; `None` on a server without wsrep.
    pub(super) fn cluster_node(&self, conn: &mut Conn<'_>) -> Result<Option<ClusterNode>> {
        let Some(state) = self.galera(conn)? else {
            return Ok(None);
        };
        let engine = conn
            .text_rows::<Plain>(&sql::table_engine())
            .map_err(|e| self.db_error(e))?
            .first()
            .and_then(|r| r.text(0));
        Ok(Some(ClusterNode { state, engine }))
    }

    /// The Galera state, when `@@wsrep_on` is set; `None` on a server without wsrep.
    fn galera(&self, conn: &mut Conn<'_>) -> Result<Option<GaleraState>> {
        let on = match conn.text_rows::<Plain>(sql::WSREP) {
            Ok(rows) => rows.into_iter().next(),
            Err(e) if e.code() == Some(sql::UNKNOWN_VARIABLE) => return Ok(None),
            Err(e) => return Err(self.db_error(e)),
        };
        let Some(on) = on.filter(|r| r.int(0) == Some(1)) else {
            return Ok(None);
        };
        let status: Vec<(String, String)> = conn
            .text_rows::<Plain>(sql::WSREP_STATUS)
            .map_err(|e| self.db_error(e))?
            .iter()
            .filter_map(|r| Some((r.text(0)?, r.text(1).unwrap_or_default())))
            .collect();
        Ok(Some(galera_state(on.text(1).unwrap_or_default(), &status)))
    }
}

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// A Galera node's state from its name and its `wsrep_%` status variables (name, value).
pub(crate) fn galera_state(node_name: String, status: &[(String, String)]) -> GaleraState {
    let get = |name: &str| {
        status
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim().to_string())
    };
    GaleraState {
        node_name,
        cluster_size: get("wsrep_cluster_size").and_then(|v| v.parse().ok()),
        state: get("wsrep_local_state_comment").unwrap_or_default(),
        cluster_status: get("wsrep_cluster_status"),
        ready: get("wsrep_ready").is_some_and(|v| v.eq_ignore_ascii_case("ON")),
    }
}

/// Tiki 24's layout, trunk's, or a description of the columns that tell them apart.
fn layout_of(schema: &Schema) -> TableLayout {
    let ty = |name: &str| schema.column(name).map(|c| c.column_type.clone());
    let token = schema.column("token");
    let ascii_bin = token.is_some_and(|c| {
        c.charset.as_deref() == Some("ascii") && c.collation.as_deref() == Some("ascii_bin")
    });
    let (token_ty, entry, params) = (ty("token"), ty("entry"), ty("parameters"));
    let (user, data) = (schema.has("user"), schema.has("data"));
    let is = |v: &Option<String>, want: &str| v.as_deref() == Some(want);
    if is(&token_ty, "char(32)")
        && is(&entry, "varchar(50)")
        && is(&params, "varchar(255)")
        && !user
        && !data
    {
        return TableLayout::Tiki24;
    }
    if is(&token_ty, "varchar(64)")
        && ascii_bin
        && is(&entry, "mediumtext")
        && is(&params, "text")
        && user
        && data
    {
        return TableLayout::Trunk;
    }
    let show = |v: Option<String>| v.unwrap_or_else(|| "absent".into());
    let collation = token.and_then(|c| c.collation.clone());
    TableLayout::Other(format!(
        "token {} ({}), entry {}, parameters {}, user {}, data {}",
        show(token_ty),
        show(collation),
        show(entry),
        show(params),
        if user { "present" } else { "absent" },
        if data { "present" } else { "absent" },
    ))
}

fn finding(check: &'static str, severity: Severity, message: impl Into<String>) -> Finding {
    Finding {
        check,
        severity,
        message: message.into(),
    }
}

impl Diagnosis {
    /// What is right and wrong, one finding per check, in the order an admin reads them:
    /// server, galera (when on), table, engine, index, plan, scheme, secret, purge, clock.
    #[must_use]
    pub fn findings(&self) -> Vec<Finding> {
        let mut out = vec![finding(
            "server",
            Severity::Ok,
            format!(
                "server {} answers, database `{}`",
                self.server_version, self.database
            ),
        )];
        if let Some(g) = &self.galera {
            out.push(galera_finding(g));
        }
        match &self.table {
            Ok(t) => table_findings(t, self.galera.is_some(), &mut out),
            Err(m) => out.push(finding("table", Severity::Problem, m.clone())),
        }
        out.push(clock_finding(self.clock_offset));
        out
    }

    /// The worst severity among [`Diagnosis::findings`].
    #[must_use]
    pub fn worst(&self) -> Severity {
        self.findings()
            .iter()
            .map(|f| f.severity)
            .max()
            .unwrap_or(Severity::Ok)
    }
}

fn galera_finding(g: &GaleraState) -> Finding {
    let size = g
        .cluster_size
        .map_or_else(|| "?".to_string(), |n| n.to_string());
    let what = format!(
        "Galera node `{}`: {}, cluster of {size}{}",
        g.node_name,
        if g.state.is_empty() {
            "state unknown"
        } else {
            &g.state
        },
        g.cluster_status
            .as_deref()
            .map(|s| format!(", component {s}"))
            .unwrap_or_default()
    );
    if g.synced() {
        finding("galera", Severity::Ok, what)
    } else {
        finding(
            "galera",
            Severity::Problem,
            format!("{what}: not synced or not ready, so lookups here may fail or see old rows"),
        )
    }
}

fn table_findings(t: &TableDiagnosis, galera: bool, out: &mut Vec<Finding>) {
    out.push(match &t.layout {
        TableLayout::Tiki24 => finding("table", Severity::Ok, "Tiki 24's layout"),
        TableLayout::Trunk => finding("table", Severity::Ok, "Tiki trunk's layout"),
        TableLayout::Other(d) => finding(
            "table",
            Severity::Note,
            format!("neither Tiki 24's nor trunk's layout: {d}"),
        ),
    });
    out.push(engine_finding(t.engine.as_deref(), galera));
    out.push(index_finding(&t.token_indexes));
    out.push(plan_finding(t));
    scheme_findings(t, out);
    out.push(if t.rows.unusable == 0 {
        finding(
            "purge",
            Severity::Ok,
            format!("{} row(s), none waiting for a purge", t.rows.total),
        )
    } else {
        finding(
            "purge",
            Severity::Note,
            format!(
                "{} of {} rows are expired or used up and wait for a purge (tiki-tokens purge)",
                t.rows.unusable, t.rows.total
            ),
        )
    });
}

fn engine_finding(engine: Option<&str>, galera: bool) -> Finding {
    match engine {
        Some(e) if galera && !e.eq_ignore_ascii_case("InnoDB") => finding(
            "engine",
            Severity::Problem,
            format!(
                "{e} on a Galera node: Galera replicates only InnoDB, so tokens minted on one \
                 node are unknown on the others (ALTER TABLE {TABLE} ENGINE=InnoDB)"
            ),
        ),
        Some(e) if e.eq_ignore_ascii_case("InnoDB") || e.eq_ignore_ascii_case("MyISAM") => {
            finding("engine", Severity::Ok, e)
        }
        Some(e) => finding(
            "engine",
            Severity::Note,
            format!("{e}: tested with MyISAM and InnoDB only"),
        ),
        None => finding(
            "engine",
            Severity::Note,
            "the server does not tell the engine",
        ),
    }
}

fn index_finding(indexes: &[String]) -> Finding {
    if indexes.iter().any(|i| i == TOKEN_INDEX) {
        finding("index", Severity::Ok, format!("{TOKEN_INDEX} on token"))
    } else if let Some(other) = indexes.first() {
        finding(
            "index",
            Severity::Ok,
            format!("{other} on token (Tiki names it {TOKEN_INDEX})"),
        )
    } else {
        finding(
            "index",
            Severity::Problem,
            format!(
                "no index on token: every lookup reads the whole table \
                 (ALTER TABLE {TABLE} ADD INDEX {TOKEN_INDEX} (token))"
            ),
        )
    }
}

fn plan_finding(t: &TableDiagnosis) -> Finding {
    let p = &t.lookup_plan;
    let access = p.access.as_deref().unwrap_or("none");
    let rows = p
        .rows
        .map_or_else(String::new, |n| format!(", about {n} row(s)"));
    match &p.key {
        Some(k) if t.token_indexes.contains(k) => finding(
            "plan",
            Severity::Ok,
            format!("the lookup uses the index {k} (access {access}{rows})"),
        ),
        _ if matches!(access, "ALL" | "index") => finding(
            "plan",
            Severity::Problem,
            format!(
                "the lookup reads the whole table (access {access}{rows}) {}",
                p.extra
            ),
        ),
        _ if t.rows.total <= 1 => finding(
            "plan",
            Severity::Note,
            format!(
                "cannot tell on a table of {} row(s): the server reads it as a constant ({})",
                t.rows.total, p.extra
            ),
        ),
        _ => finding(
            "plan",
            Severity::Warning,
            format!(
                "the lookup's plan shows no index on token (access {access}{rows}) {}",
                p.extra
            ),
        ),
    }
}

fn scheme_findings(t: &TableDiagnosis, out: &mut Vec<Finding>) {
    let s = &t.scheme;
    out.push(match s.minting {
        Scheme::Signed => finding(
            "scheme",
            Severity::Ok,
            format!(
                "new tokens are signed (HMAC-SHA256, token column {} wide)",
                s.token_width
            ),
        ),
        Scheme::Legacy => finding(
            "scheme",
            Severity::Warning,
            format!(
                "new tokens are legacy MD5, which can be guessed (token column {} wide): \
                 Tiki's migration is pending (tiki-tokens migrate)",
                s.token_width
            ),
        ),
    });
    out.push(match (s.has_secret, s.token_width >= 64) {
        (true, _) => finding("secret", Severity::Ok, "a signing secret exists"),
        (false, true) => finding(
            "secret",
            Severity::Problem,
            "no signing secret: signed tokens cannot be verified and new ones are legacy MD5 \
             (tiki-tokens migrate stores one)",
        ),
        (false, false) => finding(
            "secret",
            Severity::Warning,
            "no signing secret yet (tiki-tokens migrate stores one)",
        ),
    });
}

fn clock_finding(offset: f64) -> Finding {
    let way = if offset >= 0.0 { "ahead of" } else { "behind" };
    let text = format!(
        "the database clock is {:.1} s {way} this host's",
        offset.abs()
    );
    if offset.abs() <= CLOCK_TOLERANCE {
        finding("clock", Severity::Ok, text)
    } else {
        finding(
            "clock",
            Severity::Warning,
            format!(
                "{text}: expiry is judged by the database clock, while Tiki shows times by \
                 PHP's (sync both with NTP)"
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::SchemeInfo;

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(a, b)| ((*a).to_string(), (*b).to_string()))
            .collect()
    }

    #[test]
    fn galera_status_is_decoded() {
        let synced = galera_state(
            "node1".into(),
            &pairs(&[
                ("wsrep_cluster_size", "3"),
                ("wsrep_local_state_comment", "Synced"),
                ("WSREP_CLUSTER_STATUS", "Primary"),
                ("wsrep_ready", "ON"),
            ]),
        );
        assert_eq!(synced.node_name, "node1");
        assert_eq!(synced.cluster_size, Some(3));
        assert_eq!(synced.cluster_status.as_deref(), Some("Primary"));
        assert!(synced.ready && synced.synced(), "{synced:?}");
        let donor = galera_state(
            "n2".into(),
            &pairs(&[
                ("wsrep_cluster_size", "2"),
                ("wsrep_local_state_comment", "Donor/Desynced"),
                ("wsrep_ready", "ON"),
            ]),
        );
        assert!(!donor.synced());
        let split = galera_state(
            "n3".into(),
            &pairs(&[
                ("wsrep_local_state_comment", "Synced"),
                ("wsrep_cluster_status", "non-Primary"),
                ("wsrep_ready", "OFF"),
                ("wsrep_cluster_size", "x"),
            ]),
        );
        assert!(!split.synced() && split.cluster_size.is_none());
        assert_eq!(galera_state(String::new(), &[]), GaleraState::default());
    }

    fn table(engine: &str, indexes: &[&str], key: Option<&str>, access: &str) -> TableDiagnosis {
        TableDiagnosis {
            layout: TableLayout::Trunk,
            engine: Some(engine.into()),
            token_indexes: indexes.iter().map(|s| (*s).to_string()).collect(),
            lookup_plan: LookupPlan {
                access: Some(access.into()),
                key: key.map(str::to_string),
                rows: Some(1),
                extra: String::new(),
            },
            scheme: SchemeInfo {
                minting: Scheme::Signed,
                needs_migration: false,
                token_width: 64,
                has_secret: true,
                cluster: None,
            },
            rows: RowCounts {
                total: 10,
                unusable: 0,
            },
        }
    }

    fn diagnosis(t: TableDiagnosis, galera: Option<GaleraState>) -> Diagnosis {
        Diagnosis {
            server_version: "11".into(),
            database: "tiki".into(),
            clock_offset: 0.2,
            galera,
            table: Ok(t),
        }
    }

    fn severity_of(d: &Diagnosis, check: &str) -> Severity {
        d.findings()
            .iter()
            .find(|f| f.check == check)
            .unwrap_or_else(|| panic!("no {check} finding"))
            .severity
    }

    #[test]
    fn a_healthy_table_has_no_problem() {
        let d = diagnosis(
            table("InnoDB", &[TOKEN_INDEX], Some(TOKEN_INDEX), "ref"),
            None,
        );
        assert_eq!(d.worst(), Severity::Ok, "{:?}", d.findings());
        assert!(d.findings().iter().all(|f| f.check != "galera"));
    }

    #[test]
    fn scans_missing_indexes_myisam_on_galera_and_skew_are_judged() {
        let scan = diagnosis(table("MyISAM", &[TOKEN_INDEX], None, "ALL"), None);
        assert_eq!(severity_of(&scan, "plan"), Severity::Problem);
        let no_index = diagnosis(table("MyISAM", &[], None, "ALL"), None);
        assert_eq!(severity_of(&no_index, "index"), Severity::Problem);
        let synced = GaleraState {
            node_name: "n".into(),
            cluster_size: Some(3),
            state: "Synced".into(),
            cluster_status: Some("Primary".into()),
            ready: true,
        };
        let t = table("MyISAM", &[TOKEN_INDEX], Some(TOKEN_INDEX), "ref");
        let myisam_galera = diagnosis(t.clone(), Some(synced.clone()));
        assert_eq!(severity_of(&myisam_galera, "engine"), Severity::Problem);
        assert_eq!(severity_of(&myisam_galera, "galera"), Severity::Ok);
        let joining = GaleraState {
            state: "Joining".into(),
            ..synced
        };
        let d = diagnosis(
            table("InnoDB", &[TOKEN_INDEX], Some(TOKEN_INDEX), "ref"),
            Some(joining),
        );
        assert_eq!(severity_of(&d, "galera"), Severity::Problem);
        assert_eq!(severity_of(&d, "engine"), Severity::Ok);
        let mut skewed = diagnosis(t, None);
        skewed.clock_offset = -42.0;
        assert_eq!(severity_of(&skewed, "clock"), Severity::Warning);
        assert!(
            skewed
                .findings()
                .iter()
                .any(|f| f.message.contains("42.0 s behind"))
        );
    }

    #[test]
    fn legacy_minting_and_a_missing_secret_are_judged() {
        let mut t = table("MyISAM", &[TOKEN_INDEX], Some(TOKEN_INDEX), "ref");
        t.scheme = SchemeInfo {
            minting: Scheme::Legacy,
            needs_migration: true,
            token_width: 32,
            has_secret: false,
            cluster: None,
        };
        t.rows.unusable = 4;
        let d = diagnosis(t.clone(), None);
        assert_eq!(severity_of(&d, "scheme"), Severity::Warning);
        assert_eq!(severity_of(&d, "secret"), Severity::Warning);
        assert_eq!(severity_of(&d, "purge"), Severity::Note);
        t.scheme.token_width = 64;
        assert_eq!(
            severity_of(&diagnosis(t, None), "secret"),
            Severity::Problem
        );
        let missing = Diagnosis {
            table: Err("the table tiki_auth_tokens does not exist".into()),
            ..diagnosis(table("x", &[], None, "ALL"), None)
        };
        assert_eq!(missing.worst(), Severity::Problem);
    }
}
