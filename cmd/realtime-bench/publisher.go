package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// publisher sends the scenario's messages: over the publisher's own socket (--publish ws), as
// realtime-js's channel.send does, or one message per REST request (--publish rest), as
// supabase-js's server-side broadcast and httpSend do.
type publisher interface {
	publish(ctx context.Context, seq int, payload []byte) error
	// wait returns once every accepted publish has been answered (REST) and reports failures.
	wait() error
}

// wsPublisher publishes on a joined socket: a kind-3 binary frame (V2 --frames binary) or a text
// broadcast push (V1, or V2 --frames text).
type wsPublisher struct {
	c          *client
	ref, topic string
	binary     bool
}

func (p *wsPublisher) publish(ctx context.Context, _ int, payload []byte) error {
	if p.binary {
		return p.c.publish(ctx, p.ref, p.topic, "bench", payload)
	}
	return p.c.publishText(ctx, p.ref, p.topic, "bench", payload)
}

func (p *wsPublisher) wait() error { return nil }

// restPublisher posts each message in its own request from a few keep-alive workers, so the
// bench's request latency does not cap the publish rate. With single, it uses
// POST /api/broadcast/:topic/events/:event (a user broadcast: binary kind 4 to V2 sockets);
// otherwise POST /api/broadcast with one message (a JSON text broadcast to every serializer).
type restPublisher struct {
	url, token, host string
	single           bool
	hc               *http.Client
	jobs             chan []byte
	wg               sync.WaitGroup
	failed           atomic.Int64
	firstErr         atomic.Value
	stopOnce         sync.Once
}

const restWorkers = 8

func newRESTPublisher(addr, host, token, subTopic string, single bool) *restPublisher {
	p := &restPublisher{token: token, host: host, single: single, jobs: make(chan []byte, 4096),
		hc: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: restWorkers}}}
	if single {
		p.url = "http://" + addr + "/api/broadcast/" + subTopic + "/events/bench"
	} else {
		p.url = "http://" + addr + "/api/broadcast"
	}
	for i := 0; i < restWorkers; i++ {
		p.wg.Add(1)
		go p.worker(subTopic)
	}
	return p
}

func (p *restPublisher) publish(ctx context.Context, _ int, payload []byte) error {
	if n := p.failed.Load(); n > 0 {
		return fmt.Errorf("%d REST publishes failed: %v", n, p.firstErr.Load())
	}
	select {
	case p.jobs <- payload:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (p *restPublisher) worker(subTopic string) {
	defer p.wg.Done()
	prefix := `{"messages":[{"topic":` + jsonString(subTopic) + `,"event":"bench","payload":`
	var body bytes.Buffer
	for payload := range p.jobs {
		body.Reset()
		if p.single {
			body.Write(payload)
		} else {
			body.WriteString(prefix)
			body.Write(payload)
			body.WriteString(`}]}`)
		}
		if err := p.post(body.Bytes()); err != nil {
			if p.failed.Add(1) == 1 {
				p.firstErr.Store(err.Error())
			}
		}
	}
}

func (p *restPublisher) post(body []byte) error {
	req, err := http.NewRequest(http.MethodPost, p.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("rest request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+p.token)
	if p.host != "" {
		req.Host = p.host
	}
	resp, err := p.hc.Do(req)
	if err != nil {
		return fmt.Errorf("rest publish: %w", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("rest publish: HTTP %d", resp.StatusCode)
	}
	return nil
}

// wait closes the queue, waits for the workers and reports failures.
func (p *restPublisher) wait() error {
	p.stopOnce.Do(func() { close(p.jobs) })
	p.wg.Wait()
	p.hc.CloseIdleConnections()
	if n := p.failed.Load(); n > 0 {
		return fmt.Errorf("%d REST publishes failed: %v", n, p.firstErr.Load())
	}
	return nil
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// newPublisher returns the publisher --publish and --frames ask for on topic
// ("realtime:<sub-topic>"); pub is a joined socket of the pool (used by --publish ws).
func newPublisher(tg *target, cfg *config, pub *client, ref, topic string) publisher {
	if cfg.publish == "rest" {
		return newRESTPublisher(tg.addr, cfg.host, tg.token, strings.TrimPrefix(topic, "realtime:"), cfg.binaryFrames())
	}
	return &wsPublisher{c: pub, ref: ref, topic: topic, binary: cfg.binaryFrames()}
}
