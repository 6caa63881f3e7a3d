-- The publication Postgres Changes streams (docs/protocol.md#wal-stream); empty: users add their tables with
-- `alter publication supabase_realtime add table ...`.
do $$
begin
  if not exists (select 1 from pg_catalog.pg_publication where pubname = 'supabase_realtime') then
    create publication supabase_realtime;
  end if;
exception when duplicate_object then
  null;
end
$$;
