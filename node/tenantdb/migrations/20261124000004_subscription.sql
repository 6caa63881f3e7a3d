-- Postgres Changes subscriptions (docs/protocol.md#subscriptions) and the types they use. The node streams the WAL
-- itself with pgoutput (design.md), so Supabase's wal2json poller functions realtime.list_changes,
-- realtime.apply_rls, realtime.build_prepared_statement_sql, realtime.is_visible_through_filters and
-- realtime.check_equality_op are deliberately not installed; the types they exchanged
-- (realtime.action, realtime.wal_column, realtime.wal_rls) are kept because tools and users'
-- functions reference them.
do $$
begin
  if to_regtype('realtime.equality_op') is null then
    create type realtime.equality_op as enum (
      'eq', 'neq', 'lt', 'lte', 'gt', 'gte', 'in', 'like', 'ilike', 'is', 'match', 'imatch', 'isdistinct');
  end if;
  if to_regtype('realtime.action') is null then
    create type realtime.action as enum ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'ERROR');
  end if;
  if to_regtype('realtime.user_defined_filter') is null then
    create type realtime.user_defined_filter as (
      column_name text, op realtime.equality_op, value text, negate boolean);
  end if;
  if to_regtype('realtime.wal_column') is null then
    create type realtime.wal_column as (
      name text, type_name text, type_oid oid, value jsonb, is_pkey boolean, is_selectable boolean);
  end if;
  if to_regtype('realtime.wal_rls') is null then
    create type realtime.wal_rls as (
      wal jsonb, is_rls_enabled boolean, subscription_ids uuid[], errors text[]);
  end if;
end
$$;

-- realtime.cast: a filter value as JSON of the column's type; raises when the text does not cast.
-- bytea stays text (the hex form the WAL gives).
create or replace function realtime.cast(val text, type_ regtype)
  returns jsonb
  language plpgsql
  immutable
as $$
declare
  res jsonb;
begin
  if type_ = 'bytea'::regtype then
    return to_jsonb(val);
  end if;
  execute format('select to_jsonb(%L::%s)', val, type_::text) into res;
  return res;
end;
$$;

-- Immutable wrapper so the generated claims_role column may use it.
create or replace function realtime.to_regrole(role_name text)
  returns regrole
  language sql
  immutable
as $$ select role_name::regrole $$;

create table if not exists realtime.subscription (
  id               bigint generated always as identity primary key,
  subscription_id  uuid      not null,
  entity           regclass  not null,
  filters          realtime.user_defined_filter[] not null default '{}',
  claims           jsonb     not null,
  claims_role      regrole   not null generated always as (realtime.to_regrole(claims ->> 'role')) stored,
  created_at       timestamp not null default timezone('utc', now()),
  action_filter    text      default '*'
                   check (action_filter in ('*', 'INSERT', 'UPDATE', 'DELETE')),
  selected_columns text[]
);

create index if not exists ix_realtime_subscription_entity on realtime.subscription using btree (entity);

-- Subscribers upsert with
--   on conflict (subscription_id, entity, filters, action_filter, coalesce(selected_columns, '{}'))
--   do update set claims = excluded.claims, created_at = excluded.created_at
create unique index if not exists subscription_subscription_id_entity_filters_action_filter_key
  on realtime.subscription (subscription_id, entity, filters, action_filter, coalesce(selected_columns, '{}'));

-- Validation of docs/protocol.md#filters done where the types live: filter columns exist and are SELECT-able by the
-- subscriber's role, values cast to the column type, `in` <= 100 values, `is` keywords, like/match
-- operator availability and regex validity, selected columns exist. Filters and selected columns
-- are sorted so the unique index sees one spelling of a subscription.
create or replace function realtime.subscription_check_filters()
  returns trigger
  language plpgsql
as $$
declare
  role_name text := new.claims ->> 'role';
  cols      text[];
  f         realtime.user_defined_filter;
  col       text;
  json_key  text;
  is_json   boolean;
  col_type  regtype;
  cmp_type  regtype;
  in_val    jsonb;
begin
  select coalesce(array_agg(a.attname::text order by a.attnum), '{}') into cols
  from pg_catalog.pg_attribute a
  where a.attrelid = new.entity and a.attnum > 0 and not a.attisdropped
    and pg_catalog.has_column_privilege(role_name, a.attrelid, a.attnum, 'SELECT');

  foreach f in array new.filters loop
    is_json := position('->>' in f.column_name) > 0;
    col := split_part(f.column_name, '->>', 1);
    json_key := btrim(split_part(f.column_name, '->>', 2), ' "');
    if is_json and (col = '' or json_key = '' or position('->>' in split_part(f.column_name, '->>', 2)) > 0) then
      raise exception 'invalid jsonb filter expression %', f.column_name;
    end if;
    if not col = any(cols) then
      raise exception 'invalid column for filter %', f.column_name;
    end if;
    select a.atttypid::regtype into col_type
    from pg_catalog.pg_attribute a where a.attrelid = new.entity and a.attname = col;
    if col_type is null then
      raise exception 'failed to lookup type for column %', f.column_name;
    end if;
    if is_json and col_type <> 'jsonb'::regtype then
      raise exception 'jsonb filter requires a jsonb column, got %', col_type::text;
    end if;
    cmp_type := case when is_json then 'text'::regtype else col_type end;

    if f.op = 'in' then
      in_val := realtime.cast(f.value, (cmp_type::text || '[]')::regtype);
      if coalesce(jsonb_array_length(in_val), 0) > 100 then
        raise exception 'too many values for `in` filter. Maximum 100';
      end if;
    elsif f.op = 'is' then
      if f.value not in ('null', 'true', 'false', 'unknown') then
        raise exception 'invalid value for is filter: must be null, true, false, or unknown';
      end if;
      if f.value <> 'null' and cmp_type <> 'boolean'::regtype then
        raise exception 'is % filter requires a boolean column, got %', f.value, cmp_type::text;
      end if;
    elsif f.op in ('like', 'ilike') then
      if not exists (select 1 from pg_catalog.pg_operator where oprname = '~~' and oprleft = cmp_type) then
        raise exception 'operator % requires a text-compatible column type, got %', f.op::text, cmp_type::text;
      end if;
    elsif f.op in ('match', 'imatch') then
      if not exists (select 1 from pg_catalog.pg_operator
                     where oprname = case when f.op = 'imatch' then '~*' else '~' end
                       and oprleft = cmp_type and oprright = cmp_type
                       and oprresult = 'boolean'::regtype) then
        raise exception 'operator % requires a text-compatible column type, got %', f.op::text, cmp_type::text;
      end if;
      begin
        perform '' ~ f.value;
      exception when others then
        raise exception 'invalid regular expression for % filter: %', f.op::text, sqlerrm;
      end;
    else
      perform realtime.cast(f.value, cmp_type);
    end if;
  end loop;

  if new.selected_columns is not null then
    foreach col in array new.selected_columns loop
      if not col = any(cols) then
        raise exception 'invalid column for select %', col;
      end if;
    end loop;
  end if;

  new.filters := coalesce(
    (select array_agg(x order by x.column_name, x.op, x.value, x.negate) from unnest(new.filters) x),
    '{}');
  new.selected_columns := (select array_agg(c order by c) from unnest(new.selected_columns) c);
  return new;
end;
$$;

drop trigger if exists tr_check_filters on realtime.subscription;
create trigger tr_check_filters
  before insert or update on realtime.subscription
  for each row execute function realtime.subscription_check_filters();

grant select on table realtime.subscription to anon, authenticated, service_role;
