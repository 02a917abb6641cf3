-- corpus: verdict=safe
-- context: none
-- hazards: none
-- runner: prisma
-- pg: 16
-- size: public.crates=200000
-- setup: CREATE TABLE crates (id bigint PRIMARY KEY, name text NOT NULL, downloads bigint NOT NULL DEFAULT 0, description varchar(200), created_at timestamptz NOT NULL DEFAULT now());
-- source: https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-NOTES
-- source: https://www.prisma.io/docs/orm/prisma-migrate/workflows/customizing-migrations
SET lock_timeout = '2s';
-- AlterTable
ALTER TABLE "crates" ADD COLUMN "repository" TEXT;
