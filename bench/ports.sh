# Sourced by the bench scripts: free loopback ports, so that two runs (or a
# run and the test suite) on one machine never fight over a fixed port.
# free_ports N: N distinct TCP ports free on 127.0.0.1 now, found by binding
# port 0 (all sockets held open together, so the N differ).
free_ports() {
    python3 -c 'import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))' "$1"
}
free_port() { free_ports 1; }
