-- +goose Up
-- modify "users" table
ALTER TABLE "users" ADD COLUMN "tier" character varying(20) NOT NULL DEFAULT 'free';
-- create "sessions" table
CREATE TABLE "sessions" ("id" uuid NOT NULL, "token_hash" character varying(64) NOT NULL, "user_agent" character varying(512) NOT NULL DEFAULT '', "ip" character varying(45) NOT NULL DEFAULT '', "expires_at" timestamptz NOT NULL, "created_at" timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP, "last_used_at" timestamptz NOT NULL, "revoked_at" timestamptz NULL, "user_id" uuid NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "sessions_users_sessions" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE CASCADE);
-- create index "session_expires_at" to table: "sessions"
CREATE INDEX "session_expires_at" ON "sessions" ("expires_at");
-- create index "session_user_id" to table: "sessions"
CREATE INDEX "session_user_id" ON "sessions" ("user_id");
-- create index "sessions_token_hash_key" to table: "sessions"
CREATE UNIQUE INDEX "sessions_token_hash_key" ON "sessions" ("token_hash");
-- create "tokens" table
CREATE TABLE "tokens" ("id" uuid NOT NULL, "type" character varying(50) NOT NULL, "token_hash" character varying(64) NOT NULL, "expires_at" timestamptz NOT NULL, "created_at" timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP, "user_id" uuid NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "tokens_users_tokens" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE CASCADE);
-- create index "token_expires_at" to table: "tokens"
CREATE INDEX "token_expires_at" ON "tokens" ("expires_at");
-- create index "token_user_id_type" to table: "tokens"
CREATE INDEX "token_user_id_type" ON "tokens" ("user_id", "type");
-- create index "tokens_token_hash_key" to table: "tokens"
CREATE UNIQUE INDEX "tokens_token_hash_key" ON "tokens" ("token_hash");

-- +goose Down
-- reverse: create index "tokens_token_hash_key" to table: "tokens"
DROP INDEX "tokens_token_hash_key";
-- reverse: create index "token_user_id_type" to table: "tokens"
DROP INDEX "token_user_id_type";
-- reverse: create index "token_expires_at" to table: "tokens"
DROP INDEX "token_expires_at";
-- reverse: create "tokens" table
DROP TABLE "tokens";
-- reverse: create index "sessions_token_hash_key" to table: "sessions"
DROP INDEX "sessions_token_hash_key";
-- reverse: create index "session_user_id" to table: "sessions"
DROP INDEX "session_user_id";
-- reverse: create index "session_expires_at" to table: "sessions"
DROP INDEX "session_expires_at";
-- reverse: create "sessions" table
DROP TABLE "sessions";
-- reverse: modify "users" table
ALTER TABLE "users" DROP COLUMN "tier";
