package volumes

import (
	"context"
	"errors"
	"fmt"
	"path"
	"time"

	"github.com/shoalproject/shoal/internal/errdefs"
	"github.com/shoalproject/shoal/workload"
)

// TokenSource issues the tokens of projected volumes' serviceAccountToken
// files. A Sources may implement it; called from many goroutines.
type TokenSource interface {
	// ServiceAccountToken returns a token for pod as serviceAccount of
	// its namespace, for audience ("": the cluster's API), meant to
	// expire after expiration.
	ServiceAccountToken(ctx context.Context, pod *workload.Pod, serviceAccount, audience string, expiration time.Duration) ([]byte, error)
}

// projectedVolume merges the sources of v, a projected volume, into one
// directory, written at once with WriteAtomic: config maps' and secrets'
// keys (their items; an optional object that does not exist adds
// nothing), downward API files and service account tokens, all with the
// volume's defaultMode unless an item sets its own. A later source's file
// replaces an earlier one's at the same path, as in the kubelet. Cluster
// trust bundles and pod certificates are not served on this node. Nothing
// is written unless every source could be read.
func (m *Mounter) projectedVolume(ctx context.Context, pod *workload.Pod, v workload.Volume, dir string, src Sources) (Mounted, error) {
	ns, defaultMode := pod.ObjectMeta.Namespace, v.Projected.DefaultMode
	byPath := map[string]File{}
	secrets := false
	var errs []error
	for _, s := range v.Projected.Sources {
		var files []File
		var err error
		switch {
		case s.ConfigMap != nil:
			var cm *workload.ConfigMap
			if cm, err = configMap(ctx, src, ns, s.ConfigMap.Name, s.ConfigMap.Optional); err == nil && cm != nil {
				if files, err = project(configMapData(cm), s.ConfigMap.Items, defaultMode, isTrue(s.ConfigMap.Optional)); err != nil {
					err = fmt.Errorf("configmap %q: %w", s.ConfigMap.Name, err)
				}
			}
		case s.Secret != nil:
			secrets = true
			var sec *workload.Secret
			if sec, err = secret(ctx, src, ns, s.Secret.Name, s.Secret.Optional); err == nil && sec != nil {
				if files, err = project(sec.Data, s.Secret.Items, defaultMode, isTrue(s.Secret.Optional)); err != nil {
					err = fmt.Errorf("secret %q: %w", s.Secret.Name, err)
				}
			}
		case s.DownwardAPI != nil:
			files, err = DownwardAPIFiles(pod, s.DownwardAPI.Items, defaultMode, m.Allocatable)
		case s.ServiceAccountToken != nil:
			secrets = true
			t := s.ServiceAccountToken
			expiration := time.Hour // the API's default
			if t.ExpirationSeconds != nil {
				expiration = time.Duration(*t.ExpirationSeconds) * time.Second
			}
			var token []byte
			token, err = serviceAccountToken(ctx, src, pod, t.Path, t.Audience, expiration)
			files = []File{{Path: path.Clean(t.Path), Data: token, Mode: fileMode(nil, defaultMode)}}
		case s.ClusterTrustBundle != nil:
			err = fmt.Errorf("clusterTrustBundle %q: cluster trust bundles are not available on this node: %w", s.ClusterTrustBundle.Path, errdefs.ErrUnavailable)
		case s.PodCertificate != nil:
			err = fmt.Errorf("podCertificate: pod certificates are not available on this node: %w", errdefs.ErrUnavailable)
		default:
			err = fmt.Errorf("a projection with no source: %w", errdefs.ErrInvalid)
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, f := range files {
			byPath[f.Path] = f
		}
	}
	if err := errors.Join(errs...); err != nil {
		return Mounted{}, err
	}
	files := make([]File, 0, len(byPath))
	for _, f := range byPath {
		files = append(files, f)
	}
	sortFiles(files)
	return m.writeProjected(dir, files, secrets)
}

// serviceAccountToken asks src, when it is a TokenSource, for a token of
// the pod's service account ("default" when it names none).
func serviceAccountToken(ctx context.Context, src Sources, pod *workload.Pod, file, audience string, expiration time.Duration) ([]byte, error) {
	sa := pod.Spec.ServiceAccountName
	if sa == "" {
		sa = "default"
	}
	ts, ok := src.(TokenSource)
	if !ok {
		return nil, fmt.Errorf("serviceAccountToken %q: this node cannot issue tokens for service account %q: %w", file, sa, errdefs.ErrUnavailable)
	}
	token, err := ts.ServiceAccountToken(ctx, pod, sa, audience, expiration)
	if err != nil {
		return nil, fmt.Errorf("serviceAccountToken %q: service account %q: %w", file, sa, err)
	}
	return token, nil
}

func isTrue(b *bool) bool { return b != nil && *b }
