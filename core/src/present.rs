//! How things are presented: users as others see them, and the nested wire objects of walls —
//! posts with their likes, first comments and permissions, comments with theirs. A page costs a
//! fixed number of queries whatever its size — posts, like summaries, first comments, their like
//! summaries, users — never one per item.

use std::collections::{HashMap, HashSet};

use nosebook_schema::ids::{PostId, UserId};
use nosebook_schema::models::{CommentRow, PostRow, UserRow};
use nosebook_schema::paging::Page;
use nosebook_schema::queries::likes::{self, LikeSummary, Likes};
use nosebook_schema::queries::{comments, posts};
use nosebook_schema::{AsyncPgConnection, DbError};
use uuid::Uuid;

use crate::caches::PostParts;
use crate::state::AppState;
use nosebook_events::wire::{self, PageOf, Permissions};

/// Fixed page size of comment lists and of `recentComments` (docs/API.md §3).
pub const COMMENTS_PAGE: usize = 5;
/// Posts per page of a wall.
pub const POSTS_PAGE: usize = 10;

impl AppState {
    /// Public user objects, with the freshest activity this node knows: the database is written
    /// at most every few seconds per session, the presence tracker has the exact value.
    pub fn present_users(&self, mut rows: Vec<UserRow>) -> Vec<wire::User> {
        let ids: Vec<UserId> = rows.iter().map(|r| r.id).collect();
        let seen = self.seen.last_seen(&ids);
        for row in &mut rows {
            if let Some(at) = seen.get(&row.id) {
                row.last_activity_at = row.last_activity_at.max(*at);
            }
        }
        let now = self.clock.now();
        rows.into_iter().map(|row| wire::User::new(row, now)).collect()
    }

    pub fn present_user(&self, row: UserRow) -> Option<wire::User> {
        self.present_users(vec![row]).pop()
    }

    /// The caller of the request being served, as others see them: active now — which is what
    /// asking the presence tracker would answer, without the hop to it.
    pub fn present_caller(&self, row: UserRow) -> wire::User {
        wire::User::active_at(row, self.clock.now())
    }
}

pub struct Presenter<'a> {
    state: &'a AppState,
    viewer: UserId,
}

/// Everything a set of posts and comments refers to, fetched in bulk.
#[derive(Default)]
struct Refs {
    users: HashMap<UserId, wire::User>,
    post_likes: HashMap<Uuid, LikeSummary>,
    comment_likes: HashMap<Uuid, LikeSummary>,
    /// Wall owner of each post a comment is on.
    wall_owner: HashMap<PostId, UserId>,
}

impl<'a> Presenter<'a> {
    pub fn new(state: &'a AppState, viewer: UserId) -> Self {
        Self { state, viewer }
    }

    pub async fn posts(&self, conn: &mut AsyncPgConnection, rows: Vec<PostRow>) -> Result<Vec<wire::Post>, DbError> {
        let parts = self.post_parts(conn, &rows).await?;
        self.show_posts(conn, rows, parts).await
    }

    /// What `rows` show besides their users: first comments and like summaries. Four statements
    /// in two round trips; the comments' likes need the comments first.
    pub async fn post_parts(&self, conn: &mut AsyncPgConnection, rows: &[PostRow]) -> Result<PostParts, DbError> {
        let ids: Vec<PostId> = rows.iter().map(|p| p.id).collect();
        let post_ids = uuids(&ids);
        let (first_pages, post_likes) = futures_util::future::join(
            comments::first_pages(conn, &ids, COMMENTS_PAGE),
            likes::summaries(conn, Likes::Posts, &post_ids, self.viewer),
        )
        .await;
        let first_pages = first_pages?;
        let comment_likes = likes::summaries(
            conn,
            Likes::Comments,
            &comment_ids(first_pages.values().flat_map(|p| p.rows.iter())),
            self.viewer,
        )
        .await?;
        Ok(PostParts { first_pages, post_likes: post_likes?, comment_likes })
    }

    /// `rows` with their `parts`, and the users they name (from the user cache).
    pub async fn show_posts(
        &self,
        conn: &mut AsyncPgConnection,
        rows: Vec<PostRow>,
        parts: PostParts,
    ) -> Result<Vec<wire::Post>, DbError> {
        let PostParts { mut first_pages, post_likes, comment_likes } = parts;
        let mut people: HashSet<UserId> = rows.iter().flat_map(|p| [p.author_id, p.owner_id]).collect();
        people.extend(first_pages.values().flat_map(|p| p.rows.iter()).map(|c| c.author_id));
        let mut refs = Refs {
            post_likes,
            comment_likes,
            wall_owner: rows.iter().map(|p| (p.id, p.owner_id)).collect(),
            ..Refs::default()
        };
        self.load_users(conn, &mut refs, people).await?;

        Ok(rows
            .into_iter()
            .filter_map(|post| {
                let comments = first_pages.remove(&post.id).unwrap_or_else(Page::empty);
                self.post(post, comments, &refs)
            })
            .collect())
    }

    pub async fn comments(
        &self,
        conn: &mut AsyncPgConnection,
        page: Page<CommentRow>,
    ) -> Result<PageOf<wire::Comment>, DbError> {
        let post_ids: Vec<PostId> =
            page.rows.iter().filter_map(|c| c.post_id).collect::<HashSet<_>>().into_iter().collect();
        let mut refs = Refs {
            comment_likes: likes::summaries(conn, Likes::Comments, &comment_ids(page.rows.iter()), self.viewer).await?,
            wall_owner: posts::find_many(conn, &post_ids).await?.into_iter().map(|p| (p.id, p.owner_id)).collect(),
            ..Refs::default()
        };
        self.load_users(conn, &mut refs, page.rows.iter().map(|c| c.author_id).collect()).await?;
        Ok(self.comment_page(page, &refs))
    }

    async fn load_users(
        &self,
        conn: &mut AsyncPgConnection,
        refs: &mut Refs,
        mut people: HashSet<UserId>,
    ) -> Result<(), DbError> {
        for summary in refs.post_likes.values().chain(refs.comment_likes.values()) {
            people.extend(summary.first_likers.iter().copied());
        }
        let ids: Vec<UserId> = people.into_iter().collect();
        let rows = self.state.users.find_many(conn, &ids).await?;
        refs.users = self.state.present_users(rows).into_iter().map(|u| (UserId(u.id), u)).collect();
        Ok(())
    }

    fn likes(&self, summary: Option<&LikeSummary>, refs: &Refs) -> wire::Likes {
        let summary = summary.cloned().unwrap_or_default();
        wire::Likes {
            count: summary.count,
            liked: summary.liked,
            random_five_likers: summary.first_likers.iter().filter_map(|id| refs.users.get(id).cloned()).collect(),
        }
    }

    fn post(&self, post: PostRow, comments: Page<CommentRow>, refs: &Refs) -> Option<wire::Post> {
        let is_author = post.author_id == self.viewer;
        Some(wire::Post {
            id: post.id.0,
            author: refs.users.get(&post.author_id)?.clone(),
            owner: refs.users.get(&post.owner_id)?.clone(),
            likes: self.likes(refs.post_likes.get(&post.id.0), refs),
            recent_comments: self.comment_page(comments, refs),
            permissions: Permissions { remove: is_author || post.owner_id == self.viewer, update: is_author },
            created_at: wire::WireTime(post.created_at),
            message: post.message,
        })
    }

    fn comment_page(&self, page: Page<CommentRow>, refs: &Refs) -> PageOf<wire::Comment> {
        PageOf {
            data: page.rows.into_iter().filter_map(|c| self.comment(c, refs)).collect(),
            total_count: page.total_count,
            next: page.next.map(|c| c.to_string()),
            prev: page.prev.map(|c| c.to_string()),
        }
    }

    fn comment(&self, comment: CommentRow, refs: &Refs) -> Option<wire::Comment> {
        let is_author = comment.author_id == self.viewer;
        let owns_wall = comment.post_id.and_then(|p| refs.wall_owner.get(&p)) == Some(&self.viewer);
        Some(wire::Comment {
            id: comment.id.0,
            author: refs.users.get(&comment.author_id)?.clone(),
            likes: self.likes(refs.comment_likes.get(&comment.id.0), refs),
            permissions: Permissions { remove: is_author || owns_wall, update: is_author },
            created_at: wire::WireTime(comment.created_at),
            message: comment.message,
        })
    }
}

fn uuids(ids: &[PostId]) -> Vec<Uuid> {
    ids.iter().map(|p| p.0).collect()
}

fn comment_ids<'c>(rows: impl Iterator<Item = &'c CommentRow>) -> Vec<Uuid> {
    rows.map(|c| c.id.0).collect()
}

impl Presenter<'_> {
    /// Chats as the viewer sees them: the interlocutor of a private chat, the members of a
    /// group, and the newest message of each.
    pub async fn chats(
        &self,
        conn: &mut AsyncPgConnection,
        rows: Vec<nosebook_schema::models::ChatRow>,
    ) -> Result<Vec<wire::Chat>, DbError> {
        use nosebook_schema::ids::ChatId;
        use nosebook_schema::queries::{chats, messages};

        let ids: Vec<ChatId> = rows.iter().map(|c| c.id).collect();
        let members = chats::members_of(conn, &ids).await?;
        let last_ids: Vec<_> = rows.iter().filter_map(|c| c.last_message_id).collect();
        let last: HashMap<_, _> = messages::find_many(conn, &last_ids).await?.into_iter().map(|m| (m.id, m)).collect();
        let mut people: HashSet<UserId> = members.values().flatten().copied().collect();
        people.extend(last.values().map(|m| m.author_id));
        let mut refs = Refs::default();
        self.load_users(conn, &mut refs, people).await?;

        Ok(rows
            .into_iter()
            .map(|chat| {
                let of_chat = members.get(&chat.id).map(Vec::as_slice).unwrap_or_default();
                let last_message = chat
                    .last_message_id
                    .and_then(|id| last.get(&id))
                    .and_then(|m| Some(wire::Message::new(m, refs.users.get(&m.author_id)?.clone())));
                let (kind, interlocutor, title, members) = if chat.is_group() {
                    let members = of_chat.iter().filter_map(|u| refs.users.get(u).cloned()).collect();
                    (wire::ChatType::Group, None, chat.title.clone(), Some(members))
                } else {
                    let other = of_chat.iter().find(|u| **u != self.viewer).and_then(|u| refs.users.get(u).cloned());
                    (wire::ChatType::Private, other, None, None)
                };
                wire::Chat {
                    id: chat.id.0,
                    kind,
                    interlocutor,
                    title,
                    members,
                    last_message,
                    created_at: wire::WireTime(chat.created_at),
                }
            })
            .collect())
    }

    pub async fn messages(
        &self,
        conn: &mut AsyncPgConnection,
        rows: &[nosebook_schema::models::MessageRow],
    ) -> Result<Vec<wire::Message>, DbError> {
        let mut refs = Refs::default();
        self.load_users(conn, &mut refs, rows.iter().map(|m| m.author_id).collect()).await?;
        Ok(rows.iter().filter_map(|m| Some(wire::Message::new(m, refs.users.get(&m.author_id)?.clone()))).collect())
    }
}
