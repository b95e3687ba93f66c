-- A person's friends are the accepted requests they sent or received, read through these two
-- indexes (friend lists, people search's friends first). Without `accepted` in them each entry
-- needed its table row to tell a friend from a pending request, and the received ones lie
-- scattered over the table: the first read of a big friend list fetched a table page per
-- friend. With it the reads are index-only.
DROP INDEX friendship_requests_requester_idx;
CREATE INDEX friendship_requests_requester_idx
    ON friendship_requests (requester_id, created_at DESC, responder_id DESC) INCLUDE (accepted);
DROP INDEX friendship_requests_responder_idx;
CREATE INDEX friendship_requests_responder_idx
    ON friendship_requests (responder_id, created_at DESC, requester_id DESC) INCLUDE (accepted);
