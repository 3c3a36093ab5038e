package workload

import (
	"path"
	"reflect"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// The volumes of a pod, checked as Kubernetes checks them: every member of
// VolumeSource is a source; the ones Shoal serves (hostPath, emptyDir,
// secret, configMap, persistentVolumeClaim, projected, downwardAPI,
// ephemeral, image...) are checked in full, the in-tree cloud and network
// plugins only for the fields Kubernetes requires. Whether this cluster
// can mount a source is the node's business, not validation's.

// validateVolumes checks a pod's volumes and returns their sources by name.
// isPod is false for a pod template, whose image volumes may leave their
// reference for a later edit, as Kubernetes allows.
func validateVolumes(volumes []Volume, isPod bool, p *field.Path) (map[string]*VolumeSource, field.ErrorList) {
	var errs field.ErrorList
	sources := map[string]*VolumeSource{}
	for i := range volumes {
		v := &volumes[i]
		vp := p.Index(i)
		np := vp.Child("name")
		switch _, dup := sources[v.Name]; {
		case v.Name == "":
			errs = append(errs, field.Required(np, ""))
		case dup:
			errs = append(errs, field.Duplicate(np, v.Name))
		default:
			for _, msg := range validation.IsDNS1123Label(v.Name) {
				errs = append(errs, field.Invalid(np, v.Name, msg))
			}
		}
		if _, dup := sources[v.Name]; !dup {
			sources[v.Name] = &v.VolumeSource
		}
		errs = append(errs, validateVolumeSource(&v.VolumeSource, isPod, vp)...)
	}
	return sources, errs
}

// volumeSourceCheck is one member of VolumeSource: its JSON name, whether
// it is set, and the rules for its fields.
type volumeSourceCheck struct {
	name  string
	set   bool
	check func(p *field.Path) field.ErrorList
}

// validateVolumeSource checks that exactly one source is set, and that
// source. A source after the first is refused without being checked, as
// Kubernetes does.
func validateVolumeSource(s *VolumeSource, isPod bool, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	n := 0
	for _, c := range volumeSourceChecks(s, isPod) {
		if !c.set {
			continue
		}
		n++
		if n > 1 {
			errs = append(errs, field.Forbidden(p.Child(c.name), "may not specify more than 1 volume type"))
			continue
		}
		if c.check != nil {
			errs = append(errs, c.check(p.Child(c.name))...)
		}
	}
	if n == 0 {
		errs = append(errs, field.Required(p, "must specify a volume type"))
	}
	return errs
}

// volumeSourceChecks lists the sources in the order Kubernetes checks them,
// which decides which of two is "more than 1".
func volumeSourceChecks(s *VolumeSource, isPod bool) []volumeSourceCheck {
	return []volumeSourceCheck{
		{"emptyDir", s.EmptyDir != nil, func(p *field.Path) field.ErrorList { return validateEmptyDir(s.EmptyDir, p) }},
		{"hostPath", s.HostPath != nil, func(p *field.Path) field.ErrorList { return validateHostPathVolume(s.HostPath, p) }},
		{"gitRepo", s.GitRepo != nil, func(p *field.Path) field.ErrorList {
			errs := requiredFields(p, "repository", s.GitRepo.Repository)
			if d := s.GitRepo.Directory; d != "" {
				errs = append(errs, validateRelativePath(d, p.Child("directory"))...)
			}
			return errs
		}},
		{"gcePersistentDisk", s.GCEPersistentDisk != nil, func(p *field.Path) field.ErrorList {
			errs := requiredFields(p, "pdName", s.GCEPersistentDisk.PDName)
			return append(errs, validatePartition(s.GCEPersistentDisk.Partition, p.Child("partition"))...)
		}},
		{"awsElasticBlockStore", s.AWSElasticBlockStore != nil, func(p *field.Path) field.ErrorList {
			errs := requiredFields(p, "volumeID", s.AWSElasticBlockStore.VolumeID)
			return append(errs, validatePartition(s.AWSElasticBlockStore.Partition, p.Child("partition"))...)
		}},
		{"secret", s.Secret != nil, func(p *field.Path) field.ErrorList {
			errs := validateObjectName(s.Secret.SecretName, p.Child("secretName"))
			return append(errs, validateProjection(s.Secret.Items, s.Secret.DefaultMode, p)...)
		}},
		{"nfs", s.NFS != nil, func(p *field.Path) field.ErrorList {
			errs := requiredFields(p, "server", s.NFS.Server)
			switch pp := p.Child("path"); {
			case s.NFS.Path == "":
				errs = append(errs, field.Required(pp, ""))
			case !path.IsAbs(s.NFS.Path):
				errs = append(errs, field.Invalid(pp, s.NFS.Path, "must be an absolute path"))
			}
			return errs
		}},
		{"iscsi", s.ISCSI != nil, func(p *field.Path) field.ErrorList {
			errs := requiredFields(p, "targetPortal", s.ISCSI.TargetPortal, "iqn", s.ISCSI.IQN)
			if l := s.ISCSI.Lun; l < 0 || l > 255 {
				errs = append(errs, field.Invalid(p.Child("lun"), l, validation.InclusiveRangeError(0, 255)))
			}
			if (s.ISCSI.DiscoveryCHAPAuth || s.ISCSI.SessionCHAPAuth) && s.ISCSI.SecretRef == nil {
				errs = append(errs, field.Required(p.Child("secretRef"), ""))
			}
			return errs
		}},
		{"glusterfs", s.Glusterfs != nil, func(p *field.Path) field.ErrorList {
			return requiredFields(p, "endpoints", s.Glusterfs.EndpointsName, "path", s.Glusterfs.Path)
		}},
		{"flocker", s.Flocker != nil, func(p *field.Path) field.ErrorList {
			switch f := s.Flocker; {
			case f.DatasetName == "" && f.DatasetUUID == "":
				return field.ErrorList{field.Required(p, "one of datasetName and datasetUUID is required")}
			case f.DatasetName != "" && f.DatasetUUID != "":
				return field.ErrorList{field.Invalid(p, "resource", "datasetName and datasetUUID can not be specified simultaneously")}
			case strings.Contains(f.DatasetName, "/"):
				return field.ErrorList{field.Invalid(p.Child("datasetName"), f.DatasetName, "must not contain '/'")}
			}
			return nil
		}},
		{"persistentVolumeClaim", s.PersistentVolumeClaim != nil, func(p *field.Path) field.ErrorList {
			return validateObjectName(s.PersistentVolumeClaim.ClaimName, p.Child("claimName"))
		}},
		{"rbd", s.RBD != nil, func(p *field.Path) field.ErrorList {
			errs := requiredFields(p, "image", s.RBD.RBDImage)
			if len(s.RBD.CephMonitors) == 0 {
				errs = append(field.ErrorList{field.Required(p.Child("monitors"), "")}, errs...)
			}
			return errs
		}},
		{"cinder", s.Cinder != nil, func(p *field.Path) field.ErrorList {
			errs := requiredFields(p, "volumeID", s.Cinder.VolumeID)
			if r := s.Cinder.SecretRef; r != nil && r.Name == "" {
				errs = append(errs, field.Required(p.Child("secretRef", "name"), ""))
			}
			return errs
		}},
		{"cephfs", s.CephFS != nil, func(p *field.Path) field.ErrorList {
			if len(s.CephFS.Monitors) == 0 {
				return field.ErrorList{field.Required(p.Child("monitors"), "")}
			}
			return nil
		}},
		{"quobyte", s.Quobyte != nil, func(p *field.Path) field.ErrorList {
			return requiredFields(p, "registry", s.Quobyte.Registry, "volume", s.Quobyte.Volume)
		}},
		{"downwardAPI", s.DownwardAPI != nil, func(p *field.Path) field.ErrorList {
			errs := validateFileMode(s.DownwardAPI.DefaultMode, p.Child("defaultMode"))
			for i := range s.DownwardAPI.Items {
				errs = append(errs, validateDownwardAPIFile(&s.DownwardAPI.Items[i], p)...)
			}
			return errs
		}},
		{"fc", s.FC != nil, func(p *field.Path) field.ErrorList { return validateFC(s.FC, p) }},
		{"flexVolume", s.FlexVolume != nil, func(p *field.Path) field.ErrorList {
			return requiredFields(p, "driver", s.FlexVolume.Driver)
		}},
		{"configMap", s.ConfigMap != nil, func(p *field.Path) field.ErrorList {
			errs := validateObjectName(s.ConfigMap.Name, p.Child("name"))
			return append(errs, validateProjection(s.ConfigMap.Items, s.ConfigMap.DefaultMode, p)...)
		}},
		{"azureFile", s.AzureFile != nil, func(p *field.Path) field.ErrorList {
			return requiredFields(p, "secretName", s.AzureFile.SecretName, "shareName", s.AzureFile.ShareName)
		}},
		{"vsphereVolume", s.VsphereVolume != nil, func(p *field.Path) field.ErrorList {
			return requiredFields(p, "volumePath", s.VsphereVolume.VolumePath)
		}},
		{"photonPersistentDisk", s.PhotonPersistentDisk != nil, func(p *field.Path) field.ErrorList {
			return requiredFields(p, "pdID", s.PhotonPersistentDisk.PdID)
		}},
		{"portworxVolume", s.PortworxVolume != nil, func(p *field.Path) field.ErrorList {
			return requiredFields(p, "volumeID", s.PortworxVolume.VolumeID)
		}},
		{"azureDisk", s.AzureDisk != nil, func(p *field.Path) field.ErrorList {
			return requiredFields(p, "diskName", s.AzureDisk.DiskName, "diskURI", s.AzureDisk.DataDiskURI)
		}},
		{"storageos", s.StorageOS != nil, func(p *field.Path) field.ErrorList {
			errs := requiredFields(p, "volumeName", s.StorageOS.VolumeName)
			if len(errs) == 0 {
				for _, msg := range validation.IsDNS1123Label(s.StorageOS.VolumeName) {
					errs = append(errs, field.Invalid(p.Child("volumeName"), s.StorageOS.VolumeName, msg))
				}
			}
			return errs
		}},
		{"projected", s.Projected != nil, func(p *field.Path) field.ErrorList { return validateProjected(s.Projected, p) }},
		{"scaleIO", s.ScaleIO != nil, func(p *field.Path) field.ErrorList {
			return requiredFields(p, "gateway", s.ScaleIO.Gateway, "system", s.ScaleIO.System, "volumeName", s.ScaleIO.VolumeName)
		}},
		{"csi", s.CSI != nil, func(p *field.Path) field.ErrorList { return validateCSIVolume(s.CSI, p) }},
		{"ephemeral", s.Ephemeral != nil, func(p *field.Path) field.ErrorList { return validateEphemeralVolume(s.Ephemeral, p) }},
		{"image", s.Image != nil, func(p *field.Path) field.ErrorList {
			var errs field.ErrorList
			if isPod && s.Image.Reference == "" {
				errs = append(errs, field.Required(p.Child("reference"), ""))
			}
			if s.Image.PullPolicy != "" {
				errs = append(errs, validateEnum(p.Child("pullPolicy"), s.Image.PullPolicy, PullAlways, PullIfNotPresent, PullNever)...)
			}
			return errs
		}},
	}
}

// requiredFields takes pairs of a field name and its value and reports
// each empty one as required.
func requiredFields(p *field.Path, nameValues ...string) field.ErrorList {
	var errs field.ErrorList
	for i := 0; i+1 < len(nameValues); i += 2 {
		if nameValues[i+1] == "" {
			errs = append(errs, field.Required(p.Child(nameValues[i]), ""))
		}
	}
	return errs
}

func validatePartition(partition int32, p *field.Path) field.ErrorList {
	if partition < 0 || partition > 255 {
		return field.ErrorList{field.Invalid(p, partition, validation.InclusiveRangeError(1, 255))}
	}
	return nil
}

func validateEmptyDir(s *EmptyDirVolumeSource, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if s.Medium != StorageMediumDefault {
		errs = append(errs, validateEnum(p.Child("medium"), s.Medium, StorageMediumMemory)...)
	}
	if s.SizeLimit != nil && s.SizeLimit.Sign() < 0 {
		errs = append(errs, field.Invalid(p.Child("sizeLimit"), s.SizeLimit.String(), "must be greater than or equal to 0"))
	}
	return errs
}

// validateHostPathVolume checks a hostPath volume. Shoal, unlike
// Kubernetes, wants the path absolute: a relative one would name a
// directory that depends on where the node agent runs.
func validateHostPathVolume(s *HostPathVolumeSource, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch pp := p.Child("path"); {
	case s.Path == "":
		errs = append(errs, field.Required(pp, ""))
	case !path.IsAbs(s.Path):
		errs = append(errs, field.Invalid(pp, s.Path, "must be an absolute path"))
	case slices.Contains(strings.Split(s.Path, "/"), ".."):
		errs = append(errs, field.Invalid(pp, s.Path, "must not contain '..'"))
	}
	if s.Type != nil && *s.Type != HostPathUnset {
		errs = append(errs, validateEnum(p.Child("type"), *s.Type, HostPathDirectoryOrCreate, HostPathDirectory,
			HostPathFileOrCreate, HostPathFile, HostPathSocket, HostPathCharDev, HostPathBlockDev)...)
	}
	return errs
}

func validateFC(fc *corev1.FCVolumeSource, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch {
	case len(fc.TargetWWNs) == 0 && len(fc.WWIDs) == 0:
		errs = append(errs, field.Required(p.Child("targetWWNs"), "must specify either targetWWNs or wwids, but not both"))
	case len(fc.TargetWWNs) != 0 && len(fc.WWIDs) != 0:
		errs = append(errs, field.Invalid(p.Child("targetWWNs"), fc.TargetWWNs, "targetWWNs and wwids can not be specified simultaneously"))
	}
	if len(fc.TargetWWNs) != 0 {
		if fc.Lun == nil {
			errs = append(errs, field.Required(p.Child("lun"), "lun is required if targetWWNs is specified"))
		} else if *fc.Lun < 0 || *fc.Lun > 255 {
			errs = append(errs, field.Invalid(p.Child("lun"), *fc.Lun, validation.InclusiveRangeError(0, 255)))
		}
	}
	return errs
}

func validateCSIVolume(s *corev1.CSIVolumeSource, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	dp := p.Child("driver")
	if s.Driver == "" {
		errs = append(errs, field.Required(dp, ""))
	}
	if len(s.Driver) > 63 {
		errs = append(errs, field.TooLong(dp, "", 63))
	}
	if s.Driver != "" {
		for _, msg := range validation.IsDNS1123Subdomain(strings.ToLower(s.Driver)) {
			errs = append(errs, field.Invalid(dp, s.Driver, msg))
		}
	}
	if r := s.NodePublishSecretRef; r != nil {
		errs = append(errs, validateObjectName(r.Name, p.Child("nodePublishSecretRef", "name"))...)
	}
	return errs
}

// validateEphemeralVolume checks a generic ephemeral volume: the claim
// template's metadata may hold only labels and annotations, and its spec
// is a claim's (access modes, a storage request).
func validateEphemeralVolume(s *corev1.EphemeralVolumeSource, p *field.Path) field.ErrorList {
	tp := p.Child("volumeClaimTemplate")
	t := s.VolumeClaimTemplate
	if t == nil {
		return field.ErrorList{field.Required(tp, "")}
	}
	mp := tp.Child("metadata")
	errs := validateLabels(t.Labels, mp.Child("labels"))
	errs = append(errs, onlyLabelsAndAnnotations(&t.ObjectMeta, mp)...)
	return append(errs, validateClaimTemplateSpec(&t.Spec, tp.Child("spec"))...)
}

// onlyLabelsAndAnnotations refuses every field of a template's metadata
// but its labels and annotations, as Kubernetes does.
func onlyLabelsAndAnnotations(m *ObjectMeta, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	v := reflect.ValueOf(*m)
	for i := range v.NumField() {
		f := v.Type().Field(i)
		if f.Name == "Labels" || f.Name == "Annotations" || v.Field(i).IsZero() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		errs = append(errs, field.Forbidden(p.Child(name), "cannot be set"))
	}
	return errs
}

// validateClaimTemplateSpec checks the claim an ephemeral volume makes,
// with Kubernetes' paths (its storage request is resources[storage]).
func validateClaimTemplateSpec(s *PersistentVolumeClaimSpec, p *field.Path) field.ErrorList {
	errs := validateAccessModes(s.AccessModes, p.Child("accessModes"))
	errs = append(errs, validateLabelSelector(s.Selector, p.Child("selector"))...)
	sp := p.Child("resources").Key(string(ResourceStorage))
	switch q, ok := s.Resources.Requests[ResourceStorage]; {
	case !ok:
		errs = append(errs, field.Required(sp, ""))
	case q.Sign() <= 0:
		errs = append(errs, field.Invalid(sp, q.String(), "must be greater than zero"))
	}
	if c := s.StorageClassName; c != nil && *c != "" {
		errs = append(errs, validateObjectName(*c, p.Child("storageClassName"))...)
	}
	if m := s.VolumeMode; m != nil {
		errs = append(errs, validateEnum(p.Child("volumeMode"), *m, corev1.PersistentVolumeBlock, corev1.PersistentVolumeFilesystem)...)
	}
	return errs
}

// validateFileMode checks a defaultMode or mode: 0 to 0777.
func validateFileMode(mode *int32, p *field.Path) field.ErrorList {
	if mode != nil && (*mode < 0 || *mode > 0o777) {
		return field.ErrorList{field.Invalid(p, *mode, fileModeMessage)}
	}
	return nil
}

const fileModeMessage = "must be a number between 0 and 0777 (octal), both inclusive"

// validateProjection checks the items and modes of a ConfigMap or Secret
// volume.
func validateProjection(items []KeyToPath, defaultMode *int32, p *field.Path) field.ErrorList {
	errs := validateFileMode(defaultMode, p.Child("defaultMode"))
	for i := range items {
		errs = append(errs, validateKeyToPath(&items[i], p.Child("items").Index(i))...)
	}
	return errs
}

func validateKeyToPath(it *KeyToPath, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if it.Key == "" {
		errs = append(errs, field.Required(p.Child("key"), ""))
	} else {
		for _, msg := range validation.IsConfigMapKey(it.Key) {
			errs = append(errs, field.Invalid(p.Child("key"), it.Key, msg))
		}
	}
	errs = append(errs, validateFilePath(it.Path, p.Child("path"))...)
	return append(errs, validateFileMode(it.Mode, p.Child("mode"))...)
}

// validateFilePath checks the path of a file a volume writes: required,
// relative, inside the volume.
func validateFilePath(file string, p *field.Path) field.ErrorList {
	if file == "" {
		return field.ErrorList{field.Required(p, "")}
	}
	errs := validateRelativePath(file, p)
	if len(errs) == 0 && strings.HasPrefix(file, "..") {
		errs = append(errs, field.Invalid(p, file, "must not start with '..'"))
	}
	return errs
}

// validateDownwardAPIFile checks one file of a downwardAPI volume or
// projection. Kubernetes reports its errors under the volume's path, not
// the item's, and so does Shoal.
func validateDownwardAPIFile(f *DownwardAPIVolumeFile, p *field.Path) field.ErrorList {
	errs := validateFilePath(f.Path, p.Child("path"))
	switch {
	case f.FieldRef != nil:
		errs = append(errs, validateFieldRef(f.FieldRef, VolumeFieldPaths, p.Child("fieldRef"))...)
		if f.ResourceFieldRef != nil {
			errs = append(errs, field.Invalid(p, "resource", "fieldRef and resourceFieldRef can not be specified simultaneously"))
		}
	case f.ResourceFieldRef != nil:
		errs = append(errs, validateResourceFieldRef(f.ResourceFieldRef, true, nil, p.Child("resourceFieldRef"))...)
	default:
		errs = append(errs, field.Required(p, "one of fieldRef and resourceFieldRef is required"))
	}
	return append(errs, validateFileMode(f.Mode, p.Child("mode"))...)
}

// The shortest and longest life of a projected service account token.
const (
	minTokenExpirationSeconds = 10 * 60
	maxTokenExpirationSeconds = 1 << 32
)

// validateProjected checks a projected volume: each source names one kind
// (configMap, secret, downwardAPI, serviceAccountToken or
// clusterTrustBundle), and no two write the same path.
func validateProjected(s *corev1.ProjectedVolumeSource, p *field.Path) field.ErrorList {
	errs := validateFileMode(s.DefaultMode, p.Child("defaultMode"))
	paths := map[string]bool{}
	claim := func(file string, value any) {
		if file == "" {
			return
		}
		if paths[file] {
			errs = append(errs, field.Invalid(p, value, "conflicting duplicate paths"))
		}
		paths[file] = true
	}
	for i, src := range s.Sources {
		sp := p.Child("sources").Index(i)
		n := 0
		// A secret or a config map: its name and the files of its keys.
		keys := func(kind, name string, items []KeyToPath) {
			n++
			cp := sp.Child(kind)
			errs = append(errs, requiredFields(cp, "name", name)...)
			for j := range items {
				errs = append(errs, validateKeyToPath(&items[j], cp.Child("items").Index(j))...)
				claim(items[j].Path, name)
			}
		}
		if c := src.Secret; c != nil {
			keys("secret", c.Name, c.Items)
		}
		if c := src.ConfigMap; c != nil {
			keys("configMap", c.Name, c.Items)
		}
		if c := src.DownwardAPI; c != nil {
			n++
			for j := range c.Items {
				errs = append(errs, validateDownwardAPIFile(&c.Items[j], sp.Child("downwardAPI"))...)
				claim(c.Items[j].Path, c.Items[j].Path)
			}
		}
		if t := src.ServiceAccountToken; t != nil {
			n++
			ep := sp.Child("serviceAccountToken", "expirationSeconds")
			if e := t.ExpirationSeconds; e != nil {
				if *e < minTokenExpirationSeconds {
					errs = append(errs, field.Invalid(ep, *e, "may not specify a duration less than 10 minutes"))
				}
				if *e > maxTokenExpirationSeconds {
					errs = append(errs, field.Invalid(ep, *e, "may not specify a duration larger than 2^32 seconds"))
				}
			}
			// Kubernetes names the projection's path, not the source's.
			if t.Path == "" {
				errs = append(errs, field.Required(p.Child("path"), ""))
			} else {
				errs = append(errs, validateFilePath(t.Path, p.Child("path"))...)
			}
			claim(t.Path, t.Path)
		}
		if b := src.ClusterTrustBundle; b != nil {
			n++
			errs = append(errs, validateClusterTrustBundle(b, sp.Child("clusterTrustBundle"))...)
			claim(b.Path, b.Path)
		}
		if n > 1 {
			errs = append(errs, field.Forbidden(sp, "may not specify more than 1 volume type per source"))
		}
	}
	return errs
}

func validateClusterTrustBundle(b *corev1.ClusterTrustBundleProjection, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch {
	case b.Name != nil && b.SignerName != nil:
		errs = append(errs, field.Invalid(p, b, "only one of name and signerName may be used"))
	case b.Name != nil:
		if *b.Name == "" {
			errs = append(errs, field.Required(p.Child("name"), "must be a valid object name"))
		}
		if b.LabelSelector != nil {
			errs = append(errs, field.Invalid(p.Child("labelSelector"), b.LabelSelector, "labelSelector must be unset if name is specified"))
		}
	case b.SignerName != nil:
		if *b.SignerName == "" {
			errs = append(errs, field.Required(p.Child("signerName"), "must be a valid signer name"))
		}
		errs = append(errs, validateLabelSelector(b.LabelSelector, p.Child("labelSelector"))...)
	default:
		errs = append(errs, field.Required(p, "either name or signerName must be specified"))
	}
	return append(errs, validateFilePath(b.Path, p.Child("path"))...)
}
