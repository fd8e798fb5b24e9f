//! A thousand malformed or hostile messages, produced straight onto `exceptions.ingested` and
//! mixed into a valid stream: each gets exactly one dead letter with its specific reason (and a
//! DeadLettered record on `exceptions.dlq` with the `dlq.*` headers), every valid one is
//! processed, and the process never restarts (the dead-letter cap must not trip on a mixed
//! stream).

use std::collections::HashMap;
use std::time::Duration;

use chrono::Utc;
use exception_worker::envelope::Envelope;
use exception_worker::model::{event_types, topics};
use futures::future::join_all;
use rdkafka::message::Headers;
use rdkafka::Message;
use serde_json::{json, Value};
use test_support::produce::read_topic;
use test_support::readers::{count, processed_by};
use test_support::{ingested, wait_for, Cluster, Producer, RawProducer, ACME, GLOBEX};

use crate::support::{dead_letter_count, events_of_type, letters, Proc};

const HOSTILE: usize = 1000;
/// Valid exceptions of acme (processed first) whose ids globex's valid messages reuse: ids are
/// scoped by tenant, so those are globex's own exceptions, processed like any other.
const OWNED: usize = 100;
/// Valid exceptions mixed into the hostile stream, one after every two hostile messages.
const MIXED_VALID: usize = HOSTILE / 2;
const LIMIT: Duration = Duration::from_secs(120);

/// One hostile message: its bytes, its key, and the words its dead letter's reason must hold.
struct Hostile {
    kind: &'static str,
    key: Option<String>,
    bytes: Vec<u8>,
    reason: String,
}

fn valid_value(tenant: &str, id: &str) -> Value {
    serde_json::to_value(ingested(tenant, id)).expect("an envelope value")
}

fn changed(id: &str, key: &str, value: Value) -> Vec<u8> {
    let mut envelope = valid_value(ACME, id);
    envelope[key] = value;
    envelope.to_string().into_bytes()
}

/// The `n`-th hostile message; the kinds cycle, so they are spread over the whole stream.
fn hostile(n: usize) -> Hostile {
    let id = format!("HOSTILE-{n:04}");
    let key = Some(format!("{ACME}:{id}"));
    let (kind, key, bytes, reason): (_, _, Vec<u8>, String) = match n % 20 {
        0 | 1 => (
            "not JSON",
            None,
            format!("{{this is not json {n}").into_bytes(),
            "undecodable envelope".into(),
        ),
        2 | 3 => (
            "unknown key",
            key,
            changed(&id, "surprise", json!(n)),
            "unknown field `surprise`".into(),
        ),
        4 | 5 => (
            "version 2",
            key,
            changed(&id, "version", json!(2)),
            "envelope version 2 is newer than supported".into(),
        ),
        6 | 7 => (
            "empty tenant",
            key,
            changed(&id, "tenant_id", json!("")),
            "envelope field tenant_id is invalid".into(),
        ),
        8 | 9 => (
            "unknown tenant",
            key,
            changed(&id, "tenant_id", json!("initech")),
            "tenant violation: unknown tenant 'initech'".into(),
        ),
        10 | 11 => (
            "id with a slash",
            key,
            changed(&id, "exception_id", json!(format!("a/{id}"))),
            "envelope field exception_id is invalid".into(),
        ),
        12 | 13 => (
            "wrong event type",
            key,
            changed(&id, "event_type", json!("TriageCompleted")),
            "unknown event type 'TriageCompleted' for topic exceptions.ingested".into(),
        ),
        14 | 15 => {
            // Invalid UTF-8 inside a string of an otherwise valid envelope.
            let text = serde_json::to_vec(&valid_value(ACME, &id)).expect("bytes");
            let bytes = String::from_utf8_lossy(&text)
                .replace("SETTLEMENT_FAIL", "SETTLEMENT\u{1}FAIL")
                .into_bytes()
                .into_iter()
                .map(|byte| if byte == 1 { 0xff } else { byte })
                .collect();
            ("invalid UTF-8", None, bytes, "undecodable envelope".into())
        }
        16 if n % 100 == 16 => {
            let blob = "x".repeat(1024 * 1024 + 1);
            let mut value = valid_value(ACME, &id);
            value["payload"]["blob"] = json!(blob);
            (
                "oversized",
                key,
                value.to_string().into_bytes(),
                "exceeds the 1048576-byte limit".into(),
            )
        }
        16 if n % 100 == 36 => {
            // An unknown key of 600 kB: the reason quotes it.
            let name = "k".repeat(600 * 1024);
            (
                "huge unknown key",
                key,
                changed(&id, &name, json!(1)),
                "unknown field `kkkkkkkk".into(),
            )
        }
        16 | 17 => {
            let depth = 5000;
            let text = format!(
                r#"{{"event_id":"{}","event_type":"ExceptionIngested","tenant_id":"{ACME}","timestamp":"{}","payload":{{"deep":{}{}}},"version":1}}"#,
                uuid::Uuid::new_v4(),
                Utc::now().to_rfc3339(),
                "[".repeat(depth),
                "]".repeat(depth)
            );
            (
                "deeply nested",
                key,
                text.into_bytes(),
                "recursion limit exceeded".into(),
            )
        }
        18 => (
            "empty",
            None,
            Vec::new(),
            "undecodable envelope: EOF while parsing".into(),
        ),
        _ => {
            // A valid envelope whose raw exception names its id with a number.
            let payload = json!({"exceptionId": n, "exceptionType": "TRADE_BREAK"});
            let payload = payload.as_object().cloned().unwrap_or_default();
            let envelope = Envelope::new(
                event_types::EXCEPTION_INGESTED,
                ACME,
                None,
                payload,
                Utc::now(),
            );
            (
                "bad raw payload",
                key,
                envelope.encode().into_bytes(),
                "payload exceptionId must be a string".into(),
            )
        }
    };
    Hostile {
        kind,
        key,
        bytes,
        reason,
    }
}

/// Headers of every record on the test's DLQ topic (read until `expected` arrived or 30 s).
async fn dlq_headers(cluster: &Cluster, expected: usize) -> Vec<HashMap<String, String>> {
    let records = read_topic(
        cluster,
        topics::DLQ,
        "dlq-reader",
        expected,
        Duration::from_secs(30),
    )
    .await;
    records
        .iter()
        .map(|message| {
            message
                .headers()
                .map(|headers| {
                    headers
                        .iter()
                        .map(|header| {
                            let value = header.value.unwrap_or_default();
                            (
                                header.key.to_owned(),
                                String::from_utf8_lossy(value).into_owned(),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default()
        })
        .collect()
}

#[actix_rt::test]
async fn a_thousand_hostile_messages_are_dead_lettered_and_valid_ones_processed() {
    let Some(cluster) = Cluster::start("hostile").await else {
        return;
    };
    // Arrange: acme's exceptions whose ids globex reuses exist first.
    let producer = Producer::open(&cluster).await;
    let raw = RawProducer::new(&cluster);
    let worker = Proc::spawn("intake", &cluster, &[], "intake");
    let pid = worker.worker.pid();
    let owners = (0..OWNED).map(|n| ingested(ACME, &format!("OWNED-{n:03}")));
    join_all(owners.map(|envelope| {
        let raw = raw.clone();
        async move { raw.send_envelope(topics::INGESTED, &envelope).await }
    }))
    .await;
    wait_for("the owned exceptions are stored", LIMIT, async || {
        processed_by(&producer.db, "intake").await == OWNED as i64
    })
    .await;

    // Act: two hostile messages, then a valid one, in produce order.
    let messages: Vec<Hostile> = (0..HOSTILE).map(hostile).collect();
    let mut sends = Vec::new();
    let mut reused = 0;
    for (n, message) in messages.iter().enumerate() {
        sends.push((Some(n), message.key.clone(), message.bytes.clone()));
        if n % 2 == 1 {
            let tenant = [ACME, GLOBEX][n / 2 % 2];
            let id = if tenant == GLOBEX && reused < OWNED {
                reused += 1;
                format!("OWNED-{:03}", reused - 1)
            } else {
                format!("VALID-{n:04}")
            };
            let envelope = ingested(tenant, &id);
            sends.push((
                None,
                Some(envelope.partition_key()),
                envelope.encode().into_bytes(),
            ));
        }
    }
    let mut expected: HashMap<(i32, i64), usize> = HashMap::new();
    for chunk in sends.chunks(200) {
        let placed = join_all(
            chunk
                .iter()
                .map(|(_, key, bytes)| raw.send(topics::INGESTED, key.as_deref(), bytes)),
        )
        .await;
        for ((hostile, _, _), place) in chunk.iter().zip(placed) {
            if let Some(n) = hostile {
                expected.insert(place, *n);
            }
        }
    }
    assert_eq!(
        expected.len(),
        HOSTILE,
        "two hostile messages share an offset"
    );

    // Assert: one dead letter per hostile message, with its reason.
    let valid = (OWNED + MIXED_VALID) as i64;
    wait_for("every message is handled", LIMIT, async || {
        dead_letter_count(&producer.db).await >= HOSTILE as i64
            && processed_by(&producer.db, "intake").await >= valid
    })
    .await;
    let letters = letters(&producer.db).await;
    assert_eq!(letters.len(), HOSTILE);
    let mut seen_kinds: HashMap<&str, (usize, String)> = HashMap::new();
    for letter in &letters {
        let n = expected
            .remove(&(letter.partition, letter.offset))
            .unwrap_or_else(|| {
                panic!("a dead letter for no hostile message (or twice): {letter:?}")
            });
        let message = &messages[n];
        assert!(
            letter.reason.contains(&message.reason),
            "{} message #{n}: reason '{}' should contain '{}'",
            message.kind,
            letter.reason,
            message.reason
        );
        assert_eq!(
            (letter.class.as_str(), letter.attempts),
            ("permanent", 1),
            "{letter:?}"
        );
        let entry = seen_kinds
            .entry(message.kind)
            .or_insert((0, letter.reason.clone()));
        entry.0 += 1;
    }
    for (kind, (count, example)) in &seen_kinds {
        eprintln!(
            "{count:>4} x {kind:<17} e.g. {}",
            example.chars().take(110).collect::<String>()
        );
    }
    assert_eq!(
        seen_kinds.len(),
        13,
        "every kind of hostile message was produced"
    );
    assert_eq!(processed_by(&producer.db, "intake").await, valid);
    let exceptions = count(&producer.db, "SELECT COUNT(*) AS n FROM exceptions", vec![]).await;
    assert_eq!(exceptions, valid);
    let normalized = events_of_type(&producer.db, event_types::EXCEPTION_NORMALIZED).await;
    assert_eq!(normalized, valid);
    // Globex's reuse of acme's ids made exceptions of globex's own, beside acme's.
    let reused =
        "SELECT COUNT(*) AS n FROM exceptions WHERE exception_id LIKE 'OWNED-%' AND tenant_id = $1";
    for tenant in [ACME, GLOBEX] {
        assert_eq!(
            count(&producer.db, reused, vec![tenant.into()]).await,
            OWNED as i64,
            "{tenant}'s OWNED-* exceptions"
        );
    }

    // Every dead letter reached exceptions.dlq, with its headers.
    let unpublished = "SELECT COUNT(*) AS n FROM events WHERE published_at IS NULL";
    wait_for("the outbox is empty", LIMIT, async || {
        count(&producer.db, unpublished, vec![]).await == 0
    })
    .await;
    let headers = dlq_headers(&cluster, HOSTILE).await;
    assert_eq!(headers.len(), HOSTILE);
    for header in &headers {
        let topic = cluster.prefix.clone() + topics::INGESTED;
        assert!(
            [topics::INGESTED, topic.as_str()].contains(&header["dlq.original.topic"].as_str()),
            "{header:?}"
        );
        assert_eq!(header["dlq.error.class"], "permanent", "{header:?}");
        assert_eq!(header["dlq.role"], "intake");
        assert!(!header["dlq.reason"].is_empty() && header.contains_key("dlq.original.offset"));
    }

    // The process never restarted anything and is healthy.
    assert_eq!(worker.worker.pid(), pid);
    assert!(worker.alive());
    assert!(matches!(worker.get("/healthz").await, Some((200, _))));
    assert_eq!(worker.metric("actor_restarts_total", &[]).await, 0.0);
    assert_eq!(worker.metric("role_failed", &[]).await, 0.0);
    producer.close().await;
}
