// Package config reads the typed configuration of each binary from the
// environment (12-factor): defaults, validation with one clear message per
// problem, and `NAME_FILE` indirection for secrets. Every variable read is
// also recorded with its documentation so that `--help` and the README list
// them from one place.
package config

import (
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// LookupFunc is os.LookupEnv or a test double.
type LookupFunc func(string) (string, bool)

// Var documents one environment variable.
type Var struct {
	Name    string
	Default string
	Doc     string
	Secret  bool
}

// env collects values, documentation and errors while a config is read.
type env struct {
	lookup LookupFunc
	vars   []Var
	values map[string]string
	errs   []error
}

func newEnv(lookup LookupFunc) *env {
	if lookup == nil {
		lookup = os.LookupEnv
	}
	return &env{lookup: lookup, values: map[string]string{}}
}

func (e *env) failf(name, format string, args ...any) {
	e.errs = append(e.errs, fmt.Errorf("%s: %s", name, fmt.Sprintf(format, args...)))
}

// err returns the first problem found, as one line naming the variable.
func (e *env) err() error {
	if len(e.errs) == 0 {
		return nil
	}
	return fmt.Errorf("invalid configuration: %w", e.errs[0])
}

func (e *env) raw(name, def, doc string, secret bool) (string, bool) {
	e.vars = append(e.vars, Var{Name: name, Default: def, Doc: doc, Secret: secret})
	v, ok := e.lookup(name)
	v = strings.TrimSpace(v)
	if secret {
		if path, okFile := e.lookup(name + "_FILE"); okFile && strings.TrimSpace(path) != "" {
			if ok && v != "" {
				e.failf(name, "both %s and %s_FILE are set; set only one", name, name)
				return "", false
			}
			b, err := os.ReadFile(strings.TrimSpace(path))
			if err != nil {
				e.failf(name+"_FILE", "cannot read secret file: %v", err)
				return "", false
			}
			v, ok = strings.TrimSpace(string(b)), true
		}
	}
	if !ok || v == "" {
		e.values[name] = def
		return def, false
	}
	e.values[name] = v
	return v, true
}

func (e *env) str(name, def, doc string) string {
	v, _ := e.raw(name, def, doc, false)
	return v
}

func (e *env) required(name, doc string, secret bool) string {
	v, set := e.raw(name, "", doc, secret)
	if !set {
		hint := ""
		if secret {
			hint = fmt.Sprintf(" (or %s_FILE)", name)
		}
		e.failf(name, "is required%s", hint)
	}
	return v
}

// count reads a positive integer in [1, maxV].
func (e *env) count(name string, def, maxV int, doc string) int {
	const minV = 1
	v, set := e.raw(name, strconv.Itoa(def), doc, false)
	if !set {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		e.failf(name, "invalid integer %q", v)
		return def
	}
	if n < minV || n > maxV {
		e.failf(name, "%d is out of range [%d, %d]", n, minV, maxV)
		return def
	}
	return n
}

func (e *env) duration(name string, def time.Duration, doc string) time.Duration {
	v, set := e.raw(name, def.String(), doc, false)
	if !set {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		e.failf(name, "invalid duration %q (examples: 30s, 15m, 72h)", v)
		return def
	}
	if d < 0 {
		e.failf(name, "must not be negative")
		return def
	}
	return d
}

func (e *env) boolean(name string, def bool, doc string) bool {
	v, set := e.raw(name, strconv.FormatBool(def), doc, false)
	if !set {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		e.failf(name, "invalid boolean %q (true or false)", v)
		return def
	}
	return b
}

func (e *env) oneOf(name, def string, allowed []string, doc string) string {
	v, _ := e.raw(name, def, doc, false)
	v = strings.ToLower(v)
	if !slices.Contains(allowed, v) {
		e.failf(name, "%q is not one of %s", v, strings.Join(allowed, ", "))
		return def
	}
	return v
}

func (e *env) httpURL(name, def, doc string) string {
	v, set := e.raw(name, def, doc, false)
	if !set && v == "" {
		return ""
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		e.failf(name, "invalid URL %q (want http:// or https://)", v)
		return def
	}
	return strings.TrimRight(v, "/")
}

func (e *env) databaseURL(name, doc string) string {
	v := e.required(name, doc, true)
	if v == "" {
		return ""
	}
	if !strings.HasPrefix(v, "postgres://") && !strings.HasPrefix(v, "postgresql://") && !strings.Contains(v, "=") {
		e.failf(name, "not a PostgreSQL connection string (want postgres://user@host:port/db)")
	}
	return v
}

// Common holds the settings every binary shares.
type Common struct {
	AppEnv      string
	DatabaseURL string
	LogLevel    slog.Level
	LogFormat   string
	OTLPEnd     string
	ServiceName string
}

func (e *env) common(serviceName string) Common {
	c := Common{
		AppEnv:      e.oneOf("APP_ENV", "dev", []string{"dev", "test", "staging", "production"}, "deployment environment"),
		DatabaseURL: e.databaseURL("DATABASE_URL", "PostgreSQL connection string (pgx); DATABASE_URL_FILE reads it from a file"),
		LogFormat:   e.oneOf("LOG_FORMAT", "json", []string{"json", "text"}, "log format"),
		OTLPEnd:     e.str("OTEL_EXPORTER_OTLP_ENDPOINT", "", "OTLP/HTTP endpoint for traces; tracing is off when empty"),
		ServiceName: e.str("OTEL_SERVICE_NAME", serviceName, "service name in traces"),
	}
	lvl := e.oneOf("LOG_LEVEL", "info", []string{"debug", "info", "warn", "error"}, "log level")
	_ = c.LogLevel.UnmarshalText([]byte(lvl))
	return c
}

// LogAttrs renders every variable read, secrets redacted, for the start-up
// log line.
func logAttrs(e *env) []slog.Attr {
	attrs := make([]slog.Attr, 0, len(e.vars))
	for _, v := range e.vars {
		val := e.values[v.Name]
		if v.Secret && val != "" {
			val = "[redacted]"
		}
		if v.Name == "DATABASE_URL" {
			val = redactURL(val)
		}
		attrs = append(attrs, slog.String(v.Name, val))
	}
	return attrs
}

func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// Help renders the variable list of a configuration for --help output.
func Help(vars []Var) string {
	var b strings.Builder
	b.WriteString("Environment variables:\n")
	for _, v := range vars {
		def := v.Default
		if def == "" {
			def = "-"
		}
		fmt.Fprintf(&b, "  %-28s %s (default: %s)\n", v.Name, v.Doc, def)
	}
	return b.String()
}
