-- +goose Up
-- disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- create "new_tokens" table
CREATE TABLE `new_tokens` (`id` uuid NOT NULL, `type` varchar NOT NULL, `token_hash` varchar NOT NULL, `auth_methods` text NULL, `data` blob NULL, `expires_at` datetime NOT NULL, `created_at` datetime NOT NULL DEFAULT (CURRENT_TIMESTAMP), `user_id` uuid NULL, PRIMARY KEY (`id`), CONSTRAINT `tokens_users_tokens` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE CASCADE);
-- copy rows from old table "tokens" to new temporary table "new_tokens"
INSERT INTO `new_tokens` (`id`, `type`, `token_hash`, `auth_methods`, `expires_at`, `created_at`, `user_id`) SELECT `id`, `type`, `token_hash`, `auth_methods`, `expires_at`, `created_at`, `user_id` FROM `tokens`;
-- drop "tokens" table after copying rows
DROP TABLE `tokens`;
-- rename temporary table "new_tokens" to "tokens"
ALTER TABLE `new_tokens` RENAME TO `tokens`;
-- create index "tokens_token_hash_key" to table: "tokens"
CREATE UNIQUE INDEX `tokens_token_hash_key` ON `tokens` (`token_hash`);
-- create index "token_user_id_type" to table: "tokens"
CREATE INDEX `token_user_id_type` ON `tokens` (`user_id`, `type`);
-- create index "token_expires_at" to table: "tokens"
CREATE INDEX `token_expires_at` ON `tokens` (`expires_at`);
-- create "passkeys" table
CREATE TABLE `passkeys` (`id` uuid NOT NULL, `credential_id` blob NOT NULL, `public_key` blob NOT NULL, `sign_count` integer NOT NULL DEFAULT (0), `aaguid` blob NULL, `transports` text NOT NULL DEFAULT (''), `backup_eligible` bool NOT NULL DEFAULT (false), `backed_up` bool NOT NULL DEFAULT (false), `name` varchar NOT NULL DEFAULT (''), `created_at` datetime NOT NULL, `last_used_at` datetime NULL, `user_id` uuid NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `passkeys_users_passkeys` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE CASCADE);
-- create index "passkeys_credential_id_key" to table: "passkeys"
CREATE UNIQUE INDEX `passkeys_credential_id_key` ON `passkeys` (`credential_id`);
-- create index "passkey_user_id" to table: "passkeys"
CREATE INDEX `passkey_user_id` ON `passkeys` (`user_id`);
-- enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;

-- +goose Down
-- reverse: create index "passkey_user_id" to table: "passkeys"
DROP INDEX `passkey_user_id`;
-- reverse: create index "passkeys_credential_id_key" to table: "passkeys"
DROP INDEX `passkeys_credential_id_key`;
-- reverse: create "passkeys" table
DROP TABLE `passkeys`;
-- reverse: create index "token_expires_at" to table: "tokens"
DROP INDEX `token_expires_at`;
-- reverse: create index "token_user_id_type" to table: "tokens"
DROP INDEX `token_user_id_type`;
-- reverse: create index "tokens_token_hash_key" to table: "tokens"
DROP INDEX `tokens_token_hash_key`;
-- reverse: create "new_tokens" table
DROP TABLE `new_tokens`;
