// Package userdb is the edge's users file for local authentication: user names, roles and digest HA1
// hashes (MD5 and SHA-256, RFC 7616). Plain passwords are never stored.
package userdb

import (
	"bytes"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"
)

// Errors.
var (
	ErrExists      = errors.New("user already exists")
	ErrNotFound    = errors.New("no such user")
	ErrInvalidName = errors.New("invalid user name")
	ErrBadFile     = errors.New("invalid users file")
)

// User is one entry of the users file.
type User struct {
	Name      string   `yaml:"name"`
	Realm     string   `yaml:"realm"`
	HA1MD5    string   `yaml:"ha1_md5"`
	HA1SHA256 string   `yaml:"ha1_sha256"`
	Roles     []string `yaml:"roles,omitempty"`
}

type fileFormat struct {
	Users []User `yaml:"users"`
}

// DB is a users file loaded in memory. Lookups are safe for concurrent use; Reload re-reads the file.
type DB struct {
	path  string
	mu    sync.RWMutex
	users map[string]User

	statMu    sync.Mutex
	checked   time.Time // last time the file's modification time was looked at
	loadedMod time.Time // modification time of the contents in memory
}

var nameRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$`)

// ValidName reports whether name can be a SIP user part we accept (letters, digits, . _ + -; max 64).
func ValidName(name string) error {
	if !nameRe.MatchString(name) {
		return fmt.Errorf("%w %q: use 1-64 letters, digits, '.', '_', '+' or '-', starting with a letter or digit", ErrInvalidName, name)
	}
	return nil
}

// Open loads path; a missing file is an empty database (created on first Add).
func Open(path string) (*DB, error) {
	db := &DB{path: path}
	return db, db.Reload()
}

// refresh reloads the file when it changed on disk (`edge user add` from another process), looking at
// most once a second. A file that became invalid keeps the previous users in use.
func (db *DB) refresh() {
	db.statMu.Lock()
	defer db.statMu.Unlock()
	now := time.Now()
	if now.Sub(db.checked) < time.Second {
		return
	}
	db.checked = now
	st, err := os.Stat(db.path)
	var mod time.Time
	if err == nil {
		mod = st.ModTime()
	}
	db.mu.RLock()
	changed := !mod.Equal(db.loadedMod)
	db.mu.RUnlock()
	if changed {
		_ = db.Reload()
	}
}

// Reload re-reads the file. On error the previous contents stay in use.
func (db *DB) Reload() error {
	var mod time.Time
	if st, err := os.Stat(db.path); err == nil {
		mod = st.ModTime()
	}
	defer func() {
		db.mu.Lock()
		db.loadedMod = mod
		db.mu.Unlock()
	}()
	data, err := os.ReadFile(db.path)
	if errors.Is(err, os.ErrNotExist) {
		db.mu.Lock()
		db.users = map[string]User{}
		db.mu.Unlock()
		return nil
	}
	if err != nil {
		return err
	}
	var f fileFormat
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && len(data) > 0 {
		return fmt.Errorf("%w %s: %v", ErrBadFile, db.path, err)
	}
	users := map[string]User{}
	for i, u := range f.Users {
		if err := ValidName(u.Name); err != nil {
			return fmt.Errorf("%w %s: users[%d]: %v", ErrBadFile, db.path, i, err)
		}
		if len(u.HA1MD5) != 32 || len(u.HA1SHA256) != 64 {
			return fmt.Errorf("%w %s: users[%d] (%s): ha1_md5 must be 32 and ha1_sha256 64 hex digits", ErrBadFile, db.path, i, u.Name)
		}
		if _, dup := users[u.Name]; dup {
			return fmt.Errorf("%w %s: users[%d]: %s appears twice", ErrBadFile, db.path, i, u.Name)
		}
		users[u.Name] = u
	}
	db.mu.Lock()
	db.users = users
	db.mu.Unlock()
	return nil
}

// Lookup returns the user called name. Changes to the file by another process are picked up within a
// second.
func (db *DB) Lookup(name string) (User, bool) {
	db.refresh()
	db.mu.RLock()
	defer db.mu.RUnlock()
	u, ok := db.users[name]
	return u, ok
}

// List returns all users sorted by name.
func (db *DB) List() []User {
	db.mu.RLock()
	defer db.mu.RUnlock()
	out := make([]User, 0, len(db.users))
	for _, u := range db.users {
		out = append(out, u)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Add creates a user with the HA1 hashes of password in realm and saves the file.
func (db *DB) Add(name, realm, password string, roles []string) error {
	if err := ValidName(name); err != nil {
		return err
	}
	if password == "" {
		return errors.New("empty password")
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	if _, ok := db.users[name]; ok {
		return fmt.Errorf("%w: %s", ErrExists, name)
	}
	db.users[name] = User{Name: name, Realm: realm, HA1MD5: HA1("MD5", name, realm, password),
		HA1SHA256: HA1("SHA-256", name, realm, password), Roles: roles}
	return db.saveLocked()
}

// Remove deletes a user and saves the file.
func (db *DB) Remove(name string) error {
	db.mu.Lock()
	defer db.mu.Unlock()
	if _, ok := db.users[name]; !ok {
		return fmt.Errorf("%w: %s", ErrNotFound, name)
	}
	delete(db.users, name)
	return db.saveLocked()
}

func (db *DB) saveLocked() error {
	f := fileFormat{Users: make([]User, 0, len(db.users))}
	for _, u := range db.users {
		f.Users = append(f.Users, u)
	}
	sort.Slice(f.Users, func(i, j int) bool { return f.Users[i].Name < f.Users[j].Name })
	data, err := yaml.Marshal(f)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(db.path), 0o700); err != nil {
		return err
	}
	tmp := db.path + ".tmp"
	if err := os.WriteFile(tmp, append([]byte("# sipedge users: HA1 digests only. Manage with 'edge user'.\n"), data...), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, db.path)
}

// HA1 computes H(user:realm:password) with algorithm "MD5" or "SHA-256" as lowercase hex.
func HA1(alg, user, realm, password string) string {
	s := user + ":" + realm + ":" + password
	if alg == "SHA-256" {
		h := sha256.Sum256([]byte(s))
		return hex.EncodeToString(h[:])
	}
	h := md5.Sum([]byte(s))
	return hex.EncodeToString(h[:])
}

// GeneratePassword returns a random password of n characters from an unambiguous alphabet.
func GeneratePassword(n int) (string, error) {
	const alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, n)
	for i := range b {
		k, err := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		if err != nil {
			return "", err
		}
		b[i] = alphabet[k.Int64()]
	}
	return string(b), nil
}
