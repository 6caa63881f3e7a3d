package cluster

import (
	"encoding/binary"
	"fmt"
	"runtime"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkLinkThroughput: one link, node1 -> node2 on 127.0.0.1 -> 127.0.0.2, as fast as the
// queue accepts (a refused Send is retried, so this measures the link, not the drop policy).
// Reports msgs/s and MB/s (payload bytes).
func BenchmarkLinkThroughput(b *testing.B) {
	for _, size := range []int{64, 1024, 16 << 10} {
		b.Run(fmt.Sprintf("payload=%d", size), func(b *testing.B) {
			c := newTestCluster(b, []string{"eu", "eu"}, Options{})
			var got atomic.Int64
			c.meshes[1].Handle(typeTest, func(Member, []byte) { got.Add(1) })
			c.start(b)
			payload := make([]byte, size)
			b.SetBytes(int64(size))
			b.ResetTimer()
			start := time.Now()
			retries := 0
			for i := 0; i < b.N; i++ {
				for !c.meshes[0].Send("node2", typeTest, payload) {
					retries++
					runtime.Gosched()
				}
			}
			for got.Load() < int64(b.N) {
				time.Sleep(50 * time.Microsecond)
			}
			elapsed := time.Since(start)
			b.StopTimer()
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
			b.ReportMetric(float64(retries)/float64(b.N), "full-queue-retries/msg")
		})
	}
}

// BenchmarkCrossNodeLatency: one-way latency of a message from node1 to node2 (same process, so
// the same clock), one message in flight at a time. Reports p50 and p99 in microseconds.
func BenchmarkCrossNodeLatency(b *testing.B) {
	c := newTestCluster(b, []string{"eu", "eu"}, Options{})
	lat := make(chan time.Duration, 1)
	c.meshes[1].Handle(typeTest, func(_ Member, p []byte) {
		lat <- time.Duration(time.Now().UnixNano() - int64(binary.BigEndian.Uint64(p)))
	})
	c.start(b)
	samples := make([]time.Duration, 0, b.N)
	payload := make([]byte, 128)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		binary.BigEndian.PutUint64(payload, uint64(time.Now().UnixNano()))
		c.meshes[0].Send("node2", typeTest, slices.Clone(payload))
		samples = append(samples, <-lat)
	}
	b.StopTimer()
	reportPercentiles(b, samples)
}

// BenchmarkBusCrossRegionLatency: Bus.Publish on node1 (eu) to the us node that is not the
// relay, i.e. the two-hop path of docs/protocol.md#routing (origin -> relay -> region peer).
func BenchmarkBusCrossRegionLatency(b *testing.B) {
	c := newTestCluster(b, []string{"eu", "eu", "us", "us"}, Options{})
	const topic = "realtime:bench"
	relay := Relay(topic, []string{"node3", "node4"})
	far := map[string]string{"node3": "node4", "node4": "node3"}[relay]
	lat := make(chan time.Duration, 16)
	var buses []*Bus
	for _, m := range c.meshes {
		self := m.self.Name
		buses = append(buses, NewBus(m, TypeBroadcast, func(_, _ string, p []byte) {
			if self == far {
				lat <- time.Duration(time.Now().UnixNano() - int64(binary.BigEndian.Uint64(p)))
			}
		}))
	}
	c.start(b)
	samples := make([]time.Duration, 0, b.N)
	payload := make([]byte, 128)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		binary.BigEndian.PutUint64(payload, uint64(time.Now().UnixNano()))
		buses[0].Publish(topic, payload)
		samples = append(samples, <-lat)
	}
	b.StopTimer()
	reportPercentiles(b, samples)
}

func reportPercentiles(b *testing.B, samples []time.Duration) {
	if len(samples) == 0 {
		return
	}
	slices.Sort(samples)
	pct := func(p float64) float64 {
		return float64(samples[min(len(samples)-1, int(float64(len(samples))*p))].Nanoseconds()) / 1e3
	}
	b.ReportMetric(pct(0.50), "p50-µs")
	b.ReportMetric(pct(0.99), "p99-µs")
}
