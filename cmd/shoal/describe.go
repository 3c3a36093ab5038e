package main

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"
	corev1 "k8s.io/api/core/v1"

	"github.com/shoalproject/shoal/peer/api"
	"github.com/shoalproject/shoal/workload"
)

func describeCommand() *cli.Command {
	return &cli.Command{
		Name:      "describe",
		Usage:     "show one object in detail, as kubectl describe does",
		ArgsUsage: "KIND NAME",
		Flags: withClientFlags(
			&cli.StringFlag{Name: "namespace", Aliases: []string{"n"}, Value: workload.DefaultNamespace},
		),
		Action: func(c *cli.Context) error {
			if c.NArg() != 2 {
				return usagef("describe takes KIND NAME")
			}
			info, err := workload.LookupKind(c.Args().Get(0))
			if err != nil {
				return usageError{err}
			}
			cl, err := client(c)
			if err != nil {
				return err
			}
			defer cl.Close()
			var o map[string]any
			if err := cl.Do(c.Context, http.MethodGet, objectPath(info, c.String("namespace"), c.Args().Get(1)), nil, &o); err != nil {
				return err
			}
			describe(c.App.Writer, info, o)
			if info.Kind == "Node" { // its pods and what they hold, as kubectl shows them
				var n workload.Node
				if typed(o, &n) {
					if pods, err := nodePods(c, cl, n.Name); err != nil {
						fmt.Fprintf(c.App.Writer, "Non-terminated Pods:          <unavailable: %v>\n", err)
					} else {
						describeNodePods(c.App.Writer, &n, pods, time.Now())
					}
				}
			}
			if info.Kind == "Service" { // its Endpoints, as kubectl shows them
				var ep workload.Endpoints
				epInfo, _ := workload.LookupKind("Endpoints")
				if cl.Do(c.Context, http.MethodGet, objectPath(epInfo, c.String("namespace"), c.Args().Get(1)), nil, &ep) != nil {
					ep = workload.Endpoints{}
				}
				fmt.Fprintf(c.App.Writer, "%-25s%s\n", "Endpoints:", endpointsColumn(ep))
			}
			describeEvents(c, cl, info, o)
			return nil
		},
	}
}

// describe prints an object's fields in kubectl describe's layout.
func describe(w io.Writer, info workload.KindInfo, o map[string]any) {
	m := metaOf(o)
	field := func(k string, v any) { fmt.Fprintf(w, "%-14s%v\n", k+":", v) }
	if info.Kind == "Service" { // kubectl's wider column, for "Internal Traffic Policy:"
		field = func(k string, v any) { fmt.Fprintf(w, "%-25s%v\n", k+":", v) }
	}
	field("Name", m["name"])
	if info.Namespaced {
		field("Namespace", m["namespace"])
	}
	field("Labels", keyValues(m["labels"], 14))
	field("Annotations", keyValues(m["annotations"], 14))
	if ts, ok := m["creationTimestamp"]; ok {
		field("Created", ts)
	}
	field("UID", m["uid"])
	field("Version", m["resourceVersion"])
	switch info.Kind {
	case "Namespace":
		st, _ := o["status"].(map[string]any)
		field("Status", st["phase"])
	case "ConfigMap":
		fmt.Fprintln(w, "\nData\n====")
		data, _ := o["data"].(map[string]any)
		for _, k := range sortedMapKeys(data) {
			fmt.Fprintf(w, "%s:\n----\n%v\n\n", k, data[k])
		}
		bin, _ := o["binaryData"].(map[string]any)
		if len(bin) > 0 {
			fmt.Fprintln(w, "BinaryData\n====")
			for _, k := range sortedMapKeys(bin) {
				fmt.Fprintf(w, "%s: %d bytes (base64)\n", k, len(fmt.Sprint(bin[k]))*3/4)
			}
		}
	case "Pod":
		var p workload.Pod
		if typed(o, &p) {
			describePod(w, field, &p)
		}
	case "Node":
		var n workload.Node
		if typed(o, &n) {
			describeNode(w, field, &n)
		}
	case "Service":
		var s workload.Service
		if typed(o, &s) {
			describeService(field, &s)
		}
	}
}

func describeService(field func(string, any), s *workload.Service) {
	field("Selector", orNone(workload.SelectorString(&workload.LabelSelector{MatchLabels: s.Spec.Selector})))
	field("Type", s.Spec.Type)
	field("IP", orNone(s.Spec.ClusterIP))
	for _, p := range s.Spec.Ports {
		field("Port", fmt.Sprintf("%s  %d/%s", orNone(p.Name), p.Port, p.Protocol))
		field("TargetPort", fmt.Sprintf("%s/%s", p.TargetPort.String(), p.Protocol))
		if p.NodePort != 0 {
			field("NodePort", fmt.Sprintf("%s  %d/%s", orNone(p.Name), p.NodePort, p.Protocol))
		}
	}
	field("Session Affinity", s.Spec.SessionAffinity)
	if s.Spec.InternalTrafficPolicy != nil {
		field("Internal Traffic Policy", *s.Spec.InternalTrafficPolicy)
	}
}

func describePod(w io.Writer, field func(string, any), p *workload.Pod) {
	d := workload.PodDisplayStatus(p)
	field("Node", orNone(p.Spec.NodeName))
	if p.ObjectMeta.DeletionTimestamp != nil {
		field("Status", fmt.Sprintf("Terminating (lasts %ds)", deref(p.ObjectMeta.DeletionGracePeriodSeconds)))
	} else {
		field("Status", d.Status)
	}
	field("IP", orNone(p.Status.PodIP))
	fmt.Fprintln(w, "Containers:")
	for _, c := range p.Spec.Containers {
		fmt.Fprintf(w, "  %s:\n", c.Name)
		fmt.Fprintf(w, "    Image:          %s\n", c.Image)
		for _, cs := range p.Status.ContainerStatuses {
			if cs.Name != c.Name {
				continue
			}
			fmt.Fprintf(w, "    State:          %s\n", stateString(cs.State))
			if cs.LastTerminationState.Terminated != nil {
				fmt.Fprintf(w, "    Last State:     %s\n", stateString(cs.LastTerminationState))
			}
			fmt.Fprintf(w, "    Ready:          %v\n", cs.Ready)
			fmt.Fprintf(w, "    Restart Count:  %d\n", cs.RestartCount)
		}
	}
	fmt.Fprintln(w, "Conditions:\n  Type              Status")
	for _, c := range p.Status.Conditions {
		fmt.Fprintf(w, "  %-17s %s\n", c.Type, c.Status)
	}
}

func stateString(s workload.ContainerState) string {
	switch {
	case s.Running != nil:
		return "Running (started " + s.Running.StartedAt.Format(time.RFC1123Z) + ")"
	case s.Waiting != nil:
		return "Waiting (" + s.Waiting.Reason + ")"
	case s.Terminated != nil:
		return fmt.Sprintf("Terminated (%s, exit code %d)", s.Terminated.Reason, s.Terminated.ExitCode)
	}
	return "<none>"
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

func describeNode(w io.Writer, field func(string, any), n *workload.Node) {
	field("PodCIDR", orNone(n.Spec.PodCIDR))
	fmt.Fprintln(w, "Conditions:")
	for _, c := range n.Status.Conditions {
		fmt.Fprintf(w, "  %s  %s  %s  %s\n", c.Type, c.Status, c.Reason, c.Message)
	}
	fmt.Fprintln(w, "Addresses:")
	for _, a := range n.Status.Addresses {
		fmt.Fprintf(w, "  %s:  %s\n", a.Type, a.Address)
	}
	describeResourceList(w, "Capacity", n.Status.Capacity)
	describeResourceList(w, "Allocatable", n.Status.Allocatable)
}

// describeResourceList prints every resource of l, by name, as kubectl
// describe node prints Capacity and Allocatable.
func describeResourceList(w io.Writer, title string, l workload.ResourceList) {
	fmt.Fprintln(w, title+":")
	names := make([]string, 0, len(l))
	for k := range l {
		names = append(names, string(k))
	}
	sort.Strings(names)
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	for _, k := range names {
		q := l[workload.ResourceName(k)]
		fmt.Fprintf(tw, "  %s:\t%s\n", k, q.String())
	}
	_ = tw.Flush()
}

// nodePods lists the pods bound to node that have not finished, as
// kubectl describe node asks for them.
func nodePods(c *cli.Context, cl *api.Client, node string) ([]workload.Pod, error) {
	sel := url.QueryEscape("spec.nodeName=" + node + ",status.phase!=Failed,status.phase!=Succeeded")
	var list struct{ Items []workload.Pod }
	if err := cl.Do(c.Context, http.MethodGet, "/api/v1/pods?fieldSelector="+sel, nil, &list); err != nil {
		return nil, err
	}
	return list.Items, nil
}

// describeNodePods prints a node's Non-terminated Pods and Allocated
// resources as kubectl describe node does: what the pods request and
// limit, summed as the scheduler sums them (workload.PodRequests and
// PodLimits), with each as a share of the node's allocatable; extended
// resources without shares, as kubectl shows them.
func describeNodePods(w io.Writer, n *workload.Node, pods []workload.Pod, now time.Time) {
	alloc := workload.ResourcesOf(n.Status.Allocatable)
	pct := func(v int64, name workload.ResourceName) int64 {
		if a := alloc.Get(name); a != 0 {
			return int64(float64(v) / float64(a) * 100)
		}
		return 0
	}
	var reqs, limits workload.ComputeResources
	fmt.Fprintf(w, "%-30s(%d in total)\n", "Non-terminated Pods:", len(pods))
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "  Namespace\tName\tCPU Requests\tCPU Limits\tMemory Requests\tMemory Limits\tAge")
	fmt.Fprintln(tw, "  ---------\t----\t------------\t----------\t---------------\t-------------\t---")
	for i := range pods {
		p := &pods[i]
		r, l := workload.PodRequests(p), workload.PodLimits(p)
		reqs.Add(r)
		limits.Add(l)
		cpu, mem := workload.ResourceCPU, workload.ResourceMemory
		fmt.Fprintf(tw, "  %s\t%s\t%s (%d%%)\t%s (%d%%)\t%s (%d%%)\t%s (%d%%)\t%s\n", p.Namespace, p.Name,
			qty(r, cpu), pct(r.MilliCPU, cpu), qty(l, cpu), pct(l.MilliCPU, cpu),
			qty(r, mem), pct(r.Memory, mem), qty(l, mem), pct(l.Memory, mem), humanDuration(now.Sub(p.CreationTimestamp.Time)))
	}
	_ = tw.Flush()
	fmt.Fprintln(w, "Allocated resources:\n  (Total limits may be over 100 percent, i.e., overcommitted.)")
	tw = tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "  Resource\tRequests\tLimits")
	fmt.Fprintln(tw, "  --------\t--------\t------")
	for _, name := range []workload.ResourceName{workload.ResourceCPU, workload.ResourceMemory, corev1.ResourceEphemeralStorage} {
		fmt.Fprintf(tw, "  %s\t%s (%d%%)\t%s (%d%%)\n", name, qty(reqs, name), pct(reqs.Get(name), name), qty(limits, name), pct(limits.Get(name), name))
	}
	var huge, ext []string
	for k := range n.Status.Allocatable {
		switch s := string(k); {
		case strings.HasPrefix(s, corev1.ResourceHugePagesPrefix):
			huge = append(huge, s)
		case workload.IsScalarResource(k):
			ext = append(ext, s)
		}
	}
	sort.Strings(huge)
	sort.Strings(ext)
	for _, k := range huge {
		name := workload.ResourceName(k)
		fmt.Fprintf(tw, "  %s\t%s (%d%%)\t%s (%d%%)\n", k, qty(reqs, name), pct(reqs.Get(name), name), qty(limits, name), pct(limits.Get(name), name))
	}
	for _, k := range ext {
		name := workload.ResourceName(k)
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", k, qty(reqs, name), qty(limits, name))
	}
	_ = tw.Flush()
}

// qty is r's amount of name as Kubernetes writes it.
func qty(r workload.ComputeResources, name workload.ResourceName) string {
	q := r.Quantity(name)
	return q.String()
}

// describeEvents prints the events about an object, oldest first, as the
// end of kubectl describe does.
func describeEvents(c *cli.Context, cl *api.Client, info workload.KindInfo, o map[string]any) {
	w := c.App.Writer
	m := metaOf(o)
	ns, _ := m["namespace"].(string)
	if ns == "" {
		ns = workload.DefaultNamespace
	}
	var list struct{ Items []workload.Event }
	evInfo, _ := workload.LookupKind("Event")
	if err := cl.Do(c.Context, http.MethodGet, objectPath(evInfo, ns, ""), nil, &list); err != nil {
		fmt.Fprintf(w, "\nEvents:       <unavailable: %v>\n", err)
		return
	}
	var evs []workload.Event
	for _, e := range list.Items {
		if e.InvolvedObject.Kind == info.Kind && e.InvolvedObject.Name == m["name"] && (e.InvolvedObject.UID == "" || string(e.InvolvedObject.UID) == m["uid"]) {
			evs = append(evs, e)
		}
	}
	if len(evs) == 0 {
		fmt.Fprintln(w, "\nEvents:       <none>")
		return
	}
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].LastTimestamp.Before(&evs[j].LastTimestamp) })
	fmt.Fprintln(w, "\nEvents:")
	t := newTable(w, "  Type", "Reason", "Age", "From", "Message")
	for _, e := range evs {
		t.row("  "+string(e.Type), e.Reason, humanDuration(time.Since(e.LastTimestamp.Time)), e.Source.Component+"/"+e.Source.Host, e.Message)
	}
	_ = t.flush()
}

func keyValues(v any, indent int) string {
	m, _ := v.(map[string]any)
	if len(m) == 0 {
		return "<none>"
	}
	var lines []string
	for _, k := range sortedMapKeys(m) {
		lines = append(lines, fmt.Sprintf("%s=%v", k, m[k]))
	}
	return strings.Join(lines, "\n"+strings.Repeat(" ", indent))
}

func sortedMapKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
