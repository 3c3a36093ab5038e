package printers

import (
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// genericColumns are kube-apiserver's default table (apiserver's
// rest.NewDefaultTableConvertor), used for every kind without a printer.
var genericColumns = []metav1.TableColumnDefinition{
	{Name: "Name", Type: "string", Format: "name", Description: objectMetaDoc["name"]},
	{Name: "Created At", Type: "date", Description: objectMetaDoc["creationTimestamp"]},
}

// genericCells are the default table's cells: the name and the creation
// time in RFC 3339, UTC (not an age: this column's type is "date").
func genericCells(obj runtime.Object) ([]any, error) {
	m, err := meta.Accessor(obj)
	if err != nil {
		return nil, fmt.Errorf("%T has no object metadata: %w", obj, ErrNotTabular)
	}
	return []any{m.GetName(), m.GetCreationTimestamp().Time.UTC().Format(time.RFC3339)}, nil
}
