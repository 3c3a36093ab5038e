package openapi

import (
	"encoding/json"
	"fmt"
	"sync"

	"k8s.io/kube-openapi/pkg/validation/spec"
)

// Schemas returns every definition of the OpenAPI v3 documents, by name
// ("io.k8s.api.apps.v1.Deployment"): what server-side apply's type
// converter is made from,
//
//	tc, err := managedfields.NewTypeConverter(schemas, false)
//
// as kube-apiserver makes its own from its v3 definitions. Each kind's
// definition carries its x-kubernetes-group-version-kind, which is how
// the converter finds the type of an object.
//
// The v3 documents are decoded on the first call (about 50 ms, and 1.8 MB
// of heap for the map) and the map is kept: every call returns the same
// map, which callers must not modify. It is safe for concurrent use.
func Schemas() (map[string]*spec.Schema, error) { return schemas() }

var schemas = sync.OnceValues(func() (map[string]*spec.Schema, error) {
	gvs, err := V3Paths()
	if err != nil {
		return nil, err
	}
	out := map[string]*spec.Schema{}
	for _, gv := range gvs {
		data, err := V3(gv)
		if err != nil {
			return nil, err
		}
		var doc struct {
			Components struct {
				Schemas map[string]*spec.Schema `json:"schemas"`
			} `json:"components"`
		}
		if err := json.Unmarshal(data, &doc); err != nil {
			return nil, fmt.Errorf("OpenAPI v3 document %s: %w", gv, err)
		}
		for name, s := range doc.Components.Schemas {
			if _, ok := out[name]; !ok { // documents share definitions, identical
				out[name] = s
			}
		}
	}
	return out, nil
})
