//! The wire format's hot paths: turning rows into JSON, and reading ids and cursors.
//! `cargo bench --bench wire`

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::hint::black_box;

use chrono::{DateTime, Duration, TimeZone, Utc};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use nosebook::api::envelope::Success;
use nosebook_core::present::COMMENTS_PAGE;
use nosebook_events::wire::{self, PageOf, Permissions, User, WireTime};
use nosebook_schema::ids::{CommentId, PostId, UserId, parse_go_uuid};
use nosebook_schema::models::{CommentRow, PostRow, UserRow};
use nosebook_schema::paging::{Cursor, Page};
use nosebook_schema::queries::likes::{LikeSummary, SHOWN_LIKERS};
use uuid::Uuid;

fn rows(n: usize) -> Vec<UserRow> {
    let base = Utc.with_ymd_and_hms(2024, 8, 10, 10, 10, 10).unwrap();
    (0..n)
        .map(|i| UserRow {
            id: UserId::new_random(),
            first_name: format!("First{i}"),
            last_name: format!("Last{i}"),
            nick: format!("nick_{i}"),
            created_at: base - Duration::days(i as i64),
            avatar_url: String::new(),
            avatar_updated_at: None,
            last_activity_at: base - Duration::seconds(i as i64 * 7),
        })
        .collect()
}

fn serialize_user_page(c: &mut Criterion) {
    let now = Utc.with_ymd_and_hms(2024, 8, 10, 10, 10, 10).unwrap();
    let rows = rows(20);
    c.bench_function("wire/search page of 20 users: rows to JSON", |b| {
        b.iter(|| {
            let data = rows.iter().cloned().map(|r| User::new(r, now)).collect();
            let page = PageOf { data, total_count: 20, next: Some("x".into()), prev: None };
            serde_json::to_vec(&Success { ok: true, data: page }).unwrap()
        })
    });
}

fn parse_inputs(c: &mut Criterion) {
    c.bench_function("wire/parse a Go-style UUID", |b| {
        b.iter(|| parse_go_uuid(black_box("ed1a3fd0-4d0b-4961-b4cd-cf212357740d")).unwrap())
    });
    c.bench_function("wire/parse a cursor", |b| {
        b.iter(|| Cursor::parse(black_box("37d28fdf-99bc-44b5-8df9-6a3b1a36f177/2024-02-16T15:36:38.123456Z")).unwrap())
    });
}

/// Posts a wall page shows (`posts/list.rs`'s page size).
const POSTS_PAGE: usize = 10;

/// What `Presenter::posts` has in hand after its batched queries (posts, like summaries, first
/// comments, their like summaries, users), built in memory: the rows a page of 10 posts reads.
struct PostPageRows {
    posts: Vec<PostRow>,
    first_pages: HashMap<PostId, Page<CommentRow>>,
    post_likes: HashMap<Uuid, LikeSummary>,
    comment_likes: HashMap<Uuid, LikeSummary>,
    users: Vec<UserRow>,
    viewer: UserId,
}

fn post_page_rows() -> PostPageRows {
    let now = Utc.with_ymd_and_hms(2024, 8, 10, 10, 10, 10).unwrap();
    // 30 people: the wall owner, post authors, commenters and likers overlap as on a real wall.
    let users = rows(30);
    let ids: Vec<UserId> = users.iter().map(|u| u.id).collect();
    let owner = ids[0];
    let viewer = ids[1];
    // Stored times carry microseconds, so every timestamp prints its fraction.
    let at = |minutes: i64, micros: i64| now - Duration::minutes(minutes) + Duration::microseconds(micros);
    let mut posts = Vec::new();
    let mut first_pages = HashMap::new();
    let mut post_likes = HashMap::new();
    let mut comment_likes = HashMap::new();
    for p in 0..POSTS_PAGE {
        let post = PostRow {
            id: PostId::new_random(),
            author_id: ids[p % 7],
            owner_id: owner,
            message: format!("Post number {p}: a few sentences about the weekend, the weather and a photo link. ")
                .repeat(2),
            created_at: at(p as i64 * 90, 123_456 + p as i64),
            removed_at: None,
        };
        let comments: Vec<CommentRow> = (0..COMMENTS_PAGE)
            .map(|c| CommentRow {
                id: CommentId::new_random(),
                post_id: Some(post.id),
                author_id: ids[(p + c * 3) % ids.len()],
                message: format!("comment {c} on post {p}, with a little text"),
                created_at: at(p as i64 * 90 - c as i64 * 5, 654_321 + c as i64),
                removed_at: None,
            })
            .collect();
        for (c, comment) in comments.iter().enumerate() {
            let likers = (c % 4) as i64;
            comment_likes.insert(
                comment.id.0,
                LikeSummary {
                    count: likers,
                    liked: c == 1,
                    first_likers: (0..likers as usize).map(|l| ids[(p + c + l + 5) % ids.len()]).collect(),
                },
            );
        }
        let last = comments.last().map(|c| Cursor { id: c.id.0, at: c.created_at });
        first_pages.insert(post.id, Page { rows: comments, total_count: 12, next: last, prev: None });
        post_likes.insert(
            post.id.0,
            LikeSummary {
                count: 40 + p as i64,
                liked: p % 2 == 0,
                first_likers: (0..SHOWN_LIKERS as usize).map(|l| ids[(p + l + 10) % ids.len()]).collect(),
            },
        );
        posts.push(post);
    }
    PostPageRows { posts, first_pages, post_likes, comment_likes, users, viewer }
}

/// The assembly of `Presenter::posts` once its queries answered (its helpers are private, so
/// this mirrors them line for line): `User::new` for each person, then each post with its
/// author, owner, like summary, first comments with theirs, and the viewer's permissions.
fn present_posts(rows: &PostPageRows, now: DateTime<Utc>) -> Vec<wire::Post> {
    let users: HashMap<UserId, User> =
        rows.users.iter().cloned().map(|r| User::new(r, now)).map(|u| (UserId(u.id), u)).collect();
    let likes = |summary: Option<&LikeSummary>| {
        let summary = summary.cloned().unwrap_or_default();
        wire::Likes {
            count: summary.count,
            liked: summary.liked,
            random_five_likers: summary.first_likers.iter().filter_map(|id| users.get(id).cloned()).collect(),
        }
    };
    let wall_owner: HashMap<PostId, UserId> = rows.posts.iter().map(|p| (p.id, p.owner_id)).collect();
    let mut first_pages = rows.first_pages.clone();
    rows.posts
        .iter()
        .cloned()
        .filter_map(|post| {
            let page = first_pages.remove(&post.id).unwrap_or_else(Page::empty);
            let comments = PageOf {
                data: page
                    .rows
                    .into_iter()
                    .filter_map(|c| {
                        let is_author = c.author_id == rows.viewer;
                        let owns_wall = c.post_id.and_then(|p| wall_owner.get(&p)) == Some(&rows.viewer);
                        Some(wire::Comment {
                            id: c.id.0,
                            author: users.get(&c.author_id)?.clone(),
                            likes: likes(rows.comment_likes.get(&c.id.0)),
                            permissions: Permissions { remove: is_author || owns_wall, update: is_author },
                            created_at: WireTime(c.created_at),
                            message: c.message,
                        })
                    })
                    .collect(),
                total_count: page.total_count,
                next: page.next.map(|c| c.to_string()),
                prev: page.prev.map(|c| c.to_string()),
            };
            let is_author = post.author_id == rows.viewer;
            Some(wire::Post {
                id: post.id.0,
                author: users.get(&post.author_id)?.clone(),
                owner: users.get(&post.owner_id)?.clone(),
                likes: likes(rows.post_likes.get(&post.id.0)),
                recent_comments: comments,
                permissions: Permissions { remove: is_author || post.owner_id == rows.viewer, update: is_author },
                created_at: WireTime(post.created_at),
                message: post.message,
            })
        })
        .collect()
}

fn post_page_json<T: serde::Serialize>(posts: Vec<T>) -> Vec<u8> {
    let page = PageOf { data: posts, total_count: 57, next: Some("x".into()), prev: None };
    serde_json::to_vec(&Success { ok: true, data: page }).unwrap()
}

fn serialize_post_page(c: &mut Criterion) {
    let now = Utc.with_ymd_and_hms(2024, 8, 10, 10, 10, 10).unwrap();
    let rows = post_page_rows();
    let presented = present_posts(&rows, now);
    assert_eq!(presented.len(), POSTS_PAGE);
    let bytes = post_page_json(presented.clone()).len();
    println!("wire/page of 10 posts: {bytes} bytes of JSON");

    let mut group = c.benchmark_group("wire/page of 10 posts");
    group.throughput(Throughput::Bytes(bytes as u64));
    group.bench_function("rows to wire objects to JSON", |b| b.iter(|| post_page_json(present_posts(&rows, now))));
    group.bench_function("wire objects to JSON", |b| {
        b.iter(|| post_page_json(presented.iter().collect::<Vec<&wire::Post>>()))
    });
    group.finish();
}

criterion_group!(benches, serialize_user_page, serialize_post_page, parse_inputs);
criterion_main!(benches);
