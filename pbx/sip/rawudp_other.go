//go:build !linux

package sip

import "net"

// rawPacketConn returns pc as it is: raw system calls are Linux's here
// (rawudp_linux.go).
func rawPacketConn(pc net.PacketConn) net.PacketConn { return pc }
