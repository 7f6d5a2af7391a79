package sip

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"

	"github.com/peerline/peerline/config"
)

// certificates is the certificate of tls: listeners, read again by
// ReloadCertificates (on SIGHUP), so that a renewed certificate takes effect
// without hanging up calls.
type certificates struct {
	files config.TLS
	mu    sync.Mutex // one reload at a time
	cert  atomic.Pointer[tls.Certificate]
}

func (c *certificates) Load() *tls.Certificate { return c.cert.Load() }

// load reads the files; on failure the certificate in use stays.
func (c *certificates) load() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.files.Cert == "" || c.files.Key == "" {
		return nil
	}
	cert, err := tls.LoadX509KeyPair(c.files.Cert, c.files.Key)
	if err != nil {
		return fmt.Errorf("sip.tls: %w", err)
	}
	c.cert.Store(&cert)
	return nil
}

// ReloadCertificates reads sip.tls.cert and key again; new TLS connections
// get the new certificate, connections already up keep theirs. A file that
// fails to load leaves the old certificate in use.
func (s *Server) ReloadCertificates() error { return s.certs.load() }

// CheckTLS lists, for config check, the TLS files that serve would refuse:
// the same loading New does.
func CheckTLS(cfg *config.Config) config.Errors {
	var es config.Errors
	if err := (&certificates{files: cfg.SIP.TLS}).load(); err != nil {
		es = append(es, config.FieldError{Path: "sip.tls.cert", Msg: err.Error()})
	}
	if _, err := clientTLS(cfg.SIP.TLS); err != nil {
		es = append(es, config.FieldError{Path: "sip.tls.ca", Msg: err.Error()})
	}
	return es
}

// serverTLS is the TLS of tls: listeners.
func (s *Server) serverTLS() *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			if c := s.certs.Load(); c != nil {
				return c, nil
			}
			return nil, errors.New("no certificate")
		}}
}

// clientTLS is the TLS of connections peerline opens (sips: trunks and
// agents): servers must present a certificate signed by sip.tls.ca, or by the
// system's CAs without one.
func clientTLS(files config.TLS) (*tls.Config, error) {
	c := &tls.Config{MinVersion: tls.VersionTLS12}
	if files.CA == "" {
		return c, nil
	}
	b, err := os.ReadFile(files.CA)
	if err != nil {
		return nil, fmt.Errorf("sip.tls.ca: %w", err)
	}
	c.RootCAs = x509.NewCertPool()
	if !c.RootCAs.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("sip.tls.ca: %s holds no PEM certificate", files.CA)
	}
	return c, nil
}
