package workload

import "time"

// TypeMeta says what an object is: its apiVersion and kind, as in Kubernetes.
type TypeMeta struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
}

// GetTypeMeta returns the TypeMeta itself, so every type embedding it
// satisfies half of Object.
func (t *TypeMeta) GetTypeMeta() *TypeMeta { return t }

// ObjectMeta is the metadata every object carries, with Kubernetes' JSON names.
type ObjectMeta struct {
	Name        string            `json:"name,omitempty"`
	Namespace   string            `json:"namespace,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
	// ResourceVersion and UID are set by the store, never by the user.
	ResourceVersion   string     `json:"resourceVersion,omitempty"`
	UID               string     `json:"uid,omitempty"`
	CreationTimestamp *time.Time `json:"creationTimestamp,omitempty"`
	Generation        int64      `json:"generation,omitempty"`
}

// Object is what every served kind is: typed metadata behind a pointer.
type Object interface {
	GetTypeMeta() *TypeMeta
	GetMeta() *ObjectMeta
}

// NamespacePhase is the lifecycle phase of a Namespace.
type NamespacePhase string

// NamespaceActive is the phase of a namespace that accepts objects.
const NamespaceActive NamespacePhase = "Active"

// Namespace is a cluster-scoped group of namespaced objects.
type Namespace struct {
	TypeMeta `json:",inline"`
	Metadata ObjectMeta      `json:"metadata"`
	Status   NamespaceStatus `json:"status,omitempty"`
}

// NamespaceStatus is the observed state of a Namespace.
type NamespaceStatus struct {
	Phase NamespacePhase `json:"phase,omitempty"`
}

// GetMeta returns the namespace's metadata.
func (n *Namespace) GetMeta() *ObjectMeta { return &n.Metadata }

// ConfigMap holds configuration as string data and binary data.
type ConfigMap struct {
	TypeMeta   `json:",inline"`
	Metadata   ObjectMeta        `json:"metadata"`
	Data       map[string]string `json:"data,omitempty"`
	BinaryData map[string][]byte `json:"binaryData,omitempty"`
	Immutable  *bool             `json:"immutable,omitempty"`
}

// GetMeta returns the config map's metadata.
func (c *ConfigMap) GetMeta() *ObjectMeta { return &c.Metadata }

var (
	_ Object = (*Namespace)(nil)
	_ Object = (*ConfigMap)(nil)
)
