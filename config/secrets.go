package config

import (
	"fmt"
	"os"
	"strings"
)

// Secret files: every secret field X may instead be given as X_file, a file
// holding it (its last line ending is dropped), so that the config itself can
// be world-readable. Environment variables in the name are expanded, which is
// how systemd credentials are used: with LoadCredential=trunk:/etc/…, write
// password_file: $CREDENTIALS_DIRECTORY/trunk.

type secretField struct {
	path  string  // of the _file field, for errors
	value *string // where the secret goes
	file  string
}

func (c *Config) secretFields() []secretField {
	out := []secretField{{"sip.trunk.password_file", &c.SIP.Trunk.Password, c.SIP.Trunk.PasswordFile},
		{"notify.smtp.password_file", &c.Notify.SMTP.Password, c.Notify.SMTP.PasswordFile},
		{"notify.sms.password_file", &c.Notify.SMS.Password, c.Notify.SMS.PasswordFile}}
	for i := range c.Webhooks {
		out = append(out, secretField{fmt.Sprintf("webhooks[%d].secret_file", i), &c.Webhooks[i].Secret, c.Webhooks[i].SecretFile})
	}
	if e := c.PBX.Elks; e != nil {
		out = append(out, secretField{"pbx.elks.secret_file", &e.Secret, e.SecretFile},
			secretField{"pbx.elks.password_file", &e.Password, e.PasswordFile})
	}
	for i := range c.PBX.Webhooks {
		out = append(out, secretField{fmt.Sprintf("pbx.webhooks[%d].secret_file", i), &c.PBX.Webhooks[i].Secret, c.PBX.Webhooks[i].SecretFile})
	}
	return out
}

// readSecrets fills each secret given by a file.
func (c *Config) readSecrets() Errors {
	var es Errors
	for _, f := range c.secretFields() {
		if f.file == "" {
			continue
		}
		if *f.value != "" {
			es.add(f.path, "set the secret or its file, not both")
			continue
		}
		name := os.ExpandEnv(f.file)
		if strings.Contains(f.file, "$CREDENTIALS_DIRECTORY") && os.Getenv("CREDENTIALS_DIRECTORY") == "" {
			es.add(f.path, "%q: $CREDENTIALS_DIRECTORY is not set (it is, in a systemd unit with LoadCredential=)", f.file)
			continue
		}
		b, err := os.ReadFile(name)
		if err != nil {
			es.add(f.path, "%v", err)
			continue
		}
		v := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
		if v == "" {
			es.add(f.path, "%s is empty", name)
			continue
		}
		*f.value = v
	}
	return es
}
