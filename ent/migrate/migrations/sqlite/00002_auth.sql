-- +goose Up
-- disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- create "new_users" table
CREATE TABLE `new_users` (`id` uuid NOT NULL, `email` varchar NULL, `password_hash` text NULL, `email_verified` bool NOT NULL DEFAULT (false), `tier` varchar NOT NULL DEFAULT ('free'), `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, PRIMARY KEY (`id`));
-- copy rows from old table "users" to new temporary table "new_users"
INSERT INTO `new_users` (`id`, `email`, `password_hash`, `email_verified`, `created_at`, `updated_at`) SELECT `id`, `email`, `password_hash`, `email_verified`, `created_at`, `updated_at` FROM `users`;
-- drop "users" table after copying rows
DROP TABLE `users`;
-- rename temporary table "new_users" to "users"
ALTER TABLE `new_users` RENAME TO `users`;
-- create index "users_email_key" to table: "users"
CREATE UNIQUE INDEX `users_email_key` ON `users` (`email`);
-- create "sessions" table
CREATE TABLE `sessions` (`id` uuid NOT NULL, `token_hash` varchar NOT NULL, `user_agent` varchar NOT NULL DEFAULT (''), `ip` varchar NOT NULL DEFAULT (''), `expires_at` datetime NOT NULL, `created_at` datetime NOT NULL DEFAULT (CURRENT_TIMESTAMP), `last_used_at` datetime NOT NULL, `revoked_at` datetime NULL, `user_id` uuid NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `sessions_users_sessions` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE CASCADE);
-- create index "sessions_token_hash_key" to table: "sessions"
CREATE UNIQUE INDEX `sessions_token_hash_key` ON `sessions` (`token_hash`);
-- create index "session_user_id" to table: "sessions"
CREATE INDEX `session_user_id` ON `sessions` (`user_id`);
-- create index "session_expires_at" to table: "sessions"
CREATE INDEX `session_expires_at` ON `sessions` (`expires_at`);
-- create "tokens" table
CREATE TABLE `tokens` (`id` uuid NOT NULL, `type` varchar NOT NULL, `token_hash` varchar NOT NULL, `expires_at` datetime NOT NULL, `created_at` datetime NOT NULL DEFAULT (CURRENT_TIMESTAMP), `user_id` uuid NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `tokens_users_tokens` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE CASCADE);
-- create index "tokens_token_hash_key" to table: "tokens"
CREATE UNIQUE INDEX `tokens_token_hash_key` ON `tokens` (`token_hash`);
-- create index "token_user_id_type" to table: "tokens"
CREATE INDEX `token_user_id_type` ON `tokens` (`user_id`, `type`);
-- create index "token_expires_at" to table: "tokens"
CREATE INDEX `token_expires_at` ON `tokens` (`expires_at`);
-- enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;

-- +goose Down
-- reverse: create index "token_expires_at" to table: "tokens"
DROP INDEX `token_expires_at`;
-- reverse: create index "token_user_id_type" to table: "tokens"
DROP INDEX `token_user_id_type`;
-- reverse: create index "tokens_token_hash_key" to table: "tokens"
DROP INDEX `tokens_token_hash_key`;
-- reverse: create "tokens" table
DROP TABLE `tokens`;
-- reverse: create index "session_expires_at" to table: "sessions"
DROP INDEX `session_expires_at`;
-- reverse: create index "session_user_id" to table: "sessions"
DROP INDEX `session_user_id`;
-- reverse: create index "sessions_token_hash_key" to table: "sessions"
DROP INDEX `sessions_token_hash_key`;
-- reverse: create "sessions" table
DROP TABLE `sessions`;
-- reverse: create index "users_email_key" to table: "users"
DROP INDEX `users_email_key`;
-- reverse: create "new_users" table
DROP TABLE `new_users`;
