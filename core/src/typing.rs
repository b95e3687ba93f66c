//! "Anna is typing…": a member tells a chat they are typing and the other members' sockets get
//! `typing`, on every node. Nothing is stored — the event goes straight to the broker — and
//! clients let it fade by themselves ([`SHOWN_FOR`] is what the web app uses), so a typist who
//! stops or leaves needs no "stopped" event. One person's typing in one chat is told at most once
//! per [`TOLD_EVERY`] per node, however often their client reports it.

use std::time::Duration;

use nosebook_actors::Caller;
use nosebook_events::{Event, Typing};
use nosebook_schema::ids::{ChatId, UserId};
use nosebook_schema::queries::chats;

use super::CoreResult;
use crate::state::AppState;

pub use crate::caches::TOLD_EVERY;
/// How long clients show someone as typing after the last `typing`.
pub const SHOWN_FOR: Duration = Duration::from_secs(6);

/// The caller is typing in `chat`: the other members hear of it, unless they just did.
pub async fn typing(state: &AppState, caller: &Caller, chat: ChatId) -> CoreResult<()> {
    let me = caller.user.id;
    let mut conn = state.db.get().await?;
    let members = chats::members(&mut conn, chat).await?;
    drop(conn);
    if !members.contains(&me) {
        return Err(super::chats::not_a_member());
    }
    let key = (me, chat);
    if state.typing.0.contains_key(&key) {
        return Ok(());
    }
    state.typing.0.insert(key, ());
    let others: Vec<UserId> = members.into_iter().filter(|m| *m != me).collect();
    let event = Event::Typing(Typing { chat_id: chat.0, user: state.present_caller(caller.user.clone()) });
    state.relay.publish_ephemeral(others, event.frame());
    Ok(())
}
