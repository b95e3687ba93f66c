//! The WebSocket protocol on the wire (RFC 6455), case by case, in the spirit of the Autobahn
//! test suite's cases 1–7 and 9. The client here is a raw TCP socket that writes frames byte by
//! byte: a WebSocket library would mask, validate and answer for us and so hide what the server
//! really does. For the same reason the opcodes below are this file's own, not the server's.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{Env, TestApp, spawn_app_in};
use crate::support::fresh_database;

/// How long a case waits for the server before it calls the server silent.
const PATIENCE: Duration = Duration::from_secs(10);

const CONTINUATION: u8 = 0x0;
const TEXT: u8 = 0x1;
const BINARY: u8 = 0x2;
const CLOSE: u8 = 0x8;
const PING: u8 = 0x9;
const PONG: u8 = 0xA;

/// A frame as the server sent it.
#[derive(Debug, PartialEq, Eq)]
struct Frame {
    fin: bool,
    opcode: u8,
    payload: Vec<u8>,
}

impl Frame {
    /// The close code and reason of a close frame.
    fn close(&self) -> (Option<u16>, String) {
        assert_eq!(self.opcode, CLOSE, "not a close frame: {self:?}");
        match self.payload.as_slice() {
            [] => (None, String::new()),
            [a, b, reason @ ..] => (Some(u16::from_be_bytes([*a, *b])), String::from_utf8_lossy(reason).into_owned()),
            _ => panic!("a close payload of one byte"),
        }
    }
}

/// The bytes of one frame, masked with `mask` when given (clients must mask, servers must not).
fn frame(fin: bool, rsv: u8, opcode: u8, payload: &[u8], mask: Option<[u8; 4]>) -> Vec<u8> {
    let mut out = vec![(u8::from(fin) << 7) | (rsv << 4) | opcode];
    let masked = if mask.is_some() { 0x80 } else { 0 };
    match payload.len() {
        n if n < 126 => out.push(masked | n as u8),
        n if n <= 0xFFFF => {
            out.push(masked | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(masked | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    match mask {
        Some(key) => {
            out.extend_from_slice(&key);
            out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
        }
        None => out.extend_from_slice(payload),
    }
    out
}

/// A well-formed client frame.
fn client(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
    frame(fin, 0, opcode, payload, Some([0x37, 0xfa, 0x21, 0x3d]))
}

fn close_payload(code: u16, reason: &str) -> Vec<u8> {
    let mut payload = code.to_be_bytes().to_vec();
    payload.extend_from_slice(reason.as_bytes());
    payload
}

/// A WebSocket connection driven by hand (or its reading half).
struct Raw<S = TcpStream> {
    stream: S,
    buf: Vec<u8>,
}

impl Raw {
    /// Upgrades a plain TCP connection with a hand-written request.
    async fn open(app: &TestApp, session: &str) -> Self {
        let address = app.address.trim_start_matches("http://");
        let mut stream = TcpStream::connect(address).await.unwrap();
        let request = format!(
            "GET /ws HTTP/1.1\r\nHost: {address}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
             X-Auth-Session-Id: {session}\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut raw = Self { stream, buf: Vec::new() };
        let head = loop {
            if let Some(end) = raw.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&raw.buf[..end]).into_owned();
                raw.buf.drain(..end + 4);
                break head;
            }
            assert!(raw.fill().await, "the connection ended during the handshake");
        };
        assert!(head.starts_with("HTTP/1.1 101"), "upgrade refused: {head}");
        // RFC 6455 §1.3's example key has this accept value.
        assert!(head.contains("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), "wrong accept key: {head}");
        raw
    }

    async fn send(&mut self, bytes: &[u8]) {
        // The server may already have closed (that is what some cases test): a failed write is
        // judged by what the server sent before, not here.
        let _ = self.stream.write_all(bytes).await;
    }
}

impl<S: tokio::io::AsyncRead + Unpin> Raw<S> {
    /// Reads more bytes; `false` when the connection ended.
    async fn fill(&mut self) -> bool {
        let mut chunk = [0u8; 4096];
        match tokio::time::timeout(PATIENCE, self.stream.read(&mut chunk)).await {
            Ok(Ok(0) | Err(_)) => false,
            Ok(Ok(n)) => {
                self.buf.extend_from_slice(&chunk[..n]);
                true
            }
            Err(_) => panic!("the server sent nothing for {PATIENCE:?}"),
        }
    }

    /// The next frame, or `None` when the connection ended first.
    async fn frame(&mut self) -> Option<Frame> {
        loop {
            if let Some((frame, used)) = parse(&self.buf) {
                self.buf.drain(..used);
                return Some(frame);
            }
            if !self.fill().await {
                assert!(self.buf.is_empty(), "the connection ended inside a frame: {:?}", self.buf);
                return None;
            }
        }
    }

    /// The next frame that is not a ping (the server's keep-alive may come at any time).
    async fn next(&mut self) -> Option<Frame> {
        loop {
            match self.frame().await {
                Some(Frame { opcode: PING, .. }) => continue,
                other => return other,
            }
        }
    }

    /// The server's close frame; then the server must end the TCP connection.
    async fn closed_with(&mut self) -> (Option<u16>, String) {
        let close = self.next().await.expect("the connection ended without a close frame");
        let answer = close.close();
        assert!(self.frame().await.is_none(), "frames after the close frame");
        answer
    }
}

/// One frame from the front of `buf`, and how many bytes it took.
fn parse(buf: &[u8]) -> Option<(Frame, usize)> {
    let [first, second, ..] = *buf else { return None };
    assert_eq!(second & 0x80, 0, "the server masked a frame");
    assert_eq!(first & 0x70, 0, "the server set reserved bits");
    let (len, at) = match second & 0x7f {
        126 if buf.len() >= 4 => (usize::from(u16::from_be_bytes([buf[2], buf[3]])), 4),
        127 if buf.len() >= 10 => (u64::from_be_bytes(buf[2..10].try_into().ok()?) as usize, 10),
        126 | 127 => return None,
        n => (usize::from(n), 2),
    };
    let payload = buf.get(at..at + len)?.to_vec();
    Some((Frame { fin: first & 0x80 != 0, opcode: first & 0x0f, payload }, at + len))
}

async fn connected() -> (TestApp, Raw) {
    let app = spawn_app_in(Env::TestingWithoutBroker, fresh_database().await).await;
    let (_, session) = app.register("wire").await;
    let raw = Raw::open(&app, &session).await;
    (app, raw)
}

/// Each case: what the client sends, and the close code the server must answer with.
async fn refused(bytes: Vec<u8>, code: u16) {
    let (_app, mut raw) = connected().await;
    raw.send(&bytes).await;
    let (got, reason) = raw.closed_with().await;
    assert_eq!(got, Some(code), "close reason: {reason:?}");
}

#[actix_web::test]
async fn a_client_close_is_answered_with_a_close_echoing_its_code() {
    let (_app, mut raw) = connected().await;
    raw.send(&client(true, CLOSE, &close_payload(1000, "bye"))).await;
    assert_eq!(raw.closed_with().await.0, Some(1000));

    let (_app, mut raw) = connected().await;
    raw.send(&client(true, CLOSE, &close_payload(4321, "app code"))).await;
    assert_eq!(raw.closed_with().await.0, Some(4321));

    // A close without a code is answered without one (RFC 6455 §5.5.1).
    let (_app, mut raw) = connected().await;
    raw.send(&client(true, CLOSE, &[])).await;
    assert_eq!(raw.closed_with().await.0, None);
}

#[actix_web::test]
async fn a_ping_is_answered_with_a_pong_carrying_the_same_payload() {
    let (_app, mut raw) = connected().await;
    for payload in [&b""[..], b"hello", &[0xAB; 125]] {
        raw.send(&client(true, PING, payload)).await;
        assert_eq!(raw.next().await, Some(Frame { fin: true, opcode: PONG, payload: payload.to_vec() }));
    }
}

#[actix_web::test]
async fn fragmented_messages_within_the_limit_are_taken_and_pings_between_fragments_answered() {
    let (_app, mut raw) = connected().await;
    raw.send(&client(false, TEXT, b"hel")).await;
    raw.send(&client(true, PING, b"between")).await;
    assert_eq!(raw.next().await, Some(Frame { fin: true, opcode: PONG, payload: b"between".to_vec() }));
    raw.send(&client(false, CONTINUATION, b"lo, ")).await;
    raw.send(&client(true, CONTINUATION, "wörld".as_bytes())).await;
    raw.send(&client(false, BINARY, &[1, 2])).await;
    raw.send(&client(true, CONTINUATION, &[3])).await;
    // Still open: the next ping is answered.
    raw.send(&client(true, PING, b"after")).await;
    assert_eq!(raw.next().await, Some(Frame { fin: true, opcode: PONG, payload: b"after".to_vec() }));
    raw.send(&client(true, CLOSE, &close_payload(1000, ""))).await;
    assert_eq!(raw.closed_with().await.0, Some(1000));
}

#[actix_web::test]
async fn an_unmasked_client_frame_is_a_protocol_error() {
    refused(frame(true, 0, TEXT, b"hello", None), 1002).await;
}

#[actix_web::test]
async fn reserved_bits_are_a_protocol_error() {
    for rsv in [1, 2, 4] {
        refused(frame(true, rsv, TEXT, b"hello", Some([1, 2, 3, 4])), 1002).await;
    }
}

#[actix_web::test]
async fn unknown_opcodes_are_a_protocol_error() {
    for opcode in [3, 7, 0xB, 0xF] {
        refused(client(true, opcode, b""), 1002).await;
    }
}

#[actix_web::test]
async fn control_frames_over_125_bytes_or_fragmented_are_a_protocol_error() {
    refused(client(true, PING, &[0; 126]), 1002).await;
    refused(client(false, PING, b"part"), 1002).await;
    refused(client(true, CLOSE, &close_payload(1000, &"x".repeat(124))), 1002).await;
}

#[actix_web::test]
async fn a_continuation_without_a_start_or_a_new_message_inside_one_is_a_protocol_error() {
    refused(client(true, CONTINUATION, b"orphan"), 1002).await;
    let mut bytes = client(false, TEXT, b"one");
    bytes.extend(client(true, TEXT, b"two"));
    refused(bytes, 1002).await;
}

#[actix_web::test]
async fn text_that_is_not_utf8_is_refused_with_1007() {
    refused(client(true, TEXT, &[0x68, 0xC3, 0x28]), 1007).await;
    // Split inside a character is fine; invalid once whole is not.
    let mut bytes = client(false, TEXT, &[0xCE]);
    bytes.extend(client(true, CONTINUATION, &[0xBA]));
    bytes.extend(client(true, PING, b"ok"));
    let (_app, mut raw) = connected().await;
    raw.send(&bytes).await;
    assert_eq!(raw.next().await, Some(Frame { fin: true, opcode: PONG, payload: b"ok".to_vec() }));
    let mut bytes = client(false, TEXT, &[0xCE]);
    bytes.extend(client(true, CONTINUATION, &[0x28]));
    refused(bytes, 1007).await;
}

#[actix_web::test]
async fn a_message_over_the_limit_is_refused_with_1009_from_its_header() {
    // Only the header is sent: the server decides before any payload arrives.
    let header = &client(true, TEXT, &vec![b'x'; 100_000])[..14];
    refused(header.to_vec(), 1009).await;
    // Fragments each under the limit, together over it.
    let limit = nosebook_notifier::connection::MAX_INBOUND_FRAME;
    let mut bytes = client(false, TEXT, &vec![b'x'; limit / 2 + 1]);
    bytes.extend(client(true, CONTINUATION, &vec![b'x'; limit / 2 + 1]));
    refused(bytes, 1009).await;
}

#[actix_web::test]
async fn a_frame_announcing_a_gigabyte_is_refused_with_1009_while_its_payload_streams_in() {
    let (_app, raw) = connected().await;
    let Raw { stream, buf } = raw;
    let (read, mut write) = stream.into_split();
    // The header, then the payload streamed for as long as the server takes it: the server must
    // answer 1009 without waiting for (or buffering) the frame.
    let writer = tokio::spawn(async move {
        let mut header = vec![0x80 | BINARY, 0x80 | 127];
        header.extend_from_slice(&(1u64 << 30).to_be_bytes());
        header.extend_from_slice(&[1, 2, 3, 4]);
        write.write_all(&header).await.unwrap();
        let chunk = vec![0u8; 64 * 1024];
        for _ in 0..(256 * 1024 * 1024 / chunk.len()) {
            if write.write_all(&chunk).await.is_err() {
                return;
            }
        }
    });
    let mut reader = Raw { stream: read, buf };
    let close = tokio::time::timeout(Duration::from_secs(30), reader.next()).await;
    assert_eq!(close.expect("no answer while the payload streamed").map(|f| f.close().0), Some(Some(1009)));
    writer.abort();
}

#[actix_web::test]
async fn a_close_with_an_invalid_code_or_reason_is_a_protocol_error() {
    // Codes a peer must never send (RFC 6455 §7.4.1), a one-byte payload, a reason not UTF-8.
    for code in [0u16, 999, 1004, 1005, 1006, 1015, 2000, 5000] {
        refused(client(true, CLOSE, &close_payload(code, "")), 1002).await;
    }
    refused(client(true, CLOSE, &[0x03]), 1002).await;
    let mut payload = 1000u16.to_be_bytes().to_vec();
    payload.extend_from_slice(&[0xC3, 0x28]);
    refused(client(true, CLOSE, &payload), 1007).await;
}
