package softphone

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"unicode"

	"github.com/emiago/sipgo/sip"
	"go.yaml.in/yaml/v3"
)

// Contact is one entry of the contacts file.
type Contact struct {
	// Name is what the user types (phone call bob) and what is shown for calls.
	Name string `yaml:"name" json:"name"`
	// URI is a SIP URI (sip:bob@example.com) or a user/number on the account's domain.
	URI string `yaml:"uri" json:"uri"`
}

// Contacts resolves names to URIs and back. The zero value (or nil) is empty.
type Contacts struct {
	list []Contact
}

// DefaultContactsPath returns $XDG_CONFIG_HOME/sipedge/contacts.yaml.
func DefaultContactsPath() (string, error) {
	d, err := ConfigDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "contacts.yaml"), nil
}

// LoadContacts reads a contacts file:
//
//	contacts:
//	  - name: Bob
//	    uri: sip:bob@example.com
//
// A missing file is an empty list when optional is true.
func LoadContacts(path string, optional bool) (*Contacts, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if optional && errors.Is(err, fs.ErrNotExist) {
			return &Contacts{}, nil
		}
		return nil, fmt.Errorf("%w: contacts: %v", ErrConfig, err)
	}
	var f struct {
		Contacts []Contact `yaml:"contacts"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: contacts %s: %v", ErrConfig, path, err)
	}
	for i, c := range f.Contacts {
		if strings.TrimSpace(c.Name) == "" {
			return nil, fmt.Errorf("%w: contacts %s: contacts[%d].name is empty", ErrConfig, path, i)
		}
		if strings.TrimSpace(c.URI) == "" {
			return nil, fmt.Errorf("%w: contacts %s: contacts[%d].uri is empty", ErrConfig, path, i)
		}
	}
	return &Contacts{list: f.Contacts}, nil
}

// NewContacts returns a contact list from entries (for tests and programs).
func NewContacts(entries ...Contact) *Contacts { return &Contacts{list: entries} }

// List returns the contacts.
func (cs *Contacts) List() []Contact {
	if cs == nil {
		return nil
	}
	return append([]Contact(nil), cs.list...)
}

// Lookup returns the URI of a contact by name (case-insensitive).
func (cs *Contacts) Lookup(name string) (string, bool) {
	if cs == nil {
		return "", false
	}
	for _, c := range cs.list {
		if strings.EqualFold(c.Name, strings.TrimSpace(name)) {
			return c.URI, true
		}
	}
	return "", false
}

// NameFor returns the contact name of a SIP URI (matched on user@host, or user
// for entries without a host), or "".
func (cs *Contacts) NameFor(u sip.Uri) string {
	if cs == nil {
		return ""
	}
	for _, c := range cs.list {
		var cu sip.Uri
		v := c.URI
		if !strings.HasPrefix(v, "sip:") && !strings.HasPrefix(v, "sips:") {
			if !strings.Contains(v, "@") {
				if v == u.User {
					return c.Name
				}
				continue
			}
			v = "sip:" + v
		}
		if err := sip.ParseUri(v, &cu); err != nil {
			continue
		}
		if cu.User == u.User && strings.EqualFold(cu.Host, u.Host) {
			return c.Name
		}
	}
	return ""
}

// ResolveDestination turns what the user typed into a request URI: a SIP
// URI, user@host, a contact name, or a user/number on the account's domain.
func (p *Phone) ResolveDestination(dest string) (sip.Uri, string, error) {
	d := strings.TrimSpace(dest)
	name := ""
	if d == "" {
		return sip.Uri{}, "", fmt.Errorf("%w: empty destination", ErrBadURI)
	}
	if v, ok := p.opts.Contacts.Lookup(d); ok {
		name, d = contactName(p.opts.Contacts, d), v
	}
	var u sip.Uri
	switch {
	case strings.HasPrefix(d, "sip:") || strings.HasPrefix(d, "sips:"):
	case strings.Contains(d, "@"):
		d = "sip:" + d
	default:
		for _, r := range d {
			if unicode.IsSpace(r) || strings.ContainsRune("<>\"@;:?", r) {
				return sip.Uri{}, "", fmt.Errorf("%w: %q is not a SIP URI, number or contact name", ErrBadURI, dest)
			}
		}
		d = "sip:" + d + "@" + p.acct.Domain
	}
	if err := sip.ParseUri(d, &u); err != nil || u.Host == "" {
		return sip.Uri{}, "", fmt.Errorf("%w: %q is not a valid SIP URI", ErrBadURI, dest)
	}
	if name == "" {
		name = p.opts.Contacts.NameFor(u)
	}
	return u, name, nil
}

func contactName(cs *Contacts, typed string) string {
	for _, c := range cs.list {
		if strings.EqualFold(c.Name, strings.TrimSpace(typed)) {
			return c.Name
		}
	}
	return typed
}
