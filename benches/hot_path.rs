//! Criterion benchmarks of the per-event hot path: envelope decode and encode, key routing, the
//! offset watermark, and the triage and policy rule evaluation on the shipped packs.
//! Run: `cargo bench --bench hot_path`.

use std::hint::black_box;
use std::path::Path;

use chrono::Utc;
use criterion::{criterion_group, criterion_main, Criterion};
use exception_worker::envelope::Envelope;
use exception_worker::model::Severity;
use exception_worker::offsets::Watermark;
use exception_worker::packs::policy_rules::{evaluate_policy, PolicyInput};
use exception_worker::packs::triage_rules::{triage, TriageInput};
use exception_worker::packs::Packs;
use exception_worker::routing::slot_for;
use serde_json::json;

fn sample_envelope() -> Envelope {
    let payload = json!({
        "exceptionId": "ACME-SF-1001", "exceptionType": "SETTLEMENT_FAIL", "sourceSystem": "MUREX",
        "amount": 25_000_000, "currency": "USD", "isin": "US0378331005",
        "counterparty": {"lei": "5493001KJTIIGC8Y1R12", "riskRating": "STANDARD"},
    });
    Envelope::new(
        "ExceptionIngested",
        "acme-capital",
        Some("ACME-SF-1001".to_owned()),
        payload.as_object().cloned().unwrap_or_default(),
        Utc::now(),
    )
}

fn envelopes(c: &mut Criterion) {
    let envelope = sample_envelope();
    let bytes = envelope.encode().into_bytes();
    c.bench_function("envelope_decode", |b| {
        b.iter(|| Envelope::decode(black_box(&bytes), false))
    });
    c.bench_function("envelope_encode", |b| {
        b.iter(|| black_box(&envelope).encode())
    });
}

fn routing(c: &mut Criterion) {
    c.bench_function("route_key", |b| {
        b.iter(|| slot_for(black_box("acme-capital:ACME-SF-1001"), 8))
    });
}

fn watermark(c: &mut Criterion) {
    c.bench_function("watermark_1000_out_of_order", |b| {
        b.iter(|| {
            let mut watermark = Watermark::new(0);
            for offset in 0..1000 {
                let _ = watermark.dispatch(offset);
            }
            // Complete odd offsets first, then even ones: the worst case for the pending set.
            for offset in (1..1000).step_by(2).chain((0..1000).step_by(2)) {
                let _ = watermark.complete(offset);
            }
            black_box(watermark.committable())
        })
    });
}

fn rules(c: &mut Criterion) {
    let packs = match Packs::load(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/config"))) {
        Ok(packs) => packs,
        Err(errors) => panic!("the shipped packs must load: {errors}"),
    };
    let Some(tenant) = packs.tenant("acme-capital") else {
        panic!("the shipped packs must hold acme-capital");
    };
    let domain = packs.domain_of(tenant);
    let payload = json!({"amount": 25_000_000, "currency": "USD", "counterparty": {"riskRating": "STANDARD"}});
    c.bench_function("triage_rules", |b| {
        b.iter(|| {
            triage(
                domain,
                tenant,
                &TriageInput {
                    exception_type: Some("SETTLEMENT_FAIL"),
                    payload: black_box(&payload),
                },
            )
        })
    });
    let now = Utc::now();
    c.bench_function("policy_rules", |b| {
        b.iter(|| {
            let input = PolicyInput {
                exception_type: "SETTLEMENT_FAIL",
                severity: Severity::Critical,
                confidence: 0.9,
                sla_deadline: Some(now + chrono::Duration::hours(1)),
                now,
            };
            evaluate_policy(domain, tenant, black_box(&input))
        })
    });
}

criterion_group!(hot_path, envelopes, routing, watermark, rules);
criterion_main!(hot_path);
