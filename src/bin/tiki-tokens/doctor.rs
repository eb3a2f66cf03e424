//! `doctor`: one screen of what is right and wrong. The configuration, the store's own
//! diagnosis ([`tiki_tokens::store::Store::diagnose`] and its findings), and the PHP SAPIs
//! that enable and load the extension. Goes on past a missing configuration or an unreachable
//! database, so the PHP part is always shown.

use super::args::Cli;
use super::commands::fail;
use super::config::{self, Found};
use super::exit::{Exit, Failure};
use super::output::print_json;
use super::sapi;
use serde_json::{Value, json};
use tiki_tokens::store::{Diagnosis, Finding, Severity, Store, StoreConfig, TableDiagnosis};

/// Runs the doctor. Exit: 3 without a usable configuration, 4 when the database cannot be
/// reached, else 1 when a problem was found (or a warning, with `strict`), else 0.
pub fn run(cli: &Cli, strict: bool) -> Result<Exit, Failure> {
    let mut findings = Vec::new();
    let mut exit = None;
    let mut found_json = Value::Null;
    let mut diagnosis = None;
    match config::discover(cli.dsn.as_deref(), cli.tiki.as_deref(), cli.site.as_deref()) {
        Ok(found) => {
            found_json = json!({ "dsn": found.shown(), "source": found.source.kind() });
            findings.push(finding(
                "config",
                Severity::Ok,
                format!("{} (from {})", found.shown(), found.source.describe()),
            ));
            match diagnose(&found) {
                Ok(d) => {
                    findings.extend(d.findings());
                    diagnosis = Some(d);
                }
                Err(f) => {
                    findings.push(finding("database", Severity::Problem, f.message.clone()));
                    exit = Some(f.exit);
                }
            }
        }
        Err(f) => {
            findings.push(finding("config", Severity::Problem, f.message.clone()));
            exit = Some(f.exit);
        }
    }
    let confs = sapi::conf_dirs(&sapi::conf_root());
    findings.extend(sapi::findings(&confs, &sapi::probes(&confs)));
    let worst = findings
        .iter()
        .map(|f| f.severity)
        .max()
        .unwrap_or(Severity::Ok);
    let exit = exit.unwrap_or(
        if worst == Severity::Problem || (strict && worst == Severity::Warning) {
            Exit::Problem
        } else {
            Exit::Ok
        },
    );
    if cli.json {
        print_json(&json!({
            "ok": exit == Exit::Ok,
            "exit": exit.code(),
            "database": found_json,
            "findings": findings.iter().map(finding_json).collect::<Vec<_>>(),
            "diagnosis": diagnosis.as_ref().map(diagnosis_json),
            "php": confs.iter().map(|c| json!({
                "version": c.version,
                "sapi": c.sapi,
                "enabledBy": c.enabled_by.as_ref().map(|p| p.display().to_string()),
            })).collect::<Vec<_>>(),
        }));
    } else {
        print_findings(&findings);
    }
    Ok(exit)
}

fn diagnose(found: &Found) -> Result<Diagnosis, Failure> {
    let store = Store::new(StoreConfig::new(found.dsn.clone())).map_err(|e| fail(e, found))?;
    store.diagnose().map_err(|e| fail(e, found))
}

fn finding(check: &'static str, severity: Severity, message: String) -> Finding {
    Finding {
        check,
        severity,
        message,
    }
}

fn print_findings(findings: &[Finding]) {
    for f in findings {
        println!("{:<8} {:<9} {}", f.severity.as_str(), f.check, f.message);
    }
    let count = |s: Severity| findings.iter().filter(|f| f.severity == s).count();
    println!(
        "\n{} problem(s), {} warning(s), {} note(s)",
        count(Severity::Problem),
        count(Severity::Warning),
        count(Severity::Note)
    );
}

fn finding_json(f: &Finding) -> Value {
    json!({ "check": f.check, "severity": f.severity.as_str(), "message": f.message })
}

/// The diagnosis as data (the findings judge it; this is what they judged).
fn diagnosis_json(d: &Diagnosis) -> Value {
    json!({
        "serverVersion": d.server_version,
        "database": d.database,
        "clockOffsetSeconds": d.clock_offset,
        "galera": d.galera.as_ref().map(|g| json!({
            "nodeName": g.node_name,
            "clusterSize": g.cluster_size,
            "state": g.state,
            "clusterStatus": g.cluster_status,
            "ready": g.ready,
            "synced": g.synced(),
        })),
        "table": match &d.table {
            Ok(t) => table_json(t),
            Err(m) => json!({ "error": m }),
        },
    })
}

fn table_json(t: &TableDiagnosis) -> Value {
    let layout_detail = match &t.layout {
        tiki_tokens::store::TableLayout::Other(d) => Some(d.clone()),
        _ => None,
    };
    json!({
        "layout": t.layout.as_str(),
        "layoutDetail": layout_detail,
        "engine": t.engine,
        "tokenIndexes": t.token_indexes,
        "lookupPlan": {
            "access": t.lookup_plan.access,
            "key": t.lookup_plan.key,
            "rows": t.lookup_plan.rows,
            "extra": t.lookup_plan.extra,
        },
        "scheme": t.scheme.minting.as_str(),
        "needsMigration": t.scheme.needs_migration,
        "tokenWidth": t.scheme.token_width,
        "hasSecret": t.scheme.has_secret,
        "rows": t.rows.total,
        "unusableRows": t.rows.unusable,
    })
}
