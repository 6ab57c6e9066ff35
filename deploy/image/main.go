// Command image assembles the co2-calculator container image offline, from
// scratch, with go-containerregistry: no base image is pulled and no
// container engine runs (`make image`).
//
// The image holds the static binaries api, worker, migrate and dbdump in
// /usr/local/bin, the CA bundle of the build machine, the IANA time zone
// database of the Go toolchain (zoneinfo.zip) in /usr/share/zoneinfo,
// /etc/passwd and /etc/group with the user nonroot (65532), a world-writable
// /tmp and no shell. It runs as 65532:65532; its labels carry the version,
// the revision and the creation time (the commit's, so builds are
// reproducible: same inputs, same digest).
//
//	go run ./deploy/image -platform linux/amd64=bin/image/linux_amd64 \
//	    -version v1.2.3 -revision <sha> -created 2026-01-02T03:04:05Z \
//	    -layout bin/image/oci -tarball bin/image/co2-calculator.tar -tag co2-calculator:v1.2.3
//
// writes an OCI image layout (an index of one manifest per platform, the
// index annotated with the tag as org.opencontainers.image.ref.name: `podman
// run oci:bin/image/oci:v1.2.3`, `skopeo copy oci:bin/image/oci:v1.2.3
// docker://registry/...`) and, for one platform, a `docker load`/`podman
// load` tarball. It prints the digests, sizes and labels as JSON.
//
// With -rootfs DIR it writes the image's file tree instead (deploy/Dockerfile
// copies it into a scratch image, so both builds ship the same files).
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

type platformFlag map[string]string

func (p platformFlag) String() string { return fmt.Sprint(map[string]string(p)) }

func (p platformFlag) Set(s string) error {
	plat, dir, ok := strings.Cut(s, "=")
	if !ok {
		return fmt.Errorf("want os/arch=DIR, got %q", s)
	}
	p[plat] = dir
	return nil
}

// Summary is what a build printed.
type Summary struct {
	Tag       string            `json:"tag"`
	Index     string            `json:"index_digest"`
	Images    map[string]string `json:"image_digests"`
	SizeBytes map[string]int64  `json:"compressed_size_bytes"`
	Layout    string            `json:"oci_layout,omitempty"`
	Tarball   string            `json:"docker_tarball,omitempty"`
	Labels    map[string]string `json:"labels"`
}

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "image:", err)
		os.Exit(1)
	}
}

// run builds what args ask for and prints the summary to stdout.
func run(args []string, stdout io.Writer) error {
	fset := flag.NewFlagSet("image", flag.ContinueOnError)
	fset.SetOutput(io.Discard) // the error is returned; -h prints the flags below
	platforms := platformFlag{}
	fset.Var(platforms, "platform", "os/arch=DIR: the binaries of that platform (repeatable)")
	ca := fset.String("ca", "/etc/ssl/certs/ca-certificates.crt", "PEM CA bundle to ship")
	zoneinfo := fset.String("zoneinfo", "", "Go's zoneinfo.zip (default: $(go env GOROOT)/lib/time/zoneinfo.zip)")
	version := fset.String("version", "dev", "org.opencontainers.image.version")
	revision := fset.String("revision", "unknown", "org.opencontainers.image.revision")
	created := fset.String("created", "", "creation time, RFC 3339 or Unix seconds (default: SOURCE_DATE_EPOCH, else now)")
	layoutDir := fset.String("layout", "", "write an OCI image layout into this directory (replaced)")
	tarPath := fset.String("tarball", "", "write a docker-archive tarball (one platform only)")
	tag := fset.String("tag", "", "image reference of the tarball and ref.name of the layout (default co2-calculator:<version>)")
	rootfs := fset.String("rootfs", "", "write the file tree of the single platform into this directory instead")
	if err := fset.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fset.SetOutput(os.Stderr)
			fset.PrintDefaults()
		}
		return err
	}
	if len(platforms) == 0 {
		return errors.New("no -platform given")
	}
	at, err := creationTime(*created)
	if err != nil {
		return err
	}
	if *zoneinfo == "" {
		if *zoneinfo, err = GoZoneinfo(); err != nil {
			return err
		}
	}
	o := Options{Platforms: platforms, CAFile: *ca, ZoneinfoZip: *zoneinfo, Version: *version, Revision: *revision, Created: at}

	if *rootfs != "" {
		if len(platforms) != 1 {
			return errors.New("-rootfs needs exactly one -platform")
		}
		for _, dir := range platforms {
			return WriteRootFS(o, dir, *rootfs)
		}
	}
	if *tag == "" {
		*tag = "co2-calculator:" + *version
	}
	ref, err := name.NewTag(*tag)
	if err != nil {
		return fmt.Errorf("-tag: %w", err)
	}

	idx, imgs, err := Index(o)
	if err != nil {
		return err
	}
	sum := Summary{Tag: ref.String(), Images: map[string]string{}, SizeBytes: map[string]int64{}, Labels: o.Labels()}
	d, err := idx.Digest()
	if err != nil {
		return err
	}
	sum.Index = d.String()
	for p, img := range imgs {
		d, err := img.Digest()
		if err != nil {
			return err
		}
		sum.Images[p] = d.String()
		if sum.SizeBytes[p], err = compressedSize(img); err != nil {
			return err
		}
	}
	if *layoutDir != "" {
		if err := os.RemoveAll(*layoutDir); err != nil {
			return err
		}
		lp, err := layout.Write(*layoutDir, empty.Index)
		if err != nil {
			return err
		}
		if err := lp.AppendIndex(idx, layout.WithAnnotations(map[string]string{
			"org.opencontainers.image.ref.name": ref.TagStr(),
		})); err != nil {
			return err
		}
		sum.Layout = *layoutDir
	}
	if *tarPath != "" {
		if len(imgs) != 1 {
			return errors.New("-tarball needs exactly one -platform")
		}
		for _, img := range imgs {
			if err := os.MkdirAll(filepath.Dir(*tarPath), 0o750); err != nil {
				return err
			}
			if err := tarball.WriteToFile(*tarPath, ref, img); err != nil {
				return err
			}
		}
		sum.Tarball = *tarPath
	}
	out, err := json.MarshalIndent(sum, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, string(out))
	return err
}

// creationTime parses -created (RFC 3339 or Unix seconds), else
// SOURCE_DATE_EPOCH, else now.
func creationTime(s string) (time.Time, error) {
	if s == "" {
		s = os.Getenv("SOURCE_DATE_EPOCH")
	}
	if s == "" {
		return time.Now().UTC().Truncate(time.Second), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	var sec int64
	if _, err := fmt.Sscanf(s, "%d", &sec); err == nil && strconv.FormatInt(sec, 10) == s {
		return time.Unix(sec, 0).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("-created %q: want RFC 3339 or Unix seconds", s)
}

// compressedSize is what a registry stores for img: its compressed layers,
// config and manifest.
func compressedSize(img v1.Image) (int64, error) {
	m, err := img.Manifest()
	if err != nil {
		return 0, err
	}
	raw, err := img.RawManifest()
	if err != nil {
		return 0, err
	}
	n := m.Config.Size + int64(len(raw))
	for _, l := range m.Layers {
		n += l.Size
	}
	return n, nil
}
