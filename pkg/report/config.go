package report

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/years"
)

// YearConfig is the part of years.config (docs/domain.md §11.2) this package
// reads.
type YearConfig struct {
	Modules map[string]struct {
		Enabled *bool `json:"enabled"`
	} `json:"modules"`
	ReductionObjectives struct {
		Goals []json.RawMessage `json:"goals"`
	} `json:"reduction_objectives"`
}

// ParseYearConfig decodes a years.config value; an empty value is the
// default (every module enabled).
func ParseYearConfig(raw []byte) (YearConfig, error) {
	var c YearConfig
	if len(raw) == 0 {
		return c, nil
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return c, fmt.Errorf("error decoding year configuration: %w", err)
	}
	return c, nil
}

// ModuleEnabled reports whether a module is enabled (a module missing from
// the configuration is enabled).
func (c YearConfig) ModuleEnabled(module string) bool {
	m, ok := c.Modules[module]
	if !ok || m.Enabled == nil {
		return true
	}
	return *m.Enabled
}

// EnabledModules lists the enabled module keys in display order.
func (c YearConfig) EnabledModules() []string {
	out := make([]string, 0, 8)
	for _, m := range emission.Modules() {
		if c.ModuleEnabled(string(m.Key)) {
			out = append(out, string(m.Key))
		}
	}
	return out
}

// ModuleKeys lists the eight module keys in display order.
func ModuleKeys() []string {
	mods := emission.Modules()
	out := make([]string, len(mods))
	for i, m := range mods {
		out[i] = string(m.Key)
	}
	return out
}

// IsModule reports whether key is one of the eight module keys.
func IsModule(key string) bool {
	_, ok := emission.LookupModule(emission.ModuleKey(key))
	return ok
}

// ModuleYearLockKey is the key hashed for the module-year advisory lock
// (1, hashtext(key)) of docs/jobs.md §1 (query LockModuleYear).
func ModuleYearLockKey(module string, year int32) string {
	return module + ":" + strconv.Itoa(int(year))
}

// DefaultYearConfig is the default configuration of a year (docs/domain.md
// §11.2): years.DefaultConfig.
func DefaultYearConfig() map[string]any { return years.DefaultConfig() }
