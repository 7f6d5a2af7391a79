//go:build !linux

package media

import (
	"errors"
	"net"
	"net/netip"
	"time"
)

// Socket is a UDP socket; outside Linux each session's reader is a goroutine
// blocked in a read (the reactor is Linux's epoll and recvmmsg).
type Socket struct {
	conn  *net.UDPConn
	local netip.AddrPort
}

func listenUDP(ap netip.AddrPort) (*Socket, error) {
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(ap))
	if err != nil {
		return nil, err
	}
	return &Socket{conn: c, local: c.LocalAddr().(*net.UDPAddr).AddrPort()}, nil
}

// LocalAddr is where the socket is bound.
func (c *Socket) LocalAddr() netip.AddrPort { return c.local }

func (c *Socket) send(p []byte, to netip.AddrPort) error {
	_, err := c.conn.WriteToUDPAddrPort(p, to)
	return err
}

// Close closes the socket and so ends its reader.
func (c *Socket) Close() error { return c.conn.Close() }

// startReading runs s's reader until the socket is closed or fails.
func (s *Session) startReading() {
	go func() {
		var buf [1500]byte
		var sc scratch
		for {
			n, from, err := s.sock.conn.ReadFromUDPAddrPort(buf[:])
			if err != nil {
				if errors.Is(err, net.ErrClosed) {
					err = nil
				}
				s.finish(err)
				return
			}
			s.receive(buf[:n], from, time.Now().UnixNano(), &sc)
		}
	}()
}
