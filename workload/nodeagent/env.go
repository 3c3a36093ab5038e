package nodeagent

import (
	"context"
	"fmt"

	"github.com/shoalproject/shoal/workload"
)

// env resolves a container's environment: the variables of the services
// that exist now, then envFrom, then env, later entries winning, as in
// Kubernetes.
func (w *worker) env(ctx context.Context, s workload.Container) ([]string, error) {
	var out []string
	if w.a.cfg.Services != nil {
		svcs, err := w.a.cfg.Services.Services(ctx, w.pod.ObjectMeta.Namespace)
		if err != nil {
			return nil, fmt.Errorf("services of namespace %q: %w", w.pod.ObjectMeta.Namespace, err)
		}
		out = append(out, workload.ServiceEnv(svcs)...)
	}
	for _, from := range s.EnvFrom {
		var data map[string]string
		var err error
		switch {
		case from.ConfigMapRef != nil:
			data, err = w.configMapData(ctx, from.ConfigMapRef.Name, from.ConfigMapRef.Optional)
		case from.SecretRef != nil:
			data, err = w.secretData(ctx, from.SecretRef.Name, from.SecretRef.Optional)
		}
		if err != nil {
			return nil, err
		}
		for _, k := range sortedKeys(data) {
			out = append(out, from.Prefix+k+"="+data[k])
		}
	}
	for _, e := range s.Env {
		if e.ValueFrom == nil {
			out = append(out, e.Name+"="+e.Value)
			continue
		}
		vf := e.ValueFrom
		if vf.FieldRef != nil || vf.ResourceFieldRef != nil {
			v, err := w.downwardValue(s.Name, vf)
			if err != nil {
				return nil, fmt.Errorf("env %s: %w", e.Name, err)
			}
			out = append(out, e.Name+"="+v)
			continue
		}
		// A key of a ConfigMap or a Secret.
		kind, source := "ConfigMap", w.configMapData
		var name, key string
		var optional *bool
		switch {
		case vf.ConfigMapKeyRef != nil:
			name, key, optional = vf.ConfigMapKeyRef.Name, vf.ConfigMapKeyRef.Key, vf.ConfigMapKeyRef.Optional
		case vf.SecretKeyRef != nil:
			kind, source = "Secret", w.secretData
			name, key, optional = vf.SecretKeyRef.Name, vf.SecretKeyRef.Key, vf.SecretKeyRef.Optional
		default:
			continue
		}
		data, err := source(ctx, name, optional)
		if err != nil {
			return nil, err
		}
		v, ok := data[key]
		switch {
		case ok:
			out = append(out, e.Name+"="+v)
		case data == nil || optional != nil && *optional: // optional, and absent
		default:
			return nil, fmt.Errorf("couldn't find key %s in %s %s/%s", key, kind, w.pod.ObjectMeta.Namespace, name)
		}
	}
	return out, nil
}

// downwardValue is the value of a fieldRef or resourceFieldRef variable
// of container ctr: a resourceFieldRef naming no container reads ctr's
// resources, and a limit it leaves out is the node's allocatable amount.
func (w *worker) downwardValue(ctr string, vf *workload.EnvVarSource) (string, error) {
	if vf.FieldRef != nil {
		return workload.PodFieldValue(w.downwardPod(), vf.FieldRef.FieldPath)
	}
	r := vf.ResourceFieldRef
	if r.ContainerName != "" {
		ctr = r.ContainerName
	}
	return workload.ContainerResourceValue(w.pod, ctr, r.Resource, r.Divisor, w.a.cfg.Allocatable)
}

// downwardPod is the pod with the addresses the node knows now, which
// fieldRef variables read as the kubelet gives them: the sandbox's
// address (the stored status may not have it yet, when the first
// containers are created) and this node's.
func (w *worker) downwardPod() *workload.Pod {
	p := *w.pod
	st := &p.Status
	if st.HostIP != w.a.cfg.HostIP {
		st.HostIP, st.HostIPs = w.a.cfg.HostIP, nil // hostIPs then reads hostIP
	}
	if w.sandbox != nil {
		ip := w.podIP()
		st.PodIP, st.PodIPs = ip, nil
		if ip != "" {
			st.PodIPs = []workload.PodIP{{IP: ip}}
		}
	}
	return &p
}
