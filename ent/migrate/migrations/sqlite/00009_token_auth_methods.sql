-- +goose Up
-- add column "auth_methods" to table: "tokens"
ALTER TABLE `tokens` ADD COLUMN `auth_methods` text NULL;

-- +goose Down
-- reverse: add column "auth_methods" to table: "tokens"
ALTER TABLE `tokens` DROP COLUMN `auth_methods`;
