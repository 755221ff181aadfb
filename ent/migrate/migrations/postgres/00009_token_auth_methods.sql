-- +goose Up
-- modify "tokens" table
ALTER TABLE "tokens" ADD COLUMN "auth_methods" character varying NULL;

-- +goose Down
-- reverse: modify "tokens" table
ALTER TABLE "tokens" DROP COLUMN "auth_methods";
