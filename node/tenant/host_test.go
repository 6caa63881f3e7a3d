package tenant

import "testing"

func TestExternalIDFromHost(t *testing.T) {
	for host, want := range map[string]string{
		"abcdefgh.supabase.co":             "abcdefgh",
		"realtime-dev.localhost:4000":      "realtime-dev",
		"localhost.realtime.localhost.com": "localhost",
		"localhost":                        "localhost",
		"localhost:4000":                   "localhost",
		"Realtime-Dev.Example.COM":         "realtime-dev",
		"[::1]:4000":                       "::1",
		"":                                 "",
	} {
		if got := ExternalIDFromHost(host); got != want {
			t.Errorf("ExternalIDFromHost(%q) = %q, want %q", host, got, want)
		}
	}
}
