package sip

import (
	"testing"

	"github.com/emiago/sipgo/sip"
)

// TestNextHop: requests within a dialog take the transport of the route set's
// first entry, or of the remote target without one, not the INVITE's.
func TestNextHop(t *testing.T) {
	contact := func(uri string) *sip.ContactHeader {
		c := &sip.ContactHeader{}
		if err := sip.ParseUri(uri, &c.Address); err != nil {
			t.Fatal(err)
		}
		return c
	}
	for _, c := range []struct {
		route  sip.Header
		target *sip.ContactHeader
		want   string
	}{
		{nil, contact("sip:agent@127.0.0.1:5070"), "UDP"},                                                         // a proxy over TLS that does not record-route
		{nil, contact("sip:agent@127.0.0.1:5071;transport=tcp"), "TCP"},                                           //
		{nil, contact("sips:agent@example.org"), "TLS"},                                                           //
		{sip.NewHeader("Record-Route", "<sip:10.0.0.1:5061;transport=tls;lr>"), contact("sip:a@10.0.0.9"), "TLS"}, // the route wins
		{sip.NewHeader("Record-Route", "<sip:10.0.0.1;lr>"), contact("sips:a@10.0.0.9"), "UDP"},                   //
		{sip.NewHeader("Record-Route", "<garbage"), nil, "TLS"},                                                   // unreadable: as the INVITE
		{nil, nil, "TLS"},
	} {
		if got := nextHop(c.route, c.target, "TLS"); got != c.want {
			t.Errorf("route %v, target %v: %s, want %s", c.route, c.target, got, c.want)
		}
	}
}
