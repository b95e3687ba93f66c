//! The friendship graph (docs/API.md §5.6): requests and their answers, unfriending, lists and
//! relations. A request is announced to its responder, an acceptance to its requester.

use std::collections::HashMap;

use nosebook_actors::Caller;
use nosebook_events::wire::{FriendRequest, FriendshipItem, FriendshipType, PageOf, Relations};
use nosebook_events::{Event, RequestAccepted, RequestSent};
use nosebook_schema::ids::UserId;
use nosebook_schema::models::FriendRequestRow;
use nosebook_schema::paging::Cursor;
use nosebook_schema::queries::friendship::{self, FriendshipFilter};
use nosebook_schema::{AsyncConnection, DbError};

use super::{CoreError, CoreResult, Kind};
use crate::state::AppState;

const KIND: Kind = Kind::Friendship;
/// At most this many targets per relations question.
pub const MAX_TARGETS: usize = 20;

fn request_not_found() -> CoreError {
    CoreError::not_found(KIND, "Заявка не найдена")
}

/// Asks `responder` to be friends, with an optional note (at most 256 characters).
pub async fn send_request(
    state: &AppState,
    caller: &Caller,
    responder: UserId,
    note: &str,
) -> CoreResult<FriendRequest> {
    if responder == caller.user.id {
        return Err(CoreError::invalid(KIND, "You cannot send a friend request to yourself"));
    }
    let note = super::note(note, "message")?;
    let row = FriendRequestRow {
        requester_id: caller.user.id,
        responder_id: responder,
        message: note.into_inner(),
        accepted: false,
        viewed: false,
        created_at: state.clock.now(),
    };
    let requester = state.present_caller(caller.user.clone());
    let mut conn = state.change_conn().await?;
    let sent = conn
        .transaction(async |conn| {
            let Some(row) = friendship::insert(conn, &row).await? else {
                return Ok(None);
            };
            let event = Event::FriendRequest(RequestSent { request: row.clone().into(), requester });
            event.queue(conn, &[row.responder_id]).await?;
            Ok::<_, DbError>(Some(row))
        })
        .await;
    match sent {
        Ok(Some(row)) => Ok(row.into()),
        Ok(None) => Err(CoreError::conflict(KIND, "Заявка в друзья уже отправлена")),
        Err(e) if e.is_foreign_key_violation() => {
            Err(CoreError::not_found(KIND, format!("user {responder} does not exist")))
        }
        Err(e) => Err(e.into()),
    }
}

/// Accepts or denies `requester`'s request to the caller. Only an acceptance is announced: a
/// denial stays quiet, as on any social network.
pub async fn answer(state: &AppState, caller: &Caller, requester: UserId, accept: bool) -> CoreResult<FriendRequest> {
    let responder = accept.then(|| state.present_caller(caller.user.clone()));
    let mut conn = state.change_conn().await?;
    let answered = conn
        .transaction(async |conn| {
            let Some(row) = friendship::respond(conn, requester, caller.user.id, accept).await? else {
                return Ok(None);
            };
            if let Some(responder) = responder {
                let event = Event::FriendRequestAccepted(RequestAccepted { request: row.clone().into(), responder });
                event.queue(conn, &[row.requester_id]).await?;
            }
            Ok::<_, DbError>(Some(row))
        })
        .await?;
    let row = answered.ok_or_else(request_not_found)?;
    Ok(row.into())
}

/// Takes back the caller's pending request to `responder`, who hears of it (their list of
/// requests and their count shrink).
pub async fn cancel(state: &AppState, caller: &Caller, responder: UserId) -> CoreResult<FriendRequest> {
    let mut conn = state.change_conn().await?;
    let row = conn
        .transaction(async |conn| {
            let Some(row) = friendship::cancel(conn, caller.user.id, responder).await? else {
                return Ok(None);
            };
            Event::FriendRequestCancelled(row.clone().into()).queue(conn, &[responder]).await?;
            Ok::<_, DbError>(Some(row))
        })
        .await?;
    let row = row.ok_or_else(request_not_found)?;
    Ok(row.into())
}

/// Ends the caller's friendship with `friend`, who hears of it (their pages stop offering what
/// only friends may do).
pub async fn unfriend(state: &AppState, caller: &Caller, friend: UserId) -> CoreResult<FriendRequest> {
    let mut conn = state.change_conn().await?;
    let row = conn
        .transaction(async |conn| {
            let Some(row) = friendship::unfriend(conn, caller.user.id, friend).await? else {
                return Ok(None);
            };
            Event::FriendRemoved(row.clone().into()).queue(conn, &[friend]).await?;
            Ok::<_, DbError>(Some(row))
        })
        .await?;
    let row = row.ok_or_else(request_not_found)?;
    Ok(row.into())
}

/// Anyone's friends and requests (profiles show friends, so there is no permission check, as in
/// the original), newest request first.
pub async fn list(
    state: &AppState,
    filter: FriendshipFilter,
    after: Option<Cursor>,
    limit: usize,
) -> CoreResult<PageOf<FriendshipItem>> {
    let mut conn = state.db.get().await?;
    let page = friendship::list(&mut conn, filter, after, limit).await?;
    let ids: Vec<UserId> = page.rows.iter().map(|e| UserId(e.other_id)).collect();
    let rows = state.users.find_many(&mut conn, &ids).await?;
    drop(conn);
    let mut people: HashMap<_, _> = state.present_users(rows).into_iter().map(|u| (u.id, u)).collect();
    let data = page
        .rows
        .iter()
        .filter_map(|entry| {
            let kind = if entry.incoming { FriendshipType::Incoming } else { FriendshipType::Outcoming };
            let user = people.remove(&entry.other_id)?;
            Some(FriendshipItem { kind, accepted: entry.accepted, user })
        })
        .collect();
    Ok(PageOf { data, total_count: page.total_count, next: page.next.map(|c| c.to_string()), prev: None })
}

/// The row between two people, either way, if there is one (there is at most one per pair).
pub async fn between(state: &AppState, a: UserId, b: UserId) -> CoreResult<Option<FriendRequest>> {
    let mut conn = state.db.get().await?;
    Ok(friendship::between(&mut conn, a, &[b]).await?.into_iter().next().map(Into::into))
}

/// How `source` relates to each of `targets` (at most [`MAX_TARGETS`]).
pub async fn relations(state: &AppState, source: UserId, targets: &[UserId]) -> CoreResult<Relations> {
    if targets.len() > MAX_TARGETS {
        return Err(CoreError::invalid(Kind::FriendshipPresenter, "TargetUserIds не может быть больше 20"));
    }
    let mut conn = state.db.get().await?;
    let rows = friendship::between(&mut conn, source, targets).await?;
    let mut relations = Relations::default();
    for row in rows {
        let outgoing = row.requester_id == source;
        let other = if outgoing { row.responder_id } else { row.requester_id };
        match (row.accepted, outgoing) {
            (true, _) => relations.friend_ids.push(other.0),
            (false, true) => relations.pending_responder_ids.push(other.0),
            (false, false) => relations.pending_requester_ids.push(other.0),
        }
    }
    Ok(relations)
}
