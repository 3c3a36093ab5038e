package workload

import (
	"encoding/json"
	"path"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// PersistentVolume (v1) is a piece of storage an administrator made
// available to the cluster; it lives in the meta shard.
type PersistentVolume struct {
	TypeMeta `json:",inline"`
	Metadata ObjectMeta             `json:"metadata"`
	Spec     PersistentVolumeSpec   `json:"spec"`
	Status   PersistentVolumeStatus `json:"status,omitempty"`
}

// GetMeta returns the volume's metadata.
func (v *PersistentVolume) GetMeta() *ObjectMeta { return &v.Metadata }

// PersistentVolumeClaim (v1) is a user's request for storage, bound by
// the claim binder to one PersistentVolume.
type PersistentVolumeClaim struct {
	TypeMeta `json:",inline"`
	Metadata ObjectMeta                  `json:"metadata"`
	Spec     PersistentVolumeClaimSpec   `json:"spec"`
	Status   PersistentVolumeClaimStatus `json:"status,omitempty"`
}

// GetMeta returns the claim's metadata.
func (c *PersistentVolumeClaim) GetMeta() *ObjectMeta { return &c.Metadata }

// ResourceStorage is a volume's size, in bytes ("10Gi").
const ResourceStorage ResourceName = "storage"

// PersistentVolumeAccessMode is how a volume may be mounted.
type PersistentVolumeAccessMode string

// The access modes, as in Kubernetes.
const (
	ReadWriteOnce    PersistentVolumeAccessMode = "ReadWriteOnce"    // read-write, by the pods of one node
	ReadOnlyMany     PersistentVolumeAccessMode = "ReadOnlyMany"     // read-only, by pods on any nodes
	ReadWriteMany    PersistentVolumeAccessMode = "ReadWriteMany"    // read-write, by pods on any nodes
	ReadWriteOncePod PersistentVolumeAccessMode = "ReadWriteOncePod" // read-write, by one pod
)

// AccessModes are the access modes, in kubectl's order.
var AccessModes = []PersistentVolumeAccessMode{ReadWriteOnce, ReadOnlyMany, ReadWriteMany, ReadWriteOncePod}

// PersistentVolumeReclaimPolicy is what happens to a volume when its claim
// is deleted.
type PersistentVolumeReclaimPolicy string

// The reclaim policies.
const (
	ReclaimRetain PersistentVolumeReclaimPolicy = "Retain" // the volume stays Released, its data kept
	ReclaimDelete PersistentVolumeReclaimPolicy = "Delete" // the volume goes (and a directory Shoal made is emptied)
)

// PersistentVolumeSpec is what an administrator says of a volume.
type PersistentVolumeSpec struct {
	Capacity                      ResourceList                  `json:"capacity,omitempty"`
	AccessModes                   []PersistentVolumeAccessMode  `json:"accessModes,omitempty"`
	PersistentVolumeReclaimPolicy PersistentVolumeReclaimPolicy `json:"persistentVolumeReclaimPolicy,omitempty"`
	StorageClassName              string                        `json:"storageClassName,omitempty"`
	MountOptions                  []string                      `json:"mountOptions,omitempty"`
	VolumeMode                    *string                       `json:"volumeMode,omitempty"`
	// ClaimRef is the claim the volume is bound to (or reserved for, when
	// set by the administrator before any claim exists).
	ClaimRef               *ObjectReference    `json:"claimRef,omitempty"`
	NodeAffinity           *VolumeNodeAffinity `json:"nodeAffinity,omitempty"`
	PersistentVolumeSource `json:",inline"`
}

// PersistentVolumeSource is where a volume's data is: exactly one field.
// The sources Shoal cannot serve are parsed, kept as written, and make the
// volume Failed with a message naming them.
type PersistentVolumeSource struct {
	HostPath *HostPathVolumeSource `json:"hostPath,omitempty"`
	Local    *LocalVolumeSource    `json:"local,omitempty"`
	NFS      *NFSVolumeSource      `json:"nfs,omitempty"`

	AWSElasticBlockStore json.RawMessage `json:"awsElasticBlockStore,omitempty"`
	AzureDisk            json.RawMessage `json:"azureDisk,omitempty"`
	AzureFile            json.RawMessage `json:"azureFile,omitempty"`
	GCEPersistentDisk    json.RawMessage `json:"gcePersistentDisk,omitempty"`
	CSI                  json.RawMessage `json:"csi,omitempty"`
	Cinder               json.RawMessage `json:"cinder,omitempty"`
	CephFS               json.RawMessage `json:"cephfs,omitempty"`
	RBD                  json.RawMessage `json:"rbd,omitempty"`
	ISCSI                json.RawMessage `json:"iscsi,omitempty"`
	FC                   json.RawMessage `json:"fc,omitempty"`
	FlexVolume           json.RawMessage `json:"flexVolume,omitempty"`
	Glusterfs            json.RawMessage `json:"glusterfs,omitempty"`
	VsphereVolume        json.RawMessage `json:"vsphereVolume,omitempty"`
	PortworxVolume       json.RawMessage `json:"portworxVolume,omitempty"`
}

// Sources names the sources set, in the field order above ("hostPath").
func (s *PersistentVolumeSource) Sources() []string {
	var out []string
	if s.HostPath != nil {
		out = append(out, "hostPath")
	}
	if s.Local != nil {
		out = append(out, "local")
	}
	if s.NFS != nil {
		out = append(out, "nfs")
	}
	out = append(out, s.unsupported()...)
	return out
}

// unsupported names the sources set that Shoal cannot serve.
func (s *PersistentVolumeSource) unsupported() []string {
	var out []string
	for _, u := range []struct {
		name string
		raw  json.RawMessage
	}{
		{"awsElasticBlockStore", s.AWSElasticBlockStore}, {"azureDisk", s.AzureDisk}, {"azureFile", s.AzureFile},
		{"gcePersistentDisk", s.GCEPersistentDisk}, {"csi", s.CSI}, {"cinder", s.Cinder}, {"cephfs", s.CephFS},
		{"rbd", s.RBD}, {"iscsi", s.ISCSI}, {"fc", s.FC}, {"flexVolume", s.FlexVolume}, {"glusterfs", s.Glusterfs},
		{"vsphereVolume", s.VsphereVolume}, {"portworxVolume", s.PortworxVolume},
	} {
		if len(u.raw) > 0 && string(u.raw) != "null" {
			out = append(out, u.name)
		}
	}
	return out
}

// Unsupported is the message of a volume whose source this cluster cannot
// serve, or "" when it can.
func (s *PersistentVolumeSource) Unsupported() string {
	u := s.unsupported()
	if len(u) == 0 {
		return ""
	}
	return "the " + u[0] + " volume source is not supported by Shoal: use hostPath, local or nfs"
}

// LocalVolumeSource is a directory (or disk) on one node, named by the
// volume's required node affinity.
type LocalVolumeSource struct {
	Path   string  `json:"path"`
	FSType *string `json:"fsType,omitempty"`
}

// NFSVolumeSource is an NFS export, mounted through the kernel's client.
type NFSVolumeSource struct {
	Server   string `json:"server"`
	Path     string `json:"path"`
	ReadOnly bool   `json:"readOnly,omitempty"`
}

// VolumeNodeAffinity limits the nodes a volume can be reached from.
type VolumeNodeAffinity struct {
	Required *NodeSelector `json:"required,omitempty"`
}

// PersistentVolumePhase is where a volume is in its life.
type PersistentVolumePhase string

// The volume phases.
const (
	VolumePending   PersistentVolumePhase = "Pending"
	VolumeAvailable PersistentVolumePhase = "Available" // free, not yet bound
	VolumeBound     PersistentVolumePhase = "Bound"
	VolumeReleased  PersistentVolumePhase = "Released" // its claim was deleted; not bound again
	VolumeFailed    PersistentVolumePhase = "Failed"
)

// PersistentVolumeStatus is what the cluster says of a volume.
type PersistentVolumeStatus struct {
	Phase   PersistentVolumePhase `json:"phase,omitempty"`
	Message string                `json:"message,omitempty"`
	Reason  string                `json:"reason,omitempty"`
}

// PersistentVolumeClaimSpec is what a user asks for.
type PersistentVolumeClaimSpec struct {
	AccessModes      []PersistentVolumeAccessMode `json:"accessModes,omitempty"`
	Selector         *LabelSelector               `json:"selector,omitempty"`
	Resources        VolumeResourceRequirements   `json:"resources,omitempty"`
	VolumeName       string                       `json:"volumeName,omitempty"`
	StorageClassName *string                      `json:"storageClassName,omitempty"`
	VolumeMode       *string                      `json:"volumeMode,omitempty"`
}

// VolumeResourceRequirements is a claim's size: requests.storage.
type VolumeResourceRequirements struct {
	Requests ResourceList `json:"requests,omitempty"`
	Limits   ResourceList `json:"limits,omitempty"`
}

// PersistentVolumeClaimPhase is where a claim is in its life.
type PersistentVolumeClaimPhase string

// The claim phases.
const (
	ClaimPending PersistentVolumeClaimPhase = "Pending"
	ClaimBound   PersistentVolumeClaimPhase = "Bound"
	ClaimLost    PersistentVolumeClaimPhase = "Lost" // its volume is gone
)

// PersistentVolumeClaimStatus is what the cluster says of a claim: once
// bound, the volume's modes and capacity.
type PersistentVolumeClaimStatus struct {
	Phase       PersistentVolumeClaimPhase   `json:"phase,omitempty"`
	AccessModes []PersistentVolumeAccessMode `json:"accessModes,omitempty"`
	Capacity    ResourceList                 `json:"capacity,omitempty"`
}

// ClaimStorageClass is the class a claim asks for: "" (no class) when it
// names none, as in a cluster without a default StorageClass.
func (c *PersistentVolumeClaim) ClaimStorageClass() string {
	if c.Spec.StorageClassName == nil {
		return ""
	}
	return *c.Spec.StorageClassName
}

func defaultPersistentVolume(v *PersistentVolume) {
	if v.Spec.PersistentVolumeReclaimPolicy == "" {
		v.Spec.PersistentVolumeReclaimPolicy = ReclaimRetain
	}
	if v.Spec.VolumeMode == nil {
		m := "Filesystem"
		v.Spec.VolumeMode = &m
	}
}

func defaultPersistentVolumeClaim(c *PersistentVolumeClaim) {
	if c.Spec.VolumeMode == nil {
		m := "Filesystem"
		c.Spec.VolumeMode = &m
	}
}

func validateAccessModes(modes []PersistentVolumeAccessMode, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(modes) == 0 {
		errs = append(errs, field.Required(p, "at least 1 access mode is required"))
	}
	for i, m := range modes {
		errs = append(errs, validateEnum(p.Index(i), m, AccessModes...)...)
	}
	if slices.Contains(modes, ReadWriteOncePod) && len(modes) > 1 {
		errs = append(errs, field.Forbidden(p, "may not use ReadWriteOncePod with other access modes"))
	}
	return errs
}

func validateStorage(list ResourceList, p *field.Path) field.ErrorList {
	q, ok := list[ResourceStorage]
	switch {
	case !ok:
		return field.ErrorList{field.Required(p.Key(string(ResourceStorage)), "")}
	case q.Sign() <= 0:
		return field.ErrorList{field.Invalid(p.Key(string(ResourceStorage)), q.String(), "must be greater than zero")}
	}
	return nil
}

func validateVolumeMode(m *string, p *field.Path) field.ErrorList {
	if m != nil && *m != "Filesystem" {
		return field.ErrorList{field.NotSupported(p, *m, []string{"Filesystem"})}
	}
	return nil
}

func validatePersistentVolume(v *PersistentVolume) field.ErrorList {
	sp := &v.Spec
	p := field.NewPath("spec")
	var errs field.ErrorList
	errs = append(errs, validateStorage(sp.Capacity, p.Child("capacity"))...)
	errs = append(errs, validateAccessModes(sp.AccessModes, p.Child("accessModes"))...)
	errs = append(errs, optionalEnum(p.Child("persistentVolumeReclaimPolicy"), sp.PersistentVolumeReclaimPolicy, ReclaimRetain, ReclaimDelete)...)
	errs = append(errs, validateVolumeMode(sp.VolumeMode, p.Child("volumeMode"))...)
	if sp.StorageClassName != "" {
		errs = append(errs, validateObjectName(sp.StorageClassName, p.Child("storageClassName"))...)
	}
	sources := sp.Sources()
	switch {
	case len(sources) == 0:
		errs = append(errs, field.Required(p, "must specify a volume type"))
	case len(sources) > 1:
		errs = append(errs, field.Forbidden(p.Child(sources[1]), "may not specify more than 1 volume type"))
	}
	absolute := func(fp *field.Path, s string) {
		switch {
		case s == "":
			errs = append(errs, field.Required(fp, ""))
		case !path.IsAbs(s):
			errs = append(errs, field.Invalid(fp, s, "must be an absolute path"))
		case slices.Contains(strings.Split(s, "/"), ".."):
			errs = append(errs, field.Invalid(fp, s, "must not contain '..'"))
		}
	}
	if s := sp.HostPath; s != nil {
		absolute(p.Child("hostPath", "path"), s.Path)
		if s.Type != nil && *s.Type != HostPathUnset {
			errs = append(errs, validateEnum(p.Child("hostPath", "type"), *s.Type, HostPathDirectoryOrCreate, HostPathDirectory)...)
		}
	}
	if s := sp.Local; s != nil {
		absolute(p.Child("local", "path"), s.Path)
		if sp.NodeAffinity == nil || sp.NodeAffinity.Required == nil {
			errs = append(errs, field.Required(p.Child("nodeAffinity"), "Local volumes require node affinity"))
		}
	}
	if s := sp.NFS; s != nil {
		if s.Server == "" {
			errs = append(errs, field.Required(p.Child("nfs", "server"), ""))
		}
		absolute(p.Child("nfs", "path"), s.Path)
	}
	if a := sp.NodeAffinity; a != nil {
		ap := p.Child("nodeAffinity", "required")
		if a.Required == nil || len(a.Required.NodeSelectorTerms) == 0 {
			errs = append(errs, field.Required(ap.Child("nodeSelectorTerms"), "must have at least one node selector term"))
		} else {
			for i, t := range a.Required.NodeSelectorTerms {
				errs = append(errs, validateNodeSelectorTerm(t, ap.Child("nodeSelectorTerms").Index(i))...)
			}
		}
	}
	if r := sp.ClaimRef; r != nil {
		if r.Name == "" {
			errs = append(errs, field.Required(p.Child("claimRef", "name"), ""))
		}
		if r.Namespace == "" {
			errs = append(errs, field.Required(p.Child("claimRef", "namespace"), ""))
		}
	}
	return errs
}

func validatePersistentVolumeClaim(c *PersistentVolumeClaim) field.ErrorList {
	sp := &c.Spec
	p := field.NewPath("spec")
	var errs field.ErrorList
	errs = append(errs, validateAccessModes(sp.AccessModes, p.Child("accessModes"))...)
	errs = append(errs, validateStorage(sp.Resources.Requests, p.Child("resources", "requests"))...)
	errs = append(errs, validateLabelSelector(sp.Selector, p.Child("selector"))...)
	errs = append(errs, validateVolumeMode(sp.VolumeMode, p.Child("volumeMode"))...)
	if sp.VolumeName != "" {
		errs = append(errs, validateObjectName(sp.VolumeName, p.Child("volumeName"))...)
	}
	if sp.StorageClassName != nil && *sp.StorageClassName != "" {
		errs = append(errs, validateObjectName(*sp.StorageClassName, p.Child("storageClassName"))...)
	}
	return errs
}
