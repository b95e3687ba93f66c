DROP TABLE event_log_epochs;
