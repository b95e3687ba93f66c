ALTER TABLE user_sessions DROP COLUMN user_agent;
