package scalingo

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// SourceTTL is how long a source's signed URLs live.
const SourceTTL = 10 * time.Minute

// sourceMargin is kept in hand before a source expires: an upload started later could be
// cut off by the expiry, or leave too little time to create the deployment.
const sourceMargin = 90 * time.Second

// ErrSourceExpired means the signed URLs expired (or were about to): create a new source.
var ErrSourceExpired = errors.New("the source's signed URL has expired")

// UploadError is a refusal from the object store.
type UploadError struct {
	URL        string // redacted
	StatusCode int
	Code       string // S3's error code, e.g. SignatureDoesNotMatch
	Message    string
}

// HTTPStatus is the store's status: the retry policy judges the refusal by it.
func (e *UploadError) HTTPStatus() int { return e.StatusCode }

func (e *UploadError) Error() string {
	s := fmt.Sprintf("PUT %s: HTTP %d %s", e.URL, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Code != "" {
		s += ": " + e.Code
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// UploadTimeout bounds the upload of size bytes by its size rather than by a fixed cut:
// two minutes plus a second per 256 KiB, i.e. a floor of 256 KiB/s.
func UploadTimeout(size int64) time.Duration {
	return 2*time.Minute + time.Duration(size/(256<<10))*time.Second
}

// Expired reports whether src's URLs are expired or too close to expiring to use.
func (c *Client) Expired(src *Source) bool {
	return c.clk.Now().Sub(src.CreatedAt) > SourceTTL-sourceMargin
}

// Upload PUTs body's size bytes (each attempt reads afresh from 0) to src's upload URL.
// It sends a real Content-Length (object stores refuse chunked bodies), Content-Type
// application/x-gzip (Scalingo's builder refuses anything else when it fetches the
// source) and no Authorization header. Redirects are followed by re-sending the same
// PUT, at most three hops; what the client's Policy calls transient (transport errors,
// 429, 5xx) is retried with a fresh request. It returns ErrSourceExpired when the
// URL expired, so that the caller creates a new source.
func (c *Client) Upload(ctx context.Context, src *Source, body io.ReaderAt, size int64) error {
	ctx, cancel := context.WithTimeout(ctx, UploadTimeout(size))
	defer cancel()

	for attempt := 1; ; attempt++ {
		if c.Expired(src) {
			return ErrSourceExpired
		}
		err := c.put(ctx, src.UploadURL, body, size)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			if cause := context.Cause(ctx); !errors.Is(cause, context.DeadlineExceeded) {
				return cause
			}
			return fmt.Errorf("upload %d bytes: timed out: %w", size, err)
		}
		if !c.policy.Retryable(err) || attempt >= c.policy.MaxAttempts {
			return err
		}
		wait := c.policy.Wait(attempt, err)
		c.opts.Logf("upload failed (%s); retry %d/%d in %s", short(err), attempt, c.policy.MaxAttempts-1, wait.Round(time.Millisecond))
		if err := c.sleep(ctx, wait); err != nil {
			return err
		}
	}
}

// put sends one PUT, following redirects by hand.
func (c *Client) put(ctx context.Context, rawURL string, body io.ReaderAt, size int64) error {
	target := rawURL
	for hop := 0; ; hop++ {
		getBody := func() (io.ReadCloser, error) { return io.NopCloser(io.NewSectionReader(body, 0, size)), nil }
		rc, _ := getBody()
		req, err := http.NewRequestWithContext(ctx, http.MethodPut, target, rc)
		if err != nil {
			return fmt.Errorf("upload: bad URL %s", Redact(target))
		}
		req.ContentLength = size
		req.GetBody = getBody
		req.Header.Set("Content-Type", "application/x-gzip")
		req.Header.Set("User-Agent", c.opts.UserAgent)
		resp, err := c.storage.Do(req) // closes rc
		if err != nil {
			return fmt.Errorf("upload: %w", redactErr(err))
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 8<<10))
		resp.Body.Close()

		switch resp.StatusCode {
		case http.StatusMovedPermanently, http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
			loc := resp.Header.Get("Location")
			if loc == "" {
				// S3's wrong-region PermanentRedirect comes without a Location.
				return uploadError(target, resp.StatusCode, body)
			}
			if hop >= 3 {
				return fmt.Errorf("upload: more than 3 redirects, last to %s", Redact(loc))
			}
			next, err := url.Parse(target)
			if err == nil {
				next, err = next.Parse(loc)
			}
			if err != nil {
				return fmt.Errorf("upload: bad redirect to %s", Redact(loc))
			}
			target = next.String()
			continue
		}
		if resp.StatusCode >= 200 && resp.StatusCode < 300 {
			return nil
		}
		return uploadError(target, resp.StatusCode, body)
	}
}

func uploadError(target string, status int, body []byte) error {
	var s3 struct {
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	}
	e := &UploadError{URL: Redact(target), StatusCode: status}
	if xml.Unmarshal(body, &s3) == nil {
		e.Code, e.Message = s3.Code, oneLine(s3.Message)
	} else {
		e.Message = oneLine(string(body))
	}
	if status == http.StatusForbidden && strings.Contains(strings.ToLower(e.Message), "expired") {
		return fmt.Errorf("%w: %w", ErrSourceExpired, e)
	}
	return e
}
