package volumes

import "github.com/shoalproject/shoal/workload"

// pluginName names the volume plugin of a pod volume's source that a
// Shoal node does not serve, as the API spells it ("awsElasticBlockStore"),
// or "" when none is set: cloud and network disks and file systems (the
// node has neither their drivers nor, here, an NFS client), CSI drivers,
// generic ephemeral volumes (until dynamic provisioning exists), gitRepo
// and image volumes.
func pluginName(s *workload.VolumeSource) string {
	for _, p := range []struct {
		name string
		set  bool
	}{
		{"awsElasticBlockStore", s.AWSElasticBlockStore != nil}, {"gcePersistentDisk", s.GCEPersistentDisk != nil},
		{"azureDisk", s.AzureDisk != nil}, {"azureFile", s.AzureFile != nil}, {"cinder", s.Cinder != nil},
		{"cephfs", s.CephFS != nil}, {"rbd", s.RBD != nil}, {"iscsi", s.ISCSI != nil}, {"fc", s.FC != nil},
		{"flexVolume", s.FlexVolume != nil}, {"flocker", s.Flocker != nil}, {"glusterfs", s.Glusterfs != nil},
		{"portworxVolume", s.PortworxVolume != nil}, {"quobyte", s.Quobyte != nil}, {"scaleIO", s.ScaleIO != nil},
		{"storageos", s.StorageOS != nil}, {"vsphereVolume", s.VsphereVolume != nil},
		{"photonPersistentDisk", s.PhotonPersistentDisk != nil}, {"nfs", s.NFS != nil}, {"csi", s.CSI != nil},
		{"ephemeral", s.Ephemeral != nil}, {"gitRepo", s.GitRepo != nil}, {"image", s.Image != nil},
	} {
		if p.set {
			return p.name
		}
	}
	return ""
}
