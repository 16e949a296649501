package fakescalingo

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// storageTarget is the storage URL a front request stands for.
func (s *Server) storageTarget(r *http.Request) (string, bool) {
	s.mu.Lock()
	src := s.sources[r.URL.Path]
	s.mu.Unlock()
	if src == nil {
		return "", false
	}
	return src.put.Scheme + "://" + src.put.Host + r.URL.RequestURI(), true
}

// serveStorageFront forwards an upload to the storage that signed it,
// unchanged: the storage's own rules (signature, expiry, Content-Length)
// decide. Faults were applied before this by the middleware.
func (s *Server) serveStorageFront(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	src := s.sources[r.URL.Path]
	s.mu.Unlock()
	if src == nil {
		writeS3Error(w, http.StatusForbidden, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided.")
		return
	}
	if r.Method == http.MethodPut && r.ContentLength < 0 {
		// S3 refuses a chunked PUT (411) at once and closes the connection;
		// forwarding the body would race with that close and turn the answer
		// into a broken pipe, so answer as the storage would.
		w.Header().Set("Connection", "close") // and do not wait for the body
		writeS3Error(w, http.StatusLengthRequired, "MissingContentLength", "You must provide the Content-Length HTTP header.")
		return
	}
	target := &url.URL{Scheme: src.put.Scheme, Host: src.put.Host}
	proxy := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target) // also sets Host: the host is part of the signature
			pr.Out.Header.Set(forwardedHeader, "front")
		},
		Transport: s.transport,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			writeS3Error(w, http.StatusBadGateway, "BadGateway", "fakescalingo could not reach the storage")
		},
	}
	proxy.ServeHTTP(w, r)
}

// blobStore is the built-in S3-like storage. Its URLs look like S3 SigV4
// presigned URLs; the signature is an HMAC over method, path, query and host.
type blobStore struct {
	url string
	now func() time.Time
	key []byte

	mu      sync.Mutex
	objects map[string]blob
}

type blob struct {
	data        []byte
	contentType string
}

const blobBucket = "fake-sources"

func (b *blobStore) Presign(_ context.Context, key string, ttl time.Duration) (string, string, error) {
	return b.sign(http.MethodPut, key, ttl), b.sign(http.MethodGet, key, ttl), nil
}

func (b *blobStore) sign(method, key string, ttl time.Duration) string {
	u, _ := url.Parse(b.url)
	u.Path = "/" + blobBucket + "/" + key
	now := b.now().UTC()
	q := url.Values{}
	q.Set("X-Amz-Algorithm", "AWS4-HMAC-SHA256")
	q.Set("X-Amz-Credential", "FAKEACCESSKEY/"+now.Format("20060102")+"/us-east-1/s3/aws4_request")
	q.Set("X-Amz-Date", now.Format("20060102T150405Z"))
	q.Set("X-Amz-Expires", strconv.Itoa(int(ttl/time.Second)))
	q.Set("X-Amz-SignedHeaders", "host")
	u.RawQuery = q.Encode()
	u.RawQuery += "&X-Amz-Signature=" + b.signature(method, u.Host, u.Path, q)
	return u.String()
}

func (b *blobStore) signature(method, host, path string, q url.Values) string {
	q = cloneValues(q)
	q.Del("X-Amz-Signature")
	m := hmac.New(sha256.New, b.key)
	io.WriteString(m, method+"\n"+path+"\n"+q.Encode()+"\n"+host)
	return hex.EncodeToString(m.Sum(nil))
}

func cloneValues(q url.Values) url.Values {
	out := url.Values{}
	for k, v := range q {
		out[k] = append([]string(nil), v...)
	}
	return out
}

func (b *blobStore) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if r.Header.Get("Authorization") != "" && q.Get("X-Amz-Algorithm") != "" {
		writeS3Error(w, http.StatusBadRequest, "InvalidArgument", "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified")
		return
	}
	sig := q.Get("X-Amz-Signature")
	if sig == "" || q.Get("X-Amz-Date") == "" || q.Get("X-Amz-Expires") == "" {
		writeS3Error(w, http.StatusForbidden, "AccessDenied", "Access Denied")
		return
	}
	if !hmac.Equal([]byte(sig), []byte(b.signature(r.Method, r.Host, r.URL.Path, q))) {
		writeS3Error(w, http.StatusForbidden, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your key and signing method.")
		return
	}
	date, err := time.Parse("20060102T150405Z", q.Get("X-Amz-Date"))
	expires, err2 := strconv.Atoi(q.Get("X-Amz-Expires"))
	if err != nil || err2 != nil {
		writeS3Error(w, http.StatusForbidden, "AccessDenied", "Access Denied")
		return
	}
	if b.now().After(date.Add(time.Duration(expires) * time.Second)) {
		writeS3Error(w, http.StatusForbidden, "AccessDenied", "Request has expired")
		return
	}
	key := strings.TrimPrefix(r.URL.Path, "/"+blobBucket+"/")
	switch r.Method {
	case http.MethodPut:
		if r.ContentLength < 0 {
			w.Header().Set("Connection", "close") // answer without reading the body, as S3 does
			writeS3Error(w, http.StatusLengthRequired, "MissingContentLength", "You must provide the Content-Length HTTP header.")
			return
		}
		data, err := io.ReadAll(r.Body)
		if err != nil {
			return // the client went away mid-body: store nothing
		}
		ct := r.Header.Get("Content-Type")
		if ct == "" {
			ct = "binary/octet-stream"
		}
		b.mu.Lock()
		b.objects[key] = blob{data: data, contentType: ct}
		b.mu.Unlock()
		sum := sha256.Sum256(data)
		w.Header().Set("ETag", `"`+hex.EncodeToString(sum[:16])+`"`)
		w.WriteHeader(http.StatusOK)
	case http.MethodGet, http.MethodHead:
		b.mu.Lock()
		obj, ok := b.objects[key]
		b.mu.Unlock()
		if !ok {
			writeS3Error(w, http.StatusNotFound, "NoSuchKey", "The specified key does not exist.")
			return
		}
		w.Header().Set("Content-Type", obj.contentType)
		w.Header().Set("Content-Length", strconv.Itoa(len(obj.data)))
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodGet {
			w.Write(obj.data)
		}
	default:
		writeS3Error(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "The specified method is not allowed against this resource.")
	}
}

// Object returns what the built-in storage holds under key (the key is the
// path of upload_url after /fake-sources/). ok is false for an external Storage.
func (s *Server) Object(key string) (data []byte, contentType string, ok bool) {
	if s.blobs == nil {
		return nil, "", false
	}
	s.blobs.mu.Lock()
	defer s.blobs.mu.Unlock()
	o, ok := s.blobs.objects[key]
	return o.data, o.contentType, ok
}
