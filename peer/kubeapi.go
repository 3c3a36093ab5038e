package peer

import (
	"net/http"

	"k8s.io/apimachinery/pkg/types"

	"github.com/shoalproject/shoal/kubeapi"
	"github.com/shoalproject/shoal/kubeapi/openapi"
)

// kubeAPI is this peer's Kubernetes API: kubeapi's server over the
// cluster's store (kubeStore), with this peer's pod streams.
func (p *Peer) kubeAPI() http.Handler {
	return kubeapi.New(kubeapi.Config{
		Store:   kubeStore{p: p, decodes: newWatchDecodes()},
		Streams: newPodStreams(p),
		Version: kubeapi.NewVersionInfo(Version, p.cfg.Name, p.st.ClusterName),
		OpenAPI: &openapi.Handler{},
		Schemas: openapi.Schemas,
		Tokens:  tokenIssuer{p},
		Now:     p.cfg.Now,
		NewUID:  func() types.UID { return newUID() },
		Logger:  p.log,
	})
}
