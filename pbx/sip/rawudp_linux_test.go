package sip

import (
	"errors"
	"net"
	"os"
	"testing"
	"time"
)

// The raw UDP socket reads and writes as net.UDPConn does: both families, a
// dual-stack listener answering an IPv4 peer, deadlines and a closed socket.
func TestRawUDPIsAUDPConn(t *testing.T) {
	for _, listen := range []string{"127.0.0.1:0", "[::1]:0", "[::]:0"} {
		t.Run(listen, func(t *testing.T) {
			pc, err := net.ListenPacket("udp", listen)
			if err != nil {
				t.Skip(err) // no IPv6 here
			}
			raw := rawPacketConn(pc)
			if _, ok := raw.(*rawUDP); !ok {
				t.Fatalf("not wrapped: %T", raw)
			}
			defer raw.Close()
			port := raw.LocalAddr().(*net.UDPAddr).Port
			to := &net.UDPAddr{IP: net.IPv6loopback, Port: port}
			if listen != "[::1]:0" {
				to.IP = net.IPv4(127, 0, 0, 1)
			}
			peer, err := net.DialUDP("udp", nil, to)
			if err != nil {
				t.Fatal(err)
			}
			defer peer.Close()
			peer.Write([]byte("OPTIONS"))
			raw.SetReadDeadline(time.Now().Add(10 * time.Second))
			buf := make([]byte, 64)
			n, from, err := raw.ReadFrom(buf)
			if err != nil || string(buf[:n]) != "OPTIONS" {
				t.Fatalf("read %q from %v: %v", buf[:n], from, err)
			}
			if from.String() != peer.LocalAddr().String() {
				t.Errorf("from %v, the peer is %v", from, peer.LocalAddr())
			}
			if _, err := raw.WriteTo([]byte("200 OK"), from); err != nil {
				t.Fatal(err)
			}
			peer.SetReadDeadline(time.Now().Add(10 * time.Second))
			if n, err := peer.Read(buf); err != nil || string(buf[:n]) != "200 OK" {
				t.Fatalf("the peer read %q: %v", buf[:n], err)
			}
			if _, err := peer.Write(nil); err != nil {
				t.Fatal(err)
			}
			if n, _, err := raw.ReadFrom(buf); n != 0 || err != nil {
				t.Errorf("an empty datagram: %d bytes, %v", n, err)
			}
			if _, err := raw.WriteTo(nil, from); err != nil {
				t.Errorf("sending an empty datagram: %v", err)
			}
			if n, err := peer.Read(buf); n != 0 || err != nil {
				t.Errorf("the peer's empty datagram: %d bytes, %v", n, err)
			}
			if _, err := raw.WriteTo([]byte("x"), &net.TCPAddr{IP: to.IP, Port: port}); err == nil {
				t.Error("a TCP address was taken")
			}
			raw.SetReadDeadline(time.Now().Add(time.Millisecond))
			if _, _, err := raw.ReadFrom(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Errorf("past the deadline: %v", err)
			}
			raw.Close()
			if _, _, err := raw.ReadFrom(buf); !errors.Is(err, net.ErrClosed) {
				t.Errorf("closed: %v", err)
			}
			if _, err := raw.WriteTo([]byte("x"), from); !errors.Is(err, net.ErrClosed) {
				t.Errorf("closed: %v", err)
			}
		})
	}
}
