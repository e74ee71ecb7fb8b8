package main

import (
	"bufio"
	"fmt"
	"strings"

	"github.com/sipedge/sipedge/userdb"
)

func userCmd(args []string, e env) error {
	if len(args) == 0 {
		return usageError{"usage: edge user add|list|remove ..."}
	}
	sub, args := args[0], args[1:]
	fs := newFlagSet("user "+sub, e)
	cfgPath := fs.String("config", "", "configuration file (embedded defaults when empty)")
	var role *string
	var pwStdin *bool
	if sub == "add" {
		role = fs.String("role", "", "role(s) of the user, comma separated")
		pwStdin = fs.Bool("password-stdin", false, "read the password from the first line of standard input")
	}
	// Allow NAME before or after flags.
	var name string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if name == "" && fs.NArg() > 0 {
		name = fs.Arg(0)
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	db, err := userdb.Open(cfg.Path(cfg.Auth.UsersFile))
	if err != nil {
		return err
	}
	switch sub {
	case "list":
		users := db.List()
		if len(users) == 0 {
			fmt.Fprintln(e.stdout, "no users in", cfg.Path(cfg.Auth.UsersFile))
		}
		for _, u := range users {
			fmt.Fprintf(e.stdout, "%s\trealm=%s\troles=%s\n", u.Name, u.Realm, strings.Join(u.Roles, ","))
		}
		return nil
	case "add":
		if name == "" {
			return usageError{"usage: edge user add NAME [--role ROLE] [--password-stdin]"}
		}
		var roles []string
		for _, r := range strings.Split(*role, ",") {
			if r = strings.TrimSpace(r); r != "" {
				roles = append(roles, r)
			}
		}
		password, generated := "", false
		if *pwStdin {
			line, err := bufio.NewReader(e.stdin).ReadString('\n')
			password = strings.TrimRight(line, "\r\n")
			if password == "" {
				return fmt.Errorf("no password on standard input (%v)", err)
			}
		} else {
			if password, err = userdb.GeneratePassword(16); err != nil {
				return err
			}
			generated = true
		}
		if err := db.Add(name, cfg.Auth.Realm, password, roles); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "added %s (realm %s) to %s\n", name, cfg.Auth.Realm, cfg.Path(cfg.Auth.UsersFile))
		if generated {
			fmt.Fprintf(e.stdout, "password: %s\n(shown once; only its hash is stored)\n", password)
		}
		return nil
	case "remove":
		if name == "" {
			return usageError{"usage: edge user remove NAME"}
		}
		if err := db.Remove(name); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "removed %s\n", name)
		return nil
	}
	return usageError{fmt.Sprintf("unknown user command %q (add, list, remove)", sub)}
}
