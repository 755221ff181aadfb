-- +goose Up
-- create "rotated_tokens" table
CREATE TABLE `rotated_tokens` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `token_hash` varchar NOT NULL, `rotated_at` datetime NOT NULL, `session_id` uuid NOT NULL, CONSTRAINT `rotated_tokens_sessions_rotated_tokens` FOREIGN KEY (`session_id`) REFERENCES `sessions` (`id`) ON DELETE CASCADE);
-- create index "rotated_tokens_token_hash_key" to table: "rotated_tokens"
CREATE UNIQUE INDEX `rotated_tokens_token_hash_key` ON `rotated_tokens` (`token_hash`);

-- +goose Down
-- reverse: create index "rotated_tokens_token_hash_key" to table: "rotated_tokens"
DROP INDEX `rotated_tokens_token_hash_key`;
-- reverse: create "rotated_tokens" table
DROP TABLE `rotated_tokens`;
