-- +goose Up
-- disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- create "new_sessions" table
CREATE TABLE `new_sessions` (`id` uuid NOT NULL, `token_hash` varchar NOT NULL, `user_agent` varchar NOT NULL DEFAULT (''), `ip` varchar NOT NULL DEFAULT (''), `auth_methods` text NOT NULL DEFAULT (''), `retry_hash` varchar NULL, `retry_sealed` blob NULL, `retry_until` datetime NULL, `expires_at` datetime NOT NULL, `created_at` datetime NOT NULL DEFAULT (CURRENT_TIMESTAMP), `last_used_at` datetime NOT NULL, `revoked_at` datetime NULL, `user_id` uuid NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `sessions_users_sessions` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE CASCADE);
-- copy rows from old table "sessions" to new temporary table "new_sessions"
INSERT INTO `new_sessions` (`id`, `token_hash`, `user_agent`, `ip`, `auth_methods`, `expires_at`, `created_at`, `last_used_at`, `revoked_at`, `user_id`) SELECT `id`, `token_hash`, `user_agent`, `ip`, `auth_methods`, `expires_at`, `created_at`, `last_used_at`, `revoked_at`, `user_id` FROM `sessions`;
-- drop "sessions" table after copying rows
DROP TABLE `sessions`;
-- rename temporary table "new_sessions" to "sessions"
ALTER TABLE `new_sessions` RENAME TO `sessions`;
-- create index "sessions_token_hash_key" to table: "sessions"
CREATE UNIQUE INDEX `sessions_token_hash_key` ON `sessions` (`token_hash`);
-- create index "session_user_id" to table: "sessions"
CREATE INDEX `session_user_id` ON `sessions` (`user_id`);
-- create index "session_expires_at" to table: "sessions"
CREATE INDEX `session_expires_at` ON `sessions` (`expires_at`);
-- create index "session_retry_hash" to table: "sessions"
CREATE INDEX `session_retry_hash` ON `sessions` (`retry_hash`);
-- create index "session_retry_until" to table: "sessions"
CREATE INDEX `session_retry_until` ON `sessions` (`retry_until`);
-- enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;

-- +goose Down
-- reverse: create index "session_retry_until" to table: "sessions"
DROP INDEX `session_retry_until`;
-- reverse: create index "session_retry_hash" to table: "sessions"
DROP INDEX `session_retry_hash`;
-- reverse: create index "session_expires_at" to table: "sessions"
DROP INDEX `session_expires_at`;
-- reverse: create index "session_user_id" to table: "sessions"
DROP INDEX `session_user_id`;
-- reverse: create index "sessions_token_hash_key" to table: "sessions"
DROP INDEX `sessions_token_hash_key`;
-- reverse: create "new_sessions" table
DROP TABLE `new_sessions`;
