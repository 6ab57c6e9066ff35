package main

import (
	"archive/tar"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/stretchr/testify/require"
)

// created is the build time of the test images (a commit's time).
var created = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

// caBundle writes a PEM bundle of one self-signed certificate.
func caBundle(t *testing.T) (string, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: created, NotAfter: created.Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	b := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	p := filepath.Join(t.TempDir(), "ca.crt")
	require.NoError(t, os.WriteFile(p, b, 0o644))
	return p, b
}

func zoneinfo(t *testing.T) string {
	t.Helper()
	p, err := GoZoneinfo()
	require.NoError(t, err)
	return p
}

// fakeBinaries writes one small file per binary (its name as content).
func fakeBinaries(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, b := range Binaries {
		require.NoError(t, os.WriteFile(filepath.Join(dir, b), []byte("binary "+b), 0o755))
	}
	return dir
}

func testOptions(t *testing.T) (Options, []byte) {
	t.Helper()
	ca, pemBytes := caBundle(t)
	return Options{
		Platforms: map[string]string{"linux/amd64": fakeBinaries(t), "linux/arm64": fakeBinaries(t)},
		CAFile:    ca, ZoneinfoZip: zoneinfo(t),
		Version: "v1.2.3", Revision: "0123456789abcdef0123456789abcdef01234567", Created: created,
	}, pemBytes
}

// file is one entry of an image's flattened file system.
type file struct {
	hdr  *tar.Header
	data []byte
}

func files(t *testing.T, img v1.Image) map[string]file {
	t.Helper()
	rc := mutate.Extract(img)
	defer rc.Close()
	out := map[string]file{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		require.NoError(t, err)
		b, err := io.ReadAll(tr)
		require.NoError(t, err)
		out[strings.TrimSuffix(h.Name, "/")] = file{h, b}
	}
}

// TestImage checks what the image holds and how it runs: the binaries, the
// nonroot user, the CA bundle, the time zones, a sticky /tmp, no shell, the
// labels; and that the same inputs give the same digest.
func TestImage(t *testing.T) {
	t.Parallel()
	o, pemBytes := testOptions(t)
	idx, imgs, err := Index(o)
	require.NoError(t, err)
	im, err := idx.IndexManifest()
	require.NoError(t, err)
	require.Len(t, im.Manifests, 2)
	require.Equal(t, "v1.2.3", im.Annotations["org.opencontainers.image.version"])
	for _, p := range []string{"linux/amd64", "linux/arm64"} {
		img := imgs[p]
		cf, err := img.ConfigFile()
		require.NoError(t, err)
		require.Equal(t, "linux", cf.OS)
		require.Equal(t, strings.TrimPrefix(p, "linux/"), cf.Architecture)
		require.Equal(t, "65532:65532", cf.Config.User, "runs as nonroot")
		require.Equal(t, []string{"/usr/local/bin/api", "serve"}, cf.Config.Cmd)
		require.Empty(t, cf.Config.Entrypoint)
		require.Contains(t, cf.Config.Env, "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt")
		require.Equal(t, created, cf.Created.UTC())
		require.Equal(t, map[string]string{
			"org.opencontainers.image.title":       "co2-calculator",
			"org.opencontainers.image.description": "co2-calculator: api (with the SPA), worker, migrate and dbdump, static Go binaries",
			"org.opencontainers.image.version":     "v1.2.3",
			"org.opencontainers.image.revision":    "0123456789abcdef0123456789abcdef01234567",
			"org.opencontainers.image.created":     "2026-03-04T05:06:07Z",
			"org.opencontainers.image.source":      Source,
		}, cf.Config.Labels)
		m, err := img.Manifest()
		require.NoError(t, err)
		require.Equal(t, "v1.2.3", m.Annotations["org.opencontainers.image.version"])
		require.Len(t, m.Layers, 2, "a base layer and a binary layer")

		fs := files(t, img)
		for _, b := range Binaries {
			f, ok := fs["usr/local/bin/"+b]
			require.True(t, ok, b)
			require.Equal(t, "binary "+b, string(f.data))
			require.Equal(t, int64(0o755), f.hdr.Mode)
		}
		require.Equal(t, pemBytes, fs["etc/ssl/certs/ca-certificates.crt"].data)
		require.Contains(t, string(fs["etc/passwd"].data), "nonroot:x:65532:65532:")
		require.Contains(t, string(fs["etc/group"].data), "nonroot:x:65532:")
		require.Equal(t, int64(0o1777), fs["tmp"].hdr.Mode)
		require.Equal(t, tar.TypeDir, rune(fs["tmp"].hdr.Typeflag))
		require.Equal(t, 65532, fs["home/nonroot"].hdr.Uid)
		zurich, ok := fs["usr/share/zoneinfo/Europe/Zurich"]
		require.True(t, ok)
		loc, err := time.LoadLocationFromTZData("Europe/Zurich", zurich.data)
		require.NoError(t, err)
		require.Equal(t, "CET", time.Date(2026, 1, 1, 12, 0, 0, 0, loc).Format("MST"))
		shells := regexp.MustCompile(`(^|/)(sh|bash|dash|ash|busybox)$`)
		for n, f := range fs {
			require.False(t, shells.MatchString(n), "a shell in the image: %s", n)
			require.Equal(t, created, f.hdr.ModTime.UTC(), "%s: reproducible times", n)
			require.Zero(t, f.hdr.Mode&0o6000, "%s: setuid/setgid", n)
		}
	}

	// Reproducible: the same inputs give the same digest; another version another one.
	again, _, err := Index(o)
	require.NoError(t, err)
	d1, err := idx.Digest()
	require.NoError(t, err)
	d2, err := again.Digest()
	require.NoError(t, err)
	require.Equal(t, d1, d2)
	o.Version = "v1.2.4"
	other, _, err := Index(o)
	require.NoError(t, err)
	d3, err := other.Digest()
	require.NoError(t, err)
	require.NotEqual(t, d1, d3)
}

// TestImageTmpIsWritable guards the exception of TestImage: /tmp is the
// only world-writable path (sticky).
func TestImageTmpIsWritable(t *testing.T) {
	t.Parallel()
	o, _ := testOptions(t)
	img, err := Image(o, "linux/amd64", o.Platforms["linux/amd64"])
	require.NoError(t, err)
	var writable []string
	for n, f := range files(t, img) {
		if f.hdr.Mode&0o2 != 0 {
			writable = append(writable, n)
		}
	}
	require.Equal(t, []string{"tmp"}, writable)
}

// TestRun runs the command as `make image` does: an OCI layout whose index
// is annotated with the tag, a docker-archive tarball, and the summary.
func TestRun(t *testing.T) {
	t.Parallel()
	o, _ := testOptions(t)
	dir := t.TempDir()
	var stdout bytes.Buffer
	require.NoError(t, run([]string{"-platform", "linux/amd64=" + o.Platforms["linux/amd64"], "-ca", o.CAFile,
		"-version", "v9.8.7", "-revision", "abc", "-created", "1772600767",
		"-layout", filepath.Join(dir, "oci"), "-tarball", filepath.Join(dir, "img.tar"), "-tag", "co2-calculator:v9.8.7"}, &stdout))
	var sum Summary
	require.NoError(t, json.Unmarshal(stdout.Bytes(), &sum))
	require.Equal(t, "2026-03-04T05:06:07Z", sum.Labels["org.opencontainers.image.created"])
	require.Equal(t, "v9.8.7", sum.Labels["org.opencontainers.image.version"])

	lp, err := layout.FromPath(filepath.Join(dir, "oci"))
	require.NoError(t, err)
	top, err := lp.ImageIndex()
	require.NoError(t, err)
	tm, err := top.IndexManifest()
	require.NoError(t, err)
	require.Len(t, tm.Manifests, 1)
	require.Equal(t, "v9.8.7", tm.Manifests[0].Annotations["org.opencontainers.image.ref.name"])
	require.Equal(t, sum.Index, tm.Manifests[0].Digest.String())
	idx, err := top.ImageIndex(tm.Manifests[0].Digest)
	require.NoError(t, err)
	im, err := idx.IndexManifest()
	require.NoError(t, err)
	require.Equal(t, "amd64", im.Manifests[0].Platform.Architecture)
	require.Equal(t, sum.Images["linux/amd64"], im.Manifests[0].Digest.String())

	tag, err := name.NewTag("co2-calculator:v9.8.7")
	require.NoError(t, err)
	img, err := tarball.ImageFromPath(filepath.Join(dir, "img.tar"), &tag)
	require.NoError(t, err)
	// The archive holds the same config (and so the same layers, by their diff IDs).
	fromTar, err := img.ConfigName()
	require.NoError(t, err)
	idxImg, err := idx.Image(im.Manifests[0].Digest)
	require.NoError(t, err)
	fromLayout, err := idxImg.ConfigName()
	require.NoError(t, err)
	require.Equal(t, fromLayout, fromTar)
	require.Positive(t, sum.SizeBytes["linux/amd64"])

	// -rootfs writes the same files (what deploy/Dockerfile copies into scratch).
	root := filepath.Join(dir, "rootfs")
	require.NoError(t, run([]string{"-platform", "linux/amd64=" + o.Platforms["linux/amd64"], "-ca", o.CAFile, "-rootfs", root}, io.Discard))
	for n, f := range files(t, img) {
		st, err := os.Lstat(filepath.Join(root, filepath.FromSlash(n)))
		require.NoError(t, err, n)
		require.Equal(t, f.hdr.Typeflag == tar.TypeDir, st.IsDir(), n)
		require.Equal(t, os.FileMode(f.hdr.Mode&0o777), st.Mode().Perm(), n)
	}
}

func TestRunRejects(t *testing.T) {
	t.Parallel()
	o, _ := testOptions(t)
	bins := "linux/amd64=" + o.Platforms["linux/amd64"]
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "no -platform"},
		{[]string{"-platform", "amd64"}, "want os/arch=DIR"},
		{[]string{"-platform", "windows/amd64=" + o.Platforms["linux/amd64"], "-ca", o.CAFile}, "want linux/<arch>"},
		{[]string{"-platform", bins, "-ca", o.CAFile, "-created", "yesterday"}, "want RFC 3339 or Unix seconds"},
		{[]string{"-platform", bins, "-ca", "/dev/null", "-created", "0"}, "holds no PEM certificate"},
		{[]string{"-platform", "linux/amd64=" + t.TempDir(), "-ca", o.CAFile, "-created", "0"}, "binary:"},
		{[]string{"-platform", bins, "-platform", "linux/arm64=" + o.Platforms["linux/arm64"], "-ca", o.CAFile,
			"-created", "0", "-tarball", filepath.Join(t.TempDir(), "x.tar")}, "exactly one -platform"},
	} {
		err := run(tc.args, io.Discard)
		require.ErrorContains(t, err, tc.want, "%v", tc.args)
	}
}

// TestDockerfile: deploy/Dockerfile builds the same image where Docker
// exists: it copies the file tree of `-rootfs` into scratch and states the
// same user, environment, command, ports and labels.
func TestDockerfile(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../Dockerfile")
	require.NoError(t, err)
	df := string(b)
	stages := regexp.MustCompile(`(?m)^FROM .*$`).FindAllString(df, -1)
	require.Equal(t, "FROM scratch", stages[len(stages)-1], "the final stage starts from nothing")
	final := df[strings.LastIndex(df, "FROM scratch"):]
	require.Contains(t, final, "COPY --from=build /out/rootfs/ /")
	require.Contains(t, final, "USER "+User+"\n")
	require.Contains(t, final, "WORKDIR /home/nonroot\n")
	require.Contains(t, final, "ENV "+strings.Join(Env, " ")+"\n")
	require.Contains(t, final, "EXPOSE "+strings.ReplaceAll(strings.Join(Ports, " "), "/tcp", "")+"\n")
	cmd, err := json.Marshal(Cmd)
	require.NoError(t, err)
	require.Contains(t, final, "CMD "+strings.ReplaceAll(string(cmd), ",", ", ")+"\n")
	for k := range (Options{}).Labels() {
		require.Contains(t, final, k+"=", "label %s", k)
	}
	require.Contains(t, df, "-trimpath")
	require.Contains(t, df, "CGO_ENABLED=0")
	for _, pkg := range []string{"./cmd/api", "./cmd/worker", "./cmd/migrate", "./deploy/dbdump"} {
		require.Contains(t, df, pkg)
	}
	require.Contains(t, df, "go run ./deploy/image")
	require.NotContains(t, df, "openapi.yaml", "a file deleted long ago")
	require.NotRegexp(t, `(?m)^RUN .*\b(sh|bash)\b`, final, "the final stage has no shell to run")
}
