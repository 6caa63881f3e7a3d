-- Schema `realtime` and the three API roles that users' RLS policies name (docs/protocol.md#database-broadcast, #client-contract item 21).
-- On Supabase the roles already exist; on plain Postgres we create them NOLOGIN so policies such as
-- `for select to authenticated` compile and `set_config('role', ...)` works. Roles are cluster-wide,
-- and several tenant databases on one cluster may migrate at once (advisory locks are per database),
-- so a concurrent creator's duplicate is ignored.
do $$
declare
  r text;
begin
  foreach r in array array['anon', 'authenticated', 'service_role'] loop
    if not exists (select 1 from pg_catalog.pg_roles where rolname = r) then
      begin
        execute format('create role %I nologin noinherit', r);
      exception when duplicate_object or unique_violation then
        null;
      end;
    end if;
    -- The node switches to these roles with `set local role`; a non-superuser migrating user needs
    -- membership for that. Superusers need nothing; lacking the admin option is not fatal here (the
    -- authorization checks then report an RLS policy error naming the role).
    if not (select rolsuper from pg_catalog.pg_roles where rolname = current_user)
       and not pg_catalog.pg_has_role(current_user, r, 'MEMBER') then
      begin
        execute format('grant %I to %I', r, current_user);
      exception when insufficient_privilege or invalid_grant_operation then
        raise warning 'realtime: cannot grant role % to %: %', r, current_user, sqlerrm;
      end;
    end if;
  end loop;
end
$$;

create schema if not exists realtime;

grant usage on schema realtime to anon, authenticated, service_role;

-- realtime.topic(): the sub-topic under authorization, set transaction-locally by the node (docs/protocol.md#private-channels)
-- and by realtime.send (docs/protocol.md#database-broadcast); users' policies on realtime.messages call it.
create or replace function realtime.topic()
  returns text
  language sql
  stable
as $$
  select nullif(current_setting('realtime.topic', true), '')::text;
$$;

grant execute on function realtime.topic() to anon, authenticated, service_role;
