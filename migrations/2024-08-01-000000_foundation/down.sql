DROP TABLE messages, private_chats, chat_members, chats, comment_likes, comments, post_likes,
    posts, friendship_requests, user_sessions, users;
