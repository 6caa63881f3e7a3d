package changes

import (
	"testing"
)

const typedSQL = `
create type public.mood as enum ('happy', 'sad');
create table public.typed (
  id int4 primary key, i2 int2, i8 int8, f4 float4, f8 float8, num numeric(10,2), b bool, t text,
  vc varchar(10), j json, jb jsonb, ai int4[], at text[], ts timestamp, tstz timestamptz, d date,
  u uuid, by bytea, m mood, ma mood[], nul text, nan float8);
grant select on public.typed to anon, authenticated;
alter publication supabase_realtime add table public.typed;
`

func TestTypedInsertUpdateDeletePayloads(t *testing.T) {
	e := newEnv(t, typedSQL)
	rec, bs := e.subscribe(t, anon, `[{"event":"*","schema":"public","table":"typed"}]`)
	rec.waitSubscribed(t)
	e.exec(t, `insert into public.typed values (1, -2, 9007199254740993, 1.5, 2.25, 12.30, true, 'hé "q"',
	  'vc', '{"a": [1, 2]}', '{"b": {"c": null}}', '{1,NULL,3}', '{"x y","z,w",NULL}', '2024-05-01 12:34:56.789',
	  '2024-05-01 12:34:56+02', '2024-05-01', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '\x0102ff', 'happy',
	  '{happy,sad}', null, 'NaN')`)
	e.exec(t, `update public.typed set t = 'new', ai = '{}' where id = 1`)
	e.exec(t, `delete from public.typed where id = 1`)
	got := rec.waitChanges(t, 3)
	cols := `"columns":[{"name":"id","type":"int4"},{"name":"i2","type":"int2"},{"name":"i8","type":"int8"},{"name":"f4","type":"float4"},{"name":"f8","type":"float8"},{"name":"num","type":"numeric"},{"name":"b","type":"bool"},{"name":"t","type":"text"},{"name":"vc","type":"varchar"},{"name":"j","type":"json"},{"name":"jb","type":"jsonb"},{"name":"ai","type":"_int4"},{"name":"at","type":"_text"},{"name":"ts","type":"timestamp"},{"name":"tstz","type":"timestamptz"},{"name":"d","type":"date"},{"name":"u","type":"uuid"},{"name":"by","type":"bytea"},{"name":"m","type":"mood"},{"name":"ma","type":"_mood"},{"name":"nul","type":"text"},{"name":"nan","type":"float8"}]`
	rec1 := `{"id":1,"i2":-2,"i8":9007199254740993,"f4":1.5,"f8":2.25,"num":12.30,"b":true,"t":"hé \"q\"","vc":"vc","j":{"a": [1, 2]},"jb":{"b": {"c": null}},"ai":[1,null,3],"at":["x y","z,w",null],"ts":"2024-05-01T12:34:56.789","tstz":"2024-05-01T10:34:56+00:00","d":"2024-05-01","u":"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11","by":"0102ff","m":"happy","ma":["happy","sad"],"nul":null,"nan":"NaN"}`
	rec2 := `{"id":1,"i2":-2,"i8":9007199254740993,"f4":1.5,"f8":2.25,"num":12.30,"b":true,"t":"new","vc":"vc","j":{"a": [1, 2]},"jb":{"b": {"c": null}},"ai":[],"at":["x y","z,w",null],"ts":"2024-05-01T12:34:56.789","tstz":"2024-05-01T10:34:56+00:00","d":"2024-05-01","u":"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11","by":"0102ff","m":"happy","ma":["happy","sad"],"nul":null,"nan":"NaN"}`
	want := []string{
		`{` + cols + `,"commit_timestamp":"TS","errors":null,"record":` + rec1 + `,"schema":"public","table":"typed","type":"INSERT"}`,
		`{` + cols + `,"commit_timestamp":"TS","errors":null,"old_record":{"id":1},"record":` + rec2 + `,"schema":"public","table":"typed","type":"UPDATE"}`,
		`{` + cols + `,"commit_timestamp":"TS","errors":null,"old_record":{"id":1},"schema":"public","table":"typed","type":"DELETE"}`,
	}
	for i, w := range want {
		if g := normalize(got[i].data); g != w {
			t.Errorf("change %d:\n got %s\nwant %s", i, g, w)
		}
		if len(got[i].ids) != 1 || got[i].ids[0] != bs[0].ID {
			t.Errorf("change %d ids = %v, want [%d]", i, got[i].ids, bs[0].ID)
		}
	}
}
