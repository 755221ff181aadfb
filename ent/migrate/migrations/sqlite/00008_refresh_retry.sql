-- +goose Up
-- add column "retry_hash" to table: "sessions"
ALTER TABLE `sessions` ADD COLUMN `retry_hash` varchar NULL;
-- add column "retry_sealed" to table: "sessions"
ALTER TABLE `sessions` ADD COLUMN `retry_sealed` blob NULL;
-- add column "retry_until" to table: "sessions"
ALTER TABLE `sessions` ADD COLUMN `retry_until` datetime NULL;

-- +goose Down
-- reverse: add column "retry_until" to table: "sessions"
ALTER TABLE `sessions` DROP COLUMN `retry_until`;
-- reverse: add column "retry_sealed" to table: "sessions"
ALTER TABLE `sessions` DROP COLUMN `retry_sealed`;
-- reverse: add column "retry_hash" to table: "sessions"
ALTER TABLE `sessions` DROP COLUMN `retry_hash`;
