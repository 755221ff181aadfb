-- +goose Up
-- modify "sessions" table
ALTER TABLE "sessions" ADD COLUMN "retry_hash" character varying(64) NULL, ADD COLUMN "retry_sealed" bytea NULL, ADD COLUMN "retry_until" timestamptz NULL;

-- +goose Down
-- reverse: modify "sessions" table
ALTER TABLE "sessions" DROP COLUMN "retry_until", DROP COLUMN "retry_sealed", DROP COLUMN "retry_hash";
