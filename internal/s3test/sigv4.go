package s3test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// presignV4 signs u for method with AWS Signature V4 query parameters, as of
// t (https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html).
// Only the host header is signed and the payload is UNSIGNED-PAYLOAD, as in
// minio-go's presigned URLs.
func presignV4(method string, u *url.URL, accessKey, secretKey, region string, t time.Time, ttl time.Duration) string {
	t = t.UTC()
	amzDate := t.Format("20060102T150405Z")
	day := t.Format("20060102")
	scope := day + "/" + region + "/s3/aws4_request"

	q := u.Query()
	q.Set("X-Amz-Algorithm", "AWS4-HMAC-SHA256")
	q.Set("X-Amz-Credential", accessKey+"/"+scope)
	q.Set("X-Amz-Date", amzDate)
	q.Set("X-Amz-Expires", strconv.Itoa(int(ttl/time.Second)))
	q.Set("X-Amz-SignedHeaders", "host")
	query := strings.ReplaceAll(q.Encode(), "+", "%20")

	canonical := strings.Join([]string{
		method,
		u.EscapedPath(),
		query,
		"host:" + u.Host + "\n",
		"host",
		"UNSIGNED-PAYLOAD",
	}, "\n")
	sum := sha256.Sum256([]byte(canonical))
	toSign := "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(sum[:])

	key := hmacSHA256([]byte("AWS4"+secretKey), day)
	key = hmacSHA256(key, region)
	key = hmacSHA256(key, "s3")
	key = hmacSHA256(key, "aws4_request")
	sig := hex.EncodeToString(hmacSHA256(key, toSign))

	out := *u
	out.RawQuery = query + "&X-Amz-Signature=" + sig
	return out.String()
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}
