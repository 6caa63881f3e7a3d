package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
)

// stage is what imagebuild takes from the final stage of a Dockerfile: the files it copies in and
// the image config. The Dockerfile is the single source of truth, so an image built here and one
// built by `docker build` agree on entrypoint, user, ports, labels and paths by construction.
type stage struct {
	Base       string
	Copies     []copyOp // in Dockerfile order
	User       string
	Expose     []string // "4000/tcp"
	Entrypoint []string
	Labels     map[string]string
}

type copyOp struct{ Src, Dst string }

// parseDockerfile reads the final stage (after the last FROM). It understands the instructions
// the project's Dockerfiles use in that stage and rejects any other, so a new instruction cannot
// silently make the two builds differ. ARG values come from args (like --build-arg), else the
// ARG's default; $NAME and ${NAME} are expanded in LABEL values.
func parseDockerfile(r io.Reader, args map[string]string) (*stage, error) {
	lines, err := logicalLines(r)
	if err != nil {
		return nil, err
	}
	// Only the final stage makes the image; earlier stages (the builder) may use anything.
	last := -1
	for i, l := range lines {
		if instr, _, _ := strings.Cut(l, " "); strings.EqualFold(instr, "FROM") {
			last = i
		}
	}
	if last < 0 {
		return nil, fmt.Errorf("no FROM")
	}
	var s *stage
	vars := map[string]string{}
	for _, l := range lines[last:] {
		instr, rest, _ := strings.Cut(l, " ")
		rest = strings.TrimSpace(rest)
		switch strings.ToUpper(instr) {
		case "FROM":
			f := strings.Fields(rest)
			s = &stage{Base: f[len(f)-1], Labels: map[string]string{}}
			if len(f) >= 3 && strings.EqualFold(f[len(f)-2], "AS") {
				s.Base = f[len(f)-3]
			}
			continue
		}
		switch strings.ToUpper(instr) {
		case "ARG":
			name, def, _ := strings.Cut(rest, "=")
			if v, ok := args[name]; ok {
				def = v
			}
			vars[name] = def
		case "COPY":
			f := strings.Fields(rest)
			var from string
			for len(f) > 0 && strings.HasPrefix(f[0], "--") {
				if v, ok := strings.CutPrefix(f[0], "--from="); ok {
					from = v
				}
				f = f[1:]
			}
			if from == "" || len(f) != 2 {
				return nil, fmt.Errorf("COPY %s: want COPY --from=<stage> SRC DST", rest)
			}
			s.Copies = append(s.Copies, copyOp{Src: f[0], Dst: f[1]})
		case "USER":
			s.User = rest
		case "EXPOSE":
			for _, p := range strings.Fields(rest) {
				if !strings.Contains(p, "/") {
					p += "/tcp"
				}
				s.Expose = append(s.Expose, p)
			}
		case "ENTRYPOINT":
			if err := json.Unmarshal([]byte(rest), &s.Entrypoint); err != nil {
				return nil, fmt.Errorf("ENTRYPOINT must be the JSON (exec) form: %w", err)
			}
		case "LABEL":
			if err := parseLabels(rest, vars, s.Labels); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("final stage: unsupported instruction %s", instr)
		}
	}
	return s, nil
}

// logicalLines joins continuation lines and drops comments and blank lines.
func logicalLines(r io.Reader) ([]string, error) {
	var out []string
	var cur strings.Builder
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if cur.Len() == 0 && (l == "" || strings.HasPrefix(l, "#")) {
			continue
		}
		if c, ok := strings.CutSuffix(l, `\`); ok {
			cur.WriteString(c + " ")
			continue
		}
		cur.WriteString(l)
		out = append(out, cur.String())
		cur.Reset()
	}
	return out, sc.Err()
}

// parseLabels reads key=value pairs; values may be double-quoted.
func parseLabels(s string, vars, into map[string]string) error {
	for s = strings.TrimSpace(s); s != ""; s = strings.TrimSpace(s) {
		k, rest, ok := strings.Cut(s, "=")
		if !ok {
			return fmt.Errorf("LABEL %q: want key=value", s)
		}
		var v string
		if strings.HasPrefix(rest, `"`) {
			end := strings.Index(rest[1:], `"`)
			if end < 0 {
				return fmt.Errorf("LABEL %s: unterminated quote", k)
			}
			v, s = rest[1:end+1], rest[end+2:]
		} else {
			v, s, _ = strings.Cut(rest, " ")
		}
		into[k] = os.Expand(v, func(n string) string { return vars[n] })
	}
	return nil
}
