package workload

import (
	"path"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// AccessModes are the access modes, in kubectl's order.
var AccessModes = []PersistentVolumeAccessMode{ReadWriteOnce, ReadOnlyMany, ReadWriteMany, ReadWriteOncePod}

// VolumeSources names the sources a volume sets, in PersistentVolumeSource's
// field order ("hostPath").
func VolumeSources(s *PersistentVolumeSource) []string {
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
	out = append(out, unsupportedSources(s)...)
	return out
}

// unsupportedSources names the sources set that Shoal cannot serve.
func unsupportedSources(s *PersistentVolumeSource) []string {
	var out []string
	for _, u := range []struct {
		name string
		set  bool
	}{
		{"gcePersistentDisk", s.GCEPersistentDisk != nil}, {"awsElasticBlockStore", s.AWSElasticBlockStore != nil},
		{"glusterfs", s.Glusterfs != nil}, {"rbd", s.RBD != nil}, {"iscsi", s.ISCSI != nil},
		{"cinder", s.Cinder != nil}, {"cephfs", s.CephFS != nil}, {"fc", s.FC != nil},
		{"flocker", s.Flocker != nil}, {"flexVolume", s.FlexVolume != nil}, {"azureFile", s.AzureFile != nil},
		{"vsphereVolume", s.VsphereVolume != nil}, {"quobyte", s.Quobyte != nil}, {"azureDisk", s.AzureDisk != nil},
		{"photonPersistentDisk", s.PhotonPersistentDisk != nil}, {"portworxVolume", s.PortworxVolume != nil},
		{"scaleIO", s.ScaleIO != nil}, {"storageos", s.StorageOS != nil}, {"csi", s.CSI != nil},
	} {
		if u.set {
			out = append(out, u.name)
		}
	}
	return out
}

// UnsupportedSource is the message of a volume whose source this cluster
// cannot serve, or "" when it can.
func UnsupportedSource(s *PersistentVolumeSource) string {
	u := unsupportedSources(s)
	if len(u) == 0 {
		return ""
	}
	return "the " + u[0] + " volume source is not supported by Shoal: use hostPath, local or nfs"
}

// ClaimStorageClass is the class a claim asks for: "" (no class) when it
// names none, as in a cluster without a default StorageClass.
func ClaimStorageClass(c *PersistentVolumeClaim) string {
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
		m := corev1.PersistentVolumeFilesystem
		v.Spec.VolumeMode = &m
	}
}

func defaultPersistentVolumeClaim(c *PersistentVolumeClaim) {
	if c.Spec.VolumeMode == nil {
		m := corev1.PersistentVolumeFilesystem
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

func validateVolumeMode(m *corev1.PersistentVolumeMode, p *field.Path) field.ErrorList {
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
	sources := VolumeSources(&sp.PersistentVolumeSource)
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
			errs = append(errs, field.Required(p.Child("nodeAffinity"), "Local volume requires node affinity"))
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
