package replay

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/realtimeops/realtime/internal/pgtest"
	"github.com/realtimeops/realtime/node/tenant"
	"github.com/realtimeops/realtime/node/tenantdb"
)

func TestParse(t *testing.T) {
	cases := []struct {
		in   string
		want Params
		ok   bool
	}{
		{`{"since":1700000000000,"limit":10}`, Params{1700000000000, 10}, true},
		{`{"since":1700000000000}`, Params{1700000000000, 25}, true},
		{`{"since":1,"limit":null}`, Params{1, 25}, true},
		{`{"since":1,"limit":100}`, Params{1, 25}, true},
		{`{"since":1,"limit":0}`, Params{1, 1}, true},
		{`{"since":1,"limit":-5}`, Params{1, 1}, true},
		{`{"since":-1}`, Params{-1, 25}, true},
		{`{"since":0,"limit":25,"extra":true}`, Params{0, 25}, true},
		{`{}`, Params{}, false},
		{`{"limit":1}`, Params{}, false},
		{`{"since":null}`, Params{}, false},
		{`{"since":"1700000000000"}`, Params{}, false},
		{`{"since":1.5}`, Params{}, false},
		{`{"since":1.0}`, Params{}, false},
		{`{"since":1e3}`, Params{}, false},
		{`{"since":1,"limit":"not a number"}`, Params{}, false},
		{`{"since":1,"limit":2.5}`, Params{}, false},
		{`{"since":99999999999999999999}`, Params{}, false},
		{`null`, Params{}, false},
		{`[1]`, Params{}, false},
		{`true`, Params{}, false},
		{``, Params{}, false},
	}
	for _, c := range cases {
		got, err := Parse(json.RawMessage(c.in))
		if c.ok != (err == nil) || got != c.want {
			t.Errorf("Parse(%s) = %+v, %v; want %+v ok=%v", c.in, got, err, c.want, c.ok)
		}
		if err != nil && err.Error() != "UnableToReplayMessages: Replay params are not valid" {
			t.Errorf("error text %q", err)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{`{"since":1,"limit":3}`, `{"since":1.5}`, `{}`, `null`, `{"since":-9223372036854775808,"limit":9223372036854775807}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Parse(b)
		if err == nil && (p.Limit < 1 || p.Limit > MaxLimit) {
			t.Fatalf("limit %d out of range for %q", p.Limit, b)
		}
	})
}

func TestFetch(t *testing.T) {
	inst := pgtest.Start(t)
	inst.CreateDatabase(t, "tenant")
	m := tenantdb.NewManager(slog.New(slog.DiscardHandler), tenantdb.Options{})
	defer m.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pool, err := m.Pool(ctx, &tenant.Tenant{ExternalID: "t", Database: &tenant.Database{
		Host: inst.Host, Port: inst.Port, Name: "tenant", User: "postgres", SSLMode: "disable"}})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	insert := func(topic, ext string, private bool, at time.Time, event, payload string, bin []byte) {
		t.Helper()
		var p any
		if payload != "" {
			p = payload
		}
		if _, err := pool.Exec(ctx, `insert into realtime.messages (topic, extension, private, inserted_at, event, payload, binary_payload)
			values ($1, $2, $3, $4, $5, $6::jsonb, $7)`, topic, ext, private, at, event, p, bin); err != nil {
			t.Fatal(err)
		}
	}
	insert("test", "broadcast", true, now.Add(-25*time.Hour), "old", `{"value":"old"}`, nil)
	for i := 1; i <= 3; i++ {
		insert("test", "broadcast", true, now.Add(-time.Duration(i)*time.Minute), fmt.Sprintf("m%d", i), fmt.Sprintf(`{"value": %d, "a":  [1,2]}`, i), nil)
	}
	insert("test", "broadcast", true, now.Add(-30*time.Second), "bin", "", []byte{1, 2, 3})
	insert("test", "broadcast", true, now.Add(2*time.Minute), "future", `{}`, nil) // beyond now+1min
	insert("test", "broadcast", false, now.Add(-time.Minute), "public", `{}`, nil)
	insert("test", "presence", true, now.Add(-time.Minute), "presence", `{}`, nil)
	insert("other", "broadcast", true, now.Add(-time.Minute), "other", `{}`, nil)

	since := now.Add(-5 * time.Minute).UnixMilli()
	msgs, err := Fetch(ctx, pool, "test", Params{Since: since, Limit: 25}, now)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range msgs {
		body := string(m.Payload)
		if m.IsBinary {
			body = fmt.Sprintf("bin%v", m.Binary)
		}
		got = append(got, m.Event+" "+body)
		if len(m.ID) != 36 || m.InsertedAt.IsZero() {
			t.Errorf("message %+v", m)
		}
	}
	want := []string{`m3 {"a": [1, 2], "value": 3}`, `m2 {"a": [1, 2], "value": 2}`, `m1 {"a": [1, 2], "value": 1}`, `bin bin[1 2 3]`}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("got %q\nwant %q", got, want)
	}
	if !msgs[0].InsertedAt.Equal(now.Add(-3 * time.Minute)) {
		t.Errorf("inserted_at %v, want %v", msgs[0].InsertedAt, now.Add(-3*time.Minute))
	}

	// The limit keeps the newest rows, still delivered oldest first.
	msgs, err = Fetch(ctx, pool, "test", Params{Since: since, Limit: 2}, now)
	if err != nil || len(msgs) != 2 || msgs[0].Event != "m1" || msgs[1].Event != "bin" {
		t.Fatalf("limit 2: %+v %v", msgs, err)
	}
	// Backends outlive a killed postmaster for a moment; drop the idle ones so the next query must
	// connect to the dead server.
	inst.Kill()
	pool.Reset()
	if _, err := Fetch(ctx, pool, "test", Params{Since: since, Limit: 2}, now); err == nil {
		t.Fatal("Fetch on a dead database succeeded")
	}
}
