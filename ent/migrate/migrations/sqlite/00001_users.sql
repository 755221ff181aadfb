-- +goose Up
-- create "users" table
CREATE TABLE `users` (`id` uuid NOT NULL, `email` varchar NULL, `password_hash` text NULL, `email_verified` bool NOT NULL DEFAULT (false), `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, PRIMARY KEY (`id`));
-- create index "users_email_key" to table: "users"
CREATE UNIQUE INDEX `users_email_key` ON `users` (`email`);

-- +goose Down
-- reverse: create index "users_email_key" to table: "users"
DROP INDEX `users_email_key`;
-- reverse: create "users" table
DROP TABLE `users`;
