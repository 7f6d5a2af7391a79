// Package rawudp makes the system calls of non-blocking UDP sockets raw
// (RawSyscall6), for the RTP reactor and the SIP listener. Such a call returns
// at once, so the Go scheduler need not hear of it. Through Syscall6 each one
// entered and left a "syscall" state, and the first after an idle moment woke
// the runtime's monitor thread (sysmon), which then polled every 20 µs while
// the work went on: it was 16-22 % of peerline's CPU under load. Raw, a
// relayed packet costs 8-10 µs of CPU instead of 13-17 at 5,000 packets a
// second (pbx/media's BenchmarkRelayLoad), and 10 % less at 50,000.
//
// It is Linux's; elsewhere the package is empty and its users take Go's net.
package rawudp
