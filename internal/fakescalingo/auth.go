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
func (s *Server) issueJWT(user string) string {
	now := s.now()
	header := b64json(map[string]any{"alg": "HS256", "typ": "JWT"})
	claims := b64json(map[string]any{
		"iss": "fakescalingo",
		"sub": user,
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

// checkJWT verifies a JWT this fake issued and that it has not expired by
// Options.Now; it returns the user (the "sub" claim).
func (s *Server) checkJWT(tok string) (string, error) {
	if tok == "" {
		return "", errNoToken
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 || !hmac.Equal([]byte(s.sign(parts[0]+"."+parts[1])), []byte(parts[2])) {
		return "", errInvalidToken
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", errInvalidToken
	}
	var claims struct {
		Exp int64  `json:"exp"`
		Sub string `json:"sub"`
	}
	if err := json.Unmarshal(raw, &claims); err != nil {
		return "", errInvalidToken
	}
	if s.now().Unix() >= claims.Exp {
		return "", errExpiredToken
	}
	return claims.Sub, nil
}

// checkBearer validates "Authorization: Bearer <JWT>" and answers 401 if
// not; it returns the JWT's user.
func (s *Server) checkBearer(w http.ResponseWriter, r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok {
		tok = ""
	}
	user, err := s.checkJWT(tok)
	switch {
	case err == nil:
		return user, true
	case errors.Is(err, errExpiredToken):
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "token expired"})
	case errors.Is(err, errNoToken) && strings.HasPrefix(h, "Basic "):
		// The regional APIs take bearer tokens only (scalingo-api.md §1.3).
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "bearer token required, exchange your API token first"})
	default:
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "You are not authorized to do this operation"})
	}
	return "", false
}

func (s *Server) authHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/tokens/exchange", func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		switch {
		case ok && user == "" && subtle.ConstantTimeCompare([]byte(pass), []byte(s.opts.APIToken)) == 1:
			writeJSON(w, http.StatusOK, map[string]any{"token": s.issueJWT(fakeUserID)})
		case ok && user == "" && s.opts.CollaboratorToken != "" &&
			subtle.ConstantTimeCompare([]byte(pass), []byte(s.opts.CollaboratorToken)) == 1:
			writeJSON(w, http.StatusOK, map[string]any{"token": s.issueJWT(collaboratorUserID)})
		default:
			writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "invalid credentials"})
		}
	})
	mux.HandleFunc("GET /v1/regions", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			if _, ok := s.checkBearer(w, r); !ok {
				return
			}
		}
		list := []any{}
		for i, rg := range s.regions {
			api := rg.url
			if u := s.opts.ListedAPIURLs[rg.name]; u != "" {
				api = u
			}
			list = append(list, map[string]any{
				"name":         rg.name,
				"display_name": "Fake region (" + rg.name + ")",
				"api":          api,
				"dashboard":    rg.url,
				"database_api": rg.url,
				"ssh":          "127.0.0.1:22",
				"default":      i == 0,
			})
		}
		writeJSON(w, http.StatusOK, map[string]any{"regions": list})
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

func (s *Server) validJWT(tok string) bool {
	_, err := s.checkJWT(tok)
	return err == nil
}
