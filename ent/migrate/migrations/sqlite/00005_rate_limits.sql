-- +goose Up
-- create "rate_limits" table
CREATE TABLE `rate_limits` (`key` varchar NOT NULL, `count` integer NOT NULL, `window_ends_at` datetime NOT NULL, PRIMARY KEY (`key`));
-- create index "ratelimit_window_ends_at" to table: "rate_limits"
CREATE INDEX `ratelimit_window_ends_at` ON `rate_limits` (`window_ends_at`);

-- +goose Down
-- reverse: create index "ratelimit_window_ends_at" to table: "rate_limits"
DROP INDEX `ratelimit_window_ends_at`;
-- reverse: create "rate_limits" table
DROP TABLE `rate_limits`;
