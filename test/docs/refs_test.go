// Package docs checks that the repository's citations of docs/*.md sections resolve: comments
// point into docs/protocol.md (never to the out-of-repo spec they once cited by number), and every
// `protocol.md#<section>` they name is a heading there.
package docs

import (
	"bufio"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var (
	// oldCitation is the form comments used for the external spec ("spec <n.n>", "spec section <n>").
	oldCitation = regexp.MustCompile(`\bspec (section )?[0-9]+(\.[0-9]+)?\b`)
	// docRef is a link into a doc page; continuation anchors follow it in the same comment
	// ("docs/protocol.md#connect-checks, #token-lifecycle and #join-pipeline").
	docRef  = regexp.MustCompile(`\b([a-z-]+)\.md((?:#[a-z0-9-]+)?)`)
	anchorT = regexp.MustCompile(`(?:^|[\s(,/])#([a-z][a-z0-9-]*)`)
	heading = regexp.MustCompile(`^#{1,6}\s+(.*)$`)
)

// slug is GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens.
func slug(h string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(h)) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
		}
	}
	return b.String()
}

func anchors(t *testing.T, path string) map[string]bool {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer f.Close()
	out := map[string]bool{}
	inFence := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "```") {
			inFence = !inFence
		}
		if m := heading.FindStringSubmatch(line); m != nil && !inFence {
			out[slug(m[1])] = true
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return out
}

// comments returns the comment text of a file: Go comments from the parser, whole lines for
// Markdown, SQL, JavaScript and shell (their comments are line-oriented enough for this check).
func comments(t *testing.T, path string) []string {
	t.Helper()
	if strings.HasSuffix(path, ".go") {
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ParseComments)
		if err != nil {
			t.Fatalf("parse %s: %v", path, err)
		}
		var out []string
		for _, g := range f.Comments {
			out = append(out, g.Text())
		}
		return out
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return strings.Split(string(b), "\n")
}

func TestDocReferencesResolve(t *testing.T) {
	root := filepath.Join("..", "..")
	pages := map[string]map[string]bool{}
	for _, p := range []string{"protocol", "architecture", "upstream-parity", "operations", "cluster", "benchmarks", "inspector"} {
		pages[p] = anchors(t, filepath.Join(root, "docs", p+".md"))
	}
	if len(pages["protocol"]) < 50 {
		t.Fatalf("docs/protocol.md has %d headings; the parser is broken", len(pages["protocol"]))
	}
	checked := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if name == "node_modules" || name == "bin" || (strings.HasPrefix(name, ".") && path != root) {
				return filepath.SkipDir
			}
			return nil
		}
		switch filepath.Ext(name) {
		case ".go", ".md", ".sql", ".mjs", ".sh":
		default:
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		for _, c := range comments(t, path) {
			if rel != filepath.Join("docs", "protocol.md") && oldCitation.MatchString(c) {
				t.Errorf("%s cites the old spec (%q): point to a docs/protocol.md section", rel, oldCitation.FindString(c))
			}
			checkRefs(t, rel, c, pages)
		}
		checked++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 100 {
		t.Fatalf("only %d files checked; the walk is broken", checked)
	}
}

// checkRefs resolves every page#anchor in c, and bare #anchors that follow a protocol.md
// reference in the same comment.
func checkRefs(t *testing.T, file, c string, pages map[string]map[string]bool) {
	t.Helper()
	last := ""
	for _, m := range docRef.FindAllStringSubmatchIndex(c, -1) {
		page, frag := c[m[2]:m[3]], c[m[4]:m[5]]
		anchorsOf, known := pages[page]
		if !known {
			continue
		}
		last = page
		if frag != "" && !anchorsOf[frag[1:]] {
			t.Errorf("%s: %s.md%s names no heading of docs/%s.md", file, page, frag, page)
		}
	}
	if last != "protocol" {
		return
	}
	after := c[strings.Index(c, "protocol.md"):]
	for _, m := range anchorT.FindAllStringSubmatch(after, -1) {
		if !pages["protocol"][m[1]] {
			t.Errorf("%s: #%s names no heading of docs/protocol.md", file, m[1])
		}
	}
}

// TestArchitectureListsEveryPackage: docs/architecture.md names every Go package of the module
// (as `path` in its table), so the map of the code stays complete when packages come and go.
func TestArchitectureListsEveryPackage(t *testing.T) {
	root := filepath.Join("..", "..")
	b, err := os.ReadFile(filepath.Join(root, "docs", "architecture.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	var pkgs []string
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			// hack/ holds scripts and a separate module (hack/imagebuild).
			if name == "node_modules" || name == "bin" || name == "testdata" || name == "hack" || (strings.HasPrefix(name, ".") && path != root) {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(d.Name(), ".go") {
			dir, _ := filepath.Rel(root, filepath.Dir(path))
			if dir != "." && (len(pkgs) == 0 || pkgs[len(pkgs)-1] != dir) {
				pkgs = append(pkgs, filepath.ToSlash(dir))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) < 30 {
		t.Fatalf("found %d packages; the walk is broken", len(pkgs))
	}
	for _, p := range pkgs {
		if !strings.Contains(doc, "`"+p+"`") {
			t.Errorf("docs/architecture.md does not list package %s (one line in the Packages table)", p)
		}
	}
}
