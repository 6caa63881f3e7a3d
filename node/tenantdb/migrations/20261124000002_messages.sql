-- realtime.messages (docs/protocol.md#database-broadcast): broadcast/presence rows, partitioned by UTC day on inserted_at.
-- Partitions realtime.messages_YYYY_MM_DD are created by the node (tenantdb.EnsurePartitions),
-- never here, because they depend on the current date.
create table if not exists realtime.messages (
  topic          text      not null,
  extension      text      not null,
  payload        jsonb,
  event          text,
  private        boolean   default false,
  updated_at     timestamp not null default timezone('utc', now()),
  inserted_at    timestamp not null default timezone('utc', now()),
  id             uuid      not null default gen_random_uuid(),
  binary_payload bytea,
  constraint messages_pkey primary key (id, inserted_at),
  constraint messages_payload_exclusive check (payload is null or binary_payload is null)
) partition by range (inserted_at);

-- Older tenant schemas (created by Supabase before binary payloads existed) lack this column.
alter table realtime.messages add column if not exists binary_payload bytea;

do $$
begin
  if not exists (select 1 from pg_catalog.pg_constraint
                 where conrelid = 'realtime.messages'::regclass
                   and conname = 'messages_payload_exclusive') then
    alter table realtime.messages
      add constraint messages_payload_exclusive check (payload is null or binary_payload is null);
  end if;
end
$$;

alter table realtime.messages enable row level security;

-- Replay (docs/protocol.md#replay) reads the newest private broadcasts of one topic.
create index if not exists messages_inserted_at_topic_index
  on only realtime.messages using btree (inserted_at desc, topic)
  where extension = 'broadcast' and private is true;

grant insert, select, update on table realtime.messages to anon, authenticated, service_role;
