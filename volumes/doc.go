// Package volumes owns what pods' volumes are made of on a node, and (in
// later slices) the binding of PersistentVolumeClaims to PersistentVolumes.
//
// On the node side:
//
//   - ConfigMapFiles (and, later, SecretFiles) project an object's keys as
//     files, as a configMap or secret volume's items and modes say. They are
//     pure functions.
//   - WriteAtomic makes a directory hold exactly a set of files, all of them
//     changing at once for a reader, as Kubernetes' atomic writer does: the
//     files live in a timestamped directory that a "..data" symlink names,
//     each visible name is a symlink through "..data", and an update
//     renames a new "..data" over the old one. A container that mounted the
//     directory sees the new files the moment the rename lands, and never a
//     mix of old and new.
//   - Mounter sets up a pod's volumes under its root directory
//     (ROOT/POD-UID/volumes/NAME): emptyDir as a directory, or a tmpfs for
//     medium Memory (through a Tmpfs, which tests replace); hostPath checked
//     (or created) as its type says; configMap, secret, downwardAPI and
//     projected volumes written with WriteAtomic (the last three on a
//     tmpfs when the node has one; secrets never on disk), again on every
//     refresh; nfs mounted where the kernel has an NFS client. The plugins
//     a Shoal node lacks (cloud disks, CSI, gitRepo, image...) fail with
//     ErrUnavailable, naming the volume and the plugin. It tears them down
//     when the pod is gone.
//   - DownwardAPIFiles makes a downwardAPI volume's files from the pod, with
//     workload.PodFieldValue and workload.ContainerResourceValue: the same
//     values, in the kubelet's format, as the node agent's env vars.
//   - SubPath resolves a volumeMount's subPath inside its volume, refusing
//     one that leaves the volume through a symlink.
//
// This package must not import peer, consensus, gossip or cmd; the node
// agent (workload/nodeagent) calls it, and peer wires it.
package volumes
