-- Checkoff's database and its two roles, run once by a PostgreSQL superuser:
--
--   psql -v owner=checkoff_owner -v owner_password=... -v app=checkoff_app -v app_password=... \
--        -v database=checkoff -f deploy/postgres-roles.sql
--
-- The owner owns the database, the schema, every table and trigger, and runs `manage.py migrate`.
-- The app (gunicorn, Celery) may only read and write rows: it is no superuser (a superuser can
-- `SET session_replication_role = replica` and so skip the triggers that keep signed records
-- unchanged), owns nothing (an owner can DISABLE TRIGGER), and creates nothing (a table named like
-- one a trigger reads would be found first). `manage.py check --deploy` checks the role it runs as.
\set ON_ERROR_STOP on

CREATE ROLE :"owner" LOGIN PASSWORD :'owner_password'
    NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
CREATE ROLE :"app" LOGIN PASSWORD :'app_password'
    NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
CREATE DATABASE :"database" OWNER :"owner";

\connect :"database"
-- Nobody but the owner creates anything: not in a schema, not a schema, not a temporary table.
REVOKE ALL ON DATABASE :"database" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"database" TO :"app";
-- On PostgreSQL 14 and older the schema belongs to the superuser; on 15 and later to the database
-- owner already. Either way the owner role holds it.
ALTER SCHEMA public OWNER TO :"owner";
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO :"app";
-- Tables and sequences the owner creates from now on (each migrate) are the app's to use, no more.
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO :"app";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public
    GRANT USAGE, SELECT ON SEQUENCES TO :"app";
