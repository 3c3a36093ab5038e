package workload

import (
	"errors"
	"testing"

	"k8s.io/apimachinery/pkg/api/resource"
)

func rl(kv ...string) ResourceList {
	out := ResourceList{}
	for i := 0; i < len(kv); i += 2 {
		out[ResourceName(kv[i])] = resource.MustParse(kv[i+1])
	}
	return out
}

func admissionPod(req, lim ResourceList) *Pod {
	return &Pod{ObjectMeta: ObjectMeta{Name: "web", Namespace: "default"}, Spec: PodSpec{
		Containers: []Container{{Name: "web", Image: "nginx", Resources: ResourceRequirements{Requests: req, Limits: lim}}}}}
}

func TestApplyLimitRanges(t *testing.T) {
	lr := &LimitRange{ObjectMeta: ObjectMeta{Name: "limits"}, Spec: LimitRangeSpec{Limits: []LimitRangeItem{{
		Type: LimitTypeContainer, Max: rl("cpu", "1"), Min: rl("cpu", "100m"), MaxLimitRequestRatio: rl("cpu", "4"),
	}, {Type: LimitTypePod, Max: rl("memory", "1Gi")}}}}
	defaultLimitRange(lr)

	p := admissionPod(nil, rl("memory", "256Mi"))
	if err := ApplyLimitRanges(p, []*LimitRange{lr}); err != nil {
		t.Fatal(err)
	}
	c := p.Spec.Containers[0].Resources
	if l, r := c.Limits[ResourceCPU], c.Requests[ResourceCPU]; l.String() != "1" || r.String() != "1" {
		t.Errorf("defaults: cpu limit %s request %s, want 1 and 1 (max, then the default limit)", l.String(), r.String())
	}
	if got := p.Annotations[AnnotationLimitRanger]; got != "LimitRanger plugin set: cpu request for container web; cpu limit for container web" {
		t.Errorf("annotation %q", got)
	}

	for _, tc := range []struct {
		name     string
		req, lim ResourceList
		want     string
	}{
		{"over max", rl("cpu", "500m"), rl("cpu", "2", "memory", "256Mi"), "maximum cpu usage per Container is 1, but limit is 2"},
		{"under min", rl("cpu", "50m"), rl("cpu", "100m", "memory", "256Mi"), "minimum cpu usage per Container is 100m, but request is 50m"},
		{"ratio", rl("cpu", "100m"), rl("cpu", "1", "memory", "256Mi"), "cpu max limit to request ratio per Container is 4, but provided ratio is 10.000000"},
		{"pod memory", nil, rl("memory", "2Gi"), "maximum memory usage per Pod is 1Gi, but limit is 2Gi"},
		{"pod without memory limit", nil, nil, "maximum memory usage per Pod is 1Gi.  No limit is specified"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := ApplyLimitRanges(admissionPod(tc.req, tc.lim), []*LimitRange{lr})
			var ae *AdmissionError
			if !errors.As(err, &ae) || err.Error() != tc.want {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func TestResolvePriority(t *testing.T) {
	high := &PriorityClass{ObjectMeta: ObjectMeta{Name: "high"}, Value: 1000}
	def := &PriorityClass{ObjectMeta: ObjectMeta{Name: "normal"}, Value: 10, GlobalDefault: true}
	p := admissionPod(nil, nil)
	p.Spec.PriorityClassName = "high"
	if err := ResolvePriority(p, []*PriorityClass{high, def}); err != nil || *p.Spec.Priority != 1000 || *p.Spec.PreemptionPolicy != PreemptLowerPriority {
		t.Errorf("high: %v, priority %v", err, p.Spec.Priority)
	}
	p = admissionPod(nil, nil)
	if err := ResolvePriority(p, []*PriorityClass{high, def}); err != nil || p.Spec.PriorityClassName != "normal" || *p.Spec.Priority != 10 {
		t.Errorf("global default: %v, %q %v", err, p.Spec.PriorityClassName, p.Spec.Priority)
	}
	p = admissionPod(nil, nil)
	if err := ResolvePriority(p, nil); err != nil || *p.Spec.Priority != 0 {
		t.Errorf("no classes: %v, %v", err, p.Spec.Priority)
	}
	p.Spec.PriorityClassName, p.Spec.Priority = "missing", nil
	if err := ResolvePriority(p, []*PriorityClass{high}); err == nil || err.Error() != "no PriorityClass with name missing was found" {
		t.Errorf("missing class: %v", err)
	}
	v := int32(5)
	p.Spec.PriorityClassName, p.Spec.Priority = "high", &v
	if err := ResolvePriority(p, []*PriorityClass{high}); err == nil {
		t.Error("a priority differing from the class's was accepted")
	}
}

func TestQuota(t *testing.T) {
	q := &ResourceQuota{ObjectMeta: ObjectMeta{Name: "compute"}, Spec: ResourceQuotaSpec{Hard: rl("pods", "2", "requests.cpu", "1", "limits.memory", "1Gi", "count/deployments.apps", "1")}}
	podInfo, _ := LookupKind("Pod")
	running := admissionPod(rl("cpu", "500m"), rl("memory", "512Mi"))
	done := admissionPod(rl("cpu", "500m"), nil)
	done.Status.Phase = PodSucceeded
	st := QuotaStatus(q, []Object{running, done}, []KindInfo{podInfo, podInfo})
	if u := st.Used["pods"]; u.String() != "1" {
		t.Errorf("pods used %s, want 1 (a finished pod does not count)", u.String())
	}
	if u := st.Used["requests.cpu"]; u.String() != "500m" {
		t.Errorf("requests.cpu used %s", u.String())
	}
	q.Status = st
	if changed, err := ChargeQuota(q, QuotaUsage(admissionPod(rl("cpu", "500m"), rl("memory", "512Mi")), podInfo)); err != nil || !changed {
		t.Fatalf("second pod: %v %v", changed, err)
	}
	_, err := ChargeQuota(q, QuotaUsage(admissionPod(rl("cpu", "100m"), rl("memory", "1Mi")), podInfo))
	want := "exceeded quota: compute, requested: limits.memory=1Mi,pods=1,requests.cpu=100m, used: limits.memory=1Gi,pods=2,requests.cpu=1, limited: limits.memory=1Gi,pods=2,requests.cpu=1"
	if err == nil || err.Error() != want {
		t.Errorf("third pod: %v\nwant %s", err, want)
	}
	depInfo, _ := LookupKind("Deployment")
	if u := QuotaUsage(&Deployment{}, depInfo); len(u) != 1 {
		t.Errorf("a deployment counts %v, want count/deployments.apps only", u)
	}
	best := &ResourceQuota{Spec: ResourceQuotaSpec{Scopes: []ResourceQuotaScope{"BestEffort"}}}
	if QuotaMatches(best, running) || !QuotaMatches(best, admissionPod(nil, nil)) || QuotaMatches(best, &ConfigMap{}) {
		t.Error("BestEffort scope")
	}
}
