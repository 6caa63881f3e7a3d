// Package images checks the image tarballs of `make images` (bin/images) against Dockerfile.node
// and Dockerfile.operator: the two ways of building an image (hack/imagebuild here, `docker build`
// elsewhere) must agree on entrypoint, user, ports and paths, and the image must need nothing at
// run time but what it carries (a static binary, the CA bundle, passwd/group).
package images

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"debug/elf"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

// dockerfileStage is the final stage of a Dockerfile, read independently of hack/imagebuild (which
// builds from it), so a parsing bug there shows up as a disagreement here.
type dockerfileStage struct {
	user       string
	ports      []string
	entrypoint []string
	copies     []string // destinations
}

func readDockerfile(t *testing.T, path string) dockerfileStage {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var st dockerfileStage
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		switch f[0] {
		case "FROM":
			st = dockerfileStage{}
		case "USER":
			st.user = f[1]
		case "EXPOSE":
			for _, p := range f[1:] {
				st.ports = append(st.ports, p+"/tcp")
			}
		case "ENTRYPOINT":
			if err := json.Unmarshal([]byte(strings.TrimPrefix(sc.Text(), "ENTRYPOINT ")), &st.entrypoint); err != nil {
				t.Fatalf("%s: ENTRYPOINT: %v", path, err)
			}
		case "COPY":
			st.copies = append(st.copies, strings.TrimPrefix(f[len(f)-1], "/"))
		}
	}
	sort.Strings(st.ports)
	sort.Strings(st.copies)
	return st
}

type imageConfig struct {
	OS, Architecture string
	Config           struct {
		User         string
		Entrypoint   []string
		Cmd          []string
		ExposedPorts map[string]struct{}
		Labels       map[string]string
	}
}

type layerFile struct {
	mode int64
	uid  int
	data []byte
}

// readTarball reads a docker-archive: manifest.json, the config and every layer's files.
func readTarball(t *testing.T, path string) (imageConfig, []string, map[string]layerFile) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run `make images` first)", err)
	}
	entries := map[string][]byte{}
	tr := tar.NewReader(bytes.NewReader(raw))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		entries[h.Name] = b
	}
	var manifest []struct {
		Config   string
		RepoTags []string
		Layers   []string
	}
	if err := json.Unmarshal(entries["manifest.json"], &manifest); err != nil || len(manifest) != 1 {
		t.Fatalf("manifest.json: %v (%d images)", err, len(manifest))
	}
	var cfg imageConfig
	if err := json.Unmarshal(entries[manifest[0].Config], &cfg); err != nil {
		t.Fatalf("config: %v", err)
	}
	files := map[string]layerFile{}
	for _, l := range manifest[0].Layers {
		zr, err := gzip.NewReader(bytes.NewReader(entries[l]))
		if err != nil {
			t.Fatalf("layer %s: %v", l, err)
		}
		lr := tar.NewReader(zr)
		for {
			h, err := lr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if h.Typeflag == tar.TypeReg {
				b, _ := io.ReadAll(lr)
				files[h.Name] = layerFile{mode: h.Mode, uid: h.Uid, data: b}
			}
		}
	}
	return cfg, manifest[0].RepoTags, files
}

func TestImagesAgreeWithDockerfiles(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	dir := os.Getenv("IMAGES_DIR")
	if dir == "" {
		dir = filepath.Join(root, "bin", "images")
	}
	for _, name := range []string{"node", "operator"} {
		t.Run(name, func(t *testing.T) {
			df := readDockerfile(t, filepath.Join(root, "Dockerfile."+name))
			cfg, tags, files := readTarball(t, filepath.Join(dir, "realtime-"+name+".tar"))
			c := cfg.Config
			if c.User != df.user || df.user != "65532:65532" {
				t.Errorf("user: image %q, Dockerfile %q, want 65532:65532", c.User, df.user)
			}
			if !slices.Equal(c.Entrypoint, df.entrypoint) || len(c.Cmd) != 0 {
				t.Errorf("entrypoint: image %q (cmd %q), Dockerfile %q", c.Entrypoint, c.Cmd, df.entrypoint)
			}
			var ports []string
			for p := range c.ExposedPorts {
				ports = append(ports, p)
			}
			sort.Strings(ports)
			if !slices.Equal(ports, df.ports) || len(ports) == 0 {
				t.Errorf("ports: image %v, Dockerfile %v", ports, df.ports)
			}
			var paths []string
			for p := range files {
				paths = append(paths, p)
			}
			sort.Strings(paths)
			if !slices.Equal(paths, df.copies) {
				t.Errorf("files: image %v, Dockerfile COPY destinations %v", paths, df.copies)
			}
			if cfg.OS != "linux" || cfg.Architecture == "" {
				t.Errorf("platform %s/%s", cfg.OS, cfg.Architecture)
			}
			for _, l := range []string{"title", "source", "version", "revision", "created", "licenses"} {
				if v := c.Labels["org.opencontainers.image."+l]; v == "" || v == "dev" || v == "unknown" {
					t.Errorf("label org.opencontainers.image.%s = %q", l, v)
				}
			}
			if v := c.Labels["org.opencontainers.image.version"]; len(tags) != 1 || !strings.HasSuffix(tags[0], ":"+v) {
				t.Errorf("tags %v do not carry the version label %q", tags, v)
			}
			bin, ok := files[strings.TrimPrefix(df.entrypoint[0], "/")]
			if !ok {
				t.Fatalf("entrypoint %s is not in the image", df.entrypoint[0])
			}
			if bin.mode&0o111 == 0 || bin.uid != 0 {
				t.Errorf("entrypoint mode %o uid %d: want executable, owned by root (not writable by 65532)", bin.mode, bin.uid)
			}
			checkStatic(t, bin.data)
			if ca := files["etc/ssl/certs/ca-certificates.crt"]; !bytes.Contains(ca.data, []byte("BEGIN CERTIFICATE")) {
				t.Errorf("CA bundle missing or empty")
			}
			if pw := files["etc/passwd"]; !bytes.Contains(pw.data, []byte(":65532:65532:")) {
				t.Errorf("/etc/passwd does not name uid 65532: %q", pw.data)
			}
		})
	}
}

// checkStatic: an empty base has no libc, so the binary must have no interpreter and no shared
// libraries (CGO_ENABLED=0), and -trimpath must have kept build paths out of it.
func checkStatic(t *testing.T, b []byte) {
	t.Helper()
	f, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("entrypoint is not an ELF binary: %v", err)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("binary has an ELF interpreter: not static")
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("binary needs shared libraries %v", libs)
	}
	if wd, _ := os.Getwd(); bytes.Contains(b, []byte(filepath.Dir(filepath.Dir(wd)))) {
		t.Errorf("binary contains the build directory: built without -trimpath")
	}
}
