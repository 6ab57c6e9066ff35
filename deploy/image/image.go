package main

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// The image's fixed facts; deploy/Dockerfile states the same (image_test.go
// checks it).
const (
	// UID and GID of the "nonroot" user the binaries run as (distroless's).
	UID = 65532
	// User is the config's User.
	User = "65532:65532"
	// BinDir holds the binaries.
	BinDir = "/usr/local/bin"
	// CAFile is the CA bundle (Go's crypto/x509 looks there first on Linux).
	CAFile = "/etc/ssl/certs/ca-certificates.crt"
	// ZoneinfoDir holds the IANA time zone database (AUDIT_TIMEZONE, cron).
	ZoneinfoDir = "/usr/share/zoneinfo"
	// Source is the org.opencontainers.image.source label.
	Source = "https://github.com/co2-calculator/co2-calculator"
)

// Binaries are the programs the image carries, in BinDir.
var Binaries = []string{"api", "worker", "migrate", "dbdump"}

// Env is the config's environment.
var Env = []string{"PATH=" + BinDir, "SSL_CERT_FILE=" + CAFile}

// Cmd is the default command (the chart always sets its own).
var Cmd = []string{BinDir + "/api", "serve"}

// Ports are the exposed ports: the api's public and admin listeners.
var Ports = []string{"8080/tcp", "9090/tcp"}

// Options describe one build.
type Options struct {
	// Platforms maps "linux/amd64"-style platforms to the directory holding
	// that platform's binaries (Binaries, statically linked).
	Platforms map[string]string
	// CAFile is the PEM bundle copied to CAFile (the build machine's).
	CAFile string
	// ZoneinfoZip is Go's $GOROOT/lib/time/zoneinfo.zip, unpacked into
	// ZoneinfoDir.
	ZoneinfoZip string
	// Version and Revision become labels; Created is the image's creation
	// time and every file's modification time (the commit's time makes
	// builds reproducible).
	Version, Revision string
	Created           time.Time
}

// Labels are the OCI labels (and manifest annotations) of the image.
func (o Options) Labels() map[string]string {
	return map[string]string{
		"org.opencontainers.image.title":       "co2-calculator",
		"org.opencontainers.image.description": "co2-calculator: api (with the SPA), worker, migrate and dbdump, static Go binaries",
		"org.opencontainers.image.version":     o.Version,
		"org.opencontainers.image.revision":    o.Revision,
		"org.opencontainers.image.created":     o.Created.UTC().Format(time.RFC3339),
		"org.opencontainers.image.source":      Source,
	}
}

// entry is one file or directory of a layer.
type entry struct {
	name string // relative, no leading slash
	mode int64  // permission bits (plus setuid/sticky)
	dir  bool
	uid  int
	data []byte
}

// baseEntries are the files of the base layer: users, CA bundle, tzdata, /tmp
// and the home directory.
func baseEntries(o Options) ([]entry, error) {
	ca, err := os.ReadFile(o.CAFile)
	if err != nil {
		return nil, fmt.Errorf("CA bundle: %w (Debian: apt-get install ca-certificates)", err)
	}
	if !bytes.Contains(ca, []byte("-----BEGIN CERTIFICATE-----")) {
		return nil, fmt.Errorf("CA bundle %s holds no PEM certificate", o.CAFile)
	}
	es := []entry{
		{name: "etc/passwd", mode: 0o644, data: []byte("root:x:0:0:root:/root:/sbin/nologin\n" +
			fmt.Sprintf("nonroot:x:%d:%d:nonroot:/home/nonroot:/sbin/nologin\n", UID, UID))},
		{name: "etc/group", mode: 0o644, data: []byte(fmt.Sprintf("root:x:0:\nnonroot:x:%d:\n", UID))},
		{name: "etc/nsswitch.conf", mode: 0o644, data: []byte("hosts: files dns\n")},
		{name: strings.TrimPrefix(CAFile, "/"), mode: 0o644, data: ca},
		{name: "tmp", mode: 0o1777, dir: true},
		{name: "home/nonroot", mode: 0o700, dir: true, uid: UID},
		{name: "root", mode: 0o700, dir: true},
	}
	zr, err := zip.OpenReader(o.ZoneinfoZip)
	if err != nil {
		return nil, fmt.Errorf("zoneinfo: %w", err)
	}
	defer zr.Close()
	n := 0
	for _, f := range zr.File {
		if f.FileInfo().IsDir() {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("zoneinfo %s: %w", f.Name, err)
		}
		b, err := io.ReadAll(rc)
		_ = rc.Close()
		if err != nil {
			return nil, fmt.Errorf("zoneinfo %s: %w", f.Name, err)
		}
		if !fs.ValidPath(f.Name) {
			return nil, fmt.Errorf("zoneinfo: bad name %q", f.Name)
		}
		es = append(es, entry{name: path.Join(strings.TrimPrefix(ZoneinfoDir, "/"), f.Name), mode: 0o644, data: b}) //nolint:gosec // f.Name checked by fs.ValidPath above
		n++
	}
	if n < 300 {
		return nil, fmt.Errorf("zoneinfo %s: only %d zones", o.ZoneinfoZip, n)
	}
	return es, nil
}

// binaryEntries are the binaries of one platform.
func binaryEntries(dir string) ([]entry, error) {
	var es []entry
	for _, b := range Binaries {
		data, err := os.ReadFile(filepath.Join(dir, b))
		if err != nil {
			return nil, fmt.Errorf("binary: %w", err)
		}
		es = append(es, entry{name: path.Join(strings.TrimPrefix(BinDir, "/"), b), mode: 0o755, data: data})
	}
	return es, nil
}

// tarLayer writes es (with their parent directories, sorted) as a
// reproducible tar: fixed times, numeric owners only.
func tarLayer(es []entry, mtime time.Time) ([]byte, error) {
	all := map[string]entry{}
	for _, e := range es {
		all[e.name] = e
		for d := path.Dir(e.name); d != "."; d = path.Dir(d) {
			if _, ok := all[d]; !ok {
				all[d] = entry{name: d, mode: 0o755, dir: true}
			}
		}
	}
	names := make([]string, 0, len(all))
	for n := range all {
		names = append(names, n)
	}
	slices.Sort(names)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, n := range names {
		e := all[n]
		h := &tar.Header{Name: n, Mode: e.mode, Uid: e.uid, Gid: e.uid, ModTime: mtime.UTC().Truncate(time.Second), Format: tar.FormatPAX}
		if e.dir {
			h.Typeflag, h.Name = tar.TypeDir, n+"/"
		} else {
			h.Typeflag, h.Size = tar.TypeReg, int64(len(e.data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if !e.dir {
			if _, err := tw.Write(e.data); err != nil {
				return nil, err
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func layerOf(b []byte) (v1.Layer, error) {
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil },
		tarball.WithMediaType(types.OCILayer))
}

// Image assembles the image of one platform from scratch: a base layer
// (users, CA bundle, tzdata) and a layer of binaries. Nothing is pulled.
func Image(o Options, platform, binDir string) (v1.Image, error) {
	osName, arch, ok := strings.Cut(platform, "/")
	if !ok || osName != "linux" {
		return nil, fmt.Errorf("platform %q: want linux/<arch>", platform)
	}
	arch, variant, _ := strings.Cut(arch, "/")
	base, err := baseEntries(o)
	if err != nil {
		return nil, err
	}
	bins, err := binaryEntries(binDir)
	if err != nil {
		return nil, err
	}
	created := v1.Time{Time: o.Created.UTC()}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	for _, l := range []struct {
		entries []entry
		by      string
	}{
		{base, "deploy/image: /etc/passwd, /etc/group (nonroot 65532), CA bundle, zoneinfo, /tmp"},
		{bins, "deploy/image: " + strings.Join(Binaries, ", ") + " in " + BinDir + " (static, -trimpath)"},
	} {
		b, err := tarLayer(l.entries, o.Created)
		if err != nil {
			return nil, err
		}
		layer, err := layerOf(b)
		if err != nil {
			return nil, err
		}
		img, err = mutate.Append(img, mutate.Addendum{Layer: layer, MediaType: types.OCILayer,
			History: v1.History{Created: created, CreatedBy: l.by}})
		if err != nil {
			return nil, err
		}
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Variant = osName, arch, variant
	cf.Created = created
	ports := map[string]struct{}{}
	for _, p := range Ports {
		ports[p] = struct{}{}
	}
	cf.Config = v1.Config{
		User:         User,
		Env:          Env,
		Cmd:          Cmd,
		WorkingDir:   "/home/nonroot",
		ExposedPorts: ports,
		Labels:       o.Labels(),
	}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, err
	}
	return mutate.Annotations(img, o.Labels()).(v1.Image), nil
}

// GoZoneinfo is the time zone database of the Go toolchain on PATH:
// $(go env GOROOT)/lib/time/zoneinfo.zip.
func GoZoneinfo() (string, error) {
	out, err := exec.CommandContext(context.Background(), "go", "env", "GOROOT").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOROOT: %w", err)
	}
	return filepath.Join(strings.TrimSpace(string(out)), "lib", "time", "zoneinfo.zip"), nil
}

// Index assembles one image per platform under an OCI index (single
// platform: the index holds one manifest).
func Index(o Options) (v1.ImageIndex, map[string]v1.Image, error) {
	platforms := make([]string, 0, len(o.Platforms))
	for p := range o.Platforms {
		platforms = append(platforms, p)
	}
	slices.Sort(platforms)
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	imgs := map[string]v1.Image{}
	for _, p := range platforms {
		img, err := Image(o, p, o.Platforms[p])
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", p, err)
		}
		cf, err := img.ConfigFile()
		if err != nil {
			return nil, nil, err
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{
			Platform: &v1.Platform{OS: cf.OS, Architecture: cf.Architecture, Variant: cf.Variant}}})
		imgs[p] = img
	}
	return mutate.Annotations(idx, o.Labels()).(v1.ImageIndex), imgs, nil
}

// WriteRootFS writes the files of one platform's image into dir (for
// deploy/Dockerfile, which copies the tree into a scratch image).
func WriteRootFS(o Options, binDir, dir string) error {
	base, err := baseEntries(o)
	if err != nil {
		return err
	}
	bins, err := binaryEntries(binDir)
	if err != nil {
		return err
	}
	for _, e := range append(base, bins...) {
		p := filepath.Join(dir, filepath.FromSlash(e.name))
		if e.dir {
			if err := os.MkdirAll(p, 0o755); err != nil { //nolint:gosec // the image's directories are world-readable
				return err
			}
			if err := os.Chmod(p, fs.FileMode(e.mode&0o777)|modeBits(e.mode)); err != nil {
				return err
			}
			// /home/nonroot belongs to the user; only root can give it away (the Dockerfile's build stage is root).
			if e.uid != 0 && os.Getuid() == 0 {
				if err := os.Lchown(p, e.uid, e.uid); err != nil {
					return err
				}
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil { //nolint:gosec // the image's directories are world-readable
			return err
		}
		if err := os.WriteFile(p, e.data, fs.FileMode(e.mode)); err != nil {
			return err
		}
	}
	return nil
}

func modeBits(m int64) fs.FileMode {
	if m&0o1000 != 0 {
		return fs.ModeSticky
	}
	return 0
}
