-- +goose Up
-- create index "rotatedtoken_session_id" to table: "rotated_tokens"
CREATE INDEX "rotatedtoken_session_id" ON "rotated_tokens" ("session_id");

-- +goose Down
-- reverse: create index "rotatedtoken_session_id" to table: "rotated_tokens"
DROP INDEX "rotatedtoken_session_id";
