-- +goose Up
-- create "mfa_factors" table
CREATE TABLE "mfa_factors" ("id" uuid NOT NULL, "kind" character varying(20) NOT NULL, "secret" bytea NOT NULL, "last_step" bigint NOT NULL DEFAULT 0, "created_at" timestamptz NOT NULL, "verified_at" timestamptz NULL, "user_id" uuid NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "mfa_factors_users_factors" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE CASCADE);
-- create index "factor_user_id_kind" to table: "mfa_factors"
CREATE UNIQUE INDEX "factor_user_id_kind" ON "mfa_factors" ("user_id", "kind");

-- +goose Down
-- reverse: create index "factor_user_id_kind" to table: "mfa_factors"
DROP INDEX "factor_user_id_kind";
-- reverse: create "mfa_factors" table
DROP TABLE "mfa_factors";
