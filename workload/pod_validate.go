package workload

import (
	"fmt"
	"net/netip"
	"path"
	"slices"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Validation of a pod runs on the manifest as written, before Defaults: a
// field Defaults fills (restartPolicy, protocol, a probe's timings...) may be
// empty or zero, and zero then means "the default".

func validatePod(p *Pod) field.ErrorList {
	errs := validatePodSpec(&p.Spec, field.NewPath("spec"))
	return append(errs, validatePodStatus(&p.Status, field.NewPath("status"))...)
}

// podContext is what a container's rules need to know of the rest of the pod.
type podContext struct {
	volumes   map[string]bool
	names     map[string]bool // container names seen so far
	hostPorts map[string]bool // "TCP/80" seen so far
	grace     int64
}

func validatePodSpec(s *PodSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	volumes, verrs := validateVolumes(s.Volumes, p.Child("volumes"))
	errs = append(errs, verrs...)

	ctx := &podContext{volumes: volumes, names: map[string]bool{}, hostPorts: map[string]bool{}, grace: DefaultTerminationGracePeriodSeconds}
	if g := s.TerminationGracePeriodSeconds; g != nil {
		if *g < 0 {
			errs = append(errs, field.Invalid(p.Child("terminationGracePeriodSeconds"), *g, "must be greater than or equal to 0"))
		}
		ctx.grace = *g
	}
	for i := range s.InitContainers {
		errs = append(errs, validateContainer(&s.InitContainers[i], true, ctx, p.Child("initContainers").Index(i))...)
	}
	if len(s.Containers) == 0 {
		errs = append(errs, field.Required(p.Child("containers"), ""))
	}
	for i := range s.Containers {
		errs = append(errs, validateContainer(&s.Containers[i], false, ctx, p.Child("containers").Index(i))...)
	}

	if s.RestartPolicy != "" {
		errs = append(errs, validateEnum(p.Child("restartPolicy"), s.RestartPolicy, RestartPolicyAlways, RestartPolicyOnFailure, RestartPolicyNever)...)
	}
	errs = append(errs, validateLabels(s.NodeSelector, p.Child("nodeSelector"))...)
	if s.NodeName != "" {
		for _, msg := range validation.IsDNS1123Subdomain(s.NodeName) {
			errs = append(errs, field.Invalid(p.Child("nodeName"), s.NodeName, msg))
		}
	}
	if s.Hostname != "" {
		for _, msg := range validation.IsDNS1123Label(s.Hostname) {
			errs = append(errs, field.Invalid(p.Child("hostname"), s.Hostname, msg))
		}
	}
	if s.Affinity != nil {
		errs = append(errs, validateAffinity(s.Affinity, p.Child("affinity"))...)
	}
	errs = append(errs, validateTopologySpread(s.TopologySpreadConstraints, p.Child("topologySpreadConstraints"))...)
	for i, ref := range s.ImagePullSecrets {
		errs = append(errs, validateObjectName(ref.Name, p.Child("imagePullSecrets").Index(i).Child("name"))...)
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
	var errs field.ErrorList
	for _, msg := range validation.IsDNS1123Subdomain(name) {
		errs = append(errs, field.Invalid(p, name, msg))
	}
	return errs
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

	errs = append(errs, validatePorts(c.Ports, ctx, p.Child("ports"))...)
	errs = append(errs, validateEnv(c.Env, p.Child("env"))...)
	errs = append(errs, validateEnvFrom(c.EnvFrom, p.Child("envFrom"))...)
	errs = append(errs, validateResources(c.Resources, p.Child("resources"))...)
	errs = append(errs, validateVolumeMounts(c.VolumeMounts, ctx.volumes, p.Child("volumeMounts"))...)

	probes := []struct {
		name  string
		probe *Probe
	}{{"livenessProbe", c.LivenessProbe}, {"readinessProbe", c.ReadinessProbe}, {"startupProbe", c.StartupProbe}}
	for _, pr := range probes {
		if pr.probe == nil {
			continue
		}
		if init {
			errs = append(errs, field.Forbidden(p.Child(pr.name), "may not be set for init containers"))
			continue
		}
		errs = append(errs, validateProbe(pr.probe, pr.name != "readinessProbe", c, p.Child(pr.name))...)
	}
	if c.Lifecycle != nil {
		if init {
			errs = append(errs, field.Forbidden(p.Child("lifecycle"), "may not be set for init containers"))
		} else if c.Lifecycle.PreStop != nil {
			errs = append(errs, validateLifecycleHandler(c.Lifecycle.PreStop, c, ctx.grace, p.Child("lifecycle", "preStop"))...)
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
			errs = append(errs, validateEnum(pp.Child("protocol"), protocol, ProtocolTCP, ProtocolUDP)...)
		} else {
			protocol = ProtocolTCP
		}
		if port.HostPort != 0 {
			for _, msg := range validation.IsValidPortNum(int(port.HostPort)) {
				errs = append(errs, field.Invalid(pp.Child("hostPort"), port.HostPort, msg))
			}
			key := fmt.Sprintf("%s/%d", protocol, port.HostPort)
			if ctx.hostPorts[key] {
				errs = append(errs, field.Duplicate(pp.Child("hostPort"), key))
			}
			ctx.hostPorts[key] = true
		}
	}
	return errs
}

func validateEnv(env []EnvVar, p *field.Path) field.ErrorList {
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
		if e.Value != "" {
			errs = append(errs, field.Invalid(vp, "", "may not be specified when `value` is not empty"))
		}
		vf := e.ValueFrom
		n := 0
		if vf.FieldRef != nil {
			n++
			errs = append(errs, validateFieldRef(vf.FieldRef, vp.Child("fieldRef"))...)
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
			errs = append(errs, field.Invalid(vp, "", "must specify one of: `fieldRef`, `configMapKeyRef` or `secretKeyRef`"))
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

// podFieldPaths are the fieldRef paths an env var may read.
var podFieldPaths = []string{
	"metadata.name", "metadata.namespace", "metadata.uid",
	"metadata.labels['<KEY>']", "metadata.annotations['<KEY>']",
	"spec.nodeName", "status.hostIP", "status.podIP", "status.podIPs",
}

func validateFieldRef(r *ObjectFieldSelector, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if r.APIVersion != "" && r.APIVersion != "v1" {
		errs = append(errs, field.NotSupported(p.Child("apiVersion"), r.APIVersion, []string{"v1"}))
	}
	fp := p.Child("fieldPath")
	if r.FieldPath == "" {
		return append(errs, field.Required(fp, ""))
	}
	if base, key, ok := splitFieldSubscript(r.FieldPath); ok {
		for _, msg := range validation.IsQualifiedName(strings.ToLower(key)) {
			errs = append(errs, field.Invalid(fp, r.FieldPath, msg))
		}
		if base == "metadata.labels" || base == "metadata.annotations" {
			return errs
		}
	}
	if !slices.Contains(podFieldPaths, r.FieldPath) {
		errs = append(errs, field.NotSupported(fp, r.FieldPath, podFieldPaths))
	}
	return errs
}

// splitFieldSubscript splits "metadata.labels['app']" into
// "metadata.labels" and "app".
func splitFieldSubscript(fieldPath string) (base, key string, ok bool) {
	base, rest, ok := strings.Cut(fieldPath, "['")
	if !ok || !strings.HasSuffix(rest, "']") {
		return "", "", false
	}
	return base, strings.TrimSuffix(rest, "']"), true
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

// validateResources checks a container's requests and limits: known
// resources, not negative, requests within limits, memory limit of at least
// minMemoryLimit.
func validateResources(r ResourceRequirements, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	supported := []ResourceName{ResourceCPU, ResourceMemory}
	check := func(list ResourceList, lp *field.Path) {
		for _, name := range sortedKeys(list) {
			q, np := list[name], lp.Key(string(name))
			if !slices.Contains(supported, name) {
				errs = append(errs, field.NotSupported(np, name, supported))
				continue
			}
			if q.Sign() < 0 {
				errs = append(errs, field.Invalid(np, q.String(), "must be greater than or equal to 0"))
			}
		}
	}
	check(r.Limits, p.Child("limits"))
	check(r.Requests, p.Child("requests"))

	if lim, ok := r.Limits[ResourceMemory]; ok && lim.Sign() >= 0 && lim.Cmp(minMemoryLimit) < 0 {
		errs = append(errs, field.Invalid(p.Child("limits").Key(string(ResourceMemory)), lim.String(), "must be at least "+minMemoryLimit.String()))
	}
	for _, name := range sortedKeys(r.Requests) {
		req := r.Requests[name]
		if lim, ok := r.Limits[name]; ok && slices.Contains(supported, name) && req.Cmp(lim) > 0 {
			errs = append(errs, field.Invalid(p.Child("requests").Key(string(name)), req.String(),
				fmt.Sprintf("must be less than or equal to %s limit of %s", name, lim.String())))
		}
	}
	return errs
}

func validateVolumeMounts(mounts []VolumeMount, volumes map[string]bool, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	paths := map[string]bool{}
	for i, m := range mounts {
		mp := p.Index(i)
		switch {
		case m.Name == "":
			errs = append(errs, field.Required(mp.Child("name"), ""))
		case !volumes[m.Name]:
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
		if m.SubPath != "" {
			errs = append(errs, validateRelativePath(m.SubPath, mp.Child("subPath"))...)
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

// validateProbe checks one probe. A timing left at 0 takes its default;
// liveness and startup probes must succeed once to pass (successThreshold 1).
func validateProbe(pr *Probe, successMustBeOne bool, c *Container, p *field.Path) field.ErrorList {
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
	if successMustBeOne && pr.SuccessThreshold > 1 {
		errs = append(errs, field.Invalid(p.Child("successThreshold"), pr.SuccessThreshold, "must be 1"))
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
	if h.Sleep != nil {
		handlers = append(handlers, "sleep")
		if s := h.Sleep.Seconds; s < 0 || s > grace {
			errs = append(errs, field.Invalid(p.Child("sleep", "seconds"), s,
				fmt.Sprintf("must be non-negative and at most terminationGracePeriodSeconds (%d)", grace)))
		}
	}
	return append(errs, validateOneHandler(handlers, p)...)
}

// validateVolumes checks a pod's volumes and returns the set of their names.
func validateVolumes(volumes []Volume, p *field.Path) (map[string]bool, field.ErrorList) {
	var errs field.ErrorList
	names := map[string]bool{}
	for i := range volumes {
		v := &volumes[i]
		vp := p.Index(i)
		np := vp.Child("name")
		switch {
		case v.Name == "":
			errs = append(errs, field.Required(np, ""))
		case names[v.Name]:
			errs = append(errs, field.Duplicate(np, v.Name))
		default:
			for _, msg := range validation.IsDNS1123Label(v.Name) {
				errs = append(errs, field.Invalid(np, v.Name, msg))
			}
		}
		names[v.Name] = true

		var sources []string
		if s := v.HostPath; s != nil {
			sources = append(sources, "hostPath")
			sp := vp.Child("hostPath")
			switch {
			case s.Path == "":
				errs = append(errs, field.Required(sp.Child("path"), ""))
			case !path.IsAbs(s.Path):
				errs = append(errs, field.Invalid(sp.Child("path"), s.Path, "must be an absolute path"))
			case slices.Contains(strings.Split(s.Path, "/"), ".."):
				errs = append(errs, field.Invalid(sp.Child("path"), s.Path, "must not contain '..'"))
			}
			if s.Type != nil && *s.Type != HostPathUnset {
				errs = append(errs, validateEnum(sp.Child("type"), *s.Type, HostPathDirectoryOrCreate, HostPathDirectory,
					HostPathFileOrCreate, HostPathFile, HostPathSocket, HostPathCharDev, HostPathBlockDev)...)
			}
		}
		if s := v.EmptyDir; s != nil {
			sources = append(sources, "emptyDir")
			sp := vp.Child("emptyDir")
			if s.Medium != StorageMediumDefault {
				errs = append(errs, validateEnum(sp.Child("medium"), s.Medium, StorageMediumMemory)...)
			}
			if s.SizeLimit != nil && s.SizeLimit.Sign() < 0 {
				errs = append(errs, field.Invalid(sp.Child("sizeLimit"), s.SizeLimit.String(), "must be greater than or equal to 0"))
			}
		}
		if s := v.Secret; s != nil {
			sources = append(sources, "secret")
			sp := vp.Child("secret")
			errs = append(errs, validateObjectName(s.SecretName, sp.Child("secretName"))...)
			errs = append(errs, validateProjection(s.Items, s.DefaultMode, sp)...)
		}
		if s := v.PersistentVolumeClaim; s != nil {
			sources = append(sources, "persistentVolumeClaim")
			errs = append(errs, validateObjectName(s.ClaimName, vp.Child("persistentVolumeClaim", "claimName"))...)
		}
		if s := v.ConfigMap; s != nil {
			sources = append(sources, "configMap")
			sp := vp.Child("configMap")
			errs = append(errs, validateObjectName(s.Name, sp.Child("name"))...)
			errs = append(errs, validateProjection(s.Items, s.DefaultMode, sp)...)
		}
		switch {
		case len(sources) == 0:
			errs = append(errs, field.Required(vp, "must specify a volume type"))
		case len(sources) > 1:
			errs = append(errs, field.Forbidden(vp.Child(sources[1]), "may not specify more than 1 volume type"))
		}
	}
	return names, errs
}

const fileModeMessage = "must be a number between 0 and 0777 (octal), both inclusive"

// validateProjection checks the items and modes of a ConfigMap or Secret
// volume.
func validateProjection(items []KeyToPath, defaultMode *int32, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if defaultMode != nil && (*defaultMode < 0 || *defaultMode > 0o777) {
		errs = append(errs, field.Invalid(p.Child("defaultMode"), *defaultMode, fileModeMessage))
	}
	for i, it := range items {
		ip := p.Child("items").Index(i)
		if it.Key == "" {
			errs = append(errs, field.Required(ip.Child("key"), ""))
		} else {
			for _, msg := range validation.IsConfigMapKey(it.Key) {
				errs = append(errs, field.Invalid(ip.Child("key"), it.Key, msg))
			}
		}
		if it.Path == "" {
			errs = append(errs, field.Required(ip.Child("path"), ""))
		} else {
			errs = append(errs, validateRelativePath(it.Path, ip.Child("path"))...)
		}
		if it.Mode != nil && (*it.Mode < 0 || *it.Mode > 0o777) {
			errs = append(errs, field.Invalid(ip.Child("mode"), *it.Mode, fileModeMessage))
		}
	}
	return errs
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
		errs = append(errs, validateLabelSelector(c.LabelSelector, cp.Child("labelSelector"))...)
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
