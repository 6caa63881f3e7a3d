-- Prepare a tenant database for realtime: run once per database, as a superuser, e.g.
--   psql "postgres://postgres@DBHOST:5432/app_eu" -f docs/quickstart/tenant-database.sql
-- The server needs wal_level = logical and a replication slot plus a WAL sender per tenant
-- (max_replication_slots, max_wal_senders). The node installs the rest itself on first connect
-- (schema realtime, the publication supabase_realtime, roles anon/authenticated/service_role).
do $$
begin
  if not exists (select 1 from pg_roles where rolname = 'realtime_admin') then
    -- REPLICATION for the logical replication slot; CREATEROLE for the API roles the node creates.
    create role realtime_admin login replication createrole password 'change-me';
  end if;
  -- CREATE on the database for schema realtime and the publication.
  execute format('grant create, connect on database %I to realtime_admin', current_database());
end
$$;
