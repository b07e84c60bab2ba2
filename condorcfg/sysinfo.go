package condorcfg

import (
	"context"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// sysInfo is everything the native loader learns from the host rather than
// from configuration. Tests replace it so that they never read /etc, DNS or
// the real user database.
type sysInfo struct {
	hostname   func() (string, error)
	canonical  func(host string) string // DNS canonical name, "" if unknown
	homeOf     func(user string) (string, bool)
	username   func() (string, bool)
	uid, gid   int
	euid       int
	pid, ppid  int
	searchPath []string // global config candidates tried after CONDOR_CONFIG
	readFile   func(path string) ([]byte, error)
	// listDir returns the names of the non-directory entries of dir
	// (following symbolic links, as HTCondor's Directory class does).
	listDir func(dir string) ([]string, error)
}

func listDir(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range ents {
		if st, err := os.Stat(filepath.Join(dir, e.Name())); err == nil && st.IsDir() {
			continue
		}
		names = append(names, e.Name())
	}
	return names, nil
}

// dnsTimeout bounds the one DNS lookup Load may make (for FULL_HOSTNAME when
// the kernel host name has no domain), so a broken resolver cannot stall
// daemon start-up.
const dnsTimeout = 2 * time.Second

func defaultSysInfo() *sysInfo {
	return &sysInfo{
		hostname: os.Hostname,
		canonical: func(host string) string {
			ctx, cancel := context.WithTimeout(context.Background(), dnsTimeout)
			defer cancel()
			cname, err := net.DefaultResolver.LookupCNAME(ctx, host)
			if err != nil {
				return ""
			}
			return strings.TrimSuffix(cname, ".")
		},
		homeOf: func(name string) (string, bool) {
			u, err := user.Lookup(name)
			if err != nil || u.HomeDir == "" {
				return "", false
			}
			return u.HomeDir, true
		},
		username: func() (string, bool) {
			u, err := user.LookupId(strconv.Itoa(os.Getuid()))
			if err != nil {
				return "", false
			}
			return u.Username, true
		},
		uid: os.Getuid(), gid: os.Getgid(), euid: os.Geteuid(),
		pid: os.Getpid(), ppid: os.Getppid(),
		// find_file() in condor_config.cpp; ~condor/condor_config is added
		// from TILDE at run time.
		searchPath: []string{"/etc/condor/condor_config", "/usr/local/etc/condor_config"},
		listDir:    listDir,
	}
}

// condorArch is sysapi_condor_arch() for the platforms Go runs HTCondor on.
func condorArch() string {
	switch runtime.GOARCH {
	case "amd64":
		return "X86_64"
	case "386":
		return "INTEL"
	case "arm64":
		return "aarch64"
	case "ppc64le":
		return "ppc64le"
	}
	return runtime.GOARCH
}

// condorOpSys is sysapi_opsys().
func condorOpSys() string {
	switch runtime.GOOS {
	case "linux":
		return "LINUX"
	case "darwin":
		return "macOS"
	case "windows":
		return "WINDOWS"
	}
	return strings.ToUpper(runtime.GOOS)
}

// unameArch is what uname(2) reports as the machine.
func unameArch() string {
	switch runtime.GOARCH {
	case "amd64":
		return "x86_64"
	case "386":
		return "i686"
	case "arm64":
		return "aarch64"
	}
	return runtime.GOARCH
}
