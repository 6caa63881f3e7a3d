//go:build linux

// Command delayline gives the real cluster of hack/real-cluster.sh latency between regions (this
// kernel has no sch_netem; see internal/delayline). It holds two TUN devices:
//
//   - -dev (e.g. rtd0) in the namespace it runs in (the cluster's). The kernel routes into it every
//     packet for -leaf-net (the tenant databases' addresses) and, by policy routing set up by the
//     script, every packet a node's pods send to another region's pods.
//   - -dev in the namespace -leaf (the databases' leaf, whose only interface it is).
//
// A packet read from the cluster's TUN for -leaf-net is written into the leaf's TUN, any other one
// back into the cluster's TUN (the kernel forwards it again: its input interface is now the TUN,
// so the policy rules, which match the bridges, do not send it round again); a packet read from
// the leaf's TUN is written into the cluster's. Each packet waits the one-way delay between the
// regions of its source and destination addresses (-region, -rtt; half the RTT each way), plus
// any extra delay on either address's network (PUT /extra on the -ctl socket), plus jitter across
// regions. Packets between the same two networks keep their order. Addresses of no -region (the
// control plane, the tests' own process) have no delay.
//
// Control (HTTP on the Unix socket -ctl):
//
//	PUT /extra?net=10.251.3.0/24&delay=50ms   one way, to and from that -region network (0 removes)
//	GET /                                     configuration, extras and packet counts (JSON)
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/realtimeops/realtime/internal/delayline"
)

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(s string) error { *m = append(*m, s); return nil }

// network is one -region entry.
type network struct {
	Prefix netip.Prefix `json:"net"`
	Region string       `json:"region"`
}

type router struct {
	nets   []network
	oneWay map[[2]string]time.Duration
	jitter time.Duration
	main   *os.File
	leaf   *os.File
	leafIn netip.Prefix

	mu      sync.Mutex
	extra   map[netip.Prefix]time.Duration
	lines   map[lineKey]*delayline.Line
	packets map[string]uint64
}

type lineKey struct {
	from, to int // index into nets, -1 for an address of no network
	out      *os.File
}

func main() {
	log.SetFlags(log.LstdFlags | log.Lmicroseconds)
	if err := run(); err != nil {
		log.Fatal(err)
	}
}

func run() error {
	var regions, rtts multi
	dev := flag.String("dev", "rtd0", "TUN device name (in this namespace and in the leaf)")
	leafNS := flag.String("leaf", "", "network namespace path of the databases' leaf")
	leafNet := flag.String("leaf-net", "", "addresses inside the leaf (CIDR)")
	ctl := flag.String("ctl", "", "Unix socket for the control API")
	jitter := flag.Duration("jitter", 0, "uniform +- jitter of each packet between different regions")
	flag.Var(&regions, "region", "CIDR=REGION (repeatable): the region of a network")
	flag.Var(&rtts, "rtt", "A/B=DURATION (repeatable): round-trip time between regions A and B")
	flag.Parse()
	if *leafNS == "" || *leafNet == "" || *ctl == "" {
		return errors.New("-leaf, -leaf-net and -ctl are required")
	}
	r := &router{oneWay: map[[2]string]time.Duration{}, jitter: *jitter, extra: map[netip.Prefix]time.Duration{},
		lines: map[lineKey]*delayline.Line{}, packets: map[string]uint64{}}
	var err error
	if r.leafIn, err = netip.ParsePrefix(*leafNet); err != nil {
		return fmt.Errorf("-leaf-net: %w", err)
	}
	for _, s := range regions {
		cidr, region, ok := strings.Cut(s, "=")
		p, err := netip.ParsePrefix(cidr)
		if !ok || err != nil || region == "" {
			return fmt.Errorf("-region %q: want CIDR=REGION", s)
		}
		r.nets = append(r.nets, network{Prefix: p.Masked(), Region: region})
	}
	for _, s := range rtts {
		pair, d, ok := strings.Cut(s, "=")
		a, b, ok2 := strings.Cut(pair, "/")
		rtt, err := time.ParseDuration(d)
		if !ok || !ok2 || err != nil {
			return fmt.Errorf("-rtt %q: want A/B=DURATION", s)
		}
		r.oneWay[[2]string{a, b}], r.oneWay[[2]string{b, a}] = rtt/2, rtt/2
	}
	if r.main, err = delayline.OpenTUN("", *dev); err != nil {
		return err
	}
	if r.leaf, err = delayline.OpenTUN(*leafNS, *dev); err != nil {
		return err
	}
	_ = os.Remove(*ctl)
	ln, err := net.Listen("unix", *ctl)
	if err != nil {
		return fmt.Errorf("listen %s: %w", *ctl, err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	srv := &http.Server{Handler: r.api(), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }() // owned: ends with srv.Close below
	go func() { _ = delayline.ReadIPv4(r.main, r.fromMain) }()
	go func() { _ = delayline.ReadIPv4(r.leaf, r.fromLeaf) }()
	log.Printf("delay line up: %s here and in %s; networks %v; rtt %v; jitter %s", *dev, *leafNS, r.nets, rtts, *jitter)
	<-ctx.Done()
	_ = srv.Close()
	_ = r.main.Close() // ends the readers; the lines' writes fail from here on
	_ = r.leaf.Close()
	log.Printf("delay line down: packets %v", r.counts())
	return nil
}

// classify returns the index of the network of addr (-1: none) and its region ("" for none).
func (r *router) classify(a [4]byte) (int, string) {
	ip := netip.AddrFrom4(a)
	for i, n := range r.nets {
		if n.Prefix.Contains(ip) {
			return i, n.Region
		}
	}
	return -1, ""
}

func (r *router) fromMain(pkt []byte) {
	out, dir := r.main, "reinjected"
	if r.leafIn.Contains(netip.AddrFrom4(delayline.Dst(pkt))) {
		out, dir = r.leaf, "to-leaf"
	}
	r.send(pkt, out, dir)
}

func (r *router) fromLeaf(pkt []byte) { r.send(pkt, r.main, "from-leaf") }

func (r *router) send(pkt []byte, out *os.File, dir string) {
	fi, fr := r.classify(delayline.Src(pkt))
	ti, tr := r.classify(delayline.Dst(pkt))
	r.mu.Lock()
	d := r.oneWay[[2]string{fr, tr}]
	if fi >= 0 {
		d += r.extra[r.nets[fi].Prefix]
	}
	if ti >= 0 {
		d += r.extra[r.nets[ti].Prefix]
	}
	if d > 0 && r.jitter > 0 && fr != tr {
		d += time.Duration((rand.Float64()*2 - 1) * float64(r.jitter))
	}
	k := lineKey{fi, ti, out}
	line := r.lines[k]
	if line == nil {
		line = delayline.NewLine(out)
		r.lines[k] = line
	}
	r.packets[dir]++
	r.mu.Unlock()
	_ = line.Send(pkt, time.Now().Add(d))
}

func (r *router) counts() map[string]uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := make(map[string]uint64, len(r.packets))
	for k, v := range r.packets {
		c[k] = v
	}
	return c
}

func (r *router) api() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("PUT /extra", func(w http.ResponseWriter, req *http.Request) {
		p, err := netip.ParsePrefix(req.URL.Query().Get("net"))
		d, err2 := time.ParseDuration(req.URL.Query().Get("delay"))
		known := false
		for _, n := range r.nets {
			known = known || (err == nil && n.Prefix == p.Masked())
		}
		if err != nil || err2 != nil || d < 0 || !known {
			http.Error(w, "want net=<a -region CIDR>&delay=<duration >= 0>", http.StatusBadRequest)
			return
		}
		r.mu.Lock()
		if d == 0 {
			delete(r.extra, p.Masked())
		} else {
			r.extra[p.Masked()] = d
		}
		r.mu.Unlock()
		log.Printf("extra one-way delay on %s: %s", p, d)
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		r.mu.Lock()
		extra := map[string]string{}
		for p, d := range r.extra {
			extra[p.String()] = d.String()
		}
		oneWay := map[string]string{}
		for k, d := range r.oneWay {
			oneWay[k[0]+"/"+k[1]] = d.String()
		}
		r.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"networks": r.nets, "oneWay": oneWay,
			"jitter": r.jitter.String(), "extra": extra, "packets": r.counts()})
	})
	return mux
}
