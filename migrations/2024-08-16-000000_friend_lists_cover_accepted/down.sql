DROP INDEX friendship_requests_requester_idx;
CREATE INDEX friendship_requests_requester_idx ON friendship_requests (requester_id, created_at DESC, responder_id DESC);
DROP INDEX friendship_requests_responder_idx;
CREATE INDEX friendship_requests_responder_idx ON friendship_requests (responder_id, created_at DESC, requester_id DESC);
