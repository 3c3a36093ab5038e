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
	Name string `json:"name,omitempty"`
	// GenerateName is a prefix for a name the server makes up when Name
	// is empty, as Kubernetes does for a ReplicaSet's pods.
	GenerateName string            `json:"generateName,omitempty"`
	Namespace    string            `json:"namespace,omitempty"`
	Labels       map[string]string `json:"labels,omitempty"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	// ResourceVersion and UID are set by the store, never by the user.
	ResourceVersion   string     `json:"resourceVersion,omitempty"`
	UID               string     `json:"uid,omitempty"`
	CreationTimestamp *time.Time `json:"creationTimestamp,omitempty"`
	Generation        int64      `json:"generation,omitempty"`
	// DeletionTimestamp is when a graceful delete was asked for: the object
	// goes once its finalizers are empty and, for a pod, its containers
	// have stopped or DeletionGracePeriodSeconds have passed.
	DeletionTimestamp          *time.Time `json:"deletionTimestamp,omitempty"`
	DeletionGracePeriodSeconds *int64     `json:"deletionGracePeriodSeconds,omitempty"`
	// OwnerReferences name the objects this one belongs to (a Pod's
	// ReplicaSet); at most one of them is its controller.
	OwnerReferences []OwnerReference `json:"ownerReferences,omitempty"`
	// Finalizers must all be removed before a deleted object goes.
	Finalizers []string `json:"finalizers,omitempty"`
}

// OwnerReference names an object that owns another, in the owner's namespace.
type OwnerReference struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Name       string `json:"name"`
	UID        string `json:"uid"`
	// Controller marks the one owner that manages this object.
	Controller *bool `json:"controller,omitempty"`
	// BlockOwnerDeletion is accepted for compatibility with Kubernetes'
	// manifests; Shoal does not act on it yet.
	BlockOwnerDeletion *bool `json:"blockOwnerDeletion,omitempty"`
}

// ConditionStatus is whether a condition holds: True, False or Unknown.
type ConditionStatus string

// The condition statuses.
const (
	ConditionTrue    ConditionStatus = "True"
	ConditionFalse   ConditionStatus = "False"
	ConditionUnknown ConditionStatus = "Unknown"
)

// LabelSelector selects objects by their labels: all of MatchLabels and all
// of MatchExpressions must hold. An empty selector selects everything.
type LabelSelector struct {
	MatchLabels      map[string]string          `json:"matchLabels,omitempty"`
	MatchExpressions []LabelSelectorRequirement `json:"matchExpressions,omitempty"`
}

// LabelSelectorRequirement is one test of a label: In and NotIn take
// values, Exists and DoesNotExist none.
type LabelSelectorRequirement struct {
	Key      string                `json:"key"`
	Operator LabelSelectorOperator `json:"operator"`
	Values   []string              `json:"values,omitempty"`
}

// LabelSelectorOperator is how a LabelSelectorRequirement tests its key.
type LabelSelectorOperator string

// The label selector operators.
const (
	LabelSelectorOpIn           LabelSelectorOperator = "In"
	LabelSelectorOpNotIn        LabelSelectorOperator = "NotIn"
	LabelSelectorOpExists       LabelSelectorOperator = "Exists"
	LabelSelectorOpDoesNotExist LabelSelectorOperator = "DoesNotExist"
)

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
	_ Object = (*Pod)(nil)
	_ Object = (*Node)(nil)
	_ Object = (*Event)(nil)
)
