package peer

import (
	"github.com/shoalproject/shoal/internal/errdefs"
	"net/http"

	"k8s.io/apimachinery/pkg/types"

	"github.com/shoalproject/shoal/kubeapi"
	"github.com/shoalproject/shoal/kubeapi/openapi"
)

// kubeAPI is this peer's Kubernetes API: kubeapi's server over the
// cluster's store (kubeStore), with this peer's pod streams.
func (p *Peer) kubeAPI() http.Handler {
	return kubeapi.New(kubeapi.Config{
		Store:   kubeStore{p: p},
		Streams: podStreams{p: p},
		Version: kubeapi.NewVersionInfo(Version, p.cfg.Name, p.st.ClusterName),
		OpenAPI: &openapi.Handler{},
		Schemas: openapi.Schemas,
		Now:     p.cfg.Now,
		NewUID:  func() types.UID { return newUID() },
		Logger:  p.log,
	})
}

// podStreams serves pods' log and exec through kubeapi's routing: the
// shoal CLI's framing for exec, plain text for log.
type podStreams struct{ p *Peer }

func (s podStreams) ServePod(w http.ResponseWriter, r *http.Request, sub, ns, name string) {
	r.SetPathValue("ns", ns)
	r.SetPathValue("name", name)
	switch sub {
	case "log":
		s.p.podLog(w, r)
	case "exec":
		s.p.podExec(w, r)
	default:
		writeError(w, errNotStreamed(sub))
	}
}

func errNotStreamed(sub string) error {
	return errdefs.Newf(errdefs.ErrNotFound, "pods/%s is not served yet", sub)
}
