package userdb

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAddListRemovePersist(t *testing.T) {
	p := filepath.Join(t.TempDir(), "d", "users.yaml")
	db, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Add("alice", "sipedge", "s3cret", []string{"staff"}); err != nil {
		t.Fatal(err)
	}
	if err := db.Add("alice", "sipedge", "x", nil); !errors.Is(err, ErrExists) {
		t.Fatalf("dup: %v", err)
	}
	if err := db.Add("bad name", "sipedge", "x", nil); !errors.Is(err, ErrInvalidName) {
		t.Fatalf("bad name: %v", err)
	}
	db.Add("bob", "sipedge", "pw", nil)
	raw, _ := os.ReadFile(p)
	if strings.Contains(string(raw), "s3cret") {
		t.Fatal("plain password stored")
	}
	db2, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	u, ok := db2.Lookup("alice")
	if !ok || u.HA1MD5 != HA1("MD5", "alice", "sipedge", "s3cret") || u.Roles[0] != "staff" {
		t.Fatalf("lookup %+v", u)
	}
	// RFC 2617 3.5 example: Mufasa:testrealm@host.com:Circle Of Life
	if got := HA1("MD5", "Mufasa", "testrealm@host.com", "Circle Of Life"); got != "939e7578ed9e3c518a452acee763bce9" {
		t.Fatalf("HA1 MD5 %s", got)
	}
	if err := db2.Remove("alice"); err != nil {
		t.Fatal(err)
	}
	if err := db2.Remove("alice"); !errors.Is(err, ErrNotFound) {
		t.Fatal(err)
	}
	if l := db2.List(); len(l) != 1 || l[0].Name != "bob" {
		t.Fatalf("list %+v", l)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", fi.Mode())
	}
}

func TestBadFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "users.yaml")
	os.WriteFile(p, []byte("users:\n  - name: alice\n    ha1_md5: abc\n"), 0o600)
	if _, err := Open(p); !errors.Is(err, ErrBadFile) {
		t.Fatalf("err %v", err)
	}
	os.WriteFile(p, []byte("people: []\n"), 0o600)
	if _, err := Open(p); !errors.Is(err, ErrBadFile) {
		t.Fatalf("unknown key: %v", err)
	}
	pw, _ := GeneratePassword(16)
	if len(pw) != 16 {
		t.Fatal(pw)
	}
}
