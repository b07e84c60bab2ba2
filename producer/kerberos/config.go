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
// several exist, a setting in an earlier file wins, as in MIT (the files
// are handed to the parser last-first because in gokrb5 the last value
// read wins).
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
	slices.Reverse(texts)
	conf, err := config.NewFromString(strings.Join(texts, "\n"))
	var unsupported config.UnsupportedDirective
	if err != nil && !errors.As(err, &unsupported) {
		return nil, &Error{kind: ErrConfig, msg: fmt.Sprintf("parsing Kerberos configuration %s: %v", strings.Join(found, ":"), err), err: err}
	}
	return conf, nil
}
