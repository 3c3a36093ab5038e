package workload

import (
	"fmt"
	"slices"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// AnnotationDeployment names, on a ReplicaSet or Pod a Deployment owns,
// that Deployment: the object lives in its Deployment's shard.
const AnnotationDeployment = "shoal.io/deployment"

// Deployment annotations, as Kubernetes names them.
const (
	AnnotationRevision    = "deployment.kubernetes.io/revision"
	AnnotationChangeCause = "kubernetes.io/change-cause"
)

var (
	_ Object = (*ReplicaSet)(nil)
	_ Object = (*Deployment)(nil)
)

func int32Ptr(v int32) *int32 { return &v }

func defaultTemplate(t *PodTemplateSpec) {
	p := Pod{Spec: t.Spec}
	defaultPod(&p)
	t.Spec = p.Spec
}

func defaultReplicaSet(r *ReplicaSet) {
	if r.Spec.Replicas == nil {
		r.Spec.Replicas = int32Ptr(1)
	}
	defaultTemplate(&r.Spec.Template)
}

func defaultDeployment(d *Deployment) {
	s := &d.Spec
	if s.Replicas == nil {
		s.Replicas = int32Ptr(1)
	}
	if s.Strategy.Type == "" {
		s.Strategy.Type = RollingUpdateDeploymentStrategyType
	}
	if s.Strategy.Type == RollingUpdateDeploymentStrategyType {
		if s.Strategy.RollingUpdate == nil {
			s.Strategy.RollingUpdate = &RollingUpdateDeployment{}
		}
		ru := s.Strategy.RollingUpdate
		if ru.MaxUnavailable == nil {
			v := IntOrStringFromString("25%")
			ru.MaxUnavailable = &v
		}
		if ru.MaxSurge == nil {
			v := IntOrStringFromString("25%")
			ru.MaxSurge = &v
		}
	}
	if s.RevisionHistoryLimit == nil {
		s.RevisionHistoryLimit = int32Ptr(10)
	}
	if s.ProgressDeadlineSeconds == nil {
		s.ProgressDeadlineSeconds = int32Ptr(600)
	}
	defaultTemplate(&s.Template)
}

// validateWorkload checks what ReplicaSets and Deployments share: a
// selector that matches the template's labels, replicas, the template's
// pod spec.
func validateWorkload(replicas *int32, sel *LabelSelector, t *PodTemplateSpec, minReady int32, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if replicas != nil && *replicas < 0 {
		errs = append(errs, field.Invalid(p.Child("replicas"), *replicas, "must be greater than or equal to 0"))
	}
	if minReady < 0 {
		errs = append(errs, field.Invalid(p.Child("minReadySeconds"), minReady, "must be greater than or equal to 0"))
	}
	switch {
	case sel == nil:
		errs = append(errs, field.Required(p.Child("selector"), ""))
	case len(sel.MatchLabels) == 0 && len(sel.MatchExpressions) == 0:
		errs = append(errs, field.Invalid(p.Child("selector"), "{}", "empty selector is invalid for deployment"))
	default:
		errs = append(errs, validateLabelSelector(sel, p.Child("selector"))...)
		if !SelectorMatches(sel, t.ObjectMeta.Labels) {
			errs = append(errs, field.Invalid(p.Child("template", "metadata", "labels"), t.ObjectMeta.Labels, "`selector` does not match template `labels`"))
		}
	}
	errs = append(errs, validatePodSpec(&t.Spec, p.Child("template", "spec"))...)
	if t.Spec.RestartPolicy != "" && t.Spec.RestartPolicy != RestartPolicyAlways {
		errs = append(errs, field.NotSupported(p.Child("template", "spec", "restartPolicy"), t.Spec.RestartPolicy, []string{string(RestartPolicyAlways)}))
	}
	return errs
}

func validateReplicaSet(r *ReplicaSet) field.ErrorList {
	return validateWorkload(r.Spec.Replicas, r.Spec.Selector, &r.Spec.Template, r.Spec.MinReadySeconds, field.NewPath("spec"))
}

func validateDeployment(d *Deployment) field.ErrorList {
	s := &d.Spec
	errs := validateWorkload(s.Replicas, s.Selector, &s.Template, s.MinReadySeconds, field.NewPath("spec"))
	sp := field.NewPath("spec", "strategy")
	switch s.Strategy.Type {
	case "", RollingUpdateDeploymentStrategyType:
		if ru := s.Strategy.RollingUpdate; ru != nil {
			rp := sp.Child("rollingUpdate")
			surge, e1 := validateRolloutBound(ru.MaxSurge, rp.Child("maxSurge"), false)
			unavail, e2 := validateRolloutBound(ru.MaxUnavailable, rp.Child("maxUnavailable"), true)
			errs = append(append(errs, e1...), e2...)
			if len(e1) == 0 && len(e2) == 0 && surge == 0 && unavail == 0 && ru.MaxSurge != nil && ru.MaxUnavailable != nil {
				errs = append(errs, field.Invalid(rp.Child("maxUnavailable"), ru.MaxUnavailable.String(), "may not be 0 when `maxSurge` is 0"))
			}
		}
	case RecreateDeploymentStrategyType:
		if s.Strategy.RollingUpdate != nil {
			errs = append(errs, field.Forbidden(sp.Child("rollingUpdate"), "may not be specified when strategy `type` is 'Recreate'"))
		}
	default:
		errs = append(errs, field.NotSupported(sp.Child("type"), s.Strategy.Type, []string{string(RecreateDeploymentStrategyType), string(RollingUpdateDeploymentStrategyType)}))
	}
	if p := s.ProgressDeadlineSeconds; p != nil && *p <= s.MinReadySeconds {
		errs = append(errs, field.Invalid(field.NewPath("spec", "progressDeadlineSeconds"), *p, "must be greater than minReadySeconds"))
	}
	if s.RevisionHistoryLimit != nil && *s.RevisionHistoryLimit < 0 {
		errs = append(errs, field.Invalid(field.NewPath("spec", "revisionHistoryLimit"), *s.RevisionHistoryLimit, "must be greater than or equal to 0"))
	}
	return errs
}

// validateRolloutBound checks a maxSurge or maxUnavailable: a count of
// at least 0, or "N%" (at most 100% for maxUnavailable). It returns the
// number (count or percent) for the both-zero check.
func validateRolloutBound(v *IntOrString, p *field.Path, atMost100 bool) (int64, field.ErrorList) {
	if v == nil {
		return -1, nil
	}
	if v.Type == IntOrStringInt {
		if v.IntVal < 0 {
			return 0, field.ErrorList{field.Invalid(p, v.IntVal, "must be greater than or equal to 0")}
		}
		return int64(v.IntVal), nil
	}
	n, _, err := Percent(*v)
	switch {
	case err != nil:
		return 0, field.ErrorList{field.Invalid(p, v.StrVal, "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')")}
	case n < 0:
		return 0, field.ErrorList{field.Invalid(p, v.StrVal, "must be greater than or equal to 0")}
	case atMost100 && n > 100:
		return 0, field.ErrorList{field.Invalid(p, v.StrVal, "must not be greater than 100%")}
	}
	return n, nil
}

// SelectorMatches says whether labels satisfy the selector, as Kubernetes: every
// matchLabels pair and every expression. A nil selector matches nothing;
// an empty one matches everything.
func SelectorMatches(s *LabelSelector, labels map[string]string) bool {
	if s == nil {
		return false
	}
	for k, v := range s.MatchLabels {
		if got, ok := labels[k]; !ok || got != v {
			return false
		}
	}
	for _, e := range s.MatchExpressions {
		v, ok := labels[e.Key]
		switch e.Operator {
		case LabelSelectorOpIn:
			if !ok || !slices.Contains(e.Values, v) {
				return false
			}
		case LabelSelectorOpNotIn:
			if ok && slices.Contains(e.Values, v) {
				return false
			}
		case LabelSelectorOpExists:
			if !ok {
				return false
			}
		case LabelSelectorOpDoesNotExist:
			if ok {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// SelectorString renders a selector as kubectl does ("app=web,tier in (a,b)").
func SelectorString(s *LabelSelector) string {
	if s == nil {
		return "<none>"
	}
	out := ""
	add := func(x string) {
		if out != "" {
			out += ","
		}
		out += x
	}
	for _, k := range sortedKeys(s.MatchLabels) {
		add(k + "=" + s.MatchLabels[k])
	}
	for _, e := range s.MatchExpressions {
		switch e.Operator {
		case LabelSelectorOpExists:
			add(e.Key)
		case LabelSelectorOpDoesNotExist:
			add("!" + e.Key)
		default:
			add(fmt.Sprintf("%s %s (%s)", e.Key, map[LabelSelectorOperator]string{LabelSelectorOpIn: "in", LabelSelectorOpNotIn: "notin"}[e.Operator], joinComma(e.Values)))
		}
	}
	return out
}

func joinComma(v []string) string {
	out := ""
	for i, s := range v {
		if i > 0 {
			out += ","
		}
		out += s
	}
	return out
}

// TerminatingReplicas is a replica set's terminating pods, 0 when its
// status does not say.
func TerminatingReplicas(s *ReplicaSetStatus) int32 {
	if s.TerminatingReplicas == nil {
		return 0
	}
	return *s.TerminatingReplicas
}

// AddTerminatingReplicas counts n more terminating pods in s.
func AddTerminatingReplicas(s *ReplicaSetStatus, n int32) {
	v := TerminatingReplicas(s) + n
	s.TerminatingReplicas = &v
}
