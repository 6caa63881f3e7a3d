package tenant

import (
	"net"
	"strings"
)

// ExternalIDFromHost returns the tenant external id for an HTTP Host header: the text before
// the first '.', after removing any port (docs/protocol.md#tenant-from-host). Host names are case-insensitive and
// external ids are lowercase DNS labels, so the result is lowercased.
func ExternalIDFromHost(host string) string {
	host = strings.TrimSpace(host)
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	label, _, _ := strings.Cut(host, ".")
	return strings.ToLower(label)
}
