package tenant

import (
	"os"
	"testing"
)

// FuzzParse: the tenants-file decoder must never panic, and anything it accepts is valid.
func FuzzParse(f *testing.F) {
	if dev, err := os.ReadFile("../../config/dev/tenants.yaml"); err == nil {
		f.Add(string(dev))
	}
	f.Add(twoTenants)
	f.Add(secretDoc)
	f.Add("---\n...\n--- a: 1\n")
	f.Add(tenantDoc("x", "jwt: {jwks: {keys: [{kty: EC, crv: P-256, kid: a, x: AA, y: AA}]}}"))
	f.Add("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {k: '***'}\n")
	f.Fuzz(func(t *testing.T, src string) {
		list, err := Parse([]byte(src))
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, tn := range list {
			if tn.ExternalID == "" || seen[tn.ExternalID] || tn.Limits.MaxPayloadSizeKB <= 0 {
				t.Fatalf("invalid tenant accepted: %+v", tn)
			}
			seen[tn.ExternalID] = true
		}
	})
}
