package testpeers

import (
	"context"
	"fmt"
	"os/exec"
	"sort"
	"strings"
	"time"
)

// kamailioSchema is the part of Kamailio's db_sqlite schema (standard-create.sql and auth_db-create.sql
// of 5.6) that auth_db needs: the version table and the subscriber table, version 7.
const kamailioSchema = `
CREATE TABLE version (
    id INTEGER PRIMARY KEY NOT NULL,
    table_name VARCHAR(32) NOT NULL,
    table_version INTEGER DEFAULT 0 NOT NULL,
    CONSTRAINT version_table_name_idx UNIQUE (table_name)
);
INSERT INTO version (table_name, table_version) values ('version','1');
CREATE TABLE subscriber (
    id INTEGER PRIMARY KEY NOT NULL,
    username VARCHAR(64) DEFAULT '' NOT NULL,
    domain VARCHAR(64) DEFAULT '' NOT NULL,
    password VARCHAR(64) DEFAULT '' NOT NULL,
    ha1 VARCHAR(128) DEFAULT '' NOT NULL,
    ha1b VARCHAR(128) DEFAULT '' NOT NULL,
    CONSTRAINT subscriber_account_idx UNIQUE (username, domain)
);
CREATE INDEX subscriber_username_idx ON subscriber (username);
INSERT INTO version (table_name, table_version) values ('subscriber','7');
`

// checkUserName accepts SIP user names made of unreserved and user-unreserved characters (RFC 3261).
func checkUserName(u string) error {
	if u == "" || len(u) > 64 {
		return fmt.Errorf("%w: user name %q (want 1..64 characters)", ErrBadOption, u)
	}
	for _, c := range u {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			strings.ContainsRune("-_.!~*'()&=+$,;?/", c)
		if !ok {
			return fmt.Errorf("%w: user name %q contains %q", ErrBadOption, u, c)
		}
	}
	return nil
}

func checkPassword(p string) error {
	if len(p) > 64 || strings.ContainsAny(p, "\x00\r\n\"") {
		return fmt.Errorf("%w: password must be at most 64 characters without quotes or line breaks", ErrBadOption)
	}
	return nil
}

func sqlQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// sqlite runs SQL on the subscriber database with the sqlite3 command-line tool.
func (k *Kamailio) sqlite(sql string) error {
	bin, err := lookPath("sqlite3")
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-bail", "-cmd", ".timeout 5000", k.dbPath)
	cmd.Stdin = strings.NewReader(sql)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("sqlite3 %s: %v: %s", k.dbPath, err, strings.TrimSpace(string(out)))
	}
	return nil
}

func (k *Kamailio) createDB(opts KamailioOptions) error {
	var sb strings.Builder
	sb.WriteString(kamailioSchema)
	users := make([]string, 0, len(opts.Users))
	for u := range opts.Users {
		users = append(users, u)
	}
	sort.Strings(users)
	for _, u := range users {
		if err := checkPassword(opts.Users[u]); err != nil {
			return fmt.Errorf("user %s: %w", u, err)
		}
		fmt.Fprintf(&sb, "INSERT INTO subscriber (username, domain, password) VALUES (%s, %s, %s);\n",
			sqlQuote(u), sqlQuote(opts.Domain), sqlQuote(opts.Users[u]))
	}
	return k.sqlite(sb.String())
}

// AddUser adds a subscriber (or changes its password) while Kamailio runs; the next authentication uses
// it.
func (k *Kamailio) AddUser(user, password string) error {
	if err := checkUserName(user); err != nil {
		return err
	}
	if err := checkPassword(password); err != nil {
		return fmt.Errorf("user %s: %w", user, err)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.sqlite(fmt.Sprintf(
		"INSERT INTO subscriber (username, domain, password) VALUES (%s, %s, %s) "+
			"ON CONFLICT(username, domain) DO UPDATE SET password=excluded.password;\n",
		sqlQuote(user), sqlQuote(k.opts.Domain), sqlQuote(password)))
}

// RemoveUser deletes a subscriber; its registrations stay until they expire (see Unregister).
func (k *Kamailio) RemoveUser(user string) error {
	if err := checkUserName(user); err != nil {
		return err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.sqlite(fmt.Sprintf("DELETE FROM subscriber WHERE username=%s;\n", sqlQuote(user)))
}
