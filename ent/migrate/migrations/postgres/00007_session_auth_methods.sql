-- +goose Up
-- modify "sessions" table
ALTER TABLE "sessions" ADD COLUMN "auth_methods" character varying NOT NULL DEFAULT '';
-- Written by hand: the sessions that exist were started by the only ways
-- there were, a password for a user with an email and nothing for an
-- anonymous user (NULL email), whose sessions keep the default.
UPDATE "sessions" SET "auth_methods" = 'pwd' WHERE "user_id" IN (SELECT "id" FROM "users" WHERE "email" IS NOT NULL);

-- +goose Down
-- reverse: modify "sessions" table
ALTER TABLE "sessions" DROP COLUMN "auth_methods";
