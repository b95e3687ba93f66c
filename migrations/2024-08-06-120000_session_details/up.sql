-- The browser or app a session was opened from, shown in the account's list of sessions.
ALTER TABLE user_sessions ADD COLUMN user_agent text;
