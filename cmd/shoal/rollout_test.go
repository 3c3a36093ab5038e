package main

import (
	"testing"

	"github.com/shoalproject/shoal/workload"
)

// rollout status says what kubectl says, in kubectl's order.
func TestRolloutLineSaysWhatKubectlSays(t *testing.T) {
	three := int32(3)
	d := func(gen, observed int64, st workload.DeploymentStatus) *workload.Deployment {
		dep := &workload.Deployment{ObjectMeta: workload.ObjectMeta{Name: "web", Generation: gen}, Status: st}
		dep.Spec.Replicas = &three
		dep.Status.ObservedGeneration = observed
		return dep
	}
	for _, tc := range []struct {
		d    *workload.Deployment
		want string
		done bool
		err  string
	}{
		{d(2, 1, workload.DeploymentStatus{}), "Waiting for deployment spec update to be observed...", false, ""},
		{d(2, 2, workload.DeploymentStatus{Replicas: 4, UpdatedReplicas: 1, AvailableReplicas: 3}),
			`Waiting for deployment "web" rollout to finish: 1 out of 3 new replicas have been updated...`, false, ""},
		{d(2, 2, workload.DeploymentStatus{Replicas: 4, UpdatedReplicas: 3, AvailableReplicas: 3}),
			`Waiting for deployment "web" rollout to finish: 1 old replicas are pending termination...`, false, ""},
		{d(2, 2, workload.DeploymentStatus{Replicas: 3, UpdatedReplicas: 3, AvailableReplicas: 1}),
			`Waiting for deployment "web" rollout to finish: 1 of 3 updated replicas are available...`, false, ""},
		{d(2, 2, workload.DeploymentStatus{Replicas: 3, UpdatedReplicas: 3, AvailableReplicas: 3}), `deployment "web" successfully rolled out`, true, ""},
		{d(2, 2, workload.DeploymentStatus{Replicas: 4, UpdatedReplicas: 1, Conditions: []workload.DeploymentCondition{
			{Type: "Progressing", Status: workload.ConditionFalse, Reason: "ProgressDeadlineExceeded"}}}), "", false, `deployment "web" exceeded its progress deadline`},
	} {
		msg, done, err := rolloutLine(tc.d)
		if msg != tc.want || done != tc.done || (err == nil) != (tc.err == "") || err != nil && err.Error() != tc.err {
			t.Errorf("%+v: %q, %v, %v; want %q, %v, %q", tc.d.Status, msg, done, err, tc.want, tc.done, tc.err)
		}
	}
}
