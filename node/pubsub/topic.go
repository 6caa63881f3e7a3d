package pubsub

import "strings"

// A channel has three names: the sub-topic the client chose ("room1"), the wire topic of its
// Phoenix frames ("realtime:room1"), and the tenant-scoped pub/sub topic its messages travel
// on ("tenant:room1", "tenant-private:room1"). These functions are the only place the forms
// are built and parsed.

// wirePrefix starts every channel topic on the wire (docs/protocol.md#message-model); realtime-js adds it.
const wirePrefix = "realtime:"

// WireTopic is the topic of subTopic's Phoenix frames: "realtime:" + subTopic.
func WireTopic(subTopic string) string { return wirePrefix + subTopic }

// SubTopic is the sub-topic of a wire topic; false when wire does not start with "realtime:".
func SubTopic(wire string) (string, bool) { return strings.CutPrefix(wire, wirePrefix) }

// Topic builds the tenant-scoped pub/sub topic of docs/protocol.md#topics.
func Topic(tenant, subTopic string, private bool) string {
	if private {
		return tenant + "-private:" + subTopic
	}
	return tenant + ":" + subTopic
}
