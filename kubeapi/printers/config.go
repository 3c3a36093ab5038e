package printers

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// kube declares DATA a string column and sends the number of keys as an
// int64.
var configMapColumns = []metav1.TableColumnDefinition{
	nameColumn,
	{Name: "Data", Type: "string", Description: corev1.ConfigMap{}.SwaggerDoc()["data"]},
	ageColumn,
}

var secretDoc = corev1.Secret{}.SwaggerDoc()

var secretColumns = []metav1.TableColumnDefinition{
	nameColumn,
	{Name: "Type", Type: "string", Description: secretDoc["type"]},
	{Name: "Data", Type: "string", Description: secretDoc["data"]},
	ageColumn,
}

// configMapCells is a config map's row: NAME, DATA (text and binary keys),
// AGE.
func configMapCells(cm *corev1.ConfigMap, now time.Time) []any {
	return []any{cm.Name, int64(len(cm.Data) + len(cm.BinaryData)), age(cm.CreationTimestamp, now)}
}

// secretCells is a secret's row: NAME, TYPE, DATA, AGE. DATA counts the
// keys of data and stringData together, as kube stores them once
// stringData has been merged in.
func secretCells(s *corev1.Secret, now time.Time) []any {
	keys := len(s.Data)
	for k := range s.StringData {
		if _, dup := s.Data[k]; !dup {
			keys++
		}
	}
	return []any{s.Name, string(s.Type), int64(keys), age(s.CreationTimestamp, now)}
}
