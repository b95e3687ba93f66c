-- Realtime: the transactional outbox of events, and what chat lists sort by.

-- One row per event and recipient, written in the transaction of the change that causes it.
-- `frame` is the exact WebSocket text frame ({type, payload}), serialized once.
CREATE TABLE outbox (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    recipient_id uuid        NOT NULL,
    frame        text        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz
);
-- The relay takes unpublished rows in id order.
CREATE INDEX outbox_unpublished_idx ON outbox (id) WHERE published_at IS NULL;

-- GET /chats sorts a user's chats by their newest message; kept on the chat by each send.
ALTER TABLE chats ADD COLUMN last_message_at timestamptz;
ALTER TABLE chats ADD COLUMN last_message_id uuid REFERENCES messages (id) ON DELETE SET NULL;
UPDATE chats c SET last_message_at = m.created_at, last_message_id = m.id
FROM (SELECT DISTINCT ON (chat_id) chat_id, id, created_at FROM messages
      ORDER BY chat_id, created_at DESC, id DESC) m
WHERE m.chat_id = c.id;
CREATE INDEX chats_last_message_idx ON chats (last_message_at DESC, id DESC) WHERE last_message_at IS NOT NULL;

-- Presence: whether friends were last told this user is online. Flipping it is how exactly one
-- node announces each transition (UPDATE … WHERE presence_announced <> new state).
ALTER TABLE users ADD COLUMN presence_announced boolean NOT NULL DEFAULT false;
-- The offline sweep: announced-online users whose activity aged out.
CREATE INDEX users_presence_sweep_idx ON users (last_activity_at) WHERE presence_announced;
