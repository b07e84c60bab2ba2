package bearer_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/credmon/credmon/producer/bearer"
)

var update = flag.Bool("update", false, "rewrite testdata golden files")

func TestDescribe(t *testing.T) {
	tests := []struct {
		name   string
		claims jwt.MapClaims
		now    time.Time
	}{
		{"igwn", igwnClaims(t0.Add(2*time.Hour + 30*time.Minute)), t0},
		{"expired", jwt.MapClaims{"iss": "https://iss.example", "sub": "robot", "aud": []string{"https://a.example", "https://b.example"},
			"scope": "storage.read:/ storage.create:/out", "wlcg.ver": "1.0", "wlcg.groups": []string{"/wlcg", "/wlcg/xfers"},
			"iat": t0.Add(-2 * time.Hour).Unix(), "exp": t0.Add(-time.Hour).Unix()}, t0},
		{"skew-no-exp", jwt.MapClaims{"sub": "x", "nbf": t0.Add(90 * time.Second).Unix(), "iat": t0.Add(90 * time.Second).Unix(),
			"evil": "\x1b]0;pwned\x07", "n": 3, "nested": map[string]any{"k": true}}, t0.In(time.FixedZone("CET", 3600))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info, err := bearer.Inspect(mint(t, tt.claims))
			if err != nil {
				t.Fatal(err)
			}
			got := bearer.Describe(info, tt.now)
			golden := filepath.Join("testdata", "describe-"+tt.name+".golden")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create)", err)
			}
			if got != string(want) {
				t.Errorf("Describe() =\n%s\nwant\n%s", got, want)
			}
			if strings.ContainsRune(got, '\x1b') {
				t.Errorf("Describe() output contains a raw escape character")
			}
		})
	}
	if bearer.Describe(nil, t0) != "" {
		t.Errorf("Describe(nil) != \"\"")
	}
}
