-- Authors edit and remove their messages. An edit keeps its time (clients show "edited"); a removal
-- is soft, like posts' and comments': `removed_at` (present since the foundation) hides the message
-- from history, unread counts and the chat list, and replies keep pointing at it.
ALTER TABLE messages ADD COLUMN edited_at timestamptz;
