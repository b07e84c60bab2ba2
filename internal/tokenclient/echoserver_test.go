package tokenclient

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// EchoServer answers every request with the whole request (form or JSON
// body and headers, Authorization included; decoded too) echoed, in the
// given shape, into error, error_description, error_uri, the body, a
// header, a Location or a malformed status line, as a broken or hostile
// issuer could. Shapes: "json", "form", "garbage", "redirect" (307),
// "status-line". It serves the tests of both packages in this directory.
func EchoServer(t *testing.T, status int, shape string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var sb strings.Builder
		fmt.Fprintf(&sb, "%s %s body=%s", r.Method, r.URL, b)
		for k, v := range r.Header {
			fmt.Fprintf(&sb, " %s: %s\n", k, strings.Join(v, ","))
		}
		if form, err := url.ParseQuery(string(b)); err == nil {
			fmt.Fprintf(&sb, " decoded=%q", form) // the secrets in the clear, too
		}
		if u, p, ok := r.BasicAuth(); ok {
			fmt.Fprintf(&sb, " basic=%s:%s", u, p)
		}
		e := sb.String()
		w.Header().Set("X-Echo", strings.ReplaceAll(e, "\n", " "))
		switch shape {
		case "json":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			fmt.Fprintf(w, `{"error":%q,"error_description":%q,"error_uri":%q,"echo":%q}`, e, e, "https://x/"+e, e)
		case "form":
			w.Header().Set("Content-Type", "application/x-www-form-urlencoded")
			w.WriteHeader(status)
			io.WriteString(w, url.Values{"error": {e}, "error_description": {e}}.Encode())
		case "garbage":
			w.Header().Set("Content-Type", "text/html; x="+url.QueryEscape(e))
			w.WriteHeader(status)
			io.WriteString(w, "<html>"+e+"</html>")
		case "redirect":
			w.Header().Set("Location", "https://elsewhere.example/?"+url.QueryEscape(e))
			w.WriteHeader(http.StatusTemporaryRedirect)
		case "status-line":
			// A malformed status line quoting the request: Go's transport
			// puts its code word into its error. The word holds the echo,
			// escaped, and the raw form body.
			hj, _ := w.(http.Hijacker)
			conn, buf, err := hj.Hijack()
			if err != nil {
				return
			}
			defer conn.Close()
			raw := strings.ReplaceAll(string(b), "\r\n", " ")[:min(len(b), 200)]
			fmt.Fprintf(buf, "HTTP/1.1 %s|%s %s\r\n\r\n", url.QueryEscape(e), raw, strings.ReplaceAll(e, "\n", " "))
			buf.Flush()
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}
