package workload

import (
	"fmt"
	"math"
	"net/netip"
	"path"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Validation of a pod runs on the manifest as written, before Defaults: a
// field Defaults fills (restartPolicy, protocol, a probe's timings...) may be
// empty or zero, and zero then means "the default". The rules are
// Kubernetes' (pkg/apis/core/validation), with its field paths and
// messages, so that what kube-apiserver accepts Shoal accepts.

func validatePod(p *Pod) field.ErrorList {
	errs := validatePodSpecOf(&p.Spec, true, field.NewPath("spec"))
	errs = append(errs, validateAppArmorAnnotations(p, field.NewPath("metadata", "annotations"))...)
	return append(errs, validatePodStatus(&p.Status, field.NewPath("status"))...)
}

// podContext is what a container's rules need to know of the rest of the pod.
type podContext struct {
	volumes    map[string]*VolumeSource
	claims     map[string]bool // spec.resourceClaims by name
	containers map[string]bool // every container's name, init ones too
	names      map[string]bool // container names seen so far
	hostPorts  map[string]bool // "TCP//80" (protocol/hostIP/port) seen so far
	grace      int64
}

// validatePodSpec checks the pod template of a Deployment or ReplicaSet.
func validatePodSpec(s *PodSpec, p *field.Path) field.ErrorList {
	return validatePodSpecOf(s, false, p)
}

// validatePodSpecOf checks a pod's spec; isPod is false for a template,
// which Kubernetes checks a little more loosely (an image volume may leave
// out its reference).
func validatePodSpecOf(s *PodSpec, isPod bool, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	volumes, verrs := validateVolumes(s.Volumes, isPod, p.Child("volumes"))
	errs = append(errs, verrs...)
	claims, cerrs := validatePodResourceClaims(s.ResourceClaims, p.Child("resourceClaims"))
	errs = append(errs, cerrs...)

	ctx := &podContext{volumes: volumes, claims: claims, containers: map[string]bool{}, names: map[string]bool{},
		grace: DefaultTerminationGracePeriodSeconds}
	for _, cs := range [][]Container{s.InitContainers, s.Containers} {
		for _, c := range cs {
			ctx.containers[c.Name] = true
		}
	}
	if g := s.TerminationGracePeriodSeconds; g != nil {
		if *g < 0 {
			errs = append(errs, field.Invalid(p.Child("terminationGracePeriodSeconds"), *g, "must be greater than or equal to 0"))
		}
		ctx.grace = *g
	}
	// Init containers run one at a time (sidecars aside), so their host
	// ports may repeat each other's and the app containers'.
	for i := range s.InitContainers {
		ctx.hostPorts = map[string]bool{}
		errs = append(errs, validateContainer(&s.InitContainers[i], true, ctx, p.Child("initContainers").Index(i))...)
	}
	ctx.hostPorts = map[string]bool{}
	if len(s.Containers) == 0 {
		errs = append(errs, field.Required(p.Child("containers"), ""))
	}
	for i := range s.Containers {
		errs = append(errs, validateContainer(&s.Containers[i], false, ctx, p.Child("containers").Index(i))...)
	}
	if len(s.EphemeralContainers) > 0 && isPod {
		errs = append(errs, field.Forbidden(p.Child("ephemeralContainers"), "cannot be set on create"))
	}
	if s.HostNetwork {
		errs = append(errs, validateHostNetworkPorts(s.Containers, p.Child("containers"))...)
	}

	if s.RestartPolicy != "" {
		errs = append(errs, validateEnum(p.Child("restartPolicy"), s.RestartPolicy, RestartPolicyAlways, RestartPolicyOnFailure, RestartPolicyNever)...)
	}
	if s.DNSPolicy != "" {
		errs = append(errs, validateEnum(p.Child("dnsPolicy"), s.DNSPolicy,
			corev1.DNSClusterFirstWithHostNet, corev1.DNSClusterFirst, corev1.DNSDefault, corev1.DNSNone)...)
	}
	errs = append(errs, validateDNSConfig(s.DNSConfig, s.DNSPolicy, p.Child("dnsConfig"))...)
	errs = append(errs, validateLabels(s.NodeSelector, p.Child("nodeSelector"))...)
	errs = append(errs, validatePodSecurityContext(s, p)...)
	if s.NodeName != "" {
		errs = append(errs, validateSubdomain(s.NodeName, p.Child("nodeName"))...)
		if len(s.SchedulingGates) > 0 && isPod {
			errs = append(errs, field.Forbidden(p.Child("nodeName"), "cannot be set until all schedulingGates have been cleared"))
		}
	}
	if s.Hostname != "" {
		for _, msg := range validation.IsDNS1123Label(s.Hostname) {
			errs = append(errs, field.Invalid(p.Child("hostname"), s.Hostname, msg))
		}
	}
	if s.Subdomain != "" {
		for _, msg := range validation.IsDNS1123Label(s.Subdomain) {
			errs = append(errs, field.Invalid(p.Child("subdomain"), s.Subdomain, msg))
		}
	}
	if s.ServiceAccountName != "" {
		errs = append(errs, validateSubdomain(s.ServiceAccountName, p.Child("serviceAccountName"))...)
	}
	if s.PriorityClassName != "" {
		errs = append(errs, validateSubdomain(s.PriorityClassName, p.Child("priorityClassName"))...)
	}
	if s.RuntimeClassName != nil {
		errs = append(errs, validateSubdomain(*s.RuntimeClassName, p.Child("runtimeClassName"))...)
	}
	if s.PreemptionPolicy != nil {
		errs = append(errs, validateEnum(p.Child("preemptionPolicy"), *s.PreemptionPolicy, PreemptLowerPriority, PreemptNever)...)
	}
	if d := s.ActiveDeadlineSeconds; d != nil && (*d < 1 || *d > math.MaxInt32) {
		errs = append(errs, field.Invalid(p.Child("activeDeadlineSeconds"), *d, validation.InclusiveRangeError(1, math.MaxInt32)))
	}
	if s.Overhead != nil {
		errs = append(errs, validateResources(ResourceRequirements{Limits: s.Overhead}, nil, p.Child("overhead"))...)
	}
	errs = append(errs, validateOS(s, p)...)
	if s.Affinity != nil {
		errs = append(errs, validateAffinity(s.Affinity, p.Child("affinity"))...)
	}
	errs = append(errs, validateTolerations(s.Tolerations, p.Child("tolerations"))...)
	errs = append(errs, validateHostAliases(s.HostAliases, p.Child("hostAliases"))...)
	errs = append(errs, validateTopologySpread(s.TopologySpreadConstraints, p.Child("topologySpreadConstraints"))...)
	for i, g := range s.ReadinessGates {
		gp := p.Child("readinessGates").Index(i).Child("conditionType")
		for _, msg := range validation.IsQualifiedName(string(g.ConditionType)) {
			errs = append(errs, field.Invalid(gp, string(g.ConditionType), msg))
		}
	}
	gates := map[string]bool{}
	for i, g := range s.SchedulingGates {
		gp := p.Child("schedulingGates").Index(i)
		for _, msg := range validation.IsQualifiedName(g.Name) {
			errs = append(errs, field.Invalid(gp, g.Name, msg))
		}
		if gates[g.Name] {
			errs = append(errs, field.Duplicate(gp, g.Name))
		}
		gates[g.Name] = true
	}
	// imagePullSecrets: Kubernetes checks nothing of a reference (a name
	// that names no Secret is skipped when pulling), and neither does Shoal.
	return errs
}

// validateHostNetworkPorts checks that a pod on the node's network maps
// each port to itself: a hostPort, when set (Defaults sets it to the
// containerPort), must equal the containerPort.
func validateHostNetworkPorts(containers []Container, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, c := range containers {
		for j, port := range c.Ports {
			if port.HostPort != 0 && port.HostPort != port.ContainerPort {
				errs = append(errs, field.Invalid(p.Index(i).Child("ports").Index(j).Child("hostPort"), port.HostPort,
					"must match `containerPort` when `hostNetwork` is true"))
			}
		}
	}
	return errs
}

// validateEnum checks that v is one of supported.
func validateEnum[T ~string](p *field.Path, v T, supported ...T) field.ErrorList {
	if v == "" {
		return field.ErrorList{field.Required(p, "")}
	}
	if slices.Contains(supported, v) {
		return nil
	}
	return field.ErrorList{field.NotSupported(p, v, supported)}
}

// validateObjectName checks a reference to another object by name: required
// and a DNS-1123 subdomain, as names of ConfigMaps, Secrets and claims are.
func validateObjectName(name string, p *field.Path) field.ErrorList {
	if name == "" {
		return field.ErrorList{field.Required(p, "")}
	}
	return validateSubdomain(name, p)
}

func validateContainer(c *Container, init bool, ctx *podContext, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	namePath := p.Child("name")
	switch {
	case c.Name == "":
		errs = append(errs, field.Required(namePath, ""))
	case ctx.names[c.Name]:
		errs = append(errs, field.Duplicate(namePath, c.Name))
	default:
		for _, msg := range validation.IsDNS1123Label(c.Name) {
			errs = append(errs, field.Invalid(namePath, c.Name, msg))
		}
	}
	ctx.names[c.Name] = true

	imagePath := p.Child("image")
	switch {
	case c.Image == "":
		errs = append(errs, field.Required(imagePath, ""))
	case strings.TrimSpace(c.Image) != c.Image:
		errs = append(errs, field.Invalid(imagePath, c.Image, "must not have leading or trailing whitespace"))
	}
	if c.ImagePullPolicy != "" {
		errs = append(errs, validateEnum(p.Child("imagePullPolicy"), c.ImagePullPolicy, PullAlways, PullIfNotPresent, PullNever)...)
	}
	if c.TerminationMessagePolicy != "" {
		errs = append(errs, validateEnum(p.Child("terminationMessagePolicy"), c.TerminationMessagePolicy,
			corev1.TerminationMessageReadFile, corev1.TerminationMessageFallbackToLogsOnError)...)
	}

	errs = append(errs, validatePorts(c.Ports, ctx, p.Child("ports"))...)
	errs = append(errs, validateEnv(c.Env, ctx, p.Child("env"))...)
	errs = append(errs, validateEnvFrom(c.EnvFrom, p.Child("envFrom"))...)
	errs = append(errs, validateResources(c.Resources, ctx.claims, p.Child("resources"))...)
	errs = append(errs, validateVolumeMounts(c.VolumeMounts, ctx.volumes, p.Child("volumeMounts"))...)
	errs = append(errs, validateContainerSecurityContext(c.SecurityContext, p.Child("securityContext"))...)

	// A restartable init container (a sidecar: restartPolicy Always) runs
	// beside the app containers and may have what they have: probes and
	// lifecycle hooks. restartPolicy itself is for init containers only.
	sidecar := false
	if c.RestartPolicy != nil {
		if init {
			errs = append(errs, validateEnum(p.Child("restartPolicy"), *c.RestartPolicy, corev1.ContainerRestartPolicyAlways)...)
			sidecar = *c.RestartPolicy == corev1.ContainerRestartPolicyAlways
		} else {
			errs = append(errs, field.Forbidden(p.Child("restartPolicy"), "may not be set for non-init containers"))
		}
	}
	probes := []struct {
		name  string
		probe *Probe
	}{{"livenessProbe", c.LivenessProbe}, {"readinessProbe", c.ReadinessProbe}, {"startupProbe", c.StartupProbe}}
	for _, pr := range probes {
		if pr.probe == nil {
			continue
		}
		if init && !sidecar {
			errs = append(errs, field.Forbidden(p.Child(pr.name), "may not be set for init containers"))
			continue
		}
		errs = append(errs, validateProbe(pr.probe, pr.name, c, p.Child(pr.name))...)
	}
	if l := c.Lifecycle; l != nil {
		if init && !sidecar {
			errs = append(errs, field.Forbidden(p.Child("lifecycle"), "may not be set for init containers"))
		} else {
			if l.PostStart != nil {
				errs = append(errs, validateLifecycleHandler(l.PostStart, c, ctx.grace, p.Child("lifecycle", "postStart"))...)
			}
			if l.PreStop != nil {
				errs = append(errs, validateLifecycleHandler(l.PreStop, c, ctx.grace, p.Child("lifecycle", "preStop"))...)
			}
		}
	}
	return errs
}

func validatePorts(ports []ContainerPort, ctx *podContext, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	names := map[string]bool{}
	for i, port := range ports {
		pp := p.Index(i)
		if port.Name != "" {
			np := pp.Child("name")
			for _, msg := range validation.IsValidPortName(port.Name) {
				errs = append(errs, field.Invalid(np, port.Name, msg))
			}
			if names[port.Name] {
				errs = append(errs, field.Duplicate(np, port.Name))
			}
			names[port.Name] = true
		}
		if port.ContainerPort == 0 {
			errs = append(errs, field.Required(pp.Child("containerPort"), ""))
		} else {
			for _, msg := range validation.IsValidPortNum(int(port.ContainerPort)) {
				errs = append(errs, field.Invalid(pp.Child("containerPort"), port.ContainerPort, msg))
			}
		}
		protocol := port.Protocol
		if protocol != "" {
			errs = append(errs, validateEnum(pp.Child("protocol"), protocol, ProtocolTCP, ProtocolUDP, corev1.ProtocolSCTP)...)
		} else {
			protocol = ProtocolTCP
		}
		if port.HostIP != "" {
			errs = append(errs, validation.IsValidIP(pp.Child("hostIP"), port.HostIP)...)
		}
		if port.HostPort != 0 {
			for _, msg := range validation.IsValidPortNum(int(port.HostPort)) {
				errs = append(errs, field.Invalid(pp.Child("hostPort"), port.HostPort, msg))
			}
			key := fmt.Sprintf("%s/%s/%d", protocol, port.HostIP, port.HostPort)
			if ctx.hostPorts[key] {
				errs = append(errs, field.Duplicate(pp.Child("hostPort"), key))
			}
			ctx.hostPorts[key] = true
		}
	}
	return errs
}

func validateEnv(env []EnvVar, ctx *podContext, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, e := range env {
		ep := p.Index(i)
		if e.Name == "" {
			errs = append(errs, field.Required(ep.Child("name"), ""))
		} else {
			for _, msg := range validation.IsEnvVarName(e.Name) {
				errs = append(errs, field.Invalid(ep.Child("name"), e.Name, msg))
			}
		}
		if e.ValueFrom == nil {
			continue
		}
		vp := ep.Child("valueFrom")
		vf := e.ValueFrom
		n := 0
		if vf.FieldRef != nil {
			n++
			errs = append(errs, validateFieldRef(vf.FieldRef, EnvFieldPaths, vp.Child("fieldRef"))...)
		}
		if vf.ResourceFieldRef != nil {
			n++
			errs = append(errs, validateResourceFieldRef(vf.ResourceFieldRef, false, ctx.containers, vp.Child("resourceFieldRef"))...)
		}
		if r := vf.ConfigMapKeyRef; r != nil {
			n++
			errs = append(errs, validateKeyRef(r.Name, r.Key, vp.Child("configMapKeyRef"))...)
		}
		if r := vf.SecretKeyRef; r != nil {
			n++
			errs = append(errs, validateKeyRef(r.Name, r.Key, vp.Child("secretKeyRef"))...)
		}
		switch {
		case n == 0:
			errs = append(errs, field.Invalid(vp, "", "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`"))
		case e.Value != "":
			errs = append(errs, field.Invalid(vp, "", "may not be specified when `value` is not empty"))
		case n > 1:
			errs = append(errs, field.Invalid(vp, "", "may not have more than one field specified at a time"))
		}
	}
	return errs
}

func validateKeyRef(name, key string, p *field.Path) field.ErrorList {
	errs := validateObjectName(name, p.Child("name"))
	if key == "" {
		return append(errs, field.Required(p.Child("key"), ""))
	}
	for _, msg := range validation.IsConfigMapKey(key) {
		errs = append(errs, field.Invalid(p.Child("key"), key, msg))
	}
	return errs
}

func validateEnvFrom(from []EnvFromSource, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, f := range from {
		fp := p.Index(i)
		if f.Prefix != "" {
			for _, msg := range validation.IsEnvVarName(f.Prefix) {
				errs = append(errs, field.Invalid(fp.Child("prefix"), f.Prefix, msg))
			}
		}
		n := 0
		if f.ConfigMapRef != nil {
			n++
			errs = append(errs, validateObjectName(f.ConfigMapRef.Name, fp.Child("configMapRef", "name"))...)
		}
		if f.SecretRef != nil {
			n++
			errs = append(errs, validateObjectName(f.SecretRef.Name, fp.Child("secretRef", "name"))...)
		}
		switch {
		case n == 0:
			errs = append(errs, field.Invalid(fp, "", "must specify one of: `configMapRef` or `secretRef`"))
		case n > 1:
			errs = append(errs, field.Invalid(fp, "", "may not have more than one field specified at a time"))
		}
	}
	return errs
}

func validateVolumeMounts(mounts []VolumeMount, volumes map[string]*VolumeSource, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	paths := map[string]bool{}
	for i, m := range mounts {
		mp := p.Index(i)
		src, declared := volumes[m.Name]
		switch {
		case m.Name == "":
			errs = append(errs, field.Required(mp.Child("name"), ""))
		case !declared:
			errs = append(errs, field.NotFound(mp.Child("name"), m.Name))
		}
		pathPath := mp.Child("mountPath")
		switch {
		case m.MountPath == "":
			errs = append(errs, field.Required(pathPath, ""))
		case !path.IsAbs(m.MountPath):
			errs = append(errs, field.Invalid(pathPath, m.MountPath, "must be an absolute path"))
		case paths[path.Clean(m.MountPath)]:
			errs = append(errs, field.Invalid(pathPath, m.MountPath, "must be unique"))
		}
		paths[path.Clean(m.MountPath)] = true
		if declared && src.Image != nil {
			if m.SubPath != "" {
				errs = append(errs, field.Invalid(mp.Child("subPath"), m.SubPath, "not allowed in image volume sources"))
			}
			if m.SubPathExpr != "" {
				errs = append(errs, field.Invalid(mp.Child("subPathExpr"), m.SubPathExpr, "not allowed in image volume sources"))
			}
		}
		if m.SubPath != "" {
			errs = append(errs, validateRelativePath(m.SubPath, mp.Child("subPath"))...)
		}
		if m.SubPathExpr != "" {
			if m.SubPath != "" {
				errs = append(errs, field.Invalid(mp.Child("subPathExpr"), m.SubPathExpr, "subPathExpr and subPath are mutually exclusive"))
			}
			errs = append(errs, validateRelativePath(m.SubPathExpr, mp.Child("subPathExpr"))...)
		}
		if m.MountPropagation != nil {
			errs = append(errs, validateEnum(mp.Child("mountPropagation"), *m.MountPropagation,
				corev1.MountPropagationBidirectional, corev1.MountPropagationHostToContainer, corev1.MountPropagationNone)...)
		}
	}
	return errs
}

// validateRelativePath checks a path that must stay inside a volume.
func validateRelativePath(p string, fp *field.Path) field.ErrorList {
	if path.IsAbs(p) {
		return field.ErrorList{field.Invalid(fp, p, "must be a relative path")}
	}
	if slices.Contains(strings.Split(p, "/"), "..") {
		return field.ErrorList{field.Invalid(fp, p, "must not contain '..'")}
	}
	return nil
}

// validateProbe checks one probe (kind is livenessProbe, readinessProbe or
// startupProbe). A timing left at 0 takes its default; liveness and startup
// probes must succeed once to pass (successThreshold 1), and only they may
// have their own terminationGracePeriodSeconds.
func validateProbe(pr *Probe, kind string, c *Container, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	var handlers []string
	if pr.Exec != nil {
		handlers = append(handlers, "exec")
		errs = append(errs, validateExec(pr.Exec, p.Child("exec"))...)
	}
	if pr.HTTPGet != nil {
		handlers = append(handlers, "httpGet")
		errs = append(errs, validateHTTPGet(pr.HTTPGet, c, p.Child("httpGet"))...)
	}
	if pr.TCPSocket != nil {
		handlers = append(handlers, "tcpSocket")
		errs = append(errs, validatePortRef(pr.TCPSocket.Port, c, p.Child("tcpSocket", "port"))...)
	}
	if pr.GRPC != nil {
		handlers = append(handlers, "grpc")
		for _, msg := range validation.IsValidPortNum(int(pr.GRPC.Port)) {
			errs = append(errs, field.Invalid(p.Child("grpc", "port"), int64(pr.GRPC.Port), msg))
		}
	}
	errs = append(errs, validateOneHandler(handlers, p)...)

	if pr.InitialDelaySeconds < 0 {
		errs = append(errs, field.Invalid(p.Child("initialDelaySeconds"), pr.InitialDelaySeconds, "must be greater than or equal to 0"))
	}
	for _, f := range []struct {
		name string
		v    int32
	}{{"timeoutSeconds", pr.TimeoutSeconds}, {"periodSeconds", pr.PeriodSeconds}, {"successThreshold", pr.SuccessThreshold}, {"failureThreshold", pr.FailureThreshold}} {
		if f.v < 0 {
			errs = append(errs, field.Invalid(p.Child(f.name), f.v, "must be greater than or equal to 1"))
		}
	}
	if kind != "readinessProbe" && pr.SuccessThreshold > 1 {
		errs = append(errs, field.Invalid(p.Child("successThreshold"), pr.SuccessThreshold, "must be 1"))
	}
	if g := pr.TerminationGracePeriodSeconds; g != nil {
		gp := p.Child("terminationGracePeriodSeconds")
		switch {
		case kind == "readinessProbe":
			errs = append(errs, field.Invalid(gp, *g, "must not be set for readinessProbes"))
		case *g <= 0:
			errs = append(errs, field.Invalid(gp, *g, "must be greater than 0"))
		}
	}
	return errs
}

// validateOneHandler reports a probe or lifecycle handler that names no
// action, or more than one.
func validateOneHandler(handlers []string, p *field.Path) field.ErrorList {
	switch {
	case len(handlers) == 0:
		return field.ErrorList{field.Required(p, "must specify a handler type")}
	case len(handlers) > 1:
		return field.ErrorList{field.Forbidden(p.Child(handlers[1]), "may not specify more than 1 handler type")}
	}
	return nil
}

func validateExec(e *ExecAction, p *field.Path) field.ErrorList {
	if len(e.Command) == 0 {
		return field.ErrorList{field.Required(p.Child("command"), "")}
	}
	return nil
}

func validateHTTPGet(h *HTTPGetAction, c *Container, p *field.Path) field.ErrorList {
	errs := validatePortRef(h.Port, c, p.Child("port"))
	if h.Scheme != "" {
		errs = append(errs, validateEnum(p.Child("scheme"), h.Scheme, URISchemeHTTP, URISchemeHTTPS)...)
	}
	for i, hd := range h.HTTPHeaders {
		for _, msg := range validation.IsHTTPHeaderName(hd.Name) {
			errs = append(errs, field.Invalid(p.Child("httpHeaders").Index(i).Child("name"), hd.Name, msg))
		}
	}
	return errs
}

// validatePortRef checks a port given by number, or by the name of one of
// the container's ports.
func validatePortRef(port IntOrString, c *Container, p *field.Path) field.ErrorList {
	if port.Type == IntOrStringInt {
		var errs field.ErrorList
		for _, msg := range validation.IsValidPortNum(int(port.IntVal)) {
			errs = append(errs, field.Invalid(p, port.IntVal, msg))
		}
		return errs
	}
	if msgs := validation.IsValidPortName(port.StrVal); len(msgs) > 0 {
		var errs field.ErrorList
		for _, msg := range msgs {
			errs = append(errs, field.Invalid(p, port.StrVal, msg))
		}
		return errs
	}
	for _, cp := range c.Ports {
		if cp.Name == port.StrVal {
			return nil
		}
	}
	return field.ErrorList{field.Invalid(p, port.StrVal, "must be the name of one of the container's ports")}
}

func validateLifecycleHandler(h *LifecycleHandler, c *Container, grace int64, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	var handlers []string
	if h.Exec != nil {
		handlers = append(handlers, "exec")
		errs = append(errs, validateExec(h.Exec, p.Child("exec"))...)
	}
	if h.HTTPGet != nil {
		handlers = append(handlers, "httpGet")
		errs = append(errs, validateHTTPGet(h.HTTPGet, c, p.Child("httpGet"))...)
	}
	if h.TCPSocket != nil {
		// Deprecated in a hook, and never run by Kubernetes, but accepted.
		handlers = append(handlers, "tcpSocket")
		errs = append(errs, validatePortRef(h.TCPSocket.Port, c, p.Child("tcpSocket", "port"))...)
	}
	if h.Sleep != nil {
		handlers = append(handlers, "sleep")
		if s := h.Sleep.Seconds; s < 0 || s > grace {
			errs = append(errs, field.Invalid(p.Child("sleep", "seconds"), s,
				fmt.Sprintf("must be non-negative and at most terminationGracePeriodSeconds (%d)", grace)))
		}
	}
	return append(errs, validateOneHandler(handlers, p)...)
}

func validateAffinity(a *Affinity, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if na := a.NodeAffinity; na != nil {
		np := p.Child("nodeAffinity")
		if r := na.RequiredDuringSchedulingIgnoredDuringExecution; r != nil {
			rp := np.Child("requiredDuringSchedulingIgnoredDuringExecution")
			if len(r.NodeSelectorTerms) == 0 {
				errs = append(errs, field.Required(rp.Child("nodeSelectorTerms"), "must have at least one node selector term"))
			}
			for i, t := range r.NodeSelectorTerms {
				errs = append(errs, validateNodeSelectorTerm(t, rp.Child("nodeSelectorTerms").Index(i))...)
			}
		}
		for i, t := range na.PreferredDuringSchedulingIgnoredDuringExecution {
			tp := np.Child("preferredDuringSchedulingIgnoredDuringExecution").Index(i)
			errs = append(errs, validateWeight(t.Weight, tp.Child("weight"))...)
			errs = append(errs, validateNodeSelectorTerm(t.Preference, tp.Child("preference"))...)
		}
	}
	if pa := a.PodAffinity; pa != nil {
		errs = append(errs, validatePodAffinityTerms(pa.RequiredDuringSchedulingIgnoredDuringExecution, pa.PreferredDuringSchedulingIgnoredDuringExecution, p.Child("podAffinity"))...)
	}
	if pa := a.PodAntiAffinity; pa != nil {
		errs = append(errs, validatePodAffinityTerms(pa.RequiredDuringSchedulingIgnoredDuringExecution, pa.PreferredDuringSchedulingIgnoredDuringExecution, p.Child("podAntiAffinity"))...)
	}
	return errs
}

func validateWeight(w int32, p *field.Path) field.ErrorList {
	if w < 1 || w > 100 {
		return field.ErrorList{field.Invalid(p, w, "must be in the range 1-100")}
	}
	return nil
}

func validateNodeSelectorTerm(t NodeSelectorTerm, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, r := range t.MatchExpressions {
		errs = append(errs, validateRequirement(r.Key, string(r.Operator), r.Values, true, p.Child("matchExpressions").Index(i))...)
	}
	return errs
}

var (
	labelSelectorOps = []string{"In", "NotIn", "Exists", "DoesNotExist"}
	nodeSelectorOps  = []string{"In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"}
)

// validateRequirement checks one label test of a node or label selector;
// withGtLt allows the numeric operators of node selectors.
func validateRequirement(key, op string, values []string, withGtLt bool, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if key == "" {
		errs = append(errs, field.Required(p.Child("key"), ""))
	} else {
		for _, msg := range validation.IsQualifiedName(key) {
			errs = append(errs, field.Invalid(p.Child("key"), key, msg))
		}
	}
	vp := p.Child("values")
	switch op {
	case "In", "NotIn":
		if len(values) == 0 {
			errs = append(errs, field.Required(vp, "must be specified when `operator` is 'In' or 'NotIn'"))
		}
		for i, v := range values {
			for _, msg := range validation.IsValidLabelValue(v) {
				errs = append(errs, field.Invalid(vp.Index(i), v, msg))
			}
		}
	case "Exists", "DoesNotExist":
		if len(values) > 0 {
			errs = append(errs, field.Forbidden(vp, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"))
		}
	case "Gt", "Lt":
		if !withGtLt {
			errs = append(errs, field.NotSupported(p.Child("operator"), op, labelSelectorOps))
			break
		}
		if len(values) != 1 {
			errs = append(errs, field.Required(vp, "must be specified single value when `operator` is 'Lt' or 'Gt'"))
		} else if _, err := strconv.ParseInt(values[0], 10, 64); err != nil {
			errs = append(errs, field.Invalid(vp.Index(0), values[0], "must be an integer"))
		}
	case "":
		errs = append(errs, field.Required(p.Child("operator"), ""))
	default:
		ops := labelSelectorOps
		if withGtLt {
			ops = nodeSelectorOps
		}
		errs = append(errs, field.NotSupported(p.Child("operator"), op, ops))
	}
	return errs
}

func validateLabelSelector(s *LabelSelector, p *field.Path) field.ErrorList {
	if s == nil {
		return nil
	}
	errs := validateLabels(s.MatchLabels, p.Child("matchLabels"))
	for i, r := range s.MatchExpressions {
		errs = append(errs, validateRequirement(r.Key, string(r.Operator), r.Values, false, p.Child("matchExpressions").Index(i))...)
	}
	return errs
}

func validatePodAffinityTerms(required []PodAffinityTerm, preferred []WeightedPodAffinityTerm, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, t := range required {
		errs = append(errs, validatePodAffinityTerm(t, p.Child("requiredDuringSchedulingIgnoredDuringExecution").Index(i))...)
	}
	for i, t := range preferred {
		tp := p.Child("preferredDuringSchedulingIgnoredDuringExecution").Index(i)
		errs = append(errs, validateWeight(t.Weight, tp.Child("weight"))...)
		errs = append(errs, validatePodAffinityTerm(t.PodAffinityTerm, tp.Child("podAffinityTerm"))...)
	}
	return errs
}

func validatePodAffinityTerm(t PodAffinityTerm, p *field.Path) field.ErrorList {
	errs := validateTopologyKey(t.TopologyKey, p.Child("topologyKey"))
	return append(errs, validateLabelSelector(t.LabelSelector, p.Child("labelSelector"))...)
}

func validateTopologyKey(key string, p *field.Path) field.ErrorList {
	if key == "" {
		return field.ErrorList{field.Required(p, "can not be empty")}
	}
	var errs field.ErrorList
	for _, msg := range validation.IsQualifiedName(key) {
		errs = append(errs, field.Invalid(p, key, msg))
	}
	return errs
}

func validateTopologySpread(constraints []TopologySpreadConstraint, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	seen := map[string]bool{}
	for i, c := range constraints {
		cp := p.Index(i)
		if c.MaxSkew < 1 {
			errs = append(errs, field.Invalid(cp.Child("maxSkew"), c.MaxSkew, "must be greater than zero"))
		}
		errs = append(errs, validateTopologyKey(c.TopologyKey, cp.Child("topologyKey"))...)
		errs = append(errs, validateEnum(cp.Child("whenUnsatisfiable"), c.WhenUnsatisfiable, DoNotSchedule, ScheduleAnyway)...)
		pair := fmt.Sprintf("{%s, %s}", c.TopologyKey, c.WhenUnsatisfiable)
		if seen[pair] {
			errs = append(errs, field.Duplicate(cp, pair))
		}
		seen[pair] = true
		if m := c.MinDomains; m != nil {
			mp := cp.Child("minDomains")
			if *m <= 0 {
				errs = append(errs, field.Invalid(mp, *m, "must be greater than zero"))
			}
			if c.WhenUnsatisfiable != DoNotSchedule {
				errs = append(errs, field.Invalid(mp, *m, fmt.Sprintf("can only use minDomains if whenUnsatisfiable=%s, not %s", DoNotSchedule, c.WhenUnsatisfiable)))
			}
		}
		for _, policy := range []struct {
			name string
			v    *corev1.NodeInclusionPolicy
		}{{"nodeAffinityPolicy", c.NodeAffinityPolicy}, {"nodeTaintsPolicy", c.NodeTaintsPolicy}} {
			if policy.v != nil {
				errs = append(errs, validateEnum(cp.Child(policy.name), *policy.v, corev1.NodeInclusionPolicyHonor, corev1.NodeInclusionPolicyIgnore)...)
			}
		}
		errs = append(errs, validateMatchLabelKeys(c.MatchLabelKeys, c.LabelSelector, cp.Child("matchLabelKeys"))...)
		errs = append(errs, validateLabelSelector(c.LabelSelector, cp.Child("labelSelector"))...)
	}
	return errs
}

// validateMatchLabelKeys checks a spread constraint's matchLabelKeys: label
// names, not already in the label selector, which must be there.
func validateMatchLabelKeys(keys []string, sel *LabelSelector, p *field.Path) field.ErrorList {
	if len(keys) == 0 {
		return nil
	}
	var errs field.ErrorList
	inSelector := map[string]bool{}
	if sel == nil {
		errs = append(errs, field.Forbidden(p, "must not be specified when labelSelector is not set"))
	} else {
		for k := range sel.MatchLabels {
			inSelector[k] = true
		}
		for _, r := range sel.MatchExpressions {
			inSelector[r.Key] = true
		}
	}
	for i, k := range keys {
		for _, msg := range validation.IsQualifiedName(k) {
			errs = append(errs, field.Invalid(p.Index(i), k, msg))
		}
		if inSelector[k] {
			errs = append(errs, field.Invalid(p.Index(i), k, "exists in both matchLabelKeys and labelSelector"))
		}
	}
	return errs
}

func validatePodStatus(s *PodStatus, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if s.Phase != "" {
		errs = append(errs, validateEnum(p.Child("phase"), s.Phase, PodPending, PodRunning, PodSucceeded, PodFailed, PodUnknown)...)
	}
	for i, c := range s.Conditions {
		cp := p.Child("conditions").Index(i)
		if c.Type == "" {
			errs = append(errs, field.Required(cp.Child("type"), ""))
		}
		errs = append(errs, validateEnum(cp.Child("status"), c.Status, ConditionTrue, ConditionFalse, ConditionUnknown)...)
	}
	errs = append(errs, validateIP(s.HostIP, p.Child("hostIP"))...)
	errs = append(errs, validateIP(s.PodIP, p.Child("podIP"))...)
	for i, ip := range s.PodIPs {
		ipp := p.Child("podIPs").Index(i).Child("ip")
		if ip.IP == "" {
			errs = append(errs, field.Required(ipp, ""))
		}
		errs = append(errs, validateIP(ip.IP, ipp)...)
	}
	for _, list := range []struct {
		name     string
		statuses []ContainerStatus
	}{{"initContainerStatuses", s.InitContainerStatuses}, {"containerStatuses", s.ContainerStatuses}} {
		for i, cs := range list.statuses {
			cp := p.Child(list.name).Index(i)
			if cs.Name == "" {
				errs = append(errs, field.Required(cp.Child("name"), ""))
			}
			if cs.RestartCount < 0 {
				errs = append(errs, field.Invalid(cp.Child("restartCount"), cs.RestartCount, "must be greater than or equal to 0"))
			}
			errs = append(errs, validateContainerState(cs.State, cp.Child("state"))...)
			errs = append(errs, validateContainerState(cs.LastTerminationState, cp.Child("lastState"))...)
		}
	}
	return errs
}

func validateContainerState(s ContainerState, p *field.Path) field.ErrorList {
	var set []string
	if s.Waiting != nil {
		set = append(set, "waiting")
	}
	if s.Running != nil {
		set = append(set, "running")
	}
	if s.Terminated != nil {
		set = append(set, "terminated")
	}
	if len(set) > 1 {
		return field.ErrorList{field.Forbidden(p.Child(set[1]), "may not specify more than 1 container state")}
	}
	return nil
}

// validateIP checks an optional IP address.
func validateIP(ip string, p *field.Path) field.ErrorList {
	if ip == "" {
		return nil
	}
	if _, err := netip.ParseAddr(ip); err != nil {
		return field.ErrorList{field.Invalid(p, ip, "must be a valid IP address")}
	}
	return nil
}
