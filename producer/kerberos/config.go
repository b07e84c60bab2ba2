package kerberos

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/jcmturner/gokrb5/v8/config"
)

// DefaultKrb5Conf is MIT's krb5.conf when $KRB5_CONFIG is unset.
const DefaultKrb5Conf = "/etc/krb5.conf"

// maxFileSize bounds what is read from a krb5.conf, keytab or ticket
// cache. Real ones are a few KiB; a larger file is a mistake (a wrong path)
// that must not be read into memory.
const maxFileSize = 1 << 20

// LoadConfig reads the Kerberos configuration the way MIT does: path when
// given, else the colon-separated list in $KRB5_CONFIG, else
// /etc/krb5.conf. Files of a list that do not exist are skipped; when
// several exist, a setting in an earlier file wins, as in MIT.
func LoadConfig(path string) (*config.Config, error) {
	list := path
	if list == "" {
		list = os.Getenv("KRB5_CONFIG")
	}
	if list == "" {
		list = DefaultKrb5Conf
	}
	var found []string
	var texts []string
	for _, p := range strings.Split(list, ":") {
		if p == "" {
			continue
		}
		b, err := readSmallFile(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, &Error{kind: ErrConfig, msg: fmt.Sprintf("reading Kerberos configuration %s: %v", p, err), err: err}
		}
		found = append(found, p)
		texts = append(texts, string(b))
	}
	if len(found) == 0 {
		return nil, &Error{kind: ErrConfig, msg: fmt.Sprintf("no Kerberos configuration: %s does not exist (set KRB5_CONFIG)", list)}
	}
	conf, err := config.NewFromString(mergeConfigs(texts))
	var unsupported config.UnsupportedDirective
	if err != nil && !errors.As(err, &unsupported) {
		return nil, &Error{kind: ErrConfig, msg: fmt.Sprintf("parsing Kerberos configuration %s: %v", strings.Join(found, ":"), err), err: err}
	}
	return conf, nil
}

// mergeConfigs joins krb5.conf texts into one that gokrb5 reads as MIT
// reads the list: gokrb5 keeps only the last of two sections of the same
// name, and the last value of a setting, so each section's bodies are
// gathered under one header, the earliest file's last. Lines before the
// first section (MIT's include directives) are dropped: gokrb5 ignores
// them too.
func mergeConfigs(texts []string) string {
	var order []string
	bodies := map[string][]string{}
	for _, text := range texts {
		section := ""
		var cur strings.Builder
		flush := func() {
			if section == "" {
				return
			}
			if _, ok := bodies[section]; !ok {
				order = append(order, section)
			}
			bodies[section] = append(bodies[section], cur.String())
		}
		for _, line := range strings.Split(text, "\n") {
			t := strings.TrimSpace(line)
			if strings.HasPrefix(t, "[") && strings.HasSuffix(t, "]") {
				flush()
				section, cur = strings.TrimSpace(t[1:len(t)-1]), strings.Builder{}
				continue
			}
			cur.WriteString(line + "\n")
		}
		flush()
	}
	var out strings.Builder
	for _, name := range order {
		b := slices.Clone(bodies[name])
		slices.Reverse(b)
		out.WriteString("[" + name + "]\n" + strings.Join(b, ""))
	}
	return out.String()
}
