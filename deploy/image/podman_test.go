package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/co2-calculator/co2-calculator/pkg/testdb"
)

func TestMain(m *testing.M) { testdb.WrapTestMain(m) }

// Environment of TestPodman: TarballEnv names a docker-archive tarball to
// run (`make image` passes the one it built), else PodmanEnv=1 builds the
// binaries and the image first (a minute or more on 2 busy cores: not part
// of `make test`).
const (
	TarballEnv = "CO2_IMAGE_TARBALL"
	PodmanEnv  = "CO2_PODMAN"
)

// podman returns the podman command and the run options this machine needs,
// or skips when podman is not installed.
//
// The run options: runc when it is installed (crun refuses the hybrid
// cgroup v1/v2 layout of some VMs) and the file and process limits at or
// below the current ones (podman raises them to 1048576 by default, which
// needs CAP_SYS_RESOURCE).
func podman(t *testing.T) (string, []string) {
	t.Helper()
	if os.Getenv(TarballEnv) == "" && os.Getenv(PodmanEnv) != "1" {
		t.Skipf("runs with %s=<tarball> (make image) or %s=1 (builds the image)", TarballEnv, PodmanEnv)
	}
	bin, err := exec.LookPath("podman")
	if err != nil {
		t.Skip("podman is not installed (Debian: apt-get install podman runc): the image is not run")
	}
	var opts []string
	if _, err := exec.LookPath("runc"); err == nil {
		opts = append(opts, "--runtime", "runc")
	}
	return bin, append(opts, "--ulimit", "nofile=4096:4096", "--ulimit", "nproc=4096:4096")
}

// buildBinaries builds the image's programs as `make image` does (static,
// -trimpath) into a temporary directory.
func buildBinaries(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	args := []string{"build", "-trimpath", "-ldflags", "-s -w -X github.com/co2-calculator/co2-calculator/pkg/buildinfo.Version=podman-test",
		"-o", dir + "/"}
	for _, b := range Binaries {
		if b == "dbdump" {
			args = append(args, "./deploy/dbdump")
		} else {
			args = append(args, "./cmd/"+b)
		}
	}
	cmd := exec.CommandContext(t.Context(), "go", args...)
	cmd.Dir = "../.."
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	return dir
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close())
	return port
}

// TestPodman runs the image the way the chart does, against the test
// database: migrate up (the hook), then the api with a read-only root
// filesystem, whose admin port answers /readyz once the database and the
// schema are there. It also checks that the image holds no shell and runs
// as nonroot.
func TestPodman(t *testing.T) {
	t.Parallel()
	pm, runOpts := podman(t)
	ctx := context.Background()
	run := func(args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, pm, args...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		return out.String(), err
	}

	// The image (make image's, or built from the real binaries), loaded into podman's storage under a tag of
	// its own.
	var img v1.Image
	var err error
	version := "podman-test"
	if p := os.Getenv(TarballEnv); p != "" {
		img, err = tarball.ImageFromPath(p, nil)
		require.NoError(t, err)
		cf, err := img.ConfigFile()
		require.NoError(t, err)
		version = cf.Config.Labels["org.opencontainers.image.version"]
	} else {
		ca := "/etc/ssl/certs/ca-certificates.crt"
		if _, err := os.Stat(ca); err != nil {
			ca, _ = caBundle(t)
		}
		platform := "linux/" + runtime.GOARCH
		o := Options{Platforms: map[string]string{platform: buildBinaries(t)}, CAFile: ca, ZoneinfoZip: zoneinfo(t),
			Version: version, Revision: "test", Created: time.Now().UTC().Truncate(time.Second)}
		img, err = Image(o, platform, o.Platforms[platform])
		require.NoError(t, err)
	}
	tag, err := name.NewTag(fmt.Sprintf("localhost/co2-calculator-test:%d", time.Now().UnixNano()))
	require.NoError(t, err)
	archive := filepath.Join(t.TempDir(), "image.tar")
	require.NoError(t, tarball.WriteToFile(archive, tag, img))
	out, err := run("load", "-q", "-i", archive)
	require.NoError(t, err, out)
	t.Cleanup(func() { _, _ = run("rmi", "-f", tag.String()) })

	// No shell; the user is nonroot.
	out, err = run(append(append([]string{"run", "--rm"}, runOpts...), tag.String(), "/bin/sh", "-c", "true")...)
	require.Error(t, err, "a shell ran: %s", out)
	require.Contains(t, out, "/bin/sh")
	out, err = run("image", "inspect", "--format", "{{.Config.User}} {{index .Labels \"org.opencontainers.image.version\"}}", tag.String())
	require.NoError(t, err, out)
	require.Equal(t, "65532:65532 "+version, strings.TrimSpace(out))

	// A fresh database, migrated by the image's migrate.
	dbURL := freshDatabase(t)
	common := append([]string{"run", "--rm", "--network", "host", "--read-only", "-e", "DATABASE_URL=" + dbURL,
		"-e", "APP_ENV=test", "-e", "LOG_FORMAT=json"}, runOpts...)
	out, err = run(append(slices.Clone(common), tag.String(), "/usr/local/bin/migrate", "up")...)
	require.NoError(t, err, "migrate up: %s", out)

	// The api (the image's default command) until /readyz answers 200.
	httpPort, adminPort := freePort(t), freePort(t)
	container := strings.ReplaceAll(tag.TagStr(), ".", "-")
	apiArgs := append(slices.Clone(common[1:]), "-d", "--name", "co2-api-"+container,
		"-e", "HTTP_ADDR=127.0.0.1:"+strconv.Itoa(httpPort), "-e", "ADMIN_ADDR=127.0.0.1:"+strconv.Itoa(adminPort),
		"-e", "BLOB_LOCAL_DIR=/tmp/blobs", tag.String())
	apiArgs = append([]string{"run", "--rm"}, apiArgs...)
	out, err = run(apiArgs...)
	require.NoError(t, err, "api: %s", out)
	t.Cleanup(func() {
		if t.Failed() {
			logs, _ := run("logs", "co2-api-"+container)
			t.Logf("api logs:\n%s", logs)
		}
		_, _ = run("rm", "-f", "-t", "2", "co2-api-"+container)
	})

	url := fmt.Sprintf("http://127.0.0.1:%d/readyz", adminPort)
	deadline := time.NewTimer(60 * time.Second)
	defer deadline.Stop()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		resp, err := http.Get(url)
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case <-deadline.C:
			t.Fatalf("GET %s: no 200 within 60s (last: %v)", url, err)
		case <-tick.C:
		}
	}
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/api/v1/version", httpPort))
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

// freshDatabase creates an empty database dropped at cleanup and returns its URL.
func freshDatabase(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	pool := testdb.Pool(t)
	dbName := testdb.RandomName("image_")
	_, err := pool.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{dbName}.Sanitize())
	require.NoError(t, err)
	t.Cleanup(func() {
		_, _ = pool.Exec(context.Background(), "DROP DATABASE IF EXISTS "+pgx.Identifier{dbName}.Sanitize()+" WITH (FORCE)")
	})
	cfg, err := pgx.ParseConfig(testdb.URLWithoutPoolParams())
	require.NoError(t, err)
	return fmt.Sprintf("postgres://%s@%s:%d/%s?sslmode=disable", cfg.User, cfg.Host, cfg.Port, dbName)
}
