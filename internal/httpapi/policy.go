package httpapi

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"time"
)

// Policy is the one retry policy of an API client: every API call, and the callers that
// retry on their own terms (the upload, the deployment creation), ask it whether a
// failure may be tried again and how long to wait first.
type Policy struct {
	// MaxAttempts bounds the attempts of one call, the first included.
	MaxAttempts int
	// Base and Max bound the backoff: Base·2^(n-1) before attempt n+1, at most Max,
	// jittered down to half of it.
	Base, Max time.Duration
	// RetryAfterMax caps a server's Retry-After: a hostile or broken answer cannot park
	// the run for an hour.
	RetryAfterMax time.Duration
}

// DefaultPolicy is 6 attempts, backoff from 1 s to 30 s, Retry-After honoured up to 60 s.
func DefaultPolicy() Policy {
	return Policy{MaxAttempts: 6, Base: time.Second, Max: 30 * time.Second, RetryAfterMax: time.Minute}
}

func (p Policy) withDefaults() Policy {
	d := DefaultPolicy()
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = d.MaxAttempts
	}
	if p.Base <= 0 {
		p.Base = d.Base
	}
	if p.Max <= 0 {
		p.Max = d.Max
	}
	if p.RetryAfterMax <= 0 {
		p.RetryAfterMax = d.RetryAfterMax
	}
	return p
}

// net/http gives these failures no type of their own; go-retryablehttp matches the same
// texts.
var (
	redirectsErrorRe     = regexp.MustCompile(`stopped after \d+ redirects\z`)
	schemeErrorRe        = regexp.MustCompile(`unsupported protocol scheme`)
	invalidHeaderErrorRe = regexp.MustCompile(`invalid header`)
	notTrustedErrorRe    = regexp.MustCompile(`certificate is not trusted`)
)

// Retryable tells whether a failed attempt may be tried again: a 429, a 5xx other than
// 501, or a transport failure that may pass (reset, refused, timeout, EOF). It follows
// go-retryablehttp's DefaultRetryPolicy: what cannot change is final — another 4xx, a
// certificate that is not trusted, a bad scheme, URL, port or header, too many
// redirects or one out of the origin, a host that does not exist (NXDOMAIN), a cancelled
// context.
func (p Policy) Retryable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	var f *final
	if errors.As(err, &f) {
		return false
	}
	var se StatusError
	if errors.As(err, &se) {
		return retryableStatus(se.HTTPStatus())
	}
	if invalidRequest(err) {
		return false
	}
	var ue *url.Error
	var ne net.Error
	return errors.As(err, &ue) || errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)
}

// StatusError is a refusal that carries an HTTP status: an *APIError, or an object
// store's answer to an upload. The policy judges it by its status alone.
type StatusError interface {
	error
	HTTPStatus() int
}

func retryableStatus(status int) bool {
	return status == http.StatusTooManyRequests || (status >= 500 && status != http.StatusNotImplemented)
}

// invalidRequest tells a failure that no retry can mend: the request or the server's
// certificate is wrong.
func invalidRequest(err error) bool {
	var (
		cve *tls.CertificateVerificationError
		uae x509.UnknownAuthorityError
		he  x509.HostnameError
		cie x509.CertificateInvalidError
		ae  *net.AddrError // "invalid port", "missing port in address"
	)
	if errors.As(err, &cve) || errors.As(err, &uae) || errors.As(err, &he) || errors.As(err, &cie) || errors.As(err, &ae) {
		return true
	}
	// A refused redirect would be refused again; a host that does not exist does not
	// start to within the minute a retry lasts.
	var re *RedirectError
	if errors.As(err, &re) || NotFoundHost(err) != "" {
		return true
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		if ue.Op == "parse" {
			return true
		}
		msg := ue.Error()
		for _, re := range []*regexp.Regexp{redirectsErrorRe, schemeErrorRe, invalidHeaderErrorRe, notTrustedErrorRe} {
			if re.MatchString(msg) {
				return true
			}
		}
	}
	return false
}

// Wait is how long to wait before attempt n+1 after attempt n failed with err: the
// server's Retry-After (capped at RetryAfterMax) when it gave one, otherwise capped
// exponential backoff with jitter in [d/2, d], so that runners retrying together spread
// out.
func (p Policy) Wait(attempt int, err error) time.Duration {
	p = p.withDefaults()
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.RetryAfter > 0 {
		return min(apiErr.RetryAfter, p.RetryAfterMax)
	}
	d := p.Max
	if attempt >= 1 && attempt < 32 {
		if b := p.Base << (attempt - 1); b > 0 && b < p.Max {
			d = b
		}
	}
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}
