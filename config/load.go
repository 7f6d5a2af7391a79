package config

import (
	"fmt"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// EnvFile names the environment variable that points at the config file.
const EnvFile = "PEERLINE_CONFIG"

// Default is the embedded default configuration.
func Default() *Config {
	cfg, err := Parse(defaultYAML)
	if err != nil {
		panic("config: embedded default.yaml: " + err.Error())
	}
	return cfg
}

// LoadFile reads and validates a config file. An empty name means the embedded
// defaults. checks are ParseWith's.
func LoadFile(name string, checks ...func(*Config) Errors) (*Config, error) {
	if name == "" {
		return Default(), nil
	}
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return ParseWith(b, checks...)
}

// Parse reads a config document on top of the defaults and validates it. Fields the
// document leaves out keep their default; every line starts from the default line.
// The error, if any, is Errors listing every problem found.
func Parse(b []byte) (*Config, error) { return ParseWith(b) }

// ParseWith is Parse with further checks of what the config points at (files,
// prompt folders), which this package cannot judge. Their errors are reported
// with the rest, with source lines found by path.
func ParseWith(b []byte, checks ...func(*Config) Errors) (*Config, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return nil, Errors{{Msg: strings.TrimPrefix(err.Error(), "yaml: ")}}
	}
	cfg := &Config{}
	d := decoder{lines: map[string]int{}}
	if err := yaml.Unmarshal(defaultYAML, cfg); err != nil {
		panic("config: embedded default.yaml: " + err.Error())
	}
	if len(root.Content) > 0 {
		d.decode(root.Content[0], reflect.ValueOf(cfg).Elem(), "")
	}
	// A value that did not decode keeps its (valid) default, so validating the
	// rest reports every other problem too; a path already reported is not
	// reported twice.
	errs := d.errs
	failed := map[string]bool{}
	for _, e := range errs {
		failed[e.Path] = true
	}
	more := append(cfg.readSecrets(), Validate(cfg)...)
	for _, check := range checks {
		more = append(more, check(cfg)...)
	}
	for _, e := range more {
		if !failed[e.Path] {
			errs = append(errs, e)
		}
	}
	for i := range errs {
		if errs[i].Line == 0 {
			errs[i].Line = d.lineOf(errs[i].Path)
		}
	}
	if len(errs) > 0 {
		sort.SliceStable(errs, func(i, j int) bool { return errs[i].Line < errs[j].Line })
		return nil, errs
	}
	return cfg, nil
}

// decoder walks the YAML tree against the Go types so that every unknown key and
// every bad value is reported with its path, not only the first one.
type decoder struct {
	errs  Errors
	lines map[string]int // path -> source line, for validation errors
}

// lineOf finds the source line of path or of its nearest parent.
func (d *decoder) lineOf(path string) int {
	for path != "" {
		if l, ok := d.lines[path]; ok {
			return l
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return 0
}

func (d *decoder) fail(n *yaml.Node, path, format string, args ...any) {
	d.errs = append(d.errs, FieldError{Path: path, Line: n.Line, Msg: fmt.Sprintf(format, args...)})
}

var unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()

func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	d.lines[path] = n.Line
	if reflect.PointerTo(v.Type()).Implements(unmarshalerType) {
		if n.Kind != yaml.ScalarNode {
			d.fail(n, path, "expected a single value")
			return
		}
		if err := v.Addr().Interface().(yaml.Unmarshaler).UnmarshalYAML(n); err != nil {
			d.fail(n, path, "%s", err.Error())
		}
		return
	}
	if n.Tag == "!!null" && v.Kind() != reflect.String {
		return // "key:" with no value keeps the default
	}
	switch v.Kind() {
	case reflect.Pointer: // an optional section: present once it is written
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.decode(n, v.Elem(), path)
	case reflect.Struct:
		d.decodeStruct(n, v, path)
	case reflect.Slice:
		d.decodeSlice(n, v, path)
	case reflect.Map:
		d.decodeMap(n, v, path)
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			d.fail(n, path, "expected a single value")
			return
		}
		v.SetString(n.Value)
	case reflect.Int:
		i, err := strconv.Atoi(n.Value)
		if n.Kind != yaml.ScalarNode || err != nil {
			d.fail(n, path, "%q is not a whole number", n.Value)
			return
		}
		v.SetInt(int64(i))
	case reflect.Bool:
		switch strings.ToLower(n.Value) {
		case "true":
			v.SetBool(true)
		case "false":
			v.SetBool(false)
		default:
			d.fail(n, path, "%q is not true or false", n.Value)
		}
	default:
		panic("config: no decoder for " + v.Type().String())
	}
}

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "expected a mapping of fields")
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i], n.Content[i+1]
		f, ok := fieldByTag(v, key.Value)
		p := join(path, key.Value)
		if !ok {
			d.fail(key, p, "unknown field (known: %s)", strings.Join(tags(v.Type()), ", "))
			continue
		}
		d.decode(val, f, p)
	}
}

func (d *decoder) decodeSlice(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.SequenceNode {
		d.fail(n, path, "expected a list")
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		elem := s.Index(i)
		if elem.Type() == reflect.TypeFor[Line]() {
			elem.Set(reflect.ValueOf(defaultLine()))
		}
		d.decode(item, elem, fmt.Sprintf("%s[%d]", path, i))
	}
	v.Set(s)
}

func (d *decoder) decodeMap(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "expected a mapping")
		return
	}
	m := reflect.MakeMap(v.Type())
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i], n.Content[i+1]
		elem := reflect.New(v.Type().Elem()).Elem()
		d.decode(val, elem, join(path, key.Value))
		m.SetMapIndex(reflect.ValueOf(key.Value), elem)
	}
	v.Set(m)
}

// defaultLine is a fresh copy of the embedded default line.
func defaultLine() Line {
	var c Config
	if err := yaml.Unmarshal(defaultYAML, &c); err != nil || len(c.Lines) != 1 {
		panic("config: embedded default.yaml must have exactly one line")
	}
	return c.Lines[0]
}

func fieldByTag(v reflect.Value, name string) (reflect.Value, bool) {
	t := v.Type()
	for i := range t.NumField() {
		if tagName(t.Field(i)) == name {
			return v.Field(i), true
		}
	}
	return reflect.Value{}, false
}

func tags(t reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		out = append(out, tagName(t.Field(i)))
	}
	return out
}

func tagName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	return name
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
