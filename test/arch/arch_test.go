// Package arch_test keeps ARCHITECTURE.md's import rules true: each package's
// own (non-test) imports from this module must be among those its rule allows.
package arch_test

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/peerline/peerline/"

// rules: the first prefix that matches a package gives the prefixes it may
// import from this module. Adapters (pbx, web) sit beside each other and never
// meet; line and roster know nothing of telephony or HTTP; media knows nothing
// of the line at all.
var rules = []struct {
	pkg   string
	allow []string
}{
	{"cmd/", []string{""}},
	{"test/", []string{""}},
	{"config", []string{"internal/phone"}},
	{"internal/phone", nil},
	{"internal/", []string{"config", "internal/"}},
	{"roster", []string{"config", "internal/"}},
	{"line/hours", []string{"config"}},
	{"line", []string{"config", "internal/", "roster", "line"}},
	{"pbx/media", []string{"pbx/media", "internal/rawudp"}},
	{"pbx/", []string{"config", "internal/", "line", "pbx/"}},
	{"web", []string{"config", "internal/", "roster", "line", "web"}},
	{"notify", []string{"config", "internal/", "roster", "line/hours", "notify"}},
}

func TestImportsFollowTheMap(t *testing.T) {
	cmd := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, "../../...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	n := 0
	for _, row := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(row)
		pkg := strings.TrimPrefix(f[0], module)
		allow, ok := rule(pkg)
		if !ok {
			t.Errorf("%s: no rule in ARCHITECTURE.md's map; add one", pkg)
			continue
		}
		n++
		for _, imp := range f[1:] {
			if !strings.HasPrefix(imp, module) {
				continue
			}
			imp = strings.TrimPrefix(imp, module)
			if !allowed(imp, allow) {
				t.Errorf("%s imports %s, which its rule does not allow", pkg, imp)
			}
		}
	}
	if n < 20 {
		t.Errorf("only %d packages checked", n)
	}
}

func rule(pkg string) ([]string, bool) {
	for _, r := range rules {
		if pkg == r.pkg || strings.HasPrefix(pkg, strings.TrimSuffix(r.pkg, "/")+"/") || (strings.HasSuffix(r.pkg, "/") && strings.HasPrefix(pkg, r.pkg)) {
			return r.allow, true
		}
	}
	return nil, false
}

func allowed(imp string, allow []string) bool {
	for _, a := range allow {
		if a == "" || imp == strings.TrimSuffix(a, "/") || strings.HasPrefix(imp, strings.TrimSuffix(a, "/")+"/") {
			return true
		}
	}
	return false
}
