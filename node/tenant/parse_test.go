package tenant

import (
	"os"
	"strings"
	"testing"
	"time"
)

func TestParseDevFile(t *testing.T) {
	data, err := os.ReadFile("../../config/dev/tenants.yaml")
	if err != nil {
		t.Fatal(err)
	}
	list, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 {
		t.Fatalf("got %d tenants", len(list))
	}
	tn := list[0]
	if tn.ExternalID != "realtime-dev" || tn.Name != "realtime-dev" || tn.Namespace != "default" {
		t.Fatalf("identity = %q %q %q", tn.ExternalID, tn.Namespace, tn.Name)
	}
	if len(tn.JWTSecret) < 40 || tn.JWKS != nil {
		t.Fatalf("jwt secret length %d, jwks %s", len(tn.JWTSecret), tn.JWKS)
	}
	want := Database{Host: "127.0.0.1", Port: 54329, Name: "postgres", User: "postgres",
		Password: "postgres", SSLMode: "disable", Region: "local"}
	if tn.Database == nil || *tn.Database != want {
		t.Fatalf("database = %+v", tn.Database)
	}
	if !tn.PostgresChanges || tn.Suspend || tn.PrivateOnly || tn.PresenceEnabled || tn.FailoverDelay != 0 {
		t.Fatalf("flags = %+v", tn)
	}
	if tn.Limits != DefaultLimits {
		t.Fatalf("limits = %+v", tn.Limits)
	}
}

const secretDoc = `apiVersion: v1
kind: Secret
metadata: {name: jwt}
data:
  secret: ` + "c2VjcmV0LWZyb20tZGF0YQ==" + `
  other: ` + "b3ZlcnJpZGRlbg==" + `
stringData:
  other: from-string-data
`

func TestParseDefaultsAndSecrets(t *testing.T) {
	src := `# leading comment
---
` + secretDoc + `---
# comment-only document
---
apiVersion: realtime.realtimeops.io/v1alpha1
kind: Tenant
metadata: {name: alpha}
spec:
  jwt: {secretRef: {name: jwt, key: secret}}
  database: {host: db.example, user: app}
  failoverDelay: 1m30s
  limits: {maxEventsPerSecond: 7}
---
apiVersion: realtime.realtimeops.io/v1alpha1
kind: Tenant
metadata: {name: beta-resource, namespace: default, labels: {team: x}}
spec:
  externalId: beta
  privateOnly: true
  jwt: {secretRef: {name: jwt, key: other}}
...
`
	list, err := Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ExternalID != "alpha" || list[1].ExternalID != "beta" {
		t.Fatalf("tenants = %+v", list)
	}
	a, b := list[0], list[1]
	if string(a.JWTSecret) != "secret-from-data" || string(b.JWTSecret) != "from-string-data" {
		t.Fatalf("secrets = %q %q", a.JWTSecret, b.JWTSecret)
	}
	wantDB := Database{Host: "db.example", Port: 5432, Name: "postgres", User: "app", SSLMode: "require"}
	if *a.Database != wantDB || a.Namespace != "default" || a.FailoverDelay != 90*time.Second {
		t.Fatalf("alpha = %+v db %+v", a, a.Database)
	}
	wantLimits := DefaultLimits
	wantLimits.MaxEventsPerSecond = 7
	if a.Limits != wantLimits || b.Limits != DefaultLimits {
		t.Fatalf("limits = %+v / %+v", a.Limits, b.Limits)
	}
	if b.Name != "beta-resource" || !b.PrivateOnly || b.Database != nil || b.PostgresChanges {
		t.Fatalf("beta = %+v", b)
	}
}

func TestParseJWKSOnly(t *testing.T) {
	src := tenantDoc("gamma", `jwt:
    jwks: {keys: [{kty: OKP, crv: Ed25519, kid: k1, x: 11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo}]}`)
	list, err := Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if got := string(list[0].JWKS); !strings.HasPrefix(got, `{"keys":[{`) || list[0].JWTSecret != nil {
		t.Fatalf("jwks = %s", got)
	}
}

func tenantDoc(name, spec string) string {
	return `apiVersion: realtime.realtimeops.io/v1alpha1
kind: Tenant
metadata: {name: ` + name + `}
spec:
  ` + spec + "\n"
}

const jwtRef = `jwt: {secretRef: {name: jwt, key: secret}}`

func TestParseErrors(t *testing.T) {
	dup := secretDoc + "---\n" + tenantDoc("a", jwtRef) + "---\n" + tenantDoc("b", "externalId: a\n  "+jwtRef)
	cases := []struct{ name, src, want string }{
		{"bad externalId", secretDoc + "---\n" + tenantDoc("Realtime_Dev", jwtRef),
			`spec.externalId: "Realtime_Dev" is not a DNS label`},
		{"no jwt", tenantDoc("a", "suspend: true"), "spec.jwt: secretRef or a jwks with at least one key is required"},
		{"empty jwks", tenantDoc("a", "jwt: {jwks: {keys: []}}"), "spec.jwt: secretRef or a jwks"},
		{"jwks not object", tenantDoc("a", "jwt: {jwks: [1]}"), "spec.jwt.jwks: jwks: not a JSON object"},
		{"jwks bad key", tenantDoc("a", "jwt: {jwks: {keys: [{kty: RSA, kid: r, n: '!', e: AQAB}]}}"),
			`spec.jwt.jwks: keys[0] (kid "r"): invalid RSA modulus n`},
		{"missing secret", tenantDoc("a", jwtRef), "spec.jwt.secretRef: Secret default/jwt not found in the file"},
		{"missing key", secretDoc + "---\n" + tenantDoc("a", "jwt: {secretRef: {name: jwt, key: nope}}"),
			`Secret default/jwt has no key "nope"`},
		{"ref without key", tenantDoc("a", "jwt: {secretRef: {name: jwt}}"), "spec.jwt.secretRef: name and key are required"},
		{"bad base64", "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {k: '***'}\n",
			"document 1 (line 1, Secret default/s): data.k: not base64"},
		{"typo field", secretDoc + "---\n" + tenantDoc("a", "suspnd: true\n  "+jwtRef), `unknown field "suspnd"`},
		{"changes without db", secretDoc + "---\n" + tenantDoc("a", "postgresChanges: {enabled: true}\n  "+jwtRef),
			"spec.postgresChanges.enabled: requires spec.database"},
		{"negative limit", secretDoc + "---\n" + tenantDoc("a", "limits: {maxJoinsPerSecond: -1}\n  "+jwtRef),
			"spec.limits.maxJoinsPerSecond: must not be negative"},
		{"negative failover", secretDoc + "---\n" + tenantDoc("a", "failoverDelay: -1s\n  "+jwtRef),
			"spec.failoverDelay: must not be negative"},
		{"bad sslmode", secretDoc + "---\n" + tenantDoc("a", "database: {host: h, user: u, sslMode: verify}\n  "+jwtRef),
			`spec.database.sslMode: "verify" is not one of`},
		{"bad port and no host", secretDoc + "---\n" + tenantDoc("a", "database: {user: u, port: 70000}\n  "+jwtRef),
			"spec.database.host: required\nspec.database.port: 70000 is not a TCP port"},
		{"port as string", secretDoc + "---\n" + tenantDoc("a", "database: {host: h, user: u, port: 'x'}\n  "+jwtRef),
			"document 2 (line 9, Tenant default/a)"},
		{"duplicate externalId", dup, `externalId "a" already used by Tenant default/a`},
		{"duplicate secret", secretDoc + "---\n" + secretDoc, "duplicate Secret default/jwt"},
		{"unsupported kind", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\n",
			`unsupported apiVersion/kind "apps/v1"/"Deployment"`},
		{"wrong version", "apiVersion: realtime.realtimeops.io/v9\nkind: Tenant\nmetadata: {name: x}\n",
			"unsupported apiVersion/kind"},
		{"no name", "apiVersion: realtime.realtimeops.io/v1alpha1\nkind: Tenant\nspec: {" + jwtRef + "}\n",
			"metadata.name: required"},
		{"yaml syntax line", "# one\n---\napiVersion: v1\nkind: Secret\n  bad: [\n", "line 5"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.src))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v\nwant containing %q", err, tc.want)
			}
			for _, secret := range []string{"secret-from-data", "from-string-data"} {
				if strings.Contains(err.Error(), secret) {
					t.Fatalf("error leaks a secret: %v", err)
				}
			}
		})
	}
}

func TestSplitDocumentsLines(t *testing.T) {
	docs := splitDocuments([]byte("a: 1\r\n---\r\nb: 2\n--- c: 3\n...\n"))
	if len(docs) != 4 || docs[1].line != 2 || docs[2].line != 4 {
		t.Fatalf("docs = %+v", docs)
	}
	if got := strings.TrimSpace(string(docs[2].body)); got != "c: 3" {
		t.Fatalf("inline content = %q", got)
	}
}
