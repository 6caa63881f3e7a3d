-- Database broadcast API (docs/protocol.md#database-broadcast). Rows inserted here leave Postgres through the node's logical
-- replication of realtime.messages. Failures never break the caller's transaction: they become a
-- WARNING `WarnSendingBroadcastMessage: <error>`.
create or replace function realtime.send(payload jsonb, event text, topic text, private boolean default true)
  returns void
  language plpgsql
as $$
declare
  new_id uuid := gen_random_uuid();
  body   jsonb := payload;
begin
  begin
    -- The id lets clients (and replay) de-duplicate; a caller-provided top-level id is kept.
    if jsonb_typeof(body) = 'object' and not body ? 'id' then
      body := body || jsonb_build_object('id', new_id);
    end if;
    perform set_config('realtime.topic', topic, true);
    insert into realtime.messages (id, payload, event, topic, private, extension)
    values (new_id, body, event, topic, private, 'broadcast');
  exception when others then
    raise warning 'WarnSendingBroadcastMessage: %', sqlerrm;
  end;
end;
$$;

create or replace function realtime.send_binary(payload bytea, event text, topic text, private boolean default true)
  returns void
  language plpgsql
as $$
begin
  begin
    perform set_config('realtime.topic', topic, true);
    insert into realtime.messages (id, binary_payload, event, topic, private, extension)
    values (gen_random_uuid(), payload, event, topic, private, 'broadcast');
  exception when others then
    raise warning 'WarnSendingBroadcastMessage: %', sqlerrm;
  end;
end;
$$;

-- For row-level triggers: broadcast_changes('topic:' || NEW.id, TG_OP, TG_OP, TG_TABLE_NAME,
-- TG_TABLE_SCHEMA, NEW, OLD). Statement-level calls and other operations raise.
create or replace function realtime.broadcast_changes(
  topic_name text, event_name text, operation text, table_name text, table_schema text,
  new record, old record, level text default 'ROW')
  returns void
  language plpgsql
as $$
declare
  row_data jsonb;
begin
  if level is distinct from 'ROW' then
    raise exception 'Unexpected level: %', level using errcode = 'invalid_parameter_value';
  end if;
  if operation = 'INSERT' then
    row_data := jsonb_build_object('old_record', null, 'record', to_jsonb(new));
  elsif operation = 'UPDATE' then
    row_data := jsonb_build_object('old_record', to_jsonb(old), 'record', to_jsonb(new));
  elsif operation = 'DELETE' then
    row_data := jsonb_build_object('old_record', to_jsonb(old), 'record', null);
  else
    raise exception 'Unexpected operation: %', operation using errcode = 'invalid_parameter_value';
  end if;
  row_data := row_data || jsonb_build_object(
    'operation', operation, 'table', table_name, 'schema', table_schema);
  perform realtime.send(row_data, event_name, topic_name);
end;
$$;

grant execute on function realtime.send(jsonb, text, text, boolean) to anon, authenticated, service_role;
grant execute on function realtime.send_binary(bytea, text, text, boolean) to anon, authenticated, service_role;
grant execute on function realtime.broadcast_changes(text, text, text, text, text, record, record, text)
  to anon, authenticated, service_role;
