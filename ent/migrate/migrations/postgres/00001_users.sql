-- +goose Up
-- create "users" table
CREATE TABLE "users" ("id" uuid NOT NULL, "email" character varying(254) NULL, "password_hash" character varying NULL, "email_verified" boolean NOT NULL DEFAULT false, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, PRIMARY KEY ("id"));
-- create index "users_email_key" to table: "users"
CREATE UNIQUE INDEX "users_email_key" ON "users" ("email");

-- +goose Down
-- reverse: create index "users_email_key" to table: "users"
DROP INDEX "users_email_key";
-- reverse: create "users" table
DROP TABLE "users";
