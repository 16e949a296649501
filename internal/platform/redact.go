package platform

import (
	"io"
	"sort"
	"strings"
	"sync"
)

// Redactor replaces registered secrets with *** in everything written through it. It is
// the last line of defence: the program never prints a secret on purpose, but an error
// from a proxy, a URL or an app's build log might carry one.
type Redactor struct {
	w io.Writer
	*secrets
}

// secrets is a list of secrets that several Redactors can share.
type secrets struct {
	mu      sync.Mutex
	secrets []string
}

// NewRedactor wraps w.
func NewRedactor(w io.Writer) *Redactor { return &Redactor{w: w, secrets: &secrets{}} }

// Wrap returns a Redactor for w that shares r's secrets: one registered later through
// either is replaced by both.
func (r *Redactor) Wrap(w io.Writer) *Redactor { return &Redactor{w: w, secrets: r.secrets} }

// MinSecretLen is the shortest value that is masked: replacing "1" or "true" everywhere
// would garble the log and protect nothing (such a value is guessed, not leaked).
const MinSecretLen = 6

// Add registers a secret. Short strings are ignored (MinSecretLen).
func (r *secrets) Add(secret string) {
	if len(secret) < MinSecretLen {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.secrets {
		if s == secret {
			return
		}
	}
	r.secrets = append(r.secrets, secret)
	// Longest first, so that a secret containing another is replaced whole.
	sort.Slice(r.secrets, func(i, j int) bool { return len(r.secrets[i]) > len(r.secrets[j]) })
}

// Redact returns s with every registered secret replaced.
func (r *secrets) Redact(s string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, secret := range r.secrets {
		s = strings.ReplaceAll(s, secret, "***")
	}
	return s
}

// Write redacts p and writes it whole. Callers write whole lines, so a secret is never
// split across two writes.
func (r *Redactor) Write(p []byte) (int, error) {
	if _, err := io.WriteString(r.w, r.Redact(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}
