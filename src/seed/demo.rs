//! A few friendly people to try Nosebook with. Everyone's password is `nosebook-demo`.

use chrono::{DateTime, Duration, Utc};
use nosebook_core::passwords::Passwords;
use nosebook_schema::AsyncPgConnection;
use uuid::Uuid;

use super::*;

pub const PASSWORD: &str = "nosebook-demo";

/// Fixed ids: a person's initials are coloured by their id, so fixed ids keep the demo (and the
/// README's screenshots of it) looking the same from one load to the next.
const PEOPLE: [(u128, &str, &str, &str); 5] = [
    (0xa1d0_0000_0000_4000_8000_0000_0000_0001, "Anna", "Petrova", "anna"),
    (0xb2d0_0000_0000_4000_8000_0000_0000_0002, "Boris", "Volkov", "boris"),
    (0xc3d0_0000_0000_4000_8000_0000_0000_0003, "Chloe", "Martin", "chloe"),
    (0xd4d0_0000_0000_4000_8000_0000_0000_0004, "Dmitri", "Sokolov", "dmitri"),
    (0xe5d0_0000_0000_4000_8000_0000_0000_0005, "Emma", "Wilson", "emma"),
];

/// Times are relative to `now`, the server's clock, so the demo looks alive when it starts.
pub async fn data_set(now: DateTime<Utc>) -> anyhow::Result<DataSet> {
    let ago = |minutes: i64| now - Duration::minutes(minutes);
    let passwords = Passwords::new()?;
    let mut users = Vec::new();
    for (i, (id, first, last, nick)) in PEOPLE.iter().enumerate() {
        users.push(SeedUser {
            id: Uuid::from_u128(*id),
            first_name: (*first).into(),
            last_name: (*last).into(),
            nick: (*nick).into(),
            passhash: passwords.hash(PASSWORD.into()).await?,
            created_at: ago(60 * 24 * 30 - i64::try_from(i)? * 60),
            last_activity_at: ago(i64::try_from(i)? * 20),
        });
    }
    let id = |i: usize| users[i].id;
    let (anna, boris, chloe, dmitri, emma) = (id(0), id(1), id(2), id(3), id(4));
    let friendship = |requester, responder, accepted, minutes, message: &str| SeedFriendship {
        requester_id: requester,
        responder_id: responder,
        message: Some(message.into()),
        accepted,
        viewed: accepted,
        created_at: ago(minutes),
    };
    let post = |author, owner, minutes, message: &str| SeedPost {
        id: Uuid::new_v4(),
        author_id: author,
        owner_id: owner,
        message: message.into(),
        created_at: ago(minutes),
    };
    let posts = vec![
        post(anna, anna, 600, "Hello, Nosebook! Moving my notes here from the old place."),
        post(boris, anna, 300, "Welcome, Anna! Coffee on Friday?"),
        post(chloe, chloe, 120, "Finished the mountain trail today. 23 km, no regrets."),
        post(boris, boris, 45, "Does anyone have a good borscht recipe? Asking for a friend."),
    ];
    let comment = |post: &SeedPost, author, minutes, message: &str| SeedComment {
        id: Uuid::new_v4(),
        author_id: author,
        post_id: Some(post.id),
        message: message.into(),
        created_at: ago(minutes),
    };
    let comments = vec![
        comment(&posts[1], anna, 290, "Friday works. The usual place?"),
        comment(&posts[2], anna, 100, "Wow! Photos please."),
        comment(&posts[3], dmitri, 30, "Beetroot first, always."),
    ];
    let like = |post: &SeedPost, user| SeedPostLike { post_id: post.id, user_id: user, liked_at: now };
    let chat = Uuid::new_v4();
    let message = |author, minutes, text: &str| SeedMessage {
        id: Uuid::new_v4(),
        chat_id: chat,
        author_id: author,
        text: text.into(),
        reply_to: None,
        created_at: ago(minutes),
    };
    Ok(DataSet {
        friendship_requests: vec![
            friendship(anna, boris, true, 60 * 24 * 20, "We met at the conference"),
            friendship(chloe, anna, true, 60 * 24 * 10, "Hi Anna!"),
            friendship(dmitri, anna, false, 60 * 5, "Add me?"),
            friendship(emma, boris, false, 60 * 2, ""),
        ],
        post_likes: vec![like(&posts[0], boris), like(&posts[0], chloe), like(&posts[2], anna)],
        user_sessions: Vec::new(),
        comment_likes: vec![SeedCommentLike { comment_id: comments[0].id, user_id: boris, liked_at: now }],
        chats: vec![SeedChat {
            id: chat,
            kind: "private".into(),
            title: None,
            created_at: ago(200),
            member_ids: vec![anna, boris],
        }],
        messages: vec![message(anna, 200, "Are we still on for Friday?"), message(boris, 190, "Of course! 7 pm.")],
        users,
        posts,
        comments,
    })
}

pub async fn load(conn: &mut AsyncPgConnection, now: DateTime<Utc>) -> anyhow::Result<Report> {
    Ok(super::load(conn, &data_set(now).await?).await?)
}
