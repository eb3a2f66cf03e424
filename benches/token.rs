//! Token values on the hot path (SPEC section 2): minting and verifying a legacy MD5 and a signed
//! HMAC-SHA256 token over realistic row payloads, and the format pre-check that turns garbage
//! away before any database round trip. Throughput in payload bytes per second.
//!
//! `cargo bench --bench token`

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use tiki_tokens::token::{self, PayloadFields, Secret};

/// Rows as a Tiki site holds them: a file download, a tracker export (Tiki trunk's example URL),
/// and the widest a Tiki 24 row allows (entry 50 and parameters 255 characters).
struct Row {
    name: &'static str,
    token_id: i64,
    timeout: i64,
    entry: Vec<u8>,
    parameters: Vec<u8>,
    groups: Vec<u8>,
}

fn rows() -> Vec<Row> {
    vec![
        Row {
            name: "download",
            token_id: 4242,
            timeout: 604_800,
            entry: b"/tiki-download_file.php".to_vec(),
            parameters: br#"{"fileId":"4242"}"#.to_vec(),
            groups: br#"["Registered"]"#.to_vec(),
        },
        Row {
            name: "tracker-export",
            token_id: 123_456,
            timeout: 604_800,
            entry: b"/tiki/tiki-ajax_services.php".to_vec(),
            parameters: br#"{"controller":"tracker","action":"export_items","trackerId":"3","listfields":["2","3"]}"#
                .to_vec(),
            groups: br#"["Admins","Registered"]"#.to_vec(),
        },
        Row {
            name: "widest-tiki24",
            token_id: 2_147_483_647,
            timeout: -1,
            entry: format!("/{}", "e".repeat(49)).into_bytes(),
            parameters: format!(r#"{{"page":"{}"}}"#, "x".repeat(255 - 11)).into_bytes(),
            groups: br#"["Admins","Registered","Editors","Partners"]"#.to_vec(),
        },
    ]
}

impl Row {
    fn fields(&self) -> PayloadFields<'_> {
        PayloadFields {
            token_id: self.token_id,
            creation: "2026-11-29 05:22:13",
            timeout: self.timeout,
            entry: &self.entry,
            parameters: &self.parameters,
            groups: &self.groups,
        }
    }
}

/// (name, payload) of every row.
fn payloads() -> Vec<(&'static str, Vec<u8>)> {
    rows()
        .iter()
        .map(|r| (r.name, token::payload(&r.fields())))
        .collect()
}

fn secret() -> Secret {
    // 64 hex characters as Tiki trunk stores `auth_token_secret` (used as ASCII, not decoded).
    Secret::from_text(b"0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0".to_vec())
}

fn mint(c: &mut Criterion) {
    let secret = secret();
    let mut g = c.benchmark_group("token/mint");
    for row in rows() {
        let fields = row.fields();
        g.throughput(Throughput::Bytes(token::payload(&fields).len() as u64));
        g.bench_with_input(BenchmarkId::new("payload", row.name), &fields, |b, f| {
            b.iter(|| token::payload(black_box(f)));
        });
    }
    for (name, payload) in payloads() {
        g.throughput(Throughput::Bytes(payload.len() as u64));
        g.bench_with_input(BenchmarkId::new("legacy-md5", name), &payload, |b, p| {
            b.iter(|| token::legacy_token(black_box(p)));
        });
        g.bench_with_input(
            BenchmarkId::new("signed-hmac-sha256", name),
            &payload,
            |b, p| {
                b.iter(|| token::signed_token(black_box(p), black_box(&secret)));
            },
        );
    }
    g.finish();
}

fn verify(c: &mut Criterion) {
    let secret = secret();
    let mut g = c.benchmark_group("token/verify");
    for (name, payload) in payloads() {
        let legacy = token::legacy_token(&payload);
        let signed = token::signed_token(&payload, &secret).unwrap_or_default();
        g.throughput(Throughput::Bytes(payload.len() as u64));
        g.bench_with_input(BenchmarkId::new("legacy-md5", name), &payload, |b, p| {
            b.iter(|| {
                token::verify(
                    black_box(legacy.as_bytes()),
                    black_box(legacy.as_bytes()),
                    black_box(p),
                    Some(&secret),
                )
            });
        });
        g.bench_with_input(
            BenchmarkId::new("signed-hmac-sha256", name),
            &payload,
            |b, p| {
                b.iter(|| {
                    token::verify(
                        black_box(signed.as_bytes()),
                        black_box(signed.as_bytes()),
                        black_box(p),
                        Some(&secret),
                    )
                });
            },
        );
    }
    g.finish();
}

fn precheck(c: &mut Criterion) {
    let mut g = c.benchmark_group("token/precheck");
    let cases: [(&str, Vec<u8>); 5] = [
        (
            "valid-md5-hex",
            b"0ae3b4b86286ab68f5a66fb8c49da163".to_vec(),
        ),
        (
            "valid-hmac-hex",
            b"3e688670095cba622a5390a39c8c23b0ca641faf6bdff0cfccd7b3c35253fe85".to_vec(),
        ),
        ("wrong-length", b"0ae3b4b86286ab68f5a66fb8c49da16".to_vec()),
        ("non-hex", b"0ae3b4b86286ab68f5a66fb8c49da16z".to_vec()),
        ("long-garbage-4k", vec![b'a'; 4096]),
    ];
    for (name, presented) in cases {
        g.throughput(Throughput::Bytes(presented.len() as u64));
        g.bench_with_input(BenchmarkId::from_parameter(name), &presented, |b, p| {
            b.iter(|| token::precheck(black_box(p)));
        });
    }
    g.finish();
}

criterion_group!(benches, mint, verify, precheck);
criterion_main!(benches);
