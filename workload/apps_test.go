package workload

import (
	"strings"
	"testing"
)

const deployYAML = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: shoal.local/webapp:v1}]
`

func TestDeploymentDecodesWithDefaults(t *testing.T) {
	docs, err := Decode("d.yaml", []byte(deployYAML))
	if err != nil {
		t.Fatal(err)
	}
	Defaults(docs[0].Object, docs[0].Info, "")
	d := docs[0].Object.(*Deployment)
	if *d.Spec.Replicas != 3 || d.Spec.Strategy.Type != RollingUpdateDeploymentStrategyType || d.Spec.Strategy.RollingUpdate.MaxSurge.String() != "25%" ||
		*d.Spec.RevisionHistoryLimit != 10 || d.Spec.Template.Spec.RestartPolicy != RestartPolicyAlways || d.ObjectMeta.Namespace != DefaultNamespace {
		t.Fatalf("defaults: %+v", d.Spec)
	}
	if errs := Validate(d, docs[0].Info); errs != nil {
		t.Fatalf("valid deployment: %v", errs)
	}
}

func TestDeploymentValidation(t *testing.T) {
	for _, c := range []struct{ name, from, to, want string }{
		{"selector does not match template", "labels: {app: web}}", "labels: {app: other}}", "spec.template.metadata.labels: Invalid value"},
		{"no selector", "  selector: {matchLabels: {app: web}}\n", "", "spec.selector: Required value"},
		{"negative replicas", "replicas: 3", "replicas: -1", "spec.replicas: Invalid value: -1"},
		{"restartPolicy Never", "    spec:\n      containers", "    spec:\n      restartPolicy: Never\n      containers", "spec.template.spec.restartPolicy: Unsupported value"},
		{"bad container", "image: shoal.local/webapp:v1", "image: \"\"", "spec.template.spec.containers[0].image: Required value"},
		{"maxSurge not a percent", "  replicas: 3", "  replicas: 3\n  strategy: {rollingUpdate: {maxSurge: lots}}", "spec.strategy.rollingUpdate.maxSurge: Invalid value: \"lots\": a valid percent string"},
		{"negative maxSurge", "  replicas: 3", "  replicas: 3\n  strategy: {rollingUpdate: {maxSurge: -1}}", "spec.strategy.rollingUpdate.maxSurge: Invalid value: -1: must be greater than or equal to 0"},
		{"maxUnavailable over 100%", "  replicas: 3", "  replicas: 3\n  strategy: {rollingUpdate: {maxUnavailable: 150%}}", "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: \"150%\": must not be greater than 100%"},
		{"both zero", "  replicas: 3", "  replicas: 3\n  strategy: {rollingUpdate: {maxUnavailable: 0, maxSurge: 0%}}", "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: \"0\": may not be 0 when `maxSurge` is 0"},
		{"deadline not past minReadySeconds", "  replicas: 3", "  replicas: 3\n  minReadySeconds: 30\n  progressDeadlineSeconds: 30", "spec.progressDeadlineSeconds: Invalid value: 30: must be greater than minReadySeconds"},
		{"rollingUpdate with Recreate", "  replicas: 3", "  replicas: 3\n  strategy: {type: Recreate, rollingUpdate: {maxSurge: 1}}", "spec.strategy.rollingUpdate: Forbidden"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := decodeErrors("d.yaml", strings.Replace(deployYAML, c.from, c.to, 1))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}

// decodeErrors decodes a one-document manifest, defaults and validates it,
// and returns its problems joined, or nil.
func decodeErrors(file, text string) error {
	docs, err := Decode(file, []byte(text))
	if err != nil {
		return err
	}
	Defaults(docs[0].Object, docs[0].Info, "")
	errs := Validate(docs[0].Object, docs[0].Info)
	if len(errs) == 0 {
		return nil
	}
	err = errs[0]
	for _, e := range errs[1:] {
		err = joinErr(err, e)
	}
	return err
}

func joinErr(a, b error) error { return &problem{msg: a.Error() + "\n" + b.Error(), cause: a} }

func TestLabelSelectorMatches(t *testing.T) {
	sel := &LabelSelector{MatchLabels: map[string]string{"app": "web"}, MatchExpressions: []LabelSelectorRequirement{
		{Key: "tier", Operator: LabelSelectorOpIn, Values: []string{"a", "b"}}, {Key: "legacy", Operator: LabelSelectorOpDoesNotExist}}}
	for labels, want := range map[string]bool{"app=web,tier=a": true, "app=web,tier=c": false, "app=web,tier=b,legacy=1": false, "tier=a": false} {
		m := map[string]string{}
		for _, kv := range strings.Split(labels, ",") {
			k, v, _ := strings.Cut(kv, "=")
			m[k] = v
		}
		if got := SelectorMatches(sel, m); got != want {
			t.Errorf("%s: %v, want %v", labels, got, want)
		}
	}
	if SelectorMatches(nil, map[string]string{}) || !SelectorMatches(&LabelSelector{}, map[string]string{"x": "y"}) {
		t.Error("nil must match nothing and empty everything")
	}
	if got := SelectorString(sel); got != "app=web,tier in (a,b),!legacy" {
		t.Errorf("String() = %q", got)
	}
}
