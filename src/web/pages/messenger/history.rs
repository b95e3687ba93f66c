//! A chat's messages as a page shows them (a page of history, oldest first) and who of the other
//! members has read which of them.

use std::collections::{HashMap, HashSet};

use nosebook_core::Kind;
use nosebook_core::chats;
use nosebook_core::state::AppState;
use nosebook_events::wire::Message;
use nosebook_schema::ids::{ChatId, MessageId};
use nosebook_schema::queries::messages::Position;

use crate::web::pages::{PageError, signed_in};
use crate::web::session::Viewer;

/// Messages per page of history.
const HISTORY: usize = 20;

/// Who of the other members has read which of some shown messages.
#[derive(Default)]
pub(super) struct Readers {
    /// How many others have read each message (absent: nobody).
    pub seen: HashMap<uuid::Uuid, i64>,
    /// Each other member who has read any of them, at the newest of them they have read.
    pub here: HashMap<uuid::Uuid, Vec<uuid::Uuid>>,
}

impl Readers {
    pub fn seen_of(&self, message: &Message) -> i64 {
        self.seen.get(&message.id).copied().unwrap_or(0)
    }
}

/// The readers of `messages` of `chat` (in the order shown, oldest first).
pub(super) async fn readers(
    state: &AppState,
    viewer: &Viewer,
    chat: ChatId,
    messages: &[Message],
) -> Result<Readers, PageError> {
    let caller = signed_in(viewer)?;
    let me = caller.user.id.0;
    let marks: Vec<(uuid::Uuid, uuid::Uuid)> = chats::reads(state, &caller, chat)
        .await?
        .into_iter()
        .filter(|mark| mark.user_id != me)
        .filter_map(|mark| Some((mark.user_id, mark.up_to?)))
        .collect();
    let shown: Vec<uuid::Uuid> = messages.iter().map(|m| m.id).collect();
    // A read mark may be on a message not shown (older, newer on another page, or removed): its
    // readers are counted too.
    let unshown: HashSet<uuid::Uuid> = marks.iter().map(|(_, up_to)| *up_to).filter(|id| !shown.contains(id)).collect();
    let ids: Vec<MessageId> = shown.iter().chain(&unshown).map(|id| MessageId(*id)).collect();
    let seen: HashMap<uuid::Uuid, i64> =
        chats::seen_by(state, &caller, chat, &ids).await?.into_iter().map(|(id, n)| (id.0, n)).collect();
    let mut here: HashMap<uuid::Uuid, Vec<uuid::Uuid>> = HashMap::new();
    for (member, up_to) in marks {
        if let Some(at) = stands_at(&shown, &seen, up_to) {
            here.entry(at).or_default().push(member);
        }
    }
    Ok(Readers { seen, here })
}

/// Where a member whose read mark is on `up_to` stands among `shown` (oldest first): the newest
/// of them they have read. `seen` counts the readers of each message, `up_to` too, the viewer
/// left out. Whoever has read a message has read every one before it, so a message has at least
/// as many readers as `up_to` exactly when it is not after it (one after it lacks at least this
/// member) — which places a mark on a message not shown (removed, or on another page) too.
fn stands_at(shown: &[uuid::Uuid], seen: &HashMap<uuid::Uuid, i64>, up_to: uuid::Uuid) -> Option<uuid::Uuid> {
    if shown.contains(&up_to) {
        return Some(up_to);
    }
    let of_mark = *seen.get(&up_to)?;
    shown.iter().rev().find(|id| seen.get(id).copied().unwrap_or(0) >= of_mark).copied()
}

pub(super) struct History {
    /// Oldest first, as shown.
    pub messages: Vec<Message>,
    pub readers: Readers,
    /// Cursor of the page before the oldest shown.
    pub earlier: Option<String>,
}

pub(super) async fn history(
    state: &AppState,
    viewer: &Viewer,
    chat: ChatId,
    before: Option<&str>,
) -> Result<History, PageError> {
    let caller = signed_in(viewer)?;
    let position = match before.filter(|b| !b.is_empty()) {
        None => Position::Newest,
        Some(before) => Position::Older(nosebook_core::cursor(before, Kind::MessagePresenter)?),
    };
    let page = chats::messages(state, &caller, chat, position, HISTORY).await?;
    let mut messages = page.data;
    messages.reverse();
    let readers = readers(state, viewer, chat, &messages).await?;
    Ok(History { messages, readers, earlier: page.next })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_mark_stands_at_the_newest_shown_message_its_member_has_read() {
        let [older, a, removed, b, c] = [0, 1, 2, 3, 4].map(|n| uuid::Uuid::from_u128(n + 1));
        let shown = [a, b, c];
        // Four others: one read up to `a`, one up to `removed` (between `a` and `b`), one up to
        // `c`, one only up to `older`, before the page.
        let seen = HashMap::from([(older, 4), (a, 3), (removed, 2), (b, 1), (c, 1)]);
        assert_eq!(stands_at(&shown, &seen, a), Some(a));
        assert_eq!(stands_at(&shown, &seen, c), Some(c));
        assert_eq!(stands_at(&shown, &seen, removed), Some(a), "a removed message: the one before it");
        assert_eq!(stands_at(&shown, &seen, older), None, "nothing shown read");
        // A page of older messages: a mark on a newer one stands at its newest.
        let earlier = [older, a];
        assert_eq!(stands_at(&earlier, &seen, c), Some(a));
    }
}
