package tenant

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"

	realtimev1 "github.com/realtimeops/realtime/api/v1alpha1"
)

// document is one YAML document of a multi-document file.
type document struct {
	index int // 1-based position in the file
	line  int // 1-based line of its first line
	body  []byte
}

// splitDocuments splits on `---` separator lines (and `...` end markers). Each body is
// prefixed with blank lines so YAML error line numbers match the whole file.
func splitDocuments(data []byte) []document {
	var docs []document
	var cur []string
	start, lineNo := 1, 0
	flush := func() {
		body := strings.Repeat("\n", start-1) + strings.Join(cur, "\n")
		docs = append(docs, document{index: len(docs) + 1, line: start, body: []byte(body)})
		cur = nil
	}
	for _, line := range strings.Split(string(data), "\n") {
		lineNo++
		line = strings.TrimSuffix(line, "\r")
		if line == "..." || line == "---" || strings.HasPrefix(line, "--- ") || strings.HasPrefix(line, "---\t") {
			flush()
			start = lineNo
			// Content after "--- " on the same line belongs to the next document.
			cur = []string{strings.TrimPrefix(strings.TrimPrefix(line, "---"), "...")}
			continue
		}
		cur = append(cur, line)
	}
	flush()
	return docs
}

type typeMeta struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
	} `json:"metadata"`
}

// ignoredKinds may appear in a kubectl-applyable tenants file but carry nothing for the node.
var ignoredKinds = map[string]bool{"Namespace": true, "ConfigMap": true}

// Parse decodes a tenants file: Tenant documents plus the v1 Secrets they reference. Errors
// name the document (position, line, kind, namespace/name) and the field.
func Parse(data []byte) ([]*Tenant, error) {
	secrets := map[string]map[string][]byte{} // "ns/name" -> key -> value
	var tenants []*Document
	var tenantDocs []document
	for _, d := range splitDocuments(data) {
		j, err := yaml.YAMLToJSON(d.body)
		if err != nil {
			return nil, fmt.Errorf("document %d (line %d): %w", d.index, d.line, err)
		}
		if s := string(bytes.TrimSpace(j)); s == "null" || s == "" {
			continue // empty or comment-only document
		}
		var tm typeMeta
		if err := yaml.Unmarshal(d.body, &tm); err != nil {
			return nil, fmt.Errorf("document %d (line %d): not a Kubernetes object: %w", d.index, d.line, err)
		}
		where := docName(d, tm)
		switch {
		case tm.Kind == KindTenant && tm.APIVersion == APIVersion:
			var td Document
			// Strict: a misspelt field must not be silently ignored.
			if err := yaml.UnmarshalStrict(d.body, &td); err != nil {
				return nil, fmt.Errorf("%s: %w", where, err)
			}
			tenants = append(tenants, &td)
			tenantDocs = append(tenantDocs, d)
		case tm.Kind == "Secret" && tm.APIVersion == "v1":
			if err := addSecret(secrets, d.body); err != nil {
				return nil, fmt.Errorf("%s: %w", where, err)
			}
		case ignoredKinds[tm.Kind]:
		default:
			return nil, fmt.Errorf("%s: unsupported apiVersion/kind %q/%q (want %s Tenant or v1 Secret)",
				where, tm.APIVersion, tm.Kind, APIVersion)
		}
	}
	return resolveAll(tenants, tenantDocs, secrets)
}

func docName(d document, tm typeMeta) string {
	ns := tm.Metadata.Namespace
	if ns == "" {
		ns = DefaultNamespace
	}
	kind := tm.Kind
	if kind == "" {
		kind = "object"
	}
	return fmt.Sprintf("document %d (line %d, %s %s/%s)", d.index, d.line, kind, ns, tm.Metadata.Name)
}

// addSecret stores a Secret's keys; stringData wins over data like the API server's merge.
func addSecret(secrets map[string]map[string][]byte, body []byte) error {
	var s SecretDocument
	if err := yaml.UnmarshalStrict(body, &s); err != nil {
		return err
	}
	if s.Metadata.Name == "" {
		return errors.New("metadata.name: required")
	}
	ns := s.Metadata.Namespace
	if ns == "" {
		ns = DefaultNamespace
	}
	id := ns + "/" + s.Metadata.Name
	if _, dup := secrets[id]; dup {
		return fmt.Errorf("duplicate Secret %s", id)
	}
	vals := map[string][]byte{}
	for k, v := range s.Data {
		b, err := base64.StdEncoding.DecodeString(v)
		if err != nil {
			return fmt.Errorf("data.%s: not base64: %w", k, err)
		}
		vals[k] = b
	}
	for k, v := range s.StringData {
		vals[k] = []byte(v)
	}
	secrets[id] = vals
	return nil
}

func resolveAll(docs []*Document, where []document, secrets map[string]map[string][]byte) ([]*Tenant, error) {
	byID := map[string]string{}
	byName := map[string]bool{}
	var out []*Tenant
	for i, td := range docs {
		ns := td.Metadata.Namespace
		if ns == "" {
			ns = DefaultNamespace
		}
		lookup := func(ref realtimev1.SecretKeySelector) ([]byte, error) {
			vals, ok := secrets[ns+"/"+ref.Name]
			if !ok {
				return nil, fmt.Errorf("Secret %s/%s not found in the file", ns, ref.Name)
			}
			v, ok := vals[ref.Key]
			if !ok {
				return nil, fmt.Errorf("Secret %s/%s has no key %q", ns, ref.Name, ref.Key)
			}
			return v, nil
		}
		label := fmt.Sprintf("document %d (line %d, Tenant %s/%s)", where[i].index, where[i].line, ns, td.Metadata.Name)
		t, err := Resolve(td.Metadata, td.Spec, lookup)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", label, err)
		}
		if byName[ns+"/"+t.Name] {
			return nil, fmt.Errorf("%s: duplicate Tenant %s/%s", label, ns, t.Name)
		}
		if other, dup := byID[t.ExternalID]; dup {
			return nil, fmt.Errorf("%s: externalId %q already used by Tenant %s", label, t.ExternalID, other)
		}
		byName[ns+"/"+t.Name], byID[t.ExternalID] = true, ns+"/"+t.Name
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ExternalID < out[j].ExternalID })
	return out, nil
}
