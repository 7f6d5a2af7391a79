// Package certs holds a TLS certificate read from PEM files that can be read
// again (on SIGHUP) while servers use it: new connections get the renewed
// certificate, connections already up keep theirs.
package certs

import (
	"crypto/tls"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
)

// Reloadable is a certificate and key from files.
type Reloadable struct {
	what, cert, key string
	mu              sync.Mutex // one reload at a time
	current         atomic.Pointer[tls.Certificate]
}

// Load reads cert and key (PEM files); what names them in errors ("sip.tls").
func Load(what, cert, key string) (*Reloadable, error) {
	r := &Reloadable{what: what, cert: cert, key: key}
	return r, r.Reload()
}

// Reload reads the files again; when they fail to load, the certificate in
// use stays.
func (r *Reloadable) Reload() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cert == "" && r.key == "" {
		return nil
	}
	c, err := tls.LoadX509KeyPair(r.cert, r.key)
	if err != nil {
		return fmt.Errorf("%s: %w", r.what, err)
	}
	r.current.Store(&c)
	return nil
}

// Configured reports whether there are files to serve.
func (r *Reloadable) Configured() bool { return r.cert != "" || r.key != "" }

// ServerConfig is a TLS config serving the current certificate.
func (r *Reloadable) ServerConfig() *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			if c := r.current.Load(); c != nil {
				return c, nil
			}
			return nil, errors.New("no certificate")
		}}
}
