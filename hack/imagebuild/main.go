// Command imagebuild writes an OCI image as a docker-archive tarball (what `ctr images import` and
// `docker load` take) from the final stage of a Dockerfile and locally built files, without Docker
// or a registry: one layer on an empty base, as ko and crane do with go-containerregistry.
//
//	imagebuild -dockerfile Dockerfile.node -file /out/realtime-node=bin/images/realtime-node \
//	    -file /etc/ssl/certs/ca-certificates.crt=/etc/ssl/certs/ca-certificates.crt \
//	    -arg VERSION=v0.1.0-3-gabc -tag ghcr.io/realtimeops/realtime-node:v0.1.0-3-gabc -o node.tar
//
// Every COPY source of the final stage must be mapped by -file; the entrypoint, user, exposed
// ports and labels come from the Dockerfile, so both builds produce the same image config.
package main

import (
	"archive/tar"
	"bytes"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// defaultPath is the PATH BuildKit sets in images built FROM scratch; set here too so the two
// builds have the same config.
const defaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

type kv map[string]string

func (m kv) String() string { return fmt.Sprint(map[string]string(m)) }
func (m kv) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok {
		return fmt.Errorf("%q: want KEY=VALUE", v)
	}
	m[k] = val
	return nil
}

type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	dockerfile := flag.String("dockerfile", "", "Dockerfile whose final stage describes the image")
	out := flag.String("o", "", "output tarball")
	arch := flag.String("arch", "amd64", "image architecture")
	files, args := kv{}, kv{}
	var tags list
	flag.Var(files, "file", "COPY source in the Dockerfile = local file (repeatable)")
	flag.Var(args, "arg", "build argument NAME=VALUE (repeatable); CREATED (RFC 3339) also sets file times")
	flag.Var(&tags, "tag", "image reference (repeatable)")
	flag.Parse()
	if err := run(*dockerfile, *out, *arch, files, args, tags); err != nil {
		slog.Error("imagebuild failed", "err", err)
		os.Exit(1)
	}
}

func run(dockerfile, out, arch string, files, args kv, tags []string) error {
	if dockerfile == "" || out == "" || len(tags) == 0 {
		return fmt.Errorf("-dockerfile, -o and at least one -tag are required")
	}
	f, err := os.Open(dockerfile)
	if err != nil {
		return err
	}
	st, err := parseDockerfile(f, args)
	f.Close()
	if err != nil {
		return fmt.Errorf("%s: %w", dockerfile, err)
	}
	if st.Base != "scratch" {
		return fmt.Errorf("%s: final stage is FROM %s; only FROM scratch can be rebuilt without a registry", dockerfile, st.Base)
	}
	created := time.Unix(0, 0).UTC()
	if c := args["CREATED"]; c != "" {
		if created, err = time.Parse(time.RFC3339, c); err != nil {
			return fmt.Errorf("CREATED: %w", err)
		}
	}
	layer, err := buildLayer(st, files, created)
	if err != nil {
		return err
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		return err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", arch
	cf.Created = v1.Time{Time: created}
	cf.Config.Entrypoint = st.Entrypoint
	cf.Config.User = st.User
	cf.Config.Env = []string{defaultPath}
	cf.Config.Labels = st.Labels
	if len(st.Expose) > 0 {
		cf.Config.ExposedPorts = map[string]struct{}{}
		for _, p := range st.Expose {
			cf.Config.ExposedPorts[p] = struct{}{}
		}
	}
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		return err
	}
	refs := map[name.Reference]v1.Image{}
	for _, t := range tags {
		ref, err := name.NewTag(t)
		if err != nil {
			return err
		}
		refs[ref] = img
	}
	if err := tarball.MultiRefWriteToFile(out, refs); err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	d, err := img.Digest()
	if err != nil {
		return err
	}
	slog.Info("image written", "tags", tags, "digest", d.String(), "file", out)
	return nil
}

// buildLayer writes the COPY destinations (and their parent directories) into one layer, owned
// by root, with a fixed modification time so the same inputs give the same digest.
func buildLayer(st *stage, files kv, mtime time.Time) (v1.Layer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dirs := map[string]bool{}
	for _, c := range st.Copies {
		src, ok := files[c.Src]
		if !ok {
			return nil, fmt.Errorf("COPY %s %s: no -file %s=LOCALPATH given", c.Src, c.Dst, c.Src)
		}
		data, err := os.ReadFile(src)
		if err != nil {
			return nil, err
		}
		fi, err := os.Stat(src)
		if err != nil {
			return nil, err
		}
		var parents []string
		for d := path.Dir(c.Dst); d != "/"; d = path.Dir(d) {
			parents = append([]string{d}, parents...)
		}
		for _, d := range parents {
			if !dirs[d] {
				dirs[d] = true
				if err := tw.WriteHeader(&tar.Header{Name: d[1:] + "/", Mode: 0o755, Typeflag: tar.TypeDir, ModTime: mtime}); err != nil {
					return nil, err
				}
			}
		}
		mode := int64(0o644)
		if fi.Mode()&0o111 != 0 {
			mode = 0o755
		}
		hdr := &tar.Header{Name: c.Dst[1:], Mode: mode, Size: int64(len(data)), Typeflag: tar.TypeReg, ModTime: mtime}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, err
		}
		if _, err := tw.Write(data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	b := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil })
}
