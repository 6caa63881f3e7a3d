package channel

import (
	"encoding/json"
	"testing"
)

func TestParseConfig(t *testing.T) {
	tests := []struct {
		name     string
		payload  string
		check    func(Config) bool
		problems int
	}{
		{"realtime-js defaults", `{"config":{"broadcast":{"ack":false,"self":false},"presence":{"key":"","enabled":false},"postgres_changes":[],"private":false},"access_token":"tok"}`,
			func(c Config) bool {
				return !c.Ack && !c.Self && !c.Private && c.PresenceKey == "" && *c.AccessToken == "tok" && !c.Legacy
			}, 0},
		{"string booleans any case", `{"config":{"broadcast":{"ack":"TRUE","self":"true"},"private":"False"}}`,
			func(c Config) bool { return c.Ack && c.Self && !c.Private }, 0},
		{"bad boolean defaults to false", `{"config":{"broadcast":{"ack":1}}}`,
			func(c Config) bool { return !c.Ack }, 1},
		{"numeric presence key", `{"config":{"presence":{"key":42,"enabled":true}}}`,
			func(c Config) bool { return c.PresenceKey == "42" && c.PresenceEnabled }, 0},
		{"null presence key", `{"config":{"presence":{"key":null}}}`,
			func(c Config) bool { return c.PresenceKey == "" }, 0},
		{"broadcast not a map", `{"config":{"broadcast":"x"}}`,
			func(c Config) bool { return !c.Ack }, 1},
		{"legacy join", `{"user_token":"u"}`,
			func(c Config) bool { return c.Legacy && *c.UserToken == "u" }, 0},
		{"not an object", `[1,2]`, func(c Config) bool { return c.Legacy }, 1},
		{"replay kept raw", `{"config":{"broadcast":{"replay":{"since":1}}}}`,
			func(c Config) bool { return string(c.Replay) == `{"since":1}` }, 0},
		{"extra keys ignored", `{"config":{},"version":"realtime-js/2.119.0"}`,
			func(c Config) bool { return !c.Legacy }, 0},
		{"access token not string", `{"config":{},"access_token":5}`,
			func(c Config) bool { return c.AccessToken == nil }, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := ParseConfig(json.RawMessage(tc.payload))
			if !tc.check(c) {
				t.Fatalf("unexpected config %+v", c)
			}
			if len(c.Problems) != tc.problems {
				t.Fatalf("problems = %v, want %d", c.Problems, tc.problems)
			}
		})
	}
}

func TestAccessTokenChoice(t *testing.T) {
	s := func(v string) *string { return &v }
	tests := []struct {
		cfg  Config
		want string
	}{
		{Config{}, "tenant"},
		{Config{AccessToken: s("a")}, "a"},
		{Config{AccessToken: s("a"), UserToken: s("u")}, "u"},
		{Config{AccessToken: s("sb_publishable_x")}, "tenant"},
	}
	for _, tc := range tests {
		if got := accessToken(tc.cfg, "tenant"); got != tc.want {
			t.Errorf("accessToken(%+v) = %q, want %q", tc.cfg, got, tc.want)
		}
	}
}

func FuzzParseConfig(f *testing.F) {
	for _, s := range []string{
		`{"config":{"broadcast":{"ack":false,"self":false},"presence":{"key":"","enabled":false},"postgres_changes":[],"private":false}}`,
		`{"config":{"broadcast":{"replay":{"since":1,"limit":2}}}}`, `{"config":null}`, `null`, `[]`, `{"config":{"presence":{"key":1.5e300}}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c := ParseConfig(json.RawMessage(data))
		if c.Legacy && c.Self {
			t.Fatal("legacy joins carry no config")
		}
	})
}
