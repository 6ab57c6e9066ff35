// Package blobtest provides blob.Config values for tests: a temp directory
// for the local backend, and a real S3-compatible server (versitygw, with
// SigV4 and presigned URLs) for the S3 backend.
//
// The versitygw server is started lazily by the first S3 call, once per test
// binary, on a free 127.0.0.1 port with random credentials and a temp data
// directory; each S3 call gets its own key prefix on a shared bucket. A
// package that calls S3 must stop the server after its tests:
//
//	func TestMain(m *testing.M) { blobtest.WrapTestMain(m) }
//
// (or call Stop itself after m.Run).
//
// The binary is <repo>/.bin/versitygw (installed by `make tools`, i.e.
// scripts/tools.sh) or versitygw on PATH. When it is missing the S3 tests
// FAIL, telling you to run `make tools`. Developer escape hatch only:
// CO2_SKIP_S3=1 skips S3 tests instead (CI never sets it).
package blobtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"go.uber.org/goleak"

	"github.com/co2-calculator/co2-calculator/pkg/blob"
)

// SkipEnv names the variable that, set to 1, skips S3 tests instead of
// failing when versitygw is not installed.
const SkipEnv = "CO2_SKIP_S3"

// startTimeout bounds how long versitygw may take to accept connections
// (it normally takes about 0.1 s).
const startTimeout = 20 * time.Second

// Server is a running versitygw.
type Server struct {
	Endpoint  string // http://127.0.0.1:PORT
	AccessKey string
	SecretKey string
	Bucket    string // created at start

	cmd  *exec.Cmd
	dir  string
	log  *os.File
	done chan struct{} // closed when the process has exited
}

var (
	mu       sync.Mutex
	started  *Server
	errStart error
	tried    bool
)

// Local returns a local-backend Config rooted at a fresh temp directory.
func Local(tb testing.TB) blob.Config {
	tb.Helper()
	return blob.Config{Backend: blob.BackendLocal, LocalDir: tb.TempDir()}
}

// S3 returns an S3-backend Config (path-style, static credentials) on the
// shared versitygw bucket with a prefix unique to this call, starting the
// server on first use.
func S3(tb testing.TB) blob.Config {
	tb.Helper()
	srv := Start(tb)
	return blob.Config{
		Backend:         blob.BackendS3,
		Bucket:          srv.Bucket,
		Endpoint:        srv.Endpoint,
		Region:          "us-east-1",
		PathStyle:       true,
		Prefix:          "t-" + randomHex(6),
		AccessKeyID:     srv.AccessKey,
		SecretAccessKey: srv.SecretKey,
	}
}

// Start returns the package's versitygw server, starting it on first use.
// It fails tb when the server cannot run (skips it when CO2_SKIP_S3=1).
func Start(tb testing.TB) *Server {
	tb.Helper()
	if os.Getenv(SkipEnv) == "1" {
		tb.Skipf("%s=1: skipping a test that needs the S3 server (versitygw)", SkipEnv)
	}
	mu.Lock()
	defer mu.Unlock()
	if !tried {
		tried = true
		started, errStart = startServer()
	}
	if errStart != nil {
		tb.Fatalf("blobtest: %v", errStart)
	}
	return started
}

// Stop stops the server if it was started; safe to call more than once.
func Stop() {
	mu.Lock()
	defer mu.Unlock()
	if started != nil {
		started.stop()
		started = nil
	}
}

// WrapTestMain runs the tests, stops the server and, after a green run,
// fails on leaked goroutines (like testdb.WrapTestMain).
func WrapTestMain(m *testing.M) {
	before := goleak.IgnoreCurrent()
	code := m.Run()
	Stop()
	if code == 0 {
		if err := goleak.Find(before); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}

// Binary locates versitygw: <repo>/.bin/versitygw, then PATH.
func Binary() (string, error) {
	var tried []string
	if root, err := repoRoot(); err == nil {
		p := filepath.Join(root, ".bin", "versitygw")
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
		tried = append(tried, p)
	}
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p, nil
	}
	tried = append(tried, "$PATH")
	return "", fmt.Errorf("versitygw not found (looked in %s): run `make tools` "+
		"(scripts/tools.sh installs versitygw v1.8.0 into .bin/); "+
		"%s=1 skips S3 tests on a developer machine", strings.Join(tried, ", "), SkipEnv)
}

// repoRoot walks up from the working directory (the package directory
// under go test) to the directory holding go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the working directory")
		}
		dir = parent
	}
}

func startServer() (*Server, error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	// The port is picked by the kernel and released just before versitygw
	// binds it; if another process grabs it in between, try again.
	var lastErr error
	for range 3 {
		srv, err := launch(bin)
		if err == nil {
			return srv, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

func launch(bin string) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "co2-versitygw-")
	if err != nil {
		return nil, err
	}
	data := filepath.Join(dir, "data")
	if err := os.Mkdir(data, 0o700); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	logFile, err := os.Create(filepath.Join(dir, "versitygw.log"))
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	addr := net.JoinHostPort("127.0.0.1", port)
	srv := &Server{
		Endpoint:  "http://" + addr,
		AccessKey: "AK" + strings.ToUpper(randomHex(9)),
		SecretKey: randomHex(20),
		Bucket:    "co2-test-" + randomHex(4),
		dir:       dir,
		log:       logFile,
		done:      make(chan struct{}),
	}
	// The secret is passed in the environment rather than argv, so it does
	// not show up in ps.
	srv.cmd = exec.Command(bin, "--port", addr, "posix", data) //nolint:noctx,gosec // bin is .bin/versitygw or PATH; lives until Stop, not a context
	srv.cmd.Dir = dir
	srv.cmd.Env = append(cleanEnv(), "ROOT_ACCESS_KEY="+srv.AccessKey, "ROOT_SECRET_KEY="+srv.SecretKey)
	srv.cmd.Stdout = logFile // *os.File: no copying goroutines
	srv.cmd.Stderr = logFile
	if err := srv.cmd.Start(); err != nil {
		_ = logFile.Close()
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	go func() {
		_ = srv.cmd.Wait()
		close(srv.done)
	}()
	if err := srv.waitReady(addr); err != nil {
		srv.stop()
		return nil, err
	}
	if err := srv.createBucket(); err != nil {
		logTail := srv.logTail()
		srv.stop()
		return nil, fmt.Errorf("creating bucket: %w\n%s", err, logTail)
	}
	return srv, nil
}

// cleanEnv is the environment without VGW_* settings (which would change
// versitygw's flags), root credentials and AWS credentials.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "VGW_") || strings.HasPrefix(kv, "ROOT_") || strings.HasPrefix(kv, "AWS_") ||
			strings.HasPrefix(kv, "LOGFILE=") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// waitReady polls until the port accepts connections, the process exits or
// startTimeout passes.
func (s *Server) waitReady(addr string) error {
	deadline := time.NewTimer(startTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	var d net.Dialer
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		conn, err := d.DialContext(ctx, "tcp", addr)
		cancel()
		if err == nil {
			_ = conn.Close()
			return nil
		}
		select {
		case <-s.done:
			return fmt.Errorf("versitygw exited during startup:\n%s", s.logTail())
		case <-deadline.C:
			return fmt.Errorf("versitygw did not accept connections on %s within %s:\n%s", addr, startTimeout, s.logTail())
		case <-tick.C:
		}
	}
}

func (s *Server) createBucket() error {
	tr := &http.Transport{DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	client := s3.New(s3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(s.Endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(s.AccessKey, s.SecretKey, ""),
		HTTPClient:   &http.Client{Transport: tr},
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(s.Bucket)})
	return err
}

// stop interrupts versitygw, kills it if it lingers, and removes its data.
func (s *Server) stop() {
	_ = s.cmd.Process.Signal(os.Interrupt)
	t := time.NewTimer(10 * time.Second)
	defer t.Stop()
	select {
	case <-s.done:
	case <-t.C:
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	_ = s.log.Close()
	_ = os.RemoveAll(s.dir)
}

func (s *Server) logTail() string {
	b, err := os.ReadFile(s.log.Name())
	if err != nil {
		return ""
	}
	const maxTail = 4000
	if len(b) > maxTail {
		b = b[len(b)-maxTail:]
	}
	return string(b)
}

func freePort() (string, error) {
	var lc net.ListenConfig
	l, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	_, port, err := net.SplitHostPort(l.Addr().String())
	_ = l.Close()
	return port, err
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
