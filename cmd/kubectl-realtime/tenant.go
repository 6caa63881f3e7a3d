package main

import (
	"context"
	"fmt"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	realtimev1 "github.com/realtimeops/realtime/api/v1alpha1"
)

// tenantReport is `kubectl realtime tenant NAME` (also its -o json/yaml).
type tenantReport struct {
	Name       string            `json:"name"`
	Namespace  string            `json:"namespace"`
	Cluster    string            `json:"cluster"`
	ExternalID string            `json:"externalId,omitempty"`
	DBRegion   string            `json:"databaseRegion,omitempty"`
	Owner      string            `json:"owner,omitempty"`
	Region     string            `json:"ownerRegion,omitempty"`
	Placement  string            `json:"placement,omitempty"`
	Since      string            `json:"since,omitempty"`
	Slot       map[string]string `json:"slot,omitempty"`
	LastMove   *moveLine         `json:"lastMove,omitempty"`
	Conditions []conditionLine   `json:"conditions"`
	Events     []eventLine       `json:"events"`
}

type moveLine struct {
	From     string `json:"from"`
	To       string `json:"to"`
	Reason   string `json:"reason"`
	At       string `json:"at"`
	Duration string `json:"duration"`
}

type conditionLine struct {
	Type    string `json:"type"`
	Status  string `json:"status"`
	Reason  string `json:"reason"`
	Message string `json:"message"`
}

type eventLine struct {
	Last    string `json:"last"`
	Type    string `json:"type"`
	Reason  string `json:"reason"`
	Count   int32  `json:"count"`
	Message string `json:"message"`
}

// slotFields are read from status.replication by name, so the plugin shows them whether or not
// the operator it talks to reports them (older operators don't).
var slotFields = []string{"slot", "active", "confirmedLSN", "lag", "lagBytes", "walStatus", "lastAdvance", "checkedAt"}

func (e *env) tenant(ctx context.Context, args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("%w: tenant takes one Tenant name", errUsage)
	}
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(realtimev1.GroupVersion.WithKind("Tenant"))
	if err := e.c.Get(ctx, client.ObjectKey{Namespace: e.namespace, Name: args[0]}, u); err != nil {
		return fmt.Errorf("tenant %s/%s: %w", e.namespace, args[0], err)
	}
	var t realtimev1.Tenant
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &t); err != nil {
		return fmt.Errorf("tenant %s: %w", args[0], err)
	}
	r := tenantReport{Name: t.Name, Namespace: t.Namespace, Cluster: t.Spec.ClusterRef.Name, ExternalID: t.Status.ExternalID,
		Conditions: []conditionLine{}}
	if t.Spec.Database != nil {
		r.DBRegion = t.Spec.Database.Region
	}
	if rep := t.Status.Replication; rep != nil {
		r.Owner, r.Region, r.Placement = rep.Node, rep.Region, rep.Reason
		if rep.Since != nil {
			r.Since = rep.Since.UTC().Format(time.RFC3339)
		}
		if m := rep.LastMove; m != nil {
			r.LastMove = &moveLine{From: orDash(m.From), To: m.To, Reason: m.Reason, At: m.At.UTC().Format(time.RFC3339), Duration: "-"}
			if m.Duration != nil {
				r.LastMove.Duration = m.Duration.Duration.String()
			}
		}
	}
	for _, f := range slotFields {
		if v, found, _ := unstructured.NestedFieldNoCopy(u.Object, "status", "replication", f); found {
			if r.Slot == nil {
				r.Slot = map[string]string{}
			}
			r.Slot[f] = fmt.Sprint(v)
		}
	}
	for _, c := range t.Status.Conditions {
		r.Conditions = append(r.Conditions, conditionLine{Type: c.Type, Status: string(c.Status), Reason: c.Reason, Message: c.Message})
	}
	events, err := e.events(ctx, t.Name)
	if err != nil {
		return err
	}
	r.Events = events
	if e.output != "table" {
		return e.encode(r)
	}
	e.printTenant(r)
	return nil
}

// events returns the Tenant's most recent events (at most 10, newest last).
func (e *env) events(ctx context.Context, name string) ([]eventLine, error) {
	var list corev1.EventList
	if err := e.c.List(ctx, &list, client.InNamespace(e.namespace)); err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	var evs []corev1.Event
	for _, ev := range list.Items {
		if ev.InvolvedObject.Kind == "Tenant" && ev.InvolvedObject.Name == name {
			evs = append(evs, ev)
		}
	}
	last := func(ev corev1.Event) time.Time {
		if !ev.LastTimestamp.IsZero() {
			return ev.LastTimestamp.Time
		}
		return ev.EventTime.Time
	}
	sort.SliceStable(evs, func(i, j int) bool { return last(evs[i]).Before(last(evs[j])) })
	if len(evs) > 10 {
		evs = evs[len(evs)-10:]
	}
	out := make([]eventLine, 0, len(evs))
	for _, ev := range evs {
		out = append(out, eventLine{Type: ev.Type, Reason: ev.Reason, Message: ev.Message, Count: ev.Count, Last: last(ev).UTC().Format(time.RFC3339)})
	}
	return out, nil
}

func (e *env) printTenant(r tenantReport) {
	tw := newTable(e.out)
	tw.row("Tenant:", r.Namespace+"/"+r.Name)
	tw.row("Cluster:", r.Cluster)
	tw.row("External ID:", orDash(r.ExternalID))
	tw.row("Database region:", orDash(r.DBRegion))
	tw.row("Owner:", orDash(r.Owner)+" ("+orDash(r.Region)+", "+orDash(r.Placement)+", since "+orDash(r.Since)+")")
	for _, f := range slotFields {
		if v, ok := r.Slot[f]; ok {
			tw.row("Slot "+f+":", v)
		}
	}
	if m := r.LastMove; m != nil {
		tw.row("Last move:", m.From+" -> "+m.To+" ("+m.Reason+") at "+m.At+", took "+m.Duration)
	} else {
		tw.row("Last move:", "-")
	}
	tw.flush()
	fmt.Fprintln(e.out, "\nConditions:")
	tw = newTable(e.out)
	tw.row("  TYPE", "STATUS", "REASON", "MESSAGE")
	for _, c := range r.Conditions {
		tw.row("  "+c.Type, e.paint(c.Status), c.Reason, c.Message)
	}
	tw.flush()
	fmt.Fprintln(e.out, "\nEvents:")
	if len(r.Events) == 0 {
		fmt.Fprintln(e.out, "  <none>")
		return
	}
	tw = newTable(e.out)
	tw.row("  LAST", "TYPE", "REASON", "COUNT", "MESSAGE")
	for _, ev := range r.Events {
		tw.row("  "+ev.Last, ev.Type, ev.Reason, fmt.Sprint(ev.Count), ev.Message)
	}
	tw.flush()
}
