package softphone

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// AppDir is the directory name used under the XDG config and data directories.
const AppDir = "sipedge"

// ConfigDir returns $XDG_CONFIG_HOME/sipedge (default ~/.config/sipedge).
func ConfigDir() (string, error) {
	base, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("%w: config directory: %v", ErrConfig, err)
	}
	return filepath.Join(base, AppDir), nil
}

// DataDir returns $XDG_DATA_HOME/sipedge (default ~/.local/share/sipedge).
func DataDir() (string, error) {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, AppDir), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("%w: data directory: %v", ErrConfig, err)
	}
	return filepath.Join(home, ".local", "share", AppDir), nil
}

// DefaultConfigPath returns the default phone config file path.
func DefaultConfigPath() (string, error) {
	d, err := ConfigDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "phone.yaml"), nil
}

var uuidRe = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

var safeName = regexp.MustCompile(`[^A-Za-z0-9._-]`)

// InstanceID returns the stable RFC 5626 instance UUID of an account, creating
// and storing it in dataDir/instance-<account>.uuid on first use.
func InstanceID(dataDir, account string) (string, error) {
	if dataDir == "" {
		return "", fmt.Errorf("%w: no data directory for the instance id", ErrConfig)
	}
	path := filepath.Join(dataDir, "instance-"+safeName.ReplaceAllString(account, "_")+".uuid")
	if b, err := os.ReadFile(path); err == nil {
		id := strings.TrimSpace(string(b))
		if uuidRe.MatchString(id) {
			return id, nil
		}
		return "", fmt.Errorf("%w: %s does not hold a UUID; delete it to create a new instance id", ErrConfig, path)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("%w: read %s: %v", ErrConfig, path, err)
	}
	id := newUUID()
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return "", fmt.Errorf("%w: create %s: %v", ErrConfig, dataDir, err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(id+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("%w: write %s: %v", ErrConfig, tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return "", fmt.Errorf("%w: write %s: %v", ErrConfig, path, err)
	}
	return id, nil
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// newSessionNumber returns a random positive 62-bit number for SDP session ids.
func newSessionNumber() int64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	v := int64(0)
	for _, x := range b {
		v = v<<8 | int64(x)
	}
	return v & (1<<62 - 1)
}
