package sip

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"

	"github.com/peerline/peerline/config"
	"github.com/peerline/peerline/internal/certs"
)

// ReloadCertificates reads sip.tls.cert and key again; new TLS connections
// get the new certificate, connections already up keep theirs. A file that
// fails to load leaves the old certificate in use.
func (s *Server) ReloadCertificates() error { return s.certs.Reload() }

// CheckTLS lists, for config check, the TLS files that serve would refuse:
// the same loading New does.
func CheckTLS(cfg *config.Config) config.Errors {
	var es config.Errors
	if _, err := certs.Load("sip.tls", cfg.SIP.TLS.Cert, cfg.SIP.TLS.Key); err != nil {
		es = append(es, config.FieldError{Path: "sip.tls.cert", Msg: err.Error()})
	}
	if _, err := clientTLS(cfg.SIP.TLS); err != nil {
		es = append(es, config.FieldError{Path: "sip.tls.ca", Msg: err.Error()})
	}
	return es
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
