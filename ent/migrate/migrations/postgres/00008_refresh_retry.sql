-- +goose Up
-- modify "sessions" table
ALTER TABLE "sessions" ADD COLUMN "retry_hash" character varying(64) NULL, ADD COLUMN "retry_sealed" bytea NULL, ADD COLUMN "retry_until" timestamptz NULL;
-- create index "session_retry_hash" to table: "sessions"
CREATE INDEX "session_retry_hash" ON "sessions" ("retry_hash");
-- create index "session_retry_until" to table: "sessions"
CREATE INDEX "session_retry_until" ON "sessions" ("retry_until");

-- +goose Down
-- reverse: create index "session_retry_until" to table: "sessions"
DROP INDEX "session_retry_until";
-- reverse: create index "session_retry_hash" to table: "sessions"
DROP INDEX "session_retry_hash";
-- reverse: modify "sessions" table
ALTER TABLE "sessions" DROP COLUMN "retry_until", DROP COLUMN "retry_sealed", DROP COLUMN "retry_hash";
