package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/peerline/peerline/config"
)

func TestSecretsFromFiles(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "trunk"), []byte("trunk-hemlis\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "hook"), []byte("hook-hemlis"), 0o600)
	t.Setenv("CREDENTIALS_DIRECTORY", dir)
	cfg, err := config.Parse([]byte(`sip: {trunk: {password_file: $CREDENTIALS_DIRECTORY/trunk}}
webhooks: [{url: "https://office.example/hook", secret_file: ` + filepath.Join(dir, "hook") + `}]
`))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.SIP.Trunk.Password != "trunk-hemlis" || cfg.Webhooks[0].Secret != "hook-hemlis" {
		t.Errorf("secrets: %q %q", cfg.SIP.Trunk.Password, cfg.Webhooks[0].Secret)
	}
	out, _ := cfg.Masked().YAML()
	if strings.Contains(string(out), "hemlis") || !strings.Contains(string(out), "password_file: $CREDENTIALS_DIRECTORY/trunk") {
		t.Errorf("config print:\n%s", out)
	}

	t.Setenv("CREDENTIALS_DIRECTORY", "")
	_, err = config.Parse([]byte(`sip: {trunk: {password: x, password_file: /etc/x}}
webhooks: [{url: "https://office.example/hook", secret_file: /nowhere/hook}]
pbx: {webhooks: [{name: elks, auth: bearer, secret_file: $CREDENTIALS_DIRECTORY/elks}]}
`))
	for _, want := range []string{"sip.trunk.password_file: set the secret or its file, not both",
		"webhooks[0].secret_file: open /nowhere/hook: no such file or directory",
		"pbx.webhooks[0].secret_file: \"$CREDENTIALS_DIRECTORY/elks\": $CREDENTIALS_DIRECTORY is not set"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want %q in:\n%v", want, err)
		}
	}
}
