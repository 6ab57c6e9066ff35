package auth

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// FlowTTL is the lifetime of the oidc_flow cookie.
const FlowTTL = 10 * time.Minute

// Flow is what the oidc_flow cookie carries between login and callback.
type Flow struct {
	State    string    `json:"state"`
	Nonce    string    `json:"nonce"`
	Verifier string    `json:"pkce_verifier"`
	ReturnTo string    `json:"return_to"`
	Lang     string    `json:"lang"`
	Expires  time.Time `json:"expires"`
}

// ErrFlow reports a missing, tampered or expired flow cookie.
var ErrFlow = errors.New("invalid or expired login flow")

func flowAEAD(keys Keys) (cipher.AEAD, error) {
	key, err := hkdf.Key(sha256.New, keys[0].Secret, nil, "oidc_flow", 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// SealFlow encrypts f with AES-256-GCM under a key derived (HKDF-SHA256,
// info "oidc_flow") from the first signing key.
func SealFlow(keys Keys, f Flow) (string, error) {
	aead, err := flowAEAD(keys)
	if err != nil {
		return "", err
	}
	plain, err := json.Marshal(f)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, aead.NonceSize())
	_, _ = rand.Read(nonce)
	return base64.RawURLEncoding.EncodeToString(aead.Seal(nonce, nonce, plain, []byte("oidc_flow"))), nil
}

// OpenFlow decrypts and checks the expiry of a sealed flow.
func OpenFlow(keys Keys, sealed string, now time.Time) (Flow, error) {
	var f Flow
	aead, err := flowAEAD(keys)
	if err != nil {
		return f, err
	}
	b, err := base64.RawURLEncoding.DecodeString(sealed)
	if err != nil || len(b) < aead.NonceSize() {
		return f, ErrFlow
	}
	plain, err := aead.Open(nil, b[:aead.NonceSize()], b[aead.NonceSize():], []byte("oidc_flow"))
	if err != nil {
		return f, ErrFlow
	}
	if err := json.Unmarshal(plain, &f); err != nil {
		return f, ErrFlow
	}
	if !now.Before(f.Expires) {
		return f, fmt.Errorf("%w: expired", ErrFlow)
	}
	return f, nil
}

// SafeReturnTo keeps return_to only when it is a same-origin relative path
// ("/..." but not "//..." nor anything with a backslash, a scheme, a host
// or control characters); anything else becomes "/".
func SafeReturnTo(s string) string {
	if s == "" || s[0] != '/' || strings.HasPrefix(s, "//") || strings.ContainsAny(s, "\\") {
		return "/"
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return "/"
		}
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || !strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "//") {
		return "/"
	}
	return s
}

// SafeLang returns "fr" or "en" (default).
func SafeLang(s string) string {
	if s == "fr" {
		return "fr"
	}
	return "en"
}
