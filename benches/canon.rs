//! Criterion benches of the canonical form: what every token lookup pays before it touches
//! the database (`parse_query` + `TOKEN` removal, `match_params`), and what creating a token
//! pays (`json_encode`, `http_build_query`).
//!
//! `cargo bench --bench canon` (reports in target/criterion/).

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use tiki_tokens::canon::http_query::build_query;
use tiki_tokens::canon::json::{decode, encode_params};
use tiki_tokens::canon::query::{QueryLimits, parse_query};
use tiki_tokens::canon::{Params, match_params, take_token};

/// A typical Tiki token query (the tracker export of the issue), with its 64-hex `TOKEN`.
const TIKI_QUERY: &str = "controller=tracker&action=export_items&trackerId=3&separator=%2C&listfields[]=2&listfields[]=3&sort_mode=created_desc&TOKEN=3e688670095cba622a5390a39c8c23b0ca641faf6bdff0cfccd7b3c35253fe85";

fn canonical(query: &[u8]) -> Params {
    let mut p = parse_query(query, QueryLimits::default());
    take_token(&mut p);
    p
}

/// 1,000 parameters (PHP's `max_input_vars`), a mix of plain, escaped and array ones.
fn big_query() -> String {
    (0..1000)
        .map(|i| match i % 4 {
            0 => format!("field{i}=value{i}"),
            1 => format!("esc{i}=a%2Cb%20c%C3%A9+d"),
            2 => format!("list{}[]={i}", i / 40),
            _ => format!("map{}[k{i}]=v", i / 40),
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// One variable 63 brackets deep (within PHP's `max_input_nesting_level` 64), and siblings.
fn deep_query() -> String {
    let path: String = (0..63).map(|i| format!("[k{i}]")).collect();
    format!("a{path}=x&a{path}[]=y&b[c][d][e]=f&TOKEN=00")
}

fn bench_canonical(c: &mut Criterion) {
    let mut g = c.benchmark_group("canonical_form");
    let big = big_query();
    let deep = deep_query();
    for (name, q) in [
        ("tiki_query", TIKI_QUERY),
        ("1000_params", big.as_str()),
        ("nested_63_levels", deep.as_str()),
    ] {
        g.throughput(Throughput::Bytes(q.len() as u64));
        g.bench_with_input(
            BenchmarkId::new("parse_query+take_token", name),
            q,
            |b, q| {
                b.iter(|| canonical(black_box(q.as_bytes())));
            },
        );
    }
    g.finish();
}

fn bench_match(c: &mut Criterion) {
    let mut g = c.benchmark_group("match_params");
    let stored = canonical(TIKI_QUERY.as_bytes());
    // The same parameters in another order, as a real request may send them.
    let request = canonical(
        b"sort_mode=created_desc&listfields[]=2&listfields[]=3&separator=,&trackerId=3&action=export_items&controller=tracker&TOKEN=x",
    );
    assert_eq!(match_params(&stored, &request), Ok(()));
    g.bench_function("tiki_query", |b| {
        b.iter(|| match_params(black_box(&stored), black_box(&request)))
    });
    let big = canonical(big_query().as_bytes());
    let big2 = big.clone();
    g.bench_function("1000_params", |b| {
        b.iter(|| match_params(black_box(&big), black_box(&big2)))
    });
    g.finish();
}

fn bench_json(c: &mut Criterion) {
    let mut g = c.benchmark_group("json");
    let params = canonical(TIKI_QUERY.as_bytes());
    let text = encode_params(&params).unwrap_or_default();
    g.throughput(Throughput::Bytes(text.len() as u64));
    g.bench_function("encode_params/tiki_query", |b| {
        b.iter(|| encode_params(black_box(&params)))
    });
    g.bench_function("decode/tiki_query", |b| {
        b.iter(|| decode(black_box(text.as_bytes())))
    });
    let big = canonical(big_query().as_bytes());
    let big_text = encode_params(&big).unwrap_or_default();
    g.throughput(Throughput::Bytes(big_text.len() as u64));
    g.bench_function("encode_params/1000_params", |b| {
        b.iter(|| encode_params(black_box(&big)))
    });
    g.bench_function("decode/1000_params", |b| {
        b.iter(|| decode(black_box(big_text.as_bytes())))
    });
    g.finish();
}

fn bench_build_query(c: &mut Criterion) {
    let mut g = c.benchmark_group("build_query");
    for (name, q) in [
        ("tiki_query", TIKI_QUERY.to_string()),
        ("1000_params", big_query()),
    ] {
        let params = canonical(q.as_bytes());
        let out_len = build_query(&params).len();
        g.throughput(Throughput::Bytes(out_len as u64));
        g.bench_with_input(BenchmarkId::from_parameter(name), &params, |b, p| {
            b.iter(|| build_query(black_box(p)))
        });
    }
    g.finish();
}

criterion_group!(
    benches,
    bench_canonical,
    bench_match,
    bench_json,
    bench_build_query
);
criterion_main!(benches);
