-- +goose Up
-- modify "tokens" table
ALTER TABLE "tokens" ALTER COLUMN "user_id" DROP NOT NULL, ADD COLUMN "data" bytea NULL;
-- create "passkeys" table
CREATE TABLE "passkeys" ("id" uuid NOT NULL, "credential_id" bytea NOT NULL, "public_key" bytea NOT NULL, "sign_count" bigint NOT NULL DEFAULT 0, "aaguid" bytea NULL, "transports" character varying NOT NULL DEFAULT '', "backup_eligible" boolean NOT NULL DEFAULT false, "backed_up" boolean NOT NULL DEFAULT false, "name" character varying(100) NOT NULL DEFAULT '', "created_at" timestamptz NOT NULL, "last_used_at" timestamptz NULL, "user_id" uuid NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "passkeys_users_passkeys" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE CASCADE);
-- create index "passkey_user_id" to table: "passkeys"
CREATE INDEX "passkey_user_id" ON "passkeys" ("user_id");
-- create index "passkeys_credential_id_key" to table: "passkeys"
CREATE UNIQUE INDEX "passkeys_credential_id_key" ON "passkeys" ("credential_id");

-- +goose Down
-- reverse: create index "passkeys_credential_id_key" to table: "passkeys"
DROP INDEX "passkeys_credential_id_key";
-- reverse: create index "passkey_user_id" to table: "passkeys"
DROP INDEX "passkey_user_id";
-- reverse: create "passkeys" table
DROP TABLE "passkeys";
-- reverse: modify "tokens" table
ALTER TABLE "tokens" DROP COLUMN "data", ALTER COLUMN "user_id" SET NOT NULL;
