-- +goose Up
-- create "mfa_factors" table
CREATE TABLE `mfa_factors` (`id` uuid NOT NULL, `kind` varchar NOT NULL, `secret` blob NOT NULL, `last_step` integer NOT NULL DEFAULT (0), `created_at` datetime NOT NULL, `verified_at` datetime NULL, `user_id` uuid NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `mfa_factors_users_factors` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE CASCADE);
-- create index "factor_user_id_kind" to table: "mfa_factors"
CREATE UNIQUE INDEX `factor_user_id_kind` ON `mfa_factors` (`user_id`, `kind`);

-- +goose Down
-- reverse: create index "factor_user_id_kind" to table: "mfa_factors"
DROP INDEX `factor_user_id_kind`;
-- reverse: create "mfa_factors" table
DROP TABLE `mfa_factors`;
