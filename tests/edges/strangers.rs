//! Strangers on the HTTP port: a key is checked before any body is read, a body must arrive
//! whole within HTTP_BODY_TIMEOUT_SECS, bodies read at once are capped, and a flood of keyless
//! connections with unfinished bodies costs bounded memory while liveness keeps answering.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::embedded_worker;

const START_LIMIT: Duration = Duration::from_secs(30);
/// The body the flood announces (a little over the 256 KiB limit) and how much of it is sent.
const ANNOUNCED_BYTES: usize = 257 * 1024;
const SENT_BYTES: usize = 200 * 1024;

fn post_head(port: u16, key: Option<&str>, content_length: usize) -> String {
    let auth = key.map_or(String::new(), |key| {
        format!("Authorization: Bearer {key}\r\n")
    });
    format!(
        "POST /v1/exceptions HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n\
         Content-Length: {content_length}\r\n{auth}\r\n"
    )
}

/// What the server answered on `stream` (the status line's code and the whole text), reading
/// until it closes or `limit` passes.
fn answer(stream: &mut TcpStream, limit: Duration) -> (u16, String) {
    stream
        .set_read_timeout(Some(limit))
        .expect("Failed to set a read timeout");
    let mut text = Vec::new();
    let mut buffer = [0u8; 4096];
    while let Ok(read) = stream.read(&mut buffer) {
        if read == 0 {
            break;
        }
        text.extend_from_slice(&buffer[..read]);
        if String::from_utf8_lossy(&text).contains("\r\n\r\n{") && text.ends_with(b"}") {
            break;
        }
    }
    let text = String::from_utf8_lossy(&text).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    (status, text)
}

#[actix_rt::test]
async fn a_request_without_a_key_is_refused_before_its_body() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let worker = embedded_worker("keyless", dir.path(), &[]);
    worker.wait_ready(START_LIMIT).await;
    let port = worker.port();

    let refused = actix_rt::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("Failed to connect");
        stream
            .write_all(post_head(port, None, 200_000).as_bytes())
            .expect("Failed to send the head");
        let started = Instant::now();
        let (status, _) = answer(&mut stream, Duration::from_secs(5));
        (status, started.elapsed())
    })
    .await
    .expect("the client thread");

    assert_eq!(refused.0, 401, "no key, no body read");
    assert!(
        refused.1 < Duration::from_secs(1),
        "answered after {:?}",
        refused.1
    );
}

#[actix_rt::test]
async fn a_trickling_body_is_cut_off() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let worker = embedded_worker("trickle", dir.path(), &[("HTTP_BODY_TIMEOUT_SECS", "2")]);
    worker.wait_ready(START_LIMIT).await;
    let port = worker.port();

    let (status, elapsed) = actix_rt::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("Failed to connect");
        stream
            .write_all(post_head(port, Some("acme-demo-key"), 1000).as_bytes())
            .expect("Failed to send the head");
        let started = Instant::now();
        stream
            .set_nonblocking(false)
            .expect("Failed to set blocking");
        // One byte every half second, for up to 20 seconds: far slower than the limit.
        let mut text = Vec::new();
        stream
            .set_read_timeout(Some(Duration::from_millis(500)))
            .expect("Failed to set a read timeout");
        while started.elapsed() < Duration::from_secs(20) {
            if stream.write_all(b" ").is_err() {
                break;
            }
            let mut buffer = [0u8; 4096];
            match stream.read(&mut buffer) {
                Ok(0) => break,
                Ok(read) => {
                    text.extend_from_slice(&buffer[..read]);
                    if text.ends_with(b"}") {
                        break;
                    }
                }
                Err(_) => continue,
            }
        }
        let text = String::from_utf8_lossy(&text).into_owned();
        let status: u16 = text
            .split_whitespace()
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or(0);
        (status, started.elapsed())
    })
    .await
    .expect("the client thread");

    assert_eq!(
        status, 408,
        "a body slower than HTTP_BODY_TIMEOUT_SECS is cut off"
    );
    assert!(
        elapsed < Duration::from_secs(5),
        "cut off after {elapsed:?}"
    );
}

#[actix_rt::test]
async fn bodies_beyond_the_cap_are_refused_with_retry_after() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let env = [
        ("HTTP_MAX_CONCURRENT_BODIES", "2"),
        ("HTTP_BODY_TIMEOUT_SECS", "5"),
    ];
    let worker = embedded_worker("capped", dir.path(), &env);
    worker.wait_ready(START_LIMIT).await;
    let port = worker.port();

    let third = actix_rt::task::spawn_blocking(move || {
        // Two authenticated bodies in progress hold both slots.
        let holders: Vec<TcpStream> = (0..2)
            .map(|_| {
                let mut stream =
                    TcpStream::connect(("127.0.0.1", port)).expect("Failed to connect");
                stream
                    .write_all(post_head(port, Some("acme-demo-key"), 100).as_bytes())
                    .expect("Failed to send the head");
                stream.write_all(b"{").expect("Failed to start the body");
                stream
            })
            .collect();
        std::thread::sleep(Duration::from_millis(300));
        let mut third = TcpStream::connect(("127.0.0.1", port)).expect("Failed to connect");
        third
            .write_all(post_head(port, Some("acme-demo-key"), 2).as_bytes())
            .expect("Failed to send the head");
        third.write_all(b"{}").expect("Failed to send the body");
        let answered = answer(&mut third, Duration::from_secs(3));
        drop(holders);
        answered
    })
    .await
    .expect("the client thread");

    assert_eq!(third.0, 503, "{}", third.1);
    assert!(
        third.1.to_ascii_lowercase().contains("retry-after: 1"),
        "{}",
        third.1
    );
    // Once the slots are free again, a body is read as usual.
    let accepted = reqwest::Client::new()
        .post(worker.url("/v1/exceptions"))
        .bearer_auth("acme-demo-key")
        .body(r#"{"exceptionId": "AFTER-CAP-1", "exceptionType": "TRADE_BREAK"}"#)
        .send()
        .await
        .expect("Failed to POST");
    assert_eq!(accepted.status().as_u16(), 202);
}

/// Connections of the flood: each announces a 257 KB body without a key and sends 200 KB of it.
const FLOOD: usize = 1500;
/// The most the process may hold, at its peak, while the flood lasts.
const MEMORY_BOUND_KIB: u64 = 128 * 1024;

#[actix_rt::test]
async fn a_flood_of_keyless_slow_bodies_costs_bounded_memory_and_liveness_answers() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let worker = embedded_worker("flood", dir.path(), &[]);
    worker.wait_ready(START_LIMIT).await;
    let port = worker.port();
    let before = worker.memory_kib("VmRSS").unwrap_or(0);

    // Act: the flood from a thread of its own; liveness probed meanwhile.
    let flood = actix_rt::task::spawn_blocking(move || {
        let body = vec![b'x'; SENT_BYTES];
        let mut streams = Vec::with_capacity(FLOOD);
        for _ in 0..FLOOD {
            let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
                continue;
            };
            let _ = stream.set_nonblocking(true);
            let _ = stream.write_all(post_head(port, None, ANNOUNCED_BYTES).as_bytes());
            let _ = stream.write(&body);
            streams.push(stream);
        }
        std::thread::sleep(Duration::from_secs(3));
        streams.len()
    });
    let mut slowest = Duration::ZERO;
    let mut failed_probes = 0;
    while !flood.is_finished() {
        let started = Instant::now();
        match worker.get("/healthz").await {
            Some((200, _)) => slowest = slowest.max(started.elapsed()),
            _ => failed_probes += 1,
        }
        actix_rt::time::sleep(Duration::from_millis(200)).await;
    }
    let opened = flood.await.expect("the flood thread");

    // Assert
    let peak = worker
        .memory_kib("VmHWM")
        .expect("the worker's peak memory");
    // The memory is given back within a few seconds of the flood's end.
    let given_back = before + 32 * 1024;
    test_support::wait_for(
        "the flood's memory is given back",
        Duration::from_secs(10),
        async || worker.memory_kib("VmRSS").unwrap_or(u64::MAX) < given_back,
    )
    .await;
    eprintln!(
        "flood of {opened} connections: RSS before {before} KiB, peak {peak} KiB, after {} KiB; \
         slowest /healthz {slowest:?}",
        worker.memory_kib("VmRSS").unwrap_or(0)
    );
    assert!(opened >= FLOOD * 9 / 10, "only {opened} connections opened");
    assert!(peak < MEMORY_BOUND_KIB, "peak RSS {peak} KiB");
    assert_eq!(
        failed_probes, 0,
        "/healthz did not answer 200 during the flood"
    );
    assert!(matches!(worker.get("/healthz").await, Some((200, _))));
}
