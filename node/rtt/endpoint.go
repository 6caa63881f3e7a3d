package rtt

import (
	"net"
	"strconv"
)

// Endpoint is the key figures are kept and published under: host:port of a database, port 5432
// when unset. The node (from its tenant registry) and the operator (from Tenant.spec.database)
// must build the same key, so both call this.
func Endpoint(host string, port int) string {
	if port <= 0 {
		port = 5432
	}
	return net.JoinHostPort(host, strconv.Itoa(port))
}
