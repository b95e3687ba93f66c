DROP TRIGGER friendship_requests_inserted_feed ON friendship_requests;
DROP TRIGGER friendship_requests_updated_feed ON friendship_requests;
DROP TRIGGER friendship_requests_deleted_feed ON friendship_requests;
DROP FUNCTION friendships_feed_rows(), friendships_feed_updated();
DROP FUNCTION feed_friendships_changed(uuid[], uuid[], boolean[]);
DROP FUNCTION feed_stripe(uuid);
DROP TRIGGER posts_feed_job ON posts;
DROP FUNCTION posts_feed_job();
DROP TABLE feed_jobs, feed_entries, feeds;
