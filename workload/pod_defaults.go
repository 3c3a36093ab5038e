package workload

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// defaultPod fills what a pod's manifest may leave out, as Kubernetes
// does: the restart policy, the grace period, the DNS policy, an empty
// security context, the scheduler's name, service links, each container's
// pull policy and termination message path and policy,
// port protocols (and, on the host's network, host ports), probe timings,
// requests from limits, volume file modes, a projected token's lifetime,
// an image volume's pull policy and, for a pod without a status, the Pending phase (and, with scheduling
// gates, the SchedulingGated condition). Only unset fields
// change, so defaulting twice is defaulting once.
func defaultPod(p *Pod) {
	s := &p.Spec
	if s.RestartPolicy == "" {
		s.RestartPolicy = RestartPolicyAlways
	}
	if s.TerminationGracePeriodSeconds == nil {
		grace := DefaultTerminationGracePeriodSeconds
		s.TerminationGracePeriodSeconds = &grace
	}
	if s.DNSPolicy == "" {
		s.DNSPolicy = corev1.DNSClusterFirst
	}
	if s.SecurityContext == nil {
		s.SecurityContext = &corev1.PodSecurityContext{}
	}
	if s.SchedulerName == "" {
		s.SchedulerName = corev1.DefaultSchedulerName
	}
	if s.EnableServiceLinks == nil {
		yes := corev1.DefaultEnableServiceLinks
		s.EnableServiceLinks = &yes
	}
	for i := range s.InitContainers {
		defaultContainer(&s.InitContainers[i], s.HostNetwork)
	}
	for i := range s.Containers {
		defaultContainer(&s.Containers[i], s.HostNetwork)
	}
	for i := range s.Volumes {
		v := &s.Volumes[i]
		if v.ConfigMap != nil && v.ConfigMap.DefaultMode == nil {
			mode := DefaultVolumeMode
			v.ConfigMap.DefaultMode = &mode
		}
		if v.Secret != nil && v.Secret.DefaultMode == nil {
			mode := DefaultVolumeMode
			v.Secret.DefaultMode = &mode
		}
		if v.DownwardAPI != nil && v.DownwardAPI.DefaultMode == nil {
			mode := DefaultVolumeMode
			v.DownwardAPI.DefaultMode = &mode
		}
		if pr := v.Projected; pr != nil {
			if pr.DefaultMode == nil {
				mode := DefaultVolumeMode
				pr.DefaultMode = &mode
			}
			for j := range pr.Sources {
				if t := pr.Sources[j].ServiceAccountToken; t != nil && t.ExpirationSeconds == nil {
					ttl := DefaultTokenExpirationSeconds
					t.ExpirationSeconds = &ttl
				}
			}
		}
		if v.Image != nil && v.Image.PullPolicy == "" {
			v.Image.PullPolicy = defaultPullPolicy(v.Image.Reference)
		}
	}
	if p.Status.Phase == "" {
		p.Status.Phase = PodPending
	}
	schedulingGated(p)
}

// schedulingGated marks an unbound pod with scheduling gates as
// kube-apiserver does: PodScheduled False, reason SchedulingGated (kubectl
// shows it as the pod's STATUS), unless a PodScheduled condition is there.
func schedulingGated(p *Pod) {
	if len(p.Spec.SchedulingGates) == 0 || p.Spec.NodeName != "" {
		return
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodScheduled {
			return
		}
	}
	p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{Type: corev1.PodScheduled, Status: corev1.ConditionFalse,
		Reason: corev1.PodReasonSchedulingGated, Message: "Scheduling is blocked due to non-empty scheduling gates"})
}

// DefaultTokenExpirationSeconds is how long a projected service account
// token lives when its source does not say: an hour, as in Kubernetes.
const DefaultTokenExpirationSeconds int64 = 3600

// defaultContainer fills a container's defaults; on the node's network
// (hostNetwork) a port's hostPort is its containerPort.
func defaultContainer(c *Container, hostNetwork bool) {
	if c.ImagePullPolicy == "" {
		c.ImagePullPolicy = defaultPullPolicy(c.Image)
	}
	if c.TerminationMessagePath == "" {
		c.TerminationMessagePath = corev1.TerminationMessagePathDefault
	}
	if c.TerminationMessagePolicy == "" {
		c.TerminationMessagePolicy = corev1.TerminationMessageReadFile
	}
	for i := range c.Ports {
		if c.Ports[i].Protocol == "" {
			c.Ports[i].Protocol = ProtocolTCP
		}
		if hostNetwork && c.Ports[i].HostPort == 0 {
			c.Ports[i].HostPort = c.Ports[i].ContainerPort
		}
	}
	for i := range c.Env {
		if vf := c.Env[i].ValueFrom; vf != nil && vf.FieldRef != nil && vf.FieldRef.APIVersion == "" {
			vf.FieldRef.APIVersion = "v1"
		}
	}
	// A request left out is its limit: the scheduler counts what the
	// runtime will enforce.
	for _, name := range sortedKeys(c.Resources.Limits) {
		if _, ok := c.Resources.Requests[name]; !ok {
			if c.Resources.Requests == nil {
				c.Resources.Requests = ResourceList{}
			}
			c.Resources.Requests[name] = c.Resources.Limits[name]
		}
	}
	for _, p := range []*Probe{c.LivenessProbe, c.ReadinessProbe, c.StartupProbe} {
		if p == nil {
			continue
		}
		setIfZero(&p.TimeoutSeconds, DefaultProbeTimeoutSeconds)
		setIfZero(&p.PeriodSeconds, DefaultProbePeriodSeconds)
		setIfZero(&p.SuccessThreshold, DefaultProbeSuccessThreshold)
		setIfZero(&p.FailureThreshold, DefaultProbeFailureThreshold)
		defaultHTTPGet(p.HTTPGet)
	}
	if l := c.Lifecycle; l != nil {
		for _, h := range []*LifecycleHandler{l.PostStart, l.PreStop} {
			if h != nil {
				defaultHTTPGet(h.HTTPGet)
			}
		}
	}
}

func setIfZero(v *int32, def int32) {
	if *v == 0 {
		*v = def
	}
}

func defaultHTTPGet(h *HTTPGetAction) {
	if h == nil {
		return
	}
	if h.Path == "" {
		h.Path = "/"
	}
	if h.Scheme == "" {
		h.Scheme = URISchemeHTTP
	}
}

// defaultPullPolicy is Always for an image tagged :latest or not tagged
// (and not pinned by digest), IfNotPresent otherwise, as Kubernetes decides.
func defaultPullPolicy(image string) PullPolicy {
	ref, _, pinned := strings.Cut(image, "@")
	tag := ""
	if i := strings.LastIndexByte(ref, ':'); i > strings.LastIndexByte(ref, '/') {
		tag = ref[i+1:]
	}
	if tag == "latest" || (tag == "" && !pinned) {
		return PullAlways
	}
	return PullIfNotPresent
}
