//! The protocol rules of RFC 6455 for what a client sends, enforced on the bytes as they arrive.
//!
//! actix's WebSocket decoder checks a frame's length only once the whole frame is buffered (a
//! header announcing a gigabyte makes it buffer whatever the client streams), lets reserved bits,
//! close codes no peer may send and close reasons that are not UTF-8 through, and answers every
//! error it does find with no word on which rule was broken. [`FrameGuard`] sees the bytes
//! between the connection and that decoder first and reads every frame itself: headers, the
//! sequence of fragments, the text of text messages (UTF-8, across fragment and read boundaries)
//! and the payload of close frames. The first frame that breaks a rule is answered with a
//! [`Refusal`] that names the close code the client is owed — before any byte of that frame
//! reaches the decoder, so nothing that should be refused is buffered or acted on. The bytes of
//! good frames pass through untouched.

/// A header is at most 2 bytes, an 8-byte extended length and a 4-byte mask.
const MAX_HEADER: usize = 14;
/// Control frames carry at most this much (RFC 6455 §5.5).
const MAX_CONTROL_PAYLOAD: u64 = 125;

const CONTINUATION: u8 = 0x0;
const TEXT: u8 = 0x1;
const BINARY: u8 = 0x2;
const CLOSE: u8 = 0x8;
const PING: u8 = 0x9;
const PONG: u8 = 0xA;

/// Why the guard ended a connection: the close code the client is owed and a short reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    pub code: u16,
    pub reason: &'static str,
}

impl Refusal {
    const fn protocol(reason: &'static str) -> Self {
        Self { code: 1002, reason }
    }

    const NOT_UTF8: Self = Self { code: 1007, reason: "text is not UTF-8" };
    const TOO_BIG: Self = Self { code: 1009, reason: "message too big" };

    /// The `reason` label of the close metric.
    pub fn label(self) -> &'static str {
        match self.code {
            1007 => "bad_utf8",
            1009 => "too_big",
            _ => "protocol_error",
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.reason, self.code)
    }
}

impl std::error::Error for Refusal {}

/// A frame whose header has been read.
#[derive(Debug, Clone, Copy)]
struct Frame {
    opcode: u8,
    fin: bool,
    mask: [u8; 4],
    /// Payload bytes read so far, and in all.
    read: u64,
    len: u64,
}

enum State {
    /// Collecting a frame header (`have` of its bytes so far).
    Header { bytes: [u8; MAX_HEADER], have: usize },
    /// Reading the payload of an accepted frame.
    Payload(Frame),
    /// A frame broke a rule: nothing after it is read.
    Refused,
}

/// Checks UTF-8 over pieces: a character may be split between fragments or reads.
#[derive(Default)]
struct Utf8 {
    /// The start of a character whose rest has not arrived.
    pending: Vec<u8>,
}

impl Utf8 {
    fn feed(&mut self, bytes: &[u8]) -> bool {
        self.pending.extend_from_slice(bytes);
        match std::str::from_utf8(&self.pending) {
            Ok(_) => {
                self.pending.clear();
                true
            }
            // An incomplete character at the end: keep it for the next piece.
            Err(e) if e.error_len().is_none() => {
                self.pending.drain(..e.valid_up_to());
                true
            }
            Err(_) => false,
        }
    }

    /// The text ended: nothing may be left half-way through a character.
    fn finish(&mut self) -> bool {
        let whole = self.pending.is_empty();
        self.pending.clear();
        whole
    }
}

/// A fragmented (or single-frame) data message being read.
struct Message {
    text: bool,
    len: u64,
}

pub struct FrameGuard {
    limit: u64,
    state: State,
    message: Option<Message>,
    utf8: Utf8,
    /// The unmasked payload of the close frame being read.
    close: Vec<u8>,
}

impl FrameGuard {
    pub fn new(limit: usize) -> Self {
        Self {
            limit: limit as u64,
            state: State::Header { bytes: [0; MAX_HEADER], have: 0 },
            message: None,
            utf8: Utf8::default(),
            close: Vec::new(),
        }
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

/// Close codes a peer may send (RFC 6455 §7.4.1 and the IANA registry): the defined ones, and
/// those reserved for libraries, frameworks and applications.
fn valid_close_code(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

impl FrameGuard {
    /// Accepts or refuses a complete header.
    fn admit(&mut self, header: &[u8]) -> Result<Frame, Refusal> {
        let (first, second) = (header[0], header[1]);
        if first & 0x70 != 0 {
            return Err(Refusal::protocol("reserved bits set"));
        }
        if second & 0x80 == 0 {
            return Err(Refusal::protocol("unmasked client frame"));
        }
        let (opcode, fin, len) = (first & 0x0f, first & 0x80 != 0, payload_len(header));
        let mut mask = [0; 4];
        mask.copy_from_slice(&header[header.len() - 4..]);
        match opcode {
            CLOSE | PING | PONG => {
                if !fin {
                    return Err(Refusal::protocol("fragmented control frame"));
                }
                if len > MAX_CONTROL_PAYLOAD {
                    return Err(Refusal::protocol("control frame over 125 bytes"));
                }
                if opcode == CLOSE && len == 1 {
                    return Err(Refusal::protocol("close payload of one byte"));
                }
            }
            TEXT | BINARY => {
                if self.message.is_some() {
                    return Err(Refusal::protocol("new message before the last one ended"));
                }
                if len > self.limit {
                    return Err(Refusal::TOO_BIG);
                }
                self.message = Some(Message { text: opcode == TEXT, len });
            }
            CONTINUATION => {
                let Some(message) = self.message.as_mut() else {
                    return Err(Refusal::protocol("continuation without a message"));
                };
                message.len = message.len.saturating_add(len);
                if message.len > self.limit {
                    return Err(Refusal::TOO_BIG);
                }
            }
            _ => return Err(Refusal::protocol("unknown opcode")),
        }
        Ok(Frame { opcode, fin, mask, read: 0, len })
    }

    /// Takes payload bytes of `frame` (masked, as they came).
    fn payload(&mut self, frame: &mut Frame, masked: &[u8]) -> Result<(), Refusal> {
        let unmask = |frame: &Frame| -> Vec<u8> {
            masked.iter().enumerate().map(|(i, b)| b ^ frame.mask[(frame.read as usize + i) % 4]).collect()
        };
        match frame.opcode {
            CLOSE => self.close.extend_from_slice(&unmask(frame)),
            TEXT | CONTINUATION if self.message.as_ref().is_some_and(|m| m.text) && !self.utf8.feed(&unmask(frame)) => {
                return Err(Refusal::NOT_UTF8);
            }
            _ => {}
        }
        frame.read += masked.len() as u64;
        Ok(())
    }

    /// The last byte of `frame` has been taken.
    fn end_of_frame(&mut self, frame: &Frame) -> Result<(), Refusal> {
        match frame.opcode {
            CLOSE => {
                let payload = std::mem::take(&mut self.close);
                if let [a, b, reason @ ..] = payload.as_slice() {
                    if !valid_close_code(u16::from_be_bytes([*a, *b])) {
                        return Err(Refusal::protocol("invalid close code"));
                    }
                    if std::str::from_utf8(reason).is_err() {
                        return Err(Refusal::NOT_UTF8);
                    }
                }
            }
            PING | PONG => {}
            _ if frame.fin => {
                let text = self.message.take().is_some_and(|m| m.text);
                if text && !self.utf8.finish() {
                    return Err(Refusal::NOT_UTF8);
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Reads `chunk` through the rules: how many of its bytes may go on to the decoder (all of
    /// them unless a frame in it breaks one: then those before that frame), and the refusal if
    /// one did. Once a frame is refused, nothing more passes.
    pub fn check(&mut self, chunk: &[u8]) -> (usize, Option<Refusal>) {
        let mut at = 0;
        // Where the frame being read began in this chunk (0: in an earlier one; the decoder
        // keeps an incomplete frame to itself, so its earlier bytes never become a message).
        let mut frame_start = 0;
        while at < chunk.len() {
            let verdict = match &mut self.state {
                State::Header { bytes, have } => {
                    if *have == 0 {
                        frame_start = at;
                    }
                    let needed = if *have < 2 { 2 } else { header_len([bytes[0], bytes[1]]) };
                    let take = (needed - *have).min(chunk.len() - at);
                    bytes[*have..*have + take].copy_from_slice(&chunk[at..at + take]);
                    *have += take;
                    at += take;
                    if *have < 2 || *have < header_len([bytes[0], bytes[1]]) {
                        continue;
                    }
                    let header = *bytes;
                    let full = *have;
                    self.admit(&header[..full]).and_then(|frame| {
                        self.state = State::Payload(frame);
                        if frame.len == 0 { self.end_of_frame(&frame).map(|()| true) } else { Ok(false) }
                    })
                }
                State::Payload(frame) => {
                    let mut frame = *frame;
                    let take = (frame.len - frame.read).min((chunk.len() - at) as u64) as usize;
                    let result = self.payload(&mut frame, &chunk[at..at + take]);
                    at += take;
                    self.state = State::Payload(frame);
                    result.and_then(|()| {
                        if frame.read == frame.len { self.end_of_frame(&frame).map(|()| true) } else { Ok(false) }
                    })
                }
                State::Refused => return (at, None),
            };
            match verdict {
                Ok(true) => self.state = State::Header { bytes: [0; MAX_HEADER], have: 0 },
                Ok(false) => {}
                Err(refusal) => {
                    self.state = State::Refused;
                    return (frame_start, Some(refusal));
                }
            }
        }
        (at, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    /// The bytes that passed, and the refusal if any.
    fn run(chunks: Vec<Vec<u8>>, limit: usize) -> (Vec<u8>, Option<Refusal>) {
        let mut guard = FrameGuard::new(limit);
        let mut passed = Vec::new();
        for chunk in chunks {
            let (pass, refusal) = guard.check(&chunk);
            passed.extend_from_slice(&chunk[..pass]);
            if refusal.is_some() {
                return (passed, refusal);
            }
        }
        (passed, None)
    }

    #[test]
    fn frames_within_the_limit_pass_whole_however_they_are_split() {
        let stream: Vec<u8> = [frame(0), frame(10), frame(300), frame(512)].concat();
        for split in [1, 2, 3, 7, 13, 100, stream.len()] {
            let chunks = stream.chunks(split).map(<[u8]>::to_vec).collect();
            assert_eq!(run(chunks, 512), (stream.clone(), None), "split {split}");
        }
    }

    #[test]
    fn a_header_over_the_limit_fails_before_its_payload_and_keeps_what_came_before() {
        let good = frame(5);
        let mut bad = vec![0x82, 0x80 | 127];
        bad.extend_from_slice(&(1u64 << 30).to_be_bytes());
        bad.extend_from_slice(&[1, 2, 3, 4]);
        let stream = [good.clone(), bad, vec![0; 4096]].concat();
        for split in [1, 5, 16, stream.len()] {
            let chunks = stream.chunks(split).map(<[u8]>::to_vec).collect();
            let (passed, refused) = run(chunks, 512);
            assert_eq!(refused, Some(Refusal::TOO_BIG), "split {split}");
            // At most the refused header's first bytes, never its payload.
            assert!(passed.starts_with(&good) && passed.len() < good.len() + MAX_HEADER, "split {split}");
        }
        assert_eq!(run(vec![frame(513)], 512).1, Some(Refusal::TOO_BIG));
    }

    fn masked(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
        let key = [9, 8, 7, 6];
        let mut f = vec![(u8::from(fin) << 7) | opcode, 0x80 | payload.len() as u8];
        f.extend_from_slice(&key);
        f.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
        f
    }

    #[test]
    fn text_split_inside_characters_passes_and_text_that_is_not_utf8_is_refused_before_it_passes() {
        let word = "привет, мир".as_bytes();
        let stream = [masked(false, TEXT, &word[..3]), masked(true, CONTINUATION, &word[3..])].concat();
        for split in [1, 2, 3, 5, stream.len()] {
            let chunks = stream.chunks(split).map(<[u8]>::to_vec).collect();
            assert_eq!(run(chunks, 512), (stream.clone(), None), "split {split}");
        }

        let good = masked(true, TEXT, b"fine");
        let bad = masked(true, TEXT, &[0x68, 0xC3, 0x28]);
        for split in [1, 4, good.len() + bad.len()] {
            let stream = [good.clone(), bad.clone()].concat();
            let chunks: Vec<Vec<u8>> = stream.chunks(split).map(<[u8]>::to_vec).collect();
            let (passed, refused) = run(chunks, 512);
            assert_eq!(refused, Some(Refusal::NOT_UTF8), "split {split}");
            // Whole frames only: the bad frame's bytes may have begun to pass, never completed.
            assert!(passed.starts_with(&good) && passed.len() < good.len() + bad.len(), "split {split}");
        }
    }
}
