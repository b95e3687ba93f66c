//! The inbound size limit, enforced from frame headers as the bytes arrive.
//!
//! actix's WebSocket decoder checks a frame's length only once the whole frame is buffered: a
//! header announcing a gigabyte makes it buffer whatever the client streams until the socket
//! closes. [`FrameGuard`] sits between the connection and that decoder, reads every frame header
//! itself and fails the stream the moment one announces more than the limit — before a byte of
//! that frame's payload is taken in. The bytes of acceptable frames pass through untouched.

use std::pin::Pin;
use std::task::{Context, Poll};

use actix_web::error::PayloadError;
use actix_web::web::Bytes;
use futures_util::Stream;

/// A header is at most 2 bytes, an 8-byte extended length and a 4-byte mask.
const MAX_HEADER: usize = 14;

enum State {
    /// Collecting a frame header (`have` of its bytes so far).
    Header {
        bytes: [u8; MAX_HEADER],
        have: usize,
    },
    /// Passing through the payload of an accepted frame.
    Payload {
        left: u64,
    },
    /// A header announced too much: everything before it has been passed on, the error is next.
    Refused,
    Done,
}

pub struct FrameGuard<S> {
    inner: S,
    limit: u64,
    state: State,
}

impl<S> FrameGuard<S> {
    pub fn new(inner: S, limit: usize) -> Self {
        Self { inner, limit: limit as u64, state: State::Header { bytes: [0; MAX_HEADER], have: 0 } }
    }
}

/// The header's full length once its first two bytes are known.
fn header_len(first_two: [u8; 2]) -> usize {
    let masked = first_two[1] & 0x80 != 0;
    let extended = match first_two[1] & 0x7f {
        126 => 2,
        127 => 8,
        _ => 0,
    };
    2 + extended + if masked { 4 } else { 0 }
}

/// The payload length a complete header announces.
fn payload_len(header: &[u8]) -> u64 {
    match header[1] & 0x7f {
        126 => u64::from(u16::from_be_bytes([header[2], header[3]])),
        127 => {
            let mut len = [0; 8];
            len.copy_from_slice(&header[2..10]);
            u64::from_be_bytes(len)
        }
        n => u64::from(n),
    }
}

impl<S> FrameGuard<S> {
    /// Walks `chunk` through the frame boundaries; answers how many of its bytes may pass
    /// (all of them unless a header in it is refused).
    fn scan(&mut self, chunk: &[u8]) -> usize {
        let mut at = 0;
        while at < chunk.len() {
            match &mut self.state {
                State::Header { bytes, have } => {
                    let start = at;
                    let needed = if *have < 2 { 2 } else { header_len([bytes[0], bytes[1]]) };
                    let take = (needed - *have).min(chunk.len() - at);
                    bytes[*have..*have + take].copy_from_slice(&chunk[at..at + take]);
                    *have += take;
                    at += take;
                    if *have < 2 {
                        continue;
                    }
                    let full = header_len([bytes[0], bytes[1]]);
                    if *have < full {
                        continue;
                    }
                    let len = payload_len(&bytes[..full]);
                    if len > self.limit {
                        self.state = State::Refused;
                        // The refused header's bytes (those in this chunk) are held back too.
                        return start;
                    }
                    self.state = if len == 0 {
                        State::Header { bytes: [0; MAX_HEADER], have: 0 }
                    } else {
                        State::Payload { left: len }
                    };
                }
                State::Payload { left } => {
                    let take = (*left).min((chunk.len() - at) as u64);
                    *left -= take;
                    at += take as usize;
                    if *left == 0 {
                        self.state = State::Header { bytes: [0; MAX_HEADER], have: 0 };
                    }
                }
                State::Refused | State::Done => return at,
            }
        }
        at
    }
}

impl<S> Stream for FrameGuard<S>
where
    S: Stream<Item = Result<Bytes, PayloadError>> + Unpin,
{
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        match this.state {
            State::Refused => {
                this.state = State::Done;
                return Poll::Ready(Some(Err(PayloadError::Overflow)));
            }
            State::Done => return Poll::Ready(None),
            _ => {}
        }
        match Pin::new(&mut this.inner).poll_next(cx) {
            Poll::Ready(Some(Ok(mut chunk))) => {
                let pass = this.scan(&chunk);
                if pass < chunk.len() {
                    chunk.truncate(pass);
                }
                if chunk.is_empty() && matches!(this.state, State::Refused) {
                    this.state = State::Done;
                    return Poll::Ready(Some(Err(PayloadError::Overflow)));
                }
                Poll::Ready(Some(Ok(chunk)))
            }
            other => other,
        }
    }
}

/// True when a protocol error from the decoder is this guard's refusal.
pub fn is_refusal(error: &std::io::Error) -> bool {
    error.get_ref().and_then(|e| e.downcast_ref::<PayloadError>()).is_some_and(|e| matches!(e, PayloadError::Overflow))
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;

    fn frame(len: usize) -> Vec<u8> {
        let mut f = vec![0x82];
        match len {
            0..=125 => f.push(0x80 | len as u8),
            126..=65535 => {
                f.push(0x80 | 126);
                f.extend_from_slice(&(len as u16).to_be_bytes());
            }
            _ => {
                f.push(0x80 | 127);
                f.extend_from_slice(&(len as u64).to_be_bytes());
            }
        }
        f.extend_from_slice(&[1, 2, 3, 4]);
        f.extend(std::iter::repeat_n(0u8, len));
        f
    }

    async fn run(chunks: Vec<Vec<u8>>, limit: usize) -> (Vec<u8>, bool) {
        let source = futures_util::stream::iter(chunks.into_iter().map(|c| Ok(Bytes::from(c))));
        let mut guard = FrameGuard::new(source, limit);
        let mut passed = Vec::new();
        while let Some(item) = guard.next().await {
            match item {
                Ok(bytes) => passed.extend_from_slice(&bytes),
                Err(_) => return (passed, true),
            }
        }
        (passed, false)
    }

    #[actix::test]
    async fn frames_within_the_limit_pass_whole_however_they_are_split() {
        let stream: Vec<u8> = [frame(0), frame(10), frame(300), frame(512)].concat();
        for split in [1, 2, 3, 7, 13, 100, stream.len()] {
            let chunks = stream.chunks(split).map(<[u8]>::to_vec).collect();
            assert_eq!(run(chunks, 512).await, (stream.clone(), false), "split {split}");
        }
    }

    #[actix::test]
    async fn a_header_over_the_limit_fails_before_its_payload_and_keeps_what_came_before() {
        let good = frame(5);
        let mut bad = vec![0x82, 0x80 | 127];
        bad.extend_from_slice(&(1u64 << 30).to_be_bytes());
        bad.extend_from_slice(&[1, 2, 3, 4]);
        let stream = [good.clone(), bad, vec![0; 4096]].concat();
        for split in [1, 5, 16, stream.len()] {
            let chunks = stream.chunks(split).map(<[u8]>::to_vec).collect();
            let (passed, refused) = run(chunks, 512).await;
            assert!(refused, "split {split}");
            // At most the refused header's first bytes, never its payload.
            assert!(passed.starts_with(&good) && passed.len() < good.len() + MAX_HEADER, "split {split}");
        }
        assert!(run(vec![frame(513)], 512).await.1);
    }
}
