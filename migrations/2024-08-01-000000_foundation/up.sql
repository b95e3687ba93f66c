-- Nosebook's schema: the original's tables (API.md §9), improved: timestamptz, keys everywhere,
-- NOT NULL where the API never returns null, and an index for every list query and lookup.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE users (
    id                uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    first_name        varchar(64) NOT NULL,
    last_name         varchar(64) NOT NULL,
    nick              varchar(64) NOT NULL,
    -- PHC string (argon2id) or a legacy bcrypt hash from the original, upgraded on login.
    passhash          text        NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    avatar_url        text        NOT NULL DEFAULT '',
    avatar_updated_at timestamptz,
    last_activity_at  timestamptz NOT NULL DEFAULT now()
);
-- Nicks are unique regardless of case, so "Alice" cannot impersonate "alice"; login looks them
-- up the same way.
CREATE UNIQUE INDEX users_nick_key ON users (lower(nick));
-- GET /users: newest registration first, then id.
CREATE INDEX users_created_at_id_idx ON users (created_at DESC, id DESC);
-- GET /users?text=: substring search over "first last nick" (ILIKE '%text%').
CREATE INDEX users_search_trgm_idx ON users
    USING gin ((first_name || ' ' || last_name || ' ' || nick) gin_trgm_ops);

CREATE TABLE user_sessions (
    session_id uuid        PRIMARY KEY,
    user_id    uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX user_sessions_user_id_idx ON user_sessions (user_id);
CREATE INDEX user_sessions_expires_at_idx ON user_sessions (expires_at);

-- One row per pair of users, whichever direction the request went (API.md §5.6).
CREATE TABLE friendship_requests (
    requester_id uuid         NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    responder_id uuid         NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    message      varchar(256) NOT NULL DEFAULT '',
    accepted     boolean      NOT NULL DEFAULT false,
    viewed       boolean      NOT NULL DEFAULT false,
    created_at   timestamptz  NOT NULL,
    PRIMARY KEY (requester_id, responder_id),
    CHECK (requester_id <> responder_id)
);
CREATE UNIQUE INDEX friendship_requests_pair_key ON friendship_requests
    (LEAST(requester_id, responder_id), GREATEST(requester_id, responder_id));
-- GET /friendship pages by request time, then the other user's id, from either side.
CREATE INDEX friendship_requests_responder_idx ON friendship_requests
    (responder_id, created_at DESC, requester_id DESC);
CREATE INDEX friendship_requests_requester_idx ON friendship_requests
    (requester_id, created_at DESC, responder_id DESC);

CREATE TABLE posts (
    id         uuid          PRIMARY KEY DEFAULT gen_random_uuid(),
    author_id  uuid          NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    owner_id   uuid          NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    message    varchar(4096) NOT NULL,
    created_at timestamptz   NOT NULL,
    removed_at timestamptz
);
-- GET /posts?ownerId= and ?authorId=: live posts, newest first.
CREATE INDEX posts_owner_live_idx ON posts (owner_id, created_at DESC, id DESC)
    WHERE removed_at IS NULL;
CREATE INDEX posts_author_live_idx ON posts (author_id, created_at DESC, id DESC)
    WHERE removed_at IS NULL;

-- The identity column keeps like order, which "randomFiveLikers" shows (API.md §2.4).
CREATE TABLE post_likes (
    post_id  uuid        NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    user_id  uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    seq      bigint      GENERATED ALWAYS AS IDENTITY,
    liked_at timestamptz NOT NULL,
    PRIMARY KEY (post_id, user_id)
);
CREATE INDEX post_likes_post_seq_idx ON post_likes (post_id, seq);

-- The original's post_comments join table is folded into comments.post_id: a comment belongs
-- to at most one post, and the seed has one comment that belongs to none.
CREATE TABLE comments (
    id         uuid          PRIMARY KEY DEFAULT gen_random_uuid(),
    post_id    uuid          REFERENCES posts (id) ON DELETE CASCADE,
    author_id  uuid          NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    message    varchar(4096) NOT NULL,
    created_at timestamptz   NOT NULL,
    removed_at timestamptz
);
-- GET /comments?postId=: live comments, oldest first (and backwards for prev/last).
CREATE INDEX comments_post_live_idx ON comments (post_id, created_at, id)
    WHERE removed_at IS NULL;

CREATE TABLE comment_likes (
    comment_id uuid        NOT NULL REFERENCES comments (id) ON DELETE CASCADE,
    user_id    uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    seq        bigint      GENERATED ALWAYS AS IDENTITY,
    liked_at   timestamptz NOT NULL,
    PRIMARY KEY (comment_id, user_id)
);
CREATE INDEX comment_likes_comment_seq_idx ON comment_likes (comment_id, seq);

CREATE TABLE chats (
    id         uuid         PRIMARY KEY DEFAULT gen_random_uuid(),
    kind       text         NOT NULL CHECK (kind IN ('private', 'group')),
    title      varchar(128),
    created_at timestamptz  NOT NULL,
    CHECK ((kind = 'group') = (title IS NOT NULL))
);

CREATE TABLE chat_members (
    chat_id   uuid        NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
    user_id   uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    joined_at timestamptz NOT NULL,
    PRIMARY KEY (chat_id, user_id)
);
CREATE INDEX chat_members_user_idx ON chat_members (user_id, chat_id);

-- At most one private chat per pair of users: the pair is stored in order and unique.
CREATE TABLE private_chats (
    chat_id  uuid PRIMARY KEY REFERENCES chats (id) ON DELETE CASCADE,
    user_low  uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    user_high uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    CHECK (user_low < user_high),
    UNIQUE (user_low, user_high)
);
CREATE INDEX private_chats_user_high_idx ON private_chats (user_high);

CREATE TABLE messages (
    id         uuid          PRIMARY KEY DEFAULT gen_random_uuid(),
    chat_id    uuid          NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
    author_id  uuid          NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    text       varchar(4096) NOT NULL,
    reply_to   uuid          REFERENCES messages (id) ON DELETE SET NULL,
    created_at timestamptz   NOT NULL,
    removed_at timestamptz
);
-- GET /messages: newest first within a chat; GET /chats: the newest message of each chat.
CREATE INDEX messages_chat_created_idx ON messages (chat_id, created_at DESC, id DESC);
