package main

import (
	"fmt"
	"slices"
	"strings"
	"unicode"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/kube-openapi/pkg/common"
	"k8s.io/kube-openapi/pkg/util"
	"k8s.io/kube-openapi/pkg/validation/spec"
)

// Names as kube-apiserver gives them: k8s.io/apiserver's
// pkg/endpoints/openapi (GetOperationIDAndTags, DefinitionNamer), ported
// to kube-openapi's Route interface. Importing it would bring the
// k8s.io/apiserver module into the build graph, and with it newer
// requirements for modules the shoal binary links.

const extensionGVK = "x-kubernetes-group-version-kind"

var verbs = util.NewTrie([]string{"get", "log", "read", "replace", "patch", "delete", "deletecollection", "watch", "connect", "proxy", "list", "create", "patch"})

// operationIDAndTags puts the group and version into a route's operation
// name, after its verb ("listNamespacedPod" on /api/v1/... is
// "listCoreV1NamespacedPod"), and tags it with them ("core_v1").
func operationIDAndTags(r common.Route) (string, []string, error) {
	op := r.OperationName()
	prefix, ok := verbs.GetPrefix(op)
	if !ok {
		return op, nil, fmt.Errorf("operation %q does not start with a verb", op)
	}
	op = op[len(prefix):]
	var tags []string
	parts := strings.Split(strings.Trim(r.Path(), "/"), "/")
	if len(parts) >= 1 && parts[0] == "api" { // /api is /apis/core
		parts = append([]string{"apis", "core"}, parts[1:]...)
	}
	switch {
	case len(parts) >= 2 && parts[0] == "apis":
		group := strings.TrimSuffix(parts[1], ".k8s.io")
		prefix += validOperationID(group, prefix != "")
		tag := validOperationID(group, false)
		if len(parts) > 2 {
			prefix += validOperationID(parts[2], prefix != "")
			tag += "_" + validOperationID(parts[2], false)
		}
		tags = append(tags, tag)
	case len(parts) >= 1:
		tags = append(tags, validOperationID(parts[0], false))
	}
	return prefix + validOperationID(op, prefix != ""), tags, nil
}

// validOperationID drops what is not a letter, digit or underscore and
// capitalizes what follows it: "coordination.k8s" is "coordinationK8s".
func validOperationID(s string, capitalizeFirst bool) string {
	var b strings.Builder
	capitalize := capitalizeFirst
	for i, r := range s {
		if unicode.IsLetter(r) || r == '_' || (i != 0 && unicode.IsDigit(r)) {
			if capitalize {
				r = unicode.ToUpper(r)
				capitalize = false
			}
			b.WriteRune(r)
		} else {
			capitalize = true
		}
	}
	return b.String()
}

// definitionNamer names definitions by their model name and gives each
// definition that is a kind its x-kubernetes-group-version-kind: every
// group, version and kind a scheme registers its type under, sorted.
type definitionNamer struct {
	gvks map[string][]schema.GroupVersionKind
}

func newDefinitionNamer(s *runtime.Scheme) (*definitionNamer, error) {
	d := &definitionNamer{gvks: map[string][]schema.GroupVersionKind{}}
	for gvk := range s.AllKnownTypes() {
		name, err := s.ToOpenAPIDefinitionName(gvk)
		if err != nil {
			return nil, fmt.Errorf("definition name of %v: %w", gvk, err)
		}
		if !slices.Contains(d.gvks[name], gvk) {
			d.gvks[name] = append(d.gvks[name], gvk)
		}
	}
	for _, gvks := range d.gvks {
		slices.SortFunc(gvks, func(a, b schema.GroupVersionKind) int {
			return strings.Compare(a.Group+"\x00"+a.Version+"\x00"+a.Kind, b.Group+"\x00"+b.Version+"\x00"+b.Kind)
		})
	}
	return d, nil
}

// GetDefinitionName is common.Config's GetDefinitionName.
func (d *definitionNamer) GetDefinitionName(name string) (string, spec.Extensions) {
	gvks, ok := d.gvks[name]
	if !ok {
		return name, nil
	}
	list := make([]any, 0, len(gvks))
	for _, gvk := range gvks {
		list = append(list, map[string]any{"group": gvk.Group, "version": gvk.Version, "kind": gvk.Kind})
	}
	return name, spec.Extensions{extensionGVK: list}
}

// title is cases.Title for the one-word names of subresources: "status"
// is "Status", "portforward" "Portforward".
func title(s string) string {
	if s == "" {
		return ""
	}
	return strings.ToUpper(s[:1]) + strings.ToLower(s[1:])
}

// article is what goes between a verb and a kind in a route's doc: " a ",
// " an ", or " " before a plural ("delete Endpoints").
func article(noun string) string {
	if !strings.HasSuffix(noun, "ss") && strings.HasSuffix(noun, "s") {
		return " "
	}
	if strings.ContainsRune("aeiouAEIOU", rune(noun[0])) {
		return " an "
	}
	return " a "
}
