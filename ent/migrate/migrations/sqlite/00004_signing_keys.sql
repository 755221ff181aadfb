-- +goose Up
-- create "signing_keys" table
CREATE TABLE `signing_keys` (`id` varchar NOT NULL, `algorithm` varchar NOT NULL, `public_key` blob NOT NULL, `encrypted_private_key` blob NOT NULL, `created_at` datetime NOT NULL, PRIMARY KEY (`id`));
-- create index "signingkey_created_at" to table: "signing_keys"
CREATE INDEX `signingkey_created_at` ON `signing_keys` (`created_at`);

-- +goose Down
-- reverse: create index "signingkey_created_at" to table: "signing_keys"
DROP INDEX `signingkey_created_at`;
-- reverse: create "signing_keys" table
DROP TABLE `signing_keys`;
