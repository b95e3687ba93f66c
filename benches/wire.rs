//! The wire format's hot paths: turning rows into JSON, and reading ids and cursors.
//! `cargo bench --bench wire`

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use chrono::{Duration, TimeZone, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use nosebook::api::envelope::Success;
use nosebook::api::wire::{PageOf, User};
use nosebook_schema::ids::{UserId, parse_go_uuid};
use nosebook_schema::models::UserRow;
use nosebook_schema::paging::Cursor;

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

criterion_group!(benches, serialize_user_page, parse_inputs);
criterion_main!(benches);
