package kubeapi

import (
	"mime"
	"net/http"
	"sort"
	"strings"

	"github.com/munnerz/goautoneg"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// Content negotiation, as kube-apiserver does it: the Accept header picks
// a serializer (JSON, YAML, protobuf, CBOR) and, with its "as", "g" and "v"
// parameters, a transformation of the answer (a Table, or
// PartialObjectMetadata); the Content-Type of a body picks its decoder.

// answerAs is what a request's Accept header asks to get back.
type answerAs struct {
	info runtime.SerializerInfo
	// as is "", "Table", "PartialObjectMetadata" or
	// "PartialObjectMetadataList"; version is the meta.k8s.io version it
	// names ("v1" or "v1beta1").
	as      string
	version string
	pretty  bool
}

const (
	mediaJSON     = "application/json"
	mediaProtobuf = "application/vnd.kubernetes.protobuf"
)

// negotiate reads the Accept header. streaming says the answer is a watch
// stream, which needs a serializer with framing.
func negotiate(r *http.Request, streaming bool) (answerAs, error) {
	header := r.Header.Get("Accept")
	if header == "" {
		header = "*/*"
	}
	accepts := goautoneg.ParseAccept(header)
	sort.SliceStable(accepts, func(i, j int) bool { return accepts[i].Q > accepts[j].Q })
	infos := codecs().codecs.SupportedMediaTypes()
	pretty := r.URL.Query().Get("pretty") == "true" || strings.Contains(r.UserAgent(), "curl") || strings.Contains(r.UserAgent(), "Mozilla")
	for _, a := range accepts {
		if a.Q == 0 {
			continue
		}
		media := a.Type + "/" + a.SubType
		if media == "*/*" || media == "application/*" {
			media = mediaJSON
		}
		as := a.Params["as"]
		if as != "" {
			g, v := a.Params["g"], a.Params["v"]
			if g != "meta.k8s.io" || (v != "v1" && v != "v1beta1") {
				continue
			}
			switch as {
			case "Table", "PartialObjectMetadata", "PartialObjectMetadataList":
			default:
				continue
			}
		}
		for _, info := range infos {
			if info.MediaType != media {
				continue
			}
			if streaming && info.StreamSerializer == nil {
				break
			}
			return answerAs{info: info, as: as, version: a.Params["v"], pretty: pretty && info.PrettySerializer != nil}, nil
		}
	}
	supported := make([]string, 0, len(infos))
	for _, info := range infos {
		supported = append(supported, info.MediaType)
	}
	return answerAs{}, &apierrors.StatusError{ErrStatus: metav1.Status{Status: metav1.StatusFailure, Code: http.StatusNotAcceptable, Reason: metav1.StatusReasonNotAcceptable,
		Message: "only the following media types are accepted: " + strings.Join(supported, ", ")}}
}

// serializer is what encodes the answer.
func (a answerAs) serializer() runtime.Serializer {
	if a.pretty {
		return a.info.PrettySerializer
	}
	return a.info.Serializer
}

// bodySerializer picks the decoder of a request body by its Content-Type;
// strict asks for the one that reports unknown and duplicate fields.
func bodySerializer(r *http.Request, strict bool) (runtime.SerializerInfo, runtime.Decoder, error) {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		ct = mediaJSON
	}
	media, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return runtime.SerializerInfo{}, nil, unsupportedMediaType(ct)
	}
	for _, info := range codecs().codecs.SupportedMediaTypes() {
		if info.MediaType != media {
			continue
		}
		if strict && info.StrictSerializer != nil {
			return info, info.StrictSerializer, nil
		}
		return info, info.Serializer, nil
	}
	return runtime.SerializerInfo{}, nil, unsupportedMediaType(ct)
}

func unsupportedMediaType(ct string) *apierrors.StatusError {
	return &apierrors.StatusError{ErrStatus: metav1.Status{Status: metav1.StatusFailure, Code: http.StatusUnsupportedMediaType,
		Reason: metav1.StatusReasonUnsupportedMediaType, Message: "the body of the request was in an unknown format - accepted media types include: " + acceptedBodies()}}
}

func acceptedBodies() string {
	var out []string
	for _, info := range codecs().codecs.SupportedMediaTypes() {
		out = append(out, info.MediaType)
	}
	return strings.Join(out, ", ")
}
