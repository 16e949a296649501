package fakescalingo

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
)

// issueJWT returns an HS256 JWT with the registered claims typed as the
// official client's parser insists: "exp" a number, "jti" a string.
func (s *Server) issueJWT() string {
	now := s.now()
	header := b64json(map[string]any{"alg": "HS256", "typ": "JWT"})
	claims := b64json(map[string]any{
		"iss": "fakescalingo",
		"sub": fakeUserID,
		"iat": now.Unix(),
		"exp": now.Add(s.opts.JWTLifetime).Unix(),
		"jti": newUUID(),
	})
	return header + "." + claims + "." + s.sign(header+"."+claims)
}

func (s *Server) sign(data string) string {
	m := hmac.New(sha256.New, s.jwtKey)
	m.Write([]byte(data))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

var (
	errNoToken      = errors.New("no bearer token")
	errInvalidToken = errors.New("invalid token")
	errExpiredToken = errors.New("token expired")
)

// checkJWT verifies a JWT this fake issued and that it has not expired by Options.Now.
func (s *Server) checkJWT(tok string) error {
	if tok == "" {
		return errNoToken
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 || !hmac.Equal([]byte(s.sign(parts[0]+"."+parts[1])), []byte(parts[2])) {
		return errInvalidToken
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return errInvalidToken
	}
	var claims struct {
		Exp int64 `json:"exp"`
	}
	if err := json.Unmarshal(raw, &claims); err != nil {
		return errInvalidToken
	}
	if s.now().Unix() >= claims.Exp {
		return errExpiredToken
	}
	return nil
}

// checkBearer validates "Authorization: Bearer <JWT>" and answers 401 if not.
func (s *Server) checkBearer(w http.ResponseWriter, r *http.Request) bool {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok {
		tok = ""
	}
	switch err := s.checkJWT(tok); {
	case err == nil:
		return true
	case errors.Is(err, errExpiredToken):
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "token expired"})
	case errors.Is(err, errNoToken) && strings.HasPrefix(h, "Basic "):
		// The regional APIs take bearer tokens only (scalingo-api.md §1.3).
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "bearer token required, exchange your API token first"})
	default:
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "You are not authorized to do this operation"})
	}
	return false
}

func (s *Server) authHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/tokens/exchange", func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		if !ok || user != "" || subtle.ConstantTimeCompare([]byte(pass), []byte(s.opts.APIToken)) != 1 {
			writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "invalid credentials"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"token": s.issueJWT()})
	})
	mux.HandleFunc("GET /v1/regions", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" && !s.checkBearer(w, r) {
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"regions": []any{map[string]any{
			"name":         s.opts.Region,
			"display_name": "Fake region (" + s.opts.Region + ")",
			"api":          s.APIURL,
			"dashboard":    s.APIURL,
			"database_api": s.APIURL,
			"ssh":          "127.0.0.1:22",
			"default":      true,
		}}})
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]any{"error": "not found"})
	})
	return mux
}

func b64json(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
