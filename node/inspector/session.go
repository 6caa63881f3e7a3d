package inspector

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

const (
	cookieName = "realtime_inspector"
	kindAdmin  = "admin"
	kindTenant = "tenant"
	// maxSession bounds every session; tenant sessions also end when their JWT expires.
	maxSession = 12 * time.Hour
)

// session is what the cookie carries, signed with a key that lives only in this process (a
// restart logs everyone out, which is fine for a debugging page).
type session struct {
	Kind   string `json:"k"`
	Tenant string `json:"t,omitempty"`
	Exp    int64  `json:"e"`
}

type sessions struct {
	key []byte
	now func() time.Time
}

func newSessions(now func() time.Time) (*sessions, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("inspector session key: %w", err)
	}
	return &sessions{key: key, now: now}, nil
}

func (s *sessions) sign(payload string) string {
	mac := hmac.New(sha256.New, s.key)
	mac.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

func (s *sessions) encode(v session) string {
	body, _ := json.Marshal(v) // a struct of strings and an int cannot fail
	payload := base64.RawURLEncoding.EncodeToString(body)
	return payload + "." + s.sign(payload)
}

func (s *sessions) decode(value string) (session, bool) {
	payload, sig, ok := strings.Cut(value, ".")
	if !ok || !hmac.Equal([]byte(sig), []byte(s.sign(payload))) {
		return session{}, false
	}
	body, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return session{}, false
	}
	var v session
	if json.Unmarshal(body, &v) != nil || s.now().Unix() >= v.Exp {
		return session{}, false
	}
	if v.Kind != kindAdmin && v.Kind != kindTenant {
		return session{}, false
	}
	return v, true
}

func (s *sessions) read(r *http.Request) (session, bool) {
	c, err := r.Cookie(cookieName)
	if err != nil {
		return session{}, false
	}
	return s.decode(c.Value)
}

func (s *sessions) write(w http.ResponseWriter, r *http.Request, v session) {
	http.SetCookie(w, &http.Cookie{
		Name: cookieName, Value: s.encode(v), Path: Path, Expires: time.Unix(v.Exp, 0),
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode,
	})
}

func (s *sessions) clear(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: Path, MaxAge: -1,
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
}
