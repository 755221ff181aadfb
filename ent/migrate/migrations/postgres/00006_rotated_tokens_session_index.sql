-- +goose NO TRANSACTION
-- +goose Up
-- Written by hand from the generated statement. CONCURRENTLY: a plain
-- CREATE INDEX would block inserts into rotated_tokens, and with them every
-- refresh on the replicas still serving, for as long as the build takes. A
-- build that failed leaves an invalid index behind; the DROP clears it
-- before the next attempt.
-- create index "rotatedtoken_session_id" to table: "rotated_tokens"
DROP INDEX CONCURRENTLY IF EXISTS "rotatedtoken_session_id";
CREATE INDEX CONCURRENTLY "rotatedtoken_session_id" ON "rotated_tokens" ("session_id");

-- +goose Down
-- reverse: create index "rotatedtoken_session_id" to table: "rotated_tokens"
DROP INDEX CONCURRENTLY IF EXISTS "rotatedtoken_session_id";
