package controller

import (
	"reflect"
	"testing"
	"time"

	"github.com/shoalproject/shoal/workload"
)

func TestPlanTaintEviction(t *testing.T) {
	added := t0.Add(-10 * time.Second) // the taints went on 10 s ago
	at := func(d time.Time) *workload.Time { x := workload.NewTime(d); return &x }
	secs := func(n int64) *int64 { return &n }
	unreachable := workload.Taint{Key: TaintNodeUnreachable, Effect: workload.TaintEffectNoExecute, TimeAdded: at(added)}
	maint := workload.Taint{Key: "maint", Value: "now", Effect: workload.TaintEffectNoExecute, TimeAdded: at(added)}
	noSchedule := workload.Taint{Key: "gpu", Effect: workload.TaintEffectNoSchedule}
	tolerate := func(key string, seconds *int64) workload.Toleration {
		return workload.Toleration{Key: key, Operator: workload.TolerationOpExists, Effect: workload.TaintEffectNoExecute, TolerationSeconds: seconds}
	}
	pod := func(name, node string, tols ...workload.Toleration) *workload.Pod {
		return &workload.Pod{ObjectMeta: workload.ObjectMeta{Name: name, Namespace: "default"},
			Spec: workload.PodSpec{NodeName: node, Tolerations: tols}}
	}
	for _, tc := range []struct {
		name      string
		taints    map[string][]workload.Taint
		pods      []*workload.Pod
		wantEvict []string
		wantNext  time.Time
	}{
		{name: "no taints, nothing evicted",
			taints: nil, pods: []*workload.Pod{pod("a", "n1")}},
		{name: "NoSchedule and PreferNoSchedule taints evict nothing",
			taints: map[string][]workload.Taint{"n1": {noSchedule, {Key: "soft", Effect: workload.TaintEffectPreferNoSchedule}}},
			pods:   []*workload.Pod{pod("a", "n1")}},
		{name: "a pod without a matching toleration goes at once; pods elsewhere and unbound stay",
			taints:    map[string][]workload.Taint{"n1": {unreachable}},
			pods:      []*workload.Pod{pod("a", "n1"), pod("b", "n2"), pod("c", ""), pod("d", "n1", tolerate("other", nil))},
			wantEvict: []string{"a", "d"}},
		{name: "a toleration without seconds lets the pod stay for ever",
			taints: map[string][]workload.Taint{"n1": {unreachable}},
			pods:   []*workload.Pod{pod("a", "n1", tolerate(TaintNodeUnreachable, nil))}},
		{name: "an empty-key Exists toleration tolerates every taint",
			taints: map[string][]workload.Taint{"n1": {unreachable, maint}},
			pods:   []*workload.Pod{pod("a", "n1", workload.Toleration{Operator: workload.TolerationOpExists})}},
		{name: "tolerationSeconds not yet passed: due at TimeAdded plus the seconds",
			taints:   map[string][]workload.Taint{"n1": {unreachable}},
			pods:     []*workload.Pod{pod("a", "n1", tolerate(TaintNodeUnreachable, secs(30)))},
			wantNext: added.Add(30 * time.Second)},
		{name: "tolerationSeconds passed, exactly or more: evicted",
			taints:    map[string][]workload.Taint{"n1": {unreachable}},
			pods:      []*workload.Pod{pod("a", "n1", tolerate(TaintNodeUnreachable, secs(10))), pod("b", "n1", tolerate(TaintNodeUnreachable, secs(5)))},
			wantEvict: []string{"a", "b"}},
		{name: "zero or negative tolerationSeconds: evicted at once",
			taints:    map[string][]workload.Taint{"n1": {unreachable}},
			pods:      []*workload.Pod{pod("a", "n1", tolerate(TaintNodeUnreachable, secs(0))), pod("b", "n1", tolerate(TaintNodeUnreachable, secs(-1)))},
			wantEvict: []string{"a", "b"}},
		{name: "every taint must be tolerated: one untolerated taint evicts",
			taints:    map[string][]workload.Taint{"n1": {unreachable, maint}},
			pods:      []*workload.Pod{pod("a", "n1", tolerate(TaintNodeUnreachable, nil))},
			wantEvict: []string{"a"}},
		{name: "several taints: the earliest due one decides; Next is the earliest over pods",
			taints: map[string][]workload.Taint{
				"n1": {unreachable, {Key: "maint", Effect: workload.TaintEffectNoExecute, TimeAdded: at(t0)}},
				"n2": {{Key: "maint", Effect: workload.TaintEffectNoExecute, TimeAdded: at(t0)}}},
			pods: []*workload.Pod{
				pod("a", "n1", tolerate(TaintNodeUnreachable, nil), tolerate("maint", secs(60))),
				pod("b", "n2", tolerate("maint", secs(20))),
				pod("c", "n1", tolerate(TaintNodeUnreachable, secs(40)), tolerate("maint", nil)),
			},
			wantNext: t0.Add(20 * time.Second)},
		{name: "the first matching toleration counts, as in Kubernetes",
			taints:   map[string][]workload.Taint{"n1": {unreachable}},
			pods:     []*workload.Pod{pod("a", "n1", tolerate(TaintNodeUnreachable, secs(30)), tolerate("", nil))},
			wantNext: added.Add(30 * time.Second)},
		{name: "a toleration with a value must match the taint's value",
			taints:    map[string][]workload.Taint{"n1": {maint}},
			pods:      []*workload.Pod{pod("a", "n1", workload.Toleration{Key: "maint", Operator: workload.TolerationOpEqual, Value: "later", Effect: workload.TaintEffectNoExecute})},
			wantEvict: []string{"a"}},
		{name: "a toleration of another effect does not match",
			taints:    map[string][]workload.Taint{"n1": {maint}},
			pods:      []*workload.Pod{pod("a", "n1", workload.Toleration{Key: "maint", Operator: workload.TolerationOpExists, Effect: workload.TaintEffectNoSchedule})},
			wantEvict: []string{"a"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := PlanTaintEviction(tc.taints, tc.pods, t0)
			if names := podNames(got.Evict); !reflect.DeepEqual(names, tc.wantEvict) || !got.Next.Equal(tc.wantNext) {
				t.Fatalf("evict %v, next %v; want %v, %v", names, got.Next, tc.wantEvict, tc.wantNext)
			}
		})
	}
}
