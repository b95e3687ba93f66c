//! Diesel's view of the tables created by `migrations/`. Kept by hand in step with the SQL.

diesel::table! {
    users (id) {
        id -> Uuid,
        first_name -> Varchar,
        last_name -> Varchar,
        nick -> Varchar,
        passhash -> Text,
        created_at -> Timestamptz,
        avatar_url -> Text,
        avatar_updated_at -> Nullable<Timestamptz>,
        last_activity_at -> Timestamptz,
        presence_announced -> Bool,
        avatar_key -> Nullable<Text>,
    }
}

diesel::table! {
    user_sessions (session_id) {
        session_id -> Uuid,
        user_id -> Uuid,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        user_agent -> Nullable<Text>,
    }
}

diesel::table! {
    friendship_requests (requester_id, responder_id) {
        requester_id -> Uuid,
        responder_id -> Uuid,
        message -> Varchar,
        accepted -> Bool,
        viewed -> Bool,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    posts (id) {
        id -> Uuid,
        author_id -> Uuid,
        owner_id -> Uuid,
        message -> Varchar,
        created_at -> Timestamptz,
        removed_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    post_likes (post_id, user_id) {
        post_id -> Uuid,
        user_id -> Uuid,
        seq -> Int8,
        liked_at -> Timestamptz,
    }
}

diesel::table! {
    comments (id) {
        id -> Uuid,
        post_id -> Nullable<Uuid>,
        author_id -> Uuid,
        message -> Varchar,
        created_at -> Timestamptz,
        removed_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    comment_likes (comment_id, user_id) {
        comment_id -> Uuid,
        user_id -> Uuid,
        seq -> Int8,
        liked_at -> Timestamptz,
    }
}

diesel::table! {
    chats (id) {
        id -> Uuid,
        kind -> Text,
        title -> Nullable<Varchar>,
        created_at -> Timestamptz,
        last_message_at -> Nullable<Timestamptz>,
        last_message_id -> Nullable<Uuid>,
    }
}

diesel::table! {
    chat_members (chat_id, user_id) {
        chat_id -> Uuid,
        user_id -> Uuid,
        joined_at -> Timestamptz,
        last_read_seq -> Int8,
    }
}

diesel::table! {
    private_chats (chat_id) {
        chat_id -> Uuid,
        user_low -> Uuid,
        user_high -> Uuid,
    }
}

diesel::table! {
    messages (id) {
        id -> Uuid,
        chat_id -> Uuid,
        author_id -> Uuid,
        text -> Varchar,
        reply_to -> Nullable<Uuid>,
        created_at -> Timestamptz,
        removed_at -> Nullable<Timestamptz>,
        seq -> Int8,
        edited_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    outbox (id) {
        id -> Int8,
        frame -> Text,
        created_at -> Timestamptz,
        published_at -> Nullable<Timestamptz>,
        trace_context -> Nullable<Text>,
        recipients -> Array<Uuid>,
        claimed_until -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    login_failures (user_id) {
        user_id -> Uuid,
        failures -> Int4,
        locked_until -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    event_log_epochs (log) {
        log -> Text,
        epoch -> Text,
    }
}

diesel::table! {
    wall_versions (owner_id) {
        owner_id -> Uuid,
        version -> Int8,
    }
}

diesel::table! {
    user_counts (user_id) {
        user_id -> Uuid,
        wall_posts -> Int8,
        authored_posts -> Int8,
        accepted_in -> Int8,
        accepted_out -> Int8,
        pending_in -> Int8,
        pending_out -> Int8,
        unviewed_in -> Int8,
        chats -> Int8,
    }
}

diesel::table! {
    post_counts (post_id) {
        post_id -> Uuid,
        likes -> Int8,
        comments -> Int8,
    }
}

diesel::table! {
    comment_counts (comment_id) {
        comment_id -> Uuid,
        likes -> Int8,
    }
}

diesel::table! {
    chat_counts (chat_id) {
        chat_id -> Uuid,
        messages -> Int8,
    }
}

diesel::joinable!(user_sessions -> users (user_id));
diesel::joinable!(login_failures -> users (user_id));
diesel::joinable!(comments -> posts (post_id));
diesel::joinable!(chat_members -> chats (chat_id));
diesel::joinable!(messages -> chats (chat_id));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    user_sessions,
    friendship_requests,
    posts,
    post_likes,
    comments,
    comment_likes,
    chats,
    chat_members,
    private_chats,
    messages,
    outbox,
    login_failures,
    wall_versions,
    event_log_epochs,
    user_counts,
    post_counts,
    comment_counts,
    chat_counts,
);
