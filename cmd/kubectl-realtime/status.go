package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	realtimev1 "github.com/realtimeops/realtime/api/v1alpha1"
)

// adminPort serves a node pod's /status (the operator's pods listen on :4002).
const adminPort = "4002"

// nodeStatusFunc fetches a node pod's /status document.
type nodeStatusFunc func(ctx context.Context, namespace, pod string) (*nodeStatus, error)

// nodeStatus is the part of a node's /status the plugin shows.
type nodeStatus struct {
	Sockets int `json:"sockets"`
	Tenants []struct {
		Tenant   string `json:"tenant"`
		Sockets  int    `json:"sockets"`
		Channels int    `json:"channels"`
	} `json:"tenants"`
	Peers []json.RawMessage `json:"peers"`
}

// proxyNodeStatus reads /status through the API server's pod proxy (needs pods/proxy get).
func proxyNodeStatus(cs kubernetes.Interface) nodeStatusFunc {
	return func(ctx context.Context, namespace, pod string) (*nodeStatus, error) {
		raw, err := cs.CoreV1().Pods(namespace).ProxyGet("http", pod, adminPort, "status", nil).DoRaw(ctx)
		if err != nil {
			return nil, fmt.Errorf("pod %s /status: %w", pod, err)
		}
		var st nodeStatus
		if err := json.Unmarshal(raw, &st); err != nil {
			return nil, fmt.Errorf("pod %s /status: %w", pod, err)
		}
		return &st, nil
	}
}

// clusterReport is `kubectl realtime status` for one RealtimeCluster (also its -o json/yaml).
type clusterReport struct {
	Name      string         `json:"name"`
	Namespace string         `json:"namespace"`
	Phase     string         `json:"phase"`
	Nodes     string         `json:"nodes"`
	Regions   []regionReport `json:"regions"`
	Tenants   []tenantLine   `json:"tenants"`
}

type regionReport struct {
	Name  string      `json:"name"`
	Ready string      `json:"ready"`
	Pods  []podReport `json:"pods"`
}

type podReport struct {
	Name     string   `json:"name"`
	Ready    bool     `json:"ready"`
	Draining bool     `json:"draining"`
	Clients  *int     `json:"clients,omitempty"`
	Channels *int     `json:"channels,omitempty"`
	Links    *int     `json:"meshLinks,omitempty"`
	Tenants  []string `json:"tenants"`
	// StatusError says why the pod's /status could not be read.
	StatusError string `json:"statusError,omitempty"`
}

type tenantLine struct {
	Name      string `json:"name"`
	DBRegion  string `json:"databaseRegion"`
	Owner     string `json:"owner"`
	Region    string `json:"ownerRegion"`
	Ready     string `json:"ready"`
	Placement string `json:"placement"`
}

func (e *env) status(ctx context.Context, args []string) error {
	if len(args) > 1 {
		return fmt.Errorf("%w: status takes at most one cluster name", errUsage)
	}
	var clusters []realtimev1.RealtimeCluster
	if len(args) == 1 {
		var rc realtimev1.RealtimeCluster
		if err := e.c.Get(ctx, client.ObjectKey{Namespace: e.namespace, Name: args[0]}, &rc); err != nil {
			return fmt.Errorf("realtimecluster %s/%s: %w", e.namespace, args[0], err)
		}
		clusters = append(clusters, rc)
	} else {
		var list realtimev1.RealtimeClusterList
		if err := e.c.List(ctx, &list, client.InNamespace(e.namespace)); err != nil {
			return fmt.Errorf("list realtimeclusters: %w", err)
		}
		clusters = list.Items
	}
	if len(clusters) == 0 {
		return fmt.Errorf("no RealtimeCluster in namespace %s", e.namespace)
	}
	var tenants realtimev1.TenantList
	if err := e.c.List(ctx, &tenants, client.InNamespace(e.namespace)); err != nil {
		return fmt.Errorf("list tenants: %w", err)
	}
	reports := make([]clusterReport, 0, len(clusters))
	for i := range clusters {
		r, err := e.clusterReport(ctx, &clusters[i], tenants.Items)
		if err != nil {
			return err
		}
		reports = append(reports, r)
	}
	if e.output != "table" {
		if len(reports) == 1 {
			return e.encode(reports[0])
		}
		return e.encode(reports)
	}
	for i, r := range reports {
		if i > 0 {
			fmt.Fprintln(e.out)
		}
		e.printCluster(r)
	}
	return nil
}

func (e *env) clusterReport(ctx context.Context, rc *realtimev1.RealtimeCluster, all []realtimev1.Tenant) (clusterReport, error) {
	r := clusterReport{Name: rc.Name, Namespace: rc.Namespace, Phase: orDash(rc.Status.Phase), Nodes: orDash(rc.Status.Nodes),
		Regions: []regionReport{}, Tenants: []tenantLine{}}
	var pods corev1.PodList
	if err := e.c.List(ctx, &pods, client.InNamespace(rc.Namespace), client.MatchingLabels{realtimev1.ClusterLabel: rc.Name}); err != nil {
		return r, fmt.Errorf("list pods of %s: %w", rc.Name, err)
	}
	owned := map[string][]string{}
	for _, t := range all {
		if t.Spec.ClusterRef.Name != rc.Name {
			continue
		}
		line := tenantLine{Name: t.Name, DBRegion: "-", Owner: "-", Region: "-", Ready: conditionStatus(t.Status.Conditions, "Ready"), Placement: "-"}
		if t.Spec.Database != nil && t.Spec.Database.Region != "" {
			line.DBRegion = t.Spec.Database.Region
		}
		if rep := t.Status.Replication; rep != nil && rep.Node != "" {
			line.Owner, line.Region, line.Placement = rep.Node, orDash(rep.Region), orDash(rep.Reason)
			owned[rep.Node] = append(owned[rep.Node], t.Name)
		}
		r.Tenants = append(r.Tenants, line)
	}
	sort.Slice(r.Tenants, func(i, j int) bool { return r.Tenants[i].Name < r.Tenants[j].Name })
	byRegion := map[string][]podReport{}
	for i := range pods.Items {
		p := &pods.Items[i]
		pr := podReport{Name: p.Name, Ready: podReady(p), Draining: p.Annotations[realtimev1.DrainingAnnotation] == "true",
			Tenants: append([]string{}, owned[p.Name]...)}
		sort.Strings(pr.Tenants)
		if e.nodes != nil && pr.Ready {
			if st, err := e.nodes(ctx, p.Namespace, p.Name); err != nil {
				pr.StatusError = err.Error()
			} else {
				channels := 0
				for _, t := range st.Tenants {
					channels += t.Channels
				}
				links := len(st.Peers)
				pr.Clients, pr.Channels, pr.Links = &st.Sockets, &channels, &links
			}
		}
		region := p.Labels[realtimev1.RegionLabel]
		byRegion[region] = append(byRegion[region], pr)
	}
	for _, spec := range rc.Spec.Regions {
		rr := regionReport{Name: spec.Name, Ready: fmt.Sprintf("0/%d", spec.Replicas), Pods: append([]podReport{}, byRegion[spec.Name]...)}
		for _, st := range rc.Status.Regions {
			if st.Name == spec.Name {
				rr.Ready = fmt.Sprintf("%d/%d", st.Ready, st.Desired)
			}
		}
		sort.Slice(rr.Pods, func(i, j int) bool { return rr.Pods[i].Name < rr.Pods[j].Name })
		r.Regions = append(r.Regions, rr)
	}
	return r, nil
}

func (e *env) printCluster(r clusterReport) {
	fmt.Fprintf(e.out, "RealtimeCluster %s/%s  phase %s  nodes %s\n\n", r.Namespace, r.Name, e.paint(r.Phase), r.Nodes)
	tw := newTable(e.out)
	tw.row("REGION", "READY", "POD", "POD READY", "DRAINING", "CLIENTS", "CHANNELS", "MESH LINKS", "OWNS")
	for _, reg := range r.Regions {
		if len(reg.Pods) == 0 {
			tw.row(reg.Name, reg.Ready, "-", "-", "-", "-", "-", "-", "-")
		}
		for i, p := range reg.Pods {
			name, ready := reg.Name, reg.Ready
			if i > 0 {
				name, ready = "", ""
			}
			tw.row(name, ready, p.Name, e.paint(yesNo(p.Ready)), drainText(p.Draining), intOrDash(p.Clients), intOrDash(p.Channels),
				intOrDash(p.Links), orDash(strings.Join(p.Tenants, ",")))
		}
	}
	tw.flush()
	fmt.Fprintln(e.out)
	tw = newTable(e.out)
	tw.row("TENANT", "DB REGION", "OWNER", "OWNER REGION", "READY", "PLACEMENT")
	for _, t := range r.Tenants {
		tw.row(t.Name, t.DBRegion, t.Owner, t.Region, e.paint(t.Ready), t.Placement)
	}
	if len(r.Tenants) == 0 {
		tw.row("(none)", "", "", "", "", "")
	}
	tw.flush()
}

func podReady(p *corev1.Pod) bool {
	if p.DeletionTimestamp != nil {
		return false
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func drainText(d bool) string {
	if d {
		return "draining"
	}
	return "-"
}
